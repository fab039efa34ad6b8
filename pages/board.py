"""Class board: every training run of the class, read-only, with any of them overlaid.

Layout only: the scheduler (``ui.sched``) → rows and figures (``ui.board``). No button here
acts on a run: a student stops or deletes their own on the training page, the teacher any
on the teacher's page. The table and the overlay sit in a fragment that reruns every
couple of seconds while a job of the class is live (``ui.board.poll``). Below it, any finished
run's Results view (``ui.results``).
"""

from __future__ import annotations

import streamlit as st

from cnnviz.status import Status
from ui import board as ub
from ui import results
from ui.common import tr
from ui.sched import page_scheduler

st.title(tr("board.title"))
st.caption(tr("board.intro"))
sch, me = page_scheduler()  # or the store's error, and the page stops

ub.name_box(sch, me)
only_mine = st.toggle(tr("board.mine"), key="board.only_mine", help=tr("board.mine.help"))


def draw() -> None:
    runs = sch.runs(None)  # the whole class's training runs, newest first
    if not runs:
        st.caption(tr("board.empty"))
        return
    if any(r.status == Status.QUEUED for r in runs):
        ub.pool_status(sch, quiet=True)  # queued jobs and no pool: say why nothing moves
    watchers = {r.id: sch.watchers(r.id) for r in runs}
    shown = [r for r in runs if me in watchers[r.id]] if only_mine else runs
    if shown:
        ub.runs_table(ub.run_rows(sch, shown, me, watchers=watchers), key="board.table")
    else:
        st.caption(tr("board.none_mine"))
    if any(r.live for r in runs):
        st.caption(tr("board.live"))
    ub.overlay(sch, runs, me, key="board.overlay")  # any run of the class, whatever the filter


ub.poll("board._live", lambda: ub.any_live(sch), draw)
# a finished run's results, outside the polling fragment (its widgets rerun the page, not a timer)
st.divider()
pick = ub.results_picker(sch.runs(None), key="board.res_pick")
if pick:
    results.view(pick, "board.res")
