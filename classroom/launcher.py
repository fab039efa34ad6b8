"""K Streamlit replicas of cnnviz behind one HAProxy, and one worker pool, supervised:
``python -m classroom``.

What it does, in order (any failure: one line naming the cause, everything started so far
is stopped, exit status 1):

1. finds ``haproxy`` (else: the apt-get command that installs it), checks that the
   public host:port is free, makes a run dir (config, logs, HAProxy's stats socket), and
   settles the run store: ``cnnviz.settings.db_path()``, made absolute
   (asked of a child ``python``, see ``store_path``); takes the teacher key from
   ``$CNNVIZ_TEACHER_KEY`` or generates one, and prints it;
2. starts ONE worker pool for that store (``python -m cnnviz pool --db STORE``, log
   ``<run dir>/pool.log``): every training run and lab job of every replica runs in its
   worker processes, workers × torch threads ≤ the cores (``cnnviz.runs.pool.plan``);
3. starts K ``streamlit run app.py`` processes on free loopback ports, each in its own
   session (process group), stdout/stderr to ``<run dir>/rN.log``, all with this process's
   environment (``CNNVIZ_DATA_DIR``...) plus ``CNNVIZ_DB`` (the one store: every replica lists
   every run), ``CNNVIZ_POOL=external`` (a replica never starts a pool of its own) and
   ``CNNVIZ_TEACHER_KEY`` (one key for every replica), and waits until each answers
   ``/_stcore/health``; then warms them (``classroom.warm``, a child: one real session per
   replica loads home, explorer, training and board, in English then Chinese, so that the
   imports and the shared figures are done before the class arrives; ``CNNVIZ_WARM=off``
   skips it) while it waits until the pool's heartbeat row in the store names the pool it
   started, and prints the pool's plan (workers × threads) from that row; then waits for the
   warm-up, at most ``--warm-timeout`` s, and prints a line per replica (its page times, or
   what failed: the class is served anyway); on a machine the store has not measured, waits
   for the pool's calibration of it (``cnnviz.runs.calibration``: about a minute, once; the
   forms' Start waits for its estimates), at most ``CALIBRATION_WAIT_S``;
4. renders ``haproxy.cfg`` (``classroom.haproxy``), validates it (``haproxy -c``), starts
   ``haproxy -f CFG -db`` (foreground, our child), and checks through the proxy that each
   replica is reachable by its own cookie; then prints one line with ``ready``;
5. supervises until SIGINT/SIGTERM/SIGHUP: a replica that exits, or stops answering its
   health check for ``HUNG_AFTER_S``, is restarted on the same port after a backoff of
   1, 2, 4, ... 30 s (``BACKOFF``: reset once it has stayed up and healthy 30 s); HAProxy's
   own checks take it out of rotation meanwhile and back when it answers (a restarted replica is
   warmed again once healthy, while it already serves). HAProxy itself is
   restarted the same way if it dies, and so is the pool (when it exits, or its heartbeat is
   older than ``HUNG_AFTER_S``); a restarted pool marks the jobs its predecessor was running
   "interrupted" and takes the queue up where it was. Each event is one line on stdout;
6. on a signal: SIGTERM to HAProxy's, every replica's and the pool's process group (its
   workers end their jobs "interrupted"), up to ``GRACE_S`` for them to exit, then SIGKILL;
   the port is free when it returns.

If the launcher itself is killed (SIGKILL, an OOM kill) it cannot clean up, so every child
is started with ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (``cnnviz.supervisor.spawn``, the pool's
too): the kernel sends the child SIGTERM when the launcher dies, and Streamlit and HAProxy
exit on it. The launcher starts children from its main thread only and has no other threads
(the death signal follows the thread that forked; ``preexec_fn`` is unsafe with threads):
health probes are non-blocking sockets multiplexed with ``selectors``, and nothing it imports
loads torch (``cnnviz.supervisor``, ``cnnviz.settings`` and ``cnnviz.i18n`` are standard
library only).
"""

from __future__ import annotations

import errno
import http.client
import os
import pathlib
import secrets
import selectors
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass

