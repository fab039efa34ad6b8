"""What every page with a background job shares: submitting a session's lab job to the
scheduler, its status panel, its events folded into series, and the polling fragment.

A job runs in a worker process of the pool (``cnnviz.runs``), never in the server; the page
only looks at it through the store, so any replica shows it. A lab page submits with
``submit(key, kind, params)``: the scheduler replaces this student's previous job of that
kind, or attaches the student to an identical job someone already asked for (computed once
for the class); the session remembers the run id under ``key``. While the job runs, a
fragment redraws its panel once a second (the rest of the page is not rerun); the moment it
ends, one full rerun redraws what depends on it elsewhere on the page (sliders that were
locked, buttons).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.labs.gradflow import VariantSeries, series_from_events
from cnnviz.numbers import duration
from cnnviz.runs.scheduler import LEFT, RunError, Ticket
from cnnviz.runs.store import RunInfo
from cnnviz.status import Status
from cnnviz.train.events import Event
from ui.common import lang, show_error, tr
from ui.sched import join_gate, joined_note, member, scheduler, store_guard, student

POLL_S = 1.0  # how often a running job's panel is redrawn
_NOTE = "_jobs.note"  # session state: {key: (string key, params)} a message for the next draw of key's panel
_ERROR = "_jobs.error"  # session state: {key: CnnvizError} from a Stop button's callback


def submit(key: str, kind: str, params: Mapping[str, Any]) -> Ticket:
    """Submit this student's lab job (``kind``, JSON ``params``) and remember its run id under ``key``.

    ``replace=True``: the student's previous live job of this kind is dropped (stopped unless
    someone else watches it). Raises ``CnnvizError`` for parameters the kind refuses; the
    page shows it.
    """
    ticket = scheduler().submit(kind, params, member(), replace=True)
    st.session_state[key] = ticket.run_id
    if ticket.attached:
        _note(key, "sched.attached")
    return ticket


def gate(key: str) -> bool:
    """Whether this session may start a job; if not, the reason and the join form are drawn here
    (``ui.sched.join_gate``): the page disables its Run button on False."""
    joined_note()
    return join_gate(key)


def current(key: str) -> RunInfo | None:
    """The job this session submitted under ``key``, or ``None`` (none yet; or it is gone, said so)."""
    rid = st.session_state.get(key)
    if not rid:
        return None
    try:
        return scheduler().get(rid)
    except RunError as err:  # deleted meanwhile (the teacher cleared the class)
        st.session_state.pop(key, None)
        show_error(err)
        return None


def info(run_id: str) -> RunInfo | None:
    """The job's row now (``None`` once deleted)."""
    try:
        return scheduler().get(run_id)
    except RunError:
        return None


def is_live(run_id: str) -> bool:
    got = info(run_id)
    return got is not None and got.live


def watching(key: str, run_id: str) -> bool:
    """Whether the job ``run_id`` is still this session's (under ``key``) and live: a Stop on a
    job others still watch only leaves it, and the page stops polling it."""
    return st.session_state.get(key) == run_id and is_live(run_id)


def events(run_id: str) -> list[Event]:
    """Every event of the job so far (the scheduler's process-wide cache; do not modify them)."""
    return scheduler().events(run_id)


@st.cache_resource(show_spinner=False, max_entries=64)
def _series(run_id: str, n: int, names: tuple[str, ...]) -> dict[str, VariantSeries]:
    return series_from_events(scheduler().events(run_id)[:n], names)


def pair_series(run_id: str, names: Sequence[str]) -> dict[str, VariantSeries]:
    """A paired job's per-variant series, folded once per process and number of events (every
    session watching the job shares it: read it, never modify it)."""
    n = len(scheduler().events(run_id))
    return _series(run_id, n, tuple(names))


