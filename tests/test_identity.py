"""Identities a class can trust (``cnnviz.runs.identity``, issue 19 item 3): the join code (the
scheduler refuses a visitor's job, the page disables Start and shows the join form, a wrong
code is refused, the environment's code wins), the rate limit of new identities per client
address, lab jobs' own live share, unique display names that are never the teacher's, and the
teacher's removal of one identity.

All fast: schedulers with no pool (jobs stay queued; a finished job is written as such) and
AppTest pages on a store with no pool.
"""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.jobs.gradflow import GradFlowConfig
from cnnviz.runs.identity import (
    MEMBER,
    REMOVED,
    VISITOR,
    WINDOW_S,
    BadJoinCode,
    NameRefused,
    NotMember,
    TooManyIdentities,
    name_key,
    rate_limited,
)
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.store import LiveLimit, RunStore
from cnnviz.status import Status

from training_helpers import tiny

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120
ADDR = "203.0.113.7"  # a student's address (TEST-NET-3)
KEY = "correct-horse-battery-staple"


@pytest.fixture
def sch(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNVIZ_JOIN_CODE", raising=False)
    monkeypatch.delenv("CNNVIZ_MAX_NEW_IDS", raising=False)
    monkeypatch.delenv("CNNVIZ_MAX_LAB_LIVE", raising=False)
    s = Scheduler(tmp_path / "runs.sqlite", pool="none")
    yield s
    s.close()


def lab(seed: int = 0, **kw) -> dict:
    return GradFlowConfig(steps=3, seed=seed, **kw).to_dict()


def finished(sch: Scheduler, student: str, rid: str) -> str:
    """A completed training run of ``student``'s, written as the pool would leave it."""
    sch.store.create(rid, arch="lenet", label="LeNet", config=tiny(max_steps=2).to_dict(), owner=student,
                     status=Status.COMPLETED)
    return rid


# --- the join code, in the scheduler -----------------------------------------------------------------
def test_without_a_join_code_every_browser_may_start(sch):
    assert sch.identities.join_code() == ""
    assert sch.submit("gradflow", lab(), "anyone").run_id  # today's behaviour: no code, no form


def test_with_a_join_code_the_scheduler_refuses_a_visitor_and_admits_the_right_code(sch):
    ids = sch.identities
    ids.set_join_code("K7PXQ2")
    with pytest.raises(NotMember) as err:
        sch.submit("gradflow", lab(), "s1")
    assert err.value.code == "ident.need_code" and "join code" in str(err.value)
    assert "加入码" in err.value.render("zh")
    assert ids.state("s1") == VISITOR
    for wrong in ("", "K7PXQ3", "K7PXQ", "nope"):
        with pytest.raises(BadJoinCode):
            ids.admit("s1", None, wrong)
    assert ids.state("s1") == VISITOR
    ids.admit("s1", None, " k7px q2 ")  # a phone's capital letters and stray spaces are forgiven
    assert ids.state("s1") == MEMBER
    assert sch.submit("gradflow", lab(), "s1").run_id
    # the teacher's pre-warm needs no code
    assert sch.submit("gradflow", lab(seed=1), "teacher").run_id


def test_the_environments_join_code_wins(sch, monkeypatch):
    ids = sch.identities
    ids.set_join_code("STORED")
    monkeypatch.setenv("CNNVIZ_JOIN_CODE", "FROMENV")
    assert ids.join_code() == "FROMENV" and ids.code_from_env()
    with pytest.raises(BadJoinCode):
        ids.admit("s1", None, "STORED")
    ids.admit("s1", None, "fromenv")
    assert ids.state("s1") == MEMBER
    monkeypatch.delenv("CNNVIZ_JOIN_CODE")
    assert ids.join_code() == "STORED" and not ids.code_from_env()
    ids.set_join_code("")
    assert ids.join_code() == ""


def test_every_replica_sees_the_teachers_code(sch):
    sch.identities.set_join_code("SHARED")
    other = Scheduler(sch.store.path, pool="none")
    try:
        assert other.identities.join_code() == "SHARED"
        with pytest.raises(NotMember):
            other.submit("gradflow", lab(), "s9")
    finally:
        other.close()


# --- the rate limit ------------------------------------------------------------------------------------
def test_new_identities_per_address_are_limited_for_a_window(sch):
    ids, now = sch.identities, 1_000_000.0
    for i in range(3):  # the default: a phone, a laptop and one spare
        ids.admit(f"fresh{i}", ADDR, now=now)
    with pytest.raises(TooManyIdentities) as err:
        ids.admit("fresh3", ADDR, now=now + 1)
    assert "10 minutes" in str(err.value) and "at most 3" in str(err.value)
    assert ids.state("fresh3") == VISITOR
    ids.admit("fresh0", ADDR, now=now + 2)  # a member already: nothing new, never refused
    ids.admit("elsewhere", "198.51.100.1", now=now + 2)  # another address has its own share
    ids.admit("fresh3", ADDR, now=now + WINDOW_S + 1)  # the window has passed
    assert ids.state("fresh3") == MEMBER


def test_an_unknown_address_is_exempt_and_a_proxied_loopback_one_is_not(sch):
    for i in range(10):  # a browser straight from the server's own machine, a test: no address known
        sch.identities.admit(f"none{i}", None)
        sch.identities.admit(f"empty{i}", "")
    assert not rate_limited(None) and not rate_limited("") and rate_limited(ADDR)
    # behind make classroom's HAProxy a browser on the server's machine is 127.0.0.1: counted
    for i in range(3):
        sch.identities.admit(f"local{i}", "127.0.0.1")
    with pytest.raises(TooManyIdentities):
        sch.identities.admit("local3", "127.0.0.1")


def test_wrong_codes_count_toward_the_limit_and_then_even_the_right_one_waits(sch, monkeypatch):
    monkeypatch.setenv("CNNVIZ_MAX_NEW_IDS", "2")
    ids, now = sch.identities, 2_000_000.0
    ids.set_join_code("RIGHT1")
    for guess in ("AAAAAA", "BBBBBB"):
        with pytest.raises(BadJoinCode):
            ids.admit("guesser", ADDR, guess, now=now)
    with pytest.raises(TooManyIdentities):
        ids.admit("guesser", ADDR, "RIGHT1", now=now + 1)
    ids.admit("guesser", ADDR, "RIGHT1", now=now + WINDOW_S + 1)
    assert ids.state("guesser") == MEMBER


def test_fresh_cookies_from_one_address_get_no_more_shares_than_the_limit(sch):
    """The tester's four fresh sessions: each admitted (as the app does at a first Start) then
    submitting its own run; only the limit's worth of them are queued."""
    queued, refused = [], []
    for i in range(4):
        sid = f"session{i}"
        try:
            sch.identities.admit(sid, ADDR)
        except TooManyIdentities:
            refused.append(sid)
            continue
        queued.append(sch.submit("train", tiny(max_steps=2, seed=i).to_dict(), sid).run_id)
    assert len(queued) == 3 and refused == ["session3"]
    assert len({r.owner for r in sch.queue()}) == 3


# --- lab jobs' live share ------------------------------------------------------------------------------
def test_lab_jobs_count_against_their_own_live_share(sch):
    sch.submit("gradflow", lab(), "s1")
    with pytest.raises(LiveLimit) as err:
        sch.submit("bnpair", {"steps": 3}, "s1")
    assert err.value.code == "ident.lab_limit" and "lab job" in str(err.value)
    # a lab page's new settings replace its own job: no refusal
    t = sch.submit("gradflow", lab(seed=5), "s1", replace=True)
    assert len(t.replaced) == 1
    # training runs have their own share, untouched by the lab job
    sch.submit("train", tiny(max_steps=2).to_dict(), "s1")
    with pytest.raises(LiveLimit) as err:
        sch.submit("train", tiny(max_steps=2, seed=1).to_dict(), "s1")
    assert err.value.code == "train.runs.limit"
    # attaching to someone else's identical live lab job costs a share too
    sch.submit("bnpair", {"steps": 3}, "s2")
    with pytest.raises(LiveLimit):
        sch.submit("bnpair", {"steps": 3}, "s1")


def test_the_lab_share_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_MAX_LAB_LIVE", "2")
    s = Scheduler(tmp_path / "r.sqlite", pool="none")
    try:
        assert s.max_lab_live == 2
        s.submit("gradflow", lab(), "s1")
        s.submit("bnpair", {"steps": 3}, "s1")
        with pytest.raises(LiveLimit):
            s.submit("featuremaps", {"arch": "lenet", "dataset": "synthetic"}, "s1")
    finally:
        s.close()


# --- names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Teacher", "ＴＥＡＣＨＥＲ", " teacher ", "TEACHER", "t e a c h e r", "Tеacher",
                                  "老师", "教师", "老師", " 老 师 "])
