"""The teacher leads the lesson (issue #22, items 5 and 6), fast: no worker pool, rows written
straight into a fresh store (``CNNVIZ_POOL=none``), the pages under AppTest.

* links: every training run in the board's and the teacher's tables links to its live view
  (``/training?run=<id>``) and, on the teacher's, to its presenter view (``&present=1``), which
  shows the run alone on the training page;
* the class's address: found from the request (a loopback host becomes this machine's network
  address), ``CNNVIZ_CLASS_URL`` wins; drawn as a QR code whose modules are segno's for that address;
* connected students: an open page's heartbeat (``ui.teach.heartbeat``) keeps an idle student
  counted; one not seen for more than ``ONLINE_S`` is not;
* delete asks first; the run picker starts empty; a stop of a running job says "stopping at the
  next step" while the row is still running with its stop flag set.
"""

from __future__ import annotations

import hashlib
import io
import time

import pytest
import segno
from apptest_helpers import button, frame, texts
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import classlink, settings
from cnnviz.runs.store import RunStore
from cnnviz.status import Status

from training_helpers import tiny

TIMEOUT = 60
KEY = "correct-horse-battery-staple"
TEACHER_TOKEN = "teach-test-token-teacher-01"
ME_TOKEN = "teach-test-token-student-01"
ME = hashlib.sha256(ME_TOKEN.encode()).hexdigest()[:24]  # the id ui.sched.student() derives from the token
S1, S2 = "a1" + "0" * 22, "b2" + "0" * 22


