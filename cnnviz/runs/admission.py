"""Admission: what a job may cost before it is queued, and what running jobs may hold at once.

Two bounds, checked at submit (``Scheduler.submit``) with the job's estimates, so that one
careless (or hostile) Start cannot hold a worker for hours or run the machine out of memory:

* **time**: a student's job whose estimate passes the class's limit is refused
  (``NotAdmitted``, one sentence naming the estimate, the limit and what to change). The limit
  is ``$CNNVIZ_STUDENT_MAX_S`` (default 5 minutes), or what the teacher set for the class on the
  teacher page (the ``classroom`` table, so every replica sees it); the teacher's own runs and
  pre-warm have ``$CNNVIZ_TEACHER_MAX_S`` (4 hours). Estimates can be wrong, so a job also
  carries the wall time it may take once started (``limit_s`` = its bound × ``OVERRUN``): its
  worker stops it there, with a message saying why (``cnnviz.runs.worker``). A job with no
  estimate yet (the pool's calibration has not finished) is admitted; the page keeps Start
  disabled until it has one, and ``limit_s`` still bounds it.
* **memory**: a job reserves its estimate (``mem_bytes``) while it runs. The running jobs'
  reservations never add up to more than ``jobs_memory()``: the machine's memory less a reserve
  for the app's replicas, the workers' own processes and a margin (``$CNNVIZ_RESERVE_MB``), or
  ``$CNNVIZ_JOBS_MEMORY_MB``. A job that could never fit is refused at submit; one that fits
  but not beside the running ones waits in the queue (``RunStore.claim``), and its page says it
  waits for memory. Lab jobs without an estimate of their own reserve ``DEFAULT_JOB_BYTES``.

Torch-free: the pool's supervisor and the pages' readers import it.
"""

from __future__ import annotations

from cnnviz import host, settings
from cnnviz.errors import CnnvizError
from cnnviz.numbers import duration, human_bytes
from cnnviz.runs.store import RunStore

OVERRUN = 1.5  # a started job may run this many times its bound before its worker stops it
DEFAULT_JOB_BYTES = 256 * settings.MB  # a lab job with no memory estimate of its own (small nets, small batches)
STUDENT_LIMIT_KEY = "student_max_s"  # the classroom table's key of the teacher's limit
MIN_LIMIT_S, MAX_LIMIT_S = 30, 4 * 3600  # what the teacher page accepts for the class


class NotAdmitted(CnnvizError):
    """A job whose estimate passes a bound: too long for the class, or too big for the machine."""


def machine_memory() -> int | None:
    """The machine's memory (``MemTotal``), in bytes; None where it is unknown."""
    return host.meminfo("MemTotal")


def jobs_memory() -> int | None:
    """Bytes the running jobs may reserve in all (None: unknown, no bound)."""
    return settings.jobs_memory(machine_memory())


def clamp_limit(seconds: int) -> int:
    """``seconds`` within what the teacher page accepts (``MIN_LIMIT_S``..``MAX_LIMIT_S``)."""
    return max(MIN_LIMIT_S, min(MAX_LIMIT_S, int(seconds)))


def student_limit(store: RunStore) -> int:
    """A student's longest estimated job, in seconds: the teacher's for this class, else the setting's."""
    rows = store.read("SELECT value FROM classroom WHERE key=?", (STUDENT_LIMIT_KEY,))
    if rows:
        try:
            return clamp_limit(int(rows[0][0]))
        except ValueError:  # an edited store: the setting's
            pass
    return settings.run_time_limits()[0]


def set_student_limit(store: RunStore, seconds: int | None) -> None:
    """The teacher sets the class's limit (clamped to ``MIN_LIMIT_S``..``MAX_LIMIT_S``); None: the setting's again."""
    with store.write() as conn:
        if seconds is None:
            conn.execute("DELETE FROM classroom WHERE key=?", (STUDENT_LIMIT_KEY,))
        else:
            value = str(clamp_limit(seconds))
            conn.execute("INSERT INTO classroom (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value=excluded.value", (STUDENT_LIMIT_KEY, value))


def time_limit(store: RunStore, teacher: bool) -> int:
    """The bound of a job asked for by the teacher (``teacher``) or a student, in seconds."""
    return settings.run_time_limits()[1] if teacher else student_limit(store)


def check(store: RunStore, est_s: float | None, mem_bytes: int | None, teacher: bool) -> float:
    """``NotAdmitted`` when a job with these estimates may not be queued; else the wall seconds it
    may run once started (``limit_s``)."""
    limit = time_limit(store, teacher)
    if est_s is not None and est_s > limit:
        raise NotAdmitted("adm.too_long", est=duration(est_s), limit=duration(limit))
    cap = jobs_memory()
    if cap is not None and mem_bytes is not None and mem_bytes > cap:
        raise NotAdmitted("adm.too_big", need=human_bytes(mem_bytes), have=human_bytes(cap))
    return limit * OVERRUN


def waits_for_memory(store: RunStore, mem_bytes: int | None) -> tuple[int, int] | None:
    """(bytes the running jobs hold, bytes they may hold) when a queued job reserving ``mem_bytes``
    would not fit beside them now; None when it would (or nothing bounds it)."""
    cap = jobs_memory()
    if cap is None or not mem_bytes:
        return None
    held = store.reserved()
    if held == 0 or held + mem_bytes <= cap:
        return None
    return held, cap


