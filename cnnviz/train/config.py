"""What a training run is and what it says: the frozen ``TrainConfig`` (JSON round-trippable,
so a run can be stored, shared and re-run), the event dataclasses the engine yields
(``StartEvent``, ``StepEvent``, ``EvalEvent``, ``EpochEvent``, ``EndEvent``) and the
messages they carry in every language. A leaf of ``cnnviz.train``: it imports no other
module of the package except ``data`` (the dataset part of a config).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cnnviz.config import MAX_BATCH, ConvNetConfig, check_field_types
from cnnviz.errors import CnnvizError, ConfigError
from cnnviz.i18n import LANGS, t
from cnnviz.models.registry import get_config, model_spec
from cnnviz.train.data import DataConfig

OPTIMIZERS = ("sgd", "adam")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
STATUSES = ("completed", "stopped", "diverged", "failed")
MAX_EPOCHS = 1000
MAX_SEED = 2**32 - 1  # what NumPy and torch.manual_seed both accept
TIMING_FIELDS = ("examples_per_s", "elapsed_s", "time")  # the only fields that differ between equal runs


class TrainingError(CnnvizError):
    """A training setting that cannot work here (no such device, not enough memory...)."""


# --- configuration -------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; frozen, JSON round-trippable (``to_dict``/``from_dict``).

    The input size and channels are the model's (``model.input_hw``, ``model.in_channels``):
    images are resized to them on the device.
    """

    arch: str  # registry name; ``model`` must be a config of that architecture
    model: ConvNetConfig
    data: DataConfig = DataConfig()
    optimizer: str = "sgd"  # "sgd" (the book's) or "adam"
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int = 128
    epochs: int = 10
    time_budget_s: float | None = None  # stop (as completed) once this much wall time has passed
    max_steps: int | None = None  # stop (as completed) after this many optimiser steps
    seed: int = 0
    device: str = "auto"  # auto: CUDA, then Apple MPS, then CPU
    precision: str = "auto"  # auto: bf16/fp16 autocast on CUDA, fp32 elsewhere
    channels_last: bool | None = None  # None: on CUDA only
    log_every: int = 0  # steps per StepEvent; 0: auto (10 on CUDA; off-GPU every step, a few for tiny nets)
    eval_every: int | None = None  # steps between EvalEvents; None: 4 per epoch; 0: never
    eval_subset: int = 500  # test examples of each EvalEvent (the first ones: a fixed subset)
    grad_norms: bool = True

    def __post_init__(self) -> None:
        check_field_types(self)  # "0.1" for lr, 2.5 for batch_size, None for device: a ConfigError
        expected = type(model_spec(self.arch).config)  # UnknownModelError for a bad name
        if type(self.model) is not expected:
            raise ConfigError("err.bad_value", key="model", raw=type(self.model).__name__, type=expected.__name__)
        checks = [
            ("optimizer", self.optimizer in OPTIMIZERS, OPTIMIZERS),
            ("precision", self.precision in PRECISIONS, PRECISIONS),
        ]
        for name, ok, choices in checks:
            if not ok:
                raise ConfigError("err.choice", field=name, choices=", ".join(choices), value=getattr(self, name))
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError("train.err.lr", value=self.lr)
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError("err.range", field="momentum", lo=0, hi="<1", value=self.momentum)
        if not (0.0 <= self.weight_decay < 1.0):
            raise ConfigError("err.range", field="weight_decay", lo=0, hi="<1", value=self.weight_decay)
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ConfigError("err.batch_size", cap=MAX_BATCH, value=self.batch_size)
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ConfigError("err.range", field="epochs", lo=1, hi=MAX_EPOCHS, value=self.epochs)
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError("train.err.positive", field="time_budget_s", value=self.time_budget_s)
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("train.err.positive", field="max_steps", value=self.max_steps)
        if self.log_every < 0 or (self.eval_every is not None and self.eval_every < 0) or self.eval_subset < 1:
            raise ConfigError("train.err.positive", field="log_every/eval_every/eval_subset",
                              value=(self.log_every, self.eval_every, self.eval_subset))
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError("err.range", field="seed", lo=0, hi=MAX_SEED, value=self.seed)
        dev = self.device
        index = dev[5:] if dev.startswith("cuda:") else ""
        if not (dev in ("auto", "cpu", "cuda", "mps") or (index.isascii() and index.isdigit() and len(index) <= 3)):
            raise ConfigError("err.choice", field="device", choices="auto, cpu, cuda, cuda:N, mps", value=dev)

    @classmethod
    def create(cls, arch: str, *, input_side: int | None = None, in_channels: int | None = None,
               model_settings: Mapping[str, Any] | None = None, dataset: str = "synthetic",
               data_dir: str | None = None, subset: int | None = None, test_subset: int | None = None,
               **fields: Any) -> TrainConfig:
        """A config from an architecture name, the usual overrides and any ``TrainConfig`` field."""
        changes = dict(model_settings or {})
        if input_side is not None:
            changes["input_hw"] = (input_side, input_side)  # ConvNetConfig checks the type
        if in_channels is not None:
            changes["in_channels"] = in_channels
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError("err.unknown_setting", names=", ".join(unknown), cls=cls.__name__,
                              valid=", ".join(f.name for f in dataclasses.fields(cls)))
        model = get_config(arch, **changes)
        data = DataConfig(dataset=dataset, data_dir=data_dir, subset=subset, test_subset=test_subset)
        return cls(arch=arch, model=model, data=data, **fields)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; ``from_dict`` inverts it."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["model"], d["data"] = self.model.to_dict(), self.data.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict()`` output (the run store's JSON)."""
        d = dict(d)
        try:
            model = get_config(d["arch"]).replace(**d.pop("model"))
            data = DataConfig(**d.pop("data"))
            return cls(model=model, data=data, **d)
        except (KeyError, TypeError) as err:  # a stored record from another version, or hand-edited
            raise ConfigError("err.bad_value", key="config", raw=str(err)[:40], type=cls.__name__) from None


