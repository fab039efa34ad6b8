"""The scheduler, as every page, the CLI and the tests see it: submit, watch, stop, delete.

There is one queue for every heavy job (training runs and lab jobs), and it lives in the run
store (``cnnviz.runs.store``), so every replica of the app shares it; worker processes of one
pool (``cnnviz.runs.pool``) take jobs from it round-robin across students. A ``Scheduler``
holds no job state of its own: it writes requests, reads rows and events, and keeps a cache
of events shared by every session of its process (a live job's new events are read once per
process, not once per student).

    sch = Scheduler()                                    # store at db_path(); starts a pool if none
    t = sch.submit("train", cfg.to_dict(), student)      # → Ticket(run_id, attached)
    sch.get(t.run_id).status; sch.events(t.run_id)       # from the store, every replica alike
    sch.place(t.run_id)                                  # queue position, ETA to start and to end
    sch.stop(t.run_id, student); sch.delete(t.run_id, student)

The job kinds are ``cnnviz.jobs``'s: a process imports that package before it submits.

Identity: a request is identified by its content (``cnnviz.runs.kinds.content_key``): a request
identical to a queued, running or finished job attaches to it (20 students, one computation).
Ownership: a student acts only on the jobs they asked for. Their Stop on a shared job only
detaches them (it goes on for the others); the last watcher's Stop, or the teacher's, stops it
within one step. Their Delete removes it from their list, and deletes it once nobody else
watches it. Anything else is ``NotYours``. Fair shares: at most ``max_live`` training runs
queued or running per student (``$CNNVIZ_MAX_LIVE``, default 1), and at most ``max_lab_live``
lab jobs besides (``$CNNVIZ_MAX_LAB_LIVE``, default 1); a lab page's new job replaces the same
student's previous one of its kind.

Membership (``cnnviz.runs.identity``): ``submit`` refuses a student the teacher removed, and,
when the class has a join code, one who has not joined (``NotMember``); a removed student acts
on nothing. ``remove_identity`` is the teacher's hand on one identity.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import pathlib
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnnviz import settings
from cnnviz.errors import CnnvizError
from cnnviz.export.runcsv import events_csv
from cnnviz.runs import admission, calibration
from cnnviz.runs.identity import REMOVED, Identities, NotMember
from cnnviz.runs.kinds import JobKind, content_key, get_kind
from cnnviz.runs.pool import pool_running, spawn_pool
from cnnviz.runs.store import TEACHER, RunInfo, RunStore
from cnnviz.runs.weights import WeightStore
from cnnviz.safe import verbatim
from cnnviz.status import Status
from cnnviz.train.events import Event

log = logging.getLogger(__name__)

EVENT_CACHE_RUNS = 64
DEFAULT_EST_S = 20.0  # a job nothing is known about yet
START_OVERHEAD_S = 0.6  # a job's set-up in a warm worker: data from the page cache, the model built
POOL_START_S = 20.0  # how long a freshly started pool may take to beat before another is started
HEAL_EVERY_S = 2.0  # a page view looks at the pool's heartbeat at most this often per process (``heal``)


# a failed job that a restart may run again: its worker died under it (killed, out of memory, a
# machine gone), not its own error; an interrupted one always may (``Scheduler.restart``)
RESTARTABLE_CODES = frozenset({"train.runs.worker_died", "train.runs.process_gone", "train.runs.ray_died"})

# what a student's Stop or Delete did: stopped (for everyone), left (others still watch it), deleted
STOPPED, LEFT, DELETED = Status.STOPPED.value, "left", "deleted"


class RunError(CnnvizError):
    """A run id that does not exist (an old URL), or an action the run's state forbids."""


class NotYours(CnnvizError):
    """An action on a job this student did not ask for (a shared URL, a crafted request)."""


@dataclass(frozen=True)
class Ticket:
    run_id: str
    attached: bool  # joined an identical job that already existed
    replaced: tuple[str, ...] = ()  # this student's jobs the new one replaced (a lab page)


@dataclass(frozen=True)
class _Prepared:
    kind: JobKind[Any]
    params: dict[str, Any]  # canonical JSON
    arch: str
    label: str
    key: str  # "" when never shared
    device: str
    est_s: float  # for the queue's ETAs: the estimate, else DEFAULT_EST_S
    known_s: float | None  # the estimate admission reads (None: nothing measured yet)
    mem_bytes: int  # what it reserves while it runs


