"""A worker process: claim the next job from the store, run it, commit its events, repeat.

Each worker is its own process (``python -m cnnviz pool --worker``, started by the pool), so a job
never shares a GIL with the Streamlit servers, and ``torch.set_num_threads`` is set once per
process: workers × threads never exceeds the cores (``cnnviz.runs.pool``).

While a job runs, its events are committed about twice a second (at once for start, epoch and
end events), with its status, progress and summary, in one transaction each: every replica
reads them from the store. Stop is a flag in the job's row, read before every step
(``StoreStop``; one indexed read, ~20 µs): a Stop pressed on any replica ends the job within
one step; so does the job's own clock once it has run the wall time it was admitted with
(``limit_s``, ``cnnviz.runs.admission``): it ends "stopped", saying so. A worker claims only a
job whose memory reservation fits beside the running jobs' (``RunStore.claim``). A missing
row (the job was deleted) also means stop. SIGTERM (the pool going away)
ends the current job as "interrupted" and the worker with it. A job that raises ends as
"failed" with its message; the worker carries on with the next one. A job that keeps weights
gets their fate in its summary: ``weights`` ("kept", "too_big", "none") and ``weights_bytes``.
``python -m cnnviz train`` records its own run through ``run_job`` too (``on_event`` prints it).
A busy store (another process holds SQLite's write lock) pauses a job at its next commit and
retries (``cnnviz.runs.busy``, WARNING in the log) rather than failing it; an idle worker
asks for a job again a moment later rather than dying.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from cnnviz.errors import error_messages
from cnnviz.i18n import messages
from cnnviz.numbers import duration
from cnnviz.runs import admission, busy
from cnnviz.runs.kinds import JobContext, get_kind
from cnnviz.runs.store import RunInfo, RunStore, worker_name
from cnnviz.runs.weights import WeightStore
from cnnviz.status import FINISHED, Status
from cnnviz.train.events import EndEvent, EpochEvent, Event, StartEvent

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # longest an event waits in memory before its commit
IDLE_S = 0.1  # how often an idle worker looks for a queued job
_EXITING = False  # set by SIGTERM: the current job ends "interrupted", then the worker exits


class StoreStop:
    """``stop.is_set()`` for a job in a worker: its row's stop flag, the worker exiting, or the
    job past the wall time it was admitted with (``limit_s``: then ``overran`` is true)."""

    def __init__(self, store: RunStore, run_id: str, limit_s: float | None = None):
        self.store, self.run_id = store, run_id
        self._set = False
        self.overran = False
        self._until = time.monotonic() + limit_s if limit_s else None

    def is_set(self) -> bool:
        if not self._set:
            if self._until is not None and time.monotonic() >= self._until:
                self.overran = True
            try:
                self._set = self.overran or _EXITING or self.store.stop_requested(self.run_id)
            except Exception as err:  # a busy store: no stop read this step, the job goes on
                if not busy.is_busy(err):
                    raise
        return self._set

    def set(self) -> None:
        self._set = True


class _Exiting:
    """``is_set()``: this process is going away (SIGTERM, or ``mark_exiting``)."""

    def is_set(self) -> bool:
        return _EXITING


Source = Callable[[RunInfo, "StoreStop", JobContext], Iterator[Event]]


def local_source(info: RunInfo, stop: StoreStop, ctx: JobContext) -> Iterator[Event]:
    """The job's events computed here, in this process."""
    kind = get_kind(info.kind)
    return kind.run(kind.parse(info.config), stop, ctx)


