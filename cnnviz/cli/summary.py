"""``list`` and ``summary``: what the registry holds, and one config traced layer by layer."""

from __future__ import annotations

import argparse
import json

from cnnviz.cli import apply_settings, parse_input
from cnnviz.inspect.render import format_summary
from cnnviz.inspect.tracing import trace
from cnnviz.models.registry import get_config

COMMAND = "summary"
HELP = "trace an architecture on the meta device: per-layer shapes, parameters, MACs, receptive fields"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("arch", help="architecture name (see `python -m cnnviz list`)")
    p.add_argument("--input", default=None, help="input shape C,H,W (default: the architecture's own)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config field, e.g. batch_norm=true, width_div=4, conv_arch=[[1,64],[2,128]]")
    p.add_argument("--batch-size", type=int, default=1, help="batch size for the memory totals")
    p.add_argument("--json", action="store_true", help='print one JSON object {"layers": [...], "totals": {...}}')


def run(args: argparse.Namespace) -> int:
    cfg = get_config(args.arch)
    if args.input:
        c, h, w = parse_input(args.input)
        cfg = cfg.replace(in_channels=c, input_hw=(h, w))
    cfg = apply_settings(cfg, args.set)
    t = trace(cfg, batch_size=args.batch_size)
    if args.json:
        print(json.dumps({"arch": args.arch, **t.to_dict()}))
    else:
        print(format_summary(args.arch, t))
    return 0