from cnnviz import settings
from cnnviz import supervisor as sv
from cnnviz.i18n import t
from cnnviz.runs.calibration import KIND as calibration_kind
from cnnviz.runs.guard import MIN_LEN, weak_key
from cnnviz.status import LIVE

from . import haproxy as hx
from . import warm as wm

ROOT = pathlib.Path(__file__).resolve().parents[1]  # the project: app.py and .streamlit/config.toml
HEALTH = hx.HEALTH_PATH
TICK_S = 0.25  # supervision loop period
PROBE_EVERY_S = 2.0  # the launcher's own health probe of each replica
PROBE_TIMEOUT_S = 2.0
HUNG_AFTER_S = 15.0  # a replica that was healthy and fails every probe this long is restarted
# A replica, HAProxy or the pool that dies is restarted after 1, 2, 4, 8, 16, then 30 s, back to
# 1 s once it has been up and healthy 30 s. Slower than the pool's backoff for its workers
# (cnnviz.runs.pool.BACKOFF), and never at once: a replica takes 5-15 s to import Streamlit,
# torch and plotly, then takes its students' reconnects, so a crash loop must not eat the cores
# the other replicas serve the class with; and 30 s of health is well past a slow start.
BACKOFF = sv.Backoff(steps=(1, 2, 4, 8, 16, 30), stable_s=30.0)
GRACE_S = 10.0  # SIGTERM → SIGKILL
START_TIMEOUT_S = 90.0  # each replica's first health answer, at start-up and after a restart
PROXY_TIMEOUT_S = 20.0  # every replica reachable through HAProxy
ENV_PATHS = ("CNNVIZ_DB", "CNNVIZ_DATA_DIR")  # made absolute: the replicas run in the project folder
POOL_BEAT_S = 5.0  # a pool heartbeat (written every second) younger than this: the pool is alive
STORE_TIMEOUT_S = 60.0  # the child python that names the default store (imports torch: 1–3 s)
CALIBRATION_WAIT_S = 300  # the machine's measurement before ready (about 45 s on 2 idle cores)
LIVE_WORDS = {str(s) for s in LIVE}  # a calibration queued or running
WARM_TIMEOUT_S = wm.TIMEOUT_S  # the replicas' warm-up (classroom.warm), all at once; then ready is said anyway
WARM_GRACE_S = 15.0  # past its own --timeout, a warm-up child is stopped (it bounds itself: this is a backstop)


class LaunchError(Exception):
    """Start-up failed; ``str()`` is the one line for the teacher, ``detail`` the log tail if any."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class _Interrupted(Exception):
    """A stop signal arrived during start-up."""


def _describe_exit(code: int, lang: str = "en") -> str:
    """How a child ended, as the teacher reads it: "killed by SIGKILL", "exited with code 1"."""
    how = sv.describe_exit(code)
    if how.signal is None:
        return t("room.exited", lang, code=how.status)
    if how.name is None:
        return t("room.killed_by_num", lang, num=how.signal)
    return t("room.killed_by", lang, signal=how.name)


def tail(path: pathlib.Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


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


def store_path(env: dict[str, str], cwd: pathlib.Path, lang: str = "en") -> pathlib.Path:
    """The run store the pool and every replica share, absolute: ``cnnviz.settings.db_path`` of
    the children's environment ``env`` (relative paths taken from ``cwd``). ``cnnviz.settings``
    is torch-free, so this process stays single-threaded (``preexec_fn``, and
    ``PR_SET_PDEATHSIG`` follows the forking thread)."""
    try:
        path = settings.db_path(env).expanduser()
    except settings.SettingError as err:
        raise LaunchError(t("room.no_store", lang, err=err.render(lang))) from None
    return path if path.is_absolute() else (cwd / path).absolute()


def read_pool_row(db: pathlib.Path) -> tuple[int, float, int, int] | None:
    """``(pid, heartbeat, workers, threads)`` of the store's pool row, None while there is none.

    Plain ``sqlite3``, read-only (no torch here, see ``store_path``); a WAL reader never waits
    for the pool's writes. The row is written by ``cnnviz.runs.store.RunStore.pool_beat``."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = conn.execute("SELECT pid, heartbeat, workers, threads FROM pool WHERE id=1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # no pool table yet (a new store), or the file is being created
        return None
    return (int(row[0]), float(row[1]), int(row[2]), int(row[3])) if row else None


