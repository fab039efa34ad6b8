"""``export``: a configuration as a standalone PyTorch script or a Jupyter notebook (no cnnviz inside)."""

from __future__ import annotations

import argparse
import pathlib

from cnnviz.cli import add_config_arguments, config_from_args
from cnnviz.errors import ConfigError
from cnnviz.export.code import DEFAULT_DATA_DIR, DEFAULT_STEPS, FORMATS, export
from cnnviz.models.registry import get_config

COMMAND = "export"
HELP = "write an architecture as plain PyTorch: a script that prints its shapes, or a notebook that also trains it"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="py", help="py: a script; ipynb: a Jupyter notebook")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the comments")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="notebook: training steps (minibatches)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="notebook: where torchvision finds Fashion-MNIST")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if not 1 <= args.steps <= 10**7:
        raise ConfigError("err.range", field="steps", lo=1, hi=10**7, value=args.steps)
    # the title names the preset only when the settings left it as registered
    name = args.arch if cfg == get_config(args.arch) else None
    extra = {"steps": args.steps, "data_dir": args.data_dir} if args.format == "ipynb" else {}
    text = export(cfg, args.format, args.lang, name, **extra)
    path = pathlib.Path(args.output)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError("err.export_write", path=str(path), reason=err.strerror or type(err).__name__) from None
    print(path)
    return 0
