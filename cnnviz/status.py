"""The one status vocabulary of every job (training runs and lab jobs), and its sets.

A ``Status`` is a ``StrEnum``: it is stored in SQLite and JSON as its plain word and compares
equal to it, so a status read back from the store is ``Status(word)`` and nothing else in
the code spells a status word (a test greps for literals outside this module).

    queued → running → completed | stopped | diverged | failed | interrupted

* ``LIVE``: a worker has it or will (queued, running). A student's share counts these.
* ``FINAL``: it will never change again.
* ``FINISHED``: it ended with a trained network worth keeping (completed, stopped): its
  weights and results are kept, and its Results view opens.
* ``SHAREABLE``: an identical request attaches to it rather than computing again.
* ``ENGINE``: what the training loop itself can end with (the others are the scheduler's).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"  # ran to its planned end
    STOPPED = "stopped"  # someone pressed Stop (or cancelled it while queued)
    DIVERGED = "diverged"  # the loss went to NaN or inf: the engine stopped it
    FAILED = "failed"  # an error, or its worker died
    INTERRUPTED = "interrupted"  # cut off by the pool or the server going away

    @property
    def live(self) -> bool:
        return self in LIVE

    @property
    def final(self) -> bool:
        return self in FINAL

    @property
    def finished(self) -> bool:
        return self in FINISHED


LIVE = frozenset({Status.QUEUED, Status.RUNNING})
FINAL = frozenset(Status) - LIVE
FINISHED = frozenset({Status.COMPLETED, Status.STOPPED})
SHAREABLE = frozenset({Status.QUEUED, Status.RUNNING, Status.COMPLETED, Status.DIVERGED})
ENGINE = frozenset({Status.COMPLETED, Status.STOPPED, Status.DIVERGED, Status.FAILED})


def sql_in(statuses: frozenset[Status]) -> str:
    """``"('a','b')"`` for an SQL ``IN``, sorted (the words are this module's, never a user's)."""
    return "(" + ",".join(f"'{s.value}'" for s in sorted(statuses)) + ")"
