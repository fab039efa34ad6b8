"""ResNet (He et al., 2015): residual blocks y = ReLU(F(x) + x) (§6).

The skip makes the function class nested (a block can learn the identity) and keeps the
gradient of lower layers from vanishing: ∂(y + g(y))/∂w = ∂y/∂w + ∂g(y)/∂w (§6.4).
``residual=False`` builds the same stack without the skips (and without the 1×1 shortcut
convs, which belong to the skips): the "plain" net the gradient-flow lab compares against.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.config import MAX_CHANNELS, ConvNetConfig, coerce_pairs, validate_pairs
from cnnviz.errors import ConfigError
from cnnviz.models.layers import act, conv_block, norm2d
from cnnviz.models.registry import register_builder, register_model

MAX_STAGES = 6
MAX_BLOCKS_PER_STAGE = 32  # 32 blocks = 64 convs: deep enough to show the vanishing gradient

RESNET18 = ((2, 64), (2, 128), (2, 256), (2, 512))  # (residual blocks, channels) per stage
RESNET34 = ((3, 64), (4, 128), (6, 256), (3, 512))


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResNetConfig(ConvNetConfig):
    stages: tuple[tuple[int, int], ...] = RESNET18  # stages after the first halve the map
    stem_channels: int = 64  # the 7×7 stride-2 conv shared with GoogLeNet
    batch_norm: bool = True  # ResNet puts BN after every conv
    residual: bool = True  # False: the same stack as a plain net

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", coerce_pairs("stages", self.stages))  # stays hashable
        super().__post_init__()

    def validate(self) -> None:
        super().validate()
        validate_pairs("stages", self.stages, MAX_STAGES, MAX_BLOCKS_PER_STAGE, "err.stage_blocks",
                       "err.stage_channels")
        if not 1 <= self.stem_channels <= MAX_CHANNELS:
            raise ConfigError("err.range", field="stem_channels", lo=1, hi=MAX_CHANNELS, value=self.stem_channels)


# --- blocks -------------------------------------------------------------------------------
class Residual(nn.Module):
    """Two 3×3 convs with BN; the input is added back before the last ReLU (when ``residual``).

    A 1×1 conv on the shortcut matches channels and stride when they change (the seed's
    ``use_1x1conv``).
    """

    merge = "add"  # read by cnnviz.inspect to draw the join

    def __init__(self, cfg: ResNetConfig, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.residual = cfg.residual
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=3, padding=1, stride=stride)
        self.bn1 = norm2d(cfg, cout)
        self.act1 = act(cfg)
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=3, padding=1)
        self.bn2 = norm2d(cfg, cout)
        self.shortcut: nn.Module  # a 1×1 conv when the shape changes, else the identity
        if cfg.residual and (stride != 1 or cin != cout):
            self.shortcut = nn.Conv2d(cin, cout, kernel_size=1, stride=stride)  # N x cout x H/s x W/s
        elif cfg.residual:
            self.shortcut = nn.Identity()
        self.act2 = act(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv1(x)))  # N x cout x H/s x W/s
        y = self.bn2(self.conv2(y))
        if self.residual:
            y = y + self.shortcut(x)  # f(x) + x: the gradient reaches x through the "+ x" unchanged
        return self.act2(y)


# --- builder ------------------------------------------------------------------------------
@register_builder(ResNetConfig)
def build_resnet(cfg: ResNetConfig) -> nn.Module:
    """Stem (7×7/2 conv, 3×3/2 max pool), residual stages, global average pool, one dense layer."""
    stem = cfg.ch(cfg.stem_channels)
    b1 = nn.Sequential(*conv_block(cfg, cfg.in_channels, stem, 7, 2, 3),
                       nn.MaxPool2d(3, 2, 1))  # N x 64 x 56 x 56 at 224
    stages, cin = [], stem
    for i, (num_blocks, channels) in enumerate(cfg.stages):
        cout = cfg.ch(channels)
        blocks = []
        for j in range(num_blocks):
            stride = 2 if (j == 0 and i > 0) else 1  # every stage but the first halves the map
            blocks.append(Residual(cfg, cin, cout, stride))
            cin = cout
        stages.append(nn.Sequential(*blocks))
    # the book's names: b1 is the stem, b2… the residual stages
    layers: OrderedDict[str, nn.Module] = OrderedDict(b1=b1)
    layers.update((f"b{i + 2}", stage) for i, stage in enumerate(stages))
    layers.update(gap=nn.AdaptiveAvgPool2d((1, 1)), flatten=nn.Flatten(),
                  fc=nn.Linear(cin, cfg.num_classes))  # N x 512 → N x 10
    return nn.Sequential(layers)


# --- presets ------------------------------------------------------------------------------
register_model("resnet18", ResNetConfig(stages=RESNET18), family="resnet", year=2015)
register_model("resnet34", ResNetConfig(stages=RESNET34), family="resnet", year=2015)
