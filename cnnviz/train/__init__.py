"""Training: a config in, a stream of metric events out.

``config`` (the frozen ``TrainConfig``), ``events`` (the typed events of every job), ``data`` (torchvision's
datasets as tensors), ``steps`` (the building blocks: device, initialisation, optimiser,
gradient norms, evaluation), ``estimate`` (memory and time before a run), ``loop`` (the
engine: ``train(cfg)`` yields events) and ``recipes`` (the book's and the class period's
training settings per family). See ``cnnviz.train.loop`` for the event stream and
``cnnviz.train.events`` for the event records.
"""

from cnnviz.train.config import TrainConfig, TrainingError
from cnnviz.train.events import event_from_dict
from cnnviz.train.loop import check, run_to_end, train

__all__ = ["TrainConfig", "TrainingError", "check", "event_from_dict", "run_to_end", "train"]
