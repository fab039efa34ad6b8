"""The worker pool as real processes (``python -m cnnviz pool``), no mocks: what a class meets.

* a worker killed with SIGKILL mid-run: its job ends "failed" naming the signal, the pool
  starts a new worker, and the next job completes;
* the pool itself killed (SIGKILL) with its worker frozen, so nobody can record anything:
  the job stays "running" in the store until the next pool starts, which marks it
  "interrupted" (its events kept) and runs what was still queued;
* workers × threads never exceeds the cores: ``plan`` over many inputs, and the real
  processes (the heartbeat row, the workers' ``--threads``);
* round-robin: A's three runs, B's and C's start in the order A, B, C, A, A, in the store's
  claims and end to end through a one-worker pool;
* a stop from a second replica: one process submits as student S, another (a second
  replica, its own ``Scheduler`` on the same store) is refused as student T (``NotYours``)
  and stops the job as S; the job ends "stopped" within a moment, mid-training.

Jobs are tiny (``training_helpers.tiny``: synthetic images, ~4 ms a step); a long one is the
same with hundreds of epochs, stopped or killed long before its end.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest
from conftest import ROOT, WAIT_S, start_pool, stop_pool, until, wait_pool

from cnnviz.runs.pool import plan
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.store import RunStore
from cnnviz.settings import SettingError
from testkit.calibration import seed
from testkit.procs import alive as _alive

from training_helpers import tiny

LONG = dict(epochs=400)  # 8,000 steps: half a minute or more, never reached



def _children(pid: int) -> list[int]:
    """Live (not zombie) children of ``pid``, from /proc."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            out.append(int(name))
    return out




def _argv(pid: int) -> list[str]:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _workers(pool_pid: int, n: int, without: int | None = None) -> list[int]:
    """The pool's ``n`` worker processes (exec'd: a fresh fork still shows the pool's command
    line), once they are all there and none is ``without``."""
    def ready():
        kids = [k for k in _children(pool_pid) if "--worker" in _argv(k)]
        return kids if len(kids) == n and without not in kids else None

    return until(ready, WAIT_S, f"{n} worker(s)")


def _worker_pid(sch: Scheduler, rid: str, timeout: float = WAIT_S) -> int:
    """The pid of the worker running ``rid``, once it has committed some steps."""
    def running():
        info = sch.get(rid)
        return info if info.status == "running" and info.summary.get("step") else None

    info = until(running, timeout, f"{rid} to run")
    return int(info.worker.rsplit(":", 1)[1])


def _wait_own_pool(db: pathlib.Path, pid: int, timeout: float = WAIT_S) -> None:
    """Until the heartbeat row is ``pid``'s (``wait_pool`` would accept a dead pool's fresh beat)."""
    store = RunStore(db)
    try:
        until(lambda: (p := store.pool()) is not None and p.pid == pid and p.alive(), timeout, f"pool {pid}'s beat")
    finally:
        store.close()


@pytest.fixture(scope="module")
def pool2(tmp_path_factory):
    """A store served by a real pool of 2 workers × 1 thread: (store path, pool process)."""
    db = tmp_path_factory.mktemp("pool") / "runs.sqlite"
    proc = start_pool(db, workers=2, threads=1)
    try:
        wait_pool(db)
        _workers(proc.pid, 2)
        yield db, proc
    finally:
        stop_pool(proc)


# --- a killed worker ------------------------------------------------------------------------------
@pytest.mark.slow  # real pool processes
def test_a_killed_worker_fails_its_job_and_is_replaced(pool2):
    db, pool = pool2
    sch = Scheduler(db, pool="none")
    rid = sch.submit("train", tiny(**LONG).to_dict(), "student-kill").run_id
    victim = _worker_pid(sch, rid)
    assert victim in _children(pool.pid)
    os.kill(victim, signal.SIGKILL)

    info = sch.wait(rid, timeout=WAIT_S)
    assert info.status == "failed" and info.code == "train.runs.worker_died"
    assert "SIGKILL" in info.text("en") and "SIGKILL" in info.text("zh")
    assert sch.events(rid)[0].kind == "start"  # what it committed before it died stays readable
    _workers(pool.pid, 2, without=victim)  # replaced

    after = sch.submit("train", tiny(seed=7).to_dict(), "student-kill").run_id  # the failed run is not live
    assert sch.wait(after, timeout=WAIT_S).status == "completed"
    sch.close()


