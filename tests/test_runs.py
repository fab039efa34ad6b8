"""The run manager and its SQLite store: background runs, queue, Stop, failures, restarts, CSV."""

from __future__ import annotations

import csv
import io
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from cnnviz.runs.manager import RunError, RunManager
from cnnviz.runs.store import RunStore
from cnnviz.train.config import StartEvent, TrainingError
from cnnviz.train.loop import train

from training_helpers import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "runs.sqlite"


@pytest.fixture
def mgr(db):
    m = RunManager(db, slots={"cpu": 1})
    yield m
    m.close()


def slow_engine(delay: float = 0.01, seen: list | None = None):
    """``train`` with a pause per step, so that a test can act while the run is running."""

    def engine(cfg, stop):
        def pause(ctx):
            if seen is not None:
                seen.append(ctx.step)
            time.sleep(delay)

        return train(cfg, stop=stop, callbacks=[pause])

    return engine


def wait_for(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_run_completes_in_the_background_and_is_stored(mgr, db):
    rid = mgr.submit(tiny(max_steps=6, eval_every=3))
    assert threading.current_thread() is threading.main_thread()
    info = mgr.wait(rid, timeout=60)
    assert info.status == "completed" and info.progress == 1.0 and "6 steps" in info.text("en")
    assert info.summary["step"] == 6 and 0 <= info.summary["test_acc"] <= 1
    events = mgr.events(rid)
    assert [e["kind"] for e in events][:2] == ["start", "step"] and events[-1]["kind"] == "end"
    store = RunStore(db)  # a second connection sees the committed rows
    assert store.events(rid) == events and store.get(rid).status == "completed"
    assert store.get(rid).config["arch"] == "lenet" and store.get(rid).ended is not None
    store.close()
    assert [r.id for r in mgr.runs()] == [rid]


def test_csv_export(mgr):
    rid = mgr.submit(tiny(max_steps=4, eval_every=2))
    mgr.wait(rid, timeout=60)
    rows = list(csv.DictReader(io.StringIO(mgr.csv(rid))))
    assert [r["kind"] for r in rows] == ["step", "step", "eval", "step", "step", "epoch"]
    assert "grad:features.0" in rows[0] and float(rows[0]["grad:features.0"]) > 0
    assert float(rows[-1]["test_acc"]) >= 0 and rows[0]["test_acc"] == ""
    assert [int(r["step"]) for r in rows if r["kind"] == "step"] == [1, 2, 3, 4]


def test_stop_takes_effect_within_one_step(db):
    seen: list[int] = []
    m = RunManager(db, slots={"cpu": 1}, engine=slow_engine(0.02, seen))
    try:
        rid = m.submit(tiny(epochs=50))
        wait_for(lambda: len(seen) >= 3)
        m.stop(rid)
        at_stop = len(seen)
        info = m.wait(rid, timeout=30)
        assert info.status == "stopped"
        assert m.events(rid)[-1]["step"] <= at_stop + 1
    finally:
        m.close()


def test_queue_and_cap(db):
    m = RunManager(db, slots={"cpu": 1}, engine=slow_engine(0.02))
    try:
        first, second = m.submit(tiny(epochs=50)), m.submit(tiny(epochs=50))
        wait_for(lambda: m.get(first).status == "running")
        assert m.get(second).status == "queued"  # one run at a time on the CPU
        m.stop(second)
        assert m.get(second).status == "stopped" and "before it started" in m.get(second).text("en")
        third = m.submit(tiny(max_steps=2))
        m.stop(first)
        assert m.wait(third, timeout=60).status == "completed"  # the queue moves on
        assert m.get(first).status == "stopped"
    finally:
        m.close()


def test_an_exception_fails_that_run_and_the_manager_carries_on(db):
    def engine(cfg, stop):
        if cfg.seed == 13:
            raise RuntimeError("engine exploded")
        if cfg.seed == 14:
            def half():
                yield StartEvent(**{**_start_fields(), "time": 0.0})
                raise MemoryError("out of memory halfway")
            return half()
        return train(cfg, stop=stop)

    m = RunManager(db, slots={"cpu": 1}, engine=engine)
    try:
        bad = m.wait(m.submit(tiny(seed=13)), timeout=30)
        assert bad.status == "failed" and "engine exploded" in bad.text("en") and "训练失败" in bad.text("zh")
        half = m.wait(m.submit(tiny(seed=14)), timeout=30)
        assert half.status == "failed" and "out of memory" in half.text("en")
        assert [e["kind"] for e in m.events(half.id)] == ["start"]
        good = m.wait(m.submit(tiny(max_steps=2)), timeout=60)
        assert good.status == "completed"
    finally:
        m.close()


def _start_fields():
    return dict(device="cpu", precision="fp32", channels_last=False, dataset="synthetic", requested_dataset="synthetic",
                data_source="built-in", n_train=1, n_test=1, steps_per_epoch=1, total_steps=1, epochs=1, batch_size=1,
                n_params=1, macs=1, layers=(), time_budget_s=None, notice=None)


def test_diverging_run(mgr):
    info = mgr.wait(mgr.submit(tiny(lr=1e3, epochs=3)), timeout=60)
    assert info.status == "diverged" and "learning rate" in info.text("en")


def test_delete(db):
    m = RunManager(db, slots={"cpu": 1}, engine=slow_engine(0.02))
    try:
        done = m.submit(tiny(max_steps=2))
        m.wait(done, timeout=60)
        m.delete(done)
        with pytest.raises(RunError) as err:
            m.get(done)
        assert done in err.value.render("en")
        running = m.submit(tiny(epochs=50))
        wait_for(lambda: len(m.events(running)) > 2)
        m.delete(running)  # stopped first, then deleted by its worker
        wait_for(lambda: not m.exists(running))
        assert m.runs() == [] and m.live_ids() == []
    finally:
        m.close()


def test_restart_marks_orphans_interrupted_and_keeps_their_metrics(db):
    store = RunStore(db)
    cfg = tiny(max_steps=2)
    host, me = socket.gethostname(), os.getpid()
    dead_pid = 2**22 + 12345  # above the default pid_max of 4,194,304: no such process
    for rid, owner in (("gone", f"{host}:{dead_pid}:x"), ("mine", f"{host}:{me}:closedtoken"),
                       ("elsewhere", f"otherhost:{me}:x")):
        store.create(rid, "lenet", rid, cfg.to_dict(), owner, device="cpu", status="running")
        store.append(rid, 0, [{"kind": "start", "step": 0}, {"kind": "step", "step": 1, "loss": 2.0}])
    store.close()
    m = RunManager(db, slots={"cpu": 1})
    try:
        assert sorted(m.interrupted) == ["gone", "mine"]
        for rid in ("gone", "mine"):
            info = m.get(rid)
            assert (info.status == "interrupted" and "interrupted" in info.text("en")
                    and info.text("zh") != info.text("en"))
            assert [e["kind"] for e in m.events(rid)] == ["start", "step"]
        assert m.get("elsewhere").status == "running"  # another machine's run: not ours to judge
        other = RunManager(db, slots={"cpu": 1})  # a second live manager does not interrupt the first's runs
        other.close()
    finally:
        m.close()


def test_live_runs_of_an_open_manager_are_not_interrupted(db):
    a = RunManager(db, slots={"cpu": 1}, engine=slow_engine(0.02))
    try:
        rid = a.submit(tiny(epochs=50))
        wait_for(lambda: a.get(rid).status == "running")
        b = RunManager(db, slots={"cpu": 1})
        assert rid not in b.interrupted and b.store.get(rid).status == "running"
        b.close()
        a.close()  # a shutting-down server: its runs are interrupted, not "stopped by the user"
        assert RunStore(db).get(rid).status == "interrupted"
    finally:
        a.close()


def test_a_killed_server_leaves_an_interrupted_run_never_a_corrupt_store(db):
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path.insert(0, {ROOT!r}); sys.path.insert(0, {os.path.join(ROOT, 'tests')!r})
        from cnnviz.runs.manager import RunManager
        from training_helpers import tiny
        m = RunManager({str(db)!r}, slots={{"cpu": 1}})
        rid = m.submit(tiny(epochs=200))
        while m.store.count_events(rid) < 5:
            time.sleep(0.01)
        print(rid, flush=True)
        time.sleep(0.3)  # mid-run, mid-flush perhaps
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    rid = proc.stdout.strip()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    m = RunManager(db, slots={"cpu": 1})
    try:
        assert m.interrupted == [rid]
        info = m.get(rid)
        assert info.status == "interrupted"
        events = m.events(rid)
        assert len(events) >= 5 and events[0]["kind"] == "start"
        steps = [e["step"] for e in events if e["kind"] == "step"]
        assert steps == list(range(1, len(steps) + 1))  # every committed event whole, none missing
        assert m.wait(m.submit(tiny(max_steps=2)), timeout=60).status == "completed"  # and the app works on
    finally:
        m.close()


def test_unknown_device_and_run(mgr):
    with pytest.raises(RunError):
        mgr.get("nope")
    if not __import__("torch").cuda.is_available():
        with pytest.raises(TrainingError) as exc:
            mgr.submit(tiny(device="cuda"))
        assert exc.value.code == "train.err.no_device"
        assert mgr.runs() == []
