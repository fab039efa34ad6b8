"""The scheduler against a real worker pool (processes, the SQLite store): jobs complete and are
stored, identical requests share one computation, ownership is enforced, shared stops detach,
a student's share is capped, the queue is round-robin, failures and deletions are contained,
and an old store is migrated in place."""

from __future__ import annotations

import csv
import io
import sqlite3
import time

import pytest
from conftest import WAIT_S, until

from cnnviz.runs.scheduler import NotYours, RunError, Scheduler
from cnnviz.runs.store import TEACHER, LiveLimit, RunStore

from training_helpers import tiny

A, B, C = "alice" * 4, "bob" * 8, "carol" * 4


@pytest.fixture(scope="module")
def sch(module_scheduler):
    return module_scheduler


def long_cfg(seed: int = 0):
    """A run that lasts until someone stops it (tens of thousands of tiny steps)."""
    return tiny(epochs=1000, seed=seed, log_every=5)


def test_a_job_runs_in_a_worker_process_and_is_stored(sch):
    t = sch.submit("train", tiny(seed=11).to_dict(), A)
    assert not t.attached
    info = sch.wait(t.run_id, WAIT_S)
    assert info.status == "completed", info.message
    assert info.worker.split(":")[1].isdigit() and int(info.worker.split(":")[1]) != __import__("os").getpid()
    assert info.progress == 1.0 and info.summary["test_acc"] is not None
    kinds = [e.kind for e in sch.events(t.run_id)]
    assert kinds[0] == "start" and kinds[-1] == "end" and "step" in kinds
    assert sch.weights.exists(t.run_id)  # the trained weights are kept for the run
    rows = list(csv.DictReader(io.StringIO(sch.csv(t.run_id))))
    assert rows and {"step", "loss"} <= set(rows[0])
    assert [r.id for r in sch.runs(student=A)] == [t.run_id]
    assert sch.runs(student=B) == []  # nobody else's list


def test_identical_requests_share_one_computation(sch):
    cfg = tiny(seed=12, epochs=3)
    tickets = [sch.submit("train", cfg.to_dict(), s) for s in (A, B, C)]
    assert len({t.run_id for t in tickets}) == 1
    assert [t.attached for t in tickets] == [False, True, True]
    info = sch.wait(tickets[0].run_id, WAIT_S)
    assert info.status == "completed"
    assert sorted(sch.watchers(info.id)) == sorted([A, B, C])
    assert sum(1 for e in sch.events(info.id) if e.kind == "start") == 1  # trained once
    late = sch.submit("train", cfg.to_dict(), "dave" * 6)  # a finished identical run opens at once
    assert late.attached and late.run_id == info.id
    other = sch.submit("train", cfg.replace(seed=13).to_dict(), A)  # another seed is another run
    assert other.run_id != info.id
    sch.wait(other.run_id, WAIT_S)


def test_another_students_stop_and_delete_are_refused(sch):
    t = sch.submit("train", long_cfg(21).to_dict(), A)
    until(lambda: sch.get(t.run_id).status == "running", what="running")
    with pytest.raises(NotYours) as err:
        sch.stop(t.run_id, B)
    assert err.value.code == "err.job.not_yours"
    with pytest.raises(NotYours):
        sch.delete(t.run_id, B)
    assert sch.get(t.run_id).status == "running"
    assert sch.stop(t.run_id, TEACHER, teacher=True) == "stopped"  # the teacher may
    info = sch.wait(t.run_id, WAIT_S)
    assert info.status == "stopped"


def test_a_shared_runs_stop_detaches_until_the_last_watcher(sch):
    cfg = long_cfg(22)
    a = sch.submit("train", cfg.to_dict(), A)
    b = sch.submit("train", cfg.to_dict(), B)
    assert b.run_id == a.run_id
    until(lambda: sch.get(a.run_id).status == "running", what="running")
    assert sch.stop(a.run_id, A) == "left"
    time.sleep(0.3)
    assert sch.get(a.run_id).status == "running"  # it goes on for B
    assert sch.watchers(a.run_id) == [B]
    step = sch.get(a.run_id).summary.get("step", 0)
    assert sch.stop(a.run_id, B) == "stopped"
    t0 = time.monotonic()
    info = sch.wait(a.run_id, WAIT_S)
    assert info.status == "stopped" and time.monotonic() - t0 < 5
    assert info.summary["step"] >= step


def test_one_live_run_per_student(sch):
    a = sch.submit("train", long_cfg(31).to_dict(), C)
    with pytest.raises(LiveLimit) as err:
        sch.submit("train", long_cfg(32).to_dict(), C)
    assert err.value.code == "train.runs.limit" and a.run_id in str(err.value)
    sch.stop(a.run_id, C)
    sch.wait(a.run_id, WAIT_S)
    b = sch.submit("train", tiny(seed=33).to_dict(), C)  # the share is free again
    assert sch.wait(b.run_id, WAIT_S).status == "completed"


