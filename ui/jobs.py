"""What every page with a background job shares: submitting a session's job, its status
panel, and the polling fragment.

A job runs on a worker (``cnnviz.runs``); the page only looks at it. While it runs, a
fragment redraws the job's panel once a second (the rest of the page is not rerun); the
moment it ends, one full rerun redraws what depends on it elsewhere on the page (history,
sliders that were locked, buttons).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.runs.jobs import Job, lab_board
from ui.common import show_error, tr

POLL_S = 1.0  # how often a running job's panel is redrawn


def replace_job(key: str, job: Job) -> Job:
    """Stop this session's previous lab job kept under ``key`` (if it still runs) and submit
    ``job`` to the board every session and lab page shares (``cnnviz.runs.jobs.lab_board``:
    process-wide, thread-safe, two jobs at a time since the CPU is shared).

    Raises ``CnnvizError`` when the board is full; the page shows it.
    """
    old = st.session_state.get(key)
    if old is not None and old.running:
        old.stop()
    st.session_state[key] = lab_board().submit(job)
    return st.session_state[key]


def live(key: str, job_id: str, running: Callable[[], bool], draw: Callable[[], None]) -> None:
    """Draw ``draw()`` in a fragment rerun every ``POLL_S`` while ``running()``; when the job
    ends, rerun the whole app once. ``key`` is the session-state slot that remembers which
    job this session last saw running (so a finished job does not rerun the app again)."""

    @st.fragment(run_every=POLL_S if running() else None)
    def panel() -> None:
        draw()
        if running():
            st.session_state[key] = job_id
        elif st.session_state.get(key) == job_id:
            st.session_state.pop(key, None)
            st.rerun(scope="app")

    panel()


def job_status(job: Job, step: int, total: int, stop_key: str) -> bool:
    """The status line of a lab job at ``step`` of ``total``: queued, a progress bar with a stop
    button, stopped, done, or its error. False when it failed (there is nothing else to draw)."""
    if job.status == "failed":
        if isinstance(job.error, CnnvizError):
            show_error(job.error)
        else:
            st.error(tr("lab.status.failed", error=str(job.error)), icon="🚫")
        return False
    if job.running:
        if step == 0:
            st.info(tr("lab.status.queued"), icon="⏳")
        else:
            st.progress(step / max(total, 1), text=tr("lab.status.running", step=step, total=total))
        st.button(tr("lab.stop"), on_click=job.stop, key=stop_key, icon=":material/stop:")
    elif job.status == "stopped":
        st.caption(tr("lab.status.stopped", steps=step))
    else:
        st.caption(tr("lab.status.done", steps=step, seconds=(job.finished or 0) - (job.started or 0)))
    return True