def test_nobody_may_take_the_teachers_name(sch, name):
    with pytest.raises(NameRefused) as err:
        sch.identities.set_name("s1", name)
    assert err.value.code == "ident.name.teacher" and "teacher's name" in str(err.value)
    assert sch.store.names().get("s1") is None


@pytest.mark.parametrize("name", ["Ada · Teacher", "Ada•", "A・da"])
def test_nobody_may_use_the_badge_marker(sch, name):
    with pytest.raises(NameRefused) as err:
        sch.identities.set_name("s1", name)
    assert err.value.code == "ident.name.marker"


def test_names_are_unique_in_the_class(sch):
    ids = sch.identities
    assert ids.set_name("s1", "  Ada   Lovelace ") == "Ada Lovelace"
    for clash in ("ada lovelace", "ＡＤＡ ＬＯＶＥＬＡＣＥ", "AdaLovelace", "Аda Lovelace"):  # the last: Cyrillic А
        with pytest.raises(NameRefused) as err:
            ids.set_name("s2", clash)
        assert err.value.code == "ident.name.taken" and "already taken" in str(err.value)
    assert ids.set_name("s1", "ADA LOVELACE") == "ADA LOVELACE"  # one's own name, differently written
    ids.set_name("s1", "")  # cleared: free again
    assert ids.set_name("s2", "ada lovelace") == "ada lovelace"
    assert name_key("Grace") != name_key("Grace H")
    with pytest.raises(NameRefused):
        ids.set_name("s3", "x" * 40)


