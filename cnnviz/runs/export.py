"""The run manager: training runs in background threads, a queue, a cap, and the run store.

One ``RunManager`` per process (the page keeps it in ``st.cache_resource``); every method is
thread-safe. ``submit`` stores the run as "queued" and starts it on a worker thread as soon
as its device has a free slot (default: one run at a time per GPU, one on MPS, one on the
CPU; ``torch.set_num_threads`` matches the CPU cores this process may use). A worker
consumes ``cnnviz.train.train``'s event stream: it keeps the events in memory for the live
page and commits them to the ``RunStore`` with the run's status about twice a second (and at
once for start, epoch and end events). ``stop`` sets the run's flag (the engine ends within
one step); a queued run is stopped on the spot. Anything that goes wrong inside a run ends
that run as "failed" with its message; the manager and the other runs carry on.

Restart: a new manager marks runs that an ended process left queued or running as
"interrupted" (their events up to the last commit stay readable).

    mgr = RunManager()                          # store at runstore.db_path()
    rid = mgr.submit(cfg)                       # → run id (put it in the page URL)
    mgr.get(rid).status; mgr.events(rid)        # status, progress, summary; the event dicts
    mgr.stop(rid); mgr.wait(rid); mgr.delete(rid); mgr.csv(rid)
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
