"""Starting and stopping the app as a real server: for the tests, the benchmarks and the
docs' screenshots (``classroom.launcher`` supervises a class's replicas itself).

Every process is started in a session of its own and stopped by process group
(``cnnviz.supervisor.terminate``), so a test or a benchmark ends exactly what it started and
nothing else. Free ports are ``cnnviz.supervisor.free_port``'s.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence

from cnnviz.supervisor import free_port, spawn, terminate

ROOT = pathlib.Path(__file__).resolve().parents[1]  # the project: app.py and .streamlit/config.toml
START_TIMEOUT_S = 60.0  # the first start imports torch and plotly: 5–15 s here, more on a busy machine


def start_app(port: int, log_path: pathlib.Path | str, env: Mapping[str, str] | None = None,
              args: Sequence[str] = (), script: pathlib.Path | str = "app.py") -> subprocess.Popen:
    """``streamlit run app.py`` (or another ``script``) on 127.0.0.1:``port``, headless, in the
    project folder (its ``.streamlit/config.toml``), in a session of its own, output to ``log_path``."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           *args]
    # not dying with this process (PR_SET_PDEATHSIG): a test may start it from any thread; the
    # callers stop it in a finally (serve_app) instead
    return spawn(cmd, log=log_path, env=env if env is not None else os.environ, cwd=ROOT, new_session=True,
                 die_with_parent=False)


def alive(pid: int) -> bool:
    """A live process on this machine (a zombie has ended: nobody may be there to reap an orphan at once)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def tail(path: pathlib.Path | str, lines: int = 30) -> str:
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").rstrip().splitlines()[-lines:])
    except OSError:
        return ""


def wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float = START_TIMEOUT_S,
                 log_path: pathlib.Path | str | None = None) -> float:
    """Wait until ``base_url``'s ``/_stcore/health`` answers 200; seconds taken. ``RuntimeError``
    (with the log's tail) when the process exits first or the time runs out."""
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}:\n{tail(log_path or '')}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"no answer from {base_url} within {timeout:.0f} s:\n{tail(log_path or '')}")
        time.sleep(0.2)


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group we started, SIGKILL whatever is left of it after ``grace`` s."""
    terminate([proc], grace, group=True)


@contextlib.contextmanager
def serve_app(log_dir: pathlib.Path | str, env: Mapping[str, str] | None = None, args: Sequence[str] = (),
              timeout: float = START_TIMEOUT_S, script: pathlib.Path | str = "app.py") -> Iterator[str]:
    """The app (or another ``script``) on a free port for the ``with`` block; yields its base URL;
    always stopped."""
    port = free_port()
    log_path = pathlib.Path(log_dir) / f"streamlit-{port}.log"
    proc = start_app(port, log_path, env, args, script)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc, timeout, log_path)
        yield base
    finally:
        stop_group(proc)
