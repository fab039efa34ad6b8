"""``list``: the registered architectures with their size at their default input."""

from __future__ import annotations

import argparse

from cnnviz.inspect.tracing import trace
from cnnviz.models.registry import get_config, list_models, model_spec
from cnnviz.numbers import human

COMMAND = "list"
HELP = "list the registered architectures"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print(f"{'name':<13} {'family':<10} {'year':>4}  {'input':>11}  {'params':>8}  {'MACs':>8}")
    for name in list_models():
        spec = model_spec(name)
        cfg = get_config(name)
        t = trace(cfg)
        shape = "x".join(str(v) for v in t.input_shape)
        print(f"{name:<13} {spec.family:<10} {spec.year:>4}  {shape:>11}  "
              f"{human(t.totals.params):>8}  {human(t.totals.macs):>8}")
    return 0
