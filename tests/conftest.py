"""Shared test set-up.

Datasets: tests and benchmarks read the small real Fashion-MNIST/MNIST stand-ins in
``../shared/data`` through the product's own setting, ``CNNVIZ_DATA_DIR``; the product
never names that path. Anything a test writes goes to tmp paths: ``CNNVIZ_DB`` (the run store) is set to a temporary
file for the whole session, subprocesses included; artifacts go to the git-ignored ``artifacts/``.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

import pytest
import torch

from cnnviz.jobs import KINDS

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if SHARED_DATA.is_dir():
    os.environ.setdefault("CNNVIZ_DATA_DIR", str(SHARED_DATA))

# The run store defaults to <data dir>/cnnviz-runs.sqlite: never let a test (or the app
# servers the browser tests start, which inherit this environment) write into shared data.
_RUN_STORE = tempfile.mkdtemp(prefix="cnnviz-test-runs-")
os.environ["CNNVIZ_DB"] = os.path.join(_RUN_STORE, "runs.sqlite")

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
JOB_KINDS = tuple(KINDS)  # every test process knows every job kind, as the app's and the CLI's do


@pytest.fixture
def shared_data() -> pathlib.Path:
    """The shared real-image folder, or a skip where this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


# --- the scheduler's worker pool -------------------------------------------------------------
def start_pool(db: pathlib.Path | str, workers: int = 1, threads: int = 1, env: dict | None = None):
    """A real worker pool (``python -m cnnviz pool``) serving ``db``, as the classroom runs one;
    ``env`` adds to (or, with None values, removes from) this process's environment."""
    import subprocess
    import sys

    log = open(str(db) + ".pool.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--workers", str(workers),
                             "--threads", str(threads), "--exit-with-parent"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_env(env))
    log.close()
    return proc


def _env(extra: dict | None) -> dict:
    env = dict(os.environ)
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def wait_pool(db: pathlib.Path | str, timeout: float = 60.0) -> None:
    """Until the pool beats and every worker has come up (imported torch and the labs)."""
    import time

    from cnnviz.runs.store import RunStore

    store = RunStore(db)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = store.pool()
            if info is not None and info.alive():
                return
            time.sleep(0.1)
        raise AssertionError(f"no pool beat for {db}: {pathlib.Path(str(db) + '.pool.log').read_text()[-2000:]}")
    finally:
        store.close()


def stop_pool(proc, timeout: float = 15.0) -> None:
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pool_fixture(db: pathlib.Path, monkeypatch, workers: int = 2):
    from ui import sched

    monkeypatch.setenv("CNNVIZ_DB", str(db))
    monkeypatch.setenv("CNNVIZ_POOL", "external")  # the pages use this pool, never start their own
    proc = start_pool(db, workers=workers)
    wait_pool(db)
    sched._scheduler.clear()
    try:
        yield db
    finally:
        stop_pool(proc)
        sched._scheduler.clear()


@pytest.fixture
def sched_db(tmp_path, monkeypatch):
    """A fresh run store served by its own real pool (2 workers × 1 thread) for one test;
    ``CNNVIZ_DB`` points at it, so the pages' scheduler (``ui.sched.scheduler()``) uses it."""
    yield from _pool_fixture(tmp_path / "runs.sqlite", monkeypatch)


@pytest.fixture(scope="module")
def module_sched_db(tmp_path_factory):
    """As ``sched_db``, shared by a module's tests (a pool starts in ~3 s): tests keep apart by
    using their own student ids."""
    mp = pytest.MonkeyPatch()
    try:
        yield from _pool_fixture(tmp_path_factory.mktemp("sched") / "runs.sqlite", mp)
    finally:
        mp.undo()


def until(cond, timeout: float = 60.0, what: str = "condition", step: float = 0.05):
    """Poll ``cond()`` until it is truthy (returned) or ``timeout`` s pass (the test fails, naming ``what``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


@pytest.fixture(scope="module")
def module_scheduler(module_sched_db):
    """A ``Scheduler`` on the module's store and pool (``module_sched_db``); its jobs are
    cleared at the end so the pool is idle when it stops."""
    from cnnviz.runs.scheduler import Scheduler

    s = Scheduler(module_sched_db, pool="external")
    yield s
    s.clear()
    s.close()
