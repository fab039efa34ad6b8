"""A busy run store: another process holds SQLite's write lock (a long transaction, a backup,
someone's ``sqlite3`` shell with ``BEGIN EXCLUSIVE``).

Every connection already waits ``cnnviz.runs.store.BUSY_TIMEOUT_S`` for the lock before it
raises ``sqlite3.OperationalError("database is locked")``. For the writes a class cannot afford
to lose, the pool's supervisor (reaping, marking interrupted jobs) and its workers (a claim, a
job's events, its end), that is not the end: ``retry`` tries again with a growing pause, saying
so in the log each time (WARNING), until ``BOUND_S`` has passed since the first try; then it
raises the last error. Anything else (a corrupt file, a full disk) is raised at once: waiting
would not mend it.

    ids = retry("reaping worker 12", store.end_worker_jobs, w, Status.FAILED, code, message)

``is_busy(err)`` tells the lock apart from the rest, for callers that would rather skip a write
than wait (the heartbeat: a missed beat is harmless, the next one comes a second later).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

BOUND_S = 300.0  # how long a write keeps retrying in all (a 45 s lock is survived with room to spare)
FIRST_PAUSE_S = 0.05  # the pause after the first failure; doubled each time, up to MAX_PAUSE_S
MAX_PAUSE_S = 2.0

T = TypeVar("T")


def is_busy(err: BaseException) -> bool:
    """Whether ``err`` (or the error it was raised from) is SQLite's "database is locked/busy"."""
    seen = 0
    e: BaseException | None = err
    while e is not None and seen < 4:  # a StoreError raised from the sqlite3 error, say
        if isinstance(e, sqlite3.OperationalError):
            text = str(e).lower()
            return "locked" in text or "busy" in text
        e, seen = e.__cause__, seen + 1
    return False


def retry(what: str, fn: Callable[..., T], *args: Any, bound_s: float | None = None, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, tried again while the store is busy (see the module docstring);
    ``what`` names the write in the log. ``bound_s``: instead of ``BOUND_S``."""
    bound = BOUND_S if bound_s is None else bound_s
    start = time.monotonic()
    pause = FIRST_PAUSE_S
    tries = 0
    while True:
        try:
            result = fn(*args, **kwargs)
        except Exception as err:
            tries += 1
            waited = time.monotonic() - start
            if not is_busy(err) or waited + pause > bound:
                if is_busy(err):
                    log.warning("the run store is still busy after %.1f s (%d tries) during %s: giving up (%s)",
                                waited, tries, what, err)
                raise
            log.warning("the run store is busy during %s (%s); retrying in %.2f s (try %d, %.1f s so far)",
                        what, err, pause, tries, waited)
            time.sleep(pause)
            pause = min(MAX_PAUSE_S, pause * 2)
            continue
        if tries:
            log.warning("the run store took %s after %d busy tries (%.1f s)", what, tries,
                        time.monotonic() - start)
        return result
