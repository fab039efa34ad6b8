"""The run store: every job (training runs and lab jobs), its events, who asked for it, and the
worker pool's heartbeat, in one SQLite file. It is also the scheduler's queue: replicas write
requests into it, worker processes claim jobs from it, and every page reads events out of it.

Where: ``cnnviz.settings.db_path()`` (``$CNNVIZ_DB``, else ``<data dir>/cnnviz-runs.sqlite``, else,
when that folder is read-only, the per-user cache folder).

Why it cannot be left corrupt: WAL journal mode, and every write (a job's creation with its
first request, a batch of events together with the job's status, a claim) is one
transaction, so a process killed mid-write leaves the previous committed state, never half a
record. Several processes share the file: each opens its own connection; ``BEGIN IMMEDIATE``
serialises the writes that read before they write (a claim, an attach), so two workers never
claim one job and two identical requests never create two jobs.

Tables::

    runs(id, created, started, ended, status, arch, label, config JSON, device, owner,
         code, message JSON {lang: text}, progress 0..1, summary JSON {step, epoch, test_acc, ...},
         kind, key, worker, stop, est_s)
        -- owner: the student (a hash of their token) who first asked for it; key: the content
        -- key (identical requests share the job); worker: "host:pid" of the process running it;
        -- stop: 1 once its last watcher (or the teacher) asked it to stop; est_s: solo seconds;
        -- mem_bytes: the memory it reserves while it runs; limit_s: the wall time it may take
        -- once started (a student's bound × 1.5, cnnviz.runs.admission; NULL: none)
    requests(run_id, student, created)    -- who watches a job: their "my runs" list
    students(student, name, last_seen, served)  -- served: when their last job started (round-robin)
    members(student, created, address, removed)  -- identities admitted to the class (cnnviz.runs.identity);
        -- removed: when the teacher removed it (0: active); address: the client address that made it
    admissions(address, at, what)  -- new identities and wrong join codes per address (the rate limit)
    classroom(key, value)          -- the class's own settings (the join code the teacher set)
    pool(id=1, host, pid, started, heartbeat, workers, threads)
    events(run_id, seq, kind, step, data JSON)   -- data is the event's to_dict()
"""

from __future__ import annotations

import builtins  # RunStore.list shadows the built-in in the class's later annotations
import contextlib
import json
import os
import pathlib
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.settings import db_path
from cnnviz.status import FINAL, LIVE, SHAREABLE, Status, sql_in
from cnnviz.train.events import Event, event_from_dict


def worker_name(pid: int | None = None) -> str:
    """How the store names a worker process (a run's ``worker``): ``host:pid``."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


class StoreError(CnnvizError):
    """The run store cannot be opened: not a database, a folder, no permission..."""

SCHEMA_VERSION = 2  # written as PRAGMA user_version; a store from a newer cnnviz is refused (StoreError)
LIVE_SQL, SHAREABLE_SQL = sql_in(LIVE), sql_in(SHAREABLE)  # an identical request attaches to SHAREABLE
TEACHER = "teacher"  # the student value of the teacher's own requests (pre-warm)
# how long a statement waits for another process's write lock before "database is locked"
# (read when a store is opened; writes that must not be lost retry beyond it: cnnviz.runs.busy)
BUSY_TIMEOUT_S = 30.0

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
CREATE TABLE IF NOT EXISTS requests (
    run_id TEXT NOT NULL, student TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (run_id, student)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS requests_student ON requests (student);
CREATE TABLE IF NOT EXISTS students (
    student TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', last_seen REAL NOT NULL DEFAULT 0,
    served REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    student TEXT PRIMARY KEY, created REAL NOT NULL, address TEXT NOT NULL DEFAULT '',
    removed REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admissions (address TEXT NOT NULL, at REAL NOT NULL, what TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS admissions_address ON admissions (address, at);
CREATE TABLE IF NOT EXISTS classroom (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pool (
    id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL, started REAL NOT NULL,
    heartbeat REAL NOT NULL, workers INTEGER NOT NULL, threads INTEGER NOT NULL,
    executor TEXT NOT NULL DEFAULT 'local', detail TEXT NOT NULL DEFAULT '{}'
);
"""
# columns that schema 1 lacked (a store written before the scheduler): added in place
_V2_COLUMNS = (("kind", "TEXT NOT NULL DEFAULT 'train'"), ("key", "TEXT NOT NULL DEFAULT ''"),
               ("worker", "TEXT NOT NULL DEFAULT ''"), ("stop", "INTEGER NOT NULL DEFAULT 0"),
               ("est_s", "REAL"), ("mem_bytes", "INTEGER"), ("limit_s", "REAL"))
