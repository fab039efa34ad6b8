"""Teacher's page: the class at a glance and a hand on every run, behind the teacher key.

Until the key is typed (``ui.sched.check_teacher_key``: constant-time compare through the
store's ``KeyGuard``, which makes each wrong key from a tab or an address wait longer; the page
says how long), or the browser brings the signed teacher cookie an earlier unlock set (8 hours),
the page draws the key box and stops: none of the class's data, and no action button, exists
in a locked session, so it cannot be clicked (every action callback checks again anyway).
Unlocked, it also lists the recent wrong keys (when, from where; never what was typed).

Unlocked, it shows, live (``ui.board.poll``): the pool, the connected students (those with a
page open: each open page's heartbeat, ``ui.teach.heartbeat``, within ``ONLINE_S``), the queue in
claim order with its ETAs, the running jobs, every run and lab job, a leaderboard and an
overlay, each training run linked to its live view and its presenter view (``ui.teach``), the
class's address as a QR code, and any finished run's Results view (``ui.results``); and it acts
on the run picked (none is preselected): stop it (a running one says "stopping at the next step"
until its worker notices), restart it, delete it (after a confirmation), show it on the
projector; clear the class (after a confirmation), and pre-warm the class-period recipes
(``cnnviz.train.recipes.CLASS``) so that the students' identical first runs attach to jobs already done or under way.
It sets the class's limit on a student's run (``cnnviz.runs.admission``). It also holds the
class's join code (generate, change, remove; ``$CNNVIZ_JOIN_CODE`` wins) and
its identities, any of which it removes (``cnnviz.runs.identity``; ``Scheduler.remove_identity``).
"""

from __future__ import annotations

import time

import streamlit as st

from cnnviz import classlink, settings
from cnnviz.errors import CnnvizError
from cnnviz.jobs import train as train_job
from cnnviz.numbers import duration
from cnnviz.runs import admission
from cnnviz.runs.guard import COOKIE_S
from cnnviz.runs.identity import new_join_code
from cnnviz.runs.store import TEACHER
from cnnviz.status import Status
from ui import board as ub
from ui import results, teach
from ui.common import arch_label, fmt_count, lang, show_error, tr
from ui.sched import (
    check_teacher_key,
    is_teacher,
    keep_teacher_cookie,
    key_guard,
    key_wait_s,
    lock_teacher,
    page_scheduler,
    scheduler,
    student,
    wait_text,
)
from ui.widgets import keep_choices, label_of

SAID = "teacher._said"  # session state: (kind, text or error) list of what the last action did
CONFIRM = "teacher._confirm_clear"
CONFIRM_DELETE = "teacher._confirm_delete"  # session state: the run id whose Delete waits for "yes"
LIMIT = "teacher.limit"
PICK = "teacher.pick"
# "connected": an open page's heartbeat within the window (ui.teach.heartbeat; cnnviz.classlink)
ONLINE_S, BEAT_S = classlink.ONLINE_S, classlink.BEAT_S


def say(kind: str, what) -> None:
    st.session_state.setdefault(SAID, []).append((kind, what))


def show_said() -> None:
    for kind, what in st.session_state.pop(SAID, []):
        if kind == "error":
            show_error(what)
        elif kind == "warning":
            st.warning(what, icon=":material/warning:")
        elif kind == "info":
            st.info(what, icon=":material/hourglass_top:")
            st.toast(what, icon=":material/hourglass_top:")
        else:
            st.success(what, icon=":material/check_circle:")
            st.toast(what, icon=":material/check_circle:")


# --- the key ---------------------------------------------------------------------------------
def unlock_box() -> None:
    """The key box; a wrong key says how long to wait before the next try (``ui.sched.check_teacher_key``)."""
    st.caption(tr("teacher.locked"))
    with st.form("teacher.unlock_form"):
        given = st.text_input(tr("teacher.key"), type="password", help=tr("teacher.key.help"), key="teacher.key_in")
        go = st.form_submit_button(tr("teacher.unlock"), type="primary", icon=":material/lock_open:")
    if go:
        got = check_teacher_key(given or "")
        if got.ok:
            say("success", tr("guard.key.unlocked", hours=fmt_count(COOKIE_S / 3600)))
            st.rerun()
        if not got.checked:  # too early: the key was not even compared
            st.warning(tr("guard.key.wait", s=fmt_count(wait_text(got.wait_s))), icon=":material/hourglass:")
        elif got.wait_s > 0:
            st.error(tr("guard.key.wrong_wait", n=fmt_count(got.fails), s=fmt_count(wait_text(got.wait_s))),
                     icon=":material/block:")
        else:
            st.error(tr("teacher.bad_key"), icon=":material/block:")
    elif (wait := key_wait_s()) > 0:  # a reload while waiting: still says so
        st.warning(tr("guard.key.wait", s=fmt_count(wait_text(wait))), icon=":material/hourglass:")