# --- workers × threads ≤ cores --------------------------------------------------------------------
def test_plan_never_exceeds_the_cores(monkeypatch):
    monkeypatch.delenv("CNNVIZ_WORKERS", raising=False)
    monkeypatch.delenv("CNNVIZ_WORKER_THREADS", raising=False)
    asks = [None, 1, 2, 3, 5, 8, 16, 64, 200]
    for cores in (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128):
        for w in asks:
            for t in asks:
                got = plan(w, t, cores)
                assert got[0] >= 1 and got[1] >= 1 and got[0] * got[1] <= cores, (w, t, cores, got)
        assert plan(cores=cores)[0] * plan(cores=cores)[1] == cores  # the default uses every core
    for env_w, env_t in (("8", "8"), ("1", "64"), ("", "3"), ("300", "")):
        monkeypatch.setenv("CNNVIZ_WORKERS", env_w)
        monkeypatch.setenv("CNNVIZ_WORKER_THREADS", env_t)
        for cores in (1, 2, 4, 16):
            w, t = plan(cores=cores)
            assert w >= 1 and t >= 1 and w * t <= cores, (env_w, env_t, cores, (w, t))
    for env_w, env_t, bad in (("0", "", "CNNVIZ_WORKERS"), ("2", "x", "CNNVIZ_WORKER_THREADS"),
                              ("-2", "1", "CNNVIZ_WORKERS")):
        monkeypatch.setenv("CNNVIZ_WORKERS", env_w)
        monkeypatch.setenv("CNNVIZ_WORKER_THREADS", env_t)
        with pytest.raises(SettingError, match=bad):  # a value that cannot work says so, never a silent default
            plan(cores=2)
    monkeypatch.setenv("CNNVIZ_WORKERS", "1")
    monkeypatch.setenv("CNNVIZ_WORKER_THREADS", "64")
    assert plan(cores=2) == (1, 2)  # clamped, never honoured


@pytest.mark.slow  # real pool processes
def test_the_real_pool_stays_within_the_cores(pool2):
    db, pool = pool2
    row = RunStore(db).pool()
    assert row.pid == pool.pid and row.alive()
    assert (row.workers, row.threads) == (2, 1)  # what start_pool asked for, on any machine of ≥ 2 cores
    assert row.workers * row.threads <= (os.cpu_count() or 1)
    kids = _workers(pool.pid, row.workers)
    for pid in kids:  # each worker process was given the row's thread count (torch.set_num_threads)
        argv = _argv(pid)
        assert "--worker" in argv and argv[argv.index("--threads") + 1] == str(row.threads)
        assert _loaded_torch(pid)  # a worker trains
    assert not _loaded_torch(pool.pid)  # the supervisor only spawns, beats and reaps: no torch (2+ s of CPU)


def _loaded_torch(pid: int) -> bool:
    """Whether process ``pid`` has torch's library mapped (imported torch)."""
    return "libtorch" in pathlib.Path(f"/proc/{pid}/maps").read_text()


# --- round-robin ------------------------------------------------------------------------------------
def _queue_abc(sch: Scheduler) -> dict[str, str]:
    """A submits 3 runs, then B one, then C one (distinct seeds: five jobs); {run id: student}."""
    who = {}
    for i, s in enumerate(["A", "A", "A", "B", "C"]):
        who[sch.submit("train", tiny(seed=100 + i, subset=128, test_subset=64).to_dict(), s).run_id] = s
    return who


def test_claims_go_round_robin_across_students(tmp_path):
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none", max_live=3)
    who = _queue_abc(sch)
    order = [who[sch.store.claim("test:1").id] for _ in range(5)]
    assert order == ["A", "B", "C", "A", "A"]
    assert sch.store.claim("test:1") is None
    sch.close()


