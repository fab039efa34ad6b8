"""A calibration of this machine written straight into a store, for tests and benchmarks that are
not about the calibration itself: a pool that finds it queues no "calibrate" job (which would
hold one of its workers for most of a minute), and the forms have an estimate at once.

The points follow the real ones' shape (``cnnviz.jobs.calibrate``: two per architecture, its
class-period recipe and its book network) with one multiply-accumulate rate for all, of the order
this 2-core machine measured on one thread (``MAC_RATE``); tests that check estimates against
wall time use the real calibration, not this.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import uuid

MAC_RATE = 5e9  # forward multiply-accumulates per second, one thread of this machine (order of magnitude)


def seed(db: str | os.PathLike, threads: int | None = None, workers: int | None = None,
         mac_rate: float = MAC_RATE) -> str:
    """Write a completed calibration of this machine for a pool of ``workers`` × ``threads``
    (what ``cnnviz.runs.pool.plan`` gives them here) into the store ``db``; its job id."""
    import time

    from cnnviz.inspect.tracing import trace
    from cnnviz.models.registry import list_models
    from cnnviz.runs import calibration
    from cnnviz.runs.pool import plan
    from cnnviz.runs.store import TEACHER, RunStore
    from cnnviz.status import Status
    from cnnviz.train.events import MeasureEvent
    from cnnviz.train.recipes import recipe_config

    _, threads = plan(workers, threads)
    machine = calibration.machine_id(threads)
    events = []
    for arch in list_models():
        for point, kind in (("class", "class"), ("probe", "book")):
            cfg = recipe_config(arch, kind)
            model = cfg.model if point == "class" else dataclasses.replace(cfg.model, input_hw=(96, 96)) \
                if cfg.model.input_hw[0] > 96 else cfg.model
            macs = int(trace(model).totals.macs)
            events.append(MeasureEvent(step=len(events) + 1, arch=arch, point=point, side=model.input_hw[0],
                                       batch=cfg.batch_size, macs=macs, examples_per_s=mac_rate / macs))
    store = RunStore(pathlib.Path(db))
    try:
        rid = uuid.uuid4().hex[:12]
        now = time.time()
        store.create(rid, "", "calibration", {"machine": machine, "threads": threads}, TEACHER,
                     kind=calibration.KIND, status=Status.RUNNING, worker="seed:0", started=now)
        store.append(rid, 0, events, progress=1.0, summary={"points": len(events)}, status=Status.COMPLETED)
    finally:
        store.close()
    return rid
