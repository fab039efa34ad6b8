"""The chapter's networks: one module per architecture, in the chapter's order, and the
registry (``registry``) with the pieces they share (``layers``: the toggles; ``geometry``:
output-size arithmetic and meta-device probes).

Importing any ``cnnviz.models.*`` module runs this file first, which imports every
architecture, so the registry is always complete: an unknown name fails loudly there
instead of quietly finding an empty table.
"""

# the chapter's order is the registry's order (the timeline, every list of networks)
from cnnviz.models import alexnet, vgg, nin, googlenet, lenet, resnet  # noqa: F401  # isort: skip
from cnnviz.models.registry import (
    ModelSpec,
    create_model,
    get_config,
    list_models,
    min_input_side,
    model_spec,
    register_builder,
    register_model,
)

__all__ = ["ModelSpec", "create_model", "get_config", "list_models", "min_input_side", "model_spec",
           "register_builder", "register_model"]
