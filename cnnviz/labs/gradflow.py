"""The gradient-flow lab (§6.4): a deep plain net against the same net with residual connections.

A *paired run* trains two variants side by side on the training engine (``cnnviz.train``):

* the same initial weights wherever the shapes match: both are built and initialised from
  the same seed, then every state-dict entry of the first whose name and shape exist in the
  second is copied over (the residual net's extra 1×1 shortcut convs keep their own);
* the same batches in the same order (``cnnviz.train.data.batches`` is a pure function of the
  seed) and the same optimiser settings;
* lock-step: ``paired_events`` pulls each engine generator up to its next ``StepEvent`` in
  turn, so the stream reads step 1 of A, step 1 of B, step 2 of A...

The stream is the engine's own events tagged with the variant: ``(variant, event)``. The
CLI (``python -m cnnviz gradflow``) and the tests consume it directly; the page submits a
"gradflow" job to the scheduler (``cnnviz.jobs.gradflow``), whose worker stores the same
events, each with its variant in ``name``. ``PairHistory`` (as they come) and
``series_from_events`` (as the store gives them back) fold them into per-variant series.

The nets are ``ResNetConfig(stages=((n, width),), residual=...)``: a stem conv and n
residual blocks of two 3×3 convs at constant width, 2n + 1 convs in all (``depth``). The
stem's 7×7/2 conv and 3×3/2 pool shrink a 32-pixel input to 8×8, so even 57 convs train
at a few steps a second on a CPU. ``residual=False`` is the same stack without the skips.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

import torch
from torch import nn

from cnnviz.config import ACTIVATIONS
from cnnviz.errors import ConfigError
from cnnviz.models.registry import create_model
from cnnviz.runs.kinds import Stop
from cnnviz.status import Status
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import DATASETS, Data, load_data
from cnnviz.train.events import EndEvent, EpochEvent, Event, StartEvent, StepEvent
from cnnviz.train.loop import train
from cnnviz.train.steps import StepCallback, init_weights

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # typeshed's protocol of a dataclass (has __dataclass_fields__)

MIN_DEPTH, MAX_DEPTH = 3, 65  # convs on the main path: 1 to 32 residual blocks
MAX_STEPS = 2000
MAX_WIDTH = 128
INITS = ("pytorch", "xavier")
VARIANTS = ("plain", "residual")


# --- configuration -------------------------------------------------------------------------
C = TypeVar("C", bound="DataclassInstance")


def config_from_dict(cls: type[C], d: Any) -> C:
    """A lab's frozen config dataclass rebuilt from its ``to_dict()`` (a job's JSON parameters).

    Every field has a default of the field's type (int, float, bool or str); a missing key
    takes its default. Not a mapping, an unknown key, or a value of the wrong type (a bool
    where an int belongs, a string for a number) is a ``ConfigError``; ranges and choices are
    then checked by the class itself (``__post_init__``). An int is accepted for a float.
    """
    name = cls.__name__
    if not isinstance(d, Mapping):
        raise ConfigError("err.bad_value", key="params", raw=type(d).__name__, type=name)
    fields = cls.__dataclass_fields__
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ConfigError("err.unknown_setting", names=", ".join(map(str, unknown)), cls=name,
                          valid=", ".join(sorted(fields)))
    values = {}
    for key, v in d.items():
        want = type(fields[key].default)
        if want is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, want) or (want is not bool and isinstance(v, bool)):
            raise ConfigError("err.bad_value", key=key, raw=repr(v)[:40], type=want.__name__)
        values[key] = v
    return cls(**values)


@dataclass(frozen=True)
class GradFlowConfig:
    """One gradient-flow experiment. Frozen and hashable (a cache key for the page)."""

    depth: int = 31  # convs on the main path (stem + 2 per block); rounded down to odd
    resnet18: bool = False  # True: the seed's ResNet-18 stages (2, 2, 2, 2 blocks; widths ×1, ×2, ×4, ×8)
    batch_norm: bool = False  # BN after every conv; it rescues the plain net's gradients too
    activation: str = "relu"
    width: int = 16  # channels of every block (the first stage's with resnet18)
    side: int = 32  # input side; the stem divides it by 4
    steps: int = 40
    batch_size: int = 64
    lr: float = 0.05
    init: str = "pytorch"  # "pytorch": nn.Conv2d's own U(±1/√fan_in); "xavier": the book's init_weights
    seed: int = 0
    dataset: str = "synthetic"

    def __post_init__(self) -> None:
        checks = (("depth", MIN_DEPTH, MAX_DEPTH), ("width", 1, MAX_WIDTH), ("side", 8, 224),
                  ("steps", 1, MAX_STEPS), ("batch_size", 2, 1024), ("seed", 0, 2**31 - 1))
        for name, lo, hi in checks:
            v = getattr(self, name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError("err.range", field=name, lo=lo, hi=hi, value=v)
        if not (self.lr > 0 and self.lr < 10):
            raise ConfigError("err.range", field="lr", lo=0, hi=10, value=self.lr)
        for name, choices in (("init", INITS), ("activation", ACTIVATIONS), ("dataset", DATASETS)):
            if getattr(self, name) not in choices:
                raise ConfigError("err.choice", field=name, choices=", ".join(choices), value=getattr(self, name))

    @property
    def blocks(self) -> int:
        """Residual blocks of the constant-width net: (depth − 1) // 2."""
        return (self.depth - 1) // 2

    @property
    def conv_depth(self) -> int:
        """Convs on the main path actually built (17 for ResNet-18's stages)."""
        return 17 if self.resnet18 else 2 * self.blocks + 1

    def stages(self) -> tuple[tuple[int, int], ...]:
        """``ResNetConfig.stages``: one constant-width stage, or ResNet-18's four."""
        if self.resnet18:
            return tuple((2, self.width * m) for m in (1, 2, 4, 8))
        return ((self.blocks, self.width),)

    def train_config(self, residual: bool) -> TrainConfig:
        """The engine's config of one variant (validated by ``ResNetConfig``/``TrainConfig``)."""
        settings = dict(stages=self.stages(), stem_channels=self.width, residual=residual,
                        batch_norm=self.batch_norm, activation=self.activation)
        return TrainConfig.create(
            "resnet18", input_side=self.side, in_channels=1, model_settings=settings, dataset=self.dataset,
            test_subset=256, lr=self.lr, batch_size=self.batch_size, epochs=1000, max_steps=self.steps,
            seed=self.seed, device="cpu", log_every=1, eval_every=0,
        )

    def pair(self) -> tuple[tuple[str, TrainConfig], tuple[str, TrainConfig]]:
        """``(("plain", cfg), ("residual", cfg))``: the two variants, identical but for the skips."""
        return ("plain", self.train_config(False)), ("residual", self.train_config(True))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of the fields (a "gradflow" job's parameters)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GradFlowConfig:
        """The config of ``to_dict()`` output (a job's stored parameters), validated."""
        return config_from_dict(cls, d)

    def replace(self, **changes: Any) -> GradFlowConfig:
        """A validated copy; unknown field names are a ``ConfigError`` listing the valid ones."""
        unknown = sorted(set(changes) - set(self.__dataclass_fields__))
        if unknown:
            raise ConfigError("err.unknown_setting", names=", ".join(unknown), cls="GradFlowConfig",
                              valid=", ".join(sorted(self.__dataclass_fields__)))
        return replace(self, **changes)


# --- the paired run ------------------------------------------------------------------------
def build_pair(cfgs: Sequence[TrainConfig], init: str = "xavier") -> list[nn.Module]:
    """The models of a paired run, starting from the same weights wherever names and shapes match.

    Every model is built and initialised by ``train.init_weights`` (Xavier, or PyTorch's own
    scheme) from the first config's seed, each layer from its own generator, so a run in
    another thread cannot shift them; then each state-dict entry of the first model whose
    name and shape also exist in another is copied into it: weights, biases, BN parameters
    and running statistics. Returns the models in the order of ``cfgs``.
    """
    seed = cfgs[0].seed
    models = [init_weights(create_model(cfg.model), seed, scheme=init) for cfg in cfgs]
    copy_matching(models[0], models[1:])
    return models


@torch.no_grad()
def copy_matching(src: nn.Module, dsts: Sequence[nn.Module]) -> list[str]:
    """Copy every state-dict entry of ``src`` into each of ``dsts`` where name and shape match.

    Returns the names copied into the last destination (for tests and the page's note).
    """
    copied: list[str] = []
    ref = src.state_dict()
    for dst in dsts:
        copied = []
        for name, tensor in dst.state_dict().items():  # state_dict tensors share storage with the module
            other = ref.get(name)
            if other is not None and other.shape == tensor.shape:
                tensor.copy_(other)
                copied.append(name)
    return copied


def paired_events(pair: Sequence[tuple[str, TrainConfig]], *, init: str = "xavier", stop: Stop | None = None,
                  data: Data | None = None, callbacks: Mapping[str, Sequence[StepCallback]] | None = None,
                  models: Sequence[nn.Module] | None = None) -> Iterator[tuple[str, Any]]:
    """Train the variants of ``pair`` (``[(name, cfg), ...]``) in lock-step; yield ``(name, event)``.

    Each variant runs in its own ``cnnviz.train.train`` generator on its own model (see
    ``build_pair``), all on the same data (loaded once). After each variant's ``StartEvent``,
    the stream alternates: every variant's events up to and including its next ``StepEvent``,
    in the order of ``pair``. A variant that ends early (diverged, failed) leaves the others
    going; every variant's ``EndEvent`` is yielded. ``stop`` ends them all within one step.
    """
    stop = stop if stop is not None else threading.Event()
    cfgs = [c for _, c in pair]
    if data is None:
        data = load_data(cfgs[0].data)
    if models is None:
        models = build_pair(cfgs, init)
    gens = {name: train(cfg, stop=stop, model=m, data=data, callbacks=tuple((callbacks or {}).get(name, ())))
            for (name, cfg), m in zip(pair, models)}
    active = list(gens)
    try:
        while active:
            for name in list(active):
                for ev in gens[name]:
                    yield name, ev
                    if isinstance(ev, EndEvent):
                        active.remove(name)
                        break
                    if isinstance(ev, StepEvent):
                        break  # the next variant's turn
                else:
                    active.remove(name)  # (the engine always ends with an EndEvent; defensive)
    finally:
        for g in gens.values():
            g.close()  # a consumer that stops reading releases both models now


@dataclass
class VariantSeries:
    """One variant's history, folded from its events."""

    layers: list[str] = field(default_factory=list)  # conv/linear names in model order (StartEvent.layers)
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    grad_norms: list[dict[str, float]] = field(default_factory=list)
    extra: list[dict[str, float]] = field(default_factory=list)
    test_acc: float | None = None
    status: Status = Status.RUNNING  # then its EndEvent's status: completed, stopped, diverged, failed
    message: dict[str, str] = field(default_factory=dict)  # {lang: text} of the EndEvent
    n_params: int = 0

    def copy(self) -> VariantSeries:
        return VariantSeries(list(self.layers), list(self.steps), list(self.loss), list(self.train_acc),
                             [dict(g) for g in self.grad_norms], [dict(e) for e in self.extra], self.test_acc,
                             self.status, dict(self.message), self.n_params)


class PairHistory:
    """Per-variant series built from a paired event stream; ``add`` from one thread, ``snapshot`` from any.

    ``add(name, event)`` takes the engine's events as they come (the CLI, the tests);
    ``series_from_events`` folds a job's stored events (each with its variant in ``name``).
    Events of other names are ignored.
    """

    def __init__(self, names: Sequence[str]):
        self.names = tuple(names)
        self._series = {n: VariantSeries() for n in names}
        self._lock = threading.Lock()

    def add(self, name: str, ev: Event) -> None:
        s = self._series.get(name)
        if s is None:
            return
        with self._lock:
            _fold(s, ev)

    def snapshot(self) -> dict[str, VariantSeries]:
        """A deep copy of every series."""
        with self._lock:
            return {n: s.copy() for n, s in self._series.items()}


def _num(v: float | None) -> float:
    # the stored events carry None where the engine measured NaN/inf (JSON has neither)
    return math.nan if v is None else float(v)


def _fold(s: VariantSeries, ev: Event) -> None:
    """One event of the variant into its series."""
    if isinstance(ev, StartEvent):
        s.layers, s.n_params = list(ev.layers), int(ev.n_params)
    elif isinstance(ev, StepEvent):
        s.steps.append(int(ev.step))
        s.loss.append(_num(ev.loss))
        s.train_acc.append(_num(ev.train_acc))
        s.grad_norms.append({k: _num(v) for k, v in (ev.grad_norms or {}).items()})
        s.extra.append({k: _num(v) for k, v in (ev.extra or {}).items()})
    elif isinstance(ev, EndEvent):
        s.status, s.message, s.test_acc = ev.status, dict(ev.message or {}), ev.test_acc
    elif isinstance(ev, EpochEvent):
        s.test_acc = ev.test_acc


def series_from_events(events: Iterable[Event], names: Sequence[str]) -> dict[str, VariantSeries]:
    """The per-variant series of a paired job's stored events (``Scheduler.events(run_id)``).

    One pass, no copies: what ``PairHistory(names)`` fed the same stream would hold. Events
    of other kinds (a BatchNorm job's ``StatsEvent``) or names are skipped.
    """
    out = {n: VariantSeries() for n in names}
    for ev in events:
        s = out.get(ev.name)
        if s is not None:
            _fold(s, ev)
    return out


# --- what the lab reads off the history ----------------------------------------------------------
def path_layers(series: Mapping[str, VariantSeries]) -> list[str]:
    """The conv/linear layers every variant has, in model order: the depth axis.

    The residual net's 1×1 shortcut convs (``…shortcut``) exist only there and are not on
    the main path, so they drop out; the final dense layer stays (the last point).
    """
    names = [s.layers for s in series.values() if s.layers]
    if not names:
        return []
    common = set(names[0]).intersection(*names[1:])
    return [n for n in names[0] if n in common]


def main_path(layers: Sequence[str]) -> list[str]:
    """One variant's layers without the 1×1 shortcut convs (which only the residual net has)."""
    return [n for n in layers if not n.endswith(".shortcut")]


def norm_matrix(s: VariantSeries, layers: Sequence[str]) -> list[list[float]]:
    """steps × layers gradient norms (the heatmap); a missing value is NaN."""
    return [[float(g.get(n, float("nan"))) for n in layers] for g in s.grad_norms]


def first_last_ratio(s: VariantSeries, layers: Sequence[str], step: int = -1, convs_only: bool = True,
                     k: int = 1) -> tuple[float, float, float]:
    """(first, last, last/first): the mean gradient norm of the first and last ``k`` layers at ``step``.

    With ``convs_only`` the final dense layer is left out (its gradient is large in both
    variants and says nothing about depth). A ratio ≫ 1 is a vanishing gradient.
    """
    g = s.grad_norms[step]
    names = [n for n in layers if not convs_only or n != layers[-1]] if layers else []
    first = sum(g[n] for n in names[:k]) / k
    last = sum(g[n] for n in names[-k:]) / k
    return first, last, (last / first if first > 0 else float("inf"))


def summary_rows(series: Mapping[str, VariantSeries], step: int = -1) -> list[dict[str, Any]]:
    """Per variant: first/last conv gradient norms and their ratio at ``step``, final loss, status."""
    layers = path_layers(series)
    rows = []
    for name, s in series.items():
        if not s.grad_norms:
            continue
        first, last, ratio = first_last_ratio(s, layers, step)
        rows.append({"variant": name, "first": first, "last": last, "ratio": ratio, "loss": s.loss[step],
                     "status": s.status, "step": s.steps[step]})
    return rows


def run_gradflow(cfg: GradFlowConfig, stop: Stop | None = None) -> Iterator[tuple[str, Any]]:
    """The paired stream of one gradient-flow experiment: plain and residual, lock-step."""
    return paired_events(cfg.pair(), init=cfg.init, stop=stop)
