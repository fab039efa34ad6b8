"""Spatial arithmetic: output sizes, the dedicated ``ShapeError``, the smallest valid input.

Everything runs on PyTorch's meta device: shapes propagate, no memory is allocated and no
arithmetic is done, so checking a 130M-parameter VGG costs a few milliseconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from cnnviz.config import MAX_INPUT_SIDE, ConvNetConfig
from cnnviz.errors import ConfigError, ShapeError

_SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def window(module: nn.Module) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """(kernel, stride, padding) of a conv or pooling layer, else None."""
    if not isinstance(module, _SPATIAL):
        return None
    stride = module.stride if module.stride is not None else module.kernel_size
    return _pair(module.kernel_size), _pair(stride), _pair(module.padding)


def out_size(size: int, k: int, s: int, p: int) -> int:
    """⌊(size + 2p − k)/s⌋ + 1: PyTorch's output side for conv and pooling (dilation 1, floor mode)."""
    return (size + 2 * p - k) // s + 1


def arithmetic(size: int, k: int, s: int, p: int) -> str:
    """The formula of ``out_size`` written out with its numbers, for error messages."""
    pad = f"+2·{p}" if p else ""
    return f"⌊({size}{pad}−{k})/{s}⌋+1 = {out_size(size, k, s, p)}"


@contextlib.contextmanager
def geometry_checks(model: nn.Module, prefix: str = "") -> Iterator[None]:
    """Raise ``ShapeError`` (naming the layer, showing the arithmetic) before any conv or pool
    would produce an empty map. Hooks are removed in ``finally``, whatever happens."""
    handles = []

    def make_hook(name: str):
        def hook(module: nn.Module, inputs):
            x = inputs[0]
            h, w = int(x.shape[-2]), int(x.shape[-1])
            win = window(module)
            assert win is not None  # the hook is registered on conv and pooling layers only
            (kh, kw), (sh, sw), (ph, pw) = win
            for side, k, s, p in ((h, kh, sh, ph), (w, kw, sw, pw)):
                if out_size(side, k, s, p) < 1:
                    raise ShapeError(name, type(module).__name__, h, w, k, s, p, arithmetic(side, k, s, p))

        return hook

    try:
        for name, module in model.named_modules():
            if isinstance(module, _SPATIAL):
                full = f"{prefix}.{name}" if prefix and name else (prefix or name)
                handles.append(module.register_forward_pre_hook(make_hook(full)))
        yield
    finally:
        for h in handles:
            h.remove()


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


@contextlib.contextmanager
def shape_only(model: nn.Module) -> Iterator[None]:
    """Skip the arithmetic of shape-preserving layers (BatchNorm, activations, dropout) during
    a meta pass. On the meta device PyTorch runs them through Python decompositions (BatchNorm
    ~1 ms a layer, most of a ResNet trace) only to return the input's shape. Hooks still fire;
    the original ``forward`` comes back in ``finally``."""
    from cnnviz.models.layers import BatchNorm

    same_shape = (nn.modules.batchnorm._BatchNorm, BatchNorm, nn.ReLU, nn.Sigmoid, nn.Dropout)
    swapped = [m for m in model.modules() if isinstance(m, same_shape)]
    try:
        for m in swapped:
            m.__dict__["forward"] = _identity  # instance attribute shadows the class method
        yield
    finally:
        for m in swapped:
            m.__dict__.pop("forward", None)


def meta_output_shape(model: nn.Module, in_shape: tuple[int, ...], prefix: str = "") -> torch.Size:
    """Output shape of ``model`` (on the meta device) for one input of ``in_shape`` (C, H, W)."""
    x = torch.empty((1, *in_shape), device="meta")
    was_training = model.training
    model.eval()  # BatchNorm refuses a batch of one in training mode; eval changes no shape
    try:
        with geometry_checks(model, prefix), shape_only(model), torch.no_grad():
            return model(x).shape
    finally:
        model.train(was_training)


def flat_features(make: Callable[[], nn.Module], cfg: ConvNetConfig, prefix: str) -> int:
    """Width of the first dense layer: the feature extractor ``make()`` traced on meta.

    This is what replaces the seed's hard-coded 6400 (AlexNet) and 512·7·7 (VGG) at 224.
    """
    with torch.device("meta"):
        features = make()
    shape = meta_output_shape(features, (cfg.in_channels, *cfg.input_hw), prefix)
    n = 1
    for d in shape[1:]:
        n *= int(d)
    return n


class _HeadReached(Exception):
    """Raised by a probe at the first ``nn.Flatten``: every spatial layer has passed."""


def _stop(module: nn.Module, inputs) -> None:
    raise _HeadReached


def min_input_side(cfg: ConvNetConfig, build: Callable[[ConvNetConfig], nn.Module]) -> int:
    """Smallest square input side for which every layer of ``build(cfg)`` has output pixels.

    Output sides only grow with the input side, so validity is monotone: a binary search
    finds the answer. Validity is decided by the spatial layers alone (a dense head is sized
    from the input, and comes after every conv and pool), so the network is built once, at
    the cap, and each probe is one meta forward pass that stops at the first ``Flatten``.
    Many nets (GoogLeNet, ResNet: padded windows, global pooling) accept side 1: tried first.
    """
    try:
        with torch.device("meta"):
            model = build(cfg.replace(input_hw=(MAX_INPUT_SIDE, MAX_INPUT_SIDE)))
    except ShapeError:
        raise ConfigError("err.no_fit", cap=MAX_INPUT_SIDE) from None
    handles = [m.register_forward_pre_hook(_stop) for m in model.modules() if isinstance(m, nn.Flatten)]

    def ok(side: int) -> bool:
        try:
            meta_output_shape(model, (cfg.in_channels, side, side))
        except ShapeError:
            return False
        except _HeadReached:
            pass
        return True

    try:
        if ok(1):
            return 1
        lo, hi = 2, MAX_INPUT_SIDE  # invariant: hi works (the build at the cap passed)
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid + 1
        return hi
    finally:
        for h in handles:
            h.remove()