def lock() -> None:
    lock_teacher()  # and the browser's teacher cookie is deleted
    st.session_state.pop(CONFIRM, None)
    st.session_state.pop(CONFIRM_DELETE, None)


def failures_view() -> None:
    """The wrong keys of the last day (``cnnviz.runs.guard``): when, from where, how long; never what."""
    fails = key_guard().failures()
    with st.expander(tr("guard.fail.title", n=len(fails)), icon=":material/key_off:"):
        st.caption(tr("guard.fail.help"))
        if not fails:
            st.caption(tr("guard.fail.none"))
            return
        st.dataframe([{tr("guard.fail.col.at"): ub.fmt_time(f.at), tr("guard.fail.col.addr"): f.addr
                       or tr("guard.addr.local"), tr("guard.fail.col.session"): f.session[:4],
                       tr("guard.fail.col.length"): f.length} for f in fails], hide_index=True,
                     key="teacher.key_failures")


# --- actions (each re-checks the key: a callback is only reachable from an unlocked page) ------
def act(action: str) -> None:
    """Stop, restart or delete the picked run. Delete only from its confirmation (``ask_delete``),
    and only the run that confirmation named. A stop of a running job takes effect when its
    worker notices the flag, at its next step: until then it says so, not "stopped"."""
    if action != "delete":  # another action: a pending delete question is dropped
        st.session_state.pop(CONFIRM_DELETE, None)
    if not is_teacher():
        return
    rid = st.session_state.get(PICK)
    if rid is None:  # nothing picked (the picker starts empty)
        return
    if action == "delete" and st.session_state.pop(CONFIRM_DELETE, None) != rid:
        return  # the confirmation was for another run (the picker changed): ask again
    sch = scheduler()
    try:
        info = sch.get(rid)
        name = ub.title(info)
        if action == "stop":
            sch.stop(rid, student(), teacher=True)
            after = sch.store.get(rid)
            if after is not None and after.stop and after.status == Status.RUNNING:
                say("info", tr("teach.did.stopping", run=name))
                return
        elif action == "restart":  # on the owner's behalf: their limit on live runs applies
            sch.restart(rid, student(), teacher=True)
        else:
            sch.delete(rid, student(), teacher=True)
    except CnnvizError as err:  # gone meanwhile (another tab, a worker): say so
        say("error", err)
        return
    say("success", tr(f"teacher.did.{action}", run=name))


def ask_delete() -> None:
    """Delete's first click: remember which run it is for; the page asks (``actions``)."""
    if is_teacher() and st.session_state.get(PICK):
        st.session_state[CONFIRM_DELETE] = st.session_state[PICK]


def cancel_delete() -> None:
    st.session_state.pop(CONFIRM_DELETE, None)


def ask_clear() -> None:
    if is_teacher():
        st.session_state[CONFIRM] = True


def cancel_clear() -> None:
    st.session_state.pop(CONFIRM, None)


def clear() -> None:
    st.session_state.pop(CONFIRM, None)
    if not is_teacher():
        return
    try:
        n = scheduler().clear()
    except CnnvizError as err:
        say("error", err)
        return
    say("success", tr("teacher.cleared", n=n))


def prewarm() -> None:
    """Queue every family's class-period recipe as the teacher (``cnnviz.jobs.train.prewarm``)."""
    if not is_teacher():
        return
    got = train_job.prewarm(scheduler(), TEACHER)
    for arch, err in got.failed:  # a dataset missing, say: the others still went
        say("warning", tr("teacher.prewarm.failed", arch=arch_label(arch), error=err.render(lang())))
    say("success", tr("teacher.prewarmed", new=got.new, done=got.done))


def save_limit() -> None:
    """The class's limit on a student's run (``cnnviz.runs.admission``), for every replica."""
    if is_teacher():
        store = scheduler().store
        admission.set_student_limit(store, int(st.session_state[LIMIT]))
        say("success", tr("teacher.limit.saved", limit=duration(admission.student_limit(store))))


# --- the class's identities and its join code (cnnviz.runs.identity) -------------------------------
IDENT_PICK, IDENT_RUNS = "teacher.ident_pick", "teacher.ident_runs"