def test_a_visitor_of_a_class_with_a_code_cannot_take_a_name(sch):
    sch.identities.set_join_code("CODE42")
    with pytest.raises(NotMember):
        sch.identities.set_name("s1", "Ada")


# --- the teacher removes an identity -------------------------------------------------------------------
@pytest.mark.parametrize("delete_runs", [False, True])
def test_removing_an_identity(sch, delete_runs):
    ids = sch.identities
    ids.admit("gone", None)
    ids.admit("stays", None)
    ids.set_name("gone", "Mallory")
    done = finished(sch, "gone", "done00000001")
    queued = sch.submit("train", tiny(max_steps=2).to_dict(), "gone").run_id
    shared = sch.submit("gradflow", lab(), "stays").run_id
    assert sch.submit("gradflow", lab(), "gone").attached
    got = sch.remove_identity("gone", delete_runs=delete_runs)
    assert (got.stopped, got.left) == (1, 1)
    assert ids.state("gone") == REMOVED
    if not delete_runs:
        assert sch.get(queued).status == Status.STOPPED  # cancelled in the queue, kept read-only
    assert sch.get(shared).status == Status.QUEUED and sch.watchers(shared) == ["stays"]  # goes on for the other
    if delete_runs:
        assert got.deleted == 2 and not sch.exists(done) and not sch.exists(queued)
        assert "gone" not in sch.store.names()  # the name is free again
    else:
        assert got.kept == 1 and sch.get(done).status == Status.COMPLETED
        assert sch.watchers(done) == ["gone"]  # still theirs on the boards, read-only
        assert sch.store.names()["gone"] == "Mallory"
    # the removed cookie acts on nothing any more, and is never admitted again
    with pytest.raises(NotMember) as err:
        sch.submit("gradflow", lab(seed=9), "gone")
    assert err.value.code == "ident.removed"
    if not delete_runs:
        assert not sch.can_act(done, "gone")
        with pytest.raises(NotMember):
            sch.delete(done, "gone")
    with pytest.raises(NotMember):
        ids.admit("gone", None)
    with pytest.raises(NotMember):
        ids.set_name("gone", "Mallory2")
    listed = {m.student: m for m in ids.members()}
    assert listed["gone"].removed and not listed["stays"].removed