@pytest.mark.slow  # real pool processes
def test_a_one_worker_pool_starts_them_round_robin(tmp_path):
    """End to end, and the pool's plan clamped: 1 worker asked with 64 threads gets the cores."""
    db = tmp_path / "runs.sqlite"
    sch = Scheduler(db, pool="none", max_live=3)
    who = _queue_abc(sch)  # all queued before any pool serves the store
    # this machine's calibration for 1 worker × every core, as start_pool gives its stores: else the
    # pool queues the measurement first (the teacher's job), and its one worker spends most of a
    # minute on it before A's first run
    seed(db, threads=len(os.sched_getaffinity(0)), workers=1)
    env = dict(os.environ, CNNVIZ_WORKERS="1", CNNVIZ_WORKER_THREADS="64")
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--exit-with-parent"],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_own_pool(db, proc.pid)
        row = sch.pool_info()
        cores = len(os.sched_getaffinity(0))
        assert (row.workers, row.threads) == (1, cores)
        (worker,) = _workers(proc.pid, 1)
        assert _argv(worker)[_argv(worker).index("--threads") + 1] == str(cores)
        done = [sch.wait(rid, timeout=WAIT_S) for rid in who]
        assert [i.status for i in done] == ["completed"] * 5
        order = [who[i.id] for i in sorted(done, key=lambda i: i.started)]
        assert order == ["A", "B", "C", "A", "A"]
    finally:
        stop_pool(proc)
        sch.close()


# --- a killed pool -----------------------------------------------------------------------------------
@pytest.mark.slow  # real pool processes
def test_a_killed_pool_leaves_its_job_to_the_next_pool_as_interrupted(tmp_path):
    db = tmp_path / "runs.sqlite"
    sch = Scheduler(db, pool="none")
    first = start_pool(db, workers=1)
    second = None
    try:
        wait_pool(db)
        rid = sch.submit("train", tiny(**LONG).to_dict(), "student-cut").run_id
        waiting = sch.submit("train", tiny(seed=3).to_dict(), "student-next").run_id  # behind it, one worker
        worker = _worker_pid(sch, rid)
        committed = sch.store.count_events(rid)
        # freeze the worker, so that neither it (SIGTERM from PDEATHSIG) nor the pool records anything
        os.kill(worker, signal.SIGSTOP)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        os.kill(worker, signal.SIGKILL)
        until(lambda: not _alive(worker), WAIT_S, "the frozen worker to die")
        assert sch.get(rid).status == "running"  # the store still says so: nobody could tell it
        assert sch.get(waiting).status == "queued"

        second = start_pool(db, workers=1)
        _wait_own_pool(db, second.pid)
        info = until(lambda: (i := sch.get(rid)).status != "running" and i, WAIT_S, "the cut-off job's new status")
        assert info.status == "interrupted" and info.code == "train.runs.interrupted"
        assert sch.store.count_events(rid) >= committed > 0  # its events up to the last commit stay
        assert sch.wait(waiting, timeout=WAIT_S).status == "completed"  # the queue goes on
    finally:
        stop_pool(first)
        if second is not None:
            stop_pool(second)
        sch.close()


# --- a stop from a second replica ------------------------------------------------------------------
_REPLICA_A = """
import json, sys
import cnnviz.jobs  # the job kinds, as every process that submits imports them
from cnnviz.runs.scheduler import Scheduler
sch = Scheduler(sys.argv[1], pool="external")
ticket = sch.submit("train", json.loads(sys.argv[2]), "student-S")
print(ticket.run_id, flush=True)
info = sch.wait(ticket.run_id, timeout=float(sys.argv[3]))
print(json.dumps({"status": info.status, "ended": info.ended, "step": info.summary.get("step"),
                  "total": info.summary.get("total_steps")}), flush=True)
"""

