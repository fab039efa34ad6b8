"""The worker pool: one per run store, a supervisor process and its worker processes.

``python -m cnnviz pool`` (``serve``) takes an exclusive lock on ``<store>.pool.lock``, so a
store has one pool however many replicas ask for one; a second pool exits at once. It then:

* marks the jobs that a previous pool left running as "interrupted" (a restart cut them off;
  their events up to the last commit stay readable), and leaves queued ones queued;
* queues the calibration of this machine when the store has none (``cnnviz.runs.calibration``:
  the estimates come from it), and names the machine in its heartbeat;
* starts ``workers`` worker processes (``worker_argv``), each with ``threads`` torch threads,
  where workers × threads ≤ the cores this process may use (``plan``);
* every second: writes its heartbeat into the store (the pages show it, and a replica whose
  pool stopped beating starts a new one), and reaps workers: a worker that died (kill -9,
  out of memory; noticed within 0.2 s) ends its running job as "failed" with the signal's name, and is replaced
  (with a backoff if it keeps dying at start);
* on SIGTERM or SIGINT: stops its workers (their jobs end "interrupted") and exits;
* when the process that started it is gone (``--exit-with-parent PID``): the same, checked
  before it opens the store and on every tick;
* a busy store (another process holds SQLite's write lock: ``cnnviz.runs.busy``) never kills
  it: a heartbeat that cannot be written is skipped, a reaping is retried (``RETRY_S`` at a
  time, then again on the next tick), each said in the log as a WARNING.

Workers die with the pool (``PR_SET_PDEATHSIG``), so a killed pool leaves no orphan
computing, and the next pool marks their jobs "interrupted". Spawning, the restart backoff and
stopping with a grace period are ``cnnviz.supervisor``'s, shared with the classroom launcher.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cnnviz import host, settings
from cnnviz.i18n import messages
from cnnviz.runs import busy, calibration
from cnnviz.runs.store import RunStore, worker_name
from cnnviz.status import Status
from cnnviz.supervisor import Backoff, Child, describe_exit, spawn, terminate

if TYPE_CHECKING:
    from cnnviz.runs.rayexec import RayExecutor

log = logging.getLogger(__name__)

TICK_S = 0.2  # how often dead workers are noticed
BEAT_S = 1.0  # how often the heartbeat is written (a pool is "down" after 5 s without one)
# A worker that ran 20 s and died (kill -9, out of memory: its job failed) is replaced at once,
# since the queue is waiting for it; one that keeps dying at start (an import error, a bad
# store) waits 0.5, 1, 2... 15 s. Shorter than the launcher's (classroom.launcher.BACKOFF):
# a worker starts in ~2 s and serves nobody's page, so it is cheap to retry, and a ceiling of
# 15 s keeps a queue from idling long once the cause is gone.
BACKOFF = Backoff(steps=(0.5, 1, 2, 4, 8, 15), stable_s=20.0, after_stable=0.0)
GRACE_S = 8.0  # SIGTERM → SIGKILL for a worker that does not end its step
# how long one of the supervisor's writes retries a busy store before the loop goes round (signals,
# its parent, the workers) and tries again on the next tick: it never gives up, nor blocks for long
RETRY_S = 10.0


def plan(workers: int | None = None, threads: int | None = None, cores: int | None = None) -> tuple[int, int]:
    """(workers, torch threads each), with workers × threads ≤ cores.

    Default: one worker per two cores (one on a 1- or 2-core machine... at least one), the
    cores shared out as threads. ``$CNNVIZ_WORKERS`` and ``$CNNVIZ_WORKER_THREADS`` override;
    asking for more than the cores is clamped, never honoured.
    """
    cores = cores or host.cpu_cores()
    env_w, env_t = settings.worker_plan_overrides()
    w, t = workers or env_w, threads or env_t
    if w is None:
        # small class-period nets scale poorly past 2 threads: on a big machine, more workers
        # of 2 threads each; on 2 cores, two workers of one thread (throughput for a queue)
        w = cores // t if t else (cores if cores <= 2 else cores // 2)
    w = max(1, min(w, cores))
    t = max(1, min(t or cores // w, cores // w))
    return w, t


def _local_pid(worker: str) -> int | None:
    """The pid of a worker named ``host:pid`` on this machine (None: another machine, Ray)."""
    host, sep, pid = worker.rpartition(":")
    if not sep or host != socket.gethostname() or not pid.isdigit():
        return None
    return int(pid)


def process_alive(worker: str) -> bool:
    """Whether the process a running job names as its worker (``host:pid``) is alive on this
    machine and is a Python process (a pid reused by something else is not the worker)."""
    pid = _local_pid(worker)
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[-1].split()[0] == b"Z":  # a zombie has ended
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"python" in f.read()
    except (OSError, IndexError):
        return False


def lock_path(db: pathlib.Path | str) -> pathlib.Path:
    db = pathlib.Path(db)
    return db.with_name(db.name + ".pool.lock")


def pool_running(db: pathlib.Path | str) -> bool:
    """Whether some process holds this store's pool lock (a pool serves it)."""
    path = lock_path(db)
    if not path.exists():
        return False
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


