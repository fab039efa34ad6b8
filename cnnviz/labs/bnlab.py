"""The BatchNorm lab (§5): the seed's layer against PyTorch's, what it does to activations.

Four experiments, each a plain function returning plain data (the page draws it):

* ``compare_batchnorm``: the seed's from-scratch ``cnnviz.models.layers.BatchNorm`` and
  ``nn.BatchNorm2d`` fed the same batches: outputs, input gradients, γ/β gradients and
  running statistics agree to float32 rounding, in training and in evaluation mode.
* ``batch_vs_running``: a BN layer's batch statistics against its running statistics, and
  what the training/evaluation switch changes: in training mode one example's output
  depends on the other examples of its batch, in evaluation mode it does not.
* ``batch_noise``: the per-channel batch mean and standard deviation are noisy estimates
  of the population's; their spread falls as 1/√B (the "noise" the seed says regularises).
* ``ActivationRecorder``: forward hooks that record per-layer pre-activation statistics
  (mean, std, histograms) during training; used by the paired LeNet run with and without
  BatchNorm (``bn_pair_events``, on ``cnnviz.labs.gradflow``'s paired-run machinery). As a
  scheduler job ("bnpair", ``cnnviz.jobs.bnpair``) the worker runs ``bn_pair_stream``: the
  paired events plus ``StatsEvent``s carrying the recorders' new statistics, which the page
  folds back with ``stats_from_events``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnviz.config import BN_IMPLS
from cnnviz.errors import ConfigError
from cnnviz.models.layers import BatchNorm
from cnnviz.train.data import DATASETS
from cnnviz.train.events import EndEvent, Event, StatsEvent, StepEvent

LAB_MAX_BATCH = 512  # the lab's own cap, below cnnviz.config.MAX_BATCH: a lab step must stay quick on a CPU
MAX_FEATURES = 64
MAX_SIDE = 64


# --- 1. from scratch against nn.BatchNorm2d ---------------------------------------------------
@dataclass(frozen=True)
class BNComparison:
    """Largest absolute differences between the two layers, step by step (all float)."""

    shape: tuple[int, int, int, int]  # N x C x H x W of every batch
    train_out: list[float]  # per training step: max |y_scratch − y_torch|
    train_grad_in: list[float]  # per step: max |∂L/∂x| difference
    grad_gamma: float  # after the last step: max |∂L/∂γ| difference (accumulated over steps)
    grad_beta: float
    running_mean: float  # max difference of the running means after all steps
    running_var: float
    eval_out: float  # max |y_scratch − y_torch| in evaluation mode (running statistics)
    out_mean: float  # the output's mean and std (per channel, averaged): ≈ 0 and ≈ 1
    out_std: float

    @property
    def max_diff(self) -> float:
        """The largest difference of all: what the page shows next to "equal"."""
        return max([*self.train_out, *self.train_grad_in, self.grad_gamma, self.grad_beta,
                    self.running_mean, self.running_var, self.eval_out])


def compare_batchnorm(n: int = 16, c: int = 4, h: int = 8, w: int = 8, steps: int = 3, seed: int = 0,
                      shift: float = 3.0, scale: float = 2.0) -> BNComparison:
    """Feed the same ``steps`` batches (N(shift, scale²) values) to both layers and compare.

    Both start from γ = 1, β = 0; γ/β are then set to the same random values so that the
    affine part is exercised too. Every step runs forward and backward with the same random
    upstream gradient.
    """
    _check(n=(n, 2, LAB_MAX_BATCH), c=(c, 1, MAX_FEATURES), h=(h, 1, MAX_SIDE), w=(w, 1, MAX_SIDE),
           steps=(steps, 1, 50))
    g = torch.Generator().manual_seed(int(seed))
    ours, ref = BatchNorm(c, 4), nn.BatchNorm2d(c)  # both momentum 0.1, eps 1e-5
    with torch.no_grad():
        gamma, beta = 1 + 0.5 * torch.randn(c, generator=g), 0.5 * torch.randn(c, generator=g)
        ours.gamma.copy_(gamma.view(1, c, 1, 1))
        ours.beta.copy_(beta.view(1, c, 1, 1))
        ref.weight.copy_(gamma)
        ref.bias.copy_(beta)
    train_out, train_grad = [], []
    y_ref: torch.Tensor | None = None
    for _ in range(steps):
        x = shift + scale * torch.randn(n, c, h, w, generator=g)
        up = torch.randn(n, c, h, w, generator=g)  # ∂L/∂y, shared
        xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        ya, yb = ours(xa), ref(xb)
        ya.backward(up)
        yb.backward(up)
        train_out.append(_maxabs(ya, yb))
        train_grad.append(_maxabs(_there(xa.grad), _there(xb.grad)))
        y_ref = yb.detach()
    ours.eval()
    ref.eval()
    x = shift + scale * torch.randn(n, c, h, w, generator=g)
    with torch.no_grad():
        eval_out = _maxabs(ours(x), ref(x))
    assert y_ref is not None  # steps ≥ 1 (checked above)
    # normalised output before the affine part: (y − β)/γ per channel
    z = (y_ref - beta.view(1, c, 1, 1)) / gamma.view(1, c, 1, 1)
    return BNComparison(
        shape=(n, c, h, w), train_out=train_out, train_grad_in=train_grad,
        grad_gamma=_maxabs(_there(ours.gamma.grad).view(c), _there(ref.weight.grad)),
        grad_beta=_maxabs(_there(ours.beta.grad).view(c), _there(ref.bias.grad)),
        running_mean=_maxabs(ours.moving_mean.view(c), _there(ref.running_mean)),
        running_var=_maxabs(ours.moving_var.view(c), _there(ref.running_var)),
        eval_out=eval_out, out_mean=float(z.mean(dim=(0, 2, 3)).abs().mean()),
        out_std=float(z.std(dim=(0, 2, 3), unbiased=False).mean()),
    )


def _maxabs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach() - b.detach()).abs().max())


def _there(t: torch.Tensor | None) -> torch.Tensor:
    """A tensor torch types as optional but that is there by construction: a gradient after
    ``backward``, a layer's bias (``bias=True``, the default), the running statistics of a
    BatchNorm layer that tracks them (the default)."""
    assert t is not None
    return t


def _check(**ranges: tuple[int, int, int]) -> None:
    for name, (v, lo, hi) in ranges.items():
        if not lo <= int(v) <= hi:
            raise ConfigError("err.range", field=name, lo=lo, hi=hi, value=v)


# --- 2. batch statistics against running statistics ---------------------------------------
@dataclass(frozen=True)
class BatchVsRunning:
    """Per-channel statistics of one BN layer after ``steps`` training batches."""

    steps: int
    batch_mean: list[float]  # of the last batch, per channel
    batch_var: list[float]
    running_mean: list[float]
    running_var: list[float]
    history: list[dict]  # per step: {"step", "batch_mean", "running_mean"} of channel 0
    train_vs_eval: float  # same batch: max |y_train − y_eval|
    companions_train: float  # example 0 with two different batch companions, training mode: max |Δy|
    companions_eval: float  # the same in evaluation mode: exactly 0


def conv_features(images: torch.Tensor, channels: int = 6, seed: int = 0) -> torch.Tensor:
    """``B x channels x 24 x 24``: LeNet's first layer (a seeded 5×5 conv) on ``B x 1 x 28 x 28`` images.

    What a BN layer after LeNet's first conv sees: per channel, a shifted and scaled
    distribution, so the batch statistics are far from (0, 1).
    """
    g = torch.Generator().manual_seed(int(seed))
    conv = nn.Conv2d(images.shape[1], channels, 5)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.3)
        _there(conv.bias).copy_(torch.randn(channels, generator=g))
        return conv(images)


def batch_vs_running(features: torch.Tensor, batch_size: int = 32, steps: int = 50, momentum: float = 0.1,
                     seed: int = 0) -> BatchVsRunning:
    """Train-mode passes of ``nn.BatchNorm2d`` over random batches of ``features`` (``N x C x H x W``).

    The running statistics follow the batch ones with an exponential moving average
    (new = (1 − momentum)·old + momentum·batch), so they start at (0, 1) and approach the
    population's values within a few ``1/momentum`` steps.
    """
    n, c = features.shape[:2]
    _check(batch_size=(batch_size, 2, min(LAB_MAX_BATCH, n // 2)), steps=(steps, 1, 1000))
    if not 0.0 < momentum <= 1.0:
        raise ConfigError("err.range", field="momentum", lo=0, hi=1, value=momentum)
    g = torch.Generator().manual_seed(int(seed))
    bn = nn.BatchNorm2d(c, momentum=momentum)
    history = []
    x = features[:batch_size]
    with torch.no_grad():
        for s in range(steps):
            x = features[torch.randperm(n, generator=g)[:batch_size]]  # B x C x H x W
            bn(x)
            history.append({"step": s + 1, "batch_mean": float(x[:, 0].mean()),
                            "running_mean": float(_there(bn.running_mean)[0])})
        bm, bv = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)
        y_train = bn(x)  # (this pass updates the running statistics once more; y_eval uses the result)
        bn.eval()
        y_eval = bn(x)
        # example 0 in two different batches
        others = torch.randperm(n, generator=g)
        a = torch.cat([x[:1], features[others[:batch_size - 1]]])
        b = torch.cat([x[:1], features[others[batch_size - 1: 2 * batch_size - 2]]])
        comp_eval = _maxabs(bn(a)[0], bn(b)[0])
        bn.train()
        comp_train = _maxabs(bn(a)[0], bn(b)[0])
    return BatchVsRunning(
        steps=steps, batch_mean=bm.tolist(), batch_var=bv.tolist(), running_mean=_there(bn.running_mean).tolist(),
        running_var=_there(bn.running_var).tolist(), history=history, train_vs_eval=_maxabs(y_train, y_eval),
        companions_train=comp_train, companions_eval=comp_eval,
    )


# --- 3. batch size against the noise of batch statistics ------------------------------------
def batch_noise(features: torch.Tensor, batch_sizes=(2, 4, 8, 16, 32, 64, 128, 256), trials: int = 200,
                seed: int = 0) -> list[dict]:
    """Spread of per-channel batch statistics over ``trials`` random batches, per batch size.

    For each B: the standard deviation (over trials, averaged over channels) of the batch
    mean and of the batch std, both relative to the channel's population std. The theory
    line is the sampling error of a mean of B independent images, σ_image/√B, where σ_image
    is the spread of the per-image channel means (the pixels of one image are correlated,
    so the image, not the pixel, is the sample).
    Returns rows ``{"batch_size", "mean_noise", "std_noise", "theory"}``.
    """
    n, c = features.shape[:2]
    _check(trials=(trials, 2, 5000))
    g = torch.Generator().manual_seed(int(seed))
    f = features.double()  # float64: E[x²] − E[x]² below would lose digits in float32
    pop_std = f.transpose(0, 1).reshape(c, -1).std(dim=1)  # C: σ over all pixels of all images
    # Every image has the same H x W, so a batch's statistics follow from per-image moments:
    # no trials x B x C x H x W tensor is ever built (that would be ~700 MB at B = 256).
    m1 = f.mean(dim=(2, 3))  # N x C: E[x] per image and channel
    m2 = (f * f).mean(dim=(2, 3))  # N x C: E[x²]
    ex_std = m1.std(dim=0)  # C
    rows = []
    for b in batch_sizes:
        if not 1 <= b <= n:
            continue
        idx = torch.stack([torch.randperm(n, generator=g)[:b] for _ in range(trials)])  # trials x B
        means = m1[idx].mean(dim=1)  # trials x C
        stds = (m2[idx].mean(dim=1) - means**2).clamp_min(0).sqrt()  # trials x C (biased, as BN uses)
        rows.append({
            "batch_size": int(b),
            "mean_noise": float((means.std(dim=0) / pop_std).mean()),
            "std_noise": float((stds.std(dim=0) / pop_std).mean()),
            "theory": float((ex_std / pop_std).mean() / math.sqrt(b)),
        })
    return rows


# --- 4. activation statistics during training ---------------------------------------------
@dataclass
class LayerStats:
    """Running record of one layer's pre-activation values over the training steps."""

    name: str
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    hist_steps: list[int] = field(default_factory=list)
    hists: list[list[int]] = field(default_factory=list)


