"""Training page: configure a run, watch it live, compare it with your earlier ones.

Layout only: widgets → ``TrainConfig`` → the scheduler (``ui.sched.scheduler()``), whose worker
processes train it; a fragment polls the store once a second and draws the figures of
``cnnviz.viz.training``. The current run's id is in the URL (``?run=``), so a reload (or a
restarted server) reattaches to it. The URL carries no identity: a shared link shows the run
read-only; only the student who asked for it (or the teacher) can stop or delete it. A request
identical to an existing run attaches to it (the whole class shares one computation). Once
the run has completed or been stopped, its Results view (``ui.results``) follows the curves.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.jobs.finished import run_title
from cnnviz.jobs.train import TrainProgress
from cnnviz.models.registry import list_models
from cnnviz.numbers import duration, human
from cnnviz.runs import admission
from cnnviz.runs.scheduler import LEFT, RunError
from cnnviz.safe import file_name
from cnnviz.status import FINISHED, Status
from cnnviz.train.config import MAX_EPOCHS, OPTIMIZERS
from cnnviz.train.data import DATASETS, available
from cnnviz.train.loop import check
from cnnviz.train.steps import resolve_device
from cnnviz.viz.training import curves_figure
from ui import figures, jobs, results, teach
from ui import training as ut
from ui.common import arch_label, fmt_bytes, lang, show_error, tr
from ui.sched import is_teacher, join_gate, joined_note, member, page_scheduler, scheduler, student
from ui.schemas import MAX_BUDGET_S, MAX_SUBSET, UI_MAX_BATCH, UI_MAX_SIDE, UI_MIN_SIDE, WIDTH_DIVS
from ui.widgets import keep_choices, label_of

K = ut.K
PLOT_CONFIG = {"displaylogo": False}
# Streamlit's bundled Material icons, not emoji: a machine without an emoji font draws those as boxes
STATUS_ICON = {Status.QUEUED: ":material/hourglass_top:", Status.RUNNING: ":material/play_circle:",
               Status.COMPLETED: ":material/check_circle:", Status.STOPPED: ":material/stop_circle:",
               Status.DIVERGED: ":material/trending_up:", Status.FAILED: ":material/error:",
               Status.INTERRUPTED: ":material/warning:"}


def start_run(cfg, teacher: bool = False) -> None:
    """Submit (or attach to the identical run) and show it: its id goes into the URL."""
    try:
        ticket = scheduler().submit("train", cfg.to_dict(), member(), teacher=teacher)
    except CnnvizError as err:  # the student's share is used up, a broken store...
        st.session_state["tr._error"] = err
        return
    st.query_params["run"] = ticket.run_id
    if ticket.attached:
        st.session_state["tr._note"] = tr("sched.attached")


def restart_run(rid: str) -> None:
    """The owner's (or the teacher's) Restart of a run a dead pool cut off: the new run goes into the URL."""
    try:
        ticket = scheduler().restart(rid, student(), teacher=is_teacher())
    except CnnvizError as err:  # the owner's share is used up, another tab restarted or deleted it...
        st.session_state["tr._restart_error"] = err
        return
    st.query_params["run"] = ticket.run_id
    st.session_state["tr._note"] = tr("sched.restarted")
    st.session_state["tr._restarted"] = True  # the panel's fragment reruns the whole page


def stop_run(rid: str) -> None:
    """This student's Stop: the run stops, or (others still watch it) they leave it."""
    try:
        if scheduler().stop(rid, student()) == LEFT:
            st.session_state["tr._note"] = tr("sched.left", n=len(scheduler().watchers(rid)))
    except CnnvizError as err:
        st.session_state["tr._error"] = err


