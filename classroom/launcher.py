"""K Streamlit replicas of cnnviz behind one HAProxy, supervised: ``python -m classroom``.

What it does, in order (any failure: one line naming the cause, everything started so far
is stopped, exit status 1):

1. finds ``haproxy`` (else: the apt-get command that installs it), checks that the
   public host:port is free, makes a run dir (config, logs, HAProxy's stats socket);
2. starts K ``streamlit run app.py`` processes on free loopback ports, each in its own
   session (process group), stdout/stderr to ``<run dir>/rN.log``, all with this process's
   environment (``CNNVIZ_DATA_DIR``, ``CNNVIZ_DB``...: one shared SQLite run store, so every
   replica lists every run), and waits until each answers ``/_stcore/health``;
3. renders ``haproxy.cfg`` (``classroom.haproxy``), validates it (``haproxy -c``), starts
   ``haproxy -f CFG -db`` (foreground, our child), and checks through the proxy that each
   replica is reachable by its own cookie; then prints one line with ``ready``;
4. supervises until SIGINT/SIGTERM/SIGHUP: a replica that exits, or stops answering its
   health check for ``HUNG_AFTER_S``, is restarted on the same port after a backoff of
   1, 2, 4, ... 30 s (reset once it has stayed up ``STABLE_S``); HAProxy's own checks take
   it out of rotation meanwhile and back when it answers. HAProxy itself is restarted the
   same way if it dies. Each event is one line on stdout;
5. on a signal: SIGTERM to HAProxy's and every replica's process group, up to ``GRACE_S``
   for them to exit, then SIGKILL; the port is free when it returns.

If the launcher itself is killed (SIGKILL, an OOM kill) it cannot clean up, so every child
is started with ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (in ``preexec_fn``, via ctypes): the
kernel sends the child SIGTERM when the launcher dies, and Streamlit and HAProxy exit on
it. The launcher starts children from its main thread only and has no other threads (the
death signal follows the thread that forked; ``preexec_fn`` is unsafe with threads): health
probes are non-blocking sockets multiplexed with ``selectors``.
"""

from __future__ import annotations

import ctypes
import errno
import http.client
import os
import pathlib
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cnnviz.i18n import t

from . import haproxy as hx

ROOT = pathlib.Path(__file__).resolve().parents[1]  # the project: app.py and .streamlit/config.toml
HEALTH = hx.HEALTH_PATH
TICK_S = 0.25  # supervision loop period
PROBE_EVERY_S = 2.0  # the launcher's own health probe of each replica
PROBE_TIMEOUT_S = 2.0
HUNG_AFTER_S = 15.0  # a replica that was healthy and fails every probe this long is restarted
STABLE_S = 30.0  # up this long: its restart backoff starts again from the first step
BACKOFF_S = (1, 2, 4, 8, 16, 30)
GRACE_S = 10.0  # SIGTERM → SIGKILL
START_TIMEOUT_S = 90.0  # each replica's first health answer, at start-up and after a restart
PROXY_TIMEOUT_S = 20.0  # every replica reachable through HAProxy
ENV_PATHS = ("CNNVIZ_DB", "CNNVIZ_DATA_DIR")  # made absolute: the replicas run in the project folder

_PR_SET_PDEATHSIG = 1
try:
    _LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover - no libc to load
    _LIBC = None