_POOL_COLUMNS = (("executor", "TEXT NOT NULL DEFAULT 'local'"), ("detail", "TEXT NOT NULL DEFAULT '{}'"))


@dataclass(frozen=True)
class RunInfo:
    """One row of ``runs``, decoded."""

    id: str
    created: float
    status: Status
    arch: str
    label: str
    config: Mapping[str, Any]  # TrainConfig.to_dict(), or a lab job's parameters
    device: str = ""
    started: float | None = None
    ended: float | None = None
    owner: str = ""  # the student who first asked for it
    code: str = ""
    message: Mapping[str, str] = field(default_factory=dict)  # {lang: text}
    progress: float = 0.0
    summary: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "train"
    key: str = ""
    worker: str = ""
    stop: bool = False
    est_s: float | None = None
    mem_bytes: int | None = None  # reserved while it runs (cnnviz.runs.admission)
    limit_s: float | None = None  # wall seconds it may run once started; then its worker stops it

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def text(self, lang: str = "en") -> str:
        """The status message in ``lang`` (English when that one is missing)."""
        return self.message.get(lang) or self.message.get("en", "")


@dataclass(frozen=True)
class PoolInfo:
    """The worker pool's row: who serves this store, and since when it last said so."""

    host: str
    pid: int
    started: float
    heartbeat: float
    workers: int
    threads: int
    executor: str = "local"  # "local" (worker processes) or "ray"
    detail: Mapping[str, Any] = field(default_factory=dict)  # Ray: address, resources; why Ray is off

    def alive(self, now: float | None = None, stale_s: float = 5.0) -> bool:
        return ((now or time.time()) - self.heartbeat) < stale_s


