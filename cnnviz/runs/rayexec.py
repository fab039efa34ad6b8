"""The Ray executor: the pool's jobs run as Ray tasks on a cluster, with the same events.

Ray is optional (``requirements-ray.txt``): this module is imported only when
``$CNNVIZ_RAY_ADDRESS`` is set (the pool) or ``--backend ray`` is asked for (the CLI), so a
user without Ray never imports it.

How a job runs on Ray. The pool keeps its queue in the run store as always; instead of local
worker processes, it runs one *driver thread* per job the cluster can hold at once (its CPUs
÷ threads per job). A driver claims the next job round-robin (``RunStore.claim``), submits it
as a Ray streaming-generator task (``_remote_job``) asking for ``num_cpus=threads`` (and
``num_gpus=1`` for a CUDA run, so it lands on a GPU node), and records the events the task
yields exactly as a local worker does (``cnnviz.runs.worker.run_job``): every page, the CLI's
``--json-lines``, the teacher's page and the class board read them from the store unchanged.
Inside the task torch uses as many threads as the task has CPUs.

Stop: the job's stop flag (a Stop pressed on any replica) is seen by the driver between
events; it sets the task's flag in a small named actor (``StopBoard``) that the task polls
every step (so it ends "stopped" within one step, with its numbers; one board per driver
process, gone with it), and ``ray.cancel``s the
task if it has not ended a few seconds later. A Ray worker or node that dies surfaces as a
``RayError`` from the generator: the job ends "failed", naming it. A cluster that is
unreachable at start, or goes away, leaves the pool on its local workers (``RayDown``).

The trained weights come back as the last item before the end event (``{"kind": "_weights"}``,
the ``state_dict`` bytes), and are committed beside the store like a local run's.
"""

from __future__ import annotations

import logging
import os
import pathlib
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.runs.kinds import JobContext
from cnnviz.runs.store import RunInfo
from cnnviz.train.events import EndEvent, Event, event_from_dict

log = logging.getLogger(__name__)

NAMESPACE = "cnnviz"
STOP_POLL_S = 0.1  # how often a Ray task asks the board whether it should stop
CANCEL_AFTER_S = 5.0  # a task that does not end this long after its stop flag is cancelled
_WEIGHTS = "_weights"  # the pseudo-event that carries a task's weights file back (never stored)
_PKG = pathlib.Path(__file__).resolve().parents[1]  # the cnnviz package, shipped to the cluster


class RayDown(Exception):
    """The cluster cannot be reached (at start) or went away; ``str()`` says why."""


def connect(address: str) -> dict[str, Any]:
    """``ray.init(address=...)`` with the cnnviz package shipped to the cluster; the cluster's
    resources. ``RayDown`` (one clear line) when it cannot be reached."""
    try:
        import ray
    except ImportError as err:
        raise RayDown(f"Ray is not installed here ({err}); pip install -r requirements-ray.txt") from None
    if ray.is_initialized():
        return resources()
    _probe(address)
    env = {k: v for k, v in os.environ.items() if k in ("CNNVIZ_DATA_DIR",)}
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level=logging.WARNING, log_to_driver=False,
                 runtime_env={"py_modules": [str(_PKG)], "env_vars": env})
    except Exception as err:  # ConnectionError, TimeoutError, ValueError (bad address)...
        raise RayDown(f"cannot reach the Ray cluster at {address!r}: {type(err).__name__}: {err}") from None
    return resources()


def _probe(address: str, timeout: float = 3.0) -> None:
    """Fail fast on an address nobody answers: ``ray.init`` would retry for minutes."""
    import socket

    if address in ("auto", "local") or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayDown(f"not a Ray address (host:port): {address!r}")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as err:
        raise RayDown(f"cannot reach the Ray cluster at {address!r}: {err}") from None


def resources() -> dict[str, Any]:
    """The cluster's CPUs and GPUs, in all and free now."""
    import ray

    total, free = ray.cluster_resources(), ray.available_resources()
    return {"cpus": float(total.get("CPU", 0)), "gpus": float(total.get("GPU", 0)),
            "free_cpus": float(free.get("CPU", 0)), "free_gpus": float(free.get("GPU", 0)),
            "nodes": len([n for n in ray.nodes() if n.get("Alive")])}


def _board():
    import ray

    @ray.remote(num_cpus=0)
    class StopBoard:
        """Run ids whose task should stop (set by a driver, polled by the task)."""

        def __init__(self):
            self.flags: set[str] = set()

        def set(self, run_id: str) -> None:
            self.flags.add(run_id)

        def clear(self, run_id: str) -> None:
            self.flags.discard(run_id)

        def is_set(self, run_id: str) -> bool:
            return run_id in self.flags

    return StopBoard.remote()  # type: ignore[attr-defined]  # ray.remote adds .remote; its stubs cannot say so


class _RemoteStop:
    """``stop.is_set()`` inside a Ray task: the board's flag, asked at most every ``STOP_POLL_S``."""

    def __init__(self, board, run_id: str):
        self.board, self.run_id = board, run_id
        self._set, self._last = False, 0.0

    def is_set(self) -> bool:
        import ray

        now = time.monotonic()
        if not self._set and now - self._last >= STOP_POLL_S:
            self._last = now
            self._set = bool(ray.get(self.board.is_set.remote(self.run_id)))
        return self._set


