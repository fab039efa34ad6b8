"""``gradflow``: the paired plain/residual run of the gradient-flow lab, on the command line.

    python -m cnnviz gradflow --depth 31 --steps 20 --json
    python -m cnnviz gradflow --resnet18 --set batch_norm=true --set init=xavier

With ``--json`` one object: ``{"depth", "config", "layers", "variants": {"plain": [{"step",
"loss", "grad_norms": {layer: norm}}...], "residual": [...]}, "summary": [...]}``; with
``--jsonl`` one line per step and variant as they come; otherwise a table of the first and
last conv's gradient norms per step. Bad settings are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from cnnviz.cli import apply_settings
from cnnviz.labs.gradflow import (
    VARIANTS,
    GradFlowConfig,
    PairHistory,
    first_last_ratio,
    main_path,
    path_layers,
    run_gradflow,
    summary_rows,
)
from cnnviz.status import Status
from cnnviz.train.events import StepEvent

COMMAND = "gradflow"
HELP = "train a plain and a residual net side by side (same weights, same batches) and print per-layer gradient norms"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--depth", type=int, default=None,
                   help=f"conv layers on the main path (odd; 3 to 65; default {GradFlowConfig.depth})")
    p.add_argument("--steps", type=int, default=None,
                   help=f"training steps of each variant (default {GradFlowConfig.steps})")
    p.add_argument("--resnet18", action="store_true",
                   help="the seed's ResNet-18 stages instead of a constant-width stack")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any GradFlowConfig field: batch_norm, width, side, lr, batch_size, init (pytorch|xavier), "
                        "seed, dataset")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object at the end")
    out.add_argument("--jsonl", action="store_true", help="print one JSON line per step and variant as they come")


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None  # NaN/inf are not JSON


def run(args: argparse.Namespace) -> int:
    cfg = GradFlowConfig().replace(resnet18=args.resnet18)
    cfg = apply_settings(cfg, args.set)
    given = {k: v for k, v in (("depth", args.depth), ("steps", args.steps)) if v is not None}
    cfg = cfg.replace(**given)  # validated here: a bad value is a ConfigError, exit status 2
    hist = PairHistory(VARIANTS)
    if not (args.json or args.jsonl):
        print(f"gradflow: {cfg.conv_depth} convs, {cfg.steps} steps, batch_norm={cfg.batch_norm}, init={cfg.init}")
        print(f"{'step':>5} {'variant':<9} {'loss':>8} {'first conv':>11} {'last conv':>11} {'last/first':>11}")
    for name, ev in run_gradflow(cfg):
        hist.add(name, ev)
        if not isinstance(ev, StepEvent):
            continue
        if args.jsonl:
            print(json.dumps({"variant": name, "step": ev.step, "loss": _num(ev.loss),
                              "grad_norms": {k: _num(v) for k, v in ev.grad_norms.items()}}), flush=True)
        elif not args.json:
            s = hist.snapshot()[name]
            first, last, ratio = first_last_ratio(s, main_path(s.layers))
            print(f"{ev.step:>5} {name:<9} {ev.loss:>8.4f} {first:>11.3e} {last:>11.3e} {ratio:>11.3e}", flush=True)
    series = hist.snapshot()
    failed = [n for n, s in series.items() if s.status == Status.FAILED]
    if args.json:
        print(json.dumps({
            "depth": cfg.conv_depth, "config": cfg.to_dict(), "layers": path_layers(series),
            "variants": {n: [{"step": st, "loss": _num(lo), "grad_norms": {k: _num(v) for k, v in g.items()}}
                             for st, lo, g in zip(s.steps, s.loss, s.grad_norms)] for n, s in series.items()},
            "status": {n: s.status for n, s in series.items()},
            "summary": [{k: (_num(v) if isinstance(v, float) else v) for k, v in r.items()}
                        for r in summary_rows(series)],
        }))
    for n in failed:
        print(f"cnnviz: {n}: {series[n].message.get('en', 'failed')}", file=sys.stderr)
    return 1 if failed else 0
