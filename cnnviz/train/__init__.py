"""Training: a config in, a stream of metric events out.

``config`` (the frozen ``TrainConfig`` and the event types), ``data`` (torchvision's
datasets as tensors), ``steps`` (the building blocks: device, initialisation, optimiser,
gradient norms, evaluation), ``estimate`` (memory and time before a run), ``loop`` (the
engine: ``train(cfg)`` yields events) and ``recipes`` (the book's and the class period's
training settings per family). See ``cnnviz.train.loop`` for the event stream; the event
classes themselves are in ``cnnviz.train.config``.
"""

from cnnviz.train.config import TrainConfig, TrainingError, event_from_dict
from cnnviz.train.loop import check, run_to_end, train

__all__ = ["TrainConfig", "TrainingError", "check", "event_from_dict", "run_to_end", "train"]