class LaunchError(Exception):
    """Start-up failed; ``str()`` is the one line for the teacher, ``detail`` the log tail if any."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class _Interrupted(Exception):
    """A stop signal arrived during start-up."""


def _child_setup(parent: int, cpus: set[int] | None) -> Callable[[], None]:
    """The ``preexec_fn``: die with the launcher, and optionally stay on some CPUs."""

    def setup() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent:  # the launcher died between fork and prctl
                os.kill(os.getpid(), signal.SIGTERM)
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup


def _spawn(cmd: list[str], log: pathlib.Path, env: dict[str, str], cwd: pathlib.Path,
           cpus: set[int] | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} classroom starts: {' '.join(cmd)}\n".encode())
        out.flush()
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=_child_setup(os.getpid(), cpus))  # noqa: PLW1509 (no threads here)


def _describe_exit(code: int, lang: str = "en") -> str:
    if code < 0:
        try:
            return t("room.killed_by", lang, signal=signal.Signals(-code).name)
        except ValueError:
            return t("room.killed_by_num", lang, num=-code)
    return t("room.exited", lang, code=code)


def tail(path: pathlib.Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def free_loopback_ports(n: int) -> list[int]:
    """``n`` distinct ports free on 127.0.0.1 (held together while picked, so no duplicates)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def check_port_free(host: str, port: int, lang: str = "en") -> None:
    """``LaunchError`` when ``host:port`` cannot be listened on (in use, or a privileged port)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy does: TIME_WAIT is not "in use"
        try:
            s.bind((host, port))
            s.listen(1)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise LaunchError(t("room.port_in_use", lang, port=port, host=host)) from None
            if err.errno == errno.EACCES:
                raise LaunchError(t("room.port_root", lang, port=port, host=host)) from None
            raise LaunchError(t("room.port_cannot", lang, host=host, port=port, reason=err.strerror or err)) from None


def probe_many(ports: list[int], timeout: float = PROBE_TIMEOUT_S) -> dict[int, bool]:
    """``GET /_stcore/health`` on 127.0.0.1:port for every port at once; ``{port: answered 200}``."""
    sel = selectors.DefaultSelector()
    result = {p: False for p in ports}
    request = f"GET {HEALTH} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()
    bufs: dict[int, bytes] = {}
    try:
        for p in ports:
            s = socket.socket()
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", p))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                continue
            sel.register(s, selectors.EVENT_WRITE, p)
            bufs[p] = b""
        deadline = time.monotonic() + timeout
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, ev in sel.select(left):
                s, p = key.fileobj, key.data
                try:
                    if ev & selectors.EVENT_WRITE:
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError("refused")
                        s.sendall(request)  # a few bytes on a fresh loopback socket: never blocks
                        sel.modify(s, selectors.EVENT_READ, p)
                        continue
                    data = s.recv(4096)
                    bufs[p] += data
                    if b"\r\n" in bufs[p] or not data:
                        parts = bufs[p].split(b"\r\n", 1)[0].split()
                        result[p] = len(parts) >= 2 and parts[1] == b"200"
                        raise OSError("done")
                except OSError:
                    sel.unregister(s)
                    s.close()
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    return result


def proxy_get(host: str, port: int, path: str = HEALTH, cookie: str | None = None,
              timeout: float = 3.0) -> tuple[int, dict[str, str]]:
    """One GET through the proxy: (status, lower-cased headers)."""
    conn = http.client.HTTPConnection(_connect_host(host), port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def _connect_host(host: str) -> str:
    """Where the launcher reaches its own frontend: loopback for a wildcard bind."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _url_host(host: str) -> str:
    h = _connect_host(host)
    return f"[{h}]" if ":" in h else h


@dataclass
class Child:
    """A supervised process: a replica (``port`` set) or HAProxy."""

    name: str
    log: pathlib.Path
    port: int | None = None
    cpus: set[int] | None = None
    proc: subprocess.Popen | None = None
    started: float = 0.0
    healthy: bool = False  # answered a probe since its last start
    last_ok: float = 0.0
    next_probe: float = 0.0
    restart_at: float | None = None  # a restart is due at this monotonic time
    streak: int = 0  # restarts without a stable run in between (picks the backoff step)
    restarts: int = 0
    pids: list[int] = field(default_factory=list)  # every pid it had, oldest first

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


