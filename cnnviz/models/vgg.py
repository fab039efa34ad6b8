"""VGG (Simonyan & Zisserman, 2014): repeated blocks of 3×3 convs and a 2×2 max pool (§2).

As in torchvision's ``vgg.py``, the architecture is data: ``conv_arch`` lists
``(num_convs, out_channels)`` per block and one builder turns it into layers.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from cnnviz.config import ConvNetConfig, coerce_pairs, validate_pairs
from cnnviz.errors import ConfigError
from cnnviz.models.geometry import flat_features
from cnnviz.models.layers import conv_block, dense_block
from cnnviz.models.registry import register_builder, register_model

MAX_BLOCKS = 8  # each block halves the map: 8 blocks already need a 256-pixel input
MAX_CONVS_PER_BLOCK = 8

# (num_convs, out_channels) per block; the paper's configurations A, B, D, E.
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG13 = ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512))
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
VGG19 = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
# The book trains "a VGG-11 with a channel ratio of 4" so that it fits Fashion-MNIST on one GPU.
VGG11_SMALL = tuple((n, c // 4) for n, c in VGG11)


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class VGGConfig(ConvNetConfig):
    conv_arch: tuple[tuple[int, int], ...] = VGG11  # the network, as data
    dropout: float = 0.5
    fc_width: int = 4096  # the book keeps 4096 even in its ratio-4 VGG

    def __post_init__(self) -> None:
        object.__setattr__(self, "conv_arch", coerce_pairs("conv_arch", self.conv_arch))  # stays hashable
        super().__post_init__()

    def validate(self) -> None:
        super().validate()
        validate_pairs("conv_arch", self.conv_arch, MAX_BLOCKS, MAX_CONVS_PER_BLOCK, "err.block_convs",
                       "err.block_channels")
        if not 1 <= self.fc_width <= 8192:
            raise ConfigError("err.range", field="fc_width", lo=1, hi=8192, value=self.fc_width)


# --- blocks -------------------------------------------------------------------------------
def block_sides(side: int, n_blocks: int) -> list[int]:
    """The side after each of ``n_blocks`` VGG blocks: each block's 2×2/2 max pool floors it by
    half (``224 → 112 → 56 …``); the list stops at the first block that leaves nothing (0)."""
    sides, s = [side], side
    for _ in range(n_blocks):
        s //= 2  # N x C x s x s → N x C x s//2 x s//2
        sides.append(s)
        if s < 1:
            break
    return sides


def vgg_block(cfg: VGGConfig, num_convs: int, cin: int, cout: int) -> nn.Sequential:
    """``num_convs`` 3×3 convs (padding 1 keeps the side) then a 2×2 max pool that halves it."""
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += conv_block(cfg, cin, cout, 3, 1, 1)
        cin = cout
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


# --- builder ------------------------------------------------------------------------------
@register_builder(VGGConfig)
def build_vgg(cfg: VGGConfig) -> nn.Module:
    """Blocks from ``conv_arch``, then the three dense layers; 512·7·7 at 224 is derived."""

    def features() -> nn.Sequential:
        blocks, cin = [], cfg.in_channels
        for num_convs, channels in cfg.conv_arch:
            cout = cfg.ch(channels)
            blocks.append(vgg_block(cfg, num_convs, cin, cout))  # N x cout x H/2 x W/2
            cin = cout
        return nn.Sequential(*blocks)

    n_flat = flat_features(features, cfg, "features")
    head = nn.Sequential(
        nn.Flatten(),
        *dense_block(cfg, n_flat, cfg.fc_width),
        *dense_block(cfg, cfg.fc_width, cfg.fc_width),
        nn.Linear(cfg.fc_width, cfg.num_classes),
    )
    return nn.Sequential(OrderedDict(features=features(), classifier=head))


# --- presets ------------------------------------------------------------------------------
register_model("vgg11", VGGConfig(conv_arch=VGG11), family="vgg", year=2014)
register_model("vgg13", VGGConfig(conv_arch=VGG13), family="vgg", year=2014)
register_model("vgg16", VGGConfig(conv_arch=VGG16), family="vgg", year=2014)
register_model("vgg19", VGGConfig(conv_arch=VGG19), family="vgg", year=2014)
register_model("vgg11_small", VGGConfig(conv_arch=VGG11_SMALL), family="vgg", year=2014)
