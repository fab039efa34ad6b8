"""The pages' URL schemas: which query parameters each page reads, their ranges and defaults.

UI knowledge (how far a slider goes, which width divisors a page offers), kept out of the
library: the field types and their validation are ``cnnviz.urlstate``'s; this module only
declares them per page and turns parsed values into configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz import urlstate
from cnnviz.safe import verbatim
from cnnviz.urlstate import (
    BoolField,
    ChoiceField,
    FloatChoiceField,
    FloatField,
    IntChoiceField,
    IntField,
    IntListField,
    IntStepField,
    TextField,
)

# --- the pages' schemas -------------------------------------------------------------------
# The UI's own caps. Lower than the library's (MAX_INPUT_SIDE) because a slider must stay
# usable and the pages must answer within a classroom's patience; the CLI keeps the full range.
UI_MAX_SIDE = 512
UI_MIN_SIDE = 8
UI_MAX_BATCH = 1024
WIDTH_DIVS = (1, 2, 4, 8, 16)
EXPAND_MODES = ("auto", "none", "all")  # or one block's qualified name
TABLE_VIEWS = ("leaves", "blocks", "all")
EXPLORER_VIEWS = ("structure", "flow", "rf", "table")  # the explorer's panels; one is drawn at a time
VGG_CHANNELS = (8, 16, 32, 64, 128, 256, 512, 1024)
VGG_MAX_BLOCKS = 6
VGG_MAX_CONVS = 4
FC_WIDTHS = (256, 512, 1024, 2048, 4096)


def _models() -> tuple[str, ...]:
    from cnnviz.models.registry import list_models

    return tuple(list_models())


def explorer_schema() -> urlstate.Schema:
    """The explorer's fields. Defaults of side, BN, dropout and activation depend on the
    architecture: see ``explorer_defaults``."""
    models = _models()
    return urlstate.Schema((
        ChoiceField("arch", "alexnet", choices=models),
        IntField("side", 224, lo=UI_MIN_SIDE, hi=UI_MAX_SIDE),
        IntChoiceField("ch", 1, choices=(1, 3)),
        IntField("batch", 1, lo=1, hi=UI_MAX_BATCH),
        BoolField("bn", False),
        BoolField("res", True),
        FloatField("drop", 0.0, lo=0.0, hi=0.9, step=0.1),
        IntChoiceField("wd", 1, choices=WIDTH_DIVS),
        ChoiceField("act", "relu", choices=("relu", "sigmoid")),
        ChoiceField("view", "structure", choices=EXPLORER_VIEWS),
        ChoiceField("table", "leaves", choices=TABLE_VIEWS),
        TextField("expand", "auto"),
    ))


def explorer_defaults(arch: str) -> dict[str, Any]:
    """The fields that follow the architecture (not ``arch`` itself): each opens in the book's
    configuration (LeNet at 28 with BatchNorm and sigmoid, GoogLeNet at 96, AlexNet with
    dropout 0.5...)."""
    from cnnviz.models.registry import get_config

    cfg = get_config(arch)
    side = min(max(cfg.input_hw[0], UI_MIN_SIDE), UI_MAX_SIDE)
    return dict(side=side, ch=cfg.in_channels, bn=cfg.batch_norm,
                res=bool(getattr(cfg, "residual", True)), drop=round(cfg.dropout, 1), wd=cfg.width_div,
                act=cfg.activation, expand="auto")


def parse_explorer(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[urlstate.Problem]]:
    """Clean explorer values from a query string: the architecture first, then every other
    field against that architecture's defaults."""
    schema = explorer_schema()
    head, problems = urlstate.Schema((schema.field("arch"),)).parse(params)
    rest = {k: v for k, v in params.items() if k != "arch"}
    values, more = schema.parse(rest, explorer_defaults(head["arch"]) | head)
    return values, problems + more


def explorer_config(values: Mapping[str, Any]):
    """The ``ConvNetConfig`` of clean explorer values (may raise ``ConfigError`` for a width
    divisor that leaves no channels; geometry errors come later, from the trace)."""
    from cnnviz.models.registry import get_config

    base = get_config(values["arch"])
    changes: dict[str, Any] = dict(
        input_hw=(values["side"], values["side"]), in_channels=values["ch"], batch_norm=values["bn"],
        dropout=values["drop"], width_div=values["wd"], activation=values["act"],
    )
    if hasattr(base, "residual"):
        changes["residual"] = values["res"]
    return base.replace(**changes)


