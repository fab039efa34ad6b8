"""cnnviz: the modern CNNs of Dive into Deep Learning, built from frozen configs and inspected
on the meta device. Knows nothing of Streamlit; the pages only call into it."""

from cnnviz.errors import CnnvizError, ConfigError, ShapeError, UnknownModelError
from cnnviz.models.registry import create_model, get_config, list_models, min_input_side, model_spec

__all__ = [
    "CnnvizError", "ConfigError", "ShapeError", "UnknownModelError",
    "create_model", "get_config", "list_models", "min_input_side", "model_spec",
]