@dataclass(frozen=True)
class Removal:
    """What ``remove_identity`` did to the identity's jobs: stopped (or cancelled in the queue),
    deleted, kept read-only, left (shared jobs that go on for their other watchers)."""

    stopped: int
    deleted: int
    kept: int
    left: int


@dataclass(frozen=True)
class Place:
    """Where a job stands: its place in the queue (0: running or done) and the ETAs, in seconds
    from now, of its start and its end (None: finished)."""

    position: int
    ahead: int
    start_s: float | None
    end_s: float | None


class Scheduler:
    """See the module docstring. Thread-safe; one per process and store is enough."""

    def __init__(self, db: str | os.PathLike | None = None, *, pool: str | None = None,
                 pool_argv: Sequence[str] | None = None, max_live: int | None = None,
                 pool_log: str | os.PathLike | None = None, max_lab_live: int | None = None):
        self.store = RunStore(os.fspath(db) if db is not None else None)
        self.weights = WeightStore.beside(self.store.path, runs=self.store)
        # "auto": start a pool when none serves this store (``streamlit run app.py`` alone);
        # "external": the classroom launcher runs it; "none": never (tests that drive workers)
        self.pool_mode = pool or settings.pool_mode()
        self.pool_argv = list(pool_argv or [sys.executable, "-m", "cnnviz", "pool"])
        self.pool_log = pathlib.Path(pool_log) if pool_log else settings.pool_log(self.store.path)
        self.max_live = max_live or settings.max_live()
        self.max_lab_live = max_lab_live or settings.max_lab_live()
        self.identities = Identities(self.store)
        self._lock = threading.RLock()
        self._events: collections.OrderedDict[str, list] = collections.OrderedDict()
        self._final: set[str] = set()
        self._pool_proc: subprocess.Popen | None = None
        self._pool_started = 0.0
        self._healed = time.monotonic()  # the last heal() that looked (ensure_pool below looks now)
        self.ensure_pool()

    def close(self) -> None:
        self.store.close()

    # --- the pool ---------------------------------------------------------------------------
    def ensure_pool(self) -> bool:
        """Start a pool for this store if none serves it (mode "auto"); whether one serves it."""
        if self.pool_alive():
            return True
        if self.pool_mode != "auto":
            return False
        with self._lock:
            if self._pool_proc is not None and self._pool_proc.poll() is None \
                    and time.monotonic() - self._pool_started < POOL_START_S:
                return True  # ours, still starting
            if pool_running(self.store.path):
                return True  # another replica's is starting
            self._pool_proc = spawn_pool(self.store.path, self.pool_argv, log_path=self.pool_log)
            self._pool_started = time.monotonic()
        return True

    def pool_alive(self) -> bool:
        info = self.store.pool()
        return info is not None and info.alive()

    def pool_info(self):
        return self.store.pool()

    # --- submitting -------------------------------------------------------------------------
    def submit(self, kind: str, params: Mapping[str, Any], student: str, *, label: str | None = None,
               replace: bool = False, teacher: bool = False) -> Ticket:
        """Queue a job (or attach to its identical one); ``LiveLimit`` past the student's share
        (training runs and lab jobs each have their own), ``NotMember`` for a student who may
        not start anything (removed; not joined a class that has a join code), ``NotAdmitted``
        for a new job whose estimate passes the class's time limit or the machine's memory
        (``cnnviz.runs.admission``; the teacher's, ``teacher`` or ``TEACHER``, have their own limit).

        ``replace``: the student's live jobs of this kind are dropped first (a lab page).
        """
        if not student:
            raise NotYours("err.job.no_student")
        self.identities.may_start(student)
        job = self._prepare(kind, params)
        if job.key and job.kind.keeps_weights:
            done = self.store.shareable(job.key)
            if done is not None and done.status == Status.COMPLETED and not self.weights.exists(done.id):
                self.store.unshare(done.id)  # its weights were evicted: a new request computes them again
        limit_s = self._admit(job, teacher or student == TEACHER)
        share = self.max_live if kind == "train" else self.max_lab_live  # lab jobs: every kind but training
        got, attached, dropped = self.store.attach_or_create(
            uuid.uuid4().hex[:12], job.key, student, arch=job.arch, label=label or job.label, config=job.params,
            kind=kind, device=job.device, est_s=job.est_s, max_live=share,
            replace_kinds=(kind,) if replace else (), mem_bytes=job.mem_bytes, limit_s=limit_s)
        self.ensure_pool()
        return Ticket(got, attached, tuple(dropped))

    def _admit(self, job: _Prepared, teacher: bool) -> float | None:
        """The wall seconds ``job`` may run once started; ``NotAdmitted`` (``cnnviz.runs.admission``)
        unless an identical job exists to watch (that costs the machine nothing: None)."""
        try:
            return admission.check(self.store, job.known_s, job.mem_bytes, teacher)
        except admission.NotAdmitted:
            if not job.key or self.store.shareable(job.key) is None:
                raise
            return None

    def refusal(self, kind: str, params: Mapping[str, Any], teacher: bool = False) -> CnnvizError | None:
        """What ``submit`` would refuse this request for (the form shows it before Start), or None:
        its config (``ConfigError``), or admission (``NotAdmitted``)."""
        try:
            self._admit(self._prepare(kind, params), teacher)
        except CnnvizError as err:
            return err
        return None

    def run_here(self, kind: str, params: Mapping[str, Any], owner: str, *, worker: str) -> RunInfo:
        """Record a job that this process runs itself (``python -m cnnviz train``), already
        running by ``worker``: the same canonical params, key and estimate as ``submit``'s, never
        shared (it is not in the queue); then ``cnnviz.runs.worker.run_job``."""
        job = self._prepare(kind, params)
        return self.store.create(uuid.uuid4().hex[:12], job.arch, job.label, job.params, owner, device=job.device,
                                 status=Status.RUNNING, kind=kind, key=job.key, est_s=job.est_s, worker=worker,
                                 started=time.time(), mem_bytes=job.mem_bytes)

    def _prepare(self, kind: str, params: Mapping[str, Any]) -> _Prepared:
        """A request's canonical form, before anything is written: the kind (``UnknownKindError``),
        its params as the store will give them back, parsed once (a bad config fails here), its
        description, content key, device and estimate."""
        k = get_kind(kind)
        canonical = json.loads(json.dumps(dict(params)))
        cfg = k.parse(canonical)
        arch, label = k.describe(cfg)
        known = self.known_estimate_s(kind, canonical, cfg)
        mem = k.memory_bytes(cfg)
        return _Prepared(k, canonical, arch, label, content_key(kind, canonical, cfg), k.device(cfg),
                         known if known is not None else DEFAULT_EST_S, known,
                         mem if mem is not None else admission.DEFAULT_JOB_BYTES)

    # --- acting on a job ----------------------------------------------------------------------
    def can_act(self, run_id: str, student: str, teacher: bool = False) -> bool:
        return teacher or (bool(student) and self.store.watching(run_id, student)
                           and self.identities.state(student) != REMOVED)

    def _check_acting(self, student: str) -> None:
        if self.identities.state(student) == REMOVED:
            raise NotMember("ident.removed")

    def stop(self, run_id: str, student: str, teacher: bool = False) -> str:
        """``STOPPED`` (for everyone) or ``LEFT`` (others still watch it); ``NotYours`` otherwise."""
        info = self.get(run_id)
        if teacher:
            self.store.request_stop(run_id)
            return STOPPED
        self._check_acting(student)
        if not self.can_act(run_id, student):
            raise NotYours("err.job.not_yours", run_id=run_id)
        if not info.live:
            return STOPPED
        left = self.store.detach(run_id, student)
        if left == 0:
            return STOPPED
        return LEFT

    def delete(self, run_id: str, student: str, teacher: bool = False) -> str:
        """``DELETED``, or ``LEFT`` (removed from this student's list; others still watch it)."""
        self.get(run_id)
        if not teacher:
            self._check_acting(student)
            if not self.can_act(run_id, student):
                raise NotYours("err.job.not_yours", run_id=run_id)
            if self.store.detach(run_id, student) > 0:
                return LEFT
        self.store.request_stop(run_id)
        self.store.delete(run_id)  # a running one: its worker sees the row gone and stops within a step
        self.weights.delete(run_id)
        with self._lock:
            self._events.pop(run_id, None)
            self._final.discard(run_id)
        return DELETED

    def remove_identity(self, student: str, *, delete_runs: bool) -> Removal:
        """The teacher removes ``student`` from the class: marked removed first (nothing new can
        start), then each of its jobs: a live one only it watches is stopped (cancelled in the
        queue); a shared live one goes on for the others, without it; a finished one is kept,
        read-only (``delete_runs=False``) or deleted (``True``; a shared one only loses it).
        Its token never acts again (``NotMember``); with a join code, its browser must join again."""
        if not student or student == TEACHER:
            raise NotYours("err.job.no_student")
        self.identities.remove(student, forget_name=delete_runs)
        stopped = deleted = kept = left = 0
        for r in self.store.list(student, kinds=None):
            others = [w for w in self.store.watchers(r.id) if w != student]
            if others and (r.live or delete_runs):
                self.store.detach(r.id, student)
                left += 1
                continue
            if r.live:
                self.store.request_stop(r.id)
                stopped += 1
            if delete_runs:
                self.delete(r.id, student, teacher=True)
                deleted += 1
            elif not r.live:
                kept += 1
        return Removal(stopped, deleted, kept, left)

    def clear(self) -> int:
        """Delete every job (the teacher's "clear the class") but the machine's calibration;
        running ones stop within a step."""
        ids = self.store.clear(keep_kinds=(calibration.KIND,))
        for rid in ids:
            self.weights.delete(rid)
        with self._lock:
            self._events.clear()
            self._final.clear()
        return len(ids)

    def wait(self, run_id: str, timeout: float | None = None, poll: float = 0.05) -> RunInfo:
        """Block until the job is no longer queued or running (or ``timeout`` passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.get(run_id)
            if not info.live or (deadline is not None and time.monotonic() >= deadline):
                return info
            time.sleep(poll)

    # --- healing the pool, restarting a cut-off job ---------------------------------------------
    def heal(self) -> bool | None:
        """Called on every page view (``ui.sched.scheduler``): at most once every ``HEAL_EVERY_S``
        per process (every session shares this object), look at the pool's heartbeat and, in mode
        "auto", start a pool when it is stale (``ensure_pool``). A pool that was killed or died is
        back at the next page view of anyone, and its queue moves without anybody pressing Start.
        A live pool costs one read of its heartbeat row, never a subprocess; modes "external" (the
        classroom's launcher restarts its own) and "none" never look. Returns None when it did not
        look this time, else whether a pool serves the store. A store that cannot be read is left
        to the page's own reads to report (here only logged)."""
        if self.pool_mode != "auto":
            return None
        now = time.monotonic()
        with self._lock:
            if now - self._healed < HEAL_EVERY_S:
                return None
            self._healed = now
        try:
            return self.ensure_pool()
        except (sqlite3.Error, OSError, CnnvizError) as err:
            log.warning("could not look at or start the worker pool of %s: %s", self.store.path, err)
            return False

    @staticmethod
    def restartable(info: RunInfo) -> bool:
        """Whether ``restart`` may run ``info`` again: it was interrupted (a pool restart cut it
        off), or failed because its worker died under it (``RESTARTABLE_CODES``), not by its own error."""
        return info.status == Status.INTERRUPTED or (info.status == Status.FAILED and info.code in RESTARTABLE_CODES)

    def restart(self, run_id: str, student: str, teacher: bool = False) -> Ticket:
        """Run a cut-off job again (see ``restartable``; ``RunError`` otherwise): a new request with
        the same kind, parameters and label, for the same watchers. The old job stays as it was,
        readable. Through ``submit``: an identical job already queued, running or done (the other
        watcher restarted it first) is attached to, not run twice.

        Who: a student who watches it (``NotYours`` for anyone else), whose request it is (it owns
        the new job, its live limit applies); or the teacher (``teacher=True``), on behalf of the
        old job's owner (or, when the owner left it, its first remaining watcher): the request is
        theirs, with their live limit, so a teacher's restart never gives a student more live jobs
        than their own click could. The other watchers (not removed) are attached after it, in
        their order, without a limit of their own: they get back what they had."""
        info = self.get(run_id)
        if not teacher:
            self._check_acting(student)
            if not self.can_act(run_id, student):
                raise NotYours("err.job.not_yours", run_id=run_id)
        if not self.restartable(info):
            raise RunError("sched.restart.no", run_id=verbatim(run_id))
        watchers = self.store.watchers(run_id)
        if teacher:
            by = info.owner if info.owner in watchers or not watchers else watchers[0]
        else:
            by = student
        ticket = self.submit(info.kind, info.config, by, label=info.label)
        others = [w for w in watchers if w != by and self.identities.state(w) != REMOVED]
        if others:
            with self.store.write() as conn:
                now = time.time()
                conn.executemany("INSERT OR IGNORE INTO requests (run_id, student, created) VALUES (?,?,?)",
                                 [(ticket.run_id, w, now + i * 1e-6) for i, w in enumerate(others)])
        return ticket

    # --- reading ------------------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo:
        info = self.store.get(run_id) if run_id and run_id.isalnum() else None
        if info is None:
            raise RunError("train.runs.unknown", run_id=verbatim(run_id))  # an id from a link: quoted as code
        return info

    def exists(self, run_id: str) -> bool:
        return bool(run_id) and run_id.isalnum() and self.store.get(run_id) is not None

    def runs(self, student: str | None = None, kinds: Iterable[str] | None = ("train",)) -> list[RunInfo]:
        """The student's jobs (None: the whole class's), newest first; ``kinds=None``: every kind
        of the class's, not the machine's calibration (it is the pool's, shown while it runs)."""
        got = self.store.list(student, kinds)
        return got if kinds is not None else [r for r in got if r.kind != calibration.KIND]

    def watchers(self, run_id: str) -> list[str]:
        return self.store.watchers(run_id)

    def events(self, run_id: str, since: int = 0) -> list[Event]:
        """The job's typed events from index ``since`` (shared: never modify them). A live job's new
        events are read from the store once per process (every session shares the cache); a
        finished job's never change."""
        with self._lock:
            cached = self._events.get(run_id)
            final = run_id in self._final
            if cached is not None:
                self._events.move_to_end(run_id)
        if cached is not None and final:
            return cached[since:]
        info = self.store.get(run_id)  # the status first: a final status means every event is committed
        have = len(cached) if cached is not None else 0
        mine = (cached or []) + self.store.events(run_id, since=have)
        with self._lock:
            cur = self._events.get(run_id) or []
            if len(mine) > len(cur):  # events are append-only: the longer list is the newer
                cur = mine
            self._events[run_id] = cur
            if info is not None and not info.live:
                self._final.add(run_id)
            while len(self._events) > EVENT_CACHE_RUNS:
                old, _ = self._events.popitem(last=False)
                self._final.discard(old)
        return cur[since:]

    def csv(self, run_id: str) -> str:
        return events_csv(self.events(run_id))

    # --- the queue, places and ETAs ---------------------------------------------------------------
    def queue(self) -> list[RunInfo]:
        return self.store.queue()

    def running(self) -> list[RunInfo]:
        return self.store.running()

    def remaining_s(self, info: RunInfo, now: float | None = None) -> float:
        """A running job's seconds left: from its pace once it has some, else its estimate."""
        now = now or time.time()
        elapsed = max(0.0, now - (info.started or now))
        est = info.est_s or DEFAULT_EST_S
        p = info.progress
        if p >= 0.05 and elapsed > 1.0:
            return max(0.0, elapsed * (1 - p) / p)
        return max(0.0, est - elapsed)

    def places(self) -> dict[str, Place]:
        """Every live job's place: the queue simulated over the pool's workers in claim order."""
        now = time.time()
        pool = self.store.pool()
        workers = pool.workers if pool is not None else 1
        running = self.store.running()
        free = sorted([self.remaining_s(r, now) for r in running][:workers])
        free += [0.0] * max(0, workers - len(free))
        free.sort()
        out = {r.id: Place(0, 0, 0.0, self.remaining_s(r, now)) for r in running}
        for i, q in enumerate(self.store.queue()):
            start = free.pop(0)
            end = start + (q.est_s or DEFAULT_EST_S)
            free.append(end)
            free.sort()
            out[q.id] = Place(i + 1, i, start, end)
        return out

    def place(self, run_id: str) -> Place:
        p = self.places().get(run_id)
        return p if p is not None else Place(0, 0, None, None)

    # --- estimates ------------------------------------------------------------------------------
    def estimate_s(self, kind: str, params: Mapping[str, Any], cfg: Any = None) -> float:
        """``known_estimate_s``, or ``DEFAULT_EST_S`` when this store has seen nothing like it."""
        known = self.known_estimate_s(kind, params, cfg)
        return known if known is not None else DEFAULT_EST_S

    def known_estimate_s(self, kind: str, params: Mapping[str, Any], cfg: Any = None) -> float | None:
        """Solo seconds of a job on one worker, from what this store has seen (None: nothing yet).

        Training: the wall time of finished runs of the same configuration but the seed
        (median), else the throughput of finished runs of the same network and batch scaled to
        this run's examples, else the pool's calibration of this machine
        (``cnnviz.runs.calibration``: the architecture's measured rate at this network's work per
        example); None before the calibration has finished. A lab job: the median of finished
        jobs of the same kind and parameters but the seed, else its kind's own estimate.
        """
        done = [r for r in self.store.list(kinds=(kind,))[:400]
                if r.status == Status.COMPLETED and r.started and r.ended]
        k = get_kind(kind)
        cfg = k.parse(params) if cfg is None else cfg
        if kind != "train":
            same = [_took(r) for r in done if _sans_seed(r.config) == _sans_seed(params)]
            if same:
                return statistics.median(same)
            return k.estimate_s(cfg)
        est = self.train_estimate(params, cfg, done)
        return est.seconds if est is not None else None

    def train_estimate(self, params: Mapping[str, Any], cfg: Any = None,
                       done: list[RunInfo] | None = None) -> Estimate | None:
        """A training run's estimate and its source (see ``known_estimate_s``)."""
        if done is None:
            done = [r for r in self.store.list(kinds=("train",))[:400]
                    if r.status == Status.COMPLETED and r.started and r.ended]
        cfg = get_kind("train").parse(params) if cfg is None else cfg
        return _train_estimate(cfg, params, done, self.calibration())

    def machine(self) -> str | None:
        """The machine the pool serving this store runs on (its heartbeat says), or None."""
        pool = self.store.pool()
        machine = pool.detail.get("machine") if pool is not None else None
        return str(machine) if machine else None

    def calibration(self) -> tuple[calibration.Point, ...]:
        """The pool's calibration of its machine (see ``cnnviz.runs.calibration.points``)."""
        return calibration.points(self.store, self.machine())

    def calibrating(self) -> bool:
        """Whether the machine's calibration is queued or running (the estimates wait for it)."""
        return calibration.pending(self.store, None)


def _took(r: RunInfo) -> float:
    """A finished run's wall time, start to end (only runs that have both are asked)."""
    return (r.ended or 0.0) - (r.started or 0.0)


def _sans_seed(params: Mapping[str, Any]) -> str:
    d = {k: v for k, v in params.items() if k not in ("seed",)}
    return json.dumps(d, sort_keys=True)


def _model_key(p: Mapping[str, Any]) -> str:
    return json.dumps([p.get("arch"), p.get("model"), p.get("batch_size"), p.get("device"), p.get("precision")],
                      sort_keys=True)


@dataclass(frozen=True)
class Estimate:
    """A training run's solo seconds, and where they come from: "runs" (this store's finished
    runs of the same configuration or network) or "calibration" (the pool's measurement of
    this machine; ``rate``: the examples per second it gives this network)."""

    seconds: float
    source: str
    rate: float | None = None


def _train_estimate(cfg: Any, params: Mapping[str, Any], done: list[RunInfo],
                    points: Sequence[calibration.Point] = ()) -> Estimate | None:
    """A training run's solo seconds (``cfg``: its ``TrainConfig``), from the finished runs ``done``,
    else the calibration ``points``."""
    from cnnviz.train.data import split_sizes
    from cnnviz.train.estimate import time_estimate

    n_train, n_test = split_sizes(cfg.data)
    whole = [_took(r) for r in done if _sans_seed(r.config) == _sans_seed(params)]
    if whole:
        return Estimate(statistics.median(whole), "runs")
    mk = _model_key(params)
    rates = [r.summary["examples_per_s"] for r in done
             if _model_key(r.config) == mk and r.summary.get("examples_per_s")]
    if rates:
        return Estimate(START_OVERHEAD_S + time_estimate(cfg, statistics.median(rates), n_train, n_test), "runs")
    rate = calibration.rate(points, cfg.arch, _macs(cfg))
    if rate:
        return Estimate(START_OVERHEAD_S + time_estimate(cfg, rate, n_train, n_test), "calibration", rate)
    return None


def _macs(cfg) -> int:
    try:
        from cnnviz.inspect.tracing import trace

        return int(trace(cfg.model).totals.macs)
    except CnnvizError:
        return 0


__all__ = ["DELETED", "LEFT", "STOPPED", "TEACHER", "Estimate", "NotMember", "NotYours", "Place", "Removal", "RunError",
           "Scheduler", "Ticket"]