def new_code() -> None:
    if is_teacher():
        code = new_join_code()
        scheduler().identities.set_join_code(code)
        say("success", tr("ident.t.code_set", code=code))


def clear_code() -> None:
    if is_teacher():
        scheduler().identities.set_join_code("")
        say("success", tr("ident.t.code_cleared"))


def remove_identity(labels: dict[str, str]) -> None:
    if not is_teacher():
        return
    sid = st.session_state.get(IDENT_PICK)
    try:
        got = scheduler().remove_identity(sid or "", delete_runs=st.session_state.get(IDENT_RUNS) == "delete")
    except CnnvizError as err:
        say("error", err)
        return
    say("success", tr("ident.t.removed", who=labels.get(sid or "", ""), stopped=got.stopped, deleted=got.deleted,
                      kept=got.kept, left=got.left))


def class_view(sch, me: str) -> None:
    """The join code and every identity, with Remove (its finished runs kept read-only or deleted)."""
    ids = sch.identities
    st.subheader(tr("teach.address"))
    teach.class_address_card("teacher.address")
    st.subheader(tr("ident.t.code"), help=tr("ident.t.code.help"))
    code = ids.join_code()
    if code:
        st.code(code, language=None)  # big enough to read off the projector
    else:
        st.caption(tr("ident.t.code_none"))
    if ids.code_from_env():
        st.caption(tr("ident.t.code_env"))
    else:
        c = st.columns(2)
        c[0].button(tr("ident.t.code_new"), on_click=new_code, icon=":material/key:", key="teacher.code_new",
                    width="stretch")
        c[1].button(tr("ident.t.code_off"), on_click=clear_code, disabled=not code, icon=":material/lock_open:",
                    key="teacher.code_off", width="stretch")
    members = ids.members()
    st.subheader(tr("ident.t.members", n=len(members)), help=tr("ident.t.members.help"))
    if not members:
        st.caption(tr("ident.t.none"))
        return
    names = sch.store.names()
    labels = {m.student: f"{ub.who(sch, m.student, me, names)} ({m.student[:4]})" for m in members}
    st.dataframe([{
        # column names of its own: the students' table above has name, code, last seen
        tr("ident.t.col.who"): labels[m.student], tr("ident.t.col.joined"): ub.fmt_time(m.created),
        tr("ident.t.col.seen"): ub.fmt_time(m.last_seen), tr("ident.t.col.address"): m.address or "—",
        tr("ident.t.col.state"): tr("ident.t.state.removed" if m.removed else "ident.t.state.member"),
        tr("ident.t.col.jobs"): len(sch.store.list(m.student, kinds=None)),
    } for m in members], hide_index=True, key="teacher.ident_table")
    active = [m.student for m in members if not m.removed and m.student != me]
    if not active:
        return
    keep_choices(IDENT_PICK, {sid: labels[sid] for sid in active}, multi=False)
    c = st.columns([3, 2, 1], vertical_alignment="bottom")
    c[0].selectbox(tr("ident.t.pick"), active, format_func=label_of(labels), key=IDENT_PICK)
    c[1].radio(tr("ident.t.runs"), ["keep", "delete"], format_func=lambda v: tr(f"ident.t.runs.{v}"),
               key=IDENT_RUNS, horizontal=True)
    c[2].button(tr("ident.t.remove"), on_click=remove_identity, args=(labels,), icon=":material/person_remove:",
                key="teacher.ident_remove", width="stretch")


# --- the views -------------------------------------------------------------------------------------
def students_view(sch, me: str, watched: dict[str, int]) -> None:
    # the teacher's own browser is a "student" to the store too (its cookie): not one of the class
    rows = [r for r in sch.store.students(since=time.time() - ONLINE_S) if r[0] != me]
    st.subheader(tr("teacher.students", n=len(rows)),
                 help=tr("teach.students.help", beat=fmt_count(BEAT_S), window=fmt_count(ONLINE_S)))
    if not rows:
        st.caption(tr("teacher.no_students"))
        return
    st.dataframe([{tr("teacher.col.name"): name or "—", tr("teacher.col.code"): sid[:4],
                   tr("teacher.last_seen"): ub.fmt_time(seen, date=False), tr("teacher.col.runs"): watched.get(sid, 0)}
                  for sid, name, seen in rows], hide_index=True, key="teacher.students_table")