class ActivationRecorder:
    """Forward hooks on every activation module, recording the values fed to it (its input).

    The input of the nonlinearity is where BatchNorm acts: without BN the pre-activations of
    a sigmoid network drift into the flat tails; with BN they stay near mean β, std γ. Only
    training-mode passes are recorded (evaluation passes would add points at other steps).
    Per layer and step: Σx and Σx² (two vectorised passes), fetched for all layers at once in
    ``end_step``; a histogram (``bins`` bins over ``hist_range``, values outside clamped to
    the end bins) every ``hist_every`` steps. Overhead: see ``bench/bench_capture.py``.

    Use as a context manager: hooks are removed in ``__exit__`` whatever happens. ``end_step()``
    marks the end of a training step (the step number of histograms). Thread-safe reads:
    ``snapshot()`` copies under a lock while the training thread appends.
    """

    def __init__(self, model: nn.Module, hist_every: int = 10, bins: int = 40,
                 hist_range: tuple[float, float] = (-6.0, 6.0),
                 kinds: tuple[type[nn.Module], ...] = (nn.ReLU, nn.Sigmoid)):
        self.model, self.hist_every, self.bins, self.range = model, int(hist_every), int(bins), hist_range
        self.kinds = kinds
        self.layers: dict[str, LayerStats] = {}
        self.step = 0
        self._handles: list = []
        self._pending: list = []  # (layer, [Σx, Σx²] tensor, n) of the current step
        self._pending_hist: list = []  # (layer, counts tensor)
        self._lock = threading.Lock()

    def __enter__(self) -> ActivationRecorder:
        try:
            for name, m in self.model.named_modules():
                if isinstance(m, self.kinds):
                    self.layers[name] = LayerStats(name)
                    self._handles.append(m.register_forward_hook(self._hook(name)))
        except Exception:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove every hook (idempotent)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _hook(self, name: str):
        lo, hi = self.range

        def hook(module: nn.Module, inputs, output) -> None:
            if not module.training:
                return
            v = inputs[0].detach().reshape(-1)  # a view unless the input is not contiguous
            if v.dtype != torch.float32:
                v = v.float()  # bf16/fp16 under autocast: accumulate in float32
            # Σx and Σx² (a BLAS dot product): two fast vectorised passes. torch.std_mean uses a
            # scalar Welford loop on the CPU that cost ~40 % of a LeNet step (bench/bench_capture.py).
            # Nothing is read back here: end_step() fetches every layer's sums with one tolist().
            self._pending.append((name, torch.stack((v.sum(), torch.dot(v, v))), v.numel()))
            if self.hist_every and self.step % self.hist_every == 0:
                self._pending_hist.append((name, torch.histc(v.clamp(lo, hi), bins=self.bins, min=lo, max=hi)))

        return hook

    def end_step(self) -> None:
        """Close a training step (call once per step, after the forward pass): fetch its statistics.

        mean = Σx/n, var = Σx²/n − mean² (float64 from here on; clamped at 0 against rounding).
        """
        pending, hists = self._pending, self._pending_hist
        self._pending, self._pending_hist = [], []
        if pending:
            sums = torch.stack([p[1] for p in pending]).tolist()  # L x 2: the one read-back of the step
            hist_vals = torch.stack([h[1] for h in hists]).to(torch.int64).tolist() if hists else []
            with self._lock:
                for (name, _, n), (s1, s2) in zip(pending, sums):
                    mean = s1 / n
                    rec = self.layers[name]
                    rec.mean.append(mean)
                    rec.std.append(math.sqrt(max(s2 / n - mean * mean, 0.0)))
                for (name, _), counts in zip(hists, hist_vals):
                    rec = self.layers[name]
                    rec.hist_steps.append(self.step)
                    rec.hists.append(counts)
        self.step += 1

    def snapshot(self) -> dict[str, LayerStats]:
        """A copy of every layer's record, safe to read while training goes on."""
        with self._lock:
            return {k: LayerStats(v.name, list(v.mean), list(v.std), list(v.hist_steps), [list(h) for h in v.hists])
                    for k, v in self.layers.items()}

    def bin_edges(self) -> list[float]:
        lo, hi = self.range
        return [lo + (hi - lo) * i / self.bins for i in range(self.bins + 1)]


