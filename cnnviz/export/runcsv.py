"""A run's events as CSV (the training page's download): one row per event, the columns a
spreadsheet needs, gradient norms as ``grad:<layer>`` columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from cnnviz.train.events import EpochEvent, EvalEvent, Event, StartEvent, StepEvent

CSV_FIELDS = ("kind", "step", "epoch", "loss", "epoch_loss", "train_loss", "train_acc", "test_acc", "test_loss",
              "lr", "examples_per_s", "elapsed_s", "n")


def events_csv(events: Sequence[Event]) -> str:
    """Metric events as CSV: the fields above, then one ``grad:<layer>`` column per layer and ``extra:<name>``."""
    layers: list[str] = []
    extras: list[str] = []
    for e in events:
        if isinstance(e, StartEvent):
            layers = list(e.layers)
        if isinstance(e, StepEvent):
            for k in e.extra or {}:
                if k not in extras:
                    extras.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*CSV_FIELDS, *(f"grad:{n}" for n in layers), *(f"extra:{n}" for n in extras)])
    for e in events:
        if not isinstance(e, (StepEvent, EvalEvent, EpochEvent)):
            continue
        d = e.to_dict()  # the stored record: NaN as None, every field by name
        g, x = d.get("grad_norms") or {}, d.get("extra") or {}
        w.writerow([_cell(d.get(f)) for f in CSV_FIELDS] + [_cell(g.get(n)) for n in layers]
                   + [_cell(x.get(n)) for n in extras])
    return buf.getvalue()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else str(v)