class RunStore:
    """Thread-safe access to one SQLite file: one connection per store object, one lock, a
    transaction per write. Every process (replica, pool, worker) opens its own."""

    def __init__(self, path: pathlib.Path | str | None = None):
        self.path = pathlib.Path(path) if path else db_path()
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # one connection shared by this process's threads, serialised by the lock; autocommit
            # mode (isolation_level=None) so that BEGIN IMMEDIATE below is ours to issue
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT_S,
                                         isolation_level=None)
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; crash-safe
                self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process kill
                version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:  # written by a newer cnnviz: its columns mean what this one cannot know
                    raise StoreError("train.runs.store_newer", path=str(self.path), version=version,
                                     ours=SCHEMA_VERSION)
                had_members = self._conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='members'").fetchone() is not None
                self._conn.executescript(_SCHEMA)  # IF NOT EXISTS: a no-op on an existing store
                with self._tx():
                    have = {r[1] for r in self._conn.execute("PRAGMA table_info(runs)")}
                    for col, decl in _V2_COLUMNS:
                        if col not in have:
                            self._conn.execute(f"ALTER TABLE runs ADD COLUMN {col} {decl}")
                    have = {r[1] for r in self._conn.execute("PRAGMA table_info(pool)")}
                    for col, decl in _POOL_COLUMNS:
                        if col not in have:
                            self._conn.execute(f"ALTER TABLE pool ADD COLUMN {col} {decl}")
                    self._conn.execute("CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created)")
                    self._conn.execute("CREATE INDEX IF NOT EXISTS runs_key ON runs (key)")
                    if not had_members:  # a store from before identities: its students stay students
                        self._conn.execute("INSERT OR IGNORE INTO members (student, created) SELECT student, "
                                           "last_seen FROM students WHERE student != ?", (TEACHER,))
                    self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as err:  # not a database, a folder, read-only...: one clear message
            # from err: the cause tells a busy store (cnnviz.runs.busy.is_busy) from a broken one
            raise StoreError("train.runs.store_error", error=f"{self.path}: {err}") from err

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    class _Tx:
        def __init__(self, conn: sqlite3.Connection, immediate: bool):
            self.conn, self.immediate = conn, immediate

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")

    def _tx(self, immediate: bool = True) -> RunStore._Tx:
        """A transaction; IMMEDIATE takes the write lock at BEGIN, so what it reads stays true."""
        return RunStore._Tx(self._conn, immediate)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The store's write lock, held across processes for the block (one IMMEDIATE
        transaction): the weights folder's commit and eviction run under it, so two workers
        never evict at once. Reads of this store inside the block see one state."""
        with self.write():
            yield

    def weight_holders(self, run_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """``{run id: (owner, the teacher's?)}`` for the jobs among ``run_ids`` that exist: who is
        charged for a run's kept weights, and whether they are the teacher's (owned by or requested
        by ``TEACHER``: the pre-warm, which attaches to a student's identical run too)."""
        ids = [*run_ids]
        out: dict[str, tuple[str, bool]] = {}
        with self._lock:
            for i in range(0, len(ids), 500):  # SQLite's bound-variable limit
                part = ids[i:i + 500]
                rows = self._conn.execute(
                    f"SELECT r.id, r.owner, r.owner=? OR EXISTS (SELECT 1 FROM requests q WHERE q.run_id=r.id "
                    f"AND q.student=?) FROM runs r WHERE r.id IN ({','.join('?' * len(part))})",
                    (TEACHER, TEACHER, *part)).fetchall()
                out.update({rid: (owner, bool(teacher)) for rid, owner, teacher in rows})
        return out

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """This store's connection in one IMMEDIATE transaction, under its lock: for the modules
        beside it that keep their own tables here (``cnnviz.runs.identity``)."""
        with self._lock, self._tx() as conn:
            yield conn

    def read(self, sql: str, args: Iterable[Any] = ()) -> builtins.list[tuple]:
        """The rows of one query (no transaction: a single statement reads one snapshot)."""
        with self._lock:
            return self._conn.execute(sql, tuple(args)).fetchall()

    # --- creating, attaching, detaching -----------------------------------------------------
    def create(self, run_id: str, arch: str, label: str, config: Mapping[str, Any], owner: str,
               device: str = "", status: Status = Status.QUEUED, kind: str = "train", key: str = "",
               est_s: float | None = None, *, worker: str = "", started: float | None = None,
               mem_bytes: int | None = None, limit_s: float | None = None) -> RunInfo:
        """A new job and its first request (``owner``'s), in one transaction; its row.

        ``status=Status.RUNNING`` with ``worker`` and ``started``: a job that a process outside the
        pool runs itself (``python -m cnnviz train`` records its run so, then ``run_job``)."""
        with self._lock, self._tx():
            self._insert(run_id, arch, label, config, owner, device, status, kind, key, est_s, worker, started,
                         mem_bytes, limit_s)
        info = self.get(run_id)
        assert info is not None  # just written, in this transaction's wake
        return info

    def _insert(self, run_id, arch, label, config, owner, device, status, kind, key, est_s, worker="",
                started=None, mem_bytes=None, limit_s=None) -> None:
        now = time.time()
        self._conn.execute(
            "INSERT INTO runs (id, created, status, arch, label, config, device, owner, kind, key, est_s, worker, "
            "started, mem_bytes, limit_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, now, status, arch, label, json.dumps(dict(config)), device, owner, kind, key, est_s, worker,
             started, mem_bytes, limit_s),
        )
        if owner:
            self._conn.execute("INSERT OR IGNORE INTO requests (run_id, student, created) VALUES (?,?,?)",
                               (run_id, owner, now))

    def attach_or_create(self, run_id: str, key: str, student: str, *, arch: str, label: str,
                         config: Mapping[str, Any], kind: str, device: str = "", est_s: float | None = None,
                         max_live: int | None = None, replace_kinds: tuple[str, ...] = (),
                         mem_bytes: int | None = None, limit_s: float | None = None) -> tuple[str, bool, list[str]]:
        """Attach ``student`` to the shareable job with content ``key``, or create ``run_id``.

        In one IMMEDIATE transaction, so twenty identical requests at once make one job:

        * ``replace_kinds``: the student's live requests of these kinds are dropped first (a lab
          page's new settings replace its previous job); the ids dropped are returned, and a job
          left with no watcher is flagged to stop.
        * ``max_live``: a student already watching that many live jobs of the same group
          (training runs, or lab jobs: every other kind) after the replacement gets
          ``LiveLimit`` (the page says which job is in the way).

        Returns ``(run id, attached to an existing job?, dropped ids)``.
        """
        with self._lock, self._tx():
            dropped = []
            if replace_kinds:
                marks = ",".join("?" * len(replace_kinds))
                rows = self._conn.execute(
                    "SELECT r.id FROM runs r JOIN requests q ON q.run_id=r.id WHERE q.student=? "
                    f"AND r.kind IN ({marks}) AND r.status IN {LIVE_SQL} AND r.key != ?",
                    (student, *replace_kinds, key)).fetchall()
                for (rid,) in rows:
                    self._detach(rid, student)
                    dropped.append(rid)
            row = None
            if key:
                row = self._conn.execute(
                    f"SELECT id FROM runs WHERE key=? AND status IN {SHAREABLE_SQL} AND stop=0 "
                    "ORDER BY created DESC LIMIT 1", (key,)).fetchone()
            if row is not None:
                mine = self._conn.execute("SELECT 1 FROM requests WHERE run_id=? AND student=?",
                                          (row[0], student)).fetchone()
                if not mine:
                    self._check_limit(student, max_live, row[0], kind)
                    self._conn.execute("INSERT INTO requests (run_id, student, created) VALUES (?,?,?)",
                                       (row[0], student, time.time()))
                return row[0], True, dropped
            self._check_limit(student, max_live, None, kind)
            self._insert(run_id, arch, label, config, student, device, Status.QUEUED, kind, key, est_s,
                         mem_bytes=mem_bytes, limit_s=limit_s)
            return run_id, False, dropped

    def _check_limit(self, student: str, max_live: int | None, joining: str | None, kind: str = "train") -> None:
        """``LiveLimit`` when ``student`` already watches ``max_live`` live jobs of ``kind``'s group:
        training runs count against one share, lab jobs (any other kind) against their own."""
        if max_live is None or student == TEACHER:
            return
        same_group = "r.kind='train'" if kind == "train" else "r.kind!='train'"
        rows = self._conn.execute(
            f"SELECT r.id FROM runs r JOIN requests q ON q.run_id=r.id WHERE q.student=? AND {same_group} "
            f"AND r.status IN {LIVE_SQL} ORDER BY r.created", (student,)).fetchall()
        if joining is not None:
            row = self._conn.execute("SELECT status FROM runs WHERE id=?", (joining,)).fetchone()
            if row and row[0] not in LIVE:
                return  # a finished run costs nothing: always open to everyone
        if len(rows) >= max_live:
            raise LiveLimit("train.runs.limit" if kind == "train" else "ident.lab_limit", n=max_live,
                            run_id=rows[0][0])

    def _detach(self, run_id: str, student: str) -> int:
        """Drop ``student``'s request; a live job nobody watches any more is flagged to stop
        (a queued one stops at once). Returns how many watchers remain."""
        self._conn.execute("DELETE FROM requests WHERE run_id=? AND student=?", (run_id, student))
        left = self._conn.execute("SELECT COUNT(*) FROM requests WHERE run_id=?", (run_id,)).fetchone()[0]
        if left == 0:
            self._stop_now(run_id)
        return int(left)

    def _stop_now(self, run_id: str) -> None:
        from cnnviz.i18n import messages

        self._conn.execute(f"UPDATE runs SET stop=1 WHERE id=? AND status IN {LIVE_SQL}", (run_id,))
        self._conn.execute("UPDATE runs SET status=?, code='train.runs.stopped_queued', message=?, "
                           "ended=? WHERE id=? AND status=?",
                           (Status.STOPPED, json.dumps(messages("train.runs.stopped_queued")), time.time(), run_id,
                            Status.QUEUED))

    def detach(self, run_id: str, student: str) -> int:
        """``student`` stops watching ``run_id`` (their Stop on a shared job); see ``_detach``."""
        with self._lock, self._tx():
            return self._detach(run_id, student)

    def request_stop(self, run_id: str) -> None:
        """Stop a job for everyone (the teacher, or its only watcher): queued at once, running
        within one step (the worker polls the flag)."""
        with self._lock, self._tx():
            self._stop_now(run_id)

    def shareable(self, key: str) -> RunInfo | None:
        """The job an identical request would attach to now, if any."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLS} FROM runs WHERE key=? AND status IN {SHAREABLE_SQL} AND stop=0 "
                "ORDER BY created DESC LIMIT 1", (key,)).fetchone()
        return _info(row) if row else None

    def unshare(self, run_id: str) -> None:
        """Never attach another request to this job (its weights were evicted: recompute instead)."""
        with self._lock, self._tx():
            self._conn.execute("UPDATE runs SET key='' WHERE id=?", (run_id,))

    def watchers(self, run_id: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT student FROM requests WHERE run_id=? ORDER BY created",
                                                     (run_id,))]

    def watching(self, run_id: str, student: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM requests WHERE run_id=? AND student=?",
                                      (run_id, student)).fetchone() is not None

    def stop_requested(self, run_id: str) -> bool:
        """The flag a worker polls every step (a missing row is a deleted job: stop)."""
        with self._lock:
            row = self._conn.execute("SELECT stop FROM runs WHERE id=?", (run_id,)).fetchone()
        return row is None or bool(row[0])

    # --- the queue: claiming, order, the pool ------------------------------------------------
    def claim(self, worker: str, kinds: Iterable[str] | None = None, memory: int | None = None) -> RunInfo | None:
        """The next queued job, round-robin across students, marked running by ``worker``.

        Order: the student whose last job started longest ago first (never served: first of
        all), then the oldest request. Teacher-owned jobs (pre-warm) take their turn like a
        student's. One IMMEDIATE transaction: two workers never claim the same job.

        ``memory``: the bytes running jobs may reserve in all (``cnnviz.runs.admission``): the
        first job in that order whose reservation fits beside the running jobs' is claimed, the
        ones before it wait for memory (a small job is not held up behind a big one; the big one
        starts once enough has freed). With nothing running, the first job starts whatever it
        reserves: admission refused at submit what could never fit.
        """
        with self._lock:  # an idle worker asks ten times a second: a plain read first, no write lock
            if self._conn.execute("SELECT 1 FROM runs WHERE status=? LIMIT 1", (Status.QUEUED,)).fetchone() is None:
                return None
        with self._lock, self._tx():
            rows = self._conn.execute(f"SELECT {_COLS_R} FROM runs r LEFT JOIN students s ON s.student=r.owner "
                                      f"WHERE r.status=? ORDER BY {QUEUE_ORDER}" + ("" if memory else " LIMIT 1"),
                                      (Status.QUEUED,)).fetchall()
            row = rows[0] if rows else None
            if memory and rows:
                held, n = self._conn.execute("SELECT COALESCE(SUM(mem_bytes), 0), COUNT(*) FROM runs WHERE status=?",
                                             (Status.RUNNING,)).fetchone()
                row = next((r for r in rows if n == 0 or held + (_info(r).mem_bytes or 0) <= memory), None)
            if row is None:
                return None
            info = _info(row)
            now = time.time()
            self._conn.execute("UPDATE runs SET status=?, worker=?, started=? WHERE id=?",
                               (Status.RUNNING, worker, now, info.id))
            self._conn.execute("INSERT INTO students (student, served) VALUES (?, ?) "
                               "ON CONFLICT(student) DO UPDATE SET served=excluded.served", (info.owner, now))
        return self.get(info.id)

    def queue(self) -> list[RunInfo]:
        """The queued jobs in the order the workers will take them: ``claim``'s order replayed,
        each claim moving its student to the back (a student with three queued jobs gets one
        per round, not three in a row)."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLS_R}, COALESCE(s.served, 0) FROM runs r LEFT JOIN students s "
                                      "ON s.student=r.owner WHERE r.status=? ORDER BY r.created",
                                      (Status.QUEUED,)).fetchall()
        served: dict[str, float] = {}
        left = []
        for row in rows:
            info = _info(row[:-1])
            served.setdefault(info.owner, row[-1])
            left.append(info)
        clock, out = max([time.time(), *served.values()]), []
        while left:
            nxt = min(left, key=lambda i: (served[i.owner], i.created))
            left.remove(nxt)
            out.append(nxt)
            clock += 1.0
            served[nxt.owner] = clock
        return out

    def reserved(self) -> int:
        """Bytes the running jobs reserve (``mem_bytes``) in all."""
        with self._lock:
            return int(self._conn.execute("SELECT COALESCE(SUM(mem_bytes), 0) FROM runs WHERE status=?",
                                          (Status.RUNNING,)).fetchone()[0])

    def running(self) -> list[RunInfo]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLS} FROM runs WHERE status=? ORDER BY started",
                                      (Status.RUNNING,)).fetchall()
        return [_info(r) for r in rows]

    def end_worker_jobs(self, worker: str, status: Status, code: str, message: Mapping[str, str]) -> list[str]:
        """End every running job of ``worker`` (a process that died) with ``status``."""
        with self._lock, self._tx():
            ids = [r[0] for r in self._conn.execute("SELECT id FROM runs WHERE status=? AND worker=?",
                                                    (Status.RUNNING, worker))]
            self._conn.executemany("UPDATE runs SET status=?, code=?, message=?, ended=? WHERE id=?",
                                   [(status, code, json.dumps(dict(message)), time.time(), rid) for rid in ids])
        return ids

    def interrupt_running(self, message: Mapping[str, str], code: str = "train.runs.interrupted",
                          keep: Callable[[str], bool] | None = None) -> list[str]:
        """Mark every running job interrupted (a pool starting after a server that went away),
        except those whose worker ``keep(worker)`` says is still at work (a CLI run in its own
        process)."""
        with self._lock, self._tx():
            ids = [r[0] for r in self._conn.execute("SELECT id, worker FROM runs WHERE status=?", (Status.RUNNING,))
                   if keep is None or not keep(r[1] or "")]
            self._conn.executemany("UPDATE runs SET status=?, code=?, message=?, "
                                   "ended=COALESCE(ended, ?) WHERE id=?",
                                   [(Status.INTERRUPTED, code, json.dumps(dict(message)), time.time(), rid)
                                    for rid in ids])
        return ids

    def pool_beat(self, host: str, pid: int, started: float, workers: int, threads: int, executor: str = "local",
                  detail: Mapping[str, Any] | None = None) -> None:
        with self._lock, self._tx():
            self._conn.execute("INSERT INTO pool (id, host, pid, started, heartbeat, workers, threads, executor, "
                               "detail) VALUES (1,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET host=excluded.host, "
                               "pid=excluded.pid, started=excluded.started, heartbeat=excluded.heartbeat, "
                               "workers=excluded.workers, threads=excluded.threads, executor=excluded.executor, "
                               "detail=excluded.detail",
                               (host, pid, started, time.time(), workers, threads, executor,
                                json.dumps(dict(detail or {}))))

    def pool_gone(self, pid: int) -> None:
        with self._lock, self._tx():
            self._conn.execute("UPDATE pool SET heartbeat=0 WHERE pid=?", (pid,))

    def pool(self) -> PoolInfo | None:
        with self._lock:
            row = self._conn.execute("SELECT host, pid, started, heartbeat, workers, threads, executor, detail "
                                     "FROM pool").fetchone()
        if not row:
            return None
        host, pid, started, heartbeat, workers, threads, executor, detail = row
        return PoolInfo(host, pid, started, heartbeat, workers, threads, executor, json.loads(detail))

    # --- students ----------------------------------------------------------------------------
    def touch(self, student: str, name: str | None = None) -> None:
        """``student`` was seen now (a page rerun); ``name`` the one they chose, if any."""
        with self._lock, self._tx():
            self._conn.execute("INSERT INTO students (student, name, last_seen) VALUES (?, ?, ?) "
                               "ON CONFLICT(student) DO UPDATE SET last_seen=excluded.last_seen"
                               + (", name=excluded.name" if name is not None else ""),
                               (student, name or "", time.time()))

    def students(self, since: float = 0.0) -> list[tuple[str, str, float]]:
        """(student, name, last seen) of everyone seen since ``since``, most recent first."""
        with self._lock:
            return [tuple(r) for r in self._conn.execute(
                "SELECT student, name, last_seen FROM students WHERE last_seen>=? AND student != ? "
                "ORDER BY last_seen DESC", (since, TEACHER))]

    def names(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT student, name FROM students WHERE name != ''").fetchall())

    # --- events and state ----------------------------------------------------------------------
    def append(self, run_id: str, first_seq: int, events: Iterable[Event], *, status: Status | None = None,
               progress: float | None = None, summary: Mapping[str, Any] | None = None, code: str | None = None,
               message: Mapping[str, str] | None = None, device: str | None = None) -> None:
        """Events ``first_seq, first_seq + 1, ...`` and the job's new state, in one transaction."""
        rows = [(run_id, first_seq + i, e.kind, int(getattr(e, "step", 0) or 0), json.dumps(e.to_dict()))
                for i, e in enumerate(events)]
        sets: list[str] = []
        args: list[Any] = []
        plain: tuple[tuple[str, Any], ...] = (("status", status), ("progress", progress), ("code", code),
                                              ("device", device))
        for col, val in plain:
            if val is not None:
                sets.append(f"{col}=?")
                args.append(val)
        as_json: tuple[tuple[str, Mapping[str, Any] | None], ...] = (("summary", summary), ("message", message))
        for col, js in as_json:
            if js is not None:
                sets.append(f"{col}=?")
                args.append(json.dumps(dict(js)))
        if status == Status.RUNNING:
            sets.append("started=COALESCE(started, ?)")
            args.append(time.time())
        elif status in FINAL:
            sets.append("ended=?")
            args.append(time.time())
        with self._lock, self._tx():
            if self._conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
                return  # deleted while it ran: no orphan events
            if rows:
                self._conn.executemany("INSERT INTO events (run_id, seq, kind, step, data) VALUES (?,?,?,?,?)", rows)
            if sets:
                self._conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))

    def delete(self, run_id: str) -> None:
        with self._lock, self._tx():
            self._conn.execute("DELETE FROM events WHERE run_id=?", (run_id,))
            self._conn.execute("DELETE FROM requests WHERE run_id=?", (run_id,))
            self._conn.execute("DELETE FROM runs WHERE id=?", (run_id,))

    def clear(self, keep_kinds: Iterable[str] = ()) -> list[str]:
        """Every job and its events (the teacher's "clear the class") but those of ``keep_kinds``
        (the machine's calibration is not the class's); live ones are flagged to stop first and
        deleted by their worker when it notices (a missing row means stop)."""
        keep = tuple(keep_kinds)
        marks = ",".join("?" * len(keep))
        where = f" WHERE kind NOT IN ({marks})" if keep else ""
        with self._lock, self._tx():
            ids = [r[0] for r in self._conn.execute(f"SELECT id FROM runs{where}", keep)]
            for i in range(0, len(ids), 500):  # SQLite's bound-variable limit
                part = ids[i:i + 500]
                q = ",".join("?" * len(part))
                self._conn.execute(f"DELETE FROM events WHERE run_id IN ({q})", part)
                self._conn.execute(f"DELETE FROM requests WHERE run_id IN ({q})", part)
                self._conn.execute(f"DELETE FROM runs WHERE id IN ({q})", part)
        return ids

    # --- reads ----------------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLS} FROM runs WHERE id=?", (run_id,)).fetchone()
        return _info(row) if row else None

    def list(self, student: str | None = None, kinds: Iterable[str] | None = None) -> list[RunInfo]:
        """Every job (or those ``student`` asked for), newest first; ``kinds`` filters by kind."""
        where, args = [], []
        if student is not None:
            where.append("id IN (SELECT run_id FROM requests WHERE student=?)")
            args.append(student)
        if kinds is not None:
            kinds = tuple(kinds)
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            args.extend(kinds)
        sql = (f"SELECT {_COLS} FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created DESC")
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [_info(r) for r in rows]

    def events(self, run_id: str, since: int = 0) -> builtins.list[Event]:
        """The job's events with ``seq >= since``, in order, as the typed records the worker wrote."""
        with self._lock:
            rows = self._conn.execute("SELECT data FROM events WHERE run_id=? AND seq>=? ORDER BY seq",
                                      (run_id, since)).fetchall()
        return [event_from_dict(json.loads(r[0])) for r in rows]

    def count_events(self, run_id: str) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM events WHERE run_id=?", (run_id,)).fetchone()[0])


class LiveLimit(CnnvizError):
    """A student who already has their share of queued or running jobs."""


_FIELDS = ("id", "created", "status", "arch", "label", "config", "device", "started", "ended", "owner", "code",
           "message", "progress", "summary", "kind", "key", "worker", "stop", "est_s", "mem_bytes", "limit_s")
_COLS = ", ".join(_FIELDS)
_COLS_R = ", ".join(f"r.{c}" for c in _FIELDS)
# round-robin: the student served longest ago first (never: 0), then the oldest job
QUEUE_ORDER = "COALESCE(s.served, 0), r.created"


def _info(row: tuple) -> RunInfo:
    (rid, created, status, arch, label, config, device, started, ended, owner, code, message, progress, summary,
     kind, key, worker, stop, est_s, mem_bytes, limit_s) = row
    return RunInfo(id=rid, created=created, status=Status(status), arch=arch, label=label, config=json.loads(config),
                   device=device, started=started, ended=ended, owner=owner, code=code, message=json.loads(message),
                   progress=float(progress), summary=json.loads(summary), kind=kind, key=key, worker=worker,
                   stop=bool(stop), est_s=est_s, mem_bytes=mem_bytes, limit_s=limit_s)
