"""``trace(cfg, batch_size)``: the records and totals of one config at its input shape, as one
frozen ``Trace`` (records cached per config, so a new batch size costs only the totals).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cnnviz.config import MAX_BATCH, ConvNetConfig, as_int
from cnnviz.errors import ConfigError
from cnnviz.inspect.records import LayerRecord, _records
from cnnviz.inspect.totals import Totals, _totals


@dataclass(frozen=True)
class Trace:
    """Records and totals of one config at one input shape."""

    config: ConvNetConfig
    input_shape: tuple[int, int, int]
    layers: tuple[LayerRecord, ...]
    totals: Totals

    def to_dict(self) -> dict[str, Any]:
        """``{"input_shape", "config", "layers": [...], "totals": {...}}``, JSON-ready."""
        return {
            "input_shape": list(self.input_shape),
            "config": self.config.to_dict(),
            "layers": [_plain(asdict(r)) for r in self.layers],
            "totals": asdict(self.totals),
        }

    def leaves(self) -> list[LayerRecord]:
        """Leaf records in execution order (no containers, no joins)."""
        return [r for r in self.layers if r.is_leaf and not r.synthetic]


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def trace(cfg: ConvNetConfig, batch_size: int = 1) -> Trace:
    """Trace ``cfg`` at its input shape on the meta device.

    Raises ``ShapeError`` for inputs too small for the network and ``ConfigError`` for
    values that cannot work; both are ``CnnvizError``s with one clear message.
    """
    try:
        batch_size = as_int(batch_size)
    except (TypeError, ValueError):
        raise ConfigError("err.batch_size", cap=MAX_BATCH, value=batch_size) from None
    if not 1 <= batch_size <= MAX_BATCH:
        raise ConfigError("err.batch_size", cap=MAX_BATCH, value=batch_size)
    layers = _records(cfg)
    return Trace(cfg, (cfg.in_channels, *cfg.input_hw), layers, _totals(cfg, layers, int(batch_size)))