class Pool:
    """The supervisor: see the module docstring. ``serve()`` blocks until a stop signal."""

    def __init__(self, db: pathlib.Path | str, worker_argv: Sequence[str], workers: int | None = None,
                 threads: int | None = None, log_path: pathlib.Path | str | None = None,
                 parent: int | None = None, ray_address: str | None = None, plugins: Sequence[str] = ()):
        self.plugins = tuple(plugins)  # modules registering job kinds, for Ray tasks (the local workers import them)
        # the pid of the app that started this pool: exit once it is no longer our parent (None: never)
        self.parent = parent
        # a Ray cluster instead of local workers ($CNNVIZ_RAY_ADDRESS); local when it is unreachable
        self.ray_address = ray_address if ray_address is not None else settings.ray_address()
        self._ray: RayExecutor | None = None  # the RayExecutor while the cluster serves
        self._drivers: list = []
        self._drivers_stop: threading.Event | None = None
        self.detail: dict = {}
        # worker_argv + ["--db", DB, "--threads", T] starts one worker (``python -m cnnviz pool --worker``)
        self.db = pathlib.Path(db)
        self.workers, self.threads = plan(workers, threads)
        self.worker_argv = list(worker_argv)
        self.log_path = pathlib.Path(log_path) if log_path else None
        self._slots = [Child(f"worker {i + 1}", BACKOFF) for i in range(self.workers)]
        self._stopping = False
        self.started = time.time()

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT (or its parent is gone); 0, or 3 when another pool already serves
        this store."""
        if self._orphaned():
            return 0
        lock = open(lock_path(self.db), "a+")  # noqa: SIM115 (held for the life of the pool)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return 3
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            store = busy.retry("opening the run store", RunStore, self.db)
        except BaseException:
            lock.close()
            raise
        try:
            # a run whose own process still works on it (a CLI run) is not the old pool's: left alone
            cut = busy.retry("marking a previous pool's jobs interrupted", store.interrupt_running,
                             messages("train.runs.interrupted"), keep=process_alive)
            if cut:
                log.info("marked %d job(s) of a previous pool interrupted", len(cut))
            if self.ray_address:
                self._start_ray()
            self._calibrate(store)
            last_beat = 0.0
            while not self._stopping:
                if self._orphaned():
                    break  # the app that started this pool is gone (Streamlit stopped)
                try:
                    if time.monotonic() - last_beat >= BEAT_S:
                        last_beat = time.monotonic()
                        if self._ray is not None and not self._ray.alive():
                            self._ray_gone()
                        self._beat(store)
                        self._reap_gone(store)
                    if self._ray is None:
                        self._reap_and_start(store)
                except Exception as err:  # a busy store: what was not written is tried again next tick
                    if not busy.is_busy(err):
                        raise
                    log.warning("the run store is busy (%s); the pool carries on and tries again", err)
                time.sleep(TICK_S)
        finally:
            self._stop_ray()
            self._stop_workers(store)
            with contextlib.suppress(Exception):
                store.pool_gone(os.getpid())
            store.close()
            lock.close()
        return 0

    def _calibrate(self, store: RunStore) -> None:
        """Queue the measurement of this machine's speed, unless the store has it (or is getting
        it): the estimates of every page come from it (``cnnviz.runs.calibration``)."""
        machine = calibration.machine_id(self.threads)
        self.detail = {**self.detail, "machine": machine}
        if calibration.needed(store, machine):
            rid = calibration.request(store, machine, self.threads)
            log.info("measuring this machine's speed first (job %s; about a minute)", rid)

    def _on_signal(self, signum, frame) -> None:
        self._stopping = True

    def _orphaned(self) -> bool:
        """The process that started this pool (``parent``) is gone: this one has another parent."""
        if self.parent is None or os.getppid() == self.parent:
            return False
        log.info("the process that started this pool (pid %d) is gone: exiting", self.parent)
        return True

    def _beat(self, store: RunStore) -> None:
        """Write the heartbeat; a busy store skips it (WARNING), the next beat is a second away."""
        try:
            self._write_beat(store)
        except Exception as err:
            if not busy.is_busy(err):
                raise
            log.warning("the run store is busy (%s): heartbeat skipped", err)

    def _write_beat(self, store: RunStore) -> None:
        if self._ray is not None:
            detail = {"address": self.ray_address, **self._ray.info}
            store.pool_beat(socket.gethostname(), os.getpid(), self.started, len(self._drivers), self._ray.threads,
                            "ray", detail)
        else:
            store.pool_beat(socket.gethostname(), os.getpid(), self.started, self.workers, self.threads, "local",
                            self.detail)

    # --- the Ray executor ------------------------------------------------------------------------
    def _start_ray(self) -> None:
        """Drive jobs on the cluster; on any failure to connect, stay local and say why."""
        from cnnviz.runs import rayexec

        assert self.ray_address is not None  # only called with a cluster to use
        try:
            ray = self._ray = rayexec.RayExecutor(self.ray_address, self.threads, plugins=self.plugins)
        except rayexec.RayDown as err:
            log.warning("%s; running jobs on local workers", err)
            self.detail = {"ray_error": str(err), "address": self.ray_address}
            return
        stop = self._drivers_stop = threading.Event()
        n = ray.slots()
        for i in range(n):
            th = threading.Thread(target=rayexec.drive, name=f"cnnviz-ray-{i}",
                                  args=(ray, str(self.db), f"ray:{socket.gethostname()}:{os.getpid()}:{i}", stop),
                                  daemon=True)
            th.start()
            self._drivers.append(th)
        log.info("jobs run on the Ray cluster at %s: %d at once, %d thread(s) each (%s)", self.ray_address, n,
                 ray.threads, ray.info)

    def _ray_gone(self) -> None:
        """The cluster went away mid-lesson: its jobs fail (their drivers see RayErrors); new
        jobs run on local workers from now on."""
        log.warning("the Ray cluster at %s went away; new jobs run on local workers", self.ray_address)
        self.detail = {"ray_error": f"the Ray cluster at {self.ray_address} went away", "address": self.ray_address}
        names = [th.name for th in self._drivers]
        self._stop_ray(wait=2.0)
        store = RunStore(self.db)
        try:  # what a stuck driver could not record
            msg = messages("train.runs.ray_died", error="cluster gone", detail=str(self.ray_address))
            for i in range(len(names)):
                store.end_worker_jobs(f"ray:{socket.gethostname()}:{os.getpid()}:{i}", Status.FAILED,
                                      "train.runs.ray_died", msg)
        finally:
            store.close()

    def _stop_ray(self, wait: float = GRACE_S) -> None:
        if self._ray is None:
            return
        from cnnviz.runs import worker

        worker.mark_exiting(self._stopping)  # a pool going away: the drivers' jobs end interrupted
        if self._drivers_stop is not None:
            self._drivers_stop.set()
        deadline = time.monotonic() + wait
        for th in self._drivers:
            th.join(max(0.1, deadline - time.monotonic()))
        self._ray.shutdown()
        self._ray, self._drivers = None, []

    def _spawn(self) -> subprocess.Popen:
        """A worker, in the pool's process group, dying with the pool (``PR_SET_PDEATHSIG``: the
        pool spawns from its main thread), logging to the pool's log (or ``log_path``)."""
        argv = [*self.worker_argv, "--db", str(self.db), "--threads", str(self.threads)]
        return spawn(argv, log=self.log_path, env=dict(os.environ, CNNVIZ_DB=str(self.db)))

    def _reap_and_start(self, store: RunStore) -> None:
        now = time.monotonic()
        for slot in self._slots:
            p = slot.proc
            if p is not None and p.poll() is not None:
                how = messages("train.runs.worker_died", how=str(describe_exit(p.returncode)))
                # a busy store past RETRY_S raises: the slot stays unreaped and the next tick tries again
                failed = busy.retry(f"reaping worker {p.pid}", store.end_worker_jobs, worker_name(p.pid), Status.FAILED,
                                    "train.runs.worker_died", how, bound_s=RETRY_S)
                log.warning("worker %d ended (%s); its job(s) %s failed", p.pid, p.returncode, failed)
                slot.ended(now)
            if slot.due(now) and not self._stopping:
                slot.attach(self._spawn(), now)

    def _reap_gone(self, store: RunStore) -> None:
        """End the running jobs of a process on this machine that is gone and was not one of
        this pool's workers (those are reaped as they exit): a CLI run killed with kill -9."""
        mine = {worker_name(pid) for pid in self.pids()}
        for info in store.running():
            w = info.worker
            if w and w not in mine and _local_pid(w) is not None and not process_alive(w):
                gone = messages("train.runs.process_gone", worker=w)
                ended = busy.retry(f"ending the jobs of {w}", store.end_worker_jobs, w, Status.FAILED,
                                   "train.runs.process_gone", gone, bound_s=RETRY_S)
                log.warning("process %s is gone; its job(s) %s failed", w, ended)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self._slots if s.proc is not None]

    def _stop_workers(self, store: RunStore) -> None:
        terminate([s.proc for s in self._slots if s.proc is not None], GRACE_S)
        for s in self._slots:  # what a killed worker could not record
            if s.proc is not None:
                pid = s.proc.pid
                with contextlib.suppress(Exception):  # a store still busy after RETRY_S: the next pool marks them
                    busy.retry(f"ending the jobs of worker {pid}", store.end_worker_jobs, worker_name(pid),
                               Status.INTERRUPTED, "train.runs.interrupted", messages("train.runs.interrupted"),
                               bound_s=RETRY_S)


def spawn_pool(db: pathlib.Path | str, argv: Sequence[str],
               log_path: pathlib.Path | str | None = None) -> subprocess.Popen:
    """Start ``argv`` (a ``python -m cnnviz pool`` command line) as a child serving ``db`` that
    exits when this process does: ``--exit-with-parent PID`` names this process, and the pool
    watches its parent pid (not ``PR_SET_PDEATHSIG``, which would fire when the *thread* that
    spawned it ends: Streamlit spawns it from a script thread). The pid is passed rather than
    read by the pool, which imports torch first: an app gone by then would not be noticed."""
    return spawn([*argv, "--db", str(db), "--exit-with-parent", str(os.getpid())], log=log_path or os.devnull,
                 new_session=True, die_with_parent=False)
