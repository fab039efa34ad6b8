"""Training recipes: the book's settings ("book") and a classroom-sized one ("class") per family.

A *recipe* is how a network is trained (optimiser, learning rate, batch, epochs, input side,
data); a *preset* is a registered network configuration (``cnnviz.models``). Two words,
because "the class-period preset of VGG-16" used to mean either.

"book" is Dive into Deep Learning's own training of each network on Fashion-MNIST: plain
SGD, its learning rate, batch size and resize, 10 epochs, meant for a GPU. "class" shrinks
the input and the width and trains on a fixed subset, so that a run finishes within a
minute on a 2-core laptop CPU and still gets well above chance on Fashion-MNIST
(measured by ``bench/bench_train.py --section class``; figures in the README).

Recipes are per family (``cnnviz.models.registry.model_spec(name).family``) and name the network
the book trains (its ratio-4 VGG-11 for VGG). ``recipe_config(arch, kind)`` applies a
family's preset to any member (VGG-16, ResNet-34): same input side, hyper-parameters and
data, and the model overrides that the member's config has, plus the member's own
(``Recipe.members``: the class-period recipe narrows its large members, so that every
architecture of the training page finishes its class-period run within a minute alone on one
worker of a 2-core machine; ``bench/bench_estimate.py`` measures it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from cnnviz.errors import ConfigError
from cnnviz.models.registry import model_spec
from cnnviz.train.config import TrainConfig

RECIPES = ("book", "class")


@dataclass(frozen=True)
class Recipe:
    """Everything a recipe sets; ``config()`` turns it into a ``TrainConfig``."""

    arch: str
    input_side: int
    lr: float
    batch_size: int
    epochs: int = 10
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    model: Mapping[str, Any] = field(default_factory=dict)  # config overrides (width_div, fc_width...)
    dataset: str = "fashion-mnist"
    subset: int | None = None
    test_subset: int | None = None
    time_budget_s: float | None = None
    # per member of the family, model overrides on top of ``model``: the class-period recipe
    # shrinks its large members (full-width VGG-16, ResNet-34) so each finishes within its period
    members: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def config(self, arch: str | None = None, **changes: Any) -> TrainConfig:
        """The ``TrainConfig`` of this recipe for ``arch`` (default: the recipe's own network).

        ``changes`` override ``TrainConfig`` fields (seed, device...), plus ``dataset`` and
        ``data_dir``. Model overrides the arch's config lacks are left out.
        """
        arch = arch or self.arch
        data_dir = changes.pop("data_dir", None)
        dataset = changes.pop("dataset", self.dataset)
        fields: dict[str, Any] = dict(optimizer=self.optimizer, lr=self.lr, momentum=self.momentum,
                                      weight_decay=self.weight_decay, batch_size=self.batch_size, epochs=self.epochs,
                                      time_budget_s=self.time_budget_s)
        fields.update(changes)
        valid = {f.name for f in dataclasses.fields(model_spec(arch).config)}
        settings = {k: v for k, v in {**self.model, **self.members.get(arch, {})}.items() if k in valid}
        return TrainConfig.create(arch, input_side=self.input_side, model_settings=settings,
                                  dataset=dataset, data_dir=data_dir, subset=self.subset,
                                  test_subset=self.test_subset, **fields)


# The book's figures (d2l.ai, chapter "Modern Convolutional Neural Networks"): lr, batch, resize.
BOOK: dict[str, Recipe] = {
    "alexnet": Recipe("alexnet", 224, lr=0.01, batch_size=128),
    "vgg": Recipe("vgg11_small", 224, lr=0.05, batch_size=128),
    "nin": Recipe("nin", 224, lr=0.1, batch_size=128),
    "googlenet": Recipe("googlenet", 96, lr=0.1, batch_size=128),
    "batchnorm": Recipe("lenet", 28, lr=1.0, batch_size=256),
    "resnet": Recipe("resnet18", 96, lr=0.05, batch_size=256),
}

# Tuned by running them on 2 CPU cores (bench/bench_train.py --section class); a subset of
# 5,000 training images keeps a full-size Fashion-MNIST run as short as the small stand-in.
# Fixed in epochs, never cut by wall time: a recipe gives the same numbers under any load, so
# identical runs of a class are computed once (cnnviz.runs.kinds.content_key). A time budget
# stays available as an explicit choice on the form and the CLI (--time-budget).
class _Data(TypedDict):
    subset: int
    test_subset: int


_CLASS_DATA: _Data = {"subset": 5000, "test_subset": 1000}
# Each within a minute alone through the pool, where a run gets one worker's one thread on a
# 2-core machine (bench/bench_estimate.py: about 7-10 s per million multiply-accumulates per
# example over a run of 12 epochs of 3,443 images), so the work per example and the epochs are
# cut together: AlexNet at a quarter of its width, VGG at 5 epochs (the deeper members at an
# eighth of their width), NiN, GoogLeNet and ResNet at fewer epochs than they would like.
CLASS: dict[str, Recipe] = {
    # no BatchNorm in AlexNet, VGG, NiN, GoogLeNet: momentum (AlexNet) or Adam gets them going
    # within a class period where the book's plain SGD sits at chance for several epochs
    "alexnet": Recipe("alexnet", 67, lr=0.02, batch_size=64, epochs=12, momentum=0.9,
                      model={"width_div": 4, "fc_width": 512}, **_CLASS_DATA),
    # the full-width members at the book's own ratio of 4 (VGG-11 ÷4 is the book's network), the
    # deeper ones at 8
    "vgg": Recipe("vgg11_small", 32, lr=1e-3, batch_size=64, epochs=5, optimizer="adam",
                  model={"fc_width": 512}, members={"vgg11": {"width_div": 4}, "vgg13": {"width_div": 8},
                                                    "vgg16": {"width_div": 8}, "vgg19": {"width_div": 8}},
                  **_CLASS_DATA),
    # NiN without BatchNorm is seed-sensitive at this scale (54–78 % test accuracy across seeds
    # with Adam); BatchNorm, the chapter's own remedy, makes it 80–85 % on every seed tried
    "nin": Recipe("nin", 67, lr=0.1, batch_size=64, epochs=10, momentum=0.9,
                  model={"width_div": 4, "batch_norm": True}, **_CLASS_DATA),
    "googlenet": Recipe("googlenet", 32, lr=1e-3, batch_size=64, epochs=8, optimizer="adam",
                        model={"width_div": 4}, **_CLASS_DATA),
    "batchnorm": Recipe("lenet", 28, lr=0.1, batch_size=64, epochs=20, momentum=0.9, **_CLASS_DATA),
    "resnet": Recipe("resnet18", 48, lr=0.05, batch_size=64, epochs=7, momentum=0.9,
                     model={"width_div": 4}, members={"resnet34": {"width_div": 8}}, **_CLASS_DATA),
}

TABLES = {"book": BOOK, "class": CLASS}


def recipe(arch: str, kind: str) -> Recipe:
    """The ``kind`` ("book" or "class") recipe of ``arch``'s family."""
    if kind not in RECIPES:
        raise ConfigError("err.choice", field="recipe", choices=", ".join(RECIPES), value=kind)
    family = model_spec(arch).family  # UnknownModelError for a bad name
    table = TABLES[kind]
    if family not in table:
        raise ConfigError("train.err.no_recipe", arch=arch, kind=kind)
    return table[family]


def recipe_config(arch: str, kind: str, **changes: Any) -> TrainConfig:
    """The ``kind`` recipe of ``arch``'s family, applied to ``arch`` itself."""
    return recipe(arch, kind).config(arch, **changes)
