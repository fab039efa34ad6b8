"""GoogLeNet (Szegedy et al., 2014): nine Inception blocks of four parallel paths (§4).

Each path sees the same input at a different scale (1×1, 3×3, 5×5, pooled); 1×1 convs
first shrink the channels so the wide 3×3 and 5×5 convs stay cheap. The outputs are
concatenated along channels. Channel numbers are the seed's (the book's GoogLeNet).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.models.layers import conv_block
from cnnviz.models.registry import register_builder, register_model

# (c1, (c2 reduce, c2), (c3 reduce, c3), c4) per Inception block, stage by stage.
STAGE3 = ((64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64))
STAGE4 = (
    (192, (96, 208), (16, 48), 64),
    (160, (112, 224), (24, 64), 64),
    (128, (128, 256), (24, 64), 64),
    (112, (144, 288), (32, 64), 64),
    (256, (160, 320), (32, 128), 128),
)
STAGE5 = ((256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128))


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoogLeNetConfig(ConvNetConfig):
    input_hw: tuple[int, int] = (96, 96)  # the book resizes Fashion-MNIST to 96 for GoogLeNet


# --- blocks -------------------------------------------------------------------------------
class Inception(nn.Module):
    """Four paths over the same input, concatenated along channels; every path keeps H × W."""

    merge = "concat"  # read by cnnviz.inspect to draw the join

    def __init__(self, cfg: ConvNetConfig, cin: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int):
        super().__init__()
        self.p1 = nn.Sequential(*conv_block(cfg, cin, c1, 1))  # 1×1
        self.p2 = nn.Sequential(*conv_block(cfg, cin, c2[0], 1), *conv_block(cfg, c2[0], c2[1], 3, 1, 1))  # 1×1 → 3×3
        self.p3 = nn.Sequential(*conv_block(cfg, cin, c3[0], 1), *conv_block(cfg, c3[0], c3[1], 5, 1, 2))  # 1×1 → 5×5
        self.p4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv_block(cfg, cin, c4, 1))  # pool → 1×1
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x (c1 + c2 + c3 + c4) x H x W
        return torch.cat((self.p1(x), self.p2(x), self.p3(x), self.p4(x)), dim=1)


def inception_stage(cfg: ConvNetConfig, cin: int, specs) -> tuple[list[Inception], int]:
    """Inception blocks from channel specs (after the width divisor); returns blocks, out channels."""
    blocks = []
    for c1, (c2a, c2b), (c3a, c3b), c4 in specs:
        blk = Inception(cfg, cin, cfg.ch(c1), (cfg.ch(c2a), cfg.ch(c2b)), (cfg.ch(c3a), cfg.ch(c3b)), cfg.ch(c4))
        blocks.append(blk)
        cin = blk.out_channels
    return blocks, cin


# --- builder ------------------------------------------------------------------------------
@register_builder(GoogLeNetConfig)
def build_googlenet(cfg: GoogLeNetConfig) -> nn.Module:
    """The book's GoogLeNet: stem, 2 + 5 + 2 Inception blocks, global average pooling."""
    c64, c192 = cfg.ch(64), cfg.ch(192)
    b1 = nn.Sequential(*conv_block(cfg, cfg.in_channels, c64, 7, 2, 3), nn.MaxPool2d(3, 2, 1))  # N x 64 x 24 x 24 at 96
    b2 = nn.Sequential(*conv_block(cfg, c64, c64, 1), *conv_block(cfg, c64, c192, 3, 1, 1),
                       nn.MaxPool2d(3, 2, 1))  # N x 192 x 12 x 12
    s3, c = inception_stage(cfg, c192, STAGE3)
    b3 = nn.Sequential(*s3, nn.MaxPool2d(3, 2, 1))  # N x 480 x 6 x 6
    s4, c = inception_stage(cfg, c, STAGE4)
    b4 = nn.Sequential(*s4, nn.MaxPool2d(3, 2, 1))  # N x 832 x 3 x 3
    s5, c = inception_stage(cfg, c, STAGE5)
    b5 = nn.Sequential(*s5, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # N x 1024
    # the book's names for the five stages, so records read "b3.0.p2" rather than "2.0.p2"
    return nn.Sequential(OrderedDict(b1=b1, b2=b2, b3=b3, b4=b4, b5=b5, fc=nn.Linear(c, cfg.num_classes)))


# --- presets ------------------------------------------------------------------------------
register_model("googlenet", GoogLeNetConfig(), family="googlenet", year=2014)
