"""The Ray executor's overhead against the local executor, for a class-period LeNet run.

Both paths are the real ones: a pool (``python -m cnnviz pool``) with local worker processes,
and a pool whose jobs run as Ray tasks on a local Ray cluster (``ray.init(num_cpus=N)`` in a
holder process, token authentication on), each serving its own run store, one job at a time,
one torch thread per job. For each executor and each of ``--repeats`` runs (different seeds,
so nothing is shared), it measures:

* start-up latency: from ``Scheduler.submit`` to the job's first step event in the store;
* examples/s: the median of the run's step events (the engine's own throughput figure);
* wall: from submit to the final status.

The table prints medians and the Ray/local ratios. The cluster is stopped by ending the
holder process that started it.

    CNNVIZ_DATA_DIR=/work/shared/data .venv/bin/python bench/bench_ray.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cnnviz.jobs  # noqa: E402, F401  (registers every job kind for this benchmark's submissions)
from cnnviz.runs.scheduler import Scheduler  # noqa: E402
from cnnviz.train.recipes import recipe_config  # noqa: E402

from machine import cpu_model, usable_cores  # noqa: E402

HOLDER = """
import signal, sys, ray
ray.init(num_cpus=int(sys.argv[1]), include_dashboard=False, logging_level=40)
print(ray.get_runtime_context().gcs_address, flush=True)
signal.signal(signal.SIGTERM, lambda *a: (ray.shutdown(), sys.exit(0)))
sys.stdin.read()
"""
STUDENT = "bench" + "r" * 19


def start_pool(db: pathlib.Path, env: dict) -> subprocess.Popen:
    from testkit.calibration import seed

    seed(db, threads=1, workers=1)  # the pool's own calibration would hold its one worker for a minute first
    log = open(str(db) + ".pool.log", "ab")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--workers", "1",
                             "--threads", "1", "--exit-with-parent"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_ready(s: Scheduler, executor: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = s.pool_info()
        if info is not None and info.alive() and info.executor == executor:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"the {executor} pool did not come up")
        time.sleep(0.2)


def measure(s: Scheduler, seed: int) -> dict:
    cfg = recipe_config("lenet", "class", seed=seed).to_dict()
    t0 = time.monotonic()
    rid = s.submit("train", cfg, STUDENT).run_id
    first = None
    while True:
        info = s.get(rid)
        if first is None and s.store.count_events(rid) >= 2:  # start + a step
            first = time.monotonic() - t0
        if not info.live:
            break
        time.sleep(0.01)
    wall = time.monotonic() - t0
    rates = [e.examples_per_s for e in s.events(rid) if e.kind == "step"][5:]
    assert info.status == "completed", info.message
    return {"startup": first if first is not None else wall, "rate": statistics.median(rates), "wall": wall,
            "acc": info.summary.get("test_acc")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    token = secrets.token_hex(16)
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cnnviz-bench-ray-"))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(usable_cores())], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    pools = []
    try:
        address = holder.stdout.readline().strip()
        results: dict[str, list[dict]] = {}
        for name, extra in (("local", {}), ("ray", {"CNNVIZ_RAY_ADDRESS": address})):
            db = tmp / f"{name}.sqlite"
            e = {k: v for k, v in env.items() if k != "CNNVIZ_RAY_ADDRESS"} | extra
            pools.append(start_pool(db, e))
            s = Scheduler(db, pool="external")
            wait_ready(s, name)
            measure(s, 999)  # warm: the worker's first job pays for its imports and the data load
            results[name] = [measure(s, seed) for seed in range(args.repeats)]
            s.close()
        print(f"machine: {cpu_model()}; {usable_cores()} cores; Ray cluster {address} (local, token auth); "
              f"one job at a time, 1 torch thread; {time.strftime('%Y-%m-%d')}")
        print("LeNet class-period recipe (Fashion-MNIST subset of 5,000, 20 epochs), medians of "
              f"{args.repeats} runs after a warm-up run\n")
        print("| executor | start-up (submit → first step) | examples/s | wall | test acc |")
        print("| --- | --- | --- | --- | --- |")
        med = {n: {k: statistics.median(r[k] for r in rs) for k in ("startup", "rate", "wall", "acc")}
               for n, rs in results.items()}
        for n, m in med.items():
            print(f"| {n} | {m['startup']:.2f} s | {m['rate']:,.0f} | {m['wall']:.2f} s | {m['acc']:.1%} |")
        lo, ra = med["local"], med["ray"]
        print(f"| Ray / local | {ra['startup'] / lo['startup']:.2f}× | {ra['rate'] / lo['rate']:.2f}× | "
              f"{ra['wall'] / lo['wall']:.2f}× | same numbers: {ra['acc'] == lo['acc']} |")
    finally:
        for p in pools:
            p.terminate()
            p.wait(30)
        holder.terminate()
        holder.wait(30)


if __name__ == "__main__":
    main()