def read_calibration(db: pathlib.Path) -> str | None:
    """The status of the store's newest calibration of the machine (``cnnviz.runs.calibration``),
    None when there is none. Plain ``sqlite3``, read-only, as ``read_pool_row``."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = conn.execute("SELECT status FROM runs WHERE kind=? ORDER BY created DESC LIMIT 1",
                               (calibration_kind,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _connect_host(host: str) -> str:
    """Where the launcher reaches its own frontend: loopback for a wildcard bind."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _url_host(host: str) -> str:
    h = _connect_host(host)
    return f"[{h}]" if ":" in h else h


@dataclass(kw_only=True)
class Child(sv.Child):
    """A supervised process (``cnnviz.supervisor.Child``: its process, pids, restart backoff): a
    replica (``port`` set), HAProxy, or the worker pool; plus its log and health."""

    backoff: sv.Backoff = BACKOFF
    log: pathlib.Path
    port: int | None = None
    cpus: set[int] | None = None
    healthy: bool = False  # answered a probe since its last start
    last_ok: float = 0.0
    next_probe: float = 0.0


@dataclass(kw_only=True)
class Warming:
    """A warm-up in flight: ``python -m classroom.warm --json`` (``child``) for ``replicas``, its
    report read from ``child.log`` past ``offset`` (the log collects every warm-up of the run)."""

    child: Child
    replicas: list[Child]
    offset: int
    deadline: float  # monotonic: stopped past it