# --- fixtures: a fresh store, no pool -----------------------------------------------------------------
@pytest.fixture
def store(page_store, monkeypatch):
    """``conftest.page_store`` opened, with this module's teacher key and no class URL set."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY)
    monkeypatch.delenv("CNNVIZ_CLASS_URL", raising=False)
    sched.teacher_key.clear()
    s = RunStore(page_store)
    yield s
    s.close()
    sched.teacher_key.clear()


def run_row(store: RunStore, rid: str, owner: str, status: Status = Status.COMPLETED, **summary) -> str:
    store.create(rid, arch="lenet", label="LeNet", config=tiny().to_dict(), owner=owner, status=status,
                 worker="elsewhere:1" if status == Status.RUNNING else "",
                 started=time.time() if status == Status.RUNNING else None)
    if summary:
        store.append(rid, 0, [], summary=summary)
    return rid


def seen_ago(store: RunStore, student: str, seconds: float) -> None:
    """``student`` last seen ``seconds`` ago (their page's last heartbeat or click)."""
    store.touch(student)
    with store.write() as conn:
        conn.execute("UPDATE students SET last_seen=? WHERE student=?", (time.time() - seconds, student))


def app(page: str, token: str, **params) -> AppTest:
    """``page`` on its own (home: inside ``app.py``, whose navigation its page links need)."""
    at = AppTest.from_file("../app.py" if page == "home" else f"../pages/{page}.py", default_timeout=TIMEOUT)
    at.session_state["_student_token"] = token
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def teacher(**params) -> AppTest:
    at = app("teacher", TEACHER_TOKEN, **params)
    at.text_input(key="teacher.key_in").input(KEY)
    button(at, "Unlock").click().run()
    assert not at.exception, at.exception
    return at








# --- the class's address ----------------------------------------------------------------------------------
def test_class_address_from_the_request():
    no_lan = lambda: None  # noqa: E731
    assert classlink.class_address("http://10.0.0.5:8501/teacher", None) == ("http://10.0.0.5:8501", False)
    assert classlink.class_address("https://ai.school.edu/cnnviz/teacher", None, base="cnnviz") == (
        "https://ai.school.edu/cnnviz", False)
    # no URL from the browser: the Host header, plain http
    assert classlink.class_address(None, "192.168.1.7:8080") == ("http://192.168.1.7:8080", False)
    # the teacher opened localhost on the projector's machine: students need its network address
    assert classlink.class_address("http://localhost:8501/", None, lan=lambda: "192.168.1.7") == (
        "http://192.168.1.7:8501", False)
    assert classlink.class_address(None, "127.0.0.1:8501", lan=lambda: "10.1.1.1") == ("http://10.1.1.1:8501", False)
    assert classlink.class_address(None, "[::1]:8501", lan=lambda: "10.1.1.1") == ("http://10.1.1.1:8501", False)
    assert classlink.class_address(None, "localhost:8501", lan=no_lan) == ("http://localhost:8501", True)
    # the setting wins over all of it
    assert classlink.class_address("http://localhost:8501", "x", override="https://ai.example.org/") == (
        "https://ai.example.org", False)
    # a forged Host header is not an address: nothing is shown rather than it
    for bad in ("evil.com/<script>", "a b", "x@y.com", "host:port", "[::1", "", "-bad.com"):
        assert classlink.class_address(None, bad, lan=no_lan) == (None, False), bad
    assert classlink.class_address(None, None) == (None, False)


def test_class_url_setting(monkeypatch):
    monkeypatch.setenv("CNNVIZ_CLASS_URL", " http://10.0.0.5:8501/ ")
    assert settings.class_url() == "http://10.0.0.5:8501"
    for bad in ("10.0.0.5:8501", "ftp://x", "http://x/?q=1", "http://a@b", "http://x/<b>", "javascript:alert(1)"):
        monkeypatch.setenv("CNNVIZ_CLASS_URL", bad)
        with pytest.raises(settings.SettingError):
            settings.class_url()


def matrix_of_png(png: bytes, scale: int = 10, border: int = 2) -> list[list[bool]]:
    """The QR code's modules read back off the PNG (dark = True), sampled at each module's centre."""
    img = Image.open(io.BytesIO(png)).convert("L")
    n = img.width // scale - 2 * border
    assert img.width == img.height == (n + 2 * border) * scale
    return [[img.getpixel(((x + border) * scale + scale // 2, (y + border) * scale + scale // 2)) < 128
             for x in range(n)] for y in range(n)]


def test_qr_png_holds_the_address():
    # no QR decoder is installed offline: the PNG's modules must be exactly segno's code for the address
    url = "http://192.168.1.7:8501"
    got = matrix_of_png(classlink.qr_png(url))
    want = [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix]
    assert got == want
    assert got != matrix_of_png(classlink.qr_png("http://192.168.1.8:8501"))  # another address, another code
    assert len(got) * 10 >= 250  # big enough for a projector


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """file id → bytes of every media file the pages hand to Streamlit (AppTest's media store
    lives only as long as one run)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    files: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = real(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data if isinstance(path_or_data, bytes) else b""
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def shown_png(at: AppTest, media: dict[str, bytes]) -> bytes:
    """The bytes of the one image the page drew."""
    imgs = at.get("image")
    assert len(imgs) == 1 and imgs[0].captions == ["Scan to open cnnviz"], imgs
    url = imgs[0].value[0]  # /mock/media/<id>.png
    return media[url.rsplit("/", 1)[-1].split(".")[0]]


@pytest.mark.parametrize("page", ["teacher", "home"])
def test_the_address_is_a_qr_code_on_the_teacher_and_home_pages(store, monkeypatch, media, page):
    url = "http://10.20.30.40:8501"
    monkeypatch.setenv("CNNVIZ_CLASS_URL", url)
    at = teacher() if page == "teacher" else app("home", ME_TOKEN)
    assert any(m.value == f"# `{url}`" for m in at.markdown), [m.value for m in at.markdown]
    assert matrix_of_png(shown_png(at, media)) == [[bool(v) for v in row] for row in segno.make(url, error="m").matrix]


def test_no_address_no_card(store):
    # AppTest has no browser URL nor Host header, and no setting: nothing to show, and no error
    at = app("home", ME_TOKEN)
    assert not at.get("image")
    assert "The class's address" not in texts(at)


# --- links to a run's view ----------------------------------------------------------------------------
def test_run_link():
    assert classlink.run_link("abc123") == "/training?run=abc123"
    assert classlink.run_link("abc123", "/cnnviz/", present=True, lang="zh") == (
        "/cnnviz/training?run=abc123&present=1&lang=zh")
    with pytest.raises(ValueError):
        classlink.run_link("x&present=0")


def test_board_links_every_run(store):
    a = run_row(store, "aaaa00000001", S1, test_acc=0.5, epoch=1.0)
    b = run_row(store, "bbbb00000002", ME, Status.RUNNING)
    at = app("board", ME_TOKEN)
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[a, "live view"] == f"/training?run={a}"
    assert table.loc[b, "live view"] == f"/training?run={b}"
    assert "projector" not in table.columns  # the projector's links are the teacher's
    zh = app("board", ME_TOKEN, lang="zh").dataframe[0].value.set_index("id")
    assert zh.loc[a, "实时视图"] == f"/training?run={a}&lang=zh"


def test_teacher_tables_link_every_run_and_the_projector(store):
    done = run_row(store, "d0e000000001", S1, test_acc=0.7, epoch=1.0)
    live = run_row(store, "11fe00000002", S2, Status.RUNNING)
    queued = run_row(store, "9000e0000003", S2, Status.QUEUED)
    at = teacher()
    runs = frame(at, "Status", without="job").set_index("id")
    for rid in (done, live, queued):
        assert runs.loc[rid, "live view"] == f"/training?run={rid}"
        assert runs.loc[rid, "projector"] == f"/training?run={rid}&present=1"
    board = frame(at, "rank").set_index("id")
    assert board.loc[done, "projector"] == f"/training?run={done}&present=1"
    queue = frame(at, "place").set_index("id")
    assert queue.loc[queued, "live view"] == f"/training?run={queued}"
    running = frame(at, "worker").set_index("id")
    assert running.loc[live, "projector"] == f"/training?run={live}&present=1"
    # the picked run's "show on the projector" button opens its presenter view
    assert not at.get("link_button")
    at.selectbox(key="teacher.pick").set_value(done).run()
    links = at.get("link_button")
    assert len(links) == 1 and links[0].proto.url == f"/training?run={done}&present=1"
    assert links[0].proto.label == "Show on the projector"


def test_present_shows_the_run_alone(store):
    rid = run_row(store, "d0e000000001", S1, test_acc=0.7, epoch=1.0)
    normal = app("training", ME_TOKEN, run=rid)
    assert normal.expander and "My runs" in texts(normal)  # the form and the history
    at = app("training", ME_TOKEN, run=rid, present="1")
    assert not at.expander  # no form
    assert "My runs" not in texts(at)  # no history
    assert any("LeNet" in s.value for s in at.subheader)  # the run itself
    (leave,) = at.get("link_button")
    assert leave.proto.label == "Leave the presenter view" and leave.proto.url == f"/training?run={rid}"
    bare = app("training", ME_TOKEN, present="1")
    assert "The presenter view shows one run" in texts(bare)


# --- connected students: the heartbeat ------------------------------------------------------------------
def heartbeat_script():
    from ui import teach

    teach.heartbeat()


def test_heartbeat_keeps_an_idle_open_page_counted(store, monkeypatch):
    from ui import teach

    declared = []
    real = teach.st.fragment

    def spy(*args, **kwargs):
        declared.append(kwargs.get("run_every"))
        return real(*args, **kwargs)

    monkeypatch.setattr(teach.st, "fragment", spy)
    at = AppTest.from_function(heartbeat_script, default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME_TOKEN
    at.run()
    assert not at.exception, at.exception
    # the page's heartbeat is a timer: far more often than the teacher's window, so no open page drops out
    assert declared == [classlink.BEAT_S] and classlink.BEAT_S * 2 < classlink.ONLINE_S
    assert ME in [s for s, _, _ in store.students(since=time.time() - 5)]
    # idle since: the student clicked nothing for 50 s, then the timer fires (AppTest fires no timer:
    # its rerun stands in for it); the beat puts the student back to "seen now"
    seen_ago(store, ME, 50)
    at.session_state["_student_seen"] = time.time() - classlink.BEAT_S
    at.run()
    (seen,) = [t for s, _, t in store.students() if s == ME]
    assert time.time() - seen < 5


def test_beat_writes_and_the_warmup_is_nobody(store, monkeypatch):
    from ui import teach

    def script():
        import streamlit as st

        from ui import teach

        st.session_state["wrote"] = teach.beat()

    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME_TOKEN
    at.run()
    assert at.session_state["wrote"] and [s for s, _, _ in store.students()] == [ME]
    monkeypatch.setattr(teach, "is_warmup", lambda: True)
    store.clear()
    with store.write() as conn:
        conn.execute("DELETE FROM students")
    at.run()
    assert not at.session_state["wrote"] and store.students() == []


def test_connected_students_are_those_with_a_heartbeat(store):
    seen_ago(store, S1, classlink.BEAT_S + 5)  # idle: clicked nothing lately, its page beat 25 s ago
    seen_ago(store, S2, classlink.ONLINE_S + 30)  # its tab closed 90 s ago
    at = teacher()
    assert "Connected students (1)" in texts(at)
    students = frame(at, "last seen")
    assert list(students["code"]) == ["a100"]


# --- the teacher's actions ------------------------------------------------------------------------------
def test_picker_has_no_preselection_and_delete_asks_first(store):
    a = run_row(store, "aaaa00000001", S1)
    b = run_row(store, "bbbb00000002", S2)
    at = teacher()
    pick = at.selectbox(key="teacher.pick")
    assert pick.value is None and pick.placeholder == "Pick a run to act on"
    assert button(at, "Stop").disabled and button(at, "Delete").disabled
    at.selectbox(key="teacher.pick").set_value(a).run()
    button(at, "Delete").click().run()
    assert not at.exception, at.exception
    assert store.get(a) is not None  # asked, not deleted
    assert any(w.value.startswith("Delete LeNet") for w in at.warning)
    button(at, "Cancel").click().run()
    assert store.get(a) is not None and not any(w.value.startswith("Delete LeNet") for w in at.warning)
    # asked for one run, then the picker moved to another: the question does not carry over
    button(at, "Delete").click().run()
    at.selectbox(key="teacher.pick").set_value(b).run()
    assert not any(w.value.startswith("Delete LeNet") for w in at.warning)
    assert [x.label for x in at.button].count("Yes, delete it") == 0
    button(at, "Delete").click().run()
    button(at, "Yes, delete it").click().run()
    assert not at.exception, at.exception
    assert store.get(b) is None and store.get(a) is not None
    assert any(s.value.startswith("Deleted: LeNet") for s in at.success)
    assert list(frame(at, "Status", without="job")["id"]) == [a]


def test_stop_says_stopping_at_the_next_step_while_still_running(store):
    rid = run_row(store, "11fe00000002", S2, Status.RUNNING)
    other = run_row(store, "5a0e00000003", S1, Status.RUNNING)
    store.request_stop(other)  # asked to stop earlier; its worker has not noticed yet
    assert store.get(other).stop and store.get(other).status == Status.RUNNING
    at = teacher()
    runs = frame(at, "Status", without="job").set_index("id")
    assert runs.loc[other, "Status"] == "stopping at the next step" and runs.loc[rid, "Status"] == "running"
    assert frame(at, "worker").set_index("id").loc[other, "Status"] == "stopping at the next step"
    at.selectbox(key="teacher.pick").set_value(rid).run()
    button(at, "Stop").click().run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("Stopping at the next step: LeNet") for i in at.info)
    assert not any(s.value.startswith("Stopped") for s in at.success)
    # no worker here to notice: the row is still running with its flag, and the page keeps saying so
    at.run()
    assert button(at, "Stop").disabled
    assert any("is stopping at the next step" in i.value for i in at.info)
    assert frame(at, "Status", without="job").set_index("id").loc[rid, "Status"] == "stopping at the next step"
    # once the worker has stopped it, it says stopped
    store.append(rid, 0, [], status=Status.STOPPED)
    at.run()
    assert frame(at, "Status", without="job").set_index("id").loc[rid, "Status"] == "stopped"
    assert not any("is stopping at the next step" in i.value for i in at.info)
    # the board and the run's own view say it too
    assert app("board", ME_TOKEN).dataframe[0].value.set_index("id").loc[other, "Status"] == (
        "stopping at the next step")
    view = app("training", ME_TOKEN, run=other)
    assert any("is stopping at the next step" in i.value for i in view.info)


def test_a_queued_run_stops_at_once(store):
    rid = run_row(store, "9000e0000003", S2, Status.QUEUED)
    at = teacher()
    at.selectbox(key="teacher.pick").set_value(rid).run()
    button(at, "Stop").click().run()
    assert any(s.value.startswith("Stopped: LeNet") for s in at.success)
    assert store.get(rid).status == Status.STOPPED
