"""The labs' job kinds, registered with the scheduler (``cnnviz.runs.kinds``) on import.

Importing this module is what lets a worker process run lab jobs; the pool's worker command
(``python -m cnnviz pool --worker``) and the app's job layer (``ui.jobs``) import it.

* ``gradflow``: params ``GradFlowConfig.to_dict()``; events: the paired run's engine events
  as dicts with ``"name"`` = "plain" / "residual" (``cnnviz.labs.gradflow``). The stream
  runs out at the end: the job is completed, or stopped if its stop flag was set.
* ``bnpair``: params ``BNPairConfig.to_dict()``; events: the LeNet pair's (``"name"`` =
  "no_bn" / "bn") plus a ``"stats"`` event per variant every few steps and before its end,
  with the activation recorders' new statistics (``cnnviz.labs.bnlab.bn_pair_dicts``).
* ``featuremaps``: params ``QuickTrainConfig.to_dict()``; events: the engine's, without a
  name, so its end event gives the job's status (as a training run's); the trained weights
  are saved to ``ctx.weights_path`` and kept by the worker for the page to load.

All three are fixed in steps (no wall-clock budget), so each is keyed by its parameters and
the dataset's fingerprint: identical requests of a class share one computation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cnnviz.i18n import t
from cnnviz.labs.bnlab import BN_VARIANTS, BNPairConfig, bn_pair_dicts
from cnnviz.labs.featuremaps import QuickTrainConfig, quick_train_dicts
from cnnviz.labs.gradflow import VARIANTS, GradFlowConfig, named_dicts, run_gradflow
from cnnviz.runs.kinds import JobContext, JobKind, Stop, register_kind
from cnnviz.train.data import fingerprint


# --- progress of a paired job: the mean over the variants of their fraction done ---------------------
def _pair_progress(names: tuple[str, ...]):
    def progress(s: dict, d: Mapping[str, Any]) -> float | None:
        name = d.get("name")
        if name not in names:
            return None
        kind = d["kind"]
        if kind == "start":
            s.setdefault("total_steps", {})[name] = d["total_steps"]
        elif kind == "step":
            s.setdefault("steps", {})[name] = d["step"]
        elif kind == "end":
            s.setdefault("ended", {})[name] = d["status"]
        else:
            return None
        total, steps, ended = s.get("total_steps", {}), s.get("steps", {}), s.get("ended", {})
        fracs = [1.0 if n in ended else steps.get(n, 0) / max(1, total.get(n) or 1) for n in names]
        s["step"] = min(steps.get(n, 0) for n in names)
        return min(1.0, sum(fracs) / len(fracs))

    return progress


# --- gradflow ------------------------------------------------------------------------------------------
def _gf_run(params: Mapping[str, Any], stop: Stop, ctx: JobContext) -> Iterator[dict[str, Any]]:
    yield from named_dicts(run_gradflow(GradFlowConfig.from_dict(params), stop))


def _gf_describe(params: Mapping[str, Any]) -> tuple[str, str]:
    cfg = GradFlowConfig.from_dict(params)
    cfg.pair()  # a setting the engine refuses fails here, at submit time, not in the worker
    net = "ResNet-18 stages" if cfg.resnet18 else f"{cfg.conv_depth} convs"
    return "resnet18", f"gradflow · {net}{' · BN' if cfg.batch_norm else ''} · {cfg.steps} steps · {cfg.dataset}"


def _gf_fingerprint(params: Mapping[str, Any]) -> str:
    return fingerprint(GradFlowConfig.from_dict(params).train_config(False).data)


def _gf_estimate(params: Mapping[str, Any]) -> float:
    # both variants, one thread: ~2.5 ms per conv per step at width 16 and side 32 (measured),
    # scaling with the pixels of the 8x8 map and the square of the width
    cfg = GradFlowConfig.from_dict(params)
    per_conv = 0.0025 * (cfg.side / 32) ** 2 * max(1.0, (cfg.width / 16) ** 2) * cfg.batch_size / 64
    return 1.0 + 2 * cfg.steps * cfg.conv_depth * per_conv


def _gf_title(params: Mapping[str, Any], lang: str) -> str:
    cfg = GradFlowConfig.from_dict(params)
    net = t("lab.job.gf_resnet", lang) if cfg.resnet18 else t("lab.job.gf_convs", lang, n=cfg.conv_depth)
    bn = t("lab.job.bn", lang) if cfg.batch_norm else ""
    return t("lab.job.gradflow", lang, net=net, bn=bn, steps=cfg.steps, data=t(f"train.data.{cfg.dataset}", lang))


GRADFLOW = register_kind(JobKind("gradflow", _gf_run, _gf_describe, _gf_fingerprint, estimate_s=_gf_estimate,
                                 progress=_pair_progress(VARIANTS), title=_gf_title))


# --- bnpair ----------------------------------------------------------------------------------------------
def _bn_run(params: Mapping[str, Any], stop: Stop, ctx: JobContext) -> Iterator[dict[str, Any]]:
    yield from bn_pair_dicts(BNPairConfig.from_dict(params), stop)


def _bn_describe(params: Mapping[str, Any]) -> tuple[str, str]:
    cfg = BNPairConfig.from_dict(params)
    cfg.pair()
    return "lenet", f"bnpair · LeNet ± BN ({cfg.bn_impl}) · lr={cfg.lr:g} · {cfg.steps} steps · {cfg.dataset}"


def _bn_fingerprint(params: Mapping[str, Any]) -> str:
    return fingerprint(BNPairConfig.from_dict(params).pair()[0][1].data)


def _bn_estimate(params: Mapping[str, Any]) -> float:
    cfg = BNPairConfig.from_dict(params)
    return 1.0 + 2 * cfg.steps * 0.012 * cfg.batch_size / 128  # LeNet with hooks, one thread


def _bn_title(params: Mapping[str, Any], lang: str) -> str:
    cfg = BNPairConfig.from_dict(params)
    return t("lab.job.bnpair", lang, impl=cfg.bn_impl, lr=f"{cfg.lr:g}", steps=cfg.steps,
             data=t(f"train.data.{cfg.dataset}", lang))


BNPAIR = register_kind(JobKind("bnpair", _bn_run, _bn_describe, _bn_fingerprint, estimate_s=_bn_estimate,
                               progress=_pair_progress(BN_VARIANTS), title=_bn_title))


# --- featuremaps -------------------------------------------------------------------------------------------
def _fm_run(params: Mapping[str, Any], stop: Stop, ctx: JobContext) -> Iterator[dict[str, Any]]:
    yield from quick_train_dicts(QuickTrainConfig.from_dict(params), stop, ctx.weights_path)


def _fm_describe(params: Mapping[str, Any]) -> tuple[str, str]:
    cfg = QuickTrainConfig.from_dict(params)
    cfg.train_config()
    return cfg.arch, f"featuremaps · {cfg.arch} · {cfg.total_steps} steps · {cfg.dataset}"


def _fm_fingerprint(params: Mapping[str, Any]) -> str:
    return fingerprint(QuickTrainConfig.from_dict(params).train_config().data)


def _fm_estimate(params: Mapping[str, Any]) -> float:
    cfg = QuickTrainConfig.from_dict(params)
    per_step = 0.008 if cfg.arch == "lenet" else 0.06  # one thread, the class recipes (featuremaps.QUICK_STEPS)
    return 1.0 + cfg.total_steps * per_step


def _fm_progress(s: dict, d: Mapping[str, Any]) -> float | None:
    kind = d["kind"]
    if kind == "start":
        s["total_steps"] = d["total_steps"]
    elif kind in ("step", "epoch"):
        s["step"] = d["step"]
        if d.get("test_acc") is not None:
            s["test_acc"] = d["test_acc"]
    elif kind == "end":
        s.update(step=d["step"], test_acc=d["test_acc"])
        if d["status"] == "completed":
            return 1.0
    else:
        return None
    return min(1.0, s.get("step", 0) / max(1, s.get("total_steps") or 1))


def _fm_title(params: Mapping[str, Any], lang: str) -> str:
    cfg = QuickTrainConfig.from_dict(params)
    return t("lab.job.featuremaps", lang, arch=t(f"arch.{cfg.arch}", lang), steps=cfg.total_steps,
             data=t(f"train.data.{cfg.dataset}", lang))


FEATUREMAPS = register_kind(JobKind("featuremaps", _fm_run, _fm_describe, _fm_fingerprint, estimate_s=_fm_estimate,
                                    progress=_fm_progress, keeps_weights=True, title=_fm_title))

LAB_KINDS = ("gradflow", "bnpair", "featuremaps")
