"""The "bnpair" job kind: the BatchNorm lab's LeNet without and with BatchNorm (``cnnviz.labs.bnlab``).

Params ``BNPairConfig.to_dict()``; events: the pair's engine events (``name`` = "no_bn" /
"bn") plus a ``StatsEvent`` per variant every few steps and before its end, with the
activation recorders' new statistics (``cnnviz.labs.bnlab.bn_pair_stream``). Fixed in steps, so
identical requests share one computation.
"""

from __future__ import annotations

from collections.abc import Iterator

from cnnviz.i18n import t
from cnnviz.jobs.pairs import pair_progress
from cnnviz.labs.bnlab import BN_VARIANTS, BNPairConfig, bn_pair_stream
from cnnviz.runs.kinds import JobContext, JobKind, Stop
from cnnviz.train.data import fingerprint
from cnnviz.train.events import Event


def _run(cfg: BNPairConfig, stop: Stop, ctx: JobContext) -> Iterator[Event]:
    yield from bn_pair_stream(cfg, stop)


def _describe(cfg: BNPairConfig) -> tuple[str, str]:
    cfg.pair()  # a setting the engine refuses fails here, at submit time
    return "lenet", f"bnpair · LeNet ± BN ({cfg.bn_impl}) · lr={cfg.lr:g} · {cfg.steps} steps · {cfg.dataset}"


def _fingerprint(cfg: BNPairConfig) -> str:
    return fingerprint(cfg.pair()[0][1].data)


def _estimate(cfg: BNPairConfig) -> float:
    return 1.0 + 2 * cfg.steps * 0.012 * cfg.batch_size / 128  # LeNet with hooks, one thread


def _title(cfg: BNPairConfig, lang: str) -> str:
    return t("lab.job.bnpair", lang, impl=cfg.bn_impl, lr=f"{cfg.lr:g}", steps=cfg.steps,
             data=t(f"train.data.{cfg.dataset}", lang))


KIND: JobKind[BNPairConfig] = JobKind("bnpair", BNPairConfig.from_dict, _run, _describe, _fingerprint,
                                      pair_progress(BN_VARIANTS), estimate_s=_estimate, title=_title)
