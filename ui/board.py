"""What the class board and the teacher's page share: the class's runs as a table, the overlay
of their curves, the picker of a finished run's results, the pool's status line, the student's
name box, and the polling fragment.

Read-only by design: nothing here stops or deletes a run (the teacher's page adds its own
actions, behind the key; a student acts on their own runs on the training page).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.i18n import TABLE
from cnnviz.jobs.finished import finished_runs, run_title
from cnnviz.numbers import duration
from cnnviz.runs.identity import NAME_MAX  # characters of a display name
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.store import RunInfo
from cnnviz.safe import verbatim
from cnnviz.status import Status
from cnnviz.viz.training import curves_figure
from ui.common import arch_short, lang, show_error, tr
from ui.results import choice_label
from ui.sched import store_guard, student_label
from ui.teach import link_cells, link_columns
from ui.widgets import keep_choices, label_of

POLL_LIVE_S = 2.0  # a run of the class is queued or running: its row and curves move
POLL_IDLE_S = 10.0  # nothing live: only new runs or students to notice
PLOT_CONFIG = {"displaylogo": False}


# --- formatting --------------------------------------------------------------------------------
def fmt_duration(seconds: float | None) -> str:
    """0:42, 12:05, 1:02:03; "—" for None (finished, or nothing known): ``cnnviz.inspect.render.duration``."""
    return duration(seconds)


def fmt_time(ts: float | None, date: bool = True) -> str:
    if not ts:
        return "—"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M" if date else "%H:%M:%S")


def status_text(status: str) -> str:
    # words only: a table cell is drawn on a canvas, where an emoji needs a colour-emoji font
    return tr(f"train.status.{status}")


def run_status_text(info: RunInfo) -> str:
    """A run's status for the tables: "stopping at the next step" while its stop flag is set and
    its worker has not noticed yet (still running), else its status."""
    return tr("teach.stopping") if info.stop and info.status == Status.RUNNING else status_text(info.status)


def kind_text(kind: str) -> str:
    """A job kind for people: "training", else the lab's page title, else its registry name."""
    if kind == "train":
        return tr("teacher.kind.train")
    return tr(f"nav.{kind}") if f"nav.{kind}" in TABLE else kind


def title(info: RunInfo) -> str:
    return run_title(info, lang())


def who(sch: Scheduler, sid: str, me: str | None, names: dict[str, str] | None = None) -> str:
    return student_label(sid, sch.store.names() if names is None else names, lang(), me=me)


def any_live(sch: Scheduler) -> bool:
    """Whether any job of the class is queued or running (two indexed reads)."""
    return bool(sch.running()) or bool(sch.queue())


# --- the table of runs ---------------------------------------------------------------------------
def run_rows(sch: Scheduler, runs: Sequence[RunInfo], me: str | None, *, mine_column: bool = True,
             watchers: dict[str, list[str]] | None = None, projector: bool = False) -> list[dict]:
    """One row per run: title, student (first requester), status, test accuracy, epoch, how many
    watch it, (mine), created, the link to its live view (and, ``projector``, to its presenter
    view: ``ui.teach.link_cells``), id. ``watchers``: run id → student ids, when already read."""
    names = sch.store.names()
    rows = []
    for r in runs:
        ws = watchers[r.id] if watchers is not None and r.id in watchers else sch.watchers(r.id)
        row = {
            tr("train.hist.run"): title(r),
            tr("board.student"): who(sch, r.owner, me, names),
            tr("train.hist.status"): run_status_text(r),
            tr("train.hist.test_acc"): r.summary.get("test_acc"),
            tr("train.hist.epoch"): r.summary.get("epoch"),
            tr("board.watchers"): len(ws),
        }
        if mine_column:
            row[tr("board.col.mine")] = bool(me) and me in ws
        row[tr("train.hist.created")] = fmt_time(r.created)
        row.update(link_cells(r.id, projector))
        row["id"] = r.id
        rows.append(row)
    return rows


def runs_table(rows: list[dict], key: str) -> None:
    st.dataframe(rows, hide_index=True, key=key, column_config={
        tr("train.hist.test_acc"): st.column_config.NumberColumn(format="percent"),
        tr("train.hist.epoch"): st.column_config.NumberColumn(format="%.2f"),
        tr("board.watchers"): st.column_config.NumberColumn(format="%d"),
        tr("board.col.mine"): st.column_config.CheckboxColumn(),
        tr("teacher.col.progress"): st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
        **link_columns(),
    })


def run_labels(sch: Scheduler, runs: Iterable[RunInfo], me: str | None) -> dict[str, str]:
    """Run id → "title · student (id)": what pickers and legends show (the id tells twins apart)."""
    names = sch.store.names()
    return {r.id: f"{title(r)} · {who(sch, r.owner, me, names)} ({r.id[:6]})" for r in runs}