def test_a_run_deleted_while_running_stops_and_leaves_nothing(sch):
    t = sch.submit("train", long_cfg(41).to_dict(), A)
    until(lambda: sch.get(t.run_id).status == "running", what="running")
    assert sch.delete(t.run_id, A) == "deleted"
    with pytest.raises(RunError):
        sch.get(t.run_id)
    time.sleep(1.0)  # the worker notices within a step; it must not write events for a deleted run
    assert sch.store.count_events(t.run_id) == 0
    assert not sch.weights.exists(t.run_id)
    nxt = sch.submit("train", tiny(seed=42).to_dict(), A)  # and the worker is free for the next job
    assert sch.wait(nxt.run_id, WAIT_S).status == "completed"


def test_a_diverging_run_and_a_broken_job_end_with_their_reason(sch):
    t = sch.submit("train", tiny(lr=1e6, seed=51).to_dict(), B)
    info = sch.wait(t.run_id, WAIT_S)
    assert info.status == "diverged"
    # a job no worker can run (a kind nobody registered): failed with a message, the pool carries on
    sch.store.create("badjob000001", "x", "x", {"a": 1}, B, kind="no-such-kind")
    until(lambda: sch.get("badjob000001").status == "failed", what="failed")
    assert "no-such-kind" in sch.get("badjob000001").text("en")
    ok = sch.submit("train", tiny(seed=52).to_dict(), B)
    assert sch.wait(ok.run_id, WAIT_S).status == "completed"


def test_unknown_and_crafted_run_ids(sch):
    for rid in ("000000000000", "../etc/passwd", "", "x' OR 1=1 --"):
        with pytest.raises(RunError):
            sch.get(rid)
        assert not sch.exists(rid)


def test_the_queue_is_round_robin_across_students(tmp_path):
    # no pool: the queue only fills; claims (what a worker does) take it in round-robin order
    s = Scheduler(tmp_path / "q.sqlite", pool="none", max_live=3)
    try:
        order = [(A, 1), (A, 2), (A, 3), (B, 4), (C, 5)]
        ids = {}
        for who, seed in order:
            ids[s.submit("train", tiny(seed=seed).to_dict(), who).run_id] = who
            time.sleep(0.01)
        assert [p.position for p in sorted(s.places().values(), key=lambda p: p.position)] == [1, 2, 3, 4, 5]
        claimed = []
        for _ in range(5):
            info = s.store.claim("test:1")
            claimed.append(ids[info.id])
            s.store.append(info.id, 0, [], status="completed")
        assert claimed == [A, B, C, A, A]
        assert s.store.claim("test:1") is None
    finally:
        s.close()


def test_places_and_etas_follow_the_queue(tmp_path):
    s = Scheduler(tmp_path / "p.sqlite", pool="none", max_live=5)
    try:
        rids = [s.submit("train", tiny(seed=i).to_dict(), f"student{i:02d}xxxxxxxx").run_id for i in range(4)]
        places = s.places()
        assert [places[r].position for r in rids] == [1, 2, 3, 4]
        ends = [places[r].end_s for r in rids]
        assert ends == sorted(ends) and all(e > 0 for e in ends)
        assert places[rids[1]].start_s >= places[rids[0]].start_s
    finally:
        s.close()


def test_a_schema_1_store_is_migrated_in_place(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, started REAL, ended REAL, status TEXT NOT NULL,
            arch TEXT NOT NULL, label TEXT NOT NULL, config TEXT NOT NULL, device TEXT NOT NULL DEFAULT '',
            owner TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '{}',
            progress REAL NOT NULL DEFAULT 0, summary TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL,
            data TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
        INSERT INTO runs (id, created, status, arch, label, config)
            VALUES ('abc123', 1.0, 'completed', 'lenet', 'old', '{}');
        PRAGMA user_version=1;
    """)
    con.commit()
    con.close()
    store = RunStore(db)
    try:
        info = store.get("abc123")
        assert info.status == "completed" and info.kind == "train" and info.key == ""
        assert store.queue() == []
    finally:
        store.close()


@pytest.mark.slow  # a fresh interpreter
def test_without_a_ray_address_nothing_imports_ray():
    """Ray is optional: the scheduler, the pool, the CLI and the app's scheduler glue never import it
    unless a Ray address (or --backend ray) asks for it."""
    import subprocess
    import sys

    code = ("import sys, cnnviz.runs.scheduler, cnnviz.runs.pool, cnnviz.runs.worker, cnnviz.cli, cnnviz.cli.pool, "
            "cnnviz.cli.train, ui.sched; print('ray' in sys.modules)")
    env = {k: v for k, v in __import__("os").environ.items() if k != "CNNVIZ_RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
