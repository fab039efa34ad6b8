"""The run manager: training runs in background threads, a queue, a cap, and the run store.

One ``RunManager`` per process (the page keeps it in ``st.cache_resource``); every method is
thread-safe. ``submit`` stores the run as "queued" and starts it on a worker thread as soon
as its device has a free slot (default: one run at a time per GPU, one on MPS, one on the
CPU; ``torch.set_num_threads`` matches the CPU cores this process may use). A worker
consumes ``cnnviz.train.loop.train``'s event stream: it keeps the events in memory for the live
page and commits them to the ``RunStore`` with the run's status about twice a second (and at
once for start, epoch and end events). ``stop`` sets the run's flag (the engine ends within
one step); a queued run is stopped on the spot. Anything that goes wrong inside a run ends
that run as "failed" with its message; the manager and the other runs carry on.

Restart: a new manager marks runs that an ended process left queued or running as
"interrupted" (their events up to the last commit stay readable).

    mgr = RunManager()                          # store at cnnviz.runs.store.db_path()
    rid = mgr.submit(cfg)                       # → run id (put it in the page URL)
    mgr.get(rid).status; mgr.events(rid)        # status, progress, summary; the event dicts
    mgr.stop(rid); mgr.wait(rid); mgr.delete(rid); mgr.csv(rid)
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.models.registry import get_config
from cnnviz.runs.export import events_csv
from cnnviz.runs.store import LIVE_STATUSES, RunInfo, RunStore
from cnnviz.train.config import TrainConfig, error_messages, messages
from cnnviz.train.loop import train
from cnnviz.train.steps import resolve_device

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # longest a metric waits in memory before its commit
FINAL_CACHE_RUNS = 32
_OPEN_TOKENS: set[str] = set()  # managers alive in this process (a same-pid owner not in here is gone)
_HOST = socket.gethostname()
_MANAGERS: weakref.WeakSet[RunManager] = weakref.WeakSet()  # closed at interpreter exit

Engine = Callable[..., Iterator[Any]]  # train(cfg, stop=...) or a stand-in


class RunError(CnnvizError):
    """A run id that does not exist (an old URL), or an action the run's state forbids."""


@dataclass
class _Live:
    """A queued or running run, as the manager holds it in memory."""

    id: str
    cfg: TrainConfig
    device: str
    stop: threading.Event = field(default_factory=threading.Event)
    events: list = field(default_factory=list)  # event dicts; appended by the worker only
    lock: threading.Lock = field(default_factory=threading.Lock)
    status: str = "queued"
    summary: dict = field(default_factory=dict)
    progress: float = 0.0
    delete_when_done: bool = False


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_slots() -> dict[str, int]:
    """One concurrent run per GPU, one on Apple MPS, one on the CPU."""
    slots = {f"cuda:{i}": 1 for i in range(torch.cuda.device_count())} if torch.cuda.is_available() else {}
    mps = getattr(torch.backends, "mps", None)
    if mps and mps.is_available():
        slots["mps"] = 1
    slots["cpu"] = 1
    return slots


