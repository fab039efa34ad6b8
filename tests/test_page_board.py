"""The class board under AppTest, on a real worker pool: every run of the class, read-only, the
"mine" marks, the watchers of a shared run, the overlay, and the student's display name."""

from __future__ import annotations

import hashlib

import pytest
from conftest import WAIT_S
from streamlit.testing.v1 import AppTest

from training_helpers import tiny

PAGE = "../pages/board.py"
TIMEOUT = 120
ME_TOKEN = "board-test-token-me-000001"  # 22+ URL-safe characters: a browser's cookie token
ME = hashlib.sha256(ME_TOKEN.encode()).hexdigest()[:24]  # the student id ui.sched.student() derives from it
OTHER = "b0a4d0ther0000000000000"  # another student (ids are opaque strings)


@pytest.fixture(scope="module")
def sch(module_scheduler):
    return module_scheduler


@pytest.fixture(autouse=True)
def empty_class(sch):
    sch.clear()
    yield
    sch.clear()


def page(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME_TOKEN
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info", "subheader")
                    for e in at.get(kind))


def finished(sch, student: str, **fields) -> str:
    rid = sch.submit("train", tiny(**fields).to_dict(), student).run_id
    assert sch.wait(rid, WAIT_S).status == "completed"
    return rid


def test_empty_board():
    at = page()
    assert at.title[0].value == "Class board"
    assert "No runs in the class yet" in texts(at)
    assert not at.dataframe and not at.get("plotly_chart")


def test_another_students_run_is_listed_read_only_and_overlays(sch):
    theirs = finished(sch, OTHER, max_steps=6)
    mine = finished(sch, ME, max_steps=4, seed=3)
    shared = sch.submit("train", tiny(max_steps=6).to_dict(), "c0ffee000000000000000000")  # a third student
    assert shared.attached and shared.run_id == theirs
    at = page()
    table = at.dataframe[0].value
    assert list(table["id"]) == [mine, theirs]  # newest first
    row = table.set_index("id")
    assert row.loc[theirs, "student"] == "student b0a4" and not row.loc[theirs, "mine"]
    assert row.loc[mine, "student"] == "student " + ME[:4] + " (you)" and row.loc[mine, "mine"]
    assert row.loc[theirs, "watching"] == 2 and row.loc[mine, "watching"] == 1
    assert set(row["Status"]) == {"completed"}
    assert all(0.0 <= v <= 1.0 for v in row["Test accuracy"])
    assert row.loc[theirs, "Run"].startswith("LeNet")
    # read-only: the only button on the board saves the student's name
    assert [b.label for b in at.button] == ["Save name"]
    at.multiselect(key="board.overlay").set_value([theirs, mine]).run()
    assert not at.exception, at.exception
    fig = at.get("plotly_chart")[0].proto.spec
    assert fig.count(f"({theirs[:6]})") > 0 and fig.count(f"({mine[:6]})") > 0  # both runs in the legend
    at.toggle(key="board.only_mine").set_value(True).run()
    assert list(at.dataframe[0].value["id"]) == [mine]
    # a run deleted meanwhile drops out of the overlay instead of breaking it
    sch.delete(theirs, OTHER, teacher=True)
    at.run()
    assert not at.exception, at.exception
    assert at.multiselect(key="board.overlay").value == [mine]


def test_name_box_sets_the_name_shown_on_the_board(sch):
    finished(sch, ME, max_steps=3)
    at = page()
    at.text_input[0].input("  Ada \t Lovelace ")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert sch.store.names()[ME] == "Ada Lovelace"
    assert "The class board now shows you as `Ada Lovelace`" in texts(at)  # a name is shown as code
    assert at.dataframe[0].value["student"][0] == "Ada Lovelace (you)"
    at.text_input[0].set_value("x" * 40)  # past max_chars: only a crafted request sends that
    at.button[0].click().run()
    assert sch.store.names()[ME] == "x" * 32  # cut to max_chars on the server, not only in the browser
    at.text_input[0].input("")
    at.button[0].click().run()
    assert ME not in sch.store.names() and "Name removed" in texts(at)
    assert at.dataframe[0].value["student"][0] == f"student {ME[:4]} (you)"


def test_chinese_board(sch):
    finished(sch, OTHER, max_steps=3)
    at = page("zh")
    assert at.title[0].value == "班级看板"
    assert at.dataframe[0].value["学生"][0] == "学生 b0a4"


def test_board_and_teacher_are_in_the_navigation(sch):
    import pathlib

    from ui.nav import PAGES

    paths = [p[0] for p in PAGES]
    assert paths.index("pages/board.py") == paths.index("pages/training.py") + 1  # beside the training page
    assert paths[-1] == "pages/teacher.py"
    at = AppTest.from_file(str(pathlib.Path(__file__).resolve().parents[1] / "app.py"), default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME_TOKEN
    at.run()
    for path in ("pages/board.py", "pages/teacher.py"):
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
    assert at.title[0].value == "Teacher" and [b.label for b in at.button] == ["Unlock"]
