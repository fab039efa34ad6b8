"""The "calibrate" job kind: this machine's training speed, measured in a pool worker
(``cnnviz.runs.calibration`` says why, and how the estimates read it).

Params ``{"machine": machine_id, "threads": T}``; events: one ``MeasureEvent`` per point, two
per architecture of the registry (its class-period recipe through the real loop, its book
recipe's network at ``PROBE_SIDE`` at most, in bare steps), ``CLASS_S`` / a second or so each. Never shared (no content
key): it measures this machine now.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.models.registry import list_models
from cnnviz.runs.calibration import EST_S
from cnnviz.runs.calibration import KIND as NAME
from cnnviz.runs.kinds import JobContext, JobKind, Stop
from cnnviz.train.config import TrainConfig
from cnnviz.train.events import Event, MeasureEvent, StepEvent
from cnnviz.train.recipes import recipe_config

CLASS_S = 1.5  # seconds of the real loop per architecture (after its first steps)
PROBE_SIDE = 96  # the book's network at this side at most: large work per example...
# ...at a batch of about this much work per step (~0.5 s on one thread): a book recipe trains at
# 128-256 a batch, and a CPU does far more per example at 24 than at 2 (AlexNet's book epoch came
# out 4.9x its estimate with 2e9)
PROBE_STEP_MACS = 1e10
WARM_STEPS = 2  # the loop's first steps pay for allocations and kernel selection: not counted...
WARM_S = 0.5  # ...nor its first half second
MAX_STEPS = 2000  # the clock ends it first, but for the tiniest nets


@dataclass(frozen=True)
class CalibrateConfig:
    machine: str
    threads: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CalibrateConfig:
        return cls(str(d.get("machine", "")), int(d.get("threads", 1)))


class _Clock:
    """The loop's stop flag: the job's own, or ``seconds`` after ``start()``."""

    def __init__(self, seconds: float, also: Stop):
        self.seconds, self.also = seconds, also
        self.until: float | None = None

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds

    def is_set(self) -> bool:
        return self.also.is_set() or (self.until is not None and time.monotonic() >= self.until)


def _class_rate(cfg: TrainConfig, stop: Stop) -> float | None:
    """Examples per second of the real loop on ``cfg`` (its StepEvents after the warm-up), or None."""
    from cnnviz.train.loop import train

    # the run's own logging cadence (every step for most nets on a CPU, every few for tiny ones):
    # a StepEvent's gradient norms and sync are part of what a run pays per step
    short = cfg.replace(epochs=1, max_steps=MAX_STEPS, eval_every=0)
    rates: list[float] = []
    clock = _Clock(CLASS_S, stop)
    warm_until = None
    for ev in train(short, stop=clock):
        if isinstance(ev, StepEvent):
            if clock.until is None:
                if warm_until is None:  # the first steps pay for allocations and kernel selection
                    warm_until = time.monotonic() + WARM_S
                if ev.step >= WARM_STEPS and time.monotonic() >= warm_until:  # the clock starts once warm
                    clock.start()
            elif ev.examples_per_s > 0:
                rates.append(ev.examples_per_s)
    if not rates:
        return None
    rates.sort()
    return rates[len(rates) // 2]  # the median step: robust to a busy neighbour


def _run(cfg: CalibrateConfig, stop: Stop, ctx: JobContext) -> Iterator[Event]:
    from cnnviz.inspect.tracing import trace
    from cnnviz.train.estimate import calibrate

    step = 0
    # every class point first, then the probes: a probe's large tensors, allocated and freed,
    # left the allocator slower for the small nets measured after them (GoogLeNet, LeNet measured
    # at half their rate in a run)
    for point in ("class", "probe"):
        for arch in list_models():
            if stop.is_set():
                return
            try:
                tc = recipe_config(arch, point if point == "class" else "book")
                if point == "probe" and tc.model.input_hw[0] > PROBE_SIDE:
                    tc = tc.replace(model=dataclasses.replace(tc.model, input_hw=(PROBE_SIDE, PROBE_SIDE)))
                macs = int(trace(tc.model).totals.macs)
                if point == "class":
                    eps, batch = _class_rate(tc, stop), tc.batch_size
                else:
                    from cnnviz.train.estimate import probe_batch

                    batch = probe_batch(tc, PROBE_STEP_MACS)
                    eps = calibrate(tc, step_macs=PROBE_STEP_MACS)
            except CnnvizError:  # a family without such a recipe: nothing to measure
                continue
            if eps:
                step += 1
                yield MeasureEvent(step=step, arch=arch, point=point, side=tc.model.input_hw[0], batch=batch,
                                   macs=macs, examples_per_s=float(eps))


def _progress(summary: dict, ev: Event) -> float | None:
    if not isinstance(ev, MeasureEvent):
        return None
    summary["points"] = ev.step
    return min(1.0, ev.step / (2 * len(list_models())))


def _describe(cfg: CalibrateConfig) -> tuple[str, str]:
    return "", f"calibration · {cfg.threads} thread(s)"


def _title(cfg: CalibrateConfig, lang: str) -> str:
    return t("cal.job.title", lang, threads=cfg.threads)


KIND: JobKind[CalibrateConfig] = JobKind(NAME, CalibrateConfig.from_dict, _run, _describe, lambda cfg: None,
                                         _progress, estimate_s=lambda cfg: EST_S, title=_title)
