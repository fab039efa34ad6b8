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
from cnnviz.inspect import Trace, trace

LANG_KEY = "lang"


def lang() -> str:
    """The reader's language: session state, else the URL's ``lang``, else English."""
    if LANG_KEY not in st.session_state:
        q = st.query_params.get(LANG_KEY, "en")
        st.session_state[LANG_KEY] = q if q in LANGS else "en"
    return st.session_state[LANG_KEY]


def tr(key: str, **params: Any) -> str:
    """``cnnviz.i18n.t`` in the reader's language."""
    return t(key, lang(), **params)


def language_selector() -> None:
    """Sidebar switch between English and Simplified Chinese; kept in the URL for shared links."""
    lang()  # initialise from the URL
    st.sidebar.selectbox(
        t("common.language", st.session_state[LANG_KEY]), LANGS, key=LANG_KEY, format_func=LANG_NAMES.get,
    )
    if st.session_state[LANG_KEY] != "en":
        st.query_params[LANG_KEY] = st.session_state[LANG_KEY]
    elif LANG_KEY in st.query_params:
        del st.query_params[LANG_KEY]


def show_error(err: CnnvizError) -> None:
    """The one error panel: the library's message in the reader's language, no traceback."""
    st.error(err.render(lang()), icon="🚫")


@st.cache_resource(max_entries=512, show_spinner=False)
def cached_trace(cfg: ConvNetConfig, batch_size: int = 1) -> Trace:
    """``cnnviz.inspect.trace``, shared by every session.

    ``cache_resource`` rather than ``cache_data``: a ``Trace`` is frozen (immutable), so all
    sessions can share one object safely and no copy is made on each rerun. Configs are
    frozen dataclasses, hence valid cache keys. Errors are not cached; they are cheap.
    """
    return trace(cfg, batch_size)
