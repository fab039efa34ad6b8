"""Figures of training runs, and the estimates shown before a run starts."""

from __future__ import annotations

import dataclasses

import pytest

from cnnviz.jobs.train import KIND, TrainProgress
from cnnviz.runs.store import RunInfo
from cnnviz.status import Status
from cnnviz.train import estimate
from cnnviz.train.loop import run_to_end
from cnnviz.train.recipes import BOOK, CLASS, recipe, recipe_config
from cnnviz.viz.training import MAX_HEAT_COLS, curves_figure, grad_bar_figure, grad_heatmap_figure

from training_helpers import tiny


@pytest.fixture(scope="module")
def events():
    return run_to_end(tiny(epochs=2, eval_every=5, subset=320))


def test_curves_like_the_books_animator(events):
    fig = curves_figure([("run", events)], "en")
    names = [tr.name for tr in fig.data]
    assert names == ["train loss", "train acc", "test acc (subset)", "test acc"]
    loss = fig.data[0]
    assert list(loss.x) == [e.epoch for e in events if e.kind == "step"]
    assert list(fig.data[3].x) == [1.0, 2.0]  # test accuracy at each epoch's end
    two = curves_figure([("a", events), ("b", events)], "zh")
    assert len(two.data) == 8 and two.data[4].name.startswith("b: ") and "训练损失" in two.data[0].name
    assert two.data[0].line.color != two.data[4].line.color


def test_gradient_panels(events):
    bar = grad_bar_figure(events)
    start = events[0]
    assert list(bar.data[0].x) == list(start.layers)
    heat = grad_heatmap_figure(events)
    steps = [e for e in events if e.kind == "step"]
    assert len(heat.data[0].z) == len(start.layers) and len(heat.data[0].z[0]) == len(steps)
    long = events[:1] + [dataclasses.replace(steps[0], step=i) for i in range(1, 2000)]
    assert len(grad_heatmap_figure(long).data[0].x) <= MAX_HEAT_COLS + 1
    assert grad_bar_figure(events[:1]) is None and grad_heatmap_figure(events[:1]) is None


def _folded(events, status) -> RunInfo:
    """A run's row after the worker folded ``events`` into it with the kind's own ``progress``."""
    summary, frac = {}, 0.0
    for ev in events:
        got = KIND.progress(summary, ev)
        frac = got if got is not None else frac
    return RunInfo("r", 0.0, status, "lenet", "", {}, progress=frac, summary=summary)


def test_progress_and_eta(events):
    done = TrainProgress.of(_folded(events, Status.COMPLETED))
    assert done.fraction == 1.0 and done.eta_s == 0.0 and done.step == 20
    assert done.test_acc == events[-1].test_acc and done.epoch_loss is not None
    steps = [i for i, e in enumerate(events) if e.kind == "step"]
    half = TrainProgress.of(_folded(events[: steps[9] + 1], Status.RUNNING))
    assert half.fraction == pytest.approx(0.5) and half.eta_s is not None and half.eta_s >= 0
    start = TrainProgress.of(_folded(events[:1], Status.RUNNING))
    assert start.fraction == 0.0 and start.eta_s is None and start.examples_per_s is None


def test_memory_estimate_counts_optimizer_states_and_data():
    sgd = tiny()
    mom, adam = sgd.replace(momentum=0.9), sgd.replace(optimizer="adam")
    p = estimate.trace(sgd.model).totals.param_bytes
    assert estimate.step_bytes(mom) - estimate.step_bytes(sgd) == p
    assert estimate.step_bytes(adam) - estimate.step_bytes(sgd) == 2 * p
    est = estimate.memory_estimate(sgd, "cpu", 1000, 100)
    assert est.data_bytes == 1100 * (784 + 8) and est.need_bytes == est.step_bytes + est.data_bytes
    assert est.free_bytes is None or est.fits


def test_time_estimate_is_measured_and_scales():
    cfg = tiny()
    rate = estimate.calibrate(cfg, "cpu")
    assert rate > 0
    one = estimate.time_estimate(cfg, 1000.0, 640, 200)
    two = estimate.time_estimate(cfg.replace(epochs=2), 1000.0, 640, 200)
    assert one == pytest.approx((640 + 200 / 3) / 1000.0) and two == pytest.approx(2 * one)
    assert estimate.time_estimate(cfg.replace(epochs=50, time_budget_s=3.0), 10.0, 640, 200) == 3.0


def test_recipes():
    assert set(BOOK) == set(CLASS) == {"alexnet", "vgg", "nin", "googlenet", "batchnorm", "resnet"}
    book = {p.arch: (p.lr, p.batch_size, p.input_side, p.epochs) for p in BOOK.values()}
    assert book == {"alexnet": (0.01, 128, 224, 10), "vgg11_small": (0.05, 128, 224, 10), "nin": (0.1, 128, 224, 10),
                    "googlenet": (0.1, 128, 96, 10), "lenet": (1.0, 256, 28, 10), "resnet18": (0.05, 256, 96, 10)}
    cfg = recipe_config("vgg16", "class")  # a family's recipe applies to its other members
    assert cfg.arch == "vgg16" and cfg.model.fc_width == CLASS["vgg"].model["fc_width"]
    assert cfg.model.width_div == 8 and cfg.epochs == CLASS["vgg"].epochs  # ...with the member's own narrowing
    assert recipe_config("vgg11_small", "class").model.width_div == 1  # the book's ratio-4 network as it is
    assert recipe("resnet34", "book") is BOOK["resnet"]
    for p in CLASS.values():
        cfg = p.config()
        assert cfg.data.subset and cfg.time_budget_s is None and cfg.data.dataset == "fashion-mnist"  # fixed epochs