class Classroom:
    """The launcher; ``run()`` is ``python -m classroom``."""

    def __init__(self, replicas: int, host: str = "127.0.0.1", port: int = 8501, run_dir: str | None = None,
                 app: str = "app.py", cwd: pathlib.Path = ROOT, pin_cpus: bool = False,
                 start_timeout: float = START_TIMEOUT_S, out=None, lang: str = "en",
                 warm_timeout: float = WARM_TIMEOUT_S):
        self.lang = lang  # "en" or "zh": the language of every line it prints
        if replicas < 1:
            raise LaunchError(t("room.replicas_min", lang))
        self.k, self.host, self.port = replicas, host, port
        self.app, self.cwd = app, pathlib.Path(cwd)
        self.pin_cpus = pin_cpus
        self.start_timeout = start_timeout
        self.warm_timeout = warm_timeout
        self.warming: list[Warming] = []  # warm-ups in flight (classroom.warm): at start, after a restart
        self.out = out or sys.stdout
        self.run_dir = pathlib.Path(run_dir) if run_dir else None
        self.replicas: list[Child] = []
        self.haproxy: Child | None = None
        self.pool: Child | None = None
        self.db: pathlib.Path | None = None  # the run store: set by start()
        self.teacher_key = ""  # the key every replica accepts (set by start())
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

    def _replica_env(self) -> dict[str, str]:
        """A replica's environment: the one store, the launcher's pool, one teacher key."""
        return dict(self._env(), CNNVIZ_DB=str(self.db), CNNVIZ_POOL="external", CNNVIZ_TEACHER_KEY=self.teacher_key)

    def _pool_env(self) -> dict[str, str]:
        env = dict(self._env(), CNNVIZ_DB=str(self.db))
        env.pop("CNNVIZ_TEACHER_KEY", None)  # the pool never needs it
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

    def _spawn(self, c: Child, cmd: list[str], env: dict[str, str], cwd: pathlib.Path) -> None:
        """Start ``c``'s process: its own session, dying with the launcher, output to its log."""
        c.attach(sv.spawn(cmd, log=c.log, env=env, cwd=cwd, cpus=c.cpus, new_session=True, banner="classroom starts"))
        c.healthy = False

    def _start_replica(self, r: Child) -> None:
        self._spawn(r, self._replica_cmd(r.port), self._replica_env(), self.cwd)
        r.next_probe = r.started + 0.5

    def _pool_cmd(self) -> list[str]:
        # no --exit-with-parent: PR_SET_PDEATHSIG (from this single-threaded process) ends it with us
        return [sys.executable, "-m", "cnnviz", "pool", "--db", str(self.db)]

    def _start_pool(self) -> None:
        """The store's one pool, on every core (not pinned: its plan shares the cores out itself)."""
        c = self.pool
        self._spawn(c, self._pool_cmd(), self._pool_env(), self.cwd)
        c.next_probe = c.started + 0.5

    def _pool_beat(self) -> tuple[int, int] | None:
        """(workers, threads) when the store's pool row is our pool's and beat within ``POOL_BEAT_S``."""
        row = read_pool_row(self.db)
        if row is None or self.pool.proc is None or row[0] != self.pool.pid or time.time() - row[1] >= POOL_BEAT_S:
            return None
        return row[2], row[3]

    def _start_haproxy(self) -> None:
        h = self.haproxy
        if self.sock and self.sock.exists():
            self.sock.unlink()  # a stale socket from a dead haproxy
        self._spawn(h, [self.exe, "-f", str(self.cfg), "-db"], dict(os.environ), self.run_dir)

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
        ports = sv.free_ports(self.k)
        self.replicas = [Child(name=f"r{i + 1}", log=self.run_dir / f"r{i + 1}.log", port=p, cpus=c)
                         for i, (p, c) in enumerate(zip(ports, self._cpu_sets()))]
        self.haproxy = Child(name="haproxy", log=self.run_dir / "haproxy.log")
        servers = [hx.Server(r.name, "127.0.0.1", r.port) for r in self.replicas]
        self.cfg.write_text(hx.render(servers, self.host, self.port, stats_socket=str(self.sock)))
        problem = hx.check(self.exe, str(self.cfg), lang=self.lang)
        if problem:
            raise LaunchError(t("room.cfg_rejected", self.lang, cfg=self.cfg, problem=problem.splitlines()[0]), problem)
        bad = settings.check(self._env())  # every CNNVIZ_* value that cannot work, before anything starts
        if bad:
            raise LaunchError("; ".join(err.render(self.lang) for err in bad))
        self.db = store_path(self._env(), self.cwd, self.lang)
        logs = "r1.log" if self.k == 1 else f"r1..r{self.k}.log"
        self.say(t("room.run_dir", self.lang, run_dir=self.run_dir, logs=logs, store=self.db))
        self.teacher_key = settings.teacher_key()
        if self.teacher_key:
            self.say(t("room.teacher_key_env", self.lang))
            why = weak_key(self.teacher_key)
            if why is not None:  # a key the teacher chose that a student could guess: said before the lesson
                self.say(t("guard.weak_key", self.lang, why=t(f"guard.weak.{why}", self.lang, n=MIN_LEN), n=MIN_LEN))
        else:
            self.teacher_key = secrets.token_urlsafe(9)  # 72 bits, 12 characters to type
            self.say(t("room.teacher_key", self.lang, key=self.teacher_key))

        self.pool = Child(name="pool", log=self.run_dir / "pool.log")
        self._start_pool()
        self.say(t("room.pool_starting", self.lang, pid=self.pool.pid, store=self.db, log=self.pool.log))
        for r in self.replicas:
            self._start_replica(r)
            cpus = t("room.cpus", self.lang, cpus=sorted(r.cpus)) if r.cpus else ""
            self.say(t("room.replica_starting", self.lang, name=r.name, pid=r.pid, port=r.port, cpus=cpus, log=r.log))
        self._wait_replicas()
        self._start_warm(self.replicas)  # while the pool starts: both take a few seconds
        self._wait_pool()
        self._wait_warm()
        self._wait_calibration()
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

    def _wait_pool(self) -> None:
        """Until the store's heartbeat row is our pool's (it took the store's pool lock and beats);
        then its plan, read from that row: the numbers the pool itself settled on."""
        p = self.pool
        deadline = p.started + self.start_timeout
        while True:
            self._check_stop()
            plan = self._pool_beat()
            if plan is not None:
                break
            code = p.proc.poll()
            if code is not None:
                row = read_pool_row(self.db)
                if row is not None and row[0] != p.pid and time.time() - row[1] < POOL_BEAT_S:
                    # the lock was taken: `make run` or another classroom on this store
                    raise LaunchError(t("room.pool_other", self.lang, pid=row[0], store=self.db))
                raise LaunchError(t("room.pool_exited_early", self.lang, pid=p.pid, how=_describe_exit(code, self.lang),
                                    log=p.log), tail(p.log))
            if time.monotonic() > deadline:
                raise LaunchError(t("room.pool_timeout", self.lang, pid=p.pid, secs=self.start_timeout, log=p.log),
                                  tail(p.log))
            time.sleep(TICK_S)
        now = time.monotonic()
        p.healthy, p.last_ok, p.next_probe = True, now, now + PROBE_EVERY_S
        self._say_plan(plan)

    def _wait_calibration(self) -> None:
        """On a machine its store has not measured, the pool's first job measures it (about a minute,
        once per machine and store): every form's Start waits for that estimate, so ready waits too,
        bounded by ``CALIBRATION_WAIT_S`` (then the class is served, and the forms say estimating)."""
        t0 = time.monotonic()
        said = False
        while read_calibration(self.db) in LIVE_WORDS:
            self._check_stop()
            if not said:
                self.say(t("room.calibrating", self.lang))
                said = True
            if time.monotonic() - t0 > CALIBRATION_WAIT_S:
                self.say(t("room.calibration_slow", self.lang, secs=CALIBRATION_WAIT_S))
                return
            time.sleep(TICK_S)
        if said:
            self.say(t("room.calibrated", self.lang, secs=round(time.monotonic() - t0)))

    def _say_plan(self, plan: tuple[int, int]) -> None:
        workers, threads = plan
        self.say(t("room.pool_ready", self.lang, pid=self.pool.pid, workers=workers, threads=threads,
                   cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()))

    # --- warm-up ---------------------------------------------------------------------------------
    def _warm_on(self) -> bool:
        return settings.get("CNNVIZ_WARM", self._env()) == "on"  # checked at start (settings.check)

    def _start_warm(self, replicas: list[Child], again: bool = False) -> None:
        """``python -m classroom.warm --json`` for ``replicas``, straight to their ports (the warm-up
        is believed only from a direct loopback connection: ``ui.warm``); a child like the others
        (its own group, dying with us), so that this process stays single-threaded."""
        if not self._warm_on():
            if not again:
                self.say(t("warm.room.off", self.lang))
            return
        log = self.run_dir / "warm.log"
        offset = log.stat().st_size if log.exists() else 0
        child = Child(name="warm", log=log)
        self._spawn(child, self._warm_cmd([f"http://127.0.0.1:{r.port}" for r in replicas]), self._env(), self.cwd)
        self.warming.append(Warming(child=child, replicas=list(replicas), offset=offset,
                                    deadline=child.started + self.warm_timeout + WARM_GRACE_S))
        if again:
            self.say(t("warm.room.again", self.lang, name=replicas[0].name, pid=child.pid, log=log))
        else:
            self.say(t("warm.room.starting", self.lang, pid=child.pid, log=log))

    def _warm_cmd(self, urls: list[str]) -> list[str]:
        return [sys.executable, "-m", "classroom.warm", "--json", "--timeout", f"{self.warm_timeout:g}", *urls]

    def _reap_warm(self, w: Warming, now: float) -> bool:
        """Whether warm-up ``w`` is over: then its lines are said (a report per replica, or why
        there is none) and its child is gone. A warm-up past its deadline is stopped."""
        code = w.child.proc.poll() if w.child.proc is not None else -1
        if code is None and now < w.deadline:
            return False
        if code is None:
            self._terminate([w.child])
            self.say(t("warm.room.timeout", self.lang, secs=self.warm_timeout, log=w.child.log))
            w.child.proc = None
            return True
        w.child.proc = None
        try:
            with open(w.child.log, "rb") as f:
                f.seek(w.offset)
                text = f.read().decode(errors="replace")
        except OSError:
            text = ""
        reports = {r.url: r for r in wm.parse_reports(text)}
        for r in w.replicas:
            rep = reports.get(f"http://127.0.0.1:{r.port}")
            if rep is None:
                self.say(t("warm.room.no_report", self.lang, how=_describe_exit(code, self.lang), name=r.name,
                           log=w.child.log))
            elif rep.ok:
                self.say(t("warm.room.replica", self.lang, name=r.name, summary=wm.summary(rep, self.lang)))
            else:
                self.say(t("warm.room.not_warmed", self.lang, name=r.name, summary=wm.summary(rep, self.lang)))
        return True

    def _wait_warm(self) -> None:
        """Until the start-up warm-up is over (bounded: ``warm_timeout`` and a grace); ready comes after."""
        while self.warming:
            self._check_stop()
            now = time.monotonic()
            self.warming = [w for w in self.warming if not self._reap_warm(w, now)]
            if self.warming:
                time.sleep(TICK_S)

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
        delay = c.ended(healthy=c.healthy)  # BACKOFF: a step further, unless its run was stable
        c.healthy = False
        self.say(t("room.restarting", self.lang, why=why, name=c.name, delay=delay))

    def supervise_once(self) -> None:
        now = time.monotonic()
        h = self.haproxy
        if h.proc is not None and (code := h.proc.poll()) is not None:
            self._schedule(h, t("room.haproxy_died", self.lang, pid=h.pid, how=_describe_exit(code, self.lang),
                                log=h.log))
        elif h.due(now):
            self._start_haproxy()
            h.restarts += 1
            h.healthy = True
            self.say(t("room.haproxy_restarted", self.lang, pid=h.pid, old=h.pids[-2], n=h.restarts))

        self._supervise_pool(now)
        self.warming = [w for w in self.warming if not self._reap_warm(w, now)]
        due = []
        for r in self.replicas:
            if r.proc is None:
                if r.due(now):
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
                    if r.restarts:  # a restarted replica is cold again: warm it (HAProxy already sends it students)
                        self._start_warm([r], again=True)
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

    def _supervise_pool(self, now: float) -> None:
        """The pool as a replica: restarted when it exits, or when its heartbeat stops (hung)."""
        p = self.pool
        if p is None:
            return
        if p.proc is None:
            if p.due(now):
                old = p.pids[-1]
                self._start_pool()
                p.restarts += 1
                self.say(t("room.pool_restarted", self.lang, pid=p.pid, old=old, n=p.restarts))
            return
        code = p.proc.poll()
        if code is not None:
            self._schedule(p, t("room.pool_died", self.lang, pid=p.pid, how=_describe_exit(code, self.lang), log=p.log))
            return
        if now < p.next_probe:
            return
        p.next_probe = now + PROBE_EVERY_S
        plan = self._pool_beat()
        if plan is not None:
            if not p.healthy:
                self._say_plan(plan)
            p.healthy, p.last_ok = True, now
        elif p.healthy and now - p.last_ok >= HUNG_AFTER_S:
            self.say(t("room.pool_hung", self.lang, pid=p.pid, secs=now - p.last_ok))
            self._terminate([p])
            self._schedule(p, t("room.pool_stopped_hung", self.lang))
        elif not p.healthy and now - p.started >= self.start_timeout:
            self.say(t("room.pool_never", self.lang, pid=p.pid, secs=self.start_timeout, log=p.log))
            self._terminate([p])
            self._schedule(p, t("room.pool_stopped_never", self.lang))

    def serve(self) -> None:
        while not self.stopping:
            self.supervise_once()
            time.sleep(TICK_S)

    # --- stopping ----------------------------------------------------------------------------
    def _terminate(self, children: list[Child], grace: float = GRACE_S) -> None:
        """SIGTERM to each child's process group, wait up to ``grace``, SIGKILL what is left; reaps them."""
        names = {c.proc.pid: c.name for c in children if c.proc is not None}

        def killing(proc) -> None:
            self.say(t("room.sigkill", self.lang, name=names[proc.pid], pid=proc.pid, secs=grace))

        sv.terminate([c.proc for c in children if c.proc is not None], grace, group=True, on_kill=killing)

    def stop(self) -> None:
        # the proxy first (no new traffic); the pool with the rest: its workers end their jobs "interrupted"
        children = ([self.haproxy] if self.haproxy else []) + self.replicas + ([self.pool] if self.pool else []) \
            + [w.child for w in self.warming]
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
