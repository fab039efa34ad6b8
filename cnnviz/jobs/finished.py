"""A finished run, for people: its title, its trained network, its results and its predictions.

``run_title(info, lang)`` is any job's name for people (``cnnviz.jobs.train.train_title`` for
a training run, its kind's ``title`` for a lab job). ``weights_state(info, weights)`` is what
became of a finished run's weights ("kept", "evicted", "too_big", "none"), and ``kept_runs`` /
``finished_runs`` pick the runs a Results view can open.

``load_run(store, weights, run_id)`` gives the run's network with its kept weights (CPU, eval
mode), or one clear error saying why it cannot: no such run (``UnknownRun``), a lab job's id
(``NotTrainRun``), a run that is not completed or stopped (``NotFinished``), weights that are
gone (``WeightsGone``: evicted past the total cap, or never kept because they were over the
per-run cap; the message names the cap and its setting). ``stored_results(events)`` is the
"results" event the run recorded as it ended; ``evaluate(run)`` recomputes the same from the
weights. ``fit_image`` turns an upload into what the network sees (letterboxed or cropped to
its shape, inverted when it is dark on light, as the training images are light on dark) through
``cnnviz.labs.images`` (the one bounded way in for every image), ``fit_drawing`` does the same
for the drawing canvas's data URL, and ``predict`` gives the top-k classes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.jobs.train import train_title
from cnnviz.labs import images
from cnnviz.labs.featuremaps import QuickTrainConfig, image_tensor, load_trained, to_model_input
from cnnviz.labs.images import FITS
from cnnviz.runs.kinds import UnknownKindError, get_kind
from cnnviz.runs.store import RunInfo, RunStore
from cnnviz.runs.weights import MB, WeightStore
from cnnviz.safe import verbatim
from cnnviz.status import FINISHED
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import CLASSES, DATASETS, Data
from cnnviz.train.evaluate import MAX_MISTAKES, Results, evaluate_model
from cnnviz.train.events import Event, ResultsEvent

CLASS_KEYS: dict[str, tuple[str, ...]] = {d: tuple(f"res.class.{d}.{i}" for i in range(CLASSES)) for d in DATASETS}


def class_names(dataset: str, lang: str = "en") -> list[str]:
    """The 10 class names of ``dataset`` in ``lang``."""
    return [t(k, lang) for k in CLASS_KEYS[dataset]]


class WeightsGone(CnnvizError):
    """A finished run whose weights are not kept: evicted past the total cap, or never kept (too big)."""


class NotTrainRun(CnnvizError):
    """A lab job's id given where a training run was expected."""


class NotFinished(CnnvizError):
    """A run that is queued, running, failed, diverged or interrupted: no trained weights."""


class UnknownRun(CnnvizError):
    """No run with this id in the store."""


@dataclass(frozen=True)
class TrainedRun:
    """A finished training run with its trained network."""

    info: RunInfo
    cfg: TrainConfig
    model: nn.Module  # CPU, eval mode, the run's weights loaded


def load_run(store: RunStore, weights: WeightStore, run_id: str) -> TrainedRun:
    """The finished training run ``run_id`` with its kept weights loaded (see the module docstring)."""
    from cnnviz.models.registry import create_model

    info = store.get(run_id)
    if info is None:
        raise UnknownRun("res.err.unknown_run", run_id=verbatim(run_id), db=str(store.path))  # from a link: as code
    if info.kind != "train":
        raise NotTrainRun("res.err.not_train", run_id=run_id, kind=info.kind)
    if info.status not in FINISHED:
        raise NotFinished("res.err.not_finished", run_id=run_id, status=info.status)
    if info.started is None:
        raise NotFinished("res.err.never_ran", run_id=run_id)
    cfg = TrainConfig.from_dict(info.config)
    try:
        state = torch.load(weights.path(run_id), map_location="cpu", weights_only=True)  # tensors only, no code
    except FileNotFoundError:
        raise _gone(info, weights) from None
    except Exception as err:  # a torn or foreign file
        raise WeightsGone("res.err.weights_broken", run_id=run_id, error=f"{type(err).__name__}: {err}") from None
    model = create_model(cfg.model)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as err:  # a file that is not this network's
        raise WeightsGone("res.err.weights_broken", run_id=run_id, error=str(err).splitlines()[0][:200]) from None
    return TrainedRun(info, cfg, model.eval())


def load_quick_trained(weights: WeightStore, run_id: str, cfg: QuickTrainConfig) -> nn.Module:
    """The network a "featuremaps" job ``run_id`` trained (``cfg``: its config), from its kept
    weights; ``WeightsGone`` once they are evicted."""
    path = weights.path(run_id)
    if not path.is_file():
        raise WeightsGone("lab.fm.weights_gone")
    return load_trained(cfg, path)


def _gone(info: RunInfo, weights: WeightStore) -> WeightsGone:
    """Why a finished run's weights file is missing, from what the worker recorded."""
    outcome = info.summary.get("weights")
    if outcome == "too_big":
        return WeightsGone("res.err.too_big", run_id=info.id, mb=_mb(info.summary.get("weights_bytes", 0)),
                           run_mb=_mb(weights.max_run_bytes))
    if outcome == "kept":
        return WeightsGone("res.err.evicted", run_id=info.id, total_mb=_mb(weights.max_total_bytes))
    return WeightsGone("res.err.no_weights", run_id=info.id)


def _mb(n: Any) -> str:
    return f"{int(n or 0) / MB:.3g}"  # 0.182, 25.6, 300


def stored_results(events: Iterable[Event]) -> Results | None:
    """The run's ``ResultsEvent`` (recorded as it ended), decoded; None for a run without one."""
    for e in events:
        if isinstance(e, ResultsEvent):
            return Results.from_dict(dict(e.results))
    return None


