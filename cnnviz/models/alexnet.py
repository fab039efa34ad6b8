"""AlexNet (Krizhevsky et al., 2012), as the seed writes it for Fashion-MNIST (§1).

A deeper, wider LeNet: ReLU, max pooling and dropout. The first conv uses an 11×11 window
with stride 4 because 2012 GPUs could not afford more; the dense head holds ~94 % of the
parameters, which is the problem NiN attacks.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.errors import ConfigError
from cnnviz.models.geometry import flat_features
from cnnviz.models.layers import conv_block, dense_block
from cnnviz.models.registry import register_builder, register_model


# --- config -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlexNetConfig(ConvNetConfig):
    dropout: float = 0.5  # after each hidden dense layer, as in the paper
    fc_width: int = 4096  # hidden dense width; not touched by width_div (the book's VGG shrink keeps it too)

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.fc_width <= 8192:
            raise ConfigError("err.range", field="fc_width", lo=1, hi=8192, value=self.fc_width)


# --- builder ------------------------------------------------------------------------------
@register_builder(AlexNetConfig)
def build_alexnet(cfg: AlexNetConfig) -> nn.Module:
    """The seed's AlexNet; the first dense layer's width follows the input size."""
    c96, c256, c384 = cfg.ch(96), cfg.ch(256), cfg.ch(384)

    def features() -> nn.Sequential:
        return nn.Sequential(
            *conv_block(cfg, cfg.in_channels, c96, 11, 4, 1),  # N x 96 x 54 x 54 at 224
            nn.MaxPool2d(3, 2),  # N x 96 x 26 x 26
            *conv_block(cfg, c96, c256, 5, 1, 2),  # N x 256 x 26 x 26
            nn.MaxPool2d(3, 2),  # N x 256 x 12 x 12
            *conv_block(cfg, c256, c384, 3, 1, 1),
            *conv_block(cfg, c384, c384, 3, 1, 1),
            *conv_block(cfg, c384, c256, 3, 1, 1),  # N x 256 x 12 x 12
            nn.MaxPool2d(3, 2),  # N x 256 x 5 x 5 → the seed's 6400 after Flatten
        )

    n_flat = flat_features(features, cfg, "features")
    head = nn.Sequential(
        nn.Flatten(),
        *dense_block(cfg, n_flat, cfg.fc_width),
        *dense_block(cfg, cfg.fc_width, cfg.fc_width),
        nn.Linear(cfg.fc_width, cfg.num_classes),
    )
    return nn.Sequential(OrderedDict(features=features(), classifier=head))


# --- presets ------------------------------------------------------------------------------
register_model("alexnet", AlexNetConfig(), family="alexnet", year=2012)