def designer_schema() -> urlstate.Schema:
    """The VGG designer's fields; defaults are VGG-11 at 224, as in the book."""
    from cnnviz.models.vgg import VGG11

    return urlstate.Schema((
        IntField("blocks", len(VGG11), lo=1, hi=VGG_MAX_BLOCKS),
        IntListField("convs", tuple(n for n, _ in VGG11), lo=1, hi=VGG_MAX_CONVS, max_len=VGG_MAX_BLOCKS),
        IntListField("chans", tuple(c for _, c in VGG11), max_len=VGG_MAX_BLOCKS, choices=VGG_CHANNELS),
        IntField("side", 224, lo=UI_MIN_SIDE, hi=UI_MAX_SIDE),
        IntChoiceField("ch", 1, choices=(1, 3)),
        IntChoiceField("fc", 4096, choices=FC_WIDTHS),
    ))


def designer_arch(values: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    """``conv_arch`` of clean designer values: ``blocks`` entries, short lists padded by
    repeating their last entry (a link may list fewer blocks than it asks for)."""
    n = values["blocks"]
    convs, chans = list(values["convs"]), list(values["chans"])
    convs += [convs[-1]] * (n - len(convs))
    chans += [chans[-1]] * (n - len(chans))
    return tuple(zip(convs[:n], chans[:n]))


def designer_presets() -> dict[str, tuple[tuple[int, int], ...]]:
    """The designer's preset buttons: the paper's four VGGs and the book's ratio-4 VGG-11."""
    from cnnviz.models import vgg

    return {"vgg11": vgg.VGG11, "vgg13": vgg.VGG13, "vgg16": vgg.VGG16, "vgg19": vgg.VGG19,
            "vgg11_small": vgg.VGG11_SMALL}


def compare_schema() -> urlstate.Schema:
    """The compare page's fields."""
    return urlstate.Schema((
        IntField("side", 224, lo=UI_MIN_SIDE, hi=UI_MAX_SIDE),
        IntChoiceField("ch", 1, choices=(1, 3)),
        IntField("batch", 1, lo=1, hi=UI_MAX_BATCH),
    ))


# --- the labs' schemas ----------------------------------------------------------------------
# Each mirrors its page's widgets (ranges, steps, options, defaults); a page with tabs keeps
# every tab's settings in one schema, so one link restores them all.
def _datasets() -> tuple[str, ...]:
    from cnnviz.train.data import DATASETS

    return tuple(DATASETS)


# The labs' default dataset: the one training opens on (its recipes'), so a student meets the
# same images on every page; where its files are missing, ``load_data`` falls back to the
# synthetic shapes and the page shows its notice.
LAB_DATASET = "fashion-mnist"


TRAIN_DEVICES = ("auto", "cpu", "cuda", "mps")  # the page offers those this machine has
MAX_SUBSET = 10_000_000
MAX_BUDGET_S = 86_400


def training_schema() -> urlstate.Schema:
    """The training form's fields (the run itself is ``?run=<id>``, not a field). Their defaults
    follow the architecture and the recipe: see ``training_defaults``."""
    from cnnviz.train.config import MAX_EPOCHS, MAX_SEED, OPTIMIZERS

    return urlstate.Schema((
        ChoiceField("arch", "lenet", choices=_models()),
        BoolField("bn", False),
        BoolField("res", True),
        IntChoiceField("wdiv", 1, choices=WIDTH_DIVS),
        FloatField("drop", 0.0, lo=0.0, hi=0.9, step=0.05),
        IntField("side", 28, lo=UI_MIN_SIDE, hi=UI_MAX_SIDE),
        ChoiceField("dataset", "synthetic", choices=_datasets()),
        IntField("subset", 0, lo=0, hi=MAX_SUBSET),
        ChoiceField("device", "auto", choices=TRAIN_DEVICES),
        IntField("seed", 0, lo=0, hi=min(MAX_SEED, 2**31 - 1)),
        IntField("budget", 0, lo=0, hi=MAX_BUDGET_S),
        ChoiceField("opt", OPTIMIZERS[0], choices=tuple(OPTIMIZERS)),
        FloatField("lr", 0.1, lo=1e-6, hi=100.0, step=1e-6),
        FloatField("mom", 0.0, lo=0.0, hi=0.999, step=0.001),
        FloatField("decay", 0.0, lo=0.0, hi=0.1, step=1e-6),
        IntField("bs", 128, lo=1, hi=UI_MAX_BATCH),
        IntField("epochs", 10, lo=1, hi=MAX_EPOCHS),
    ))


def training_defaults(arch: str, kind: str) -> dict[str, Any]:
    """The form's values for ``arch``'s ``kind`` recipe ("book" or "class"): a recipe's form is
    exactly ``recipe_config(arch, kind)``, so a student's first run attaches to the teacher's
    pre-warmed one. Values outside the page's ranges are clamped to them."""
    from cnnviz.train.recipes import recipe_config

    cfg = recipe_config(arch, kind)
    m = cfg.model
    values = dict(arch=arch, bn=m.batch_norm, res=bool(getattr(m, "residual", True)), wdiv=m.width_div,
                  drop=float(m.dropout), side=m.input_hw[0], dataset=cfg.data.dataset, subset=cfg.data.subset or 0,
                  device="auto", seed=0, budget=int(cfg.time_budget_s or 0), opt=cfg.optimizer, lr=float(cfg.lr),
                  mom=float(cfg.momentum), decay=float(cfg.weight_decay), bs=cfg.batch_size, epochs=cfg.epochs)
    schema = training_schema()
    return {k: schema.field(k).clean(v) for k, v in values.items()}


def parse_training(params: Mapping[str, Any], kind: str) -> tuple[dict[str, Any], list[urlstate.Problem]]:
    """Clean training-form values from a query string: the architecture first, then every other
    field against that architecture's ``kind`` recipe."""
    schema = training_schema()
    head, problems = urlstate.Schema((schema.field("arch"),)).parse(params)
    rest = {k: v for k, v in params.items() if k != "arch"}
    values, more = schema.parse(rest, training_defaults(head["arch"], kind) | head)
    return values, problems + more


def gradflow_schema() -> urlstate.Schema:
    """The gradient-flow lab: plain against residual, depth in odd steps (stem + 2 per block).

    The defaults show §6.4's point at a glance: BatchNorm on, Fashion-MNIST, 31 convs, 40 steps
    at lr 0.05. Measured with ``cnnviz.labs.gradflow.run_gradflow`` directly, one torch thread,
    mean loss of the last 5 steps (plain / residual):

    ================  ===============  ===============
    seed              BN on (default)  BN off
    ================  ===============  ===============
    0                 2.05 / 0.95      2.32 / 2.26
    1                 1.96 / 1.04
    2                 2.05 / 1.05
    ================  ===============  ===============

    Without BatchNorm neither net gets off chance (ln 10 ≈ 2.30) in 40 steps, at any learning
    rate tried (0.02 to 0.2, PyTorch's or Xavier's init, 21 or 31 convs, width 32, 80 steps at
    batch 32: the residual net at best 2.19, or diverging at 0.2 with Xavier); with it, the plain
    net creeps down to ~2.0 while the residual one reaches ~1.0. A pair took 9–20 s (up to 60 s
    with the machine's two cores shared by other test runs); the page's old defaults (BN off,
    synthetic shapes) about 10 s, so the lab keeps its usual time. ``tests/test_quizfix.py``
    checks the outcome (slow).
    """
    from cnnviz.labs.gradflow import INITS, MAX_DEPTH

    return urlstate.Schema((
        BoolField("r18", False),
        BoolField("bn", True),
        IntStepField("depth", 31, lo=9, hi=min(MAX_DEPTH, 57), step=2),
        IntStepField("steps", 40, lo=5, hi=200, step=5),
        IntChoiceField("width", 16, choices=(8, 16, 24, 32)),
        IntChoiceField("side", 32, choices=(16, 24, 28, 32, 48, 64)),
        FloatChoiceField("lr", 0.05, choices=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2)),
        ChoiceField("init", INITS[0], choices=tuple(INITS)),
        IntChoiceField("batch", 64, choices=(16, 32, 64, 128)),
        IntField("seed", 0, lo=0, hi=10_000),
        ChoiceField("data", LAB_DATASET, choices=_datasets()),
    ))


