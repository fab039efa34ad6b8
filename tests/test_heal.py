"""A pool that heals itself and goes when its app goes; a store that is busy or broken; a run
that a dead pool cut off, restarted (issue 20, part 4).

Fast (no pool, AppTest on a store with no pool, fakes for the spawn):

* ``busy.retry`` retries only "database is locked/busy", within its bound, saying so in the log;
* ``Scheduler.heal`` looks at the heartbeat at most every ``HEAL_EVERY_S`` and starts a pool only
  when it is stale (never a spawn while it beats; never in modes "external" and "none");
* a store overwritten with garbage after the app opened it: the training page (with a run in its
  polling fragment), the board, the teacher's page and the lab pages each show the store's one
  message in the reader's language, no exception; the explorer, which needs no store, still works;
  once the file is mended, the board works again without a restart;
* ``Scheduler.restart``: by the owner (a new queued run, same config, same watchers, the old one
  readable and unchanged), by the teacher (on the owner's behalf, their limit), never by another
  student (``NotYours``) nor of a run that was not cut off; the Restart button on the training
  page (AppTest click).

Slow (real processes, ``slow``):

* the pool killed with SIGKILL, its heartbeat stale: a page view (AppTest of the board) starts a
  new one and a job queued meanwhile completes, nobody pressing Start;
* a pool spawned by a process that exits at once (before the pool finished importing) exits by
  itself;
* another process holds the store's write lock (``BEGIN EXCLUSIVE``) longer than SQLite's wait
  while a job runs: the supervisor lives on (same pid, beating again), the job completes, and the
  log says the store was busy (both in the supervisor and in the worker).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import types

import pytest
from conftest import ROOT, WAIT_S, stop_pool, until, wait_pool
from streamlit.testing.v1 import AppTest

from cnnviz.runs import busy
from cnnviz.runs import scheduler as scheduler_mod
from cnnviz.runs.pool import pool_running
from cnnviz.runs.scheduler import NotYours, RunError, Scheduler
from cnnviz.runs.store import TEACHER, LiveLimit, RunStore
from cnnviz.status import Status
from testkit.calibration import seed
from testkit.procs import alive

from training_helpers import tiny

TIMEOUT = 120
TOKEN = "heal-test-token-owner-000001"  # a browser's cookie token (22+ URL-safe characters)
ME = hashlib.sha256(TOKEN.encode()).hexdigest()[:24]  # the student id ui.sched.student() derives from it
OTHER = "heal0ther0000000000000"
THIRD = "heal7hird0000000000000"


# --- busy.retry --------------------------------------------------------------------------------------
def test_retry_waits_out_a_busy_store_and_says_so(caplog, monkeypatch):
    monkeypatch.setattr(busy, "FIRST_PAUSE_S", 0.001)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "written"

    with caplog.at_level(logging.WARNING, logger="cnnviz.runs.busy"):
        assert busy.retry("a test write", flaky) == "written"
    assert len(calls) == 3
    said = [r.getMessage() for r in caplog.records]
    assert sum("busy during a test write" in m for m in said) == 2, said


def test_retry_gives_up_past_its_bound_and_never_retries_a_broken_store(monkeypatch):
    monkeypatch.setattr(busy, "FIRST_PAUSE_S", 0.01)
    calls = []

    def locked():
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    t0 = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        busy.retry("a write", locked, bound_s=0.2)
    assert 1 < len(calls) < 20 and time.monotonic() - t0 < 2.0

    calls.clear()

    def broken():
        calls.append(1)
        raise sqlite3.DatabaseError("file is not a database")

    with pytest.raises(sqlite3.DatabaseError):
        busy.retry("a write", broken)
    assert len(calls) == 1  # waiting would not mend it


def test_is_busy_sees_the_cause_of_a_store_error(tmp_path):
    from cnnviz.runs.store import StoreError

    try:
        raise StoreError("train.runs.store_error", error="x") from sqlite3.OperationalError("database is locked")
    except StoreError as err:
        assert busy.is_busy(err)
    assert not busy.is_busy(sqlite3.OperationalError("no such table: runs"))
    assert not busy.is_busy(ValueError("locked"))


# --- heal: cheap, and only when the heartbeat is stale ----------------------------------------------
class _FakeProc:
    """What ``spawn_pool`` returns, for a test that must not start a process."""

    def __init__(self):
        self.pid = 999_999_999

    def poll(self):
        return 0  # exited: a later heal may spawn again


def test_heal_spawns_only_for_a_stale_heartbeat_and_at_most_every_two_seconds(tmp_path, monkeypatch):
    spawned = []
    monkeypatch.setattr(scheduler_mod, "spawn_pool", lambda *a, **k: spawned.append(a) or _FakeProc())
    clock = [1000.0]
    # the scheduler's clock only (time.monotonic itself is everyone's)
    monkeypatch.setattr(scheduler_mod, "time", types.SimpleNamespace(monotonic=lambda: clock[0], time=time.time,
                                                                      sleep=time.sleep))
    db = tmp_path / "runs.sqlite"
    sch = Scheduler(db, pool="auto")
    try:
        assert len(spawned) == 1  # no pool at all: the scheduler's start spawned one
        store = sch.store
        store.pool_beat("here", 4242, time.time(), 1, 1)  # a live pool beats
        clock[0] += 10
        assert sch.heal() is True and len(spawned) == 1  # alive: no spawn
        reads = []
        real_pool = store.pool
        monkeypatch.setattr(store, "pool", lambda: reads.append(1) or real_pool())
        for _ in range(50):  # fifty page views within the same two seconds: no look at all
            clock[0] += 0.01
            assert sch.heal() is None
        assert reads == []
        with store.write() as conn:  # its heartbeat is a minute old: the pool was killed
            conn.execute("UPDATE pool SET heartbeat=?", (time.time() - 60,))
        clock[0] += scheduler_mod.HEAL_EVERY_S
        assert sch.heal() is True and len(spawned) == 2 and len(reads) == 1
        clock[0] += 0.5
        assert sch.heal() is None and len(spawned) == 2  # within the interval: nothing
        for mode in ("external", "none"):  # the launcher's pool, or none: a page never starts one
            sch.pool_mode = mode
            clock[0] += 10
            assert sch.heal() is None and len(spawned) == 2
    finally:
        sch.close()


def test_heal_leaves_a_broken_store_to_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(scheduler_mod, "spawn_pool", lambda *a, **k: _FakeProc())
    sch = Scheduler(tmp_path / "runs.sqlite", pool="auto")
    try:
        sch._healed = -1e9

        def broken():
            raise sqlite3.DatabaseError("file is not a database")

        monkeypatch.setattr(sch.store, "pool", broken)
        assert sch.heal() is False  # logged, not raised: the page's own reads say it
    finally:
        sch.close()


# --- a store broken after the app opened it -----------------------------------------------------------
@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A store for the app's scheduler, and no pool (its jobs stay queued)."""
    from ui import sched

    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    monkeypatch.setenv("CNNVIZ_POOL", "none")
    for name in ("CNNVIZ_JOIN_CODE", "CNNVIZ_MAX_NEW_IDS", "CNNVIZ_MAX_LIVE"):
        monkeypatch.delenv(name, raising=False)
    sched.forget_store()
    yield db
    sched.forget_store()