# --- runs for people: titles, weights ----------------------------------------------------------------
def run_title(info: RunInfo, lang: str = "en") -> str:
    """A job's name for people, in ``lang`` (its label when its config cannot be read any more)."""
    try:
        kind = get_kind(info.kind)
        cfg = kind.parse(info.config)
    except (UnknownKindError, CnnvizError, KeyError, TypeError):
        return info.label
    if info.kind == "train":
        return train_title(cfg, info.label, lang)
    return kind.title(cfg, lang) if kind.title is not None else info.label


def weights_state(info: RunInfo, weights: WeightStore) -> str:
    """"kept" (the file is there), "evicted" (it was kept, and is gone), "too_big" or "none"."""
    said = info.summary.get("weights")
    if weights.exists(info.id):
        return "kept"
    if said in ("too_big", "none"):
        return str(said)
    return "evicted" if said == "kept" else "none"


def finished_runs(runs: Iterable[RunInfo]) -> list[RunInfo]:
    """The training runs among ``runs`` that ended with a trained network (newest first, as given)."""
    return [r for r in runs if r.kind == "train" and r.status in FINISHED]


def kept_runs(runs: Iterable[RunInfo], weights: WeightStore) -> list[RunInfo]:
    """The finished training runs among ``runs`` whose weights file is there."""
    return [r for r in finished_runs(runs) if weights_state(r, weights) == "kept"]


def evaluate(run: TrainedRun, data: Data | None = None, max_mistakes: int = MAX_MISTAKES, *,
             stop: threading.Event | None = None) -> Results | None:
    """The run's results recomputed from its weights on its test split (``run_data`` unless
    ``data`` is given); None when ``stop`` cut it short."""
    return evaluate_model(run.model, run.cfg, data or run_data(run), run_id=run.info.id, max_mistakes=max_mistakes,
                          stop=stop)


def run_data(run: TrainedRun) -> Data:
    """The images the run was trained and tested on: its config's, or the synthetic set where
    the run itself fell back to it. ``DataError`` when they are not on this machine now (never
    another dataset's numbers in their place)."""
    import dataclasses

    from cnnviz.train.data import DISPLAY, DataError, load_data

    used = run.info.summary.get("dataset") or run.cfg.data.dataset  # what its start event said it used
    dc = run.cfg.data if used == run.cfg.data.dataset else dataclasses.replace(run.cfg.data, dataset=used)
    data = load_data(dc)
    if data.dataset != used:
        raise DataError("res.err.data_missing", run_id=run.info.id, dataset=DISPLAY.get(used, used),
                        folder=str(dc.root()))
    return data


@dataclass(frozen=True)
class Fitted:
    """An upload as the network sees it."""

    x: torch.Tensor  # 1 x C x H x W float in [0, 1], what the model sees
    shape: str  # "square" | "letterboxed" | "cropped"  (a non-square upload is one of the last two)
    inverted: bool  # dark strokes on a light background were inverted (the datasets are light on dark)

    def notes(self, lang: str = "en") -> list[str]:
        """What was done to it, in words."""
        return [t(f"res.fit.{self.shape}", lang)] + ([t("res.fit.inverted", lang)] if self.inverted else [])


def fit_image(data: bytes, size: tuple[int, int], mode: str = "L", fit: str = "letterbox") -> Fitted:
    """An uploaded PNG/JPEG as a network input of ``size`` (H, W) and ``mode`` ("L"/"RGB").

    ``cnnviz.labs.images.open_image``'s checks first (its ``UploadError``s), then
    ``cnnviz.labs.images.fit``: dark on light (the border, the outermost ring of pixels, averages
    brighter than ``BORDER_DARK``) is inverted, since every dataset here is light on dark; a
    picture of another shape than ``size`` is ``"letterbox"``ed (resized to fit, then centred on a
    canvas of its background level, the border's median, so the padding does not draw a frame) or
    ``"crop"``ped to its centre. Every step after the bounded decode works at the target size.
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")  # a programming error
    return fit_picture(images.open_image(data, mode, need=max(int(size[0]), int(size[1]))), size, mode, fit)


def fit_drawing(url: str | None, size: tuple[int, int], mode: str = "L") -> Fitted | None:
    """The drawing canvas's value (its PNG data URL) as a network input, or None when it is blank.

    ``cnnviz.labs.images.drawing_image``'s checks (prefix, length before decoding, then the
    upload's with the drawing's caps); white strokes on black stay light on dark; the canvas is
    square, so a square input needs no fitting (another shape is letterboxed)."""
    grey = images.drawing_image(url)
    if grey is None:
        return None
    return fit_picture(grey if mode == "L" else grey.convert(mode), size, mode, "letterbox")


def fit_picture(img, size: tuple[int, int], mode: str, fit: str) -> Fitted:
    """A decoded, bounded picture (``open_image``'s or ``drawing_image``'s) fitted to ``size``."""
    done = images.fit(img if img.mode == mode else img.convert(mode), size, fit)
    return Fitted(image_tensor(done.image), done.shape, done.inverted)


@torch.no_grad()
def predict(run: TrainedRun, x: torch.Tensor, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` most probable classes of image ``x`` (``1 x C x H x W`` in [0, 1]) with their
    softmax probabilities, most probable first."""
    m = run.cfg.model
    x = to_model_input(x.float(), m.in_channels, m.input_hw)  # 1 x C x H x W, the model's shape
    was_training = run.model.training
    run.model.eval()
    try:
        probs = torch.softmax(run.model(x).float(), dim=1)[0]  # [classes]
    finally:
        run.model.train(was_training)
    top = torch.topk(probs, max(1, min(int(k), len(probs))))
    return [(int(c), float(p)) for p, c in zip(top.values.tolist(), top.indices.tolist())]
