"""Trained weights kept next to the run store: one file per run, written atomically, capped.

A job that keeps weights saves its ``state_dict`` to ``staging(run_id)`` (a temporary name in
the same folder); when the job ends completed or stopped, ``commit`` renames it to the run's
file (``os.replace``: a reader sees the old state or the whole new file, never half of one).
A file over the per-run cap is refused; past the total cap the oldest files are evicted first.
The worker records the outcome in the run's summary: ``summary["weights"]`` is "kept",
"too_big" or "none" and ``summary["weights_bytes"]`` the file's size, so a run whose summary
says "kept" but whose file is gone was evicted. ``usage()`` is the folder's files, bytes and
caps. A deleted run's file goes with it (``delete``).

Caps: ``$CNNVIZ_WEIGHTS_MAX_RUN_MB`` (default 256) and ``$CNNVIZ_WEIGHTS_MAX_MB`` (default 2048), read by
``cnnviz.settings``.
"""

from __future__ import annotations

import os
import pathlib
import threading
from dataclasses import dataclass

from cnnviz import settings

MB = settings.MB


@dataclass(frozen=True)
class WeightUsage:
    """What the weights folder holds now, and its caps (the page's "cap and eviction" line)."""

    files: int
    total_bytes: int
    max_total_bytes: int  # past this, the oldest files are evicted
    max_run_bytes: int  # a run's file over this is not kept


class WeightStore:
    """The weights folder of one run store; safe to use from several processes."""

    def __init__(self, folder: pathlib.Path | str, max_run_bytes: int | None = None,
                 max_total_bytes: int | None = None):
        self.folder = pathlib.Path(folder)
        run_cap, total_cap = settings.weights_caps()
        self.max_run_bytes = max_run_bytes or run_cap
        self.max_total_bytes = max_total_bytes or total_cap
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, db: pathlib.Path | str) -> WeightStore:
        """The weights folder next to the store file ``db`` (``cnnviz-runs.sqlite`` → ``cnnviz-runs.weights/``)."""
        db = pathlib.Path(db)
        return cls(db.with_name(db.stem + ".weights"))

    def path(self, run_id: str) -> pathlib.Path:
        if not run_id.isalnum():
            raise ValueError(f"not a run id: {run_id!r}")
        return self.folder / f"{run_id}.pt"

    def staging(self, run_id: str) -> pathlib.Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f".{run_id}.{os.getpid()}.tmp"

    def exists(self, run_id: str) -> bool:
        return self.path(run_id).is_file()

    def commit(self, run_id: str) -> str:
        """Make the staged file the run's; returns "kept", "too_big" or "none" (nothing staged)."""
        tmp = self.staging(run_id)
        if not tmp.is_file():
            return "none"
        if tmp.stat().st_size > self.max_run_bytes:
            tmp.unlink(missing_ok=True)
            return "too_big"
        with self._lock:
            os.replace(tmp, self.path(run_id))
            self.evict()
        return "kept"

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

    def usage(self) -> WeightUsage:
        sizes = []
        for p in self.files():
            try:
                sizes.append(p.stat().st_size)
            except FileNotFoundError:
                pass
        return WeightUsage(len(sizes), sum(sizes), self.max_total_bytes, self.max_run_bytes)

    def evict(self) -> list[str]:
        """Delete the oldest files until the folder is within the total cap; returns their run ids."""
        gone = []
        files = self.files()
        total = sum(p.stat().st_size for p in files if p.exists())
        for p in files:
            if total <= self.max_total_bytes:
                break
            try:
                size = p.stat().st_size
                p.unlink()
            except FileNotFoundError:
                continue
            total -= size
            gone.append(p.stem)
        return gone