# --- the form --------------------------------------------------------------------------------
def form() -> None:
    ut.init_form()
    c = st.columns([2, 1, 1])
    c[0].selectbox(tr("train.f.arch"), list_models(), key=K + "arch", format_func=arch_label,
                   on_change=ut.apply_recipe)
    c[1].button(tr("train.f.recipe_book"), on_click=ut.apply_recipe, kwargs={"kind": "book"},
                help=tr("train.f.recipe_book.help"), width="stretch")
    c[2].button(tr("train.f.recipe_class"), on_click=ut.apply_recipe, kwargs={"kind": "class"},
                help=tr("train.f.recipe_class.help"), width="stretch")
    arch = st.session_state[K + "arch"]
    has_res = ut.family(arch) == "resnet"
    c = st.columns(5)
    c[0].toggle(tr("train.f.bn"), key=K + "bn")
    c[1].toggle(tr("train.f.residual"), key=K + "res", disabled=not has_res,
                help=None if has_res else tr("train.f.residual.na"))
    c[2].select_slider(tr("train.f.width_div"), options=WIDTH_DIVS, key=K + "wdiv")
    c[3].slider(tr("train.f.dropout"), 0.0, 0.9, step=0.05, key=K + "drop")
    c[4].number_input(tr("train.f.side"), UI_MIN_SIDE, UI_MAX_SIDE, step=1, key=K + "side")
    c = st.columns(5)
    c[0].selectbox(tr("train.f.dataset"), DATASETS, key=K + "dataset", format_func=lambda d: tr(f"train.data.{d}"))
    c[1].number_input(tr("train.f.subset"), 0, MAX_SUBSET, step=500, key=K + "subset", help=tr("train.f.subset.help"))
    if st.session_state.get(K + "device") not in ut.devices():  # a link's "cuda" on a machine without one
        st.session_state[K + "device"] = "auto"
    c[2].selectbox(tr("train.f.device"), ut.devices(), key=K + "device")
    c[3].number_input(tr("train.f.seed"), 0, 2**31 - 1, step=1, key=K + "seed")
    c[4].number_input(tr("train.f.budget"), 0, MAX_BUDGET_S, step=10, key=K + "budget", help=tr("train.f.budget.help"))
    c = st.columns(6)
    c[0].selectbox(tr("train.f.optimizer"), OPTIMIZERS, key=K + "opt", format_func=lambda o: tr(f"train.opt.{o}"))
    c[1].number_input(tr("train.f.lr"), 1e-6, 100.0, format="%g", key=K + "lr")
    c[2].number_input(tr("train.f.momentum"), 0.0, 0.999, step=0.1, format="%g", key=K + "mom")
    c[3].number_input(tr("train.f.weight_decay"), 0.0, 0.1, step=1e-4, format="%g", key=K + "decay")
    c[4].number_input(tr("train.f.batch"), 1, UI_MAX_BATCH, step=32, key=K + "bs")
    c[5].number_input(tr("train.f.epochs"), 1, MAX_EPOCHS, step=1, key=K + "epochs")
    ds = st.session_state[K + "dataset"]
    if ds != "synthetic" and not available(ds):
        st.caption(tr("train.f.dataset_missing", dataset=tr(f"train.data.{ds}")))
    ut.sync_form()


def launch() -> None:
    """Estimates, the class's limits, and the Start button (disabled, with the reason, when the
    run would not be admitted or its time is not known yet)."""
    try:
        cfg = ut.form_config()
        check(cfg)  # geometry, device, precision
        device = resolve_device(cfg.device)
    except CnnvizError as err:
        show_error(err)
        return
    sch = scheduler()
    teacher = is_teacher()
    known = sch.train_estimate(cfg.to_dict(), cfg)
    est = ut.estimates(cfg, device, known.seconds if known is not None else None)
    mem = est["mem"]
    limit = admission.time_limit(sch.store, teacher)
    cap = admission.jobs_memory()
    c = st.columns([1, 1, 1, 1.2])
    free = fmt_bytes(mem.free_bytes) if mem.free_bytes is not None else "?"
    c[0].metric(tr("train.est.memory"), fmt_bytes(mem.need_bytes), help=tr("train.est.memory.help", free=free,
                                                                            device=mem.device))
    if known is not None and known.source == "runs":  # learned from this server's finished runs
        c[1].metric(tr("train.est.time"), _duration(known.seconds), help=tr("train.est.learned"))
    elif known is not None:
        c[1].metric(tr("train.est.time"), _duration(known.seconds),
                    help=tr("cal.from", arch=arch_label(cfg.arch), rate=human(known.rate or 0)))
    elif sch.calibrating():
        c[1].metric(tr("train.est.time"), tr("cal.estimating"), help=tr("cal.estimating.help"))
    else:
        c[1].metric(tr("train.est.time"), "—", help=tr("cal.no_pool"))
    c[2].metric(tr("train.est.images"), f"{est['n_train']:,}", help=tr("train.est.images.help", test=est["n_test"]))
    st.caption(tr("adm.limits", limit=_duration(limit), memory=fmt_bytes(cap) if cap is not None else "?"))
    refusal = sch.refusal("train", cfg.to_dict(), teacher)  # too long for the class, too big for the machine
    if refusal is not None:
        show_error(refusal)
    if not mem.fits:
        st.error(tr("train.err.memory", need=fmt_bytes(mem.need_bytes), free=free, device=mem.device),
                 icon=":material/block:")
    joined_note()
    joined = join_gate("tr")  # a visitor of a class with a join code: the form, and Start disabled
    waiting = known is None
    why = tr("ident.start_disabled") if not joined else tr("adm.start_waits") if waiting else None
    with c[3]:
        st.button(tr("train.start"), type="primary", disabled=not mem.fits or not joined or waiting or bool(refusal),
                  on_click=start_run, args=(cfg, teacher), width="stretch", icon=":material/play_arrow:", help=why)
    err = st.session_state.pop("tr._error", None)
    if err is not None:
        show_error(err)


