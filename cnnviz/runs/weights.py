"""Trained weights kept next to the run store: one file per run, written atomically, capped, and
shared fairly between the students.

A job that keeps weights saves its ``state_dict`` to ``staging(run_id)`` (a temporary name in
the same folder); when the job ends completed or stopped, ``commit`` renames it to the run's
file (``os.replace``: a reader sees the old state or the whole new file, never half of one).
The worker records the outcome in the run's summary: ``summary["weights"]`` is "kept",
"too_big" or "none" and ``summary["weights_bytes"]`` the file's size, so a run whose summary
says "kept" but whose file is gone was evicted. ``usage(student)`` is the folder's files and
bytes, that student's bytes, and the caps. A deleted run's file goes with it (``delete``).

Who pays, and who is evicted (``plan_eviction``, a pure function, tested alone):

* a run's weights are charged to its owner (the student who first asked for it; see
  ``RunStore.weight_holders``); a stopped run's weights count like a completed one's;
* the teacher's runs (owned or requested by the teacher: the pre-warm) are never evicted and
  charged to no student;
* a file over the per-run cap, or (a student's) over the student's share, is never kept;
* a student past their share loses their own oldest files first: one person pressing
  Start/Stop in a loop evicts only their own weights;
* past the class cap, files whose run is gone go first, then those of students over their
  share, then those of whoever keeps the most (oldest of theirs first); if only the teacher's
  remain, the new file itself is not kept (its summary still says "kept": the page says
  "evicted").

Atomic across processes: when the store is given (``runs``), the rename and every eviction run
inside ``RunStore.exclusive()`` (one IMMEDIATE SQLite transaction: the store's write lock, which
every worker of every replica shares), so two workers finishing at once never both evict for the
same overflow. Without a store (a bare folder: tests, tools), owners are unknown: the oldest files
go first, under this process's lock only.

Caps: ``$CNNVIZ_WEIGHTS_MAX_RUN_MB`` (default 256), ``$CNNVIZ_WEIGHTS_MAX_MB`` (default 2048) and
``$CNNVIZ_WEIGHTS_STUDENT_MB`` (default a fifth of the class cap, at least one run's cap), read by
``cnnviz.settings``.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnnviz import settings

if TYPE_CHECKING:
    from cnnviz.runs.store import RunStore

MB = settings.MB


@dataclass(frozen=True)
class WeightUsage:
    """What the weights folder holds now, and its caps (the page's "your share and the class's" line)."""

    files: int
    total_bytes: int
    max_total_bytes: int  # past this, files are evicted (see the module docstring)
    max_run_bytes: int  # a run's file over this is not kept
    student_bytes: int = 0  # what the student asked about keeps (0: none, or no store to tell)
    max_student_bytes: int = 0  # one student's share
    student_files: int = 0


@dataclass(frozen=True)
class Held:
    """One kept file as the eviction sees it. ``owner`` None: unknown (its run is gone, or no
    store was given); ``teacher``: never evicted."""

    run_id: str
    owner: str | None
    size: int
    mtime: float
    teacher: bool = False


def plan_eviction(held: Sequence[Held], new: Held | None, max_total: int, max_student: int) -> tuple[list[str], bool]:
    """Which of ``held`` to evict so that ``new`` (just committed, or None: a plain clean-up)
    fits: ``(run ids to delete, in order; whether ``new`` stays)``.

    ``held`` excludes ``new``. ``new`` over the student's share on its own is the caller's to
    refuse (it evicts nobody). See the module docstring for the order."""
    left = [h for h in held if new is None or h.run_id != new.run_id]
    gone: list[str] = []

    def drop(h: Held) -> None:
        left.remove(h)
        gone.append(h.run_id)

    # 1. the committing student within their share, from their own files, oldest first
    if new is not None and new.owner is not None and not new.teacher:
        own = sorted((h for h in left if h.owner == new.owner and not h.teacher), key=lambda h: h.mtime)
        mine = new.size + sum(h.size for h in own)
        for h in own:
            if mine <= max_student:
                break
            drop(h)
            mine -= h.size
    # 2. the class within its cap: unknown owners, then over-share students, then whoever keeps most
    total = sum(h.size for h in left) + (new.size if new is not None else 0)
    while total > max_total:
        pickable = [h for h in left if not h.teacher]
        if not pickable:
            break
        use: dict[str | None, int] = {}
        for h in left:
            if not h.teacher:
                use[h.owner] = use.get(h.owner, 0) + h.size
        if new is not None and new.owner is not None and not new.teacher:
            use[new.owner] = use.get(new.owner, 0) + new.size  # the new file counts towards its owner's use

        # unknown owners first; then the most over their share; then whoever keeps the most
        victim_owner = max({h.owner for h in pickable},
                           key=lambda o: (o is None, max(0, use[o] - max_student), use[o]))  # noqa: B023
        victim = min((h for h in pickable if h.owner == victim_owner), key=lambda h: h.mtime)
        drop(victim)
        total -= victim.size
    keep = new is None or new.teacher or total <= max_total
    return gone, keep


class WeightStore:
    """The weights folder of one run store; safe to use from several processes (see the module
    docstring: with ``runs``, under the store's write lock)."""

    def __init__(self, folder: pathlib.Path | str, max_run_bytes: int | None = None,
                 max_total_bytes: int | None = None, *, max_student_bytes: int | None = None,
                 runs: RunStore | None = None):
        self.folder = pathlib.Path(folder)
        run_cap, total_cap = settings.weights_caps()
        self.max_run_bytes = max_run_bytes or run_cap
        self.max_total_bytes = max_total_bytes or total_cap
        self.max_student_bytes = max_student_bytes or settings.student_weights_cap()
        self.runs = runs  # who owns each run; its write lock makes commit and eviction atomic
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, db: pathlib.Path | str, runs: RunStore | None = None) -> WeightStore:
        """The weights folder next to the store file ``db`` (``cnnviz-runs.sqlite`` → ``cnnviz-runs.weights/``);
        ``runs``: that store, opened (owners and the lock; see the module docstring)."""
        db = pathlib.Path(db)
        return cls(db.with_name(db.stem + ".weights"), runs=runs)

    def path(self, run_id: str) -> pathlib.Path:
        if not run_id.isalnum():
            raise ValueError(f"not a run id: {run_id!r}")
        return self.folder / f"{run_id}.pt"

    def staging(self, run_id: str) -> pathlib.Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f".{run_id}.{os.getpid()}.tmp"

    def exists(self, run_id: str) -> bool:
        return self.path(run_id).is_file()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            if self.runs is None:
                yield
            else:
                with self.runs.exclusive():
                    yield

    def _held(self) -> list[Held]:
        """Every kept file with its owner (read inside ``_exclusive`` when it decides anything)."""
        stats = []
        for p in self.files():
            try:
                s = p.stat()
            except FileNotFoundError:  # deleted meanwhile (a run deleted on another replica)
                continue
            stats.append((p.stem, s.st_size, s.st_mtime))
        holders = self.runs.weight_holders([rid for rid, _, _ in stats]) if self.runs is not None else {}
        out = []
        for rid, size, mtime in stats:
            owner, teacher = holders.get(rid, (None, False))  # a file whose run is gone: owner unknown
            out.append(Held(rid, owner, size, mtime, teacher))
        return out

    def cap_for(self, owner: str | None, teacher: bool = False) -> int:
        """The most one run's file may take for ``owner``: the per-run cap, and a student's share."""
        if owner is None or teacher:
            return self.max_run_bytes
        return min(self.max_run_bytes, self.max_student_bytes)

    def commit(self, run_id: str) -> str:
        """Make the staged file the run's; returns "kept", "too_big" (over the per-run cap or the
        student's share: not kept, nobody evicted) or "none" (nothing staged). Keeping it may
        evict other files (``plan_eviction``), the new one itself when only the teacher's remain."""
        tmp = self.staging(run_id)
        if not tmp.is_file():
            return "none"
        size = tmp.stat().st_size
        with self._exclusive():
            owner, teacher = (self.runs.weight_holders([run_id]).get(run_id, (None, False))
                              if self.runs is not None else (None, False))
            if size > self.cap_for(owner, teacher):
                tmp.unlink(missing_ok=True)
                return "too_big"
            final = self.path(run_id)
            os.replace(tmp, final)
            new = Held(run_id, owner, size, final.stat().st_mtime, teacher)
            self._evict(new)
        return "kept"

    def _evict(self, new: Held | None) -> list[str]:
        gone, keep = plan_eviction(self._held(), new, self.max_total_bytes, self.max_student_bytes)
        for rid in gone:
            self.path(rid).unlink(missing_ok=True)
        if new is not None and not keep:
            self.path(new.run_id).unlink(missing_ok=True)
            gone.append(new.run_id)
        return gone

    def discard(self, run_id: str) -> None:
        self.staging(run_id).unlink(missing_ok=True)

    def delete(self, run_id: str) -> None:
        self.path(run_id).unlink(missing_ok=True)
        self.discard(run_id)

    def files(self) -> list[pathlib.Path]:
        """The kept files, oldest first."""
        if not self.folder.is_dir():
            return []
        out = []
        for p in self.folder.glob("*.pt"):
            try:
                out.append((p.stat().st_mtime, p))
            except FileNotFoundError:  # evicted by another process meanwhile
                pass
        return [p for _, p in sorted(out)]

    def total_bytes(self) -> int:
        return self.usage().total_bytes

    def usage(self, student: str | None = None) -> WeightUsage:
        """The folder's files and bytes, and (with a store) what ``student`` keeps, with the caps."""
        held = self._held() if student is not None else [
            Held(p.stem, None, s.st_size, s.st_mtime) for p in self.files() for s in _stat(p)]
        mine = [h for h in held if student is not None and h.owner == student and not h.teacher]
        return WeightUsage(len(held), sum(h.size for h in held), self.max_total_bytes, self.max_run_bytes,
                           sum(h.size for h in mine), self.max_student_bytes, len(mine))

    def evict(self) -> list[str]:
        """Bring the folder within its caps (``plan_eviction`` with no new file); returns the run ids deleted."""
        with self._exclusive():
            return self._evict(None)


def _stat(p: pathlib.Path) -> list[os.stat_result]:
    """``[p.stat()]``, or ``[]`` when it was deleted meanwhile."""
    try:
        return [p.stat()]
    except FileNotFoundError:
        return []
