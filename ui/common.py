"""What every page needs: the language, translated strings, the error panel, cached traces.

Pages stay layout-only: widgets → config → ``cnnviz`` → render, with every string from
``cnnviz.i18n`` through ``tr``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnviz.config import ConvNetConfig
from cnnviz.errors import CnnvizError
from cnnviz.i18n import LANG_NAMES, LANGS, t
from cnnviz.inspect.tracing import Trace, trace
from cnnviz.numbers import human, human_bytes

LANG_KEY = "lang"


@st.cache_resource(show_spinner=False)
def freeze_startup_objects() -> int:
    """Once per server process: import what every page needs, collect, and move everything
    alive to the garbage collector's permanent generation (``gc.freeze``); returns how many
    objects that was.

    torch, plotly, pandas and the string table are some 270,000 tracked objects that live as
    long as the server. Every full collection walks all of them: 0.15–0.2 s with the GIL held,
    which Streamlit's own ``gc.collect`` after each script run (``runner.postScriptGC``) made
    every click pay. That setting is off in ``.streamlit/config.toml`` (measured in
    ``bench/bench_click.py``); Python's own generational collector still runs, and once these
    objects are frozen its occasional full collections only walk what the sessions created.
    Objects made later (sessions, caches) are collected as usual.
    """
    import gc

    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import torch  # noqa: F401

    import cnnviz.models  # noqa: F401
    import cnnviz.viz.explore  # noqa: F401

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def lang() -> str:
    """The reader's language: session state, else the URL's ``lang``, else English."""
    _leave_mpa_v1()
    if LANG_KEY not in st.session_state:
        q = st.query_params.get(LANG_KEY, "en")
        st.session_state[LANG_KEY] = q if q in LANGS else "en"
    elif st.session_state[LANG_KEY] not in LANGS:  # a forged widget value (first call of the run: no widget yet)
        st.session_state[LANG_KEY] = "en"
    return st.session_state[LANG_KEY]


def tr(key: str, **params: Any) -> str:
    """``cnnviz.i18n.t`` in the reader's language."""
    return t(key, lang(), **params)


def language_selector() -> None:
    """Sidebar switch between English and Simplified Chinese; kept in the URL for shared links."""
    lang()  # initialise from the URL (a forged language reads as English; any value has a label: label_of)
    st.sidebar.selectbox(
        t("common.language", st.session_state[LANG_KEY]), LANGS, key=LANG_KEY,
        format_func=lambda v: LANG_NAMES.get(v, str(v)),
    )
    if st.session_state[LANG_KEY] != "en":
        st.query_params[LANG_KEY] = st.session_state[LANG_KEY]
    elif LANG_KEY in st.query_params:
        del st.query_params[LANG_KEY]


def show_error(err: CnnvizError) -> None:
    """The one error panel: the library's message in the reader's language, no traceback."""
    st.error(err.render(lang()), icon=":material/block:")  # a bundled icon: no emoji font needed


@st.cache_resource(max_entries=512, show_spinner=False)
def cached_trace(cfg: ConvNetConfig, batch_size: int = 1) -> Trace:
    """``cnnviz.inspect.trace``, shared by every session.

    ``cache_resource`` rather than ``cache_data``: a ``Trace`` is frozen (immutable), so all
    sessions can share one object safely and no copy is made on each rerun. Configs are
    frozen dataclasses, hence valid cache keys. Errors are not cached; they are cheap.
    """
    return trace(cfg, batch_size)


def arch_label(name: str) -> str:
    """An architecture's display name (``arch.<name>`` in the string table)."""
    return tr(f"arch.{name}")


def dataset_label(name: str) -> str:
    """A dataset's display name in the reader's language (``lab.data.<name>``)."""
    return tr(f"lab.data.{name}")


def arch_short(name: str) -> str:
    """A short display name for crowded charts (``arch.short.<name>``), else the full one."""
    from cnnviz.i18n import TABLE

    key = f"arch.short.{name}"
    return tr(key) if key in TABLE else arch_label(name)


def fmt_count(n: float) -> str:
    """1234567 → '1.23M' (the same units in both languages)."""
    return human(n)


def fmt_bytes(n: float) -> str:
    """Bytes in binary units: 1536 → '1.5 KiB'."""
    return human_bytes(n)


def try_trace(cfg: ConvNetConfig, batch_size: int = 1) -> tuple[Trace | None, CnnvizError | None]:
    """``cached_trace``, or the library's error for a configuration that cannot work (input
    too small, a width divisor that leaves no channels): pages show it with ``show_error``."""
    try:
        return cached_trace(cfg, batch_size), None
    except CnnvizError as err:
        return None, err


@st.cache_resource(max_entries=64, show_spinner=False)
def arch_has(name: str, kind: str) -> bool:
    """Whether preset ``name``'s network has layers of ``kind`` with every switch on (dropout 0.5,
    BatchNorm): pages grey out switches that would change nothing (GoogLeNet has no dropout)."""
    from cnnviz.models.registry import get_config

    cfg = get_config(name)
    try:
        traced = cached_trace(cfg.replace(dropout=0.5, batch_norm=True))
    except CnnvizError:
        return True
    return any(r.kind == kind for r in traced.layers)


def _leave_mpa_v1() -> None:
    """Make every page run through ``app.py``, even on a freshly started server.

    Because the pages live in a folder called ``pages/``, Streamlit starts in its old
    multipage mode (``PagesManager.uses_pages_directory``) and only leaves it the first time
    some run reaches ``st.navigation``. Until then a visitor who opens a shared link such as
    ``/explorer?arch=googlenet`` on a fresh server gets ``pages/explorer.py`` run on its own:
    no language switch, no page titles, no wide layout (AppTest, which resets that flag on
    every run, would test the pages that way too). ``lang`` calls this, and every page calls
    ``lang`` through ``tr`` before drawing anything: on such a run it switches the mode off
    and reruns, and the rerun goes through ``app.py``. Internal API, hence the guards: if it
    moves, pages still work and only that first visit looks plain. Renaming ``pages/`` (say,
    to ``views/``) would make this unnecessary.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # pragma: no cover - a Streamlit without these internals
        return
    if getattr(PagesManager, "uses_pages_directory", None) and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()
