"""The run store: runs, their configs and every metric event, in one SQLite file.

Where: ``$CNNVIZ_DB``, else ``<data dir>/cnnviz-runs.sqlite`` (``cnnviz.train.data.data_dir()``),
else, when that folder is read-only (a shared dataset folder), the per-user cache folder.

Why it cannot be left corrupt: WAL journal mode, and every write (a run's creation, a batch
of its events together with its status) is one transaction, so a process killed mid-write
leaves the previous committed state, never half a record. A run whose process died while
it was queued or running is found by the next ``RunManager`` (its ``owner`` names a process
that is gone) and marked "interrupted"; its events up to the last commit are intact.

Tables::

    runs(id, created, started, ended, status, arch, label, config JSON, device, owner,
         code, message JSON {lang: text}, progress 0..1, summary JSON {step, epoch, test_acc, ...})
    events(run_id, seq, kind, step, data JSON)   -- data is the event's to_dict()
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.train.data import data_dir


class StoreError(CnnvizError):
    """The run store cannot be opened: not a database, a folder, no permission..."""

DB_NAME = "cnnviz-runs.sqlite"
SCHEMA_VERSION = 1
LIVE_STATUSES = ("queued", "running")
FINAL_STATUSES = ("completed", "stopped", "diverged", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, started REAL, ended REAL, status TEXT NOT NULL,
    arch TEXT NOT NULL, label TEXT NOT NULL, config TEXT NOT NULL, device TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '{}',
    progress REAL NOT NULL DEFAULT 0, summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
"""


def db_path() -> pathlib.Path:
    """``$CNNVIZ_DB``, else the data folder's store, else the user cache's (read-only data folder)."""
    env = os.environ.get("CNNVIZ_DB")
    if env:
        return pathlib.Path(env).expanduser()
    folder = data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder / DB_NAME
    except OSError:
        pass
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(cache) / "cnnviz" / DB_NAME


@dataclass(frozen=True)
class RunInfo:
    """One row of ``runs``, decoded."""

    id: str
    created: float
    status: str
    arch: str
    label: str
    config: Mapping[str, Any]  # TrainConfig.to_dict()
    device: str = ""
    started: float | None = None
    ended: float | None = None
    owner: str = ""
    code: str = ""
    message: Mapping[str, str] = field(default_factory=dict)  # {lang: text}
    progress: float = 0.0
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def text(self, lang: str = "en") -> str:
        """The status message in ``lang`` (English when that one is missing)."""
        return self.message.get(lang) or self.message.get("en", "")


class RunStore:
    """Thread-safe access to one SQLite file: one connection, one lock, a transaction per write."""

    def __init__(self, path: pathlib.Path | str | None = None):
        self.path = pathlib.Path(path) if path else db_path()
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # one connection shared by the worker threads and the page threads, serialised by the lock
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10.0)
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; crash-safe
                self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process kill
                with self._conn:
                    self._conn.executescript(_SCHEMA)
                    self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as err:  # not a database, a folder, read-only...: one clear message
            raise StoreError("train.runs.store_error", error=f"{self.path}: {err}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- writes (each one transaction) ----------------------------------------------------
    def create(self, run_id: str, arch: str, label: str, config: Mapping[str, Any], owner: str,
               device: str = "", status: str = "queued") -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO runs (id, created, status, arch, label, config, device, owner) VALUES (?,?,?,?,?,?,?,?)",
                (run_id, time.time(), status, arch, label, json.dumps(dict(config)), device, owner),
            )

    def append(self, run_id: str, first_seq: int, events: Iterable[Mapping[str, Any]], *, status: str | None = None,
               progress: float | None = None, summary: Mapping[str, Any] | None = None, code: str | None = None,
               message: Mapping[str, str] | None = None, device: str | None = None) -> None:
        """Events ``first_seq, first_seq + 1, ...`` and the run's new state, in one transaction."""
        rows = [(run_id, first_seq + i, e["kind"], int(e.get("step", 0) or 0), json.dumps(dict(e)))
                for i, e in enumerate(events)]
        sets, args = [], []
        for col, val in (("status", status), ("progress", progress), ("code", code), ("device", device)):
            if val is not None:
                sets.append(f"{col}=?")
                args.append(val)
        for col, val in (("summary", summary), ("message", message)):
            if val is not None:
                sets.append(f"{col}=?")
                args.append(json.dumps(dict(val)))
        if status == "running":
            sets.append("started=COALESCE(started, ?)")
            args.append(time.time())
        elif status in FINAL_STATUSES:
            sets.append("ended=?")
            args.append(time.time())
        with self._lock, self._conn:
            if rows:
                self._conn.executemany("INSERT INTO events (run_id, seq, kind, step, data) VALUES (?,?,?,?,?)", rows)
            if sets:
                self._conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))

    def delete(self, run_id: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM events WHERE run_id=?", (run_id,))
            self._conn.execute("DELETE FROM runs WHERE id=?", (run_id,))

    def interrupt_orphans(self, is_orphan) -> list[str]:
        """Mark queued/running runs whose ``owner`` ``is_orphan(owner)`` as "interrupted"."""
        from cnnviz.train.config import messages

        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, owner FROM runs WHERE status IN ({','.join('?' * len(LIVE_STATUSES))})", LIVE_STATUSES,
            ).fetchall()
            ids = [rid for rid, owner in rows if is_orphan(owner)]
            msg = json.dumps(messages("train.runs.interrupted"))
            with self._conn:
                for rid in ids:
                    self._conn.execute("UPDATE runs SET status='interrupted', code='train.runs.interrupted', "
                                       "message=?, ended=COALESCE(ended, ?) WHERE id=?", (msg, time.time(), rid))
        return ids

    # --- reads ----------------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLS} FROM runs WHERE id=?", (run_id,)).fetchone()
        return _info(row) if row else None

    def list(self) -> list[RunInfo]:
        """Every run, newest first."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLS} FROM runs ORDER BY created DESC").fetchall()
        return [_info(r) for r in rows]

    def events(self, run_id: str, since: int = 0) -> list[dict[str, Any]]:
        """The run's events with ``seq >= since``, in order."""
        with self._lock:
            rows = self._conn.execute("SELECT data FROM events WHERE run_id=? AND seq>=? ORDER BY seq",
                                      (run_id, since)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count_events(self, run_id: str) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM events WHERE run_id=?", (run_id,)).fetchone()[0])


_COLS = "id, created, status, arch, label, config, device, started, ended, owner, code, message, progress, summary"


def _info(row: tuple) -> RunInfo:
    (rid, created, status, arch, label, config, device, started, ended, owner, code, message, progress, summary) = row
    return RunInfo(id=rid, created=created, status=status, arch=arch, label=label, config=json.loads(config),
                   device=device, started=started, ended=ended, owner=owner, code=code, message=json.loads(message),
                   progress=float(progress), summary=json.loads(summary))
