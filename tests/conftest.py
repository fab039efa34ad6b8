"""Shared test set-up.

Datasets: tests read the small real Fashion-MNIST/MNIST stand-ins through the product's own
setting, ``CNNVIZ_DATA_DIR`` (``cnnviz.train.data.data_dir()``). Where it is unset and
``../shared/data`` sits beside this checkout, it defaults to that folder; the product never
names that path. A test that needs the real images asks ``need_data()`` (or the ``shared_data``
fixture): skipped on a workstation without them, failed under ``CI=true``, where missing data
is a broken set-up. Optional packages likewise: ``need("nbclient")`` inside the tests that use
them, so the others still run.

Anything a test writes goes to tmp paths: ``CNNVIZ_DB`` (the run store) is set to a temporary
file of this process (each pytest-xdist worker has its own) for the whole session, subprocesses
included; artifacts go to the git-ignored ``artifacts/``.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import pathlib
import shutil
import tempfile

# Before torch loads its OpenMP runtime (and inherited by every pool, server and CLI the tests start):
# idle OpenMP threads sleep instead of spinning. On a machine whose cores are shared (the xdist
# workers, the pools' workers, a neighbour's jobs) spinning threads burn the CPU the others wait
# for: a 2-thread LeNet run measured 28 s of CPU spinning, 6.6 s passive, for the same numbers.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Tests run long jobs on purpose (to stop, share or kill them mid-run): a student's time limit
# (cnnviz.runs.admission) would refuse them. The admission tests set their own limit.
os.environ.setdefault("CNNVIZ_STUDENT_MAX_S", "86400")

import pytest  # noqa: E402
import torch  # noqa: E402

from cnnviz.jobs import KINDS

ROOT = pathlib.Path(__file__).resolve().parents[1]
_BESIDE = ROOT.parent / "shared" / "data"  # the default where CNNVIZ_DATA_DIR is unset

if not os.environ.get("CNNVIZ_DATA_DIR") and _BESIDE.is_dir():
    os.environ["CNNVIZ_DATA_DIR"] = str(_BESIDE)

from cnnviz.train.data import data_dir  # noqa: E402  (after the default above: it reads the setting)

SHARED_DATA = data_dir()  # the real images' folder, as the product finds it
# what the tests read: Fashion-MNIST's IDX files, both splits
NEEDED_FILES = tuple(f"FashionMNIST/raw/{split}-{kind}" for split in ("train", "t10k")
                     for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))

# The run store defaults to <data dir>/cnnviz-runs.sqlite: never let a test (or the app
# servers the browser tests start, which inherit this environment) write into shared data.
# One store per process: each xdist worker imports this file itself, and overrides what the
# controller's environment passed down.
_RUN_STORE = tempfile.mkdtemp(prefix=f"cnnviz-test-runs-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
os.environ["CNNVIZ_DB"] = os.path.join(_RUN_STORE, "runs.sqlite")
atexit.register(shutil.rmtree, _RUN_STORE, ignore_errors=True)

# in-process training: two threads, or the cores shared out among the xdist workers
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
torch.set_num_threads(max(1, min(2, (os.cpu_count() or 1) // _WORKERS)))
JOB_KINDS = tuple(KINDS)  # every test process knows every job kind, as the app's and the CLI's do

# Every wait in the suite is a deadline on a condition, never a fixed sleep, and a generous one:
# a neighbour keeping the cores busy (or the other xdist worker) must not fail a healthy test;
# a broken one still fails, after this long, naming what it waited for.
WAIT_S = 180.0
WAIT_MS = int(WAIT_S * 1000)  # the same, for Playwright (default timeouts and expect())


def in_ci() -> bool:
    """``$CI`` set (CI=true): a missing browser, dataset or package fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what} (CI=true: a broken set-up, not a reason to skip)", pytrace=False)
    pytest.skip(what, allow_module_level=True)  # at a module's top, it skips the module


def need_data() -> pathlib.Path:
    """The real images' folder (``CNNVIZ_DATA_DIR``); a skip where it lacks them, a failure in CI."""
    missing = [f for f in NEEDED_FILES if not (SHARED_DATA / f).is_file()]
    if missing:
        _missing(f"the real Fashion-MNIST is not in the data folder {SHARED_DATA} (missing {', '.join(missing)}): "
                 f"set CNNVIZ_DATA_DIR to a folder holding it (default: {_BESIDE}, when present)")
    return SHARED_DATA


def need(module: str, hint: str = "pip install -r requirements-dev.txt", load: bool = True):
    """``import module`` for the test that needs it (``load=False``: only check that it is installed,
    for tests whose subprocesses import it); a skip where it is missing, a failure in CI."""
    try:
        if not load:
            if importlib.util.find_spec(module) is None:
                raise ImportError(f"no module named {module!r}")
            return None
        return importlib.import_module(module)
    except ImportError as err:
        _missing(f"{module} is not installed ({err}): {hint}")


