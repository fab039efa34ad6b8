"""The engine's building blocks, also used by labs that drive their own loops (paired runs
that must share weights and batches, ``cnnviz.labs.gradflow``).

``resolve_device``, ``resolve_precision``, ``build_model(cfg)`` (Xavier-initialised from the
seed), ``init_weights(model, seed)`` (each conv/linear weight drawn from a generator seeded by
(seed, module name), so two nets get the same initial weights wherever names and shapes
match), ``make_optimizer``, ``weight_params``/``grad_norms`` (one ``_foreach_norm``, one
sync), ``autocast_for``, ``predictions``/``evaluate``, and the ``StepContext`` that per-step callbacks see.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.models.registry import create_model
from cnnviz.train.config import TrainConfig, TrainingError
from cnnviz.train.data import batches, prepare


class Stop(Protocol):
    """What training and evaluation poll between steps and batches: a ``threading.Event``, or
    anything else that answers ``is_set()`` (the scheduler's store-backed flag, a deadline)."""

    def is_set(self) -> bool: ...


# --- building blocks -----------------------------------------------------------------------
def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA, else Apple MPS, else CPU; an unavailable device is a ``TrainingError``."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise TrainingError("train.err.no_device", device=name)
    if dev.type == "mps" and not has_mps:
        raise TrainingError("train.err.no_device", device=name)
    return dev


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` → bf16 on CUDA where supported, fp16 on older GPUs, fp32 elsewhere."""
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device.type != "cuda":
        raise TrainingError("train.err.fp16_cuda", device=str(device))
    return precision


def _name_seed(seed: int, name: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**63)


@torch.no_grad()
def init_weights(model: nn.Module, seed: int, scheme: str = "xavier") -> nn.Module:
    """Conv/linear weights drawn Xavier-uniform (the book's ``init_weights``, the default) or as
    PyTorch's own ``reset_parameters`` draws them (``scheme="pytorch"``: Kaiming-uniform, a=√5);
    PyTorch-style biases either way.

    Each module draws from its own CPU generator seeded by (seed, qualified name), never from
    the global generator that other threads' runs consume: the same seed gives the same
    weights on every device and under any concurrency, and two networks that share module
    names and shapes (ResNet with and without residuals) start from the same weights there.
    """
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            g = torch.Generator().manual_seed(_name_seed(seed, name))
            w = torch.empty(m.weight.shape)
            if scheme == "pytorch":
                nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)
            else:
                nn.init.xavier_uniform_(w, generator=g)
            m.weight.copy_(w)
            if m.bias is not None:
                bound = 1.0 / math.sqrt(max(1, m.weight[0].numel()))  # PyTorch's default: U(±1/√fan_in)
                m.bias.copy_(torch.empty(m.bias.shape).uniform_(-bound, bound, generator=g))
    return model


def build_model(cfg: TrainConfig) -> nn.Module:
    """The network of ``cfg`` on the CPU, initialised from ``cfg.seed``."""
    return init_weights(create_model(cfg.model), cfg.seed)


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (lr, momentum, weight decay) or Adam (lr, weight decay)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def weight_params(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(qualified module name, weight) of every conv and linear layer, in model order (the
    weights are ``nn.Parameter``s, which torch's stubs type as the ``Tensor`` they are)."""
    return [(n, m.weight) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def grad_norm_tensor(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """L2 norms of the weights' gradients as one float32 tensor [L] on their device (no sync).

    One ``torch._foreach_norm`` launch over all gradients; a weight without a gradient counts 0.
    """
    if not weights:
        return torch.zeros(0)
    grads = [w.grad if w.grad is not None else torch.zeros((), device=w.device, dtype=w.dtype) for w in weights]
    return torch.stack([n.float() for n in torch._foreach_norm(grads)])


def grad_norms(model: nn.Module) -> dict[str, float]:
    """{module name: L2 norm of its weight gradient} for every conv/linear layer (one sync)."""
    named = weight_params(model)
    values = grad_norm_tensor([w for _, w in named]).tolist()
    return dict(zip((n for n, _ in named), values))


def autocast_for(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast context of ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


@dataclass(frozen=True)
class Predictions:
    """What ``predictions`` saw, image by image, in the order of the images given (CPU tensors)."""

    pred: torch.Tensor  # int64 [N]: the argmax class
    prob: torch.Tensor  # float32 [N]: its softmax probability
    loss_sum: float  # cross-entropy summed over the N images

    @property
    def n(self) -> int:
        return len(self.pred)


@torch.no_grad()
def predictions(model: nn.Module, x: torch.Tensor, y: torch.Tensor, hw: tuple[int, int], in_channels: int,
                batch_size: int, precision: str = "fp32", channels_last: bool = False,
                stop: Stop | None = None) -> Predictions | None:
    """Every image's predicted class and probability, ``model`` in eval mode, on uint8 images
    ``x`` and labels ``y``; None when ``stop`` cut it short.

    The one evaluation path: ``evaluate`` (the loop's test accuracy) counts what this returns,
    and so do a run's results (``cnnviz.train.evaluate``), so the two cannot disagree. Batches
    in order; the per-batch results stay on the device until the end (one sync); the model's
    train/eval mode is restored.
    """
    was_training = model.training
    model.eval()
    preds, probs = [], []
    loss_sum = torch.zeros((), device=y.device)
    try:
        for xb, yb in batches(x, y, batch_size, 0, 0, shuffle=False):
            if stop is not None and stop.is_set():
                return None
            with autocast_for(y.device, precision):
                logits = model(prepare(xb, hw, in_channels, channels_last=channels_last))  # [B, classes]
            logits = logits.float()
            loss_sum += F.cross_entropy(logits, yb, reduction="sum")
            c = logits.argmax(1)  # [B]: the class the accuracy counts
            preds.append(c)
            probs.append(F.softmax(logits, dim=1).gather(1, c[:, None])[:, 0])  # [B]: its probability
    finally:
        model.train(was_training)
    if not preds:
        return Predictions(torch.zeros(0, dtype=torch.int64), torch.zeros(0), 0.0)
    return Predictions(torch.cat(preds).cpu(), torch.cat(probs).cpu(), float(loss_sum))


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, hw: tuple[int, int], in_channels: int,
             batch_size: int, precision: str = "fp32", channels_last: bool = False,
             stop: Stop | None = None) -> tuple[float, float]:
    """(accuracy, mean loss) of ``model`` in eval mode on uint8 images ``x`` and labels ``y``
    (``predictions``, counted); NaN for both when there were no images or ``stop`` cut it short."""
    return counted(predictions(model, x, y, hw, in_channels, batch_size, precision, channels_last, stop), y)


def counted(p: Predictions | None, y: torch.Tensor) -> tuple[float, float]:
    """(accuracy, mean loss) of predictions ``p`` against labels ``y``; NaN for none."""
    if p is None or p.n == 0:
        return float("nan"), float("nan")
    correct = int((p.pred == y.cpu()).sum())
    return correct / p.n, p.loss_sum / p.n


@dataclass
class StepContext:
    """What a per-step callback sees: after ``backward``, before the optimiser step."""

    step: int
    epoch: float
    model: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor  # the prepared batch [B, C, H, W]
    y: torch.Tensor
    logits: torch.Tensor
    loss: torch.Tensor
    logging: bool  # this step ends in a StepEvent (a good moment for anything that syncs)


StepCallback = Callable[[StepContext], "Mapping[str, float] | None"]


