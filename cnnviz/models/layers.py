"""Small building blocks shared by the architectures: the toggles live here.

``norm2d``/``norm1d`` return ``nn.Identity`` when BatchNorm is off, so every model reads the
same with the toggle on or off; ``BatchNorm`` is the seed's from-scratch layer (§5.2).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnviz.config import ConvNetConfig


class BatchNorm(nn.Module):
    """Batch normalisation written out as in the seed (§5.2), a drop-in for ``nn.BatchNorm1d/2d``.

    Two deliberate differences from the seed's listing, both so that it matches PyTorch's
    layer exactly (tested): the mode follows ``self.training`` rather than
    ``torch.is_grad_enabled()`` (evaluating with gradients on, as the gradient labs do, must
    still use the running statistics), and the running variance is updated with the unbiased
    batch variance, as ``nn.BatchNorm2d`` does. ``momentum=0.1`` here is the seed's 0.9 seen
    from the other side: new = 0.9·old + 0.1·batch.
    """

    moving_mean: torch.Tensor  # buffers (register_buffer), declared so their type is known
    moving_var: torch.Tensor

    def __init__(self, num_features: int, num_dims: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.num_features, self.num_dims, self.eps, self.momentum = num_features, num_dims, eps, momentum
        # gamma/beta learn; the running statistics are buffers so .to(device) and state_dict carry them
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            x_hat = (x - self.moving_mean) / torch.sqrt(self.moving_var + self.eps)
        else:
            # fully connected: statistics per feature (dim 0); conv: per channel over N, H, W
            dims = (0,) if x.dim() == 2 else (0, 2, 3)
            mean = x.mean(dim=dims, keepdim=True)
            var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
            x_hat = (x - mean) / torch.sqrt(var + self.eps)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                unbiased = var * n / max(n - 1, 1)
                self.moving_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.moving_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
        return self.gamma * x_hat + self.beta

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_dims={self.num_dims}, eps={self.eps}, momentum={self.momentum}"


def norm2d(cfg: ConvNetConfig, channels: int) -> nn.Module:
    """BatchNorm over conv channels, or ``nn.Identity`` when ``cfg.batch_norm`` is off."""
    if not cfg.batch_norm:
        return nn.Identity()
    return BatchNorm(channels, 4) if cfg.bn_impl == "scratch" else nn.BatchNorm2d(channels)


def norm1d(cfg: ConvNetConfig, features: int) -> nn.Module:
    """BatchNorm over dense features, or ``nn.Identity`` when ``cfg.batch_norm`` is off."""
    if not cfg.batch_norm:
        return nn.Identity()
    return BatchNorm(features, 2) if cfg.bn_impl == "scratch" else nn.BatchNorm1d(features)


def act(cfg: ConvNetConfig) -> nn.Module:
    """The configured nonlinearity as a module (so traces and hooks see it)."""
    return nn.ReLU() if cfg.activation == "relu" else nn.Sigmoid()


def dropout(cfg: ConvNetConfig) -> nn.Module:
    """Dropout at ``cfg.dropout``, or ``nn.Identity`` when it is 0."""
    return nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()


def conv_block(cfg: ConvNetConfig, cin: int, cout: int, k: int, s: int = 1, p: int = 0) -> list[nn.Module]:
    """Conv → norm → activation, the unit every architecture here repeats."""
    return [nn.Conv2d(cin, cout, kernel_size=k, stride=s, padding=p), norm2d(cfg, cout), act(cfg)]


def dense_block(cfg: ConvNetConfig, fin: int, fout: int, drop: bool = True) -> list[nn.Module]:
    """Linear → norm → activation (→ dropout), the hidden dense layer of AlexNet/VGG/LeNet."""
    layers = [nn.Linear(fin, fout), norm1d(cfg, fout), act(cfg)]
    return layers + [dropout(cfg)] if drop else layers
