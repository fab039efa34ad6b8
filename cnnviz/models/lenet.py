"""LeNet with batch normalisation, the network of the seed's BatchNorm section (§5.2).

Sigmoid activations and average pooling as in LeNet-5; BatchNorm (PyTorch's, or the seed's
from-scratch layer with ``bn_impl="scratch"``) after every conv and dense layer, before
the activation. Turn ``batch_norm`` off for the classic LeNet.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.models.geometry import flat_features
from cnnviz.models.layers import conv_block, dense_block
from cnnviz.models.registry import register_builder, register_model


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeNetConfig(ConvNetConfig):
    input_hw: tuple[int, int] = (28, 28)  # Fashion-MNIST's own size
    batch_norm: bool = True  # the seed's LeNet is the BatchNorm one
    activation: str = "sigmoid"  # LeNet predates ReLU


# --- builder ------------------------------------------------------------------------------
@register_builder(LeNetConfig)
def build_lenet(cfg: LeNetConfig) -> nn.Module:
    """Two 5×5 conv + avg-pool stages, then 120 → 84 → classes; 16·4·4 = 256 at 28 is derived."""
    c6, c16 = cfg.ch(6), cfg.ch(16)

    def features() -> nn.Sequential:
        return nn.Sequential(
            *conv_block(cfg, cfg.in_channels, c6, 5),  # N x 6 x 24 x 24
            nn.AvgPool2d(2, 2),  # N x 6 x 12 x 12
            *conv_block(cfg, c6, c16, 5),  # N x 16 x 8 x 8
            nn.AvgPool2d(2, 2),  # N x 16 x 4 x 4
        )

    n_flat = flat_features(features, cfg, "features")
    h1, h2 = cfg.ch(120), cfg.ch(84)
    head = nn.Sequential(
        nn.Flatten(),
        *dense_block(cfg, n_flat, h1),
        *dense_block(cfg, h1, h2),
        nn.Linear(h2, cfg.num_classes),
    )
    return nn.Sequential(OrderedDict(features=features(), classifier=head))


# --- presets ------------------------------------------------------------------------------
register_model("lenet", LeNetConfig(), family="batchnorm", year=2015)
