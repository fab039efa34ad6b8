"""cnnviz: the modern CNNs of Dive into Deep Learning, built from frozen configs and inspected
on the meta device. Knows nothing of Streamlit; the pages only call into it.

The registry's functions are imported on first use (PEP 562), so that a light module such
as ``cnnviz.i18n`` (the string table the classroom launcher prints through) can be imported
without loading torch: ``import cnnviz`` runs this file first, whatever is imported below it.
"""

from typing import Any

from cnnviz.errors import CnnvizError, ConfigError, ShapeError, UnknownModelError

_REGISTRY = ("create_model", "get_config", "list_models", "min_input_side", "model_spec")

__all__ = ["CnnvizError", "ConfigError", "ShapeError", "UnknownModelError", *_REGISTRY]


def __getattr__(name: str) -> Any:
    if name in _REGISTRY:
        from cnnviz.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'cnnviz' has no attribute {name!r}")
