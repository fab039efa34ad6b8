"""Whole-network totals summed from the records: parameters, MACs, memory at a batch size
(weights, activations, a training step's footprint), depth as the longest weight path, and
the smallest valid input side.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnviz.config import BYTES_PER_VALUE, ConvNetConfig
from cnnviz.inspect.records import LayerRecord
from cnnviz.models.registry import min_input_side


@dataclass(frozen=True)
class Totals:
    """Whole-network figures. Per-example unless the name says batch."""

    params: int
    trainable_params: int
    macs: int  # per example
    param_bytes: int
    batch_size: int
    input_bytes: int  # one batch
    activation_bytes: int  # every layer output of one batch: what a training step keeps for backward
    # torchinfo's "forward/backward pass size" for one batch (outputs of layers with params, ×2)
    torchinfo_pass_bytes: int
    train_step_bytes: int  # weights + gradients + momentum + activations + input: a training step's footprint
    conv_layers: int  # every conv module, ResNet's 1×1 shortcuts and Inception's parallel paths included
    linear_layers: int
    depth: int  # weight layers on the longest input→output path, as papers count: VGG-11 11, GoogLeNet 22, ResNet-18 18
    min_side: int  # smallest square input this config accepts


def _totals(cfg: ConvNetConfig, layers: tuple[LayerRecord, ...], batch: int) -> Totals:
    leaves = [r for r in layers if r.is_leaf and not r.synthetic]
    params = sum(r.params for r in leaves)
    in_bytes = cfg.in_channels * cfg.input_hw[0] * cfg.input_hw[1] * BYTES_PER_VALUE
    act = sum(r.act_bytes for r in leaves) * batch
    ti = sum(r.act_bytes for r in leaves if r.params > 0) * 2 * batch
    param_bytes = params * BYTES_PER_VALUE
    return Totals(
        params=params, trainable_params=params, macs=sum(r.macs for r in leaves), param_bytes=param_bytes,
        batch_size=batch, input_bytes=in_bytes * batch, activation_bytes=act, torchinfo_pass_bytes=ti,
        train_step_bytes=3 * param_bytes + act + in_bytes * batch,
        conv_layers=sum(r.kind == "conv" for r in leaves), linear_layers=sum(r.kind == "linear" for r in leaves),
        depth=max((r.path_depth or 0) for r in layers), min_side=min_input_side(cfg),
    )