class RunManager:
    """Process-wide registry of training runs; see the module docstring."""

    def __init__(self, db: str | os.PathLike | None = None, slots: dict[str, int] | None = None,
                 threads: int | None = None, engine: Engine = train):
        self.store = RunStore(db)
        self.slots = dict(slots or default_slots())
        self._engine = engine
        self._lock = threading.RLock()
        self._live: dict[str, _Live] = {}
        self._queues: dict[str, collections.deque[str]] = {k: collections.deque() for k in self.slots}
        self._running: dict[str, set[str]] = {k: set() for k in self.slots}
        # events of finished runs never change: the last few read are kept (the page polls them)
        self._final_cache: collections.OrderedDict[str, list] = collections.OrderedDict()
        self._threads: dict[str, threading.Thread] = {}
        self._closing = False
        self.token = uuid.uuid4().hex
        self.owner = f"{_HOST}:{os.getpid()}:{self.token}"
        torch.set_num_threads(threads or cpu_cores())
        _OPEN_TOKENS.add(self.token)
        self.interrupted = self.store.interrupt_orphans(_is_orphan)
        _MANAGERS.add(self)

    def close(self, wait: float = 5.0) -> None:
        """Stop every run, wait a little for the workers, release the store.

        Runs cut short this way are recorded as "interrupted" (the server went away), not as
        stopped by a user. Also called for every open manager at interpreter exit, so worker
        threads never die inside PyTorch.
        """
        if self._closing:
            return
        self._closing = True
        with self._lock:
            queued = [rid for q in self._queues.values() for rid in q]
            for q in self._queues.values():
                q.clear()
            for rid in queued:
                self._live.pop(rid, None)
            lives = list(self._live.values())
        for rid in queued:
            self.store.append(rid, 0, [], status="interrupted", code="train.runs.interrupted",
                              message=messages("train.runs.interrupted"))
        for lv in lives:
            lv.stop.set()
        deadline = time.monotonic() + wait
        for th in list(self._threads.values()):
            th.join(max(0.0, deadline - time.monotonic()))
        _OPEN_TOKENS.discard(self.token)
        with self._lock:
            left = [lv for lv in lives if lv.id in self._live]  # still queued, or a worker that did not end
        if not left:
            self.store.close()  # else leave it open: a late worker may still commit; orphans are found next start

    # --- submitting and controlling runs --------------------------------------------------
    def submit(self, cfg: TrainConfig, label: str | None = None) -> str:
        """Queue ``cfg``; returns the run id. ``TrainingError`` if its device does not exist here."""
        dev = self._slot_for(cfg.device)
        rid = uuid.uuid4().hex[:12]
        live = _Live(rid, cfg, dev)
        self.store.create(rid, cfg.arch, label or default_label(cfg), cfg.to_dict(), self.owner, device=dev)
        with self._lock:
            self._live[rid] = live
            self._queues[dev].append(rid)
        self._dispatch(dev)
        return rid

    def stop(self, run_id: str) -> None:
        """Ask a run to stop: within one step when running, at once when queued."""
        with self._lock:
            live = self._live.get(run_id)
            if live is None:
                return
            live.stop.set()
            queued = run_id in self._queues[live.device]
            if queued:
                self._queues[live.device].remove(run_id)
                del self._live[run_id]
        if queued:
            self.store.append(run_id, 0, [], status="stopped", code="train.runs.stopped_queued",
                              message=messages("train.runs.stopped_queued"))

    def delete(self, run_id: str) -> None:
        """Delete a run and its events (a live one is stopped first, then deleted)."""
        with self._lock:
            live = self._live.get(run_id)
            if live is not None and run_id not in self._queues[live.device]:
                live.delete_when_done = True
                live.stop.set()
                return
        self.stop(run_id)
        self.store.delete(run_id)
        with self._lock:
            self._final_cache.pop(run_id, None)

    def wait(self, run_id: str, timeout: float | None = None) -> RunInfo:
        """Block until the run is no longer queued or running (or ``timeout`` passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.get(run_id)
            if info.status not in LIVE_STATUSES or (deadline is not None and time.monotonic() >= deadline):
                return info
            time.sleep(0.02)

    # --- reading ----------------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo:
        """The run's row, with the in-memory status and progress of a live run."""
        info = self.store.get(run_id)
        if info is None:
            raise RunError("train.runs.unknown", run_id=run_id)
        with self._lock:
            live = self._live.get(run_id)
            if live is not None:
                info = replace(info, status=live.status, progress=live.progress, summary=dict(live.summary))
        return info

    def exists(self, run_id: str) -> bool:
        return self.store.get(run_id) is not None

    def runs(self) -> list[RunInfo]:
        """Every stored run, newest first (live ones with their in-memory state)."""
        out = []
        for info in self.store.list():
            with self._lock:
                live = self._live.get(info.id)
                if live is not None:
                    info = replace(info, status=live.status, progress=live.progress, summary=dict(live.summary))
            out.append(info)
        return out

    def busy(self, device: str = "auto") -> bool:
        """Whether a run on ``device`` would have to wait (its slot is running or queuing runs)."""
        key = self._slot_for(device)
        with self._lock:
            return len(self._running[key]) + len(self._queues[key]) >= self.slots[key]

    def live_ids(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def events(self, run_id: str, since: int = 0) -> list[dict]:
        """The run's event dicts from index ``since``: from memory while live, else from the store."""
        with self._lock:
            live = self._live.get(run_id)
        if live is not None:
            with live.lock:
                return live.events[since:]
        with self._lock:
            cached = self._final_cache.get(run_id)
            if cached is not None:
                self._final_cache.move_to_end(run_id)
        if cached is None:
            info = self.store.get(run_id)
            cached = self.store.events(run_id)
            if info is None or info.live:
                return cached[since:]
            with self._lock:
                self._final_cache[run_id] = cached
                while len(self._final_cache) > FINAL_CACHE_RUNS:
                    self._final_cache.popitem(last=False)
        return cached[since:]

    def csv(self, run_id: str) -> str:
        """The run's metrics as CSV text (one row per step, eval and epoch event)."""
        return events_csv(self.events(run_id))

    # --- workers ----------------------------------------------------------------------------
    def _slot_for(self, device: str) -> str:
        dev = resolve_device(device)  # TrainingError when it does not exist here
        if dev.type == "cuda":
            if device == "auto" or dev.index is None:
                gpus = [k for k in self.slots if k.startswith("cuda:")]
                with self._lock:  # the least busy GPU
                    return min(gpus, key=lambda k: len(self._queues[k]) + len(self._running[k]))
            return f"cuda:{dev.index}"
        key = dev.type
        if key not in self.slots:
            self.slots[key] = 1
            self._queues[key], self._running[key] = collections.deque(), set()
        return key

    def _dispatch(self, dev: str) -> None:
        with self._lock:
            while self._queues[dev] and len(self._running[dev]) < self.slots[dev]:
                rid = self._queues[dev].popleft()
                self._running[dev].add(rid)
                live = self._live[rid]
                live.status = "running"
                th = threading.Thread(target=self._work, args=(live,), name=f"cnnviz-run-{rid}", daemon=True)
                self._threads[rid] = th
                th.start()

    def _work(self, live: _Live) -> None:
        """The worker thread: run the engine, keep and commit its events, never raise."""
        written, pending, last_flush = 0, [], time.monotonic()
        status, code, message = "failed", "train.runs.no_end", messages("train.runs.no_end")
        gen = None
        try:
            cfg = live.cfg
            if live.device.startswith("cuda:") and cfg.device in ("auto", "cuda"):
                cfg = cfg.replace(device=live.device)
            self.store.append(live.id, 0, [], status="running")
            gen = self._engine(cfg, stop=live.stop)
            for ev in gen:
                d = ev.to_dict()
                with live.lock:
                    live.events.append(d)
                _update_summary(live, d)
                pending.append(d)
                if d["kind"] == "end":  # committed below, with the final status, in one transaction
                    status, code, message = d["status"], d["code"], d["message"]
                    break
                if d["kind"] in ("start", "epoch") or time.monotonic() - last_flush >= FLUSH_S:
                    self._flush(live, written, pending)
                    written, pending, last_flush = written + len(pending), [], time.monotonic()
        except Exception as err:  # a broken engine or store: this run fails, nothing else does
            log.exception("run %s failed", live.id)
            code, message = error_messages(err)
            status = "failed"
        finally:
            if status == "stopped" and self._closing:
                status, code, message = "interrupted", "train.runs.interrupted", messages("train.runs.interrupted")
            if gen is not None and hasattr(gen, "close"):
                gen.close()  # frees the model and the data on the device now, not at garbage collection
        try:
            self._flush(live, written, pending, status=status, code=code, message=message or {})
        except Exception:
            log.exception("could not record the end of run %s", live.id)
        finally:
            with self._lock:
                live.status = status
                self._running[live.device].discard(live.id)
                self._live.pop(live.id, None)
                self._threads.pop(live.id, None)
            if live.delete_when_done:
                self.store.delete(live.id)
            self._dispatch(live.device)

    def _flush(self, live: _Live, written: int, pending: list, **final: Any) -> None:
        self.store.append(live.id, written, pending, progress=live.progress, summary=live.summary, **final)


@atexit.register
def _close_all() -> None:
    for mgr in list(_MANAGERS):
        try:
            mgr.close(wait=3.0)
        except Exception:  # exiting anyway
            pass


def _update_summary(live: _Live, d: dict) -> None:
    """The few figures the run list shows, kept current as events arrive."""
    s = live.summary
    kind = d["kind"]
    if kind == "start":
        s.update(total_steps=d["total_steps"], dataset=d["dataset"], device=d["device"],
                 time_budget_s=d["time_budget_s"], notice=d["notice"])
    elif kind == "step":
        s.update(step=d["step"], epoch=d["epoch"], loss=d["loss"], train_acc=d["train_acc"],
                 examples_per_s=d["examples_per_s"], elapsed_s=d["elapsed_s"])
    elif kind in ("eval", "epoch"):
        s.update(step=d["step"], epoch=d["epoch"], test_acc=d["test_acc"])
    elif kind == "end":
        s.update(step=d["step"], epoch=d["epoch"], elapsed_s=d["elapsed_s"], test_acc=d["test_acc"])
    total = s.get("total_steps") or 0
    if total:
        frac = s.get("step", 0) / total
        budget = s.get("time_budget_s")
        if budget:
            frac = max(frac, min(1.0, s.get("elapsed_s", 0.0) / budget))
        live.progress = min(1.0, frac)
    if kind == "end" and d["status"] == "completed":
        live.progress = 1.0


def _is_orphan(owner: str) -> bool:
    """Whether the manager that owned a queued/running run is gone (same host only)."""
    host, _, rest = owner.partition(":")
    pid_s, _, token = rest.partition(":")
    if host != _HOST or not pid_s.isdigit():
        return host == _HOST  # a malformed owner of this host: nobody can finish it
    pid = int(pid_s)
    if pid == os.getpid():
        return token not in _OPEN_TOKENS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def default_label(cfg: TrainConfig) -> str:
    """A short, readable run name: arch, dataset, input side, optimiser and lr, batch size."""
    side = cfg.model.input_hw[0]
    return f"{cfg.arch} · {cfg.data.dataset} · {side}px · {cfg.optimizer} lr={cfg.lr:g} · bs={cfg.batch_size}"


def run_title(info: RunInfo, lang: str = "en") -> str:
    """A run's name for people, in ``lang``: the label it was given, or (for the automatic one)
    the architecture's and dataset's display names, the toggles that differ from the
    architecture's defaults (so overlaid runs with and without residuals tell apart), side,
    optimiser, learning rate and batch."""
    try:
        cfg = TrainConfig.from_dict(info.config)
    except CnnvizError:
        return info.label
    if info.label != default_label(cfg):
        return info.label  # a name someone chose
    base = get_config(cfg.arch)
    marks = []
    if cfg.model.batch_norm != base.batch_norm:
        marks.append(t("train.run.bn_on" if cfg.model.batch_norm else "train.run.bn_off", lang))
    if getattr(cfg.model, "residual", True) is False:
        marks.append(t("train.run.plain", lang))
    if cfg.model.width_div != 1:
        marks.append(f"÷{cfg.model.width_div}")
    arch = t(f"arch.{cfg.arch}", lang) + (f" ({', '.join(marks)})" if marks else "")
    return t("train.run.title", lang, arch=arch, data=t(f"train.data.{cfg.data.dataset}", lang),
             side=cfg.model.input_hw[0], opt=t(f"train.opt.{cfg.optimizer}", lang), lr=f"{cfg.lr:g}", bs=cfg.batch_size)


