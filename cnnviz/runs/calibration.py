"""This machine's speed, as the pool measured it: what every estimate before a run comes from.

A page never times a training step itself (it would train in the Streamlit process, on the
class's server, at every change of the form). Instead, a pool that starts on a machine the
store has no calibration for queues one "calibrate" job (``cnnviz.jobs.calibrate``, the
teacher's, first in the queue), and one of its workers measures, with the workers' own thread
count, every architecture at two points:

* ``class``: its class-period recipe, run by the real training loop (data, resizing, gradient
  norms and all) for a few seconds: the configuration most of the class starts;
* ``probe``: its book recipe's network, a few bare training steps at a small batch: the large end.

Each point is a ``MeasureEvent`` (examples per second, the network's multiply-accumulates per
example); the job's events are the calibration, kept in the store with the machine's identity
(``machine_id``: host, CPU model, cores, threads per worker). ``rate(points, arch, macs)`` turns
them into a configuration's examples per second: the architecture's multiply-accumulate rate,
interpolated between its points on a log scale of the work per example (a wider or larger
network keeps the cores busier, up to a point), divided by the configuration's work.

The scheduler prefers what finished runs measured (``Scheduler.known_estimate_s``: the same
run's wall time, else the same network's throughput): every completed run refines the
estimate of the next. Torch-free: the pool's supervisor queues the job, the pages read it.
"""

from __future__ import annotations

import math
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cnnviz import host
from cnnviz.runs.store import TEACHER, RunInfo, RunStore
from cnnviz.status import LIVE, Status
from cnnviz.train.events import MeasureEvent

KIND = "calibrate"
EST_S = 60.0  # the job's own length on a 2-core laptop, one thread (11 architectures × 2 points)


@dataclass(frozen=True)
class Point:
    arch: str
    point: str  # "class" or "probe"
    side: int
    batch: int
    macs: int  # per example, forward
    examples_per_s: float

    @property
    def mac_rate(self) -> float:
        """Multiply-accumulates per second (forward; the same factor for every point)."""
        return self.examples_per_s * self.macs


def machine_id(threads: int) -> str:
    """Who measured: ``host|CPU model|cores|threads per worker`` (a calibration holds for that only)."""
    return f"{socket.gethostname()}|{host.cpu_model()}|{host.cpu_cores()}c|{threads}t"


def _of(store: RunStore, machine: str | None) -> list[RunInfo]:
    """This machine's calibration jobs (every machine's when ``machine`` is None), newest first."""
    return [r for r in store.list(kinds=(KIND,)) if machine is None or r.config.get("machine") == machine]


def needed(store: RunStore, machine: str) -> bool:
    """Whether ``machine`` has neither a completed calibration nor one queued or running."""
    return not any(r.status == Status.COMPLETED or r.status in LIVE for r in _of(store, machine))


def request(store: RunStore, machine: str, threads: int) -> str:
    """Queue the calibration of ``machine`` (the teacher's job: first in the round-robin); its id."""
    rid = uuid.uuid4().hex[:12]
    store.create(rid, "", "calibration", {"machine": machine, "threads": threads}, TEACHER, kind=KIND, est_s=EST_S)
    return rid


def pending(store: RunStore, machine: str | None) -> bool:
    """Whether a calibration of ``machine`` is queued or running."""
    return any(r.status in LIVE for r in _of(store, machine))


_loaded: dict[tuple[str, str], tuple[Point, ...]] = {}  # (store, job id) → its points: a completed job never changes
_loaded_lock = threading.Lock()


def points(store: RunStore, machine: str | None) -> tuple[Point, ...]:
    """The newest completed calibration of ``machine`` (of any machine when None, or when this
    one has none yet: a pool that moved keeps estimating from the old one until its own is done).
    One query for the job list; its events are read once per process."""
    for mach in (machine, None) if machine is not None else (None,):
        for r in _of(store, mach):
            if r.status == Status.COMPLETED:
                key = (str(store.path), r.id)
                with _loaded_lock:
                    got = _loaded.get(key)
                if got is None:
                    got = tuple(Point(e.arch, e.point, e.side, e.batch, e.macs, e.examples_per_s)
                                for e in store.events(r.id) if isinstance(e, MeasureEvent) and e.examples_per_s > 0)
                    with _loaded_lock:
                        if len(_loaded) > 64:
                            _loaded.clear()
                        _loaded[key] = got
                return got
    return ()


def rate(pts: Sequence[Point], arch: str, macs: int) -> float | None:
    """Training examples per second of an ``arch`` network doing ``macs`` per example (None: no
    point measured for it). Between two of its points: the multiply-accumulate rate interpolated
    on log(macs); outside them: the nearest point's rate."""
    mine = sorted((p for p in pts if p.arch == arch and p.macs > 0), key=lambda p: p.macs)
    if not mine or macs <= 0:
        return None
    if macs <= mine[0].macs:
        r = mine[0].mac_rate
    elif macs >= mine[-1].macs:
        r = mine[-1].mac_rate
    else:
        hi = next(i for i, p in enumerate(mine) if p.macs >= macs)
        a, b = mine[hi - 1], mine[hi]
        f = (math.log(macs) - math.log(a.macs)) / max(1e-12, math.log(b.macs) - math.log(a.macs))
        r = math.exp(math.log(a.mac_rate) + f * (math.log(b.mac_rate) - math.log(a.mac_rate)))
    return r / macs
