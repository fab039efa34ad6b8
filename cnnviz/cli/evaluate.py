"""``evaluate RUN_ID``: a recorded training run's trained network on its test split, recomputed
from its kept weights: overall and per-class accuracy and the confusion matrix (text, or ``--json``).

The run comes from the app's run store (``--db``, else ``$CNNVIZ_DB`` or the data folder's).
An unknown run id, a lab job's id, an unfinished run, weights that were evicted or never kept,
test images no longer on this machine: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from cnnviz.i18n import t
from cnnviz.train.evaluate import Results
from cnnviz.train.events import last_end

COMMAND = "evaluate"
HELP = "a recorded training run's confusion matrix and per-class accuracy on its test split, from its weights"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="the run's id (printed by `train`: its end event's run_id)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--db", default=None, help="run store (default: $CNNVIZ_DB or the data folder's)")


def open_run(run_id: str, db: str | None):
    """The recorded run ``run_id`` with its weights loaded, and its events (``cnnviz.jobs.finished`` errors)."""
    from cnnviz.jobs.finished import load_run
    from cnnviz.runs.store import RunStore
    from cnnviz.runs.weights import WeightStore
    from cnnviz.settings import db_path

    store = RunStore(db or db_path())
    try:
        run = load_run(store, WeightStore.beside(store.path), run_id)
        return run, store.events(run_id)
    finally:
        store.close()


def report(res: Results, names: list[str], recorded: float | None) -> dict:
    """The JSON ``evaluate --json`` prints."""
    return {"run_id": res.run_id, "dataset": res.dataset, "n": res.n, "accuracy": res.accuracy,
            "recorded_test_acc": recorded, "classes": names,
            "per_class": [{"class": i, "name": names[i], "accuracy": a, "n": sum(res.confusion[i])}
                          for i, a in enumerate(res.per_class)],
            "confusion": [list(r) for r in res.confusion],
            "mistakes": [{"index": m.index, "true": m.true, "pred": m.pred, "prob": m.prob} for m in res.mistakes]}


def run(args: argparse.Namespace) -> int:
    from cnnviz.jobs.finished import class_names, evaluate

    run_, events = open_run(args.run_id, args.db)
    res = evaluate(run_)
    assert res is not None  # no stop flag: the pass runs to its end
    end = last_end(events)
    recorded = end.test_acc if end is not None else None
    names = class_names(res.dataset)
    if args.json:
        print(json.dumps(report(res, names, recorded)))
        return 0
    out = sys.stdout
    print(t("cli.eval.title", run_id=res.run_id, arch=run_.cfg.arch, dataset=res.dataset, n=res.n, acc=res.accuracy),
          file=out)
    if recorded is not None:
        print(t("cli.eval.recorded", acc=recorded), file=out)
    print(t("cli.eval.per_class"), file=out)
    width = max(len(n) for n in names)
    for i, a in enumerate(res.per_class):
        acc = f"{a:7.2%}" if a is not None else t("cli.eval.none")
        print(f"  {i}  {names[i]:<{width}}  {acc}  ({sum(res.confusion[i])})", file=out)
    print(t("cli.eval.confusion"), file=out)
    cell = max(4, len(str(max(max(r) for r in res.confusion))) + 1)
    print(" " * (width + 5) + "".join(f"{j:>{cell}}" for j in range(10)), file=out)
    for i, row in enumerate(res.confusion):
        print(f"  {i}  {names[i]:<{width}}" + "".join(f"{v:>{cell}}" for v in row), file=out)
    return 0