def queue_view(sch, me: str, names: dict[str, str]) -> None:
    queue, running = sch.queue(), sch.running()
    places = sch.places() if queue or running else {}
    st.subheader(tr("teacher.queue", n=len(queue)))
    if queue:
        st.dataframe([{
            tr("teacher.col.place"): i + 1, tr("train.hist.run"): ub.title(q),
            tr("teacher.col.kind"): ub.kind_text(q.kind),
            tr("board.student"): ub.who(sch, q.owner, me, names),
            tr("teacher.col.starts"): ub.fmt_duration(places[q.id].start_s) if q.id in places else "—",
            tr("teacher.col.ends"): ub.fmt_duration(places[q.id].end_s) if q.id in places else "—",
            **(teach.link_cells(q.id, projector=True) if q.kind == "train" else {}), "id": q.id,
        } for i, q in enumerate(queue)], hide_index=True, key="teacher.queue_table", column_config=teach.link_columns())
    else:
        st.caption(tr("teacher.queue_empty"))
    st.subheader(tr("teacher.running", n=len(running)))
    if running:
        ub.runs_table([{
            tr("train.hist.run"): ub.title(r), tr("teacher.col.kind"): ub.kind_text(r.kind),
            tr("board.student"): ub.who(sch, r.owner, me, names), tr("teacher.col.worker"): r.worker,
            tr("teacher.col.progress"): r.progress,
            tr("teacher.col.ends"): ub.fmt_duration(places[r.id].end_s) if r.id in places else "—",
            tr("board.watchers"): len(sch.watchers(r.id)), tr("train.hist.status"): ub.run_status_text(r),
            **(teach.link_cells(r.id, projector=True) if r.kind == "train" else {}), "id": r.id,
        } for r in running], key="teacher.running_table")
    else:
        st.caption(tr("teacher.running_empty"))


def runs_view(sch, me: str, train, labs, watchers) -> None:
    st.subheader(tr("teacher.runs"))
    if train:
        ub.runs_table(ub.run_rows(sch, train, me, mine_column=False, watchers=watchers, projector=True),
                      key="teacher.runs_table")
    else:
        st.caption(tr("teacher.runs_empty"))
    if labs:
        st.subheader(tr("teacher.labs", n=len(labs)))
        names = sch.store.names()
        st.dataframe([{
            tr("teacher.col.kind"): ub.kind_text(r.kind), tr("train.hist.run"): ub.title(r),
            tr("board.student"): ub.who(sch, r.owner, me, names), tr("train.hist.status"): ub.status_text(r.status),
            tr("board.watchers"): len(watchers.get(r.id, ())), tr("train.hist.created"): ub.fmt_time(r.created),
            "id": r.id,
        } for r in labs], hide_index=True, key="teacher.labs_table")
    st.subheader(tr("teacher.leaderboard"))
    done = sorted((r for r in train if r.status == Status.COMPLETED and r.summary.get("test_acc") is not None),
                  key=lambda r: -r.summary["test_acc"])
    if not done:
        st.caption(tr("teacher.leaderboard_empty"))
    else:
        names = sch.store.names()
        ub.runs_table([{
            tr("teacher.col.rank"): i + 1, tr("train.hist.test_acc"): r.summary["test_acc"],
            tr("train.hist.run"): ub.title(r), tr("board.student"): ub.who(sch, r.owner, me, names),
            tr("train.hist.epoch"): r.summary.get("epoch"), tr("board.watchers"): len(watchers.get(r.id, ())),
            **teach.link_cells(r.id, projector=True), "id": r.id,
        } for i, r in enumerate(done)], key="teacher.leaderboard_table")
    ub.overlay(sch, train, me, key="teacher.overlay")


def dashboard(sch, me: str) -> None:
    """Everything that moves: drawn again every couple of seconds while a job is live."""
    ub.pool_status(sch)
    every = sch.runs(None, kinds=None)
    watchers = {r.id: sch.watchers(r.id) for r in every}
    watched: dict[str, int] = {}
    for ws in watchers.values():
        for s in ws:
            watched[s] = watched.get(s, 0) + 1
    names = sch.store.names()
    students_view(sch, me, watched)
    queue_view(sch, me, names)
    runs_view(sch, me, [r for r in every if r.kind == "train"], [r for r in every if r.kind != "train"], watchers)


