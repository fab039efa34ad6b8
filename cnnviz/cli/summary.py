"""``list`` and ``summary``: what the registry holds, and one config traced layer by layer."""

from __future__ import annotations

import argparse
import json

from cnnviz.cli import add_config_arguments, config_from_args
from cnnviz.inspect.render import format_summary
from cnnviz.inspect.tracing import trace

COMMAND = "summary"
HELP = "trace an architecture on the meta device: per-layer shapes, parameters, MACs, receptive fields"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arguments(p)
    p.add_argument("--batch-size", type=int, default=1, help="batch size for the memory totals")
    p.add_argument("--json", action="store_true", help='print one JSON object {"layers": [...], "totals": {...}}')


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    t = trace(cfg, batch_size=args.batch_size)
    if args.json:
        print(json.dumps({"arch": args.arch, **t.to_dict()}))
    else:
        print(format_summary(args.arch, t))
    return 0