_duration = duration  # one formatter: cnnviz.numbers.duration


def _took(r) -> float | None:
    """A finished run's wall time, start to end (None: it has not both)."""
    return r.ended - r.started if r.ended and r.started else None


# --- the current run ---------------------------------------------------------------------------
def forget_button() -> None:
    """Drop the link's run from the URL (after a message that it cannot be shown)."""
    if st.button(tr("train.run.forget")):
        del st.query_params["run"]
        st.rerun()


def current_run(rid: str) -> None:
    sch = scheduler()
    try:
        info = sch.get(rid)
    except RunError as err:  # no such run (deleted, or a link to another server's)
        show_error(err)
        forget_button()
        return
    if info.kind != "train":  # a lab job's id: its own page shows it; no curves nor results here
        st.error(ut.lab_job_error(info), icon=":material/block:")
        forget_button()
        return

    def running() -> bool:
        try:
            return sch.get(rid).live
        except RunError:  # deleted meanwhile: the panel says so
            return False

    def panel() -> None:
        try:
            info = sch.get(rid)
        except RunError as err:
            show_error(err)
            return
        mine = sch.can_act(rid, student())
        events = sch.events(rid)
        st.subheader(f"{STATUS_ICON.get(info.status, '')} {run_title(info, lang())}")
        watchers = len(sch.watchers(rid))
        notes = [tr("sched.shared", n=watchers)] if watchers > 1 else []
        if not mine:
            notes.append(tr("sched.not_yours"))
        if notes:
            st.caption(" · ".join(notes))
        if info.status == Status.QUEUED:
            place = sch.place(rid)
            total = len(sch.queue())
            c = st.columns([4, 1], vertical_alignment="center")
            c[0].info(tr("sched.place", place=max(place.position, 1), total=max(total, 1),
                         start=_duration(place.start_s or 0), end=_duration(place.end_s or 0)),
                      icon=":material/hourglass_top:")
            if mine:
                c[1].button(tr("sched.cancel"), on_click=stop_run, args=(rid,), icon=":material/cancel:",
                            key="tr.cancel", width="stretch")
            if not sch.pool_alive():
                st.warning(tr("sched.pool_down"), icon=":material/warning:")
            short = admission.waits_for_memory(sch.store, info.mem_bytes)
            if short is not None and place.position == 1:
                st.info(tr("adm.wait_memory", need=fmt_bytes(info.mem_bytes or 0), held=fmt_bytes(short[0]),
                           cap=fmt_bytes(short[1])), icon=":material/memory:")
            return
        prog = TrainProgress.of(info)
        eta = _duration(prog.eta_s) if prog.eta_s is not None else "—"
        bar_text = tr("train.run.progress", status=tr(f"train.status.{info.status}"), step=prog.step,
                      total=prog.total_steps, epoch=prog.epoch, eta=eta)
        st.progress(prog.fraction, text=bar_text)
        if info.stop and info.status == Status.RUNNING:  # asked to stop: its worker notices at its next step
            st.info(tr("teach.stopping.note", run=run_title(info, lang())), icon=":material/hourglass_top:")
        c = st.columns([1, 1, 1, 1, 1])
        steps = prog.epoch_loss is not None  # a step has been measured: curves to draw
        c[0].metric(tr("train.run.rate"), human(prog.examples_per_s) if prog.examples_per_s else "—")
        c[1].metric(tr("train.run.loss"), f"{prog.epoch_loss:.4f}" if prog.epoch_loss is not None else "—")
        c[2].metric(tr("train.run.train_acc"), f"{prog.train_acc:.1%}" if prog.train_acc is not None else "—")
        c[3].metric(tr("train.run.test_acc"), f"{prog.test_acc:.1%}" if prog.test_acc is not None else "—")
        if info.live and mine:
            c[4].button(tr("train.stop"), on_click=stop_run, args=(rid,), icon=":material/stop:", key="tr.stop")
        notice = info.summary.get("notice")
        if notice:
            st.warning(notice.get(lang()) or notice["en"], icon=":material/info:")
        if not info.live and info.message:
            show = {Status.COMPLETED: st.success, Status.STOPPED: st.info,
                    Status.INTERRUPTED: st.warning}.get(info.status, st.error)
            show(ut.run_message(info))
        if sch.restartable(info) and (mine or is_teacher()):  # cut off by a dead pool or worker: one click
            st.button(tr("sched.restart"), help=tr("sched.restart.help"), icon=":material/restart_alt:",
                      key="tr.restart", on_click=restart_run, args=(rid,))
        if st.session_state.pop("tr._restarted", False):
            st.rerun(scope="app")  # from this fragment: the whole page follows the new run
        err = st.session_state.pop("tr._restart_error", None)
        if err is not None:
            show_error(err)
        if steps:
            curves, bars, heat = figures.run_figures(rid, len(events), run_title(info, lang()), lang())
            st.plotly_chart(curves, config=PLOT_CONFIG, key="tr.curves")
            t1, t2 = st.tabs([tr("train.grad.latest"), tr("train.grad.heatmap")])
            with t1:
                if bars is not None:
                    st.plotly_chart(bars, config=PLOT_CONFIG, key="tr.gradbar")
            with t2:
                if heat is not None:
                    st.plotly_chart(heat, config=PLOT_CONFIG, key="tr.gradheat")
            st.caption(tr("train.grad.caption"))
        elif info.live:
            st.caption(tr("train.run.waiting"))

    # a live run that ends redraws the whole page once (history, buttons, its results)
    jobs.live("tr._live", rid, running, panel)
    try:
        finished = sch.get(rid).status in FINISHED
    except RunError:  # deleted meanwhile: the panel said so
        finished = False
    if finished:  # outside the polling fragment: the view's widgets rerun the page, not a timer
        st.divider()
        results.view(rid, "tr.results")


