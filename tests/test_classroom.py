"""``python -m classroom``: K Streamlit replicas behind HAProxy, driven end to end.

One launcher with two replicas (a temporary run store, the shared real data) serves the
whole module; the browser is Debian's Chromium (never ``playwright install``). In order:
both replicas serve pages and every request of a page (HTML, assets, ``/_stcore/*``, the
websocket) stays on the replica its cookie names; reloads stay there; an upload through the
proxy reaches the session's replica (the same upload with the other cookie is refused); a websocket student
sending a replica's cookie lands on it; a run started on one replica is listed on the
other (one SQLite store); one worker pool, the launcher's, serves both replicas (they get
``CNNVIZ_POOL=external`` and one teacher key) and runs a job submitted to that store; a
replica killed with SIGKILL is restarted while the proxy keeps serving, and so is a killed
pool; SIGTERM stops everything. A second launcher is SIGKILLed to check that its children
(its pool's workers included) die with it. Plus the fast failures: haproxy missing, port in
use, a replica that cannot start, a store another pool already serves. No timings are
asserted; every wait is a generous deadline on a condition (``conftest.WAIT_S``).

The module's tests run in order on one xdist worker (``xdist_group``): the shared launcher is
killed piece by piece and finally stopped.
"""

from __future__ import annotations

import asyncio
import io
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import WAIT_MS, WAIT_S, calibrated_store, in_ci, need, until

from classroom import haproxy as hx
from classroom.launcher import Classroom, LaunchError
from cnnviz.supervisor import free_port

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
READY_RE = re.compile(r"ready on (http://\S+) \((\d+) replicas?, pids ([\d ]+), haproxy (\d+)\)")
REPLICA_RE = re.compile(r"replica (r\d+) starting: pid (\d+) on 127\.0\.0\.1:(\d+)")
POOL_RE = re.compile(r"worker pool up: pid (\d+), (\d+) worker\(s\) × (\d+) torch thread")
KEY_RE = re.compile(r"teacher key: (\S+) \(type it")
WARM_MARK_RE = re.compile(r"cnnviz warm-up: (\w+) \((en|zh)\) ran in pid (\d+)")  # ui.warm.mark
HDR = hx.HEADER.lower()

pytestmark = pytest.mark.xdist_group("classroom")


def _marks(*marks):
    def apply(fn):
        for m in marks:
            fn = m(fn)
        return fn
    return apply


cluster_test = _marks(pytest.mark.cluster, pytest.mark.slow)  # starts (or uses) the launcher: replicas, HAProxy, pool
browser_test = _marks(pytest.mark.cluster, pytest.mark.slow, pytest.mark.browser)  # ... and drives Chromium

# the launcher's replicas, HAProxy and pool (every test of the running classroom); with a browser


def _need(path: str | None, what: str) -> str:
    if not path or not os.path.exists(path):
        if in_ci():
            pytest.fail(f"{what} is missing: CI must install it (make classroom / make browser)")
        pytest.skip(f"{what} is not installed")
    return path


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _describe(pid: int) -> str:
    """pid, state, parent, group and command line, for a failure message."""
    try:
        f = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} state {f[0]} ppid {f[1]} pgrp {f[2]}: {cmd[:120]}"


_BORN: dict[int, int] = {}  # pid → its start time (clock ticks since boot) when this module first saw it


def _alive(pid: int) -> bool:
    """A live (not zombie) process with this pid that is one of ours (streamlit, haproxy, the pool
    or its workers) and the same process this module first saw under that pid: the suite's other
    worker starts servers and pools all the time, and a pid of ours that ended may be theirs now."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()  # state, ppid, ... starttime (the 22nd field of stat)
    born = _BORN.setdefault(pid, int(fields[19]))
    return (fields[0] not in ("Z", "X") and born == int(fields[19])
            and (b"streamlit" in cmd or b"haproxy" in cmd or b"cnnviz\0pool" in cmd))


def _children(pid: int) -> list[int]:
    """Live children of ``pid`` (from /proc)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = pathlib.Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                out.append(int(name))
    return out


def _cmdline(pid: int) -> list[str]:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _environ(pid: int) -> dict[str, str]:
    raw = pathlib.Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def _pool_workers(pool_pid: int, n: int) -> list[int]:
    """The pool's ``n`` worker processes, once exec'd (a fresh fork still has the pool's cmdline)."""
    def ready():
        kids = [k for k in _children(pool_pid) if "--worker" in _cmdline(k)]
        return kids if len(kids) == n else None

    return until(ready, WAIT_S, f"{n} pool worker(s)", step=0.2)



