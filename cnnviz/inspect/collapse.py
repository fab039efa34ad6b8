"""``collapse(cfg)``: the layers of a network up to the one its input is too small for.

``trace`` refuses an input that leaves some conv or pool with no output pixel (``ShapeError``):
torchinfo's pass stops there and keeps nothing. A student who typed side 16 still wants to see
the layers that did run and which one gave up, so this module runs its own meta pass with
recording hooks and keeps what ran:

* every module whose forward finished, with its input and output shapes (C×H×W, no batch);
* the failing conv or pool, its input shape known and its output empty (``()``): the record
  ``Collapse.failed`` names;
* the containers it sits in, started and never finished (output ``()`` too).

The records are the same ``LayerRecord``s as a full trace's (``records._build_records``: the
same kinds, windows, receptive fields, parameters; MACs by torchinfo's rule, the weights times
the output's pixels for a conv, the weights for anything else), so the explorer's table and
diagram draw them unchanged.

The network is built at the smallest side it accepts: a flatten-headed net (AlexNet, VGG,
LeNet) sizes its first dense layer from a pass of its features at build time, which the too
small side would fail. The layers before the head do not depend on that size, and the pass
at the student's side stops before the head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.errors import ShapeError
from cnnviz.inspect.records import _build_records, _PathFacts
from cnnviz.inspect.totals import _totals
from cnnviz.inspect.tracing import Trace, trace
from cnnviz.models.geometry import geometry_checks, shape_only
from cnnviz.models.registry import build_meta, explain, min_input_side


@dataclass(frozen=True)
class Collapse:
    """The layers that ran before an input too small for ``trace.config`` ran out of pixels."""

    trace: Trace  # records up to the failing layer (its output ``()``); totals of those layers
    error: ShapeError  # the library's message, with the smallest side that works

    @property
    def failed(self) -> str:
        """The qualified name of the conv or pool left with no output pixel."""
        return self.error.layer


@dataclass
class _Info:
    """What ``_build_records`` reads of torchinfo's ``LayerInfo``: the module, its sizes (batch
    first, ``[]`` for a forward that never finished) and its MACs."""

    module: nn.Module
    input_size: list[int]
    output_size: list[int]
    macs: int = 0


def _macs(module: nn.Module, out: list[int]) -> int:
    """torchinfo's count for one leaf: a conv's weights and bias times its output pixels, any
    other module's parameters once (a batch of one)."""
    n = sum(p.numel() for p in module.parameters(recurse=False))
    if not out:
        return 0
    return n * math.prod(out[2:]) if isinstance(module, nn.Conv2d) else n


def collapse(cfg: ConvNetConfig, batch_size: int = 1) -> Collapse | None:
    """The layers of ``cfg`` up to the one its input is too small for; None when ``cfg`` traces
    whole (``trace`` then has everything). ``ConfigError`` as ``trace`` raises it."""
    try:
        trace(cfg, batch_size)
        return None
    except ShapeError:
        pass
    side = min_input_side(cfg)
    model = build_meta(cfg.replace(input_hw=(side, side)), check=False)
    names = {id(m): n for n, m in model.named_modules()}
    started: list[_Info] = []  # pre-hook order: parents before children, as torchinfo lists them
    by_module: dict[int, _Info] = {}
    handles = []

    def pre(module: nn.Module, inputs: Any) -> None:
        info = _Info(module, list(inputs[0].shape), [])
        started.append(info)
        by_module[id(module)] = info

    def post(module: nn.Module, inputs: Any, output: Any) -> None:
        info = by_module[id(module)]
        info.output_size = list(output.shape)
        if not any(module.children()):
            info.macs = _macs(module, info.output_size)

    # registered before geometry_checks' hooks: the failing layer's own pre-hook runs first, so it
    # is recorded as started before the check refuses it
    for m in model.modules():
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    paths = _PathFacts(model)
    error: ShapeError | None = None
    was_training = model.training
    model.eval()
    try:
        x = torch.empty((1, cfg.in_channels, *cfg.input_hw), device="meta")
        with geometry_checks(model), shape_only(model), torch.no_grad():
            model(x)
    except ShapeError as err:
        error = err
    finally:
        paths.remove()
        for h in handles:
            h.remove()
        model.train(was_training)
    if error is None:  # pragma: no cover - trace refused the input, so this pass fails too
        raise RuntimeError(f"{cfg} traced whole on the second pass")
    infos = [i for i in started if names.get(id(i.module))]  # the root is no record
    layers = tuple(_build_records(infos, model, paths.by_module))
    return Collapse(Trace(cfg, (cfg.in_channels, *cfg.input_hw), layers, _totals(cfg, layers, int(batch_size))),
                    explain(error, cfg))