# --- history -------------------------------------------------------------------------------------
def history() -> None:
    """This student's runs (the whole class's are on the class board)."""
    sch = scheduler()
    me = student()
    runs = sch.runs(student=me)
    if not runs:
        st.caption(tr("train.hist.empty"))
        return
    rows = [{
        tr("train.hist.run"): run_title(r, lang()),
        tr("train.hist.status"): tr(f"train.status.{r.status}"),  # a table cell draws no icon: the word
        tr("train.hist.test_acc"): r.summary.get("test_acc"), tr("train.hist.epoch"): r.summary.get("epoch"),
        # the estimate it was queued with against its wall time: how far this server's estimates are off
        tr("train.hist.est"): _duration(r.est_s), tr("train.hist.took"): _duration(_took(r)),
        tr("train.hist.created"): dt.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M"), "id": r.id,
    } for r in runs]
    st.dataframe(rows, hide_index=True, column_config={
        tr("train.hist.test_acc"): st.column_config.NumberColumn(format="percent"),
        tr("train.hist.epoch"): st.column_config.NumberColumn(format="%.2f"),
    })
    labels = {r.id: f"{run_title(r, lang())} ({r.id[:6]})" for r in runs}
    keep_choices("tr.overlay", labels, multi=True)
    chosen = st.multiselect(tr("train.hist.overlay"), list(labels), format_func=label_of(labels), key="tr.overlay",
                            placeholder=tr("train.hist.overlay.placeholder"))
    if chosen:
        st.plotly_chart(curves_figure([(labels[r], sch.events(r)) for r in chosen], lang()), config=PLOT_CONFIG,
                        key="tr.overlay_chart")
    c = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    keep_choices("tr.pick", labels)
    pick = c[0].selectbox(tr("train.hist.pick"), list(labels), format_func=label_of(labels), key="tr.pick")
    if c[1].button(tr("train.hist.open"), width="stretch"):
        st.query_params["run"] = pick
        st.rerun()
    c[2].download_button(tr("train.hist.csv"), data=sch.csv(pick).encode(),
                         file_name=file_name(f"cnnviz-run-{pick}.csv"), mime="text/csv", width="stretch",
                         on_click="ignore")
    if c[3].button(tr("train.hist.delete"), width="stretch", key="tr.delete"):
        try:
            sch.delete(pick, me)  # "left" when others still watch it: it only leaves this list
        except CnnvizError as err:
            show_error(err)
            return
        if st.query_params.get("run") == pick:
            del st.query_params["run"]
        st.rerun()


# --- page ------------------------------------------------------------------------------------------
st.title(tr("train.title"))
st.caption(tr("train.intro"))
page_scheduler()  # or the store's error, and the page stops
rid = ut.url_run_id()  # None, or letters and digits (a malformed one is said once, quoted as code)
present = teach.presenting()  # ?present=1: the projector's view of one run (sidebar folded, no form nor history)
if present:
    st.link_button(tr("teach.present.back"), teach.run_link(rid) if rid else "training",
                   icon=":material/close_fullscreen:")
    if not rid:
        st.info(tr("teach.present.no_run"), icon=":material/co_present:")
    else:
        current_run(rid)
    st.stop()
with st.expander(tr("train.new"), expanded=not rid, icon=":material/tune:"):
    form()
    launch()
applied = st.session_state.pop(ut.APPLIED, None)  # what a preset button just set (outside any container)
if applied:
    st.toast(applied, icon=":material/tune:")
note = st.session_state.pop("tr._note", None)  # attached to an identical run, left a shared one
if note:
    st.toast(note, icon=":material/group:")
    st.info(note, icon=":material/group:")
if rid:
    current_run(rid)
st.divider()
st.subheader(tr("train.hist.title"))
history()
