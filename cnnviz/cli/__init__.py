"""The ``python -m cnnviz`` command line.

Each module in this package that defines ``COMMAND``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int`` is a subcommand, found at start-up: adding a command is adding a
file, named as its command. Only the command asked for is imported (``python -m cnnviz pool``
must not pay for torch and every job kind in its supervisor: 2+ s of CPU each time a class or
a test starts a pool); ``--help`` and an unknown command import them all.

Every ``CnnvizError`` becomes one line on stderr and exit status 2, as do bad
arguments; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from cnnviz.config import ConvNetConfig, parse_value
from cnnviz.errors import CnnvizError, ConfigError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"cnnviz: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _commands(only: str | None = None) -> list[Any]:
    """The command modules: all of them, or just ``only``'s when it names one (module = command)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    if only in names:
        names = [only]
    mods = []
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        if hasattr(mod, "COMMAND"):
            mods.append(mod)
    return mods


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word, when no top-level option comes first)."""
    return argv[0] if argv and not argv[0].startswith("-") else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser: with every discovered subcommand, or only the one ``argv`` names."""
    parser = _Parser(prog="python -m cnnviz", description="Build, inspect and train the modern CNNs of D2L.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    mods = _commands(_command_word(argv) if argv is not None else None)
    if argv is not None and mods and mods[0].COMMAND != _command_word(argv):
        mods = _commands()  # a module whose command is named otherwise: find it among them all
    for mod in mods:
        p = sub.add_parser(mod.COMMAND, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None, parent_pid: int | None = None) -> int:
    """Run the CLI; returns the exit status.

    ``parent_pid``: this process's parent as ``python -m cnnviz`` read it first thing, before the
    commands' imports (torch: seconds), else read now; the commands find it in
    ``args.parent_pid`` (``pool --exit-with-parent`` watches it)."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    # not list(): importing the ``list`` command binds that name in this package's namespace
    argv = [*(sys.argv[1:] if argv is None else argv)]
    args = build_parser(argv).parse_args(argv)
    args.parent_pid = parent_pid
    try:
        return int(args._run(args) or 0)
    except CnnvizError as err:
        print(f"cnnviz: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `python -m cnnviz summary vgg11 | head`: the reader left; stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """``ARCH [--input C,H,W] [--set KEY=VALUE ...]``: how every command that takes one network
    names it (read back with ``get_config``, ``parse_input`` and ``apply_settings``)."""
    p.add_argument("arch", help="architecture name (see `python -m cnnviz list`)")
    p.add_argument("--input", default=None, help="input shape C,H,W (default: the architecture's own)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config field, e.g. batch_norm=true, width_div=4, conv_arch=[[1,64],[2,128]]")


def config_from_args(args: argparse.Namespace) -> ConvNetConfig:
    """The config that ``add_config_arguments``' arguments name: the preset, its input, its settings."""
    from cnnviz.models.registry import get_config

    cfg = get_config(args.arch)
    if args.input:
        c, h, w = parse_input(args.input)
        cfg = cfg.replace(in_channels=c, input_hw=(h, w))
    return apply_settings(cfg, args.set)


class _Replaceable(Protocol):
    """A frozen config dataclass with a validating ``replace`` (a network's, or a lab's: gradflow)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def replace(self, **changes: Any) -> Any: ...


C = TypeVar("C", bound=_Replaceable)


def apply_settings(cfg: C, settings: Sequence[str]) -> C:
    """Apply ``--set key=value`` strings to ``cfg`` (types from the dataclass fields)."""
    import dataclasses

    types = {f.name: f.type for f in dataclasses.fields(cfg)}
    changes: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("err.set_syntax", item=item)
        if key not in types:
            raise ConfigError("err.unknown_setting", names=key, cls=type(cfg).__name__, valid=", ".join(sorted(types)))
        changes[key] = parse_value(key, types[key], raw)
    out: C = cfg.replace(**changes)
    return out


def parse_input(text: str) -> tuple[int, int, int]:
    """``"C,H,W"`` → (C, H, W); a clear error otherwise."""
    parts = text.replace("x", ",").split(",")
    try:
        c, h, w = (int(p) for p in parts)
    except ValueError:
        raise ConfigError("err.input_syntax", text=text) from None
    return c, h, w