def live(key: str, job_id: str, running: Callable[[], bool], draw: Callable[[], None]) -> None:
    """Draw ``draw()`` in a fragment rerun every ``POLL_S`` while ``running()``; when the job
    ends, rerun the whole app once. ``key`` is the session-state slot that remembers which
    job this session last saw running (so a finished job does not rerun the app again)."""

    @st.fragment(run_every=POLL_S if running() else None)
    def panel() -> None:
        with store_guard():  # a store that broke between two polls: its message, not Streamlit's crash
            draw()
            if running():
                st.session_state[key] = job_id
            elif st.session_state.get(key) == job_id:
                st.session_state.pop(key, None)
                st.rerun(scope="app")

    panel()


# --- the status panel ---------------------------------------------------------------------------------
def _note(key: str, code: str, **params: Any) -> None:
    st.session_state.setdefault(_NOTE, {})[key] = (code, params)


_duration = duration  # one formatter: cnnviz.numbers.duration


def _stop(key: str, run_id: str) -> None:
    """The Stop button's callback: stop the job (or leave it, when others still watch it)."""
    sch = scheduler()
    try:
        if sch.stop(run_id, student()) == LEFT:
            st.session_state.pop(key, None)  # no longer this session's job: the page forgets it
            _note(key, "sched.left", n=len(sch.watchers(run_id)))
    except CnnvizError as err:
        st.session_state.setdefault(_ERROR, {})[key] = err


def notes(key: str) -> None:
    """Messages left for the page by ``submit`` or a Stop (attached to a shared job, left one)."""
    err = st.session_state.get(_ERROR, {}).pop(key, None)
    if err is not None:
        show_error(err)
    note = st.session_state.get(_NOTE, {}).pop(key, None)
    if note is not None:
        st.info(tr(note[0], **note[1]), icon=":material/group:")


def status(key: str, info: RunInfo, step: int, total: int, stop_key: str) -> bool:
    """The status of the lab job ``info`` at ``step`` of ``total``: its place in the queue with
    the ETAs, a progress bar with a Stop button, or how it ended (its own message, translated).
    False when it failed or was interrupted (there is nothing else to draw)."""
    sch = scheduler()
    if info.status == Status.QUEUED:
        place = sch.place(info.id)
        st.info(tr("sched.place", place=max(1, place.position), total=max(1, len(sch.queue())),
                   start=_duration(place.start_s), end=_duration(place.end_s)), icon=":material/hourglass_top:")
        if not sch.pool_alive():
            st.warning(tr("sched.pool_down"), icon=":material/cloud_off:")
    elif info.status == Status.RUNNING:
        frac = min(1.0, step / max(total, 1))
        st.progress(frac, text=tr("lab.status.running", step=step, total=total))
    if info.live:
        n = len(sch.watchers(info.id))
        c = st.columns([1, 3], vertical_alignment="center")
        c[0].button(tr("sched.cancel") if info.status == Status.QUEUED else tr("lab.stop"), on_click=_stop,
                    args=(key, info.id), key=stop_key, icon=":material/stop:")
        if n > 1:
            c[1].caption(tr("sched.shared", n=n))
        return True
    # the worker's own message, translated, unless it is the bare word (completed, stopped)
    extra = "" if info.code.startswith("lab.job.") or not info.text(lang()) else f" · {info.text(lang())}"
    if info.status == Status.COMPLETED:
        took = (info.ended or 0.0) - (info.started or info.ended or 0.0)
        st.caption(tr("lab.status.done", steps=step, seconds=took) + extra)
        return True
    if info.status == Status.STOPPED:
        # cancelled in the queue: its own message ("stopped before it started") says it all
        st.caption(info.text(lang()) if step == 0 and extra else tr("lab.status.stopped", steps=step) + extra)
        return True
    if info.status == Status.INTERRUPTED:
        st.warning(tr("lab.status.interrupted", message=info.text(lang())), icon=":material/restart_alt:")
        return False
    # failed, or a training-style end (diverged): the worker's translated message, never a traceback
    st.error(tr("lab.status.failed", error=info.text(lang()) or info.code), icon=":material/block:")
    return False
