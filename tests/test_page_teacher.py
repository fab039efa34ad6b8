"""The teacher's page under AppTest, on a real worker pool: locked until the key is typed (and
nothing of the class shown before), a wrong key refused, then the class at a glance and a hand
on every run: stop and delete another student's run, clear the class after a confirmation,
pre-warm the class-period recipes (a second pre-warm attaches to the first)."""

from __future__ import annotations

import time

import pytest
from apptest_helpers import button, frame, texts
from conftest import WAIT_S
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest

from cnnviz.runs.store import TEACHER
from cnnviz.train.recipes import CLASS, recipe_config

from training_helpers import tiny

PAGE = "../pages/teacher.py"
TIMEOUT = 120
KEY = "correct-horse-battery-staple"
TEACHER_TOKEN = "teacher-test-token-00000001"
S1, S2, S3 = ("a1" + "0" * 22, "b2" + "0" * 22, "c3" + "0" * 22)  # three students (ids are opaque)
LOCKED_WORDS = ("Queue", "Clear the class", "Pre-warm", "Every run", "Leaderboard", "Connected students", "Lock")


@pytest.fixture(scope="module")
def sch(module_scheduler):
    return module_scheduler


@pytest.fixture(autouse=True)
def teacher_key(monkeypatch, sch):
    """The key set before the page's first ``teacher_key()`` (a process-wide cache), and an
    empty class for each test."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY)
    sched.teacher_key.clear()
    sch.clear()
    yield
    sch.clear()
    sched.teacher_key.clear()


def page(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["_student_token"] = TEACHER_TOKEN
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def unlock(at: AppTest, key: str = KEY, label: str = "Unlock") -> AppTest:
    at.text_input(key="teacher.key_in").input(key)
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def everything(at) -> str:
    """Every text and widget label on the page."""
    labels = [w.label for kind in ("button", "text_input", "selectbox", "multiselect", "toggle") for w in at.get(kind)]
    return texts(at) + " " + " ".join(labels)


def finished(sch, student: str, **fields) -> str:
    rid = sch.submit("train", tiny(**fields).to_dict(), student).run_id
    assert sch.wait(rid, WAIT_S).status == "completed"
    return rid


def assert_locked(at: AppTest) -> None:
    assert [b.label for b in at.button] == ["Unlock"]
    assert len(at.text_input) == 1 and at.text_input[0].proto.type == TextInputProto.PASSWORD
    assert not at.dataframe and not at.get("plotly_chart") and not at.selectbox and not at.multiselect
    words = everything(at)
    for w in LOCKED_WORDS:
        assert w not in words, w
    assert not at.session_state["_teacher"] if "_teacher" in at.session_state else True


def test_locked_page_shows_only_the_key_box(sch):
    rid = finished(sch, S3, max_steps=3)
    sch.store.touch(S3, name="Ada")
    at = page()
    assert at.title[0].value == "Teacher"
    assert_locked(at)
    words = everything(at)
    assert rid not in words and "Ada" not in words and "LeNet" not in words


def test_wrong_key_is_refused(sch):
    at = page()
    for wrong in ("nope", "", KEY + "x", KEY.upper()):
        unlock(at, wrong)
        assert "That is not the teacher key" in texts(at)
        assert_locked(at)


def test_right_key_unlocks_and_lock_locks(sch):
    sch.store.touch(S2, name="Grace")
    theirs = finished(sch, S1, max_steps=6)
    # a lab page's job, as the labs' kinds write it (their kinds are not this test's business)
    sch.store.create("1ab0000000aa", arch="resnet18", label="ResNet-18 with and without shortcuts", config={},
                     owner=S2, kind="gradflow", status="completed")
    at = unlock(page(), "  " + KEY + " ")  # pasted with spaces around it
    assert "Unlocked" in texts(at)
    words = everything(at)
    for w in LOCKED_WORDS:
        assert w in words, w
    assert "Queue (0)" in words and "Nothing is running" in words
    students = frame(at, "last seen")  # most recent first; the teacher's tab is not one
    assert f"Connected students ({len(students)})" in words
    assert students["name"][0] == "Grace" and students["code"][0] == "b200"
    runs = frame(at, "Status", without="job")
    assert list(runs["id"]) == [theirs] and list(runs["student"]) == ["student a100"]
    board = frame(at, "rank")
    assert list(board["id"]) == [theirs] and list(board["rank"]) == [1]
    labs = frame(at, "job")
    assert list(labs["id"]) == ["1ab0000000aa"] and list(labs["job"]) == ["Gradient flow (ResNet)"]
    assert list(labs["student"]) == ["Grace"] and "Lab jobs (1)" in words
    assert any("2 worker process(es) × 1 thread(s)" in s.value for s in at.success)
    button(at, "Lock").click().run()
    assert_locked(at)


def test_chinese_teacher_page(sch):
    finished(sch, S1, max_steps=3)
    at = page("zh")
    assert at.title[0].value == "教师" and [b.label for b in at.button] == ["解锁"]
    unlock(at, label="解锁")
    assert "队列（0）" in texts(at) and "所有训练" in texts(at)
    assert list(frame(at, "名次")["名次"]) == [1]


def test_teacher_stops_and_deletes_another_students_run(sch):
    long = sch.submit("train", tiny(epochs=200).to_dict(), S1).run_id  # thousands of steps: still live below
    sch.submit("train", tiny(epochs=200, seed=9).to_dict(), S2)  # a second one, so that another stays queued
    at = unlock(page())
    queue = [q.id for q in sch.queue()]
    running = [r.id for r in sch.running()]
    assert long in queue + running
    at.selectbox(key="teacher.pick").set_value(long).run()
    stop = button(at, "Stop")
    assert not stop.disabled
    stop.click().run()
    assert not at.exception, at.exception
    # queued: stopped at once; running: its worker stops it at its next step, and the page says so
    assert (any(s.value.startswith("Stopped: LeNet") for s in at.success)
            or any(i.value.startswith("Stopping at the next step: LeNet") for i in at.info))
    assert sch.wait(long, WAIT_S).status == "stopped"
    at.run()
    assert button(at, "Stop").disabled  # a finished run has nothing to stop
    button(at, "Delete").click().run()
    assert sch.exists(long)  # asked first
    button(at, "Yes, delete it").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Deleted: LeNet") for s in at.success)
    assert not sch.exists(long)
    assert long not in list(frame(at, "Status", without="job")["id"])
    # a run gone meanwhile (another tab deleted it): the action says so, translated
    assert at.selectbox(key="teacher.pick").value is None  # nothing preselected after the delete
    other = next(r.id for r in sch.runs(None) if r.id != long)
    at.selectbox(key="teacher.pick").set_value(other).run()
    button(at, "Delete").click().run()
    sch.delete(other, "", teacher=True)
    button(at, "Yes, delete it").click().run()
    assert not at.exception, at.exception
    assert any(f"there is no run `{other}`" in e.value for e in at.error)  # the id as Markdown code


def test_clear_the_class_asks_first(sch):
    low = finished(sch, S1, max_steps=2, lr=1e-6)  # two steps at a tiny learning rate: near chance
    high = finished(sch, S2, max_steps=20)
    assert sch.get(high).summary["test_acc"] > sch.get(low).summary["test_acc"]
    at = unlock(page())
    board = frame(at, "rank")
    assert list(board["id"]) == [high, low] and list(board["rank"]) == [1, 2]  # best first
    button(at, "Clear the class").click().run()
    assert "This deletes all 2 runs" in texts(at)
    button(at, "Cancel").click().run()
    assert "This deletes all" not in texts(at) and len(sch.runs(None)) == 2
    button(at, "Clear the class").click().run()
    button(at, "Yes, delete every run of the class").click().run()
    assert not at.exception, at.exception
    assert "Deleted 2 run(s)" in texts(at)
    assert sch.runs(None, kinds=None) == []
    assert "No runs in the class" in texts(at) and button(at, "Clear the class").disabled


def test_prewarm_queues_one_run_per_family_then_attaches(sch):
    at = unlock(page())
    button(at, "Pre-warm the class-period runs").click().run()
    assert not at.exception, at.exception
    try:
        assert f"Pre-warm: {len(CLASS)} queued, 0 already there" in texts(at)
        jobs = sch.runs(None)
        assert len(jobs) == len(CLASS) and {j.owner for j in jobs} == {TEACHER}
        # exactly the configs a student's form submits for each family's network
        assert sorted(map(_canon, (j.config for j in jobs))) == sorted(
            _canon(recipe_config(r.arch, "class").to_dict()) for r in CLASS.values())
        button(at, "Pre-warm the class-period runs").click().run()
        assert f"Pre-warm: 0 queued, {len(CLASS)} already there" in texts(at)
        assert len(sch.runs(None)) == len(CLASS)
        assert "Teacher" in set(frame(at, "Status", without="job")["student"])
    finally:
        sch.clear()  # full-size class runs: never let the pool spend minutes on them
    deadline = time.monotonic() + 30
    while sch.running() and time.monotonic() < deadline:  # their workers notice within a step
        time.sleep(0.2)


def _canon(d) -> str:
    import json

    return json.dumps(d, sort_keys=True)