def overlay(sch: Scheduler, runs: Sequence[RunInfo], me: str | None, key: str,
            label_key: str = "board.overlay") -> None:
    """A multiselect of any of ``runs`` and their curves on the same axes."""
    labels = run_labels(sch, runs, me)
    keep_choices(key, labels, multi=True)
    chosen = st.multiselect(tr(label_key), list(labels), format_func=label_of(labels), key=key,
                            placeholder=tr("train.hist.overlay.placeholder"))
    if chosen:
        # the legend repeats a label per metric: the short form (who, network, id), not the full title
        names = sch.store.names()
        by_id = {r.id: r for r in runs}
        legend = {r: f"{who(sch, by_id[r].owner, me, names)} · {arch_short(by_id[r].arch)} ({r[:6]})" for r in chosen}
        st.plotly_chart(curves_figure([(legend[r], sch.events(r)) for r in chosen], lang()), config=PLOT_CONFIG,
                        key=key + "_chart")


def results_picker(runs: Sequence[RunInfo], key: str) -> str | None:
    """A picker of the finished training runs among ``runs`` (title · status · test accuracy);
    the chosen run id, or None (there is none yet: said so)."""
    done = finished_runs(list(runs))
    if not done:
        st.caption(tr("resv.pick.none"))
        return None
    labels = {r.id: choice_label(r) for r in done}
    keep_choices(key, labels, multi=False)
    return st.selectbox(tr("resv.pick"), list(labels), format_func=label_of(labels), key=key)


# --- the pool ----------------------------------------------------------------------------------------
def pool_status(sch: Scheduler, quiet: bool = False) -> bool:
    """The pool's line (workers × threads, since when), or the translated warning when no pool
    beats; whether it is alive. ``quiet``: say nothing while it is alive."""
    info = sch.pool_info()
    if info is not None and info.alive():
        if not quiet and info.executor == "ray":
            d = info.detail
            st.success(tr("sched.pool.ray", address=d.get("address", "?"), jobs=info.workers, threads=info.threads,
                          cpus=f"{d.get('free_cpus', 0):g}/{d.get('cpus', 0):g}",
                          gpus=f"{d.get('free_gpus', 0):g}/{d.get('gpus', 0):g}", nodes=d.get("nodes", 0),
                          since=fmt_time(info.started)), icon=":material/hub:")
        elif not quiet:
            st.success(tr("sched.pool", workers=info.workers, threads=info.threads, since=fmt_time(info.started)),
                       icon=":material/memory:")
            if info.detail.get("ray_error"):  # Ray was asked for and is not serving: say why
                st.warning(tr("sched.pool.ray_off", error=info.detail["ray_error"]), icon=":material/hub:")
        if not quiet and sch.calibrating():  # the estimates wait for it (cnnviz.runs.calibration)
            st.info(tr("cal.estimating.help"), icon=":material/speed:")
        return True
    why = (tr("teacher.pool.never") if info is None
           else tr("teacher.pool.beat", ago=fmt_duration(time.time() - info.heartbeat)))
    st.warning(f"{tr('sched.pool_down')} ({why})", icon=":material/warning:")
    return False


# --- the student's name -----------------------------------------------------------------------------
def name_box(sch: Scheduler, me: str) -> None:
    """The student's display name on the boards (empty: their short code). At most ``NAME_MAX``
    characters: Streamlit cuts a longer value server-side too, whatever the browser sends."""
    key = "board.name"
    if key not in st.session_state:  # the widget's first draw in this session: the stored name
        st.session_state[key] = sch.store.names().get(me, "")
    with st.form("board.name_form", border=False):
        c = st.columns([3, 1], vertical_alignment="bottom")
        c[0].text_input(tr("student.name"), max_chars=NAME_MAX, help=tr("student.name.help"), key=key,
                        placeholder=tr("student.anon", code=me[:4]))
        save = c[1].form_submit_button(tr("board.name.save"), width="stretch")
    if not save:
        return
    try:  # unique in the class, never the teacher's (cnnviz.runs.identity)
        name = sch.identities.set_name(me, st.session_state[key] or "")
    except CnnvizError as err:
        show_error(err)
        return
    st.success(tr("board.name.saved", name=verbatim(name, NAME_MAX)) if name else tr("board.name.cleared"),
               icon=":material/badge:")  # the name as Markdown code: never a link or markup


# --- live updates -------------------------------------------------------------------------------------
def poll(key: str, is_live: Callable[[], bool], draw: Callable[[], None]) -> None:
    """``draw()`` in a fragment rerun every ``POLL_LIVE_S`` while ``is_live()``, else every
    ``POLL_IDLE_S``. When liveness changes, the whole page reruns once, so the timer (fixed when
    the fragment is declared) follows and the parts outside the fragment catch up."""
    live = is_live()
    st.session_state[key] = live

    @st.fragment(run_every=POLL_LIVE_S if live else POLL_IDLE_S)
    def panel() -> None:
        with store_guard():  # a store that broke between two polls: its message, not Streamlit's crash
            draw()
            if is_live() != st.session_state.get(key):
                st.rerun(scope="app")

    panel()