def batchnorm_schema() -> urlstate.Schema:
    """The BatchNorm lab's four tabs: from scratch (no prefix), the paired run (``t``), the two
    modes (``m``), batch noise (``b``)."""
    data = _datasets()
    return urlstate.Schema((
        IntChoiceField("n", 16, choices=(2, 4, 8, 16, 32, 64)),
        IntChoiceField("c", 4, choices=(1, 2, 4, 8, 16)),
        IntChoiceField("hw", 8, choices=(1, 2, 4, 8, 16)),
        IntField("steps", 3, lo=1, hi=10),
        IntField("seed", 0, lo=0, hi=10_000),
        IntStepField("tsteps", 100, lo=20, hi=400, step=20),
        FloatChoiceField("tlr", 0.9, choices=(0.1, 0.3, 0.5, 0.9, 1.0, 2.0)),
        IntChoiceField("tbatch", 128, choices=(32, 64, 128, 256)),
        ChoiceField("impl", "torch", choices=("torch", "scratch")),
        ChoiceField("tdata", LAB_DATASET, choices=data),
        IntChoiceField("mbatch", 32, choices=(4, 8, 16, 32, 64, 128)),
        IntField("msteps", 50, lo=1, hi=200),
        FloatChoiceField("mom", 0.1, choices=(0.01, 0.05, 0.1, 0.3, 1.0)),
        ChoiceField("mdata", LAB_DATASET, choices=data),
        IntChoiceField("trials", 200, choices=(50, 100, 200, 500, 1000)),
        ChoiceField("bdata", LAB_DATASET, choices=data),
    ))