def run_job(store: RunStore, info: RunInfo, weights: WeightStore | None = None, source: Source = local_source,
            on_event: Callable[[Event], None] | None = None) -> Status:
    """Run one claimed job to its end; returns its final status. Never raises (but lets a
    ``KeyboardInterrupt`` through: the CLI's Ctrl-C).

    ``source`` yields the job's events: computed in this process (``local_source``), or
    streamed back from a Ray task (``cnnviz.runs.rayexec``); either way they are recorded
    here, the same way. ``on_event(d)`` sees every event as it arrives (the CLI prints them
    while they are recorded); an exception it raises fails the job.
    """
    kind = None
    written, last_flush = 0, time.monotonic()
    pending: list[Event] = []
    status, code, message = Status.FAILED, "train.runs.no_end", messages("train.runs.no_end")
    summary: dict[str, Any] = {}
    progress = 0.0
    stop = StoreStop(store, info.id, info.limit_s)
    gen = None
    ended = False

    def flush(**final: Any) -> None:
        nonlocal written, pending, last_flush
        # a busy store (another process holds its lock) pauses the job here rather than failing it
        busy.retry(f"recording job {info.id}", store.append, info.id, written, pending, progress=progress,
                   summary=summary, **final)
        written, pending, last_flush = written + len(pending), [], time.monotonic()

    try:
        kind = get_kind(info.kind)
        ctx = JobContext(info.id, weights.staging(info.id) if weights is not None else None, exiting=_Exiting())
        gen = source(info, stop, ctx)
        for ev in gen:
            frac = kind.progress(summary, ev)
            if frac is not None:
                progress = min(1.0, max(progress, frac) if not isinstance(ev, EndEvent) else frac)
            pending.append(ev)
            if on_event is not None:
                on_event(ev)
            if isinstance(ev, EndEvent) and ev.own:  # the job's own end: committed below, with its status
                status, code, message = ev.status, ev.code, dict(ev.message)
                ended = True
                break
            if isinstance(ev, (StartEvent, EpochEvent)) or time.monotonic() - last_flush >= FLUSH_S:
                flush()
        if not ended:  # a lab stream: it ends when it runs out
            status = Status.STOPPED if stop.is_set() else Status.COMPLETED
            code, message = f"lab.job.{status.value}", messages(f"lab.job.{status.value}")
    except Exception as err:  # a broken job: it fails, the worker does not
        log.exception("job %s failed", info.id)
        status = Status.FAILED
        code, message = error_messages(err)
    finally:
        if gen is not None and hasattr(gen, "close"):
            gen.close()  # frees the model and the data now, not at garbage collection
    if _EXITING and status == Status.STOPPED:  # cut off by the pool going away, not by a person
        status, code, message = Status.INTERRUPTED, "train.runs.interrupted", messages("train.runs.interrupted")
    elif stop.overran and status == Status.STOPPED:  # past the wall time it was admitted with
        code, message = "adm.overran", messages("adm.overran", limit=duration(info.limit_s))
    if status == Status.COMPLETED:
        progress = 1.0
    try:
        if kind is not None and kind.keeps_weights:  # what became of its weights, for the pages to say
            summary["weights"], summary["weights_bytes"] = "none", 0
        if weights is not None and status in FINISHED:
            staged = weights.staging(info.id)
            size = staged.stat().st_size if staged.is_file() else 0
            # the staged file becomes the run's (atomic rename), within the caps: "kept", "too_big" or "none"
            outcome = busy.retry(f"keeping the weights of job {info.id}", weights.commit, info.id)
            if kind is not None and kind.keeps_weights:
                summary["weights"], summary["weights_bytes"] = outcome, size if outcome != "none" else 0
        elif weights is not None:
            weights.discard(info.id)
        gone = busy.retry(f"ending job {info.id}", store.get, info.id) is None
        if gone:  # deleted while it ran (the teacher cleared the class): nothing to record
            if weights is not None:
                weights.delete(info.id)
            return status
        flush(status=status, code=code, message=message or {})
    except Exception:
        log.exception("could not record the end of job %s", info.id)
    return status


def mark_exiting(exiting: bool = True) -> None:
    """Every job of this process stops within a step; with ``exiting``, as "interrupted"
    (the Ray drivers of a pool that is going away)."""
    global _EXITING
    _EXITING = exiting


def worker_loop(db: str, threads: int, *, max_jobs: int | None = None, idle_s: float = IDLE_S) -> int:
    """The worker process's main loop; returns how many jobs it ran."""
    import torch

    global _EXITING
    torch.set_num_threads(max(1, threads))

    def on_term(signum, frame) -> None:
        global _EXITING
        _EXITING = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    store = RunStore(db)
    weights = WeightStore.beside(store.path, runs=store)  # owners, and the store's lock for eviction
    me = worker_name()
    memory = admission.jobs_memory()  # what the running jobs may reserve in all: a job waits for its share
    done = 0
    parent = os.getppid()
    try:
        while not _EXITING and (max_jobs is None or done < max_jobs):
            if os.getppid() != parent:  # the pool is gone (no PDEATHSIG on this OS)
                break
            try:
                info = store.claim(me, memory=memory)
            except Exception as err:  # a busy store: this worker waits and asks again, it does not die
                if not busy.is_busy(err):
                    raise
                log.warning("the run store is busy (%s); worker %s asks for a job again in %.1f s", err, me,
                            busy.MAX_PAUSE_S)
                time.sleep(busy.MAX_PAUSE_S)
                continue
            if info is None:
                time.sleep(idle_s)
                continue
            run_job(store, info, weights)
            done += 1
    finally:
        store.close()
    _EXITING = False
    return done
