"""The frozen configuration every architecture is built from.

A model is a pure function of its config (``registry.create_model(cfg)``), and configs are
frozen, hashable dataclasses, so the Streamlit pages can use them directly as cache keys.
Architecture-specific configs subclass ``ConvNetConfig`` in their own module.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import ConfigError

# Caps keep a crafted URL or CLI call from asking for a network that eats the server.
MAX_INPUT_SIDE = 1024  # pixels; AlexNet at 1024 is already ~20 GFLOPs a forward pass
MAX_CHANNELS = 2048  # per layer, after the width divisor
MAX_CLASSES = 1000  # ImageNet's count; the chapter uses 10
MAX_WIDTH_DIV = 64
ACTIVATIONS = ("relu", "sigmoid")
BN_IMPLS = ("torch", "scratch")
MAX_BATCH = 4096  # examples per batch, for a trace and for a training run alike
BYTES_PER_VALUE = 4  # float32: weights, activations and inputs are counted at this size
# How a person writes on and off, in a URL (?bn=yes) or a CLI --set (batch_norm=off).
TRUE_WORDS = ("1", "true", "on", "yes")
FALSE_WORDS = ("0", "false", "off", "no")


@dataclass(frozen=True)
class ConvNetConfig:
    """Fields shared by every architecture of the chapter."""

    in_channels: int = 1  # Fashion-MNIST is grayscale; 3 for RGB images
    input_hw: tuple[int, int] = (224, 224)  # (H, W): flatten-headed nets size their first dense layer from it
    num_classes: int = 10  # Fashion-MNIST has 10; the papers used 1000
    width_div: int = 1  # every hidden channel count is divided by this (the book shrinks VGG with 4)
    batch_norm: bool = False  # BN after each conv/linear, before the activation (seed §5.1)
    bn_impl: str = "torch"  # "scratch" swaps in the seed's from-scratch BatchNorm (cnnviz.models.layers)
    dropout: float = 0.0  # probability; 0 removes the dropout layers (nn.Identity)
    activation: str = "relu"  # "sigmoid" reproduces LeNet and shows why ReLU won

    def __post_init__(self) -> None:
        # Accept lists from JSON/URLs but store tuples, so the config stays hashable.
        try:
            hw = tuple(as_int(v) for v in self.input_hw)
        except (TypeError, ValueError):
            raise ConfigError("err.input_hw", value=self.input_hw) from None
        object.__setattr__(self, "input_hw", hw)
        check_field_types(self)
        self.validate()

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first field that cannot work."""
        if self.in_channels not in (1, 3):
            raise ConfigError("err.in_channels", value=self.in_channels)
        if len(self.input_hw) != 2:
            raise ConfigError("err.input_hw", value=self.input_hw)
        for side in self.input_hw:
            if side < 1:
                raise ConfigError("err.side_positive", h=self.input_hw[0], w=self.input_hw[1])
            if side > MAX_INPUT_SIDE:
                raise ConfigError("err.side_cap", side=side, cap=MAX_INPUT_SIDE)
        if not 1 <= self.num_classes <= MAX_CLASSES:
            raise ConfigError("err.range", field="num_classes", lo=1, hi=MAX_CLASSES, value=self.num_classes)
        if not 1 <= self.width_div <= MAX_WIDTH_DIV:
            raise ConfigError("err.range", field="width_div", lo=1, hi=MAX_WIDTH_DIV, value=self.width_div)
        if not 0.0 <= self.dropout < 1.0 or self.dropout != self.dropout:  # NaN fails too
            raise ConfigError("err.dropout", value=self.dropout)
        if self.activation not in ACTIVATIONS:
            raise ConfigError("err.choice", field="activation", choices=", ".join(ACTIVATIONS), value=self.activation)
        if self.bn_impl not in BN_IMPLS:
            raise ConfigError("err.choice", field="bn_impl", choices=", ".join(BN_IMPLS), value=self.bn_impl)

    def ch(self, n: int) -> int:
        """``n`` hidden channels after the width divisor; an error if none would be left."""
        out = n // self.width_div
        if out < 1:
            raise ConfigError("err.width_div_empty", div=self.width_div, n=n)
        if out > MAX_CHANNELS:
            raise ConfigError("err.channels_cap", n=out, cap=MAX_CHANNELS)
        return out

    def replace(self, **changes: Any) -> ConvNetConfig:
        """A copy with ``changes``; unknown field names are a ``ConfigError`` listing the valid ones."""
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise ConfigError(
                "err.unknown_setting", names=", ".join(unknown), cls=type(self).__name__, valid=", ".join(sorted(valid))
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return _jsonable(dataclasses.asdict(self))


def check_field_types(obj: Any) -> None:
    """Enforce a frozen dataclass's scalar annotations (int, bool, float, str, optionally
    ``| None``), normalising ints and floats in place; a ``ConfigError`` names the field.

    Dataclasses do not check annotations: without this, ``batch_norm="no"`` is truthy and
    builds BatchNorm, and ``num_classes="10"`` fails deep inside PyTorch.
    """
    for f in dataclasses.fields(obj):
        v, kind = getattr(obj, f.name), str(f.type)
        base, optional = kind.removesuffix(" | None"), kind.endswith(" | None")
        if optional and v is None:
            continue
        try:
            if base == "int":
                object.__setattr__(obj, f.name, as_int(v))
            elif base == "bool" and not isinstance(v, bool):
                raise TypeError
            elif base == "float":
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise TypeError
                object.__setattr__(obj, f.name, float(v))
            elif base == "str" and not isinstance(v, str):
                raise TypeError
        except (TypeError, ValueError):
            raise ConfigError("err.bad_value", key=f.name, raw=_short(v), type=kind) from None


def _short(v: Any) -> str:
    """``repr(v)`` cut to a readable length for error messages (a URL can carry 300 digits)."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def as_int(v: Any) -> int:
    """``v`` as an int: ints, and floats with no fractional part (JSON's 64.0); anything else,
    bools, 1.9, inf and strings included, is a ``ValueError``/``TypeError``."""
    if isinstance(v, bool):
        raise TypeError("a bool is not a size")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ValueError(f"not an integer: {v!r}")


def coerce_pairs(field: str, value: Any) -> tuple[tuple[int, int], ...]:
    """``value`` as a tuple of (count, channels) int pairs (lists from JSON/URLs accepted)."""
    try:
        return tuple((as_int(n), as_int(c)) for n, c in value)
    except (TypeError, ValueError):
        raise ConfigError("err.pairs", field=field, value=value) from None


def validate_pairs(field: str, pairs: tuple[tuple[int, int], ...], max_entries: int, max_count: int,
                   count_key: str, channels_key: str) -> None:
    """Check a VGG ``conv_arch`` or a ResNet ``stages``: not empty, under the caps, all positive."""
    if not pairs:
        raise ConfigError("err.empty_arch", field=field)
    if len(pairs) > max_entries:
        raise ConfigError("err.too_many", field=field, n=len(pairs), cap=max_entries)
    for i, (n, c) in enumerate(pairs, start=1):
        if not 1 <= n <= max_count:
            raise ConfigError(count_key, i=i, n=n, cap=max_count)
        if not 1 <= c <= MAX_CHANNELS:
            raise ConfigError(channels_key, i=i, n=c, cap=MAX_CHANNELS)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def parse_value(key: str, field_type: Any, raw: str) -> Any:
    """Parse a ``key=value`` string (CLI ``--set``, URL) into the field's Python type."""
    import json

    t = str(field_type)
    try:
        if t in ("bool", "<class 'bool'>"):
            low = raw.strip().lower()
            if low in TRUE_WORDS:
                return True
            if low in FALSE_WORDS:
                return False
            raise ValueError
        if t in ("int", "<class 'int'>"):
            return int(raw)
        if t in ("float", "<class 'float'>"):
            return float(raw)
        if t in ("str", "<class 'str'>"):
            return raw
        # tuples (input_hw, conv_arch, stages): JSON lists such as [[1,64],[2,128]]
        val = json.loads(raw)
        return _tuplify(val)
    except (ValueError, TypeError) as exc:
        raise ConfigError("err.bad_value", key=key, raw=_short(raw), type=t) from exc


def _tuplify(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuplify(x) for x in v)
    return v