def costlab_schema() -> urlstate.Schema:
    """The cost lab: the Inception block (defaults: the book's first block of stage 3) and the
    NiN-against-AlexNet head (``n`` prefix)."""
    from cnnviz.labs.costlab import BOOK_BLOCK as B

    return urlstate.Schema((
        IntField("cin", B["cin"], lo=1, hi=2048),
        IntField("side", B["side"], lo=1, hi=224),
        IntField("c1", B["c1"], lo=1, hi=1024),
        IntField("c4", B["c4"], lo=1, hi=1024),
        IntField("c2r", B["c2"][0], lo=1, hi=512),
        IntField("c2", B["c2"][1], lo=1, hi=512),
        IntField("c3r", B["c3"][0], lo=1, hi=256),
        IntField("c3", B["c3"][1], lo=1, hi=256),
        IntChoiceField("nside", 224, choices=(96, 128, 160, 192, 224)),
        IntChoiceField("classes", 10, choices=(10, 100, 1000)),
        IntChoiceField("ncin", 1, choices=(1, 3)),
    ))


# Feature maps: the image index is capped by the largest test split (MNIST's 10,000); the page
# lowers it to the chosen dataset's own size.
FM_MAX_INDEX = 9_999
FM_WEIGHTS = ("untrained", "trained", "run")  # "run": a finished training run of the class (``?run=<id>``)


@dataclass(frozen=True)
class RunIdField(TextField):
    """A run id (``secrets.token_hex``: letters and digits); whether it names a finished run with
    kept weights is the page's check, against the store."""

    max_len: int = 64

    def parse(self, raw: str, default: Any) -> tuple[Any, urlstate.Problem | None]:
        value = raw.strip()
        if not value or (len(value) <= self.max_len and value.isascii() and value.isalnum()):
            return value, None  # empty: no run chosen
        return default, urlstate.Problem("resv.url.bad_run", dict(name=self.name, raw=verbatim(raw, 24)))


def featuremaps_schema() -> urlstate.Schema:
    """The feature-maps lab: network, data, channels per layer, image source and index, weights,
    and the finished run whose weights are shown (``?weights=run&run=<id>&img=3``)."""
    from cnnviz.labs.featuremaps import FM_ARCHS

    data = _datasets()
    return urlstate.Schema((
        ChoiceField("arch", FM_ARCHS[0], choices=tuple(FM_ARCHS)),
        ChoiceField("data", LAB_DATASET, choices=data),
        IntChoiceField("maps", 16, choices=(4, 8, 16, 32)),
        ChoiceField("src", "dataset", choices=("dataset", "upload")),
        IntField("img", 0, lo=0, hi=FM_MAX_INDEX),
        ChoiceField("weights", "untrained", choices=FM_WEIGHTS),
        RunIdField("run", ""),
    ))