def act_labels(model: nn.Module, kinds: tuple[type, ...] = (nn.ReLU, nn.Sigmoid)) -> dict[str, str]:
    """{activation module name: "conv1", "fc2"...}: each nonlinearity named after the layer feeding it."""
    labels, last, counts = {}, "", {"conv": 0, "fc": 0}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            counts["conv"] += 1
            last = f"conv{counts['conv']}"
        elif isinstance(m, nn.Linear):
            counts["fc"] += 1
            last = f"fc{counts['fc']}"
        elif isinstance(m, kinds):
            labels[name] = last or name
    return labels


# --- 5. the seed's experiment: LeNet with and without BatchNorm, paired ------------------------------
BN_VARIANTS = ("no_bn", "bn")


@dataclass(frozen=True)
class BNPairConfig:
    """LeNet (sigmoid, as the seed) with and without BN: same initial weights, same batches."""

    steps: int = 150
    batch_size: int = 128
    lr: float = 0.9  # the book trains both LeNets with SGD at 0.9 (no BN) and 1.0 (BN); one rate here
    seed: int = 0
    dataset: str = "synthetic"
    bn_impl: str = "torch"  # "scratch": the seed's own layer
    hist_every: int = 10

    def __post_init__(self) -> None:
        _check(steps=(self.steps, 1, 5000), batch_size=(self.batch_size, 2, LAB_MAX_BATCH),
               hist_every=(self.hist_every, 1, 1000), seed=(self.seed, 0, 2**31 - 1))
        if not 0 < self.lr < 100:
            raise ConfigError("err.range", field="lr", lo=0, hi=100, value=self.lr)
        for name, choices in (("bn_impl", BN_IMPLS), ("dataset", DATASETS)):
            if getattr(self, name) not in choices:
                raise ConfigError("err.choice", field=name, choices=", ".join(choices), value=getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of the fields (a "bnpair" job's parameters)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BNPairConfig:
        """The config of ``to_dict()`` output (a job's stored parameters), validated."""
        from cnnviz.labs.gradflow import config_from_dict

        return config_from_dict(cls, d)

    def pair(self):
        from cnnviz.train.config import TrainConfig

        def cfg(bn: bool) -> TrainConfig:
            return TrainConfig.create("lenet", model_settings=dict(batch_norm=bn, bn_impl=self.bn_impl),
                                      dataset=self.dataset, test_subset=500, lr=self.lr, batch_size=self.batch_size,
                                      epochs=1000, max_steps=self.steps, seed=self.seed, device="cpu", log_every=1,
                                      eval_every=0)

        return (("no_bn", cfg(False)), ("bn", cfg(True)))


def bn_pair_events(cfg: BNPairConfig, stop=None, recorders: dict | None = None):
    """The paired stream of LeNet without and with BN, each with an ``ActivationRecorder``.

    ``recorders`` (a dict, filled here) receives one recorder per variant, so a caller can
    read the statistics while the stream runs; their hooks are removed when the stream
    ends, is closed, or fails.
    """
    import contextlib

    from cnnviz.labs.gradflow import build_pair, paired_events

    pair = cfg.pair()
    models = build_pair([c for _, c in pair], init="xavier")  # the book's init, identical where names match
    recs = {name: ActivationRecorder(m, hist_every=cfg.hist_every) for (name, _), m in zip(pair, models)}
    if recorders is not None:
        recorders.update(recs)
    with contextlib.ExitStack() as stack:
        for r in recs.values():
            stack.enter_context(r)
        # the engine calls back after every step's backward: the recorder's step counter advances there
        callbacks = {name: [lambda ctx, r=r: r.end_step()] for name, r in recs.items()}
        yield from paired_events(pair, stop=stop, models=models, callbacks=callbacks)


# --- 6. the paired run as a job's events: statistics as "stats" events --------------------------------
STATS_EVERY = 10  # steps between two "stats" events of a variant (and one at its end)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None  # JSON has no NaN: a diverged mean is stored as null


def stats_delta(name: str, rec: ActivationRecorder, sent: dict[str, tuple[int, int]], first: bool) -> StatsEvent:
    """What ``rec`` recorded since the entries counted in ``sent`` (updated), as a ``StatsEvent``
    of variant ``name``: per layer ``{"mean": [...], "std": [...], "hist_steps": [...],
    "hists": [[counts]...]}``, only the new entries; the first event of a variant also carries
    ``labels`` (``act_labels``) and ``edges`` (the histogram's bin edges). ``stats_from_events``
    concatenates them back.
    """
    layers = {}
    for layer, ls in rec.snapshot().items():
        n_mean, n_hist = sent.get(layer, (0, 0))
        layers[layer] = {"mean": [_finite(v) for v in ls.mean[n_mean:]], "std": [_finite(v) for v in ls.std[n_mean:]],
                         "hist_steps": ls.hist_steps[n_hist:], "hists": ls.hists[n_hist:]}
        sent[layer] = (len(ls.mean), len(ls.hists))
    if first:
        return StatsEvent(step=rec.step, layers=layers, labels=act_labels(rec.model), edges=rec.bin_edges(), name=name)
    return StatsEvent(step=rec.step, layers=layers, name=name)


def bn_pair_stream(cfg: BNPairConfig, stop=None, stats_every: int = STATS_EVERY) -> Iterator[Event]:
    """The "bnpair" job's stream: the paired events (each with its variant in ``name``) and, per
    variant, a ``StatsEvent`` (``stats_delta``) every ``stats_every`` steps and just before its
    end event, so that the page can draw the recorders' statistics from the stored events."""
    recs: dict[str, ActivationRecorder] = {}
    sent: dict[str, dict[str, tuple[int, int]]] = {n: {} for n in BN_VARIANTS}
    last = dict.fromkeys(BN_VARIANTS, 0)  # recorder step of the variant's last stats event
    first = dict.fromkeys(BN_VARIANTS, True)

    def stats(name: str) -> StatsEvent:
        ev = stats_delta(name, recs[name], sent[name], first[name])
        first[name], last[name] = False, recs[name].step
        return ev

    for name, ev in bn_pair_events(cfg, stop, recs):
        if isinstance(ev, EndEvent):
            yield stats(name)  # the rest of its statistics, before the variant's end
            yield ev.named(name)
            continue
        yield ev.named(name)
        if isinstance(ev, StepEvent) and recs[name].step - last[name] >= stats_every:
            yield stats(name)


def stats_from_events(events: Iterable[Event]) -> tuple[dict[str, dict[str, LayerStats]], dict[str, str],
                                                        list[float]]:
    """``({variant: {layer: LayerStats}}, labels, bin edges)`` from a "bnpair" job's stored events:
    what the recorders' ``snapshot()``, ``act_labels`` and ``bin_edges()`` gave in the worker."""
    snaps: dict[str, dict[str, LayerStats]] = {}
    labels: dict[str, str] = {}
    edges: list[float] = []
    for ev in events:
        if not isinstance(ev, StatsEvent):
            continue
        if ev.labels is not None:
            labels, edges = dict(ev.labels), list(ev.edges or ())
        snap = snaps.setdefault(ev.name, {})
        for layer, part in ev.layers.items():
            ls = snap.setdefault(layer, LayerStats(layer))
            ls.mean.extend(math.nan if v is None else v for v in part["mean"])
            ls.std.extend(math.nan if v is None else v for v in part["std"])
            ls.hist_steps.extend(part["hist_steps"])
            ls.hists.extend(list(h) for h in part["hists"])
    return snaps, labels, edges