def open_app(page: str, lang: str = "en", teacher: bool = True, **query: str) -> AppTest:
    """``app.py`` on ``pages/<page>.py``, as this test's student (``teacher``: unlocked as the teacher)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["_student_token"] = TOKEN
    if teacher:
        at.session_state["_teacher"] = True  # as after the key (ui.sched.TEACHER_KEY)
    at.query_params["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"pages/{page}.py")
    return at.run()


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info",
                                              "subheader", "title")
                    for e in at.get(kind))


def garble(db: pathlib.Path) -> None:
    """Overwrite the store and its journal files with garbage, in place (the open connections see it)."""
    for suffix in ("", "-wal", "-shm"):
        path = pathlib.Path(str(db) + suffix)
        if path.exists():
            n = max(path.stat().st_size, 4096)
            path.write_bytes((b"not a database! " * (n // 16 + 1))[:n])


BROKEN = {"en": "the run store cannot be opened", "zh": "无法打开训练记录库"}  # train.runs.store_error
STORE_PAGES = ("training", "board", "teacher", "gradflow", "batchnorm", "featuremaps")
QUERY = {"featuremaps": {"weights": "run"}}  # its default view (untrained weights) needs no store


def test_a_store_broken_after_it_was_opened_is_one_message_on_every_page_that_needs_it(app_db):
    sch = Scheduler(app_db, pool="none")
    rid = sch.submit("train", tiny().to_dict(), ME).run_id  # queued: the training page polls it in a fragment
    sch.close()
    QUERY["training"] = {"run": rid}
    sessions = {p: open_app(p, **QUERY.get(p, {})) for p in STORE_PAGES}
    sessions["board.zh"] = open_app("board", lang="zh")
    explorer = open_app("explorer")
    quiet = open_app("featuremaps")  # untrained weights: the lab works without the store
    for name, at in sessions.items():  # a good store: each page as usual
        assert not at.exception, (name, [e.value for e in at.exception])
        assert BROKEN["en"] not in texts(at) and BROKEN["zh"] not in texts(at), name

    garble(app_db)
    for name, at in sessions.items():
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])  # no Streamlit crash page
        lang = "zh" if name.endswith(".zh") else "en"
        shown = [e.value for e in at.error if BROKEN[lang] in e.value]
        assert len(shown) == 1, (name, [e.value for e in at.error])  # once, in the reader's language
        assert str(app_db) in shown[0]  # it names the file
    explorer.run()
    assert not explorer.exception and not explorer.error, [e.value for e in explorer.exception]
    assert explorer.title and BROKEN["en"] not in texts(explorer)
    quiet.run()
    assert not quiet.exception and BROKEN["en"] not in texts(quiet) and quiet.get("plotly_chart")

    for suffix in ("", "-wal", "-shm"):  # the teacher moves the broken file away: a fresh store
        pathlib.Path(str(app_db) + suffix).unlink(missing_ok=True)
    at = sessions["board"]
    at.run()
    assert not at.exception and BROKEN["en"] not in texts(at), texts(at)
    assert "No runs in the class yet" in texts(at)


# --- restart -------------------------------------------------------------------------------------------
def _cut_off(sch: Scheduler, student: str, watchers: tuple[str, ...] = (), **fields) -> str:
    """A training run of ``student`` (and ``watchers``) that a dead pool left interrupted."""
    rid = sch.submit("train", tiny(**fields).to_dict(), student).run_id
    for w in watchers:
        assert sch.submit("train", tiny(**fields).to_dict(), w).run_id == rid  # attached
    assert sch.store.claim("gone:1") is not None
    assert sch.store.interrupt_running({"en": "interrupted", "zh": "中断"}) == [rid]
    return rid


def test_the_owner_restarts_an_interrupted_run_for_its_watchers(tmp_path):
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    try:
        old = _cut_off(sch, ME, watchers=(OTHER,), seed=11)
        second = _cut_off(sch, ME, seed=12)
        before = sch.get(old)
        t = sch.restart(old, ME)
        assert t.run_id != old and not t.attached
        new = sch.get(t.run_id)
        assert new.status == Status.QUEUED and new.kind == "train" and new.owner == ME
        assert dict(new.config) == dict(before.config) and new.label == before.label
        assert sch.watchers(t.run_id) == [ME, OTHER]  # the same watchers, the owner first
        assert sch.get(old) == before  # the old one stays as it was, readable
        assert sch.restart(old, OTHER).run_id == t.run_id  # the other watcher's click joins it: one job
        with pytest.raises(LiveLimit):  # one live run each: a second restart is over the owner's share
            sch.restart(second, ME)
    finally:
        sch.close()


def test_another_student_cannot_restart_and_only_cut_off_runs_restart(tmp_path):
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    try:
        old = _cut_off(sch, ME, seed=21)
        with pytest.raises(NotYours):
            sch.restart(old, THIRD)
        assert [r.id for r in sch.runs(None)] == [old]  # nothing was queued
        queued = sch.submit("train", tiny(seed=22).to_dict(), OTHER).run_id
        with pytest.raises(RunError) as info:  # queued: not cut off
            sch.restart(queued, OTHER)
        assert info.value.code == "sched.restart.no" and queued in str(info.value)
        sch.store.claim("w:1")
        sch.store.end_worker_jobs("w:1", Status.FAILED, "train.runs.worker_died", {"en": "died"})
        assert sch.get(queued).status == Status.FAILED
        assert sch.restart(queued, OTHER).run_id != queued  # its worker died under it: restartable
    finally:
        sch.close()


def test_the_teacher_restarts_on_the_owners_behalf(tmp_path):
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    try:
        old = _cut_off(sch, ME, watchers=(OTHER,), seed=31)
        again = _cut_off(sch, OTHER, seed=32)
        t = sch.restart(old, TEACHER, teacher=True)
        new = sch.get(t.run_id)
        assert new.status == Status.QUEUED and new.owner == ME and sch.watchers(t.run_id) == [ME, OTHER]
        with pytest.raises(LiveLimit):  # OTHER already watches the first restart: their one live run
            sch.restart(again, TEACHER, teacher=True)
        sch.stop(t.run_id, TEACHER, teacher=True)
        assert sch.get(sch.restart(again, TEACHER, teacher=True).run_id).owner == OTHER
    finally:
        sch.close()


def test_the_restart_button_on_the_training_page(app_db):
    sch = Scheduler(app_db, pool="none")
    try:
        old = _cut_off(sch, ME, seed=41)
        other = _cut_off(sch, OTHER, seed=42)
        at = open_app("training", teacher=False, run=other)
        assert not at.exception and not [b for b in at.button if b.key == "tr.restart"]  # not theirs: no button
        assert [b for b in open_app("training", run=other).button if b.key == "tr.restart"]  # the teacher's: one
        at = open_app("training", teacher=False, run=old)
        assert not at.exception, [e.value for e in at.exception]
        at.button(key="tr.restart").click().run()
        assert not at.exception, [e.value for e in at.exception]
        new = at.query_params["run"]
        new = new[0] if isinstance(new, list) else new
        assert new != old and sch.get(new).status == Status.QUEUED and sch.watchers(new) == [ME]
        assert dict(sch.get(new).config) == dict(sch.get(old).config)
        assert not [b for b in at.button if b.key == "tr.restart"]  # the new run is queued: no Restart
    finally:
        sch.close()


# --- real processes ---------------------------------------------------------------------------------------
def _procs_with(text: str) -> list[int]:
    """Live processes whose command line mentions ``text`` (a test's own store path: only its processes)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = pathlib.Path(f"/proc/{name}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in argv and alive(int(name)):
            out.append(int(name))
    return out


@pytest.mark.slow  # real pool processes
def test_a_killed_pool_is_started_again_by_a_page_view(tmp_path, monkeypatch):
    from ui import sched

    db = tmp_path / "runs.sqlite"
    seed(db, threads=1, workers=1)  # the app's pools queue no calibration: its one worker runs the job at once
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    monkeypatch.setenv("CNNVIZ_POOL", "auto")  # as `streamlit run app.py` alone: the app starts its pool
    monkeypatch.setenv("CNNVIZ_WORKERS", "1")
    monkeypatch.setenv("CNNVIZ_WORKER_THREADS", "1")
    sched.forget_store()
    store = RunStore(db)
    replica = Scheduler(db, pool="none")  # another replica's scheduler: it never starts a pool
    try:
        board = AppTest.from_file(str(ROOT / "pages" / "board.py"), default_timeout=TIMEOUT)
        board.session_state["_student_token"] = TOKEN
        board.run()
        assert not board.exception, [e.value for e in board.exception]
        first = until(lambda: (p := store.pool()) is not None and p.alive() and p.pid, WAIT_S, "the app's pool")
        os.kill(first, signal.SIGKILL)  # by its pid only
        until(lambda: not store.pool().alive(), WAIT_S, "the killed pool's heartbeat to go stale")
        rid = replica.submit("train", tiny(seed=51).to_dict(), OTHER).run_id
        assert replica.get(rid).status == Status.QUEUED and not pool_running(db)  # nobody serves it

        board.run()  # a page view, nobody pressing Start
        assert not board.exception, [e.value for e in board.exception]
        second = until(lambda: (p := store.pool()) is not None and p.alive() and p.pid != first and p.pid, WAIT_S,
                       "a new pool's heartbeat")
        assert second != first
        assert replica.wait(rid, WAIT_S).status == Status.COMPLETED  # the queue moved by itself
    finally:
        proc = sched.scheduler()._pool_proc
        if proc is not None:
            stop_pool(proc)
        sched.forget_store()
        replica.close()
        store.close()


_SPAWNER = textwrap.dedent("""
    import sys, time
    from cnnviz.runs.pool import spawn_pool
    from cnnviz.runs.store import RunStore
    db, wait = sys.argv[1], sys.argv[2] == "started"
    proc = spawn_pool(db, [sys.executable, "-m", "cnnviz", "pool", "--workers", "1", "--threads", "1"],
                      log_path=db + ".pool.log")
    if wait:  # until the pool beats: then this app goes
        store = RunStore(db)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not ((p := store.pool()) is not None and p.alive()):
            time.sleep(0.1)
    print(proc.pid, flush=True)
""")


@pytest.mark.slow  # real pool processes
@pytest.mark.parametrize("when", ["at_once", "started"])
def test_a_pool_goes_when_the_app_that_started_it_goes(tmp_path, when):
    """``at_once``: the app exits right after the spawn, before the pool has imported anything
    (the check before its imports); ``started``: once the pool beats, with its worker (the check
    in its loop). Either way the pool, and its worker, are gone soon after, by themselves."""
    db = tmp_path / "runs.sqlite"
    out = subprocess.run([sys.executable, "-c", _SPAWNER, str(db), when], cwd=ROOT, capture_output=True, text=True,
                         timeout=WAIT_S)
    assert out.returncode == 0, out.stderr[-2000:]
    pid = int(out.stdout.split()[-1])
    try:
        until(lambda: not alive(pid), 60, f"the pool {pid} of an app that is gone to exit")
        until(lambda: not _procs_with(str(db)), 60, "the pool's workers to exit")
        log = pathlib.Path(str(db) + ".pool.log").read_text()
        assert "is gone: exiting" in log, log[-2000:]
        if when == "started":
            assert RunStore(db).pool() is not None  # it had served
    finally:
        for left in _procs_with(str(db)):  # a failure must not leave them running
            os.kill(left, signal.SIGKILL)


def _job_running(sch: Scheduler, rid: str):
    info = sch.get(rid)
    return info.status == Status.RUNNING and info.summary.get("step") and info


@pytest.mark.slow  # real pool processes
def test_a_store_locked_longer_than_sqlites_wait_kills_neither_the_pool_nor_its_job(tmp_path):
    db = tmp_path / "runs.sqlite"
    seed(db, threads=1, workers=1)  # the pool's one worker goes straight to the job, not to a calibration
    log_path = pathlib.Path(str(db) + ".pool.log")
    sch = Scheduler(db, pool="none")
    with open(log_path, "ab") as log:  # SQLite waits 0.3 s for a lock in the pool and its workers, not 30 s
        pool = subprocess.Popen([sys.executable, str(ROOT / "tests" / "busy_pool.py"), "0.3", "120", "pool", "--db",
                                 str(db), "--workers", "1", "--threads", "1", "--exit-with-parent"], cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    locker = None
    try:
        wait_pool(db)
        rid = sch.submit("train", tiny(seed=61, epochs=30).to_dict(), "student-busy").run_id
        until(lambda: _job_running(sch, rid), WAIT_S, "the job to run")
        locker = sqlite3.connect(str(db), isolation_level=None, timeout=30)
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the store's write lock
        held = time.monotonic()
        # held until both the supervisor (its heartbeat) and the worker (its job's events) have met it
        until(lambda: "heartbeat skipped" in log_path.read_text()
              and f"busy during recording job {rid}" in log_path.read_text(), WAIT_S,
              "the pool and its worker to meet the locked store")
        until(lambda: time.monotonic() - held > 3.0, 10, "a lock held three seconds")  # ten times SQLite's wait
        assert pool.poll() is None  # the supervisor lives
        locker.execute("ROLLBACK")
        info = sch.wait(rid, timeout=WAIT_S)
        assert info.status == Status.COMPLETED, (info.status, info.code, info.text("en"))
        until(lambda: (p := sch.pool_info()) is not None and p.pid == pool.pid and p.alive(), WAIT_S,
              "the same pool beating again")
        text = log_path.read_text()
        assert "Traceback" not in text, text[-3000:]
    finally:
        if locker is not None:
            locker.close()
        stop_pool(pool)
        sch.close()
