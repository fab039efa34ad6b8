"""What a training run is: the frozen ``TrainConfig`` (JSON round-trippable, so a run can be
stored, shared and re-run). The messages its events carry in every language are
``cnnviz.i18n.messages`` and ``cnnviz.errors.error_messages``. The events themselves are ``cnnviz.train.events``. A leaf
of ``cnnviz.train``: it imports no other module of the package except ``data`` (the dataset
part of a config).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz.config import MAX_BATCH, ConvNetConfig, check_field_types
from cnnviz.errors import CnnvizError, ConfigError
from cnnviz.models.registry import get_config, model_spec
from cnnviz.train.data import DataConfig

OPTIMIZERS = ("sgd", "adam")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MAX_EPOCHS = 1000
MAX_SEED = 2**32 - 1  # what NumPy and torch.manual_seed both accept


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


