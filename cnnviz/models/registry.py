"""The model registry: name → default config, config type → builder.

In the manner of timm's ``register_model``/``create_model``: each architecture module
registers one builder per config class and one or more named presets; unknown names fail
loudly with the list of valid ones. ``create_model`` validates the geometry on the meta
device first, so a bad input size is a ``ShapeError`` that names the layer, never a PyTorch
traceback from deep inside a forward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnviz.config import ConvNetConfig
from cnnviz.errors import ConfigError, ShapeError, UnknownModelError
from cnnviz.models import geometry

Builder = Callable[[Any], nn.Module]


@dataclass(frozen=True)
class ModelSpec:
    """A registered preset: its name, default config, family and place in the chapter."""

    name: str
    config: ConvNetConfig
    family: str  # "alexnet", "vgg", ... : pages group presets by it
    year: int  # the chapter's timeline


_MODELS: dict[str, ModelSpec] = {}
_BUILDERS: dict[type, Builder] = {}


def register_builder(config_cls: type) -> Callable[[Builder], Builder]:
    """Decorator: ``fn(cfg) -> nn.Module`` builds every config of ``config_cls``."""

    def deco(fn: Builder) -> Builder:
        _BUILDERS[config_cls] = fn
        return fn

    return deco


def register_model(name: str, config: ConvNetConfig, family: str, year: int) -> None:
    """Register a named preset; a duplicate name is a programming error."""
    if name in _MODELS:
        raise RuntimeError(f"model {name!r} registered twice")
    if type(config) not in _BUILDERS:
        raise RuntimeError(f"no builder registered for {type(config).__name__}")
    _MODELS[name] = ModelSpec(name, config, family, year)


def list_models() -> list[str]:
    """Registered preset names, in the chapter's order."""
    return list(_MODELS)


def model_spec(name: str) -> ModelSpec:
    """The ``ModelSpec`` of ``name``; ``UnknownModelError`` lists the valid names."""
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownModelError("err.unknown_model", name=name, valid=", ".join(_MODELS)) from None


def get_config(name: str, **overrides: Any) -> ConvNetConfig:
    """The default config of preset ``name``, with ``overrides`` applied (and validated)."""
    return model_spec(name).config.replace(**overrides)


def _builder(cfg: ConvNetConfig) -> Builder:
    try:
        return _BUILDERS[type(cfg)]
    except KeyError:
        raise ConfigError("err.no_builder", cls=type(cfg).__name__) from None


def build_meta(cfg: ConvNetConfig, check: bool = True) -> nn.Module:
    """The model on the meta device: shapes only, no weights.

    With ``check`` (the default) one meta forward pass verifies the geometry; callers that
    run their own checked pass (``cnnviz.inspect``) skip it. Raises ``ShapeError`` (with the
    smallest valid side in its message) when the input is too small, ``ConfigError`` for
    values that cannot work.
    """
    build = _builder(cfg)
    try:
        with torch.device("meta"):
            model = build(cfg)  # flatten-headed nets already run a checked pass of their features here
        if check:
            geometry.meta_output_shape(model, (cfg.in_channels, *cfg.input_hw))
    except ShapeError as err:
        raise explain(err, cfg) from None
    return model


def explain(err: ShapeError, cfg: ConvNetConfig) -> ShapeError:
    """``err`` completed with the smallest input side that ``cfg`` accepts."""
    return err.with_min_side(_min_side(cfg))


def create_model(cfg: ConvNetConfig | str, device: str | torch.device = "cpu", **overrides: Any) -> nn.Module:
    """Build the network for ``cfg`` (a config, or a preset name plus ``overrides``).

    The geometry is checked on the meta device before any weight is allocated.
    """
    if isinstance(cfg, str):
        cfg = get_config(cfg, **overrides)
    elif overrides:
        cfg = cfg.replace(**overrides)
    model = build_meta(cfg)
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError("err.choice", field="device", choices="cpu, cuda, cuda:N, mps, meta",
                          value=str(device)) from None
    if device.type == "meta":
        return model
    with torch.device(device):
        return _builder(cfg)(cfg)


def min_input_side(cfg: ConvNetConfig) -> int:
    """Smallest square input side this config's network accepts (computed, cached)."""
    return _min_side(cfg)


def _min_side(cfg: ConvNetConfig) -> int:
    # The answer does not depend on the input size itself, so key the cache without it.
    return _min_side_cached(cfg.replace(input_hw=(1, 1)))


@functools.lru_cache(maxsize=256)
def _min_side_cached(key: ConvNetConfig) -> int:
    return geometry.min_input_side(key, _builder(key))
