"""A trained network's results on its run's test split: the confusion matrix, each class's
accuracy and the most confident mistakes (``evaluate_model``, ``Results``).

The counting is the training loop's own (``cnnviz.train.steps.predictions``: same batches,
same device, precision and memory format), so the accuracy here is the run's test accuracy,
not a near copy of it: on the CPU, ``Results.accuracy`` of a completed run equals its end
event's ``test_acc`` exactly. A completed run's results are made from the loop's last
evaluation itself (``results_from``: no second pass over the test split).

``Results.to_dict()`` is JSON (the "results" event of a training run in the store);
``Results.from_dict`` gives back an equal ``Results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnviz.train.config import TrainConfig, TrainingError
from cnnviz.train.data import CLASSES, Data, load_data
from cnnviz.train.steps import Predictions, Stop, predictions, resolve_precision

MAX_MISTAKES = 32


@dataclass(frozen=True)
class Mistake:
    """One test image the network got wrong."""

    index: int  # index into the run's test split (test_subset honoured)
    true: int  # class id 0..9
    pred: int
    prob: float  # softmax probability of `pred`
    image: tuple[tuple[int, ...], ...]  # the raw 28 x 28 uint8 test image (before resizing)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "true": self.true, "pred": self.pred, "prob": self.prob,
                "image": [list(row) for row in self.image]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mistake:
        return cls(index=int(d["index"]), true=int(d["true"]), pred=int(d["pred"]), prob=float(d["prob"]),
                   image=tuple(tuple(int(v) for v in row) for row in d["image"]))


@dataclass(frozen=True)
class Results:
    """A trained network on its run's test split."""

    run_id: str
    dataset: str  # "fashion-mnist" | "mnist" | "synthetic" (the one actually used)
    n: int  # test images evaluated = the run's test split size
    accuracy: float  # trace(confusion) / n, equal to the run's own test accuracy
    confusion: tuple[tuple[int, ...], ...]  # 10 x 10, [true][pred], sums to n
    per_class: tuple[float | None, ...]  # recall of each true class (None: no image of that class)
    mistakes: tuple[Mistake, ...]  # wrong predictions, most confident first, at most max_mistakes

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (lists, ints, floats, None)."""
        return {"run_id": self.run_id, "dataset": self.dataset, "n": self.n, "accuracy": self.accuracy,
                "confusion": [list(row) for row in self.confusion], "per_class": list(self.per_class),
                "mistakes": [m.to_dict() for m in self.mistakes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Results:
        """The inverse of ``to_dict`` (also of its JSON round trip)."""
        return cls(run_id=str(d["run_id"]), dataset=str(d["dataset"]), n=int(d["n"]), accuracy=float(d["accuracy"]),
                   confusion=tuple(tuple(int(v) for v in row) for row in d["confusion"]),
                   per_class=tuple(None if v is None else float(v) for v in d["per_class"]),
                   mistakes=tuple(Mistake.from_dict(m) for m in d["mistakes"]))


def evaluate_model(model: nn.Module, cfg: TrainConfig, data: Data | None = None, *, run_id: str = "",
                   max_mistakes: int = MAX_MISTAKES, stop: Stop | None = None) -> Results | None:
    """``model``'s results on the test split of ``cfg`` (``data``, else ``load_data(cfg.data)``),
    on the device the model is on, in ``cfg``'s batches and precision; None when ``stop`` cut it
    short (``stop.is_set()`` is asked before every batch)."""
    data = data or load_data(cfg.data)
    dev = next(model.parameters()).device
    try:
        precision = resolve_precision(cfg.precision, dev)
    except TrainingError:  # fp16 was for the GPU it trained on; here it is the CPU
        precision = "fp32"
    channels_last = cfg.channels_last if cfg.channels_last is not None else dev.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    x, y = data.test_x.to(dev), data.test_y.to(dev)
    p = predictions(model, x, y, cfg.model.input_hw, cfg.model.in_channels, cfg.batch_size, precision,
                    channels_last, stop=stop)
    if p is None:
        return None
    return results_from(p, data, run_id=run_id, max_mistakes=max_mistakes)


def results_from(p: Predictions, data: Data, *, run_id: str = "", max_mistakes: int = MAX_MISTAKES,
                 classes: int = CLASSES) -> Results:
    """``Results`` from the predictions ``p`` made on ``data``'s whole test split, in order."""
    y = data.test_y.cpu()
    if p.n != len(y):
        raise ValueError(f"{p.n} predictions for a test split of {len(y)}")  # a programming error
    pred = p.pred.to(torch.int64)
    # [true][pred] counts in one bincount: true * classes + pred indexes the flattened matrix
    conf = torch.bincount(y * classes + pred, minlength=classes * classes).view(classes, classes)
    rows = conf.sum(1).tolist()
    diag = conf.diagonal().tolist()
    per_class = tuple(d / r if r else None for d, r in zip(diag, rows))
    n = len(y)
    wrong = (pred != y).nonzero().squeeze(1)  # [W] indices into the split
    probs = p.prob[wrong]
    # most confident first; ties by index (a stable sort of the indices, already ascending)
    order = torch.sort(probs, descending=True, stable=True).indices[: max(0, int(max_mistakes))]
    mistakes = []
    for k in order.tolist():
        i = int(wrong[k])
        img = data.test_x[i].cpu()  # 28 x 28 uint8
        mistakes.append(Mistake(index=i, true=int(y[i]), pred=int(pred[i]), prob=float(probs[k]),
                                image=tuple(tuple(row) for row in img.tolist())))
    return Results(run_id=run_id, dataset=data.dataset, n=n, accuracy=sum(diag) / n if n else float("nan"),
                   confusion=tuple(tuple(row) for row in conf.tolist()), per_class=per_class,
                   mistakes=tuple(mistakes))