# --- events --------------------------------------------------------------------------------
class _Event:
    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., field: value...}``, JSON-ready (dicts copied)."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = _finite(v)
        return out


def _finite(v: Any) -> Any:
    # NaN/inf are not JSON (jq and JSON.parse reject them): a missing measurement is None, at
    # any depth, so an infinite gradient norm inside grad_norms is null too
    if isinstance(v, Mapping):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return [_finite(x) for x in v]
    return None if isinstance(v, float) and not math.isfinite(v) else v


@dataclass(frozen=True)
class StartEvent(_Event):
    kind: ClassVar[str] = "start"
    device: str
    precision: str  # fp32, bf16 or fp16
    channels_last: bool
    dataset: str  # what is actually used
    requested_dataset: str
    data_source: str  # folder, or "built-in"
    n_train: int
    n_test: int
    steps_per_epoch: int
    total_steps: int  # planned; a time budget may end the run earlier
    epochs: int
    batch_size: int
    n_params: int
    macs: int  # per example, forward
    layers: tuple[str, ...]  # the keys of StepEvent.grad_norms, in model order
    time_budget_s: float | None
    notice: Mapping[str, str] | None  # {lang: text} when the requested dataset was replaced
    time: float  # unix time


@dataclass(frozen=True)
class StepEvent(_Event):
    kind: ClassVar[str] = "step"
    step: int  # optimiser steps so far
    epoch: float  # step / steps_per_epoch
    loss: float  # mean training loss over the steps since the previous StepEvent
    epoch_loss: float  # running mean over the current epoch (the book's curve)
    train_acc: float  # running accuracy over the current epoch
    lr: float
    examples_per_s: float  # training throughput since the previous StepEvent, evaluation excluded
    elapsed_s: float
    grad_norms: Mapping[str, float] = field(default_factory=dict)
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalEvent(_Event):
    kind: ClassVar[str] = "eval"
    step: int
    epoch: float
    test_acc: float
    test_loss: float
    n: int  # test examples evaluated


@dataclass(frozen=True)
class EpochEvent(_Event):
    kind: ClassVar[str] = "epoch"
    step: int
    epoch: float  # whole epochs, or the fraction reached when a budget ended the run
    train_loss: float
    train_acc: float
    test_acc: float
    test_loss: float
    examples_per_s: float  # over the epoch, evaluation excluded
    elapsed_s: float


@dataclass(frozen=True)
class EndEvent(_Event):
    kind: ClassVar[str] = "end"
    status: str  # one of STATUSES
    code: str  # string-table key of the message ("" when none)
    message: Mapping[str, str]  # {lang: text}
    step: int
    epoch: float
    elapsed_s: float
    test_acc: float | None
    train_loss: float | None


Event = StartEvent | StepEvent | EvalEvent | EpochEvent | EndEvent
EVENT_TYPES = {c.kind: c for c in (StartEvent, StepEvent, EvalEvent, EpochEvent, EndEvent)}


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from its ``to_dict()`` (as stored by the run store)."""
    d = dict(d)
    cls = EVENT_TYPES[d.pop("kind")]
    if "layers" in d:
        d["layers"] = tuple(d["layers"])
    return cls(**d)


def messages(code: str, **params: Any) -> dict[str, str]:
    """The string ``code`` rendered in every language: events carry all of them."""
    return {lang: t(code, lang, **params) for lang in LANGS}


def error_messages(err: BaseException) -> tuple[str, dict[str, str]]:
    """(code, {lang: text}) for any exception: user errors translated, others as they are."""
    if isinstance(err, CnnvizError):
        return err.code, {lang: err.render(lang) for lang in LANGS}
    return "train.failed", messages("train.failed", error=f"{type(err).__name__}: {err}")