class Classroom:
    """The launcher; ``run()`` is ``python -m classroom``."""

    def __init__(self, replicas: int, host: str = "127.0.0.1", port: int = 8501, run_dir: str | None = None,
                 app: str = "app.py", cwd: pathlib.Path = ROOT, pin_cpus: bool = False,
                 start_timeout: float = START_TIMEOUT_S, out=None, lang: str = "en"):
        self.lang = lang  # "en" or "zh": the language of every line it prints
        if replicas < 1:
            raise LaunchError(t("room.replicas_min", lang))
        self.k, self.host, self.port = replicas, host, port
        self.app, self.cwd = app, pathlib.Path(cwd)
        self.pin_cpus = pin_cpus
        self.start_timeout = start_timeout
        self.out = out or sys.stdout
        self.run_dir = pathlib.Path(run_dir) if run_dir else None
        self.replicas: list[Child] = []
        self.haproxy: Child | None = None
        self.exe: str | None = None
        self.cfg: pathlib.Path | None = None
        self.sock: pathlib.Path | None = None
        self.stopping: str | None = None  # the name of the signal that asked us to stop

    # --- output ---------------------------------------------------------------------------
    def say(self, msg: str) -> None:
        try:
            print(f"{time.strftime('%H:%M:%S')} classroom: {msg}", file=self.out, flush=True)
        except (OSError, ValueError):  # stdout gone (terminal closed, pipe reader exited): keep supervising
            pass

    # --- signals ----------------------------------------------------------------------------
    def _on_signal(self, signum, _frame) -> None:
        if self.stopping is None:
            self.stopping = signal.Signals(signum).name

    def _install_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _check_stop(self) -> None:
        if self.stopping:
            raise _Interrupted(self.stopping)

    # --- start-up ----------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ENV_PATHS:
            if env.get(var):
                env[var] = str(pathlib.Path(env[var]).expanduser().absolute())
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _cpu_sets(self) -> list[set[int] | None]:
        if not self.pin_cpus:
            return [None] * self.k
        cores = sorted(os.sched_getaffinity(0))
        if self.k >= len(cores):
            return [{cores[i % len(cores)]} for i in range(self.k)]
        size, extra = divmod(len(cores), self.k)
        sets, at = [], 0
        for i in range(self.k):
            n = size + (1 if i < extra else 0)
            sets.append(set(cores[at:at + n]))
            at += n
        return sets

    def _replica_cmd(self, port: int) -> list[str]:
        return [sys.executable, "-m", "streamlit", "run", self.app, "--server.address", "127.0.0.1",
                "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]

    def _start_replica(self, r: Child) -> None:
        r.proc = _spawn(self._replica_cmd(r.port), r.log, self._env(), self.cwd, r.cpus)
        r.pids.append(r.proc.pid)
        r.started, r.healthy, r.restart_at = time.monotonic(), False, None
        r.next_probe = r.started + 0.5

    def _start_haproxy(self) -> None:
        h = self.haproxy
        if self.sock and self.sock.exists():
            self.sock.unlink()  # a stale socket from a dead haproxy
        h.proc = _spawn([self.exe, "-f", str(self.cfg), "-db"], h.log, dict(os.environ), self.run_dir)
        h.pids.append(h.proc.pid)
        h.started, h.healthy, h.restart_at = time.monotonic(), False, None

    def start(self) -> None:
        """Everything up and checked, or ``LaunchError`` (the caller stops what was started)."""
        self.exe = hx.find_haproxy()
        if not self.exe:
            raise LaunchError(t("room.no_haproxy", self.lang, hint=hx.INSTALL_HINT))
        if not (self.cwd / self.app).is_file():
            raise LaunchError(t("room.no_app", self.lang, path=self.cwd / self.app))
        check_port_free(self.host, self.port, self.lang)
        if self.run_dir is None:
            self.run_dir = pathlib.Path(tempfile.mkdtemp(prefix="cnnviz-classroom-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.cfg, self.sock = self.run_dir / "haproxy.cfg", self.run_dir / "haproxy.sock"
        ports = free_loopback_ports(self.k)
        self.replicas = [Child(f"r{i + 1}", self.run_dir / f"r{i + 1}.log", port=p, cpus=c)
                         for i, (p, c) in enumerate(zip(ports, self._cpu_sets()))]
        self.haproxy = Child("haproxy", self.run_dir / "haproxy.log")
        servers = [hx.Server(r.name, "127.0.0.1", r.port) for r in self.replicas]
        self.cfg.write_text(hx.render(servers, self.host, self.port, stats_socket=str(self.sock)))
        problem = hx.check(self.exe, str(self.cfg), lang=self.lang)
        if problem:
            raise LaunchError(t("room.cfg_rejected", self.lang, cfg=self.cfg, problem=problem.splitlines()[0]), problem)
        store = self._env().get("CNNVIZ_DB") or t("room.default_store", self.lang)
        logs = "r1.log" if self.k == 1 else f"r1..r{self.k}.log"
        self.say(t("room.run_dir", self.lang, run_dir=self.run_dir, logs=logs, store=store))

        for r in self.replicas:
            self._start_replica(r)
            cpus = t("room.cpus", self.lang, cpus=sorted(r.cpus)) if r.cpus else ""
            self.say(t("room.replica_starting", self.lang, name=r.name, pid=r.pid, port=r.port, cpus=cpus, log=r.log))
        self._wait_replicas()
        self._start_haproxy()
        self.say(t("room.haproxy_starting", self.lang, pid=self.haproxy.pid, cfg=self.cfg, log=self.haproxy.log))
        self._wait_proxy()
        self.say(t("room.ready_1" if self.k == 1 else "room.ready_n", self.lang,
                   url=f"http://{_url_host(self.host)}:{self.port}", k=self.k,
                   pids=" ".join(str(r.pid) for r in self.replicas), haproxy=self.haproxy.pid))
        if self.host in ("0.0.0.0", "::", ""):
            self.say(t("room.students", self.lang, url=f"http://{socket.gethostname()}:{self.port}"))

    def _wait_replicas(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        waiting = list(self.replicas)
        while waiting:
            self._check_stop()
            for r in waiting:
                code = r.proc.poll()
                if code is not None:
                    raise LaunchError(t("room.exited_early", self.lang, name=r.name, pid=r.pid,
                                        how=_describe_exit(code, self.lang), health=HEALTH, log=r.log), tail(r.log))
            ok = probe_many([r.port for r in waiting], timeout=1.0)
            now = time.monotonic()
            for r in [r for r in waiting if ok[r.port]]:
                r.healthy, r.last_ok, r.next_probe = True, now, now + PROBE_EVERY_S
                waiting.remove(r)
            if waiting and now > deadline:
                r = waiting[0]
                raise LaunchError(t("room.start_timeout", self.lang, name=r.name, pid=r.pid, health=HEALTH,
                                    secs=self.start_timeout, log=r.log), tail(r.log))
            if waiting:
                time.sleep(TICK_S)
        self.say(t("room.all_healthy", self.lang, k=self.k, pids=" ".join(f"{r.name}={r.pid}" for r in self.replicas)))

    def _wait_proxy(self) -> None:
        """HAProxy's own health check has passed for every replica (its stats say "UP", not "UP 1/3":
        a server starts as up but unconfirmed), and each replica answers through the proxy when asked
        for by its cookie."""
        deadline = time.monotonic() + PROXY_TIMEOUT_S
        waiting = [r.name for r in self.replicas]
        last = ""
        while waiting:
            self._check_stop()
            code = self.haproxy.proc.poll()
            if code is not None:
                log = tail(self.haproxy.log)
                cause = next((ln for ln in log.splitlines() if "ALERT" in ln), "")
                how = _describe_exit(code, self.lang)
                raise LaunchError(t("room.haproxy_start_cause", self.lang, how=how, cause=cause.strip()) if cause
                                  else t("room.haproxy_start_log", self.lang, how=how, log=self.haproxy.log), log)
            try:
                states = hx.server_status(str(self.sock))
            except OSError as err:  # the socket appears once haproxy has read its config
                states, last = {}, t("room.stats_socket", self.lang, err=err)
            for name in list(waiting):
                if states.get(name) != "UP":
                    state = states[name] if name in states else t("room.state_unknown", self.lang)
                    last = t("room.server_state", self.lang, name=name, state=state)
                    continue
                try:
                    status, headers = proxy_get(self.host, self.port, cookie=f"{hx.COOKIE}={name}", timeout=2.0)
                except OSError as err:
                    last = f"{type(err).__name__}: {err}"
                    continue
                if status == 200 and headers.get(hx.HEADER.lower()) == name:
                    waiting.remove(name)
                else:
                    last = t("room.http_from", self.lang, name=name, status=status,
                             replica=headers.get(hx.HEADER.lower(), "?"))
            if waiting and time.monotonic() > deadline:
                raise LaunchError(t("room.proxy_timeout", self.lang, pid=self.haproxy.pid, names=", ".join(waiting),
                                    secs=PROXY_TIMEOUT_S, last=last, log=self.haproxy.log),
                                  tail(self.haproxy.log))
            if waiting:
                time.sleep(TICK_S)
        self.haproxy.healthy = True

    # --- supervision ----------------------------------------------------------------------------
    def _schedule(self, c: Child, why: str) -> None:
        now = time.monotonic()
        if c.healthy and now - c.started >= STABLE_S:
            c.streak = 0
        delay = BACKOFF_S[min(c.streak, len(BACKOFF_S) - 1)]
        c.streak += 1
        c.restart_at = now + delay
        c.proc, c.healthy = None, False
        self.say(t("room.restarting", self.lang, why=why, name=c.name, delay=delay))

    def supervise_once(self) -> None:
        now = time.monotonic()
        h = self.haproxy
        if h.proc is not None and (code := h.proc.poll()) is not None:
            self._schedule(h, t("room.haproxy_died", self.lang, pid=h.pid, how=_describe_exit(code, self.lang),
                                log=h.log))
        elif h.proc is None and h.restart_at is not None and now >= h.restart_at:
            self._start_haproxy()
            h.restarts += 1
            h.healthy = True
            self.say(t("room.haproxy_restarted", self.lang, pid=h.pid, old=h.pids[-2], n=h.restarts))

        due = []
        for r in self.replicas:
            if r.proc is None:
                if r.restart_at is not None and now >= r.restart_at:
                    old = r.pids[-1]
                    self._start_replica(r)
                    r.restarts += 1
                    self.say(t("room.replica_restarted", self.lang, name=r.name, pid=r.pid, old=old, port=r.port,
                               n=r.restarts))
                continue
            code = r.proc.poll()
            if code is not None:
                last = tail(r.log, 1)
                self._schedule(r, t("room.replica_died", self.lang, name=r.name, pid=r.pid,
                                    how=_describe_exit(code, self.lang))
                               + (t("room.last_line", self.lang, line=last.strip()[:200]) if last and code > 0 else ""))
                continue
            if now >= r.next_probe:
                due.append(r)
        if not due:
            return
        ok = probe_many([r.port for r in due])
        now = time.monotonic()
        for r in due:
            r.next_probe = now + PROBE_EVERY_S
            if ok[r.port]:
                if not r.healthy:
                    self.say(t("room.replica_healthy", self.lang, name=r.name, pid=r.pid, health=HEALTH))
                r.healthy, r.last_ok = True, now
            elif r.healthy and now - r.last_ok >= HUNG_AFTER_S:
                self.say(t("room.replica_hung", self.lang, name=r.name, pid=r.pid, health=HEALTH,
                           secs=now - r.last_ok))
                self._terminate([r])
                self._schedule(r, t("room.stopped_hung", self.lang, name=r.name))
            elif not r.healthy and now - r.started >= self.start_timeout:
                self.say(t("room.replica_never", self.lang, name=r.name, pid=r.pid, health=HEALTH,
                           secs=self.start_timeout, log=r.log))
                self._terminate([r])
                self._schedule(r, t("room.stopped_never", self.lang, name=r.name))

    def serve(self) -> None:
        while not self.stopping:
            self.supervise_once()
            time.sleep(TICK_S)

    # --- stopping ----------------------------------------------------------------------------
    def _terminate(self, children: list[Child], grace: float = GRACE_S) -> None:
        """SIGTERM to each child's process group, wait up to ``grace``, SIGKILL what is left; reaps them."""
        live = [c for c in children if c.proc is not None]
        for c in live:
            if c.proc.poll() is None:
                try:
                    os.killpg(c.proc.pid, signal.SIGTERM)
                    os.killpg(c.proc.pid, signal.SIGCONT)  # a stopped process acts on SIGTERM once resumed
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for c in live:
            try:
                c.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(t("room.sigkill", self.lang, name=c.name, pid=c.proc.pid, secs=grace))
                try:
                    os.killpg(c.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                c.proc.wait()
            try:  # anything the child left in its group
                os.killpg(c.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self) -> None:
        children = ([self.haproxy] if self.haproxy else []) + self.replicas  # the proxy first: no new traffic
        started = [c for c in children if c.proc is not None]
        if not started:
            return
        self.say(t("room.stopping", self.lang, children=", ".join(f"{c.name} (pid {c.pid})" for c in started)))
        self._terminate(started)
        for c in started:
            c.proc = None
        if self.sock and self.sock.exists():
            try:
                self.sock.unlink()
            except OSError:
                pass
        self.say(t("room.stopped", self.lang, run_dir=self.run_dir))

    def run(self) -> int:
        """Start, serve until a signal, stop: the exit status (0 after a requested stop)."""
        self._install_signals()
        try:
            try:
                self.start()
            except _Interrupted:
                self.say(t("room.interrupted", self.lang, signal=self.stopping))
                return 130 if self.stopping == "SIGINT" else 143
            except LaunchError as err:
                print(t("room.error", self.lang, err=err), file=sys.stderr, flush=True)
                if err.detail:
                    print(err.detail, file=sys.stderr, flush=True)
                return 1
            self.serve()
            self.say(t("room.signal_stop", self.lang, signal=self.stopping))
            return 0
        finally:
            self.stop()
