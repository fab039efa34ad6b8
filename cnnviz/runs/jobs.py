"""Lab jobs: a stream of events consumed on a background thread, and the board that caps them.

A ``Job`` runs any event stream (``make(stop)`` returns it) into any history object with an
``add(name, event)`` method (the labs pass their own, e.g. ``cnnviz.labs.gradflow.PairHistory``),
so this module knows nothing of the labs. Jobs use the run store's status words
(``cnnviz.runs.store``): queued → running → completed, or stopped / failed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from cnnviz.errors import ConfigError
from cnnviz.runs.store import LIVE_STATUSES


class History(Protocol):
    """What a job feeds: ``add(name, event)`` for every ``(name, event)`` of its stream."""

    def add(self, name: str, event: Any) -> None: ...


class Job:
    """An event stream consumed by a daemon thread into ``history``; never calls Streamlit.

    ``make(stop)`` returns the stream of ``(name, event)`` pairs; ``status`` is queued →
    running → completed (or failed, stopped). Everything a page reads (``history.snapshot()``, ``status``, ``error``)
    is guarded by locks, so any session may poll any job while the thread writes. ``extras``
    holds objects the stream's callbacks fill (an ``ActivationRecorder``, a trained model).
    """

    def __init__(self, history: History, make: Callable[[threading.Event], Iterator[tuple[str, Any]]],
                 extras: Mapping[str, Any] | None = None, kind: str = "pair", params: Any = None):
        self.id = uuid.uuid4().hex[:10]
        self.kind, self.params = kind, params
        self.history = history
        self.extras = dict(extras or {})
        self.stop_event = threading.Event()
        self._make = make
        self._lock = threading.Lock()
        self._status = "queued"
        self.error: Exception | None = None
        self.started = self.finished = None
        self._thread = threading.Thread(target=self._run, name=f"cnnviz-lab-{self.id}", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    def _run(self) -> None:
        self._set("running")
        self.started = time.time()
        try:
            for name, ev in self._make(self.stop_event):
                self.history.add(name, ev)
            self._set("stopped" if self.stop_event.is_set() else "completed")
        except Exception as err:  # a config error before the first step, a bug: the page shows it
            self.error = err
            self._set("failed")
        finally:
            self.finished = time.time()

    def _set(self, status: str) -> None:
        with self._lock:
            self._status = status

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        return self.status in LIVE_STATUSES

    def stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> Job:
        self._thread.join(timeout)
        return self


class JobBoard:
    """All lab jobs of the process (the page keeps one in ``st.cache_resource``); thread-safe.

    At most ``max_running`` run at once (CPU cores are shared by every session): ``submit``
    refuses with ``LabBusyError`` beyond that; finished jobs are kept up to ``keep``.
    """

    def __init__(self, max_running: int = 2, keep: int = 32):
        self.max_running, self.keep = max_running, keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, job: Job) -> Job:
        with self._lock:
            # a job told to stop (a session replacing its own run) ends within a step: not counted
            running = [j for j in self._jobs.values() if j.running and not j.stop_event.is_set()]
            if len(running) >= self.max_running:
                raise LabBusyError("err.lab.busy", n=len(running))
            self._jobs[job.id] = job
            done = [k for k, j in self._jobs.items() if not j.running]
            for k in done[: max(0, len(self._jobs) - self.keep)]:
                del self._jobs[k]
        return job.start()

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None


class LabBusyError(ConfigError):
    """Too many lab jobs running at once on this server."""


_BOARD: JobBoard | None = None
_BOARD_LOCK = threading.Lock()


def lab_board() -> JobBoard:
    """The process-wide board every lab page submits to (two lab jobs at a time in all)."""
    global _BOARD
    with _BOARD_LOCK:
        if _BOARD is None:
            _BOARD = JobBoard(max_running=2)
        return _BOARD