def actions(sch, me: str) -> None:
    """Stop or delete any job; clear the class; pre-warm. Outside the fragment: each click
    reruns the page, so the dashboard above shows its effect at once."""
    st.subheader(tr("teacher.actions"), help=tr("teacher.actions.help"))
    every = sch.runs(None, kinds=None)
    if every:
        labels = ub.run_labels(sch, every, me)
        for r in every:
            if r.kind != "train":
                labels[r.id] = f"{ub.kind_text(r.kind)}: {labels[r.id]}"
        keep_choices(PICK, labels, multi=False)
        c = st.columns([4, 1, 1, 1, 1.4], vertical_alignment="bottom")
        # no run preselected: an action is always on a run the teacher chose
        pick = c[0].selectbox(tr("teacher.pick"), list(labels), format_func=label_of(labels), key=PICK, index=None,
                              placeholder=tr("teach.pick.placeholder"))
        picked = next((r for r in every if r.id == pick), None)
        stopping = picked is not None and picked.stop and picked.status == Status.RUNNING
        live = picked is not None and picked.live and not stopping
        c[1].button(tr("teacher.stop"), on_click=act, args=("stop",), disabled=not live, icon=":material/stop:",
                    key="teacher.stop_btn", width="stretch")
        c[2].button(tr("sched.restart"), on_click=act, args=("restart",), help=tr("teacher.restart.help"),
                    disabled=picked is None or not sch.restartable(picked), icon=":material/restart_alt:",
                    key="teacher.restart_btn", width="stretch")
        c[3].button(tr("teacher.delete"), on_click=ask_delete, disabled=picked is None, icon=":material/delete:",
                    key="teacher.delete_btn", width="stretch")
        if picked is not None and picked.kind == "train":
            c[4].link_button(tr("teach.projector_btn"), teach.run_link(picked.id, present=True),
                             help=tr("teach.projector_btn.help"), icon=":material/co_present:", width="stretch")
        else:
            c[4].button(tr("teach.projector_btn"), disabled=True, icon=":material/co_present:",
                        key="teacher.projector_off", width="stretch")
        if stopping:
            st.info(tr("teach.stopping.note", run=ub.title(picked)), icon=":material/hourglass_top:")
        if picked is not None and st.session_state.get(CONFIRM_DELETE) == picked.id:
            st.warning(tr("teach.delete.ask", run=ub.title(picked)), icon=":material/warning:")
            d = st.columns(2)
            d[0].button(tr("teach.delete.confirm"), on_click=act, args=("delete",), type="primary",
                        key="teacher.delete_yes", width="stretch")
            d[1].button(tr("sched.cancel"), on_click=cancel_delete, key="teacher.delete_no", width="stretch")
        elif st.session_state.get(CONFIRM_DELETE):  # asked for another run (or one gone): ask again
            st.session_state.pop(CONFIRM_DELETE, None)
    teacher_s = settings.run_time_limits()[1]
    now_s = admission.student_limit(sch.store)  # CNNVIZ_STUDENT_MAX_S may be past what the box sets: shown as is
    st.number_input(tr("teacher.limit"), admission.MIN_LIMIT_S, max(admission.MAX_LIMIT_S, now_s),
                    value=now_s, step=30, key=LIMIT, on_change=save_limit,
                    help=tr("teacher.limit.help", teacher=duration(teacher_s)))
    c = st.columns(2)
    c[0].button(tr("teacher.prewarm"), on_click=prewarm, help=tr("teacher.prewarm.help"),
                icon=":material/local_fire_department:", key="teacher.prewarm_btn", width="stretch")
    c[1].button(tr("teacher.clear"), on_click=ask_clear, disabled=not every, icon=":material/delete_sweep:",
                key="teacher.clear_btn", width="stretch")
    if st.session_state.get(CONFIRM) and every:
        st.warning(tr("teacher.clear.ask", n=len(every)), icon=":material/warning:")
        c = st.columns(2)
        c[0].button(tr("teacher.clear.confirm"), on_click=clear, type="primary", key="teacher.clear_yes",
                    width="stretch")
        c[1].button(tr("sched.cancel"), on_click=cancel_clear, key="teacher.clear_no", width="stretch")


# --- page --------------------------------------------------------------------------------------------
st.title(tr("teacher.title"))
if not is_teacher():
    keep_teacher_cookie()  # after Lock: deletes the browser's teacher cookie
    unlock_box()
    st.stop()
keep_teacher_cookie()  # after an unlock: the signed cookie that keeps this browser unlocked
sch, me = page_scheduler()  # or the store's error, and the page stops
st.button(tr("teacher.lock"), on_click=lock, icon=":material/lock:", key="teacher.lock_btn")
show_said()
actions(sch, me)
failures_view()
st.divider()
class_view(sch, me)
st.divider()
ub.poll("teacher._live", lambda: ub.any_live(sch), lambda: dashboard(sch, me))
st.divider()
pick = ub.results_picker(sch.runs(None), key="teacher.res_pick")
if pick:
    results.view(pick, "teacher.res")
