"""Feature maps: what each conv layer of a network computes on one image.

Two halves. ``decode_upload`` turns the bytes a user uploads into a model input, refusing
anything that is not a small, intact PNG or JPEG with one translated message (an
``UploadError``) and never letting Pillow decode a decompression bomb (the checks are
``cnnviz.labs.images.open_image``'s, the one way in for every image, which
``cnnviz.jobs.finished.fit_image`` shares). ``capture`` runs one
forward pass with forward hooks on every conv layer (removed in ``finally``) and returns the
first channels of each output; ``tile`` lays one layer's channels out as one image.

Trained weights come from a "featuremaps" job (``QuickTrainConfig``, run by a worker of the
scheduler, ``cnnviz.jobs.featuremaps``): a short, fixed number of steps of the network's class
recipe; the worker keeps the ``state_dict`` and the page loads it (``load_trained``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.errors import ConfigError
from cnnviz.labs import images

# the upload rules live in cnnviz.labs.images; these names stay here for the code that knew them here
from cnnviz.labs.images import ALLOWED_FORMATS as ALLOWED_FORMATS
from cnnviz.labs.images import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from cnnviz.labs.images import MAX_UPLOAD_PIXELS as MAX_UPLOAD_PIXELS
from cnnviz.labs.images import UploadError as UploadError
from cnnviz.status import FINISHED
from cnnviz.train.events import EndEvent, Event

MAX_CHANNELS_SHOWN = 64  # per layer; the page's default shows 16


def decode_upload(data: bytes, mode: str = "L", size: tuple[int, int] = (28, 28)) -> torch.Tensor:
    """Decode an uploaded PNG/JPEG into a ``1 x C x H x W`` float tensor in [0, 1].

    ``mode`` is ``"L"`` (1 channel) or ``"RGB"`` (3); ``size`` is the model's (H, W). The checks
    are ``cnnviz.labs.images.open_image``'s (its ``UploadError``s); the picture is then resized as
    it is (stretched if not square).
    """
    from PIL import Image

    h, w = int(size[0]), int(size[1])
    img = images.open_image(data, mode, need=max(h, w))  # already small: short side <= 2 x the target's
    img = img.resize((w, h), Image.Resampling.BILINEAR)  # PIL takes (W, H)
    return image_tensor(img)


def image_tensor(img) -> torch.Tensor:
    """A PIL image ("L" or "RGB", at the network's size) as a ``1 x C x H x W`` float tensor in [0, 1]."""
    arr = np.asarray(img, dtype=np.float32) / 255.0  # H x W (L) or H x W x 3 (RGB)
    if arr.ndim == 2:
        arr = arr[None]  # 1 x H x W
    else:
        arr = arr.transpose(2, 0, 1)  # 3 x H x W
    return torch.from_numpy(np.ascontiguousarray(arr))[None]  # 1 x C x H x W


def to_model_input(x: torch.Tensor, in_channels: int, size: tuple[int, int]) -> torch.Tensor:
    """A ``N x C x H x W`` image batch adapted to a model: channels repeated/averaged, resized."""
    if x.dim() == 3:
        x = x[None]
    c = x.shape[1]
    if c != in_channels:
        x = x.mean(dim=1, keepdim=True) if in_channels == 1 else x.expand(-1, 3, -1, -1) if c == 1 else x[:, :3]
    if tuple(x.shape[-2:]) != tuple(size):
        x = nn.functional.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    return x.contiguous()


@dataclass(frozen=True)
class LayerMaps:
    """The output of one conv layer for one image, first ``shown`` channels kept."""

    name: str  # qualified module name, e.g. "features.0"
    channels: int  # the layer's full channel count
    maps: np.ndarray  # shown x H x W float32, raw (not normalised)

    @property
    def shown(self) -> int:
        return int(self.maps.shape[0])


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """Every ``nn.Conv2d`` of ``model`` with its qualified name, in definition order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def capture(model: nn.Module, x: torch.Tensor, max_channels: int = 16,
            layers: list[str] | None = None) -> list[LayerMaps]:
    """Run ``model`` once on ``x`` (``1 x C x H x W``) in eval mode and return each conv's output.

    One forward hook per conv layer copies the first ``max_channels`` channels of example 0
    (``channels x H x W``) to numpy; the hooks are removed and the training mode restored in
    ``finally``, whatever the forward pass raises. ``layers`` restricts to those names.
    Order is execution order (the hooks fire in it), which for Inception's parallel paths
    is p1, p2, p3, p4.
    """
    max_channels = max(1, min(int(max_channels), MAX_CHANNELS_SHOWN))
    out: list[LayerMaps] = []
    handles = []

    def hook_for(name: str):
        def hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
            y = output[0, :max_channels].detach().float().cpu().numpy()  # shown x H x W
            out.append(LayerMaps(name, int(output.shape[1]), y))

        return hook

    was_training = model.training
    try:
        for name, m in conv_layers(model):
            if layers is None or name in layers:
                handles.append(m.register_forward_hook(hook_for(name)))
        model.eval()  # BatchNorm uses its running statistics: one image is not a batch
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return out


def tile(maps: np.ndarray, cols: int | None = None, pad: int = 1, normalise: bool = True) -> np.ndarray:
    """Lay ``n x H x W`` maps out on a grid as one ``rows·(H+pad)−pad x cols·(W+pad)−pad`` image.

    With ``normalise`` each map is stretched to [0, 1] on its own (a flat map becomes 0), so
    a weak channel is as visible as a strong one; gaps are NaN so that plotly leaves them
    blank.
    """
    n, h, w = maps.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for i in range(n):
        m = maps[i].astype(np.float32)
        if normalise:
            lo, hi = float(m.min()), float(m.max())
            m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, c = divmod(i, cols)
        grid[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = m
    return grid


# --- weights: untrained, or trained briefly in the lab -------------------------------------------------
FM_ARCHS = ("lenet", "alexnet", "vgg11_small", "nin", "googlenet", "resnet18")
# Steps of the quick training per network: about 10–20 s on one worker thread of a 2-core
# laptop (measured on the class recipes: LeNet ~7 ms a step, the others 40–65 ms). Fixed in
# steps, never cut by wall time, so the same request gives the same weights under any load
# and is computed once for the whole class (``cnnviz.runs.kinds.content_key``).
QUICK_STEPS = {"lenet": 1500, "alexnet": 300, "vgg11_small": 300, "nin": 500, "googlenet": 320, "resnet18": 350}
MAX_QUICK_STEPS = 5000


@dataclass(frozen=True)
class QuickTrainConfig:
    """The feature-maps lab's quick training: ``arch``'s class recipe for ``steps`` steps.

    The parameters of a "featuremaps" job (``to_dict``/``from_dict``); ``steps`` 0 means the
    network's own ``QUICK_STEPS``. ``train_config()`` is the engine's config.
    """

    arch: str = "lenet"
    dataset: str = "synthetic"
    steps: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        from cnnviz.train.data import DATASETS

        for name, choices in (("arch", FM_ARCHS), ("dataset", DATASETS)):
            if getattr(self, name) not in choices:
                raise ConfigError("err.choice", field=name, choices=", ".join(choices), value=getattr(self, name))
        for name, lo, hi in (("steps", 0, MAX_QUICK_STEPS), ("seed", 0, 2**31 - 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or not lo <= v <= hi:
                raise ConfigError("err.range", field=name, lo=lo, hi=hi, value=v)

    @property
    def total_steps(self) -> int:
        return self.steps or QUICK_STEPS[self.arch]

    def train_config(self):
        return lab_train_config(self.arch, self.dataset, steps=self.total_steps, seed=self.seed)

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d) -> QuickTrainConfig:
        """The config of ``to_dict()`` output (a job's stored parameters), validated."""
        from cnnviz.labs.gradflow import config_from_dict

        return config_from_dict(cls, d)


def quick_config(arch: str, dataset: str = "synthetic", seed: int = 0) -> QuickTrainConfig:
    """The page's quick training of ``arch``: its ``QUICK_STEPS``, written out in the parameters
    (so the job's key and the worker's steps are what this process decided)."""
    return QuickTrainConfig(arch=arch, dataset=dataset, steps=QUICK_STEPS.get(arch, 300), seed=seed)


def lab_train_config(arch: str, dataset: str = "synthetic", steps: int | None = None, seed: int = 0):
    """The class-period recipe of ``arch`` (small input and width, ``cnnviz.train.recipes``),
    stopped after ``steps`` optimiser steps (default ``QUICK_STEPS[arch]``).

    The feature-maps lab shows untrained and trained weights of this same config, so the
    two can be compared map for map.
    """
    from cnnviz.train.recipes import recipe_config

    steps = steps or QUICK_STEPS.get(arch, 300)
    # epochs high enough never to end it first (79 steps an epoch on the class subset); a
    # step event every 10 steps without gradient norms: the page shows the step and accuracy
    return recipe_config(arch, "class", dataset=dataset, time_budget_s=None, max_steps=int(steps), epochs=100,
                         device="cpu", seed=seed, eval_every=0, log_every=10, grad_norms=False)


def untrained_model(cfg) -> nn.Module:
    """The network of a ``TrainConfig`` with the book's Xavier initialisation from its seed."""
    from cnnviz.train.steps import build_model

    return build_model(cfg)


def quick_train_stream(cfg: QuickTrainConfig, stop=None, weights_path=None) -> Iterator[Event]:
    """The "featuremaps" job's stream: the engine's events of ``cfg.train_config()``.

    No variant name: the engine's own end event ends the job with its status (as a training
    run's). When it ends completed or stopped, the trained ``state_dict`` (CPU tensors) is
    saved to ``weights_path`` first and fsynced; the worker then commits that file as the
    run's weights (``cnnviz.runs.weights``), which the page loads into ``untrained_model``.
    """
    import os

    from cnnviz.train.loop import train

    tcfg = cfg.train_config()
    model = untrained_model(tcfg)
    for ev in train(tcfg, stop=stop, model=model):
        if isinstance(ev, EndEvent) and weights_path is not None and ev.status in FINISHED:
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, weights_path)
            with open(weights_path, "rb+") as f:  # on disk before the worker's rename makes it the run's
                os.fsync(f.fileno())
        yield ev


def drawing_png(rgba: np.ndarray | None) -> bytes | None:
    """The canvas's ``H x W x 4`` RGBA drawing (uint8) as a grey PNG, or None when nothing is drawn.

    Only the strokes' brightness times their opacity counts (``cnnviz.labs.images.strokes``:
    integer arithmetic at the drawing's size, no float copy; an array past the drawing's pixel cap
    is an ``UploadError``). The app itself reads the canvas's PNG data URL through
    ``cnnviz.labs.images.drawing_image`` instead; this is the same conversion for an array."""
    if rgba is None:
        return None
    img = images.strokes(rgba)
    if img is None:
        return None
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def load_trained(cfg: QuickTrainConfig, path) -> nn.Module:
    """The network of ``cfg`` with the weights a "featuremaps" job saved at ``path`` (tensors only:
    ``weights_only=True`` never unpickles code)."""
    model = untrained_model(cfg.train_config())
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model
