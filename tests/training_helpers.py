"""Helpers of the training tests: a tiny dataset in torchvision's raw IDX layout, tiny configs."""

from __future__ import annotations

import pathlib
import struct

import torch

from cnnviz.train.config import TrainConfig
from cnnviz.train.data import synthetic_split


def write_idx(root: pathlib.Path, folder: str = "FashionMNIST", n_train: int = 256, n_test: int = 64,
              seed: int = 5) -> pathlib.Path:
    """Write learnable 28×28 images (the synthetic shapes) as ``<root>/<folder>/raw/*-ubyte``.

    The format is MNIST's IDX: a big-endian magic (0x0803 images, 0x0801 labels), the sizes,
    then the raw bytes; torchvision's own reader parses them.
    """
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        x, y = synthetic_split(n, s)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x0803, n, 28, 28) + x.numpy().tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, n) + y.to(torch.uint8).numpy().tobytes())
    return root


def tiny(**fields) -> TrainConfig:
    """LeNet at 28 on 640 synthetic images, batch 32: a few steps cost milliseconds."""
    model_settings = fields.pop("model_settings", None)
    kw = dict(dataset="synthetic", subset=640, test_subset=200)
    for k in ("dataset", "subset", "test_subset", "data_dir"):
        if k in fields:
            kw[k] = fields.pop(k)
    base = dict(lr=0.5, batch_size=32, epochs=1, eval_every=0, eval_subset=100, log_every=1)
    base.update(fields)
    return TrainConfig.create("lenet", model_settings=model_settings, **kw, **base)


def strip_timing(d: dict) -> dict:
    """An event dict without the fields that measure time."""
    from cnnviz.train.events import TIMING_FIELDS

    return {k: v for k, v in d.items() if k not in TIMING_FIELDS}
