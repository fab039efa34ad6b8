"""The "featuremaps" job kind: the feature-map lab's quick training (``cnnviz.labs.featuremaps``).

Params ``QuickTrainConfig.to_dict()``; events: the engine's, without a name, so its end event
gives the job's status (as a training run's). The trained weights are saved to
``ctx.weights_path`` and kept by the worker for the page to load. Fixed in steps, so identical
requests share one computation.
"""

from __future__ import annotations

from collections.abc import Iterator

from cnnviz.i18n import t
from cnnviz.labs.featuremaps import QuickTrainConfig, quick_train_stream
from cnnviz.runs.kinds import JobContext, JobKind, Stop
from cnnviz.status import Status
from cnnviz.train.data import fingerprint
from cnnviz.train.events import EndEvent, EpochEvent, Event, StartEvent, StepEvent


def _run(cfg: QuickTrainConfig, stop: Stop, ctx: JobContext) -> Iterator[Event]:
    yield from quick_train_stream(cfg, stop, ctx.weights_path)


def _describe(cfg: QuickTrainConfig) -> tuple[str, str]:
    cfg.train_config()
    return cfg.arch, f"featuremaps · {cfg.arch} · {cfg.total_steps} steps · {cfg.dataset}"


def _fingerprint(cfg: QuickTrainConfig) -> str:
    return fingerprint(cfg.train_config().data)


def _estimate(cfg: QuickTrainConfig) -> float:
    per_step = 0.008 if cfg.arch == "lenet" else 0.06  # one thread, the class recipes (featuremaps.QUICK_STEPS)
    return 1.0 + cfg.total_steps * per_step


def _progress(s: dict, ev: Event) -> float | None:
    if isinstance(ev, StartEvent):
        s["total_steps"] = ev.total_steps
    elif isinstance(ev, StepEvent):
        s["step"] = ev.step
    elif isinstance(ev, EpochEvent):
        s["step"], s["test_acc"] = ev.step, ev.test_acc
    elif isinstance(ev, EndEvent):
        s.update(step=ev.step, test_acc=ev.test_acc)
        if ev.status == Status.COMPLETED:
            return 1.0
    else:
        return None
    return min(1.0, s.get("step", 0) / max(1, s.get("total_steps") or 1))


def _title(cfg: QuickTrainConfig, lang: str) -> str:
    return t("lab.job.featuremaps", lang, arch=t(f"arch.{cfg.arch}", lang), steps=cfg.total_steps,
             data=t(f"train.data.{cfg.dataset}", lang))


KIND: JobKind[QuickTrainConfig] = JobKind("featuremaps", QuickTrainConfig.from_dict, _run, _describe, _fingerprint,
                                          _progress, estimate_s=_estimate, keeps_weights=True, title=_title)
