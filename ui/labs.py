"""What the lab pages share: one session's job on the server-wide lab board."""

from __future__ import annotations

import streamlit as st

from cnnviz.runs.jobs import Job, lab_board


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
