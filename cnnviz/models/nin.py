"""Network in Network (Lin et al., 2013): 1×1 convs as per-pixel MLPs, no dense head (§3).

Each NiN block is a conv followed by two 1×1 convs; the last block outputs one channel per
class and global average pooling turns each map into a score, removing the dense layers
that hold most of AlexNet's and VGG's parameters.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.models.layers import conv_block, dropout
from cnnviz.models.registry import register_builder, register_model


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class NiNConfig(ConvNetConfig):
    dropout: float = 0.5  # before the last block, as in the seed


# --- blocks -------------------------------------------------------------------------------
def nin_block(cfg: NiNConfig, cin: int, cout: int, k: int, s: int, p: int) -> nn.Sequential:
    """k×k conv, then two 1×1 convs that act as a dense layer applied at every pixel."""
    return nn.Sequential(*conv_block(cfg, cin, cout, k, s, p), *conv_block(cfg, cout, cout, 1),
                         *conv_block(cfg, cout, cout, 1))


# --- builder ------------------------------------------------------------------------------
@register_builder(NiNConfig)
def build_nin(cfg: NiNConfig) -> nn.Module:
    """The seed's NiN; global average pooling makes it accept any large-enough input."""
    c96, c256, c384 = cfg.ch(96), cfg.ch(256), cfg.ch(384)
    return nn.Sequential(OrderedDict(
        nin1=nin_block(cfg, cfg.in_channels, c96, 11, 4, 0),  # N x 96 x 54 x 54 at 224
        pool1=nn.MaxPool2d(3, stride=2),  # N x 96 x 26 x 26
        nin2=nin_block(cfg, c96, c256, 5, 1, 2),
        pool2=nn.MaxPool2d(3, stride=2),  # N x 256 x 12 x 12
        nin3=nin_block(cfg, c256, c384, 3, 1, 1),
        pool3=nn.MaxPool2d(3, stride=2),  # N x 384 x 5 x 5
        dropout=dropout(cfg),
        nin4=nin_block(cfg, c384, cfg.num_classes, 3, 1, 1),  # N x 10 x 5 x 5: one map per class
        gap=nn.AdaptiveAvgPool2d((1, 1)),  # N x 10 x 1 x 1
        flatten=nn.Flatten(),  # N x 10
    ))


# --- presets ------------------------------------------------------------------------------
register_model("nin", NiNConfig(), family="nin", year=2013)
