"""The "train" job kind: a ``TrainConfig`` run on the engine in a worker.

Its events are the engine's (``cnnviz.train.loop``); the trained weights are saved for the run
(``cnnviz.runs.weights``) when it ends completed or stopped, and just before its end event
comes one ``ResultsEvent`` (the confusion matrix, per-class accuracy and mistakes on the test
split, ``cnnviz.train.evaluate``). A run with a wall-clock budget depends on the machine's
load, so it has no content key and is never shared; any other run is keyed by its config, the
dataset's fingerprint, the device type and the code version (``cnnviz.runs.kinds.content_key``).

``progress`` folds the run's events into its summary (the figures the run list and the
training page show) once, in the worker; ``TrainProgress.of(info)`` reads them back.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.models.registry import get_config
from cnnviz.runs.kinds import JobContext, JobKind, Stop
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.store import RunInfo
from cnnviz.status import FINISHED, Status
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import fingerprint
from cnnviz.train.events import EndEvent, EpochEvent, EvalEvent, Event, ResultsEvent, StartEvent, StepEvent
from cnnviz.train.recipes import CLASS
from cnnviz.train.steps import resolve_device

STOPPED_RESULTS_S = 3.0  # a stopped run's results (a fresh pass over the test split) get this long


class _Deadline:
    """A stop flag that sets itself ``seconds`` after it was made, or with ``also``."""

    def __init__(self, seconds: float, also: Stop | None = None):
        self._until, self._also = time.monotonic() + seconds, also

    def is_set(self) -> bool:
        return time.monotonic() >= self._until or (self._also is not None and self._also.is_set())


def _run(cfg: TrainConfig, stop: Stop, ctx: JobContext) -> Iterator[Event]:
    import torch

    from cnnviz.train.loop import Loop
    from cnnviz.train.steps import build_model

    model = build_model(cfg)
    loop = Loop(cfg, stop, model, None, ())
    for ev in loop.events():
        if isinstance(ev, EndEvent) and ev.status in FINISHED:
            if ctx.weights_path is not None:
                tmp = ctx.weights_path
                torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
                with open(tmp, "rb+") as f:  # on disk before the rename makes it the run's
                    os.fsync(f.fileno())
            res = _results(loop, ev.status, ctx)
            if res is not None:
                yield ResultsEvent(step=ev.step, results=res.to_dict())
        yield ev


def _results(loop: Any, status: Status, ctx: JobContext):
    """The run's ``Results``: from the loop's last evaluation of the whole test split when no step
    came after it (a completed run: the end event's test accuracy, counted image by image);
    else (a run stopped mid-epoch) from a fresh pass over the test split of the model as it
    stopped, if that takes no longer than ``STOPPED_RESULTS_S`` (a Ray task is cancelled a few
    seconds after its Stop); None otherwise, or if it fails (the run stands without them)."""
    from cnnviz.train.evaluate import evaluate_model, results_from

    try:
        if loop.predictions is not None and loop.predictions_step == loop.step:
            return results_from(loop.predictions, loop.data, run_id=ctx.run_id)
        return evaluate_model(loop.model, loop.cfg, loop.data, run_id=ctx.run_id,
                              stop=_Deadline(STOPPED_RESULTS_S if status == Status.STOPPED else 1e9, ctx.exiting))
    except Exception:  # out of memory at the very end...: the run and its weights stand without results
        logging.getLogger(__name__).exception("results of run %s", ctx.run_id)
        return None


def _describe(cfg: TrainConfig) -> tuple[str, str]:
    return cfg.arch, default_label(cfg)


def _fingerprint(cfg: TrainConfig) -> str | None:
    if cfg.time_budget_s:
        return None  # cut by wall time: the numbers depend on the load
    return fingerprint(cfg.data)


def _device(cfg: TrainConfig) -> str:
    return resolve_device(cfg.device).type


def _progress(s: dict, ev: Event) -> float | None:
    """The figures the run list and the training page show, kept current as events arrive; the
    fraction done. ``first_step``/``first_elapsed_s`` date the pace the ETA is read from (the
    set-up before the first step is not part of it)."""
    if not ev.own:
        return None
    if isinstance(ev, StartEvent):
        s.update(total_steps=ev.total_steps, dataset=ev.dataset, device=ev.device, time_budget_s=ev.time_budget_s,
                 notice=ev.notice, n_train=ev.n_train, macs=ev.macs)
    elif isinstance(ev, StepEvent):
        if "first_step" not in s:
            s.update(first_step=ev.step, first_elapsed_s=ev.elapsed_s)
        s.update(step=ev.step, epoch=ev.epoch, loss=ev.loss, epoch_loss=ev.epoch_loss, train_acc=ev.train_acc,
                 examples_per_s=ev.examples_per_s, elapsed_s=ev.elapsed_s)
    elif isinstance(ev, (EvalEvent, EpochEvent)):
        s.update(step=ev.step, epoch=ev.epoch, test_acc=ev.test_acc)
    elif isinstance(ev, EndEvent):
        s.update(step=ev.step, epoch=ev.epoch, elapsed_s=ev.elapsed_s, test_acc=ev.test_acc)
        if ev.status == Status.COMPLETED:
            return 1.0
    else:
        return None
    total = s.get("total_steps") or 0
    if not total:
        return None
    frac = s.get("step", 0) / total
    budget = s.get("time_budget_s")
    if budget:
        frac = max(frac, min(1.0, s.get("elapsed_s", 0.0) / budget))
    return min(1.0, frac)


@dataclass(frozen=True)
class TrainProgress:
    """A training run's progress as the page shows it, read from the summary ``_progress`` keeps."""

    fraction: float
    step: int
    total_steps: int
    epoch: float
    eta_s: float | None  # None: not known yet (no pace measured)
    examples_per_s: float | None
    elapsed_s: float
    epoch_loss: float | None  # the running mean over the current epoch (the book's curve)
    train_acc: float | None
    test_acc: float | None

    @classmethod
    def of(cls, info: RunInfo) -> TrainProgress:
        s = info.summary
        step, total = int(s.get("step", 0)), int(s.get("total_steps") or 0)
        elapsed = float(s.get("elapsed_s") or 0.0)
        eta = None
        first = s.get("first_step")
        if not info.live:
            eta = 0.0
        elif first is not None and step > first:
            per_step = (elapsed - float(s.get("first_elapsed_s") or 0.0)) / (step - first)
            eta = max(0.0, (total - step) * per_step)
            budget = s.get("time_budget_s")
            if budget:
                eta = min(eta, max(0.0, budget - elapsed))
        return cls(fraction=1.0 if info.status == Status.COMPLETED else min(1.0, info.progress), step=step,
                   total_steps=total, epoch=float(s.get("epoch", 0.0)), eta_s=eta,
                   examples_per_s=s.get("examples_per_s") if "first_step" in s else None, elapsed_s=elapsed,
                   epoch_loss=s.get("epoch_loss"), train_acc=s.get("train_acc"), test_acc=s.get("test_acc"))


def _memory(cfg: TrainConfig) -> int | None:
    """The host memory the run needs (``cnnviz.train.estimate``: the traced step and the dataset); a
    run on a GPU holds its tensors there, so it reserves the default (``cnnviz.runs.admission``)."""
    if _device(cfg) != "cpu":
        return None
    from cnnviz.train.data import split_sizes
    from cnnviz.train.estimate import memory_estimate

    n_train, n_test = split_sizes(cfg.data)
    return memory_estimate(cfg, "cpu", n_train, n_test).need_bytes


KIND: JobKind[TrainConfig] = JobKind("train", TrainConfig.from_dict, _run, _describe, _fingerprint, _progress,
                                     device=_device, memory_bytes=_memory, keeps_weights=True)


def default_label(cfg: TrainConfig) -> str:
    """A short, readable run name: arch, dataset, input side, optimiser and lr, batch size."""
    side = cfg.model.input_hw[0]
    return f"{cfg.arch} · {cfg.data.dataset} · {side}px · {cfg.optimizer} lr={cfg.lr:g} · bs={cfg.batch_size}"


def train_title(cfg: TrainConfig, label: str, lang: str = "en") -> str:
    """A training run's name for people, in ``lang``: the label it was given, or (for the
    automatic one) the architecture's and dataset's display names, the toggles that differ from
    the architecture's defaults (so overlaid runs with and without residuals tell apart), side,
    optimiser, learning rate and batch."""
    if label != default_label(cfg):
        return label  # a name someone chose
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


@dataclass(frozen=True)
class Prewarm:
    """What the teacher's pre-warm did: runs queued now, runs that were there already (queued,
    running or done: identical, so shared), and the families that could not be queued, with why."""

    new: int
    done: int
    failed: tuple[tuple[str, CnnvizError], ...]


def prewarm(scheduler: Scheduler, owner: str) -> Prewarm:
    """Queue every family's class-period recipe for ``owner`` (the teacher). A student's form
    submits the same ``TrainConfig.to_dict()`` for that arch, so their run attaches to this one;
    a family that cannot be queued (its dataset missing) does not stop the others."""
    new = done = 0
    failed = []
    for r in CLASS.values():
        try:
            ticket = scheduler.submit("train", r.config().to_dict(), owner)
        except CnnvizError as err:
            failed.append((r.arch, err))
            continue
        done, new = (done + 1, new) if ticket.attached else (done, new + 1)
    return Prewarm(new, done, tuple(failed))