@pytest.fixture
def shared_data() -> pathlib.Path:
    """The real images' folder (the ``CNNVIZ_DATA_DIR`` setting): see ``need_data``."""
    return need_data()


# --- the scheduler's worker pool -------------------------------------------------------------
def start_pool(db: pathlib.Path | str, workers: int = 1, threads: int = 1, env: dict | None = None,
               calibrated: bool = True):
    """A real worker pool (``python -m cnnviz pool``) serving ``db``, as the classroom runs one;
    ``env`` adds to (or, with None values, removes from) this process's environment.
    ``calibrated``: the store gets a calibration of this machine first (``testkit.calibration``),
    so the pool queues no "calibrate" job of its own (most of a minute of one worker)."""
    import subprocess
    import sys

    if calibrated:
        from testkit.calibration import seed

        seed(db, threads=threads, workers=workers)

    log = open(str(db) + ".pool.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--workers", str(workers),
                             "--threads", str(threads), "--exit-with-parent"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_env(env))
    log.close()
    return proc


def calibrated_store(folder: pathlib.Path | str) -> pathlib.Path:
    """A fresh run store in ``folder`` holding a calibration of this machine for the default pool
    plan (``testkit.calibration``), for an app server or a classroom whose own pool would otherwise
    queue the measurement first: most of a minute of one of its two workers, on a 2-core machine
    shared with the suite's other worker. Its path (``CNNVIZ_DB``). The calibration itself, and a
    pool on a store without one, are tested in tests/test_admission.py."""
    from testkit.calibration import seed

    db = pathlib.Path(folder) / "runs.sqlite"
    seed(db)
    return db


def _env(extra: dict | None) -> dict:
    env = dict(os.environ)
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def wait_pool(db: pathlib.Path | str, timeout: float = WAIT_S) -> None:
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


def stop_pool(proc, timeout: float = 30.0) -> None:
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
def page_store(tmp_path, monkeypatch) -> pathlib.Path:
    """A fresh run store and no pool, for page tests that only read and write the store's rows:
    ``CNNVIZ_DB`` points at it, the pages' scheduler starts no pool (``CNNVIZ_POOL=none``: nothing
    claims a job, rows stay as written), and the process's cached scheduler and key guard are
    dropped before and after (``ui.sched.forget_store``). Its path."""
    from ui import sched

    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    monkeypatch.setenv("CNNVIZ_POOL", "none")
    sched.forget_store()
    yield db
    sched.forget_store()


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


def until(cond, timeout: float = WAIT_S, what: str = "condition", step: float = 0.05):
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


# --- marks and pytest-xdist -----------------------------------------------------------------------
# `make test` runs the suite in pytest-xdist workers with `--dist loadgroup`: a group's tests go
# to one worker, in file order. A test's group is its ``xdist_group`` mark, else, when it uses a
# module- or class-scoped fixture (a server, a pool, a trained run, the classroom), its module:
# that fixture is then built once, and a module whose tests build on each other (the classroom's)
# keeps its order. Every other test is scheduled on its own.
#
# xdist 3.8 marks a group by renaming the item (``item._nodeid``), which pytest 9 no longer reads,
# so its own loadgroup silently groups nothing here. Instead the first worker writes each test's
# group, and each group's expected cost, to GROUPS_FILE after collecting, and the controller's
# scheduler (below) reads it.
#
# The order groups are dealt in decides the suite's wall time on two cores: a long chain (the Ray
# module, the browser tour, the classroom) started last runs alone while the other worker idles.
# xdist's scope scheduler deals the groups with the MOST TESTS first (``--loadscope-reorder``, its
# default), which put the single-test GPU dry run (a minute) and the 5-test Ray module behind
# every 6-test module. Here the groups are dealt longest first (LPT): a test's expected cost is
# its duration in the last full run on this checkout (DURATIONS_FILE, written by the controller),
# else its module's figure in EXPECTED_S (measured, split over the module's heavy tests), else
# a guess from its marks (HEAVY_GUESS_S).
POOL_FIXTURES = {"sched_db", "module_sched_db", "module_scheduler"}  # a real worker pool: seconds to start
HEAVY = ("slow", "browser", "cluster")
# seconds of a module's slow/browser/cluster tests together (`-n 0 --durations`, this 2-core machine
# at load 2-9 from other work, 2026-12-08; setup and teardown included): only their ratios matter,
# for the order above. Update them when a module's cost changes much (or let DURATIONS_FILE do it).
EXPECTED_S = {
    "tests/test_classroom.py": 180.0, "tests/test_e2e_browser.py": 115.0, "tests/test_ray.py": 75.0,
    "tests/test_gpu_check.py": 70.0, "tests/test_wsclient.py": 45.0, "tests/test_measured.py": 25.0,
    "tests/test_export.py": 25.0,
}
# a test of another module: a browser or cluster test ~15 s; a slow one ~1.5 s (a rough mean: the
# ~200 slow tests outside EXPECTED_S share module fixtures); else a fast one
HEAVY_GUESS_S = {"browser": 15.0, "cluster": 15.0, "slow": 1.5}
FAST_GUESS_S = 0.05
DURATIONS_FILE = ROOT / "artifacts" / "test-durations.json"  # nodeid → seconds (setup + call + teardown)
_GROUPS_ENV = "CNNVIZ_TEST_XDIST_GROUPS"
if not os.environ.get("PYTEST_XDIST_WORKER"):  # the controller (or a run without xdist): its workers inherit it
    os.environ[_GROUPS_ENV] = os.path.join(_RUN_STORE, "xdist-groups.json")