class Launcher:
    """``python -m classroom`` as a subprocess; its stdout lines collected by a thread."""

    def __init__(self, replicas: int, port: int, run_dir: pathlib.Path, db: pathlib.Path, **env_extra: str):
        env = dict(os.environ, CNNVIZ_DB=str(db), PYTHONUNBUFFERED="1", CNNVIZ_LANG="en",  # the tests read English
                   **env_extra)
        self.port, self.run_dir = port, run_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "classroom", "--replicas", str(replicas), "--port", str(port),
             "--host", "127.0.0.1", "--run-dir", str(run_dir), "--start-timeout", str(WAIT_S)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.pids: dict[str, int] = {}  # replica name → its current pid
        self.ports: dict[str, int] = {}
        self.every_pid: set[int] = set()
        self.haproxy_pid = 0
        self.pool_pid, self.plan, self.teacher_key = 0, (0, 0), ""
        self.db = db
        self.base = f"http://127.0.0.1:{port}"

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        rx = re.compile(pattern)

        def found():
            for line in self.lines[start:]:
                m = rx.search(line)
                if m:
                    return m
            if self.proc.poll() is not None and not self._reader.is_alive():
                pytest.fail(f"launcher exited ({self.proc.returncode}) before /{pattern}/:\n{self.output()[-3000:]}")
            return None

        deadline = time.monotonic() + timeout
        while not (m := found()):
            if time.monotonic() > deadline:
                pytest.fail(f"no /{pattern}/ within {timeout:.0f} s; launcher said:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        return m

    def wait_ready(self, timeout: float = WAIT_S) -> None:
        m = self.wait_line(READY_RE.pattern, timeout)
        for rm in REPLICA_RE.finditer(self.output()):
            self.pids[rm.group(1)], self.ports[rm.group(1)] = int(rm.group(2)), int(rm.group(3))
        assert [int(p) for p in m.group(3).split()] == list(self.pids.values())
        self.haproxy_pid = int(m.group(4))
        pm = POOL_RE.search(self.output())  # printed before the ready line
        self.pool_pid, self.plan = int(pm.group(1)), (int(pm.group(2)), int(pm.group(3)))
        self.teacher_key = KEY_RE.search(self.output()).group(1)
        self.every_pid |= set(self.pids.values()) | {self.haproxy_pid, self.pool_pid}
        self.every_pid |= set(_pool_workers(self.pool_pid, self.plan[0]))
        assert all(_alive(p) for p in self.every_pid)  # each seen now, while ours: its start time noted

    def stop(self) -> None:
        """Safety net for a failed test: stop the launcher, then anything of ours it left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.every_pid:
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass


def run_async(coro):
    """``asyncio.run`` in a thread of its own: Playwright's sync API keeps an event loop in this one."""
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as err:  # noqa: BLE001 (re-raised in the test's thread)
            out["error"] = err

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(WAIT_S)
    if th.is_alive():
        pytest.fail(f"the websocket student did not finish within {WAIT_S:.0f} s")
    if "error" in out:
        raise out["error"]
    return out["value"]


def get(base: str, path: str = "/_stcore/health", replica: str | None = None) -> tuple[int, dict, str]:
    req = urllib.request.Request(base + path, headers={"Cookie": f"{hx.COOKIE}={replica}"} if replica else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode(errors="replace")


def active_sessions(base: str, replica: str) -> int:
    """Connected websocket sessions of one replica (Streamlit's metrics, reached by its cookie)."""
    _, headers, body = get(base, "/_stcore/metrics?families=active_sessions", replica)
    assert headers[HDR] == replica
    return int(re.search(r"^active_sessions (\d+)", body, re.MULTILINE).group(1))


def settle(page, timeout: float = WAIT_S) -> None:
    """Wait until the script run is over: Streamlit's status widget shows while it runs."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout * 1000)
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=timeout * 1000)


def no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def cookie_of(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == hx.COOKIE), None)


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def room(tmp_path_factory):
    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    tmp = tmp_path_factory.mktemp("classroom")
    launcher = Launcher(2, free_port(), tmp / "run", calibrated_store(tmp))  # its pool queues no calibration
    try:
        launcher.wait_ready()
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture(scope="module")
def browser(room):
    """Chromium, with every Playwright wait (``wait_for``, ``expect``) a generous deadline."""
    need("playwright")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_need(CHROMIUM, "chromium"), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Tab:
    """A fresh browser context with one page; remembers which replica answered each response."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.base = base
        self.served_by: list[tuple[str, str | None]] = []
        self.page.on("response", lambda r: self.served_by.append((r.url, r.headers.get(HDR))))

    def open(self, path: str = "/") -> str:
        """Load a page, wait for its run; the replica that served the document."""
        self.served_by.clear()
        resp = self.page.goto(self.base + path)
        settle(self.page)
        no_exception(self.page)
        return resp.headers.get(HDR)

    @property
    def replica(self) -> str | None:
        return cookie_of(self.context)


@pytest.fixture(scope="module")
def tabs(room, browser) -> dict[str, Tab]:
    """One open tab per replica: fresh contexts until both replicas have served one (at most 4)."""
    by_replica: dict[str, Tab] = {}
    extra = []
    for _ in range(4):
        tab = Tab(browser, room.base)
        served = tab.open("/")
        # the app, not an error page: its sidebar (a fresh replica's first run reruns once through
        # app.py before the navigation and its sidebar are drawn, so wait for it rather than count)
        tab.page.wait_for_selector('[data-testid="stSidebar"]')
        assert tab.replica in room.pids and served == tab.replica, (tab.replica, served)
        if tab.replica in by_replica:
            extra.append(tab)
        else:
            by_replica[tab.replica] = tab
        if len(by_replica) == len(room.pids):
            break
    for tab in extra:
        tab.context.close()
    assert sorted(by_replica) == sorted(room.pids), f"only {sorted(by_replica)} served fresh browsers"
    yield by_replica
    for tab in by_replica.values():
        tab.context.close()


# --- the config, and the failures that need no browser -------------------------------------------
def test_rendered_config_is_valid_and_complete(tmp_path):
    exe = _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    text = hx.render([hx.Server("r1", "127.0.0.1", 40001), hx.Server("r2", "127.0.0.1", 40002)], "0.0.0.0", 8501,
                     stats_socket=str(tmp_path / "s.sock"))
    for line in ("mode http", "bind 0.0.0.0:8501", "balance leastconn",
                 f"cookie {hx.COOKIE} insert indirect nocache httponly", "option httpchk GET /_stcore/health",
                 "http-check expect status 200", "timeout tunnel 1h", "option forwardfor", "option redispatch",
                 f"http-response set-header {hx.HEADER} %s", "server r1 127.0.0.1:40001 cookie r1",
                 "server r2 127.0.0.1:40002 cookie r2"):
        assert line in text, line
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    assert hx.check(exe, str(cfg)) is None
    cfg.write_text(text.replace("balance leastconn", "balance nonsense"))
    assert hx.check(exe, str(cfg))  # and a broken one is reported


def test_haproxy_missing_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(hx, "find_haproxy", lambda: None)
    with pytest.raises(LaunchError, match=re.escape(hx.INSTALL_HINT)):
        Classroom(1, "127.0.0.1", free_port(), run_dir=str(tmp_path)).start()


@pytest.mark.slow
def test_port_in_use_is_one_clear_line():
    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = subprocess.run([sys.executable, "-m", "classroom", "--replicas", "1", "--port", str(port),
                              "--host", "127.0.0.1"], cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S,
                             check=False)
    assert res.returncode == 1
    assert f"classroom: error: port {port} on 127.0.0.1 is in use" in res.stderr
    assert "ready" not in res.stdout


@pytest.mark.slow
def test_port_in_use_speaks_the_teachers_language(tmp_path):
    """``lang="zh"`` (``--lang zh``, or ``$CNNVIZ_LANG=zh``): the same one line, from the string table in
    Chinese; English stays the default and word for word what it was."""
    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(LaunchError) as zh:
            Classroom(1, "127.0.0.1", port, run_dir=str(tmp_path), out=io.StringIO(), lang="zh").start()
        with pytest.raises(LaunchError) as en:
            Classroom(1, "127.0.0.1", port, run_dir=str(tmp_path), out=io.StringIO()).start()
        env = dict(os.environ, CNNVIZ_LANG="zh")
        res = subprocess.run([sys.executable, "-m", "classroom", "--replicas", "1", "--port", str(port),
                              "--host", "127.0.0.1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT_S,
                             check=False)
    assert str(zh.value) == (f"127.0.0.1 上的端口 {port} 已被占用（另一个课堂，还是 `make run`？）："
                             "请先停止它，或用 --port / PORT= 换一个端口")
    assert str(en.value) == (f"port {port} on 127.0.0.1 is in use (another classroom, or `make run`?): "
                             "stop it or choose another with --port / PORT=")
    assert res.returncode == 1
    assert f"classroom：错误：127.0.0.1 上的端口 {port} 已被占用" in res.stderr
    assert "ready" not in res.stdout


@cluster_test
def test_a_replica_that_cannot_start_fails_with_its_log(tmp_path):
    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")

    class Broken(Classroom):
        def _replica_cmd(self, port):
            return [sys.executable, "-c", "import sys; print('no module named cnnviz_typo'); sys.exit(3)"]

    room = Broken(1, "127.0.0.1", free_port(), run_dir=str(tmp_path), out=io.StringIO())
    try:
        with pytest.raises(LaunchError, match=r"replica r1 \(pid \d+\) exited with code 3") as err:
            room.start()
        assert "no module named cnnviz_typo" in err.value.detail
    finally:
        room.stop()
    assert all(c.proc is None for c in room.replicas)


_HEALTH_ONLY = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


@cluster_test
def test_a_store_another_pool_serves_is_one_clear_line(tmp_path, monkeypatch):
    """A second pool for a store exits at once (the store's pool lock): the launcher names the
    pool already serving it instead of restarting its own forever. Stand-in replicas (they only
    answer the health check) keep this test to the pool's few seconds."""
    from conftest import start_pool, stop_pool, wait_pool

    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    other = start_pool(db, workers=1)

    class HealthOnly(Classroom):
        def _replica_cmd(self, port):
            return [sys.executable, "-c", _HEALTH_ONLY, str(port)]

    room = HealthOnly(1, "127.0.0.1", free_port(), run_dir=str(tmp_path / "run"), out=io.StringIO())
    try:
        wait_pool(db)
        with pytest.raises(LaunchError) as err:
            room.start()
        assert str(err.value) == (
            f"another worker pool (pid {other.pid}) already serves the run store {db} (`make run`, or another "
            "classroom, on the same store?): stop it, or give this classroom its own store with CNNVIZ_DB=…")
    finally:
        room.stop()
        stop_pool(other)
    assert room.pool.proc is None and all(r.proc is None for r in room.replicas)


@pytest.mark.slow
def test_the_default_store_is_named_without_loading_torch(tmp_path):
    """Without ``$CNNVIZ_DB`` the launcher names the data folder's store from ``cnnviz.settings``,
    which is torch-free (torch's thread must never start in the single-threaded launcher)."""
    code = (
        "import os, pathlib, sys\n"
        "from classroom.launcher import store_path\n"
        "from cnnviz.settings import DB_NAME\n"
        f"env = {{k: v for k, v in os.environ.items() if k != 'CNNVIZ_DB'}}\n"
        f"env['CNNVIZ_DATA_DIR'] = {str(tmp_path / 'data')!r}\n"
        f"here = pathlib.Path({str(tmp_path)!r})\n"
        f"assert store_path(env, here) == pathlib.Path({str(tmp_path / 'data')!r}) / DB_NAME\n"
        f"assert store_path(dict(env, CNNVIZ_DB='rel/runs.sqlite'), here) == "
        f"pathlib.Path({str(tmp_path / 'rel' / 'runs.sqlite')!r})\n"
        "assert 'torch' not in sys.modules, 'the launcher loaded torch'\n"
        "print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


# --- the running classroom ---------------------------------------------------------------------------
@cluster_test
def test_ready_line_and_every_replica_up(room):
    assert len(room.pids) == 2 and all(_alive(p) for p in room.every_pid)
    assert hx.server_status(str(room.run_dir / "haproxy.sock")) == {"r1": "UP", "r2": "UP"}  # checked, not just assumed
    for name, port in room.ports.items():
        assert (room.run_dir / f"{name}.log").exists()
        assert get(room.base, replica=name)[1][HDR] == name  # the cookie picks the replica
        assert not _port_free(port)
    assert (room.run_dir / "haproxy.cfg").read_text().count(" cookie r") == 2


@cluster_test
def test_ready_comes_only_after_every_replica_was_warmed(room):
    """Each replica ran every default page once (its own marker lines, its pid: ``ui.warm``) and
    the launcher said so before its ready line; the warm-up left no student in the store. A
    session through the proxy that claims to be the warm-up is an ordinary student."""
    import sqlite3

    from classroom import warm as wm

    ready_at = next(i for i, ln in enumerate(room.lines) if READY_RE.search(ln))
    pages = {(p or "home", lang) for p in wm.PAGES for lang in wm.LANGS}
    for name, pid in room.pids.items():
        said = [i for i, ln in enumerate(room.lines) if re.search(rf"replica {name} warmed in [\d.]+ s \(home ", ln)]
        assert said and said[0] < ready_at, room.output()
        marks = WARM_MARK_RE.findall((room.run_dir / f"{name}.log").read_text())
        assert {(p, lang) for p, lang, _ in marks} == pages and {int(p) for *_, p in marks} == {pid}, marks

    def seen() -> int:
        with sqlite3.connect(room.db) as conn:
            return conn.execute("SELECT COUNT(*) FROM students").fetchone()[0]

    assert seen() == 0  # the warm-up is nobody
    from testkit.wsclient import Student

    async def forged():
        s = Student(room.base, page="training", headers={wm.HEADER: "1"})
        try:
            await s.connect()
            assert not s.last_run_exceptions, s.last_run_exceptions
        finally:
            await s.close()

    run_async(forged())
    assert seen() == 1  # through the proxy (X-Forwarded-For): a student like any other
    logs = "".join((room.run_dir / f"{name}.log").read_text() for name in room.pids)
    assert len(WARM_MARK_RE.findall(logs)) == len(pages) * len(room.pids)  # and no marker line for it


@browser_test
def test_browsers_reach_both_replicas_and_stay_on_theirs(room, tabs):
    for name, tab in tabs.items():
        # every response of the page load (document, assets, /_stcore/health, host-config) from one replica
        assert {r for _, r in tab.served_by} == {name}, tab.served_by[:5]
        assert any("/_stcore/" in url for url, _ in tab.served_by)
        # the websocket too: each replica holds the session of the tab it served
        assert active_sessions(room.base, name) >= 1
    tab = next(iter(tabs.values()))
    name = tab.replica
    for _ in range(3):
        tab.page.reload()
        settle(tab.page)
        no_exception(tab.page)
        assert tab.replica == name
        assert {r for _, r in tab.served_by if r} == {name}


@browser_test
def test_an_upload_through_the_proxy_reaches_the_session_replica(room, tabs, tmp_path):
    """Streamlit takes an upload only on the replica holding the session, with the XSRF
    token of the ``_streamlit_xsrf`` cookie in a header (enableXsrfProtection=true)."""
    from PIL import Image

    png = tmp_path / "digit.png"
    Image.new("L", (28, 28), 0).save(png)
    name, tab = min(tabs.items())
    page = tab.page
    tab.open("/featuremaps")
    page.get_by_text("upload a PNG or JPEG").click()
    settle(page)
    with page.expect_response(lambda r: "/_stcore/upload_file/" in r.url and r.request.method == "PUT") as put:
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(png))
    resp = put.value
    assert resp.ok, f"upload answered {resp.status}"
    assert resp.headers.get(HDR) == name == tab.replica
    assert "X-Xsrftoken".lower() in {k.lower() for k in resp.request.headers}
    page.get_by_text("digit.png").wait_for()
    # the rerun that reads the upload replaces the "upload first" caption with the feature maps
    page.get_by_text("Upload an image to see its feature maps.").wait_for(state="detached")
    settle(page)
    no_exception(page)
    assert {r for _, r in tab.served_by if r} == {name}

    # the control: the same upload (same session, same XSRF cookie and token) sent with the other
    # replica's cookie is refused there, so it is the stickiness that made the browser's work
    other = next(n for n in room.pids if n != name)
    xsrf = next(c["value"] for c in tab.context.cookies() if c["name"] == "_streamlit_xsrf")
    boundary = "cnnvizclassroomtest"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"digit.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(resp.url, data=body, method="PUT", headers={
        "Cookie": f"{hx.COOKIE}={other}; _streamlit_xsrf={xsrf}", "X-Xsrftoken": xsrf,
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code == 400 and refused.value.headers.get(hx.HEADER) == other
    assert "sticky sessions" in refused.value.read().decode()


@browser_test
def test_websocket_student_lands_on_the_replica_of_its_cookie(room, tabs):
    from testkit.wsclient import Student

    async def visit(replica: str | None):
        s = Student(room.base, page="",
                    cookies={hx.COOKIE: replica} if replica else None)
        try:
            before = {n: active_sessions(room.base, n) for n in room.pids}
            await s.connect()
            keys = s.widget_keys()
            served = {k.lower(): v for k, v in s.response_headers.items()}.get(HDR)
            during = {n: active_sessions(room.base, n) for n in room.pids}
            return served, keys, list(s.exceptions), list(s.set_cookies), (before, during)
        finally:
            await s.close()

    for name in room.pids:
        served, keys, exceptions, set_cookies, (before, during) = run_async(visit(name))
        assert served == name and keys and not exceptions
        assert not any(c.startswith(hx.COOKIE + "=") for c in set_cookies)  # indirect: no new cookie
        assert during[name] == before[name] + 1  # the websocket session itself is on that replica
    served, _, exceptions, set_cookies, _ = run_async(visit(None))  # no cookie: the proxy gives one
    assert served in room.pids and not exceptions
    assert any(c.startswith(f"{hx.COOKIE}={served}") for c in set_cookies), set_cookies


@browser_test
def test_a_run_started_on_one_replica_is_read_only_elsewhere_and_its_student_stops_it_from_the_other(room, tabs):
    """A run started in one replica's session is trained by the one pool; another student on the
    other replica sees it read-only; its own student, moved to the other replica (the replica
    cookie set by hand), stops it there: a stop from a second replica, in real browsers."""
    (a_name, a), (b_name, b) = sorted(tabs.items())
    assert a_name != b_name
    page = a.page
    a.open("/training")
    assert a.replica == a_name
    page.get_by_role("heading", name="Train a network").wait_for()
    settle(page)
    epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
    epochs.fill("500")  # LeNet's class recipe for 500 epochs: it runs until someone stops it
    epochs.press("Enter")
    settle(page)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**run=**")
    rid = re.search(r"[?&]run=([0-9a-f]+)", page.url).group(1)
    page.get_by_role("button", name="Stop").wait_for()  # running, in a worker of the pool

    assert b.open(f"/training?run={rid}") == b_name  # another student, on the other replica
    b.page.get_by_text("belongs to another student").wait_for()
    assert b.page.get_by_role("button", name="Stop").count() == 0
    no_exception(b.page)

    a.context.add_cookies([{"name": hx.COOKIE, "value": b_name, "url": room.base}])
    assert a.open(f"/training?run={rid}") == b_name  # the same student, now on the other replica
    a.page.get_by_role("button", name="Stop").click()
    a.page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="stopped").first.wait_for()
    no_exception(a.page)
    a.context.add_cookies([{"name": hx.COOKIE, "value": a_name, "url": room.base}])  # back, for the tests below


@cluster_test
def test_one_pool_serves_both_replicas(room):
    """The store's pool row is the launcher's pool; no replica started one of its own (they were told
    ``CNNVIZ_POOL=external``) and both were given the one teacher key the launcher printed; a job
    queued in that store (as a replica's Start does) runs in one of the pool's workers."""
    from cnnviz.runs.scheduler import Scheduler
    from cnnviz.runs.store import RunStore

    from training_helpers import tiny

    row = RunStore(room.db).pool()
    assert row.pid == room.pool_pid and row.alive() and (row.workers, row.threads) == room.plan
    assert row.workers * row.threads <= len(os.sched_getaffinity(room.pool_pid))
    assert room.teacher_key and len(room.teacher_key) >= 12
    for name, pid in room.pids.items():
        env = _environ(pid)
        assert env["CNNVIZ_POOL"] == "external" and env["CNNVIZ_DB"] == str(room.db), name
        assert env["CNNVIZ_TEACHER_KEY"] == room.teacher_key, name
        assert not any("pool" in _cmdline(k) for k in _children(pid)), f"{name} started a pool of its own"
    sch = Scheduler(room.db, pool="none")
    try:
        info = sch.wait(sch.submit("train", tiny().to_dict(), "classroom-test").run_id, timeout=WAIT_S)
        assert info.status == "completed", info.message
        assert int(info.worker.rsplit(":", 1)[1]) in _children(room.pool_pid)
    finally:
        sch.close()


@browser_test
def test_a_killed_replica_is_restarted_and_the_proxy_keeps_serving(room, browser, tabs):
    victim = max(room.pids)  # the replica of the second tab
    old = room.pids[victim]
    mark = len(room.lines)
    os.kill(old, signal.SIGKILL)

    tab = Tab(browser, room.base)  # meanwhile, a newcomer still gets the app
    try:
        assert tab.open("/") in room.pids
    finally:
        tab.context.close()
    orphan = tabs[victim]  # and the victim's own student, on reload, is served (by whichever replica is up)
    orphan.page.reload()
    settle(orphan.page)
    no_exception(orphan.page)

    m = room.wait_line(rf"replica {victim} restarted: pid (\d+) \(was {old}\)", WAIT_S, mark)
    new = int(m.group(1))
    room.wait_line(rf"replica {victim} healthy: pid {new}", WAIT_S, mark)
    room.wait_line(rf"replica {victim} warmed in ", WAIT_S, mark)  # cold again after its restart: warmed again
    assert new != old and _alive(new) and not _alive(old)
    room.pids[victim] = new
    room.every_pid.add(new)
    sock = str(room.run_dir / "haproxy.sock")
    until(lambda: hx.server_status(sock) == {"r1": "UP", "r2": "UP"}, WAIT_S, "haproxy to see both replicas UP",
          step=0.2)
    for name in room.pids:
        assert get(room.base, replica=name)[1][HDR] == name
    assert _alive(room.haproxy_pid)


@cluster_test
def test_a_killed_pool_is_restarted(room):
    old, mark = room.pool_pid, len(room.lines)
    os.kill(old, signal.SIGKILL)  # its workers die with it (PR_SET_PDEATHSIG)
    new = int(room.wait_line(rf"worker pool restarted: pid (\d+) \(was {old}, restart 1\)", WAIT_S, mark).group(1))
    room.wait_line(rf"worker pool up: pid {new}, {room.plan[0]} worker", WAIT_S, mark)
    assert not _alive(old) and _alive(new)
    room.pool_pid = new
    room.every_pid |= {new, *_pool_workers(new, room.plan[0])}
    from cnnviz.runs.store import RunStore

    assert RunStore(room.db).pool().pid == new


@cluster_test
def test_sigterm_stops_everything(room):
    assert room.proc.poll() is None
    room.proc.send_signal(signal.SIGTERM)
    assert room.proc.wait(timeout=WAIT_S) == 0
    # Seen twice under a full suite's load: two processes of the tree still alive just after the
    # launcher exited (cause not found yet; the message names them). They must go on their own.
    left: list[int] = []

    def gone() -> bool:
        left[:] = [p for p in room.every_pid if _alive(p)]
        return not left

    deadline = time.monotonic() + WAIT_S
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"still running {WAIT_S:.0f} s after the launcher: {[_describe(p) for p in left]}"
    assert _port_free(room.port)
    assert all(_port_free(p) for p in room.ports.values())
    assert "stopped; logs kept in" in room.output()


@cluster_test
def test_children_die_with_a_sigkilled_launcher(tmp_path):
    """The launcher cannot clean up after SIGKILL: PR_SET_PDEATHSIG makes the kernel SIGTERM its children."""
    _need(hx.find_haproxy(), f"haproxy ({hx.INSTALL_HINT})")
    # no warm-up (CNNVIZ_WARM=off): its replica's default pages, both languages, are the shared
    # room's to check (test_ready_comes_only_after_every_replica_was_warmed), not this test's
    launcher = Launcher(1, free_port(), tmp_path / "run", calibrated_store(tmp_path), CNNVIZ_WARM="off")
    try:
        launcher.wait_ready()
        from testkit.wsclient import Student

        async def connected_then_kill():
            s = Student(launcher.base)
            await s.connect()  # a student is connected when the launcher dies
            try:
                os.kill(launcher.proc.pid, signal.SIGKILL)
                launcher.proc.wait(timeout=30)
                deadline = time.monotonic() + WAIT_S
                while any(_alive(p) for p in launcher.every_pid) and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
            finally:
                await s.close()

        run_async(connected_then_kill())
        left = [p for p in launcher.every_pid if _alive(p)]
        assert not left, f"left behind: {left}"
        until(lambda: _port_free(launcher.port), WAIT_S, "the port to be free", step=0.2)
    finally:
        launcher.stop()
