"""The "gradflow" job kind: the gradient-flow lab's paired run (``cnnviz.labs.gradflow``).

Params ``GradFlowConfig.to_dict()``; events: the paired run's engine events, each with its
variant in ``name`` ("plain" / "residual"). The stream runs out at the end: the job is
completed, or stopped if its stop flag was set. Fixed in steps (no wall-clock budget), so it is
keyed by its parameters and the dataset's fingerprint: identical requests of a class share one
computation.
"""

from __future__ import annotations

from collections.abc import Iterator

from cnnviz.i18n import t
from cnnviz.jobs.pairs import pair_progress
from cnnviz.labs.gradflow import VARIANTS, GradFlowConfig, run_gradflow
from cnnviz.runs.kinds import JobContext, JobKind, Stop
from cnnviz.train.data import fingerprint
from cnnviz.train.events import Event


def _run(cfg: GradFlowConfig, stop: Stop, ctx: JobContext) -> Iterator[Event]:
    for name, ev in run_gradflow(cfg, stop):
        yield ev.named(name)


def _describe(cfg: GradFlowConfig) -> tuple[str, str]:
    cfg.pair()  # a setting the engine refuses fails here, at submit time, not in the worker
    net = "ResNet-18 stages" if cfg.resnet18 else f"{cfg.conv_depth} convs"
    return "resnet18", f"gradflow · {net}{' · BN' if cfg.batch_norm else ''} · {cfg.steps} steps · {cfg.dataset}"


def _fingerprint(cfg: GradFlowConfig) -> str:
    return fingerprint(cfg.train_config(False).data)


def _estimate(cfg: GradFlowConfig) -> float:
    # both variants, one thread: ~2.5 ms per conv per step at width 16 and side 32 (measured),
    # scaling with the pixels of the 8x8 map and the square of the width
    per_conv = 0.0025 * (cfg.side / 32) ** 2 * max(1.0, (cfg.width / 16) ** 2) * cfg.batch_size / 64
    return 1.0 + 2 * cfg.steps * cfg.conv_depth * per_conv


def _title(cfg: GradFlowConfig, lang: str) -> str:
    net = t("lab.job.gf_resnet", lang) if cfg.resnet18 else t("lab.job.gf_convs", lang, n=cfg.conv_depth)
    bn = t("lab.job.bn", lang) if cfg.batch_norm else ""
    return t("lab.job.gradflow", lang, net=net, bn=bn, steps=cfg.steps, data=t(f"train.data.{cfg.dataset}", lang))


KIND: JobKind[GradFlowConfig] = JobKind("gradflow", GradFlowConfig.from_dict, _run, _describe, _fingerprint,
                                        pair_progress(VARIANTS), estimate_s=_estimate, title=_title)
