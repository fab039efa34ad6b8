"""The typed events of every job: one frozen record per event kind, from the loop to the store
to the page.

The training engine (``cnnviz.train.loop``) yields ``StartEvent``, ``StepEvent``, ``EvalEvent``,
``EpochEvent`` and ``EndEvent``; a training run adds one ``ResultsEvent`` before its end
(the confusion matrix and mistakes, ``cnnviz.train.evaluate.Results``); the BatchNorm lab adds
``StatsEvent``s (activation statistics); the pool's calibration yields ``MeasureEvent``s. A
paired lab job (plain vs residual, without vs with BatchNorm) runs two engines at once: each
of their events carries its variant in ``name``; the job's own events have ``name == ""``.

The run store keeps ``to_dict()`` (JSON: a NaN or inf becomes null) and gives back
``event_from_dict(d)``, so a page, the CLI and the tests read the same records the worker
wrote. Code that branches on an event does so on its type (``isinstance(e, StepEvent)``),
never on a ``"kind"`` string.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from cnnviz.errors import ConfigError
from cnnviz.status import Status

TIMING_FIELDS = ("examples_per_s", "elapsed_s", "time")  # the only fields that differ between equal runs

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    """What every event has: its kind (a class constant) and its variant's name in a paired job."""

    kind: ClassVar[str] = ""
    name: str = field(default="", kw_only=True)  # "plain"/"residual", "no_bn"/"bn"; "" for the job's own

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., field: value...}``, JSON-ready (a NaN or inf is None); ``name`` only when set."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            if f.name == "name" and not self.name:
                continue
            out[f.name] = _finite(getattr(self, f.name))
        return out

    def named(self: E, name: str) -> E:
        """This event as variant ``name``'s."""
        return dataclasses.replace(self, name=name)

    @property
    def own(self) -> bool:
        """The job's own event (not one variant's of a paired job)."""
        return not self.name


def _finite(v: Any) -> Any:
    # NaN/inf are not JSON (jq and JSON.parse reject them): a missing measurement is None, at
    # any depth, so an infinite gradient norm inside grad_norms is null too
    if isinstance(v, Mapping):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return [_finite(x) for x in v]
    return None if isinstance(v, float) and not math.isfinite(v) else v


@dataclass(frozen=True)
class StartEvent(Event):
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
class StepEvent(Event):
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
class EvalEvent(Event):
    kind: ClassVar[str] = "eval"
    step: int
    epoch: float
    test_acc: float
    test_loss: float
    n: int  # test examples evaluated


@dataclass(frozen=True)
class EpochEvent(Event):
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
class EndEvent(Event):
    kind: ClassVar[str] = "end"
    status: Status  # one of status.ENGINE
    code: str  # string-table key of the message ("" when none)
    message: Mapping[str, str]  # {lang: text}
    step: int
    epoch: float
    elapsed_s: float
    test_acc: float | None
    train_loss: float | None


@dataclass(frozen=True)
class ResultsEvent(Event):
    """A finished run's results on its whole test split (``cnnviz.train.evaluate.Results.to_dict()``),
    just before its end event."""

    kind: ClassVar[str] = "results"
    step: int
    results: Mapping[str, Any]


@dataclass(frozen=True)
class StatsEvent(Event):
    """The BatchNorm lab's activation statistics of one variant since its previous StatsEvent
    (``cnnviz.labs.bnlab.stats_delta``); the first also carries the layer labels and bin edges."""

    kind: ClassVar[str] = "stats"
    step: int
    layers: Mapping[str, Mapping[str, Any]]  # layer → {"mean", "std", "hist_steps", "hists"}: the new entries
    labels: Mapping[str, str] | None = None
    edges: Sequence[float] | None = None


@dataclass(frozen=True)
class MeasureEvent(Event):
    """One point of the pool's calibration (``cnnviz.jobs.calibrate``): training examples per
    second of ``arch`` at this input side and batch, measured in a worker of this machine."""

    kind: ClassVar[str] = "measure"
    step: int  # the point's index in the calibration
    arch: str
    point: str  # "class": the class-period recipe run by the real loop; "probe": a few bare steps
    side: int
    batch: int
    macs: int  # per example, forward
    examples_per_s: float


EVENT_TYPES: dict[str, type[Event]] = {c.kind: c for c in (StartEvent, StepEvent, EvalEvent, EpochEvent, EndEvent,
                                                           ResultsEvent, StatsEvent, MeasureEvent)}
ProgressEvent = StartEvent | StepEvent | EvalEvent | EpochEvent | EndEvent  # what the engine yields


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from its ``to_dict()`` (as stored by the run store); a ``ConfigError``
    for a record of no known kind or with fields that do not fit (a store from another version)."""
    d = dict(d)
    cls = EVENT_TYPES.get(d.pop("kind", None))
    if cls is None:
        raise ConfigError("err.bad_value", key="event", raw=str(d)[:40], type="Event")
    if cls is StartEvent:
        d["layers"] = tuple(d["layers"])
    elif cls is EndEvent:
        d["status"] = Status(d["status"])
    try:
        return cls(**d)
    except TypeError as err:
        raise ConfigError("err.bad_value", key="event", raw=str(err)[:40], type=cls.__name__) from None


def events_from_dicts(rows: Iterable[Mapping[str, Any]]) -> list[Event]:
    return [event_from_dict(d) for d in rows]


def last_end(events: Sequence[Event]) -> EndEvent | None:
    """The job's own end event, if it has ended."""
    return next((e for e in reversed(events) if isinstance(e, EndEvent) and e.own), None)
