"""Training: a config in, a stream of metric events out.

``config`` (the frozen ``TrainConfig``), ``events`` (the typed events of every job), ``data`` (torchvision's
datasets as tensors), ``steps`` (the building blocks: device, initialisation, optimiser,
gradient norms, evaluation), ``estimate`` (memory and time before a run), ``loop`` (the
engine: ``train(cfg)`` yields events) and ``recipes`` (the book's and the class period's
training settings per family). See ``cnnviz.train.loop`` for the event stream and
``cnnviz.train.events`` for the event records.

The names below are imported on first use (PEP 562): ``cnnviz.train.events`` is read by the run
store and the pool's supervisor, which must not pay for torch (2+ s of CPU per process) just
because this package's ``__init__`` runs first.
"""

from typing import Any

_LAZY = {"TrainConfig": "config", "TrainingError": "config", "event_from_dict": "events",
         "check": "loop", "run_to_end": "loop", "train": "loop"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