def _group(item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs if info is not None else {}
    if any(d and d[-1].scope in ("class", "module", "package") for d in defs.values()):
        return item.module.__name__
    return None


def _costs(items, heavy_of) -> dict[str, float]:
    """nodeid → expected seconds (see the comment above ``EXPECTED_S``)."""
    import json

    try:
        recorded = json.loads(DURATIONS_FILE.read_text())
    except (OSError, ValueError):
        recorded = {}
    per_module: dict[str, int] = {}
    for item in items:
        if heavy_of(item):
            path = item.nodeid.split("::")[0]
            per_module[path] = per_module.get(path, 0) + 1
    costs = {}
    for item in items:
        path, marks = item.nodeid.split("::")[0], heavy_of(item)
        if isinstance(recorded.get(item.nodeid), (int, float)):
            costs[item.nodeid] = float(recorded[item.nodeid])
        elif marks and path in EXPECTED_S:
            costs[item.nodeid] = EXPECTED_S[path] / per_module[path]
        else:
            costs[item.nodeid] = max((HEAVY_GUESS_S[m] for m in marks), default=FAST_GUESS_S)
    return costs


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the marks added here
def pytest_collection_modifyitems(config, items):
    """A test that uses a real worker pool (``POOL_FIXTURES``), or one of the fixtures its module
    names in ``SLOW_FIXTURES`` (a real training run, subprocesses), is ``slow``. In an xdist worker:
    the heavy groups and tests first (each group keeps its order), and the groups and their
    expected costs to GROUPS_FILE."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        slow = POOL_FIXTURES | set(getattr(item.module, "SLOW_FIXTURES", ()))
        if info is not None and slow & set(info.name2fixturedefs):
            item.add_marker(pytest.mark.slow)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    groups = {item.nodeid: _group(item) for item in items}
    heavy = {groups[item.nodeid] or item.nodeid for item in items
             if any(item.get_closest_marker(m) for m in HEAVY)}
    items.sort(key=lambda item: (groups[item.nodeid] or item.nodeid) not in heavy)  # stable: file order kept
    if worker == "gw0":  # every worker collects the same tests (xdist checks): one writes them
        import json

        cost: dict[str, float] = {}
        for nodeid, c in _costs(items, lambda item: [m for m in HEAVY if item.get_closest_marker(m)]).items():
            scope = groups[nodeid] or nodeid
            cost[scope] = cost.get(scope, 0.0) + c
        path = os.environ[_GROUPS_ENV]
        with open(path + ".tmp", "w") as f:
            json.dump({"groups": {k: v for k, v in groups.items() if v}, "cost": cost}, f)
        os.replace(path + ".tmp", path)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: xdist's scope scheduler, with a test's scope its group (GROUPS_FILE)
    or itself, and the scopes dealt longest first (their expected cost in GROUPS_FILE)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        _groups: dict[str, str] | None = None
        _cost: dict[str, float] = {}
        _ordered = False

        def _load(self) -> None:
            if self._groups is None:  # first called once every worker has collected (and gw0 has written)
                import json

                with open(os.environ[_GROUPS_ENV]) as f:
                    data = json.load(f)
                self._groups, self._cost = data["groups"], data["cost"]

        def _split_scope(self, nodeid: str) -> str:
            self._load()
            return self._groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self._ordered:  # the first assignment: the whole queue is built; longest first
                self._ordered = True
                self._load()
                queue = sorted(self.workqueue.items(), key=lambda kv: -self._cost.get(kv[0], FAST_GUESS_S))
                self.workqueue.clear()
                self.workqueue.update(queue)
            super()._assign_work_unit(node)

    return GroupScheduling(config, log)


_durations: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
    """The controller (and a run without xdist) adds up each test's setup, call and teardown."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus) -> None:
    """After an xdist run (the controller), its tests' durations go to DURATIONS_FILE for the next
    run's order (a partial run, ``-k``/``-m``/some files, keeps the file's other entries)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not _durations:
        return
    if not session.config.getoption("numprocesses", None):  # one process: its times are not the workers'
        return
    import json

    try:
        old = json.loads(DURATIONS_FILE.read_text())
    except (OSError, ValueError):
        old = {}
    old.update({k: round(v, 3) for k, v in _durations.items()})
    DURATIONS_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = DURATIONS_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(old, indent=0, sort_keys=True))
    os.replace(tmp, DURATIONS_FILE)