def _remote_job(kind: str, params: Mapping[str, Any], run_id: str, threads: int, board,
                plugins: tuple[str, ...] = ()) -> Iterator[dict]:
    """The Ray task: run the job's kind here and yield its events as dicts (``to_dict``: what
    crosses the cluster is plain data), its weights before the end.

    ``plugins``: the modules that register the job kinds (``cnnviz.jobs``), named by the caller
    above this package (``python -m cnnviz pool``), imported on the node.
    """
    import importlib

    import torch

    from cnnviz.runs.kinds import get_kind

    for mod in plugins:
        importlib.import_module(mod)
    torch.set_num_threads(max(1, threads))
    stop = _RemoteStop(board, run_id)
    with tempfile.TemporaryDirectory(prefix="cnnviz-ray-") as tmp:
        weights = pathlib.Path(tmp) / "weights.pt"
        k = get_kind(kind)
        for ev in k.run(k.parse(params), stop, JobContext(run_id, weights)):
            if isinstance(ev, EndEvent) and ev.own and weights.is_file():
                yield {"kind": _WEIGHTS, "data": weights.read_bytes()}
            yield ev.to_dict()


class RayExecutor:
    """The pool's driver threads on a Ray cluster (see the module docstring)."""

    def __init__(self, address: str, threads: int, gpus_per_cuda_job: float = 1.0, plugins: tuple[str, ...] = ()):
        import importlib

        self.address = address
        self.plugins = tuple(plugins)
        for mod in self.plugins:  # here too: ``stream`` asks a job's kind for its device
            importlib.import_module(mod)
        self.threads = max(1, threads)
        self.gpus_per_cuda_job = gpus_per_cuda_job
        self.info = connect(address)
        import ray

        self._ray = ray
        self._task = ray.remote(_remote_job)
        self.board = _board()

    def slots(self) -> int:
        """Jobs the cluster can run at once: its CPUs ÷ threads per job (at least one)."""
        return max(1, int(self.info["cpus"] // self.threads))

    def alive(self) -> bool:
        try:
            self.info = resources()
            return True
        except Exception:
            return False

    def source(self, info: RunInfo, stop, ctx: JobContext) -> Iterator[Event]:
        """The job's events, streamed back from its Ray task (the ``run_job`` source)."""
        return self.stream(info.kind, info.config, info.id, stop, ctx.weights_path)

    def stream(self, kind: str, params: Mapping[str, Any], run_id: str, stop,
               weights_path: pathlib.Path | None = None) -> Iterator[Event]:
        """Run one job as a Ray task and yield its events as they come (the CLI's
        ``--backend ray`` too); its weights are written to ``weights_path`` if given."""
        ray = self._ray
        from cnnviz.runs.kinds import get_kind

        k = get_kind(kind)
        device = k.device(k.parse(params))
        # no retries: a worker that died is reported (the job fails), never silently re-run
        opts: dict[str, Any] = {"num_cpus": self.threads, "max_retries": 0}
        if device == "cuda":
            opts["num_gpus"] = self.gpus_per_cuda_job
        gen = self._task.options(**opts).remote(kind, dict(params), run_id, self.threads, self.board, self.plugins)
        flagged_at = None
        try:
            while True:
                if flagged_at is None and stop.is_set():
                    self.board.set.remote(run_id)
                    flagged_at = time.monotonic()
                if flagged_at is not None and time.monotonic() - flagged_at > CANCEL_AFTER_S:
                    ray.cancel(gen)
                    return
                ready, _ = ray.wait([gen], timeout=0.5)  # a timeout lets a stop be seen between events
                if not ready:
                    continue
                try:
                    ref = next(gen)
                except StopIteration:
                    return
                d = ray.get(ref)
                if d.get("kind") == _WEIGHTS:
                    if weights_path is not None:
                        weights_path.write_bytes(d["data"])
                    continue
                yield event_from_dict(d)
        except ray.exceptions.RayError as err:
            detail = (str(err).strip().splitlines() or [""])[0][:300]
            raise RayJobFailed("train.runs.ray_died", error=type(err).__name__, detail=detail) from None
        finally:
            try:
                self.board.clear.remote(run_id)
            except Exception:  # the cluster is gone: nothing to clear
                pass

    def shutdown(self) -> None:
        try:
            self._ray.shutdown()
        except Exception:
            pass


class RayJobFailed(CnnvizError):
    """The job's Ray task, worker or node died (or the cluster went away); the job fails with this."""


def drive(executor: RayExecutor, db: str, name: str, stopping: threading.Event, idle_s: float = 0.1) -> None:
    """One driver thread: claim, run on Ray, record; until ``stopping`` (or the cluster is gone)."""
    from cnnviz.runs.store import RunStore
    from cnnviz.runs.weights import WeightStore
    from cnnviz.runs.worker import run_job

    store = RunStore(db)
    weights = WeightStore.beside(store.path, runs=store)  # owners, and the store's lock for eviction
    try:
        while not stopping.is_set():
            info = store.claim(name)
            if info is None:
                time.sleep(idle_s)
                continue
            run_job(store, info, weights, source=executor.source)
    finally:
        store.close()
