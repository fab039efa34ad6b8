"""The "train" job kind: a ``TrainConfig`` (as its dict) run on the engine in a worker.

Its events are the engine's (``cnnviz.train.loop.train``) as dicts; the trained weights are
saved for the run (``cnnviz.runs.weights``) when it ends completed or stopped, and just before
its end event comes one ``{"kind": "results", "results": Results.to_dict()}`` (the confusion
matrix, per-class accuracy and mistakes on the test split, ``cnnviz.train.evaluate``). A run with a
wall-clock budget depends on the machine's load, so it has no content key and is never
shared; any other run is keyed by its config, the dataset's fingerprint, the device type and
the code version (``cnnviz.runs.kinds.content_key``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.models.registry import get_config
from cnnviz.runs.kinds import JobContext, JobKind, Stop, register_kind
from cnnviz.runs.store import RunInfo
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import fingerprint
from cnnviz.train.steps import resolve_device

STOPPED_RESULTS_S = 3.0  # a stopped run's results (a fresh pass over the test split) get this long


class _Deadline:
    """A stop flag that sets itself ``seconds`` after it was made, or with ``also``."""

    def __init__(self, seconds: float, also: Stop | None = None):
        self._until, self._also = time.monotonic() + seconds, also

    def is_set(self) -> bool:
        return time.monotonic() >= self._until or (self._also is not None and self._also.is_set())


def _run(params: Mapping[str, Any], stop: Stop, ctx: JobContext) -> Iterator[dict]:
    import os

    import torch

    from cnnviz.train.loop import Loop
    from cnnviz.train.steps import build_model

    cfg = TrainConfig.from_dict(params)
    model = build_model(cfg)
    loop = Loop(cfg, stop, model, None, ())
    for ev in loop.events():
        d = ev.to_dict()
        if d["kind"] == "end" and d["status"] in ("completed", "stopped"):
            if ctx.weights_path is not None:
                tmp = ctx.weights_path
                torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
                with open(tmp, "rb+") as f:  # on disk before the rename makes it the run's
                    os.fsync(f.fileno())
            res = _results(loop, d["status"], ctx)
            if res is not None:
                yield {"kind": "results", "step": d["step"], "results": res.to_dict()}
        yield d


def _results(loop: Any, status: str, ctx: JobContext):
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
                              stop=_Deadline(STOPPED_RESULTS_S if status == "stopped" else 1e9, ctx.exiting))
    except Exception:  # out of memory at the very end...: the run and its weights stand without results
        logging.getLogger(__name__).exception("results of run %s", ctx.run_id)
        return None


def _describe(params: Mapping[str, Any]) -> tuple[str, str]:
    cfg = TrainConfig.from_dict(params)
    return cfg.arch, default_label(cfg)


def _fingerprint(params: Mapping[str, Any]) -> str | None:
    cfg = TrainConfig.from_dict(params)
    if cfg.time_budget_s:
        return None  # cut by wall time: the numbers depend on the load
    return fingerprint(cfg.data)


def _device(params: Mapping[str, Any]) -> str:
    return resolve_device(TrainConfig.from_dict(params).device).type


def _progress(s: dict, d: Mapping[str, Any]) -> float | None:
    """The few figures the run list shows, kept current as events arrive; the fraction done."""
    kind = d["kind"]
    if kind == "start":
        s.update(total_steps=d["total_steps"], dataset=d["dataset"], device=d["device"],
                 time_budget_s=d["time_budget_s"], notice=d["notice"], n_train=d["n_train"], macs=d["macs"])
    elif kind == "step":
        s.update(step=d["step"], epoch=d["epoch"], loss=d["loss"], train_acc=d["train_acc"],
                 examples_per_s=d["examples_per_s"], elapsed_s=d["elapsed_s"])
    elif kind in ("eval", "epoch"):
        s.update(step=d["step"], epoch=d["epoch"], test_acc=d["test_acc"])
    elif kind == "end":
        s.update(step=d["step"], epoch=d["epoch"], elapsed_s=d["elapsed_s"], test_acc=d["test_acc"])
        if d["status"] == "completed":
            return 1.0
    total = s.get("total_steps") or 0
    if not total:
        return None
    frac = s.get("step", 0) / total
    budget = s.get("time_budget_s")
    if budget:
        frac = max(frac, min(1.0, s.get("elapsed_s", 0.0) / budget))
    return min(1.0, frac)


TRAIN = register_kind(JobKind("train", _run, _describe, _fingerprint, progress=_progress, device=_device,
                              keeps_weights=True))


def default_label(cfg: TrainConfig) -> str:
    """A short, readable run name: arch, dataset, input side, optimiser and lr, batch size."""
    side = cfg.model.input_hw[0]
    return f"{cfg.arch} · {cfg.data.dataset} · {side}px · {cfg.optimizer} lr={cfg.lr:g} · bs={cfg.batch_size}"


def run_title(info: RunInfo, lang: str = "en") -> str:
    """A run's name for people, in ``lang``: the label it was given, or (for the automatic one)
    the architecture's and dataset's display names, the toggles that differ from the
    architecture's defaults (so overlaid runs with and without residuals tell apart), side,
    optimiser, learning rate and batch."""
    if info.kind != "train":
        from cnnviz.runs.kinds import UnknownKindError, get_kind

        try:
            kind = get_kind(info.kind)
            return kind.title(info.config, lang) if kind.title is not None else info.label
        except (UnknownKindError, CnnvizError, KeyError, TypeError):
            return info.label
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
