"""The Ray executor against a real local Ray cluster (never a mock, never local mode).

The cluster is started by a small holder process (``ray.init(num_cpus=2)``) with Ray's token
authentication, and stopped by ending that process (its raylet and GCS go with it). Then:
a class-period job through the scheduler gives the local executor's numbers; a job on Ray is
stopped within a step; a task's worker killed with SIGKILL fails its job with a message and
the pool carries on; an unreachable cluster leaves the pool on local workers, saying why.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, WAIT_S, need, start_pool, stop_pool, wait_pool

from cnnviz.runs.scheduler import Scheduler
from cnnviz.supervisor import terminate
from cnnviz.train.events import TIMING_FIELDS
from cnnviz.train.recipes import recipe_config

from training_helpers import tiny

# every test here needs Ray (requirements-ray.txt: `make test` installs it, so CI runs these for
# real; a missing Ray fails there, and skips this module elsewhere); its subprocesses import it
need("ray", "pip install -r requirements-ray.txt", load=False)

# one local cluster for the module, on one xdist worker
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.xdist_group("ray")]

HOLDER = """
import signal, sys, ray
ray.init(num_cpus=2, include_dashboard=False, logging_level=40)
print(ray.get_runtime_context().gcs_address, flush=True)
signal.signal(signal.SIGTERM, lambda *a: (ray.shutdown(), sys.exit(0)))
sys.stdin.read()
ray.shutdown()
"""
STUDENT = "raystudent" + "x" * 14


@pytest.fixture(scope="module")
def cluster():
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env, text=True, cwd=ROOT)
    try:
        address = holder.stdout.readline().strip()
        assert address, "the Ray holder did not start"
        mp = pytest.MonkeyPatch()
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.setenv("RAY_AUTH_TOKEN", env["RAY_AUTH_TOKEN"])
        yield address
        mp.undo()
    finally:
        terminate([holder], 30)  # SIGTERM, then SIGKILL after the grace


@pytest.fixture(scope="module")
def ray_pool(cluster, tmp_path_factory):
    db = tmp_path_factory.mktemp("ray") / "runs.sqlite"
    proc = start_pool(db, workers=1, threads=1, env={"CNNVIZ_RAY_ADDRESS": cluster})
    try:
        wait_pool(db)
        s = Scheduler(db, pool="external")
        deadline = time.monotonic() + WAIT_S
        while s.pool_info().executor != "ray":
            assert time.monotonic() < deadline, pathlib.Path(str(db) + ".pool.log").read_text()[-3000:]
            time.sleep(0.2)
        yield s
        s.close()
    finally:
        stop_pool(proc, timeout=30)


@pytest.fixture(scope="module")
def local_pool(tmp_path_factory):
    """A pool told of a cluster nobody answers (127.0.0.1:1): it runs its jobs on its own local
    workers, so it is both the unreachable-cluster case and the local executor that the Ray
    numbers are compared with (one pool start, a few seconds of CPU, for the two tests)."""
    db = tmp_path_factory.mktemp("local") / "runs.sqlite"
    proc = start_pool(db, workers=1, threads=1, env={"CNNVIZ_RAY_ADDRESS": "127.0.0.1:1"})  # nobody listens there
    try:
        wait_pool(db)
        s = Scheduler(db, pool="external")
        yield s
        s.close()
    finally:
        stop_pool(proc)


def _numbers(events):
    """The events without their timing fields and run ids (two runs, two ids: in the results
    event and the CLI's end event)."""
    out = []
    for e in events:
        e = e if isinstance(e, dict) else e.to_dict()  # the CLI's printed dicts, or the store's typed events
        d = {k: v for k, v in e.items() if k not in TIMING_FIELDS and k != "run_id"}
        if "results" in d:
            d["results"] = {k: v for k, v in d["results"].items() if k != "run_id"}
        out.append(d)
    return out


def test_a_class_period_job_on_ray_gives_the_local_executors_numbers(ray_pool, local_pool, cluster):
    info = ray_pool.pool_info()
    assert info.executor == "ray" and info.detail["address"] == cluster and info.detail["cpus"] == 2.0
    assert local_pool.pool_info().executor == "local"
    cfg = recipe_config("lenet", "class", epochs=2).to_dict()  # the class recipe (Fashion-MNIST subset)
    on_ray = ray_pool.submit("train", cfg, STUDENT)
    here = local_pool.submit("train", cfg, STUDENT)
    a, b = ray_pool.wait(on_ray.run_id, WAIT_S), local_pool.wait(here.run_id, WAIT_S)
    assert a.status == b.status == "completed", (a.message, b.message)
    assert a.worker.startswith("ray:") and not b.worker.startswith("ray:")
    ea, eb = ray_pool.events(on_ray.run_id), local_pool.events(here.run_id)
    assert _numbers(ea) == _numbers(eb)  # identical metrics, step by step
    assert [e.kind for e in ea][-2:] == ["results", "end"]  # the results came back from the task too
    assert ray_pool.weights.exists(on_ray.run_id)  # the weights came back from the task


def test_a_job_on_ray_stops_within_a_step(ray_pool):
    t = ray_pool.submit("train", tiny(epochs=1000, seed=5, log_every=5).to_dict(), STUDENT)
    deadline = time.monotonic() + WAIT_S
    while ray_pool.get(t.run_id).summary.get("step", 0) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert ray_pool.stop(t.run_id, STUDENT) == "stopped"
    t0 = time.monotonic()
    info = ray_pool.wait(t.run_id, WAIT_S)
    assert info.status == "stopped" and time.monotonic() - t0 < 10
    assert [e.kind for e in ray_pool.events(t.run_id)][-1] == "end"  # the engine ended it: its numbers kept


def _task_pids() -> list[int]:
    pids = []
    for p in pathlib.Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"ray::_remote_job" in cmd:
                pids.append(int(p.name))
    return pids


def test_a_killed_ray_worker_fails_its_job_and_the_pool_carries_on(ray_pool):
    t = ray_pool.submit("train", tiny(epochs=1000, seed=6, log_every=5).to_dict(), STUDENT)
    deadline = time.monotonic() + WAIT_S
    while ray_pool.get(t.run_id).summary.get("step", 0) < 5 or not _task_pids():
        assert time.monotonic() < deadline, "the task never showed up"
        time.sleep(0.05)
    for pid in _task_pids():
        os.kill(pid, signal.SIGKILL)
    info = ray_pool.wait(t.run_id, WAIT_S)
    assert info.status == "failed" and info.code == "train.runs.ray_died", info.message
    assert "Ray" in info.text("en")
    nxt = ray_pool.submit("train", tiny(seed=7).to_dict(), STUDENT)
    assert ray_pool.wait(nxt.run_id, WAIT_S).status == "completed"


def test_an_unreachable_cluster_leaves_the_pool_local_and_says_why(local_pool):
    info = local_pool.pool_info()
    assert info.executor == "local" and "cannot reach the Ray cluster" in info.detail["ray_error"]
    t = local_pool.submit("train", tiny(seed=8).to_dict(), STUDENT)
    done = local_pool.wait(t.run_id, WAIT_S)
    assert done.status == "completed" and not done.worker.startswith("ray:")


def test_the_cli_trains_on_ray_with_the_same_numbers(cluster):
    argv = [sys.executable, "-m", "cnnviz", "train", "lenet", "--dataset", "synthetic", "--subset", "300",
            "--epochs", "1", "--json-lines", "--threads", "1"]
    ray_out = subprocess.run([*argv, "--backend", "ray", "--ray-address", cluster], capture_output=True, text=True,
                             cwd=ROOT, timeout=180)
    local_out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert ray_out.returncode == 0 and local_out.returncode == 0, ray_out.stderr[-2000:]
    a = [json.loads(line) for line in ray_out.stdout.splitlines()]  # stdout is JSON lines only
    b = [json.loads(line) for line in local_out.stdout.splitlines()]
    assert _numbers(a) == _numbers(b) and a[-1]["status"] == "completed"
    bad = subprocess.run([*argv, "--backend", "ray", "--ray-address", "127.0.0.1:1"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "cannot reach" in bad.stderr
