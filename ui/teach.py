"""The teacher's lesson tools that every page shares: the heartbeat of an open page, the class's
address as a QR code, the links to a run's view, and the presenter view of the training page.

The logic is in ``cnnviz.classlink`` (pure, tested without a browser); this is its glue.
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st

from cnnviz import classlink, settings
from cnnviz.safe import md
from ui.common import lang, tr
from ui.sched import scheduler, student
from ui.warm import is_warmup

PRESENT = "present"  # the query parameter of the presenter view: ``present=1``


# --- connected students: the heartbeat of an open page ----------------------------------------------
def beat() -> bool:
    """One heartbeat: this session's student is seen now (``RunStore.touch``). Whether it was
    written (not for the warm-up's session, nor when the store cannot be reached: the page that
    needs it says so)."""
    if is_warmup():
        return False
    sid = student()
    try:
        scheduler().store.touch(sid)
    except Exception:  # a broken or busy store: the next beat tries again
        return False
    st.session_state["_student_seen"] = time.time()  # ui.sched.student() need not touch again soon
    return True


def heartbeat() -> None:
    """Called by ``app.py`` on every run, in the sidebar: a fragment that draws nothing and beats
    every ``classlink.BEAT_S`` while the page stays open, clicked or not. A closed tab's session
    ends, its timer with it, and the teacher's count drops it within ``classlink.ONLINE_S``."""

    @st.fragment(run_every=classlink.BEAT_S)
    def _beat() -> None:
        # a click's rerun runs this too: at most one write per half beat (student() may just have touched)
        if time.time() - st.session_state.get("_student_seen", 0.0) >= classlink.BEAT_S / 2:
            beat()

    with st.sidebar:
        _beat()


# --- the class's address --------------------------------------------------------------------------
def address() -> tuple[str | None, bool]:
    """The class's address from this request (``cnnviz.classlink.class_address``) and whether it
    still names this machine only."""
    url = host = None
    with contextlib.suppress(Exception):  # no browser context (a bare script run)
        url = st.context.url
        host = st.context.headers.get("Host")
    try:
        override = settings.class_url()
    except settings.SettingError:  # a broken setting is reported at start; the page finds its own
        override = ""
    return classlink.class_address(url if isinstance(url, str) else None, host if isinstance(host, str) else None,
                                   st.get_option("server.baseUrlPath"), override)


@st.cache_data(max_entries=16, show_spinner=False)
def _qr(address: str) -> bytes:
    return classlink.qr_png(address)


def class_address_card(key: str) -> None:
    """The class's address as a QR code and as text, both large enough to read off a projector.
    Nothing when the page cannot know it (a bare script run with no setting)."""
    url, local = address()
    if url is None:
        return
    c = st.columns([1, 2], vertical_alignment="center")
    c[0].image(_qr(url), width=320, caption=tr("teach.qr.caption"))
    with c[1]:
        st.markdown(f"# {md(url, limit=200)}")  # validated host and port only; a code span all the same
        st.caption(tr("teach.address.help"))
        if local:
            st.warning(tr("teach.address.local"), icon=":material/lan:")


# --- links to a run's view ------------------------------------------------------------------------------
def run_link(run_id: str, present: bool = False) -> str:
    """``/training?run=<id>`` under this server's base path (``&present=1``: the presenter view)."""
    return classlink.run_link(run_id, st.get_option("server.baseUrlPath"), present=present, lang=lang())


def link_cells(run_id: str, projector: bool = False) -> dict[str, str]:
    """A table row's link columns: the live view, and (``projector``) the presenter view."""
    cells = {tr("teach.col.view"): run_link(run_id)}
    if projector:
        cells[tr("teach.col.projector")] = run_link(run_id, present=True)
    return cells


def link_columns() -> dict:
    """The ``column_config`` of ``link_cells``' columns: a link with fixed text, opened in a new tab."""
    return {tr("teach.col.view"): st.column_config.LinkColumn(display_text=tr("teach.open"),
                                                              help=tr("teach.col.view.help")),
            tr("teach.col.projector"): st.column_config.LinkColumn(display_text=tr("teach.present"),
                                                                   help=tr("teach.col.projector.help"))}


# --- the presenter view ------------------------------------------------------------------------------------
def presenting() -> bool:
    """Whether the URL asks for the presenter view (``present=1``); if so the sidebar starts folded.
    The page then draws only what the projector shows (the training page: the run, full width)."""
    if st.query_params.get(PRESENT) != "1":
        return False
    st.set_page_config(initial_sidebar_state="collapsed")
    return True