def test_a_store_from_before_identities_keeps_its_students(tmp_path):
    """Students seen before this feature stay members (a class's upgrade must not lock it out)."""
    import sqlite3

    db = tmp_path / "old.sqlite"
    RunStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE members")
    conn.execute("INSERT INTO students (student, name, last_seen) VALUES ('old1', 'Ada', 5)")
    conn.commit()
    conn.close()
    s = Scheduler(db, pool="none")
    try:
        assert s.identities.state("old1") == MEMBER
    finally:
        s.close()


# --- the pages (AppTest) -------------------------------------------------------------------------------
def sid(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:24]


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    """A store and no pool for the page's scheduler (the jobs the pages start stay queued)."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("CNNVIZ_POOL", "external")
    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY)
    for name in ("CNNVIZ_JOIN_CODE", "CNNVIZ_MAX_NEW_IDS", "CNNVIZ_MAX_LAB_LIVE"):
        monkeypatch.delenv(name, raising=False)
    sched._scheduler.clear()
    sched.teacher_key.clear()
    s = Scheduler(tmp_path / "runs.sqlite", pool="none")
    yield s
    s.close()
    sched._scheduler.clear()
    sched.teacher_key.clear()


def page(name: str, token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["_student_token"] = token
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info", "toast",
                                              "subheader", "code")
                    for e in at.get(kind))


def run_button(at):
    return at.button(key="gf.run")


def test_gradflow_page_without_a_code_starts_as_before(app_store):
    at = page("gradflow", "open" + "x" * 22).run()
    assert not at.exception, at.exception
    assert not run_button(at).disabled and "join code" not in texts(at)
    run_button(at).click().run()
    assert not at.exception, at.exception
    assert app_store.identities.state(sid("open" + "x" * 22)) == MEMBER  # admitted at its first start
    assert app_store.runs(sid("open" + "x" * 22), kinds=("gradflow",))


def test_gradflow_page_needs_the_join_code(app_store):
    app_store.identities.set_join_code("K7PXQ2")
    token = "visitor" + "v" * 20
    at = page("gradflow", token).run()
    assert not at.exception, at.exception
    assert run_button(at).disabled and "join code" in texts(at)
    at.text_input(key="gf.join_code").input("WRONG1")
    at.button[[b.label for b in at.button].index("Join the class")].click().run()
    assert "not the class's join code" in texts(at)
    assert run_button(at).disabled and app_store.identities.state(sid(token)) == VISITOR
    at.text_input(key="gf.join_code").input("k7pxq2")
    at.button[[b.label for b in at.button].index("Join the class")].click().run()
    assert not at.exception, at.exception
    assert "You joined the class" in texts(at)
    assert not run_button(at).disabled
    run_button(at).click().run()
    assert not at.exception, at.exception
    assert [r.kind for r in app_store.runs(sid(token), kinds=None)] == ["gradflow"]


def test_training_page_start_is_disabled_for_a_visitor(app_store, monkeypatch):
    monkeypatch.setenv("CNNVIZ_JOIN_CODE", "FROMENV")
    at = page("training", "visitor" + "t" * 20).run()
    assert not at.exception, at.exception
    start = [b for b in at.button if b.label == "Start training"]
    assert len(start) == 1 and start[0].disabled
    assert "join code" in texts(at) and at.text_input(key="tr.join_code")


def test_fresh_sessions_from_one_address_are_refused_past_the_limit(app_store, monkeypatch):
    from ui import sched

    monkeypatch.setattr(sched, "client_address", lambda: ADDR)
    errors = []
    for i in range(4):
        at = page("gradflow", f"fresh{i}" + "f" * 20).run()
        run_button(at).click().run()
        assert not at.exception, at.exception
        errors.append("too many new students" in texts(at))
    assert errors == [False, False, False, True]
    assert app_store.identities.state(sid("fresh3" + "f" * 20)) == VISITOR


def test_board_name_box_refuses_the_teachers_name_and_a_taken_one(app_store):
    app_store.identities.set_name(sid("first" + "a" * 20), "Ada")
    at = page("board", "second" + "b" * 20).run()
    for name, said in (("ＴＥＡＣＨＥＲ", "teacher's name"), ("ada", "already taken"), ("老师", "teacher's name")):
        at.text_input(key="board.name").input(name)
        at.button[[b.label for b in at.button].index("Save name")].click().run()
        assert not at.exception, at.exception
        assert said in texts(at), (name, texts(at))
    assert app_store.store.names().get(sid("second" + "b" * 20)) is None


def teacher_page() -> AppTest:
    at = page("teacher", "teacher-test-token-00000001").run()
    at.text_input(key="teacher.key_in").input(KEY)
    at.button[[b.label for b in at.button].index("Unlock")].click().run()
    assert not at.exception, at.exception
    return at


def test_teacher_page_generates_the_join_code_and_removes_an_identity(app_store):
    ids = app_store.identities
    at = teacher_page()
    assert "No join code" in texts(at)
    at.button(key="teacher.code_new").click().run()
    code = ids.join_code()
    assert len(code) == 6 and code in [c.value for c in at.get("code")]
    at.button(key="teacher.code_off").click().run()
    assert ids.join_code() == ""
    at.button(key="teacher.code_new").click().run()
    code = ids.join_code()
    # a student joins and queues a run; the teacher removes them, deleting their runs
    ids.admit("kicked" * 4, ADDR, code)
    ids.set_name("kicked" * 4, "Mallory")
    rid = app_store.submit("gradflow", lab(), "kicked" * 4).run_id
    at.run()
    table = [d.value for d in at.dataframe if "State" in d.value.columns]
    assert len(table) == 1 and any("Mallory" in who for who in table[0]["Identity"])
    at.selectbox(key="teacher.ident_pick").set_value("kicked" * 4)
    at.radio(key="teacher.ident_runs").set_value("delete")
    at.button(key="teacher.ident_remove").click().run()
    assert not at.exception, at.exception
    assert "Removed Mallory" in texts(at)
    assert ids.state("kicked" * 4) == REMOVED and not app_store.exists(rid)


def test_a_removed_browser_is_a_visitor_until_it_joins_again_under_a_new_token(app_store):
    token = "removed" + "r" * 20
    app_store.identities.admit(sid(token), None)
    app_store.remove_identity(sid(token), delete_runs=False)
    at = page("gradflow", token).run()
    assert run_button(at).disabled and "removed this browser" in texts(at)
    at.button[[b.label for b in at.button].index("Join as a new student")].click().run()
    assert not at.exception, at.exception
    new = at.session_state["_student_token"]
    assert new != token and app_store.identities.state(sid(new)) == MEMBER
    assert not run_button(at).disabled