_REPLICA_B = """
import json, sys, time
import cnnviz.jobs  # the job kinds, as every process that submits imports them
from cnnviz.runs.scheduler import NotYours, Scheduler
sch = Scheduler(sys.argv[1], pool="external")
rid = sys.argv[2]
deadline = time.monotonic() + float(sys.argv[3])
while not (sch.get(rid).status == "running" and sch.get(rid).summary.get("step")):
    assert time.monotonic() < deadline, "the job never ran"
    time.sleep(0.05)
out = {}
for act in ("stop", "delete"):
    try:
        getattr(sch, act)(rid, "student-T")
        out["T_" + act] = "done"
    except NotYours as err:
        out["T_" + act] = type(err).__name__ + ": " + str(err)
out["after_T"] = sch.get(rid).status
out["stop_at"] = time.time()
out["S_stop"] = sch.stop(rid, "student-S")
print(json.dumps(out), flush=True)
"""


@pytest.mark.slow  # real pool processes
def test_a_stop_from_a_second_replica_stops_the_job_within_a_step(pool2):
    db, _ = pool2
    env = dict(os.environ, CNNVIZ_DB=str(db), CNNVIZ_POOL="external")
    a = subprocess.Popen([sys.executable, "-c", _REPLICA_A, str(db), json.dumps(tiny(**LONG).to_dict()), str(WAIT_S)],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rid = a.stdout.readline().strip()
        assert rid.isalnum(), a.stderr.read()
        b = subprocess.run([sys.executable, "-c", _REPLICA_B, str(db), rid, str(WAIT_S)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=2 * WAIT_S, check=False)
        assert b.returncode == 0, b.stderr
        said = json.loads(b.stdout.strip().splitlines()[-1])
        out, err = a.communicate(timeout=WAIT_S)
        assert a.returncode == 0, err
    finally:
        if a.poll() is None:
            a.kill()
    end = json.loads(out.strip().splitlines()[-1])
    # student T, on the other replica, may neither stop nor delete S's job, and it goes on
    assert said["T_stop"].startswith("NotYours: ") and rid in said["T_stop"]
    assert said["T_delete"].startswith("NotYours: ")
    assert said["after_T"] == "running"
    # S's stop there, as the only watcher, stops it for good: the worker polls the flag every step
    assert said["S_stop"] == "stopped"
    assert end["status"] == "stopped"
    assert 0 < end["step"] < end["total"]
    assert end["ended"] - said["stop_at"] < 2.0, end["ended"] - said["stop_at"]  # a step is ~4 ms; the rest: commits
    sch = Scheduler(db, pool="none")
    assert sch.watchers(rid) == []  # S left it; T never watched it
    sch.close()


# --- a CLI run beside the pool ----------------------------------------------------------------------
@pytest.mark.slow  # real pool processes
def test_a_pool_leaves_a_live_cli_run_alone_and_fails_it_once_its_process_is_killed(tmp_path):
    """A pool that starts while ``python -m cnnviz train`` records a run does not mark that run
    "interrupted" (its own process still works on it); once that process is killed with
    SIGKILL, and so can record nothing, the pool ends the run "failed", naming the process."""
    db = tmp_path / "runs.sqlite"
    sch = Scheduler(db, pool="none")
    cli = subprocess.Popen([sys.executable, "-m", "cnnviz", "train", "lenet", "--dataset", "synthetic",
                            "--subset", "512", "--epochs", "400", "--db", str(db), "--json-lines"],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = None
    try:
        def cli_run():
            runs = sch.store.list(kinds=("train",))
            return runs[0] if runs and runs[0].status == "running" and runs[0].summary.get("step") else None

        rid = until(cli_run, WAIT_S, "the CLI run to record steps").id
        pool = start_pool(db, workers=1)
        _wait_own_pool(db, pool.pid)
        seen = sch.store.count_events(rid)
        until(lambda: sch.store.count_events(rid) > seen, WAIT_S, "more events from the CLI run")
        assert sch.get(rid).status == "running"  # the new pool did not cut it off
        cli.kill()
        cli.wait(10)
        info = until(lambda: (i := sch.get(rid)).status != "running" and i, WAIT_S,
                     "the pool to notice the CLI is gone")
        assert info.status == "failed" and info.code == "train.runs.process_gone"
        assert str(cli.pid) in info.text("en")
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
        if pool is not None:
            stop_pool(pool)
        sch.close()
