"""A run's events as CSV (the training page's download): one row per event, the columns a
spreadsheet needs, gradient norms as ``grad:<layer>`` columns.
"""

from __future__ import annotations

import csv
import io
from typing import Any

CSV_FIELDS = ("kind", "step", "epoch", "loss", "epoch_loss", "train_loss", "train_acc", "test_acc", "test_loss",
              "lr", "examples_per_s", "elapsed_s", "n")


def events_csv(events: list[dict]) -> str:
    """Metric events as CSV: the fields above, then one ``grad:<layer>`` column per layer and ``extra:<name>``."""
    layers: list[str] = []
    extras: list[str] = []
    for e in events:
        if e["kind"] == "start":
            layers = list(e.get("layers", []))
        for k in e.get("extra", {}) or {}:
            if k not in extras:
                extras.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*CSV_FIELDS, *(f"grad:{n}" for n in layers), *(f"extra:{n}" for n in extras)])
    for e in events:
        if e["kind"] not in ("step", "eval", "epoch"):
            continue
        g, x = e.get("grad_norms") or {}, e.get("extra") or {}
        w.writerow([_cell(e.get(f)) for f in CSV_FIELDS] + [_cell(g.get(n)) for n in layers]
                   + [_cell(x.get(n)) for n in extras])
    return buf.getvalue()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else str(v)
