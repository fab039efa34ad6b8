"""Streamlit glue of the training page: the form's state, and estimates.

Runs go through the process-wide scheduler (``ui.sched.scheduler()``): worker processes of one
pool train them, and every replica reads their events from the run store. The form's widgets
keep their values in ``st.session_state`` under ``tr.*`` keys; a recipe writes them all at once
(from a callback, before the widgets are drawn). A recipe's form gives exactly
``recipe_config(arch, kind)``, so a student's first run attaches to the teacher's pre-warmed one.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import torch

from cnnviz.models.registry import get_config, model_spec
from cnnviz.runs.store import RunInfo
from cnnviz.safe import verbatim
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import split_sizes
from cnnviz.train.estimate import memory_estimate
from cnnviz.train.recipes import recipe_config

from . import schemas
from .common import arch_label, lang, tr
from .widgets import PageState

K = "tr."  # prefix of the form's session-state keys
RUN_FIELD = schemas.RunIdField("run", "")  # the link's ``?run=<id>``: letters and digits, or nothing
LAB_PAGES = {"gradflow": "nav.gradflow", "bnpair": "nav.batchnorm", "featuremaps": "nav.featuremaps"}
APPLIED = "tr._applied"  # the recipe message a button left for the page to show once
EXTRA = "tr._model_extra"  # recipe model overrides without a widget (AlexNet's fc_width...)


def url_run_id() -> str | None:
    """The run the link names (``?run=<id>``), or None. A value that cannot be a run id (too long,
    not letters and digits: markup, a link, control characters) gets one message, the value quoted
    as code (``cnnviz.safe``), and the page shows no run."""
    raw = st.query_params.get("run")
    if not raw:
        return None
    value, problem = RUN_FIELD.parse(raw, "")
    if problem is not None:
        st.error(tr("safe.train.bad_run", raw=verbatim(raw, 24)), icon=":material/link_off:")
        return None
    return value or None


def lab_job_error(info: RunInfo) -> str:
    """The one sentence for a lab job's id on the training page (it has no curves nor results here)."""
    key = LAB_PAGES.get(info.kind, "")
    return tr("safe.train.lab_job", run_id=verbatim(info.id), lab=tr(key) if key else verbatim(info.kind))


def devices() -> list[str]:
    """Device choices on this machine."""
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps and mps.is_available():
        out.append("mps")
    return out


def default_kind() -> str:
    """The recipe a new architecture opens with: the book's on a GPU, the class period's elsewhere."""
    return "book" if torch.cuda.is_available() else "class"


def _state() -> PageState:
    """The form bound to the URL: its keys are ``tr.<field>`` (``K``), its schema ``ui.schemas``'s."""
    return PageState("tr", schemas.training_schema(), parse=lambda p: schemas.parse_training(p, default_kind()))


def _hidden(arch: str, kind: str) -> None:
    """What the recipe sets without a widget: its model overrides (AlexNet's fc_width...) and its
    fixed test subset."""
    cfg = recipe_config(arch, kind)
    handled = {"batch_norm", "residual", "width_div", "dropout", "input_hw"}
    base, m = get_config(arch), cfg.model
    st.session_state[EXTRA] = {f: getattr(m, f) for f in m.to_dict() if f not in handled
                               and getattr(m, f) != getattr(base, f)}
    st.session_state[K + "_test_subset"] = cfg.data.test_subset


def apply_recipe(arch: str | None = None, kind: str | None = None) -> None:
    """Fill every form widget from a recipe (a widget callback: runs before the widgets are drawn).
    The seed and the device stay as the student set them."""
    arch = arch or _state().get("arch", "lenet")  # a forged value reads as the default (ui.widgets)
    values = schemas.training_defaults(arch, kind or default_kind())
    values.pop("seed"), values.pop("device")
    _state().set(values)
    _hidden(arch, kind or default_kind())
    if kind is not None:  # a recipe button: say what it set, even where the form already held those values
        cfg = recipe_config(arch, kind)
        st.session_state[APPLIED] = tr("train.recipe_applied", recipe=tr(f"train.f.recipe_{kind}"),
                                       arch=arch_label(arch), side=cfg.model.input_hw[0], epochs=cfg.epochs,
                                       lr=f"{cfg.lr:g}", bs=cfg.batch_size)


def init_form() -> None:
    """Every run: the form from the URL (a shared link), else the last visit, else LeNet's
    default recipe; the values a link got wrong are named in a warning."""
    first = K + "arch" not in st.session_state
    _state().start()
    if first or EXTRA not in st.session_state:
        _hidden(st.session_state[K + "arch"], default_kind())


def sync_form() -> None:
    """The form's values into the URL (those that differ from the architecture's recipe)."""
    recipe = schemas.training_defaults(st.session_state[K + "arch"], default_kind())
    del recipe["arch"]  # the architecture itself is always said, unless it is the page's default
    _state().sync(defaults=recipe)


def form_config() -> TrainConfig:
    """The ``TrainConfig`` the widgets describe (a ``CnnvizError`` for values that cannot work)."""
    s = st.session_state
    arch = s[K + "arch"]
    base = get_config(arch)
    fields = {f for f in base.to_dict()}
    settings: dict[str, Any] = {k: v for k, v in s.get(EXTRA, {}).items() if k in fields}
    settings.update(batch_norm=bool(s[K + "bn"]), width_div=int(s[K + "wdiv"]), dropout=float(s[K + "drop"]))
    if "residual" in fields:
        settings["residual"] = bool(s[K + "res"])
    budget = float(s[K + "budget"] or 0)
    return TrainConfig.create(
        arch, input_side=int(s[K + "side"]), model_settings=settings, dataset=s[K + "dataset"],
        subset=int(s[K + "subset"]) or None, test_subset=s.get(K + "_test_subset"), optimizer=s[K + "opt"],
        lr=float(s[K + "lr"]),
        momentum=float(s[K + "mom"]), weight_decay=float(s[K + "decay"]), batch_size=int(s[K + "bs"]),
        epochs=int(s[K + "epochs"]), seed=int(s[K + "seed"]), device=s[K + "device"],
        time_budget_s=budget if budget > 0 else None,
    )


def data_sizes(cfg: TrainConfig) -> tuple[int, int]:
    """(train, test) image counts the run would use (the synthetic set's when the files are missing),
    read from the files' headers: the page process never loads a dataset."""
    return split_sizes(cfg.data)


def estimates(cfg: TrainConfig, device: torch.device, known_s: float | None) -> dict[str, Any]:
    """The memory estimate (the meta-device trace: no tensor is computed) and the time estimate
    ``known_s``, which the scheduler read from this store's finished runs or the pool's
    calibration of this machine (``cnnviz.runs.calibration``). The page never times a step
    itself: that would train in the server's process at every change of the form."""
    n_train, n_test = data_sizes(cfg)
    mem = memory_estimate(cfg, device, n_train, n_test)
    return {"mem": mem, "n_train": n_train, "n_test": n_test, "seconds": known_s}


def run_message(info_or_end: Any) -> str:
    """A run's status message (a ``RunInfo`` or an end-event dict) in the reader's language."""
    msg = info_or_end.get("message", {}) if isinstance(info_or_end, dict) else info_or_end.message
    return msg.get(lang()) or msg.get("en", "")


def family(arch: str) -> str:
    return model_spec(arch).family
