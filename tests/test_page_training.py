"""The training page under Streamlit's AppTest, against a real worker pool: empty store, a
finished run reattached from the URL, an unknown run id, a run started from the page, a shared
link that is read-only, identical requests attached, the form equal to the recipe (so a
student's first run attaches to the teacher's pre-warmed one), the page through app.py."""

from __future__ import annotations

import pytest
from conftest import WAIT_S
from streamlit.testing.v1 import AppTest

from cnnviz.runs.scheduler import Scheduler

from training_helpers import tiny

PAGE = "../pages/training.py"
TIMEOUT = 120
ME, OTHER = "me" + "x" * 22, "other" + "y" * 20  # raw cookie tokens (22+ URL-safe characters)
SEED = 0  # finished_run's default seed: each test's own (_own_students)


@pytest.fixture
def db(module_sched_db):
    """The module's store and pool (one pool for the module: each costs three processes
    importing torch); each test has students of its own (``_own_students``)."""
    return module_sched_db


@pytest.fixture(autouse=True)
def _own_students(monkeypatch, request):
    """ME and OTHER are new students in each test, and its runs have a seed of their own, so that
    tests sharing the module's store never see (or attach to) each other's runs."""
    import hashlib
    import sys

    tag = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "ME", f"me{tag}" + "x" * 12)
    monkeypatch.setattr(here, "OTHER", f"other{tag}" + "y" * 12)
    monkeypatch.setattr(here, "SEED", 1000 + int(tag, 16) % 10**6)


@pytest.fixture
def store_only(page_store):
    """A fresh store and no pool, for the tests that start no job (the page only reads the store):
    a pool costs three processes importing torch, and these tests never queue anything for it."""
    return page_store


def sid(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:24]


def page(token: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["_student_token"] = token or ME
    return at


def finished_run(db, token: str | None = None, **fields) -> str:
    """A tiny run asked for by ``token``'s student (ME) and completed by the pool."""
    s = Scheduler(db, pool="external")
    try:
        rid = s.submit("train", tiny(**{"seed": SEED, **fields}).to_dict(), sid(token or ME)).run_id
        assert s.wait(rid, WAIT_S).status == "completed"
        return rid
    finally:
        s.close()


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info", "subheader")
                    for e in at.get(kind))


def test_empty_store(store_only):
    """No run yet, but the pool's calibration of this machine: an estimate, and Start enabled
    (the page itself measures nothing: tests/test_admission.py)."""
    from testkit.calibration import seed

    seed(store_only)
    at = page().run()
    assert not at.exception
    assert "No runs yet." in texts(at)
    assert any(b.label == "Start training" and not b.disabled for b in at.button)
    assert [m.label for m in at.metric][:3] == ["Memory needed", "Estimated time", "Training images"]
    assert ":" in at.metric[1].value  # m:ss, from the calibration


def test_finished_run_reattaches_from_the_url(db):
    rid = finished_run(db, max_steps=8, eval_every=4)
    at = page()
    at.query_params["run"] = rid
    at.run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # curves, latest gradient norms, gradient heatmap
    assert any("completed" in s.value for s in at.success)
    values = {m.label: m.value for m in at.metric}
    assert values["Test accuracy"].endswith("%") and values["Training loss"] != "—"
    assert not any(b.label == "Stop" for b in at.button)  # nothing left to stop
    assert len(at.dataframe) == 1 and at.dataframe[0].value.shape[0] == 1  # the history lists it


def test_chinese_page(db):
    rid = finished_run(db, max_steps=3)
    at = page()
    at.query_params["run"] = rid
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.title[0].value == "训练网络" and "完成 0.15 轮（3 步）" in texts(at)


def test_unknown_run_id(store_only):
    at = page()
    at.query_params["run"] = "deadbeef0000"
    at.run()
    assert not at.exception
    assert any("deadbeef0000" in e.value for e in at.error)


def test_start_a_run_from_the_page_then_overlay_and_delete(db):
    from ui.sched import scheduler

    first = finished_run(db, max_steps=3)
    at = page().run()
    at.selectbox(key="tr.dataset").set_value("synthetic")
    at.number_input(key="tr.subset").set_value(128)
    at.number_input(key="tr.epochs").set_value(1)
    at.number_input(key="tr.bs").set_value(32)
    at.run()
    start = next(b for b in at.button if b.label == "Start training")
    start.click().run()
    assert not at.exception
    rid = at.query_params["run"]
    assert rid and rid != first
    mgr = scheduler()
    info = mgr.wait(rid, WAIT_S)
    assert info.status == "completed" and info.config["data"]["subset"] == 128
    at.run()  # the fragment draws the finished run; the history now holds both
    assert not at.exception and len(at.get("plotly_chart")) >= 3
    at.multiselect(key="tr.overlay").set_value([rid, first]).run()
    assert not at.exception and len(at.get("plotly_chart")) >= 4  # the overlay chart added
    at.selectbox(key="tr.pick").set_value(first).run()
    next(b for b in at.button if b.key == "tr.delete").click().run()
    assert not at.exception
    assert [r.id for r in mgr.runs(student=sid(ME))] == [rid]
    assert not mgr.exists(first)  # nobody else watched it: gone


def test_a_shared_link_is_read_only_and_an_identical_start_attaches(db):
    from ui.sched import scheduler

    theirs = finished_run(db, OTHER, max_steps=4, seed=3)
    at = page(ME)
    at.query_params["run"] = theirs
    at.run()
    assert not at.exception
    assert "belongs to another student" in texts(at)
    assert any("completed" in s.value for s in at.success)  # they can look at it
    assert not any(b.key in ("tr.stop", "tr.cancel") for b in at.button)
    assert "No runs yet." in texts(at)  # it is not in their list
    # pressing Start on the identical config attaches to it: no second computation
    sch = scheduler()
    n = len(sch.runs())
    t = sch.submit("train", tiny(max_steps=4, seed=3).to_dict(), sid(ME))
    assert t.attached and t.run_id == theirs and len(sch.runs()) == n
    at.run()
    assert not at.exception and "belongs to another student" not in texts(at)
    assert at.dataframe[0].value.shape[0] == 1  # now it is in their list too


def test_a_queued_run_shows_its_place_and_can_be_cancelled(db):
    from ui.sched import scheduler

    sch = scheduler()
    blockers = [sch.submit("train", tiny(epochs=1000, seed=70 + i).to_dict(), f"blocker{i}" + "z" * 16).run_id
                for i in range(2)]  # both workers busy
    import time

    deadline = time.monotonic() + 30
    while not all(sch.get(b).status == "running" for b in blockers):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    mine = sch.submit("train", tiny(seed=79).to_dict(), sid(ME)).run_id
    try:
        at = page()
        at.query_params["run"] = mine
        at.run()
        assert not at.exception
        assert any("place 1 of 1" in i.value for i in at.info), [i.value for i in at.info]
        next(b for b in at.button if b.key == "tr.cancel").click().run()
        assert not at.exception
        assert sch.get(mine).status == "stopped"
    finally:
        for b in blockers:
            sch.stop(b, "", teacher=True)


def test_the_class_recipe_form_is_exactly_the_recipe(db):
    """A student's default form equals ``recipe_config(arch, "class")``: same params, same content
    key, so their first Start attaches to the teacher's pre-warmed run."""
    from cnnviz.runs.kinds import content_key
    from cnnviz.train.recipes import recipe_config
    from ui.sched import scheduler

    at = page().run()
    for arch in ("lenet", "resnet18"):
        pre = scheduler().submit("train", recipe_config(arch, "class").to_dict(), "teacher")
        at.selectbox(key="tr.arch").set_value(arch).run()
        next(b for b in at.button if b.label == "Class-period recipe").click().run()
        next(b for b in at.button if b.label == "Start training").click().run()
        assert not at.exception
        assert at.query_params["run"] == pre.run_id, arch  # attached to the pre-warmed run
        assert scheduler().get(pre.run_id).key == content_key("train", recipe_config(arch, "class").to_dict())
        assert "identical run already exists" in texts(at)
        scheduler().stop(pre.run_id, "", teacher=True)
        scheduler().wait(pre.run_id, WAIT_S)



def test_through_app_navigation(store_only):
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not at.exception
    at.switch_page("pages/training.py").run()
    assert not at.exception
    assert at.title[0].value == "Train a network"


@pytest.mark.slow  # several networks' estimates
def test_architecture_change_applies_its_recipe_and_bad_values_are_refused(store_only):
    at = page().run()
    at.selectbox(key="tr.arch").set_value("resnet18").run()
    assert not at.exception
    from cnnviz.train.recipes import recipe
    from ui.training import default_kind

    p = recipe("resnet18", default_kind())  # the class-period recipe on a CPU, the book's on a GPU
    assert at.number_input(key="tr.side").value == p.input_side
    assert at.select_slider(key="tr.wdiv").value == p.model.get("width_div", 1)
    assert not at.toggle(key="tr.res").disabled
    next(b for b in at.button if b.label == "Book recipe").click().run()
    assert at.number_input(key="tr.side").value == 96 and at.number_input(key="tr.bs").value == 256
    assert at.number_input(key="tr.lr").value == 0.05
    at.selectbox(key="tr.arch").set_value("alexnet").run()
    at.number_input(key="tr.side").set_value(40).run()  # too small for AlexNet: the library's message
    assert not at.exception
    assert any("65" in e.value for e in at.error)
    assert not any(b.label == "Start training" for b in at.button)


def _layout(at) -> list[tuple[tuple[int, ...], str]]:
    """Every element's place in the page (its path of child indices) and its type."""
    out = []

    def walk(node, path):
        for i, child in enumerate(getattr(node, "children", {}).values()):
            out.append((path + (i,), child.type))
            walk(child, path + (i,))

    walk(at._tree, ())
    return out


def test_a_new_students_cookie_setter_keeps_its_place_so_the_page_layout_never_shifts(store_only):
    """A browser without the cookie gets the script that sets it (in the sidebar) on every run of
    its session, not only the first: an element drawn once would shift all those after it, and
    the browser's cache (which knows elements by their place) would be sent the page again."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    first = _layout(at)
    setters = [h for h in at.sidebar.get("html") if "document.cookie" in h.proto.body]
    assert len(setters) == 1 and "cnnviz_student=" in setters[0].proto.body
    token = at.session_state["_student_token"]
    assert token in setters[0].proto.body
    at.run()
    assert not at.exception
    assert _layout(at) == first  # the same elements in the same places
    assert [h.proto.body for h in at.sidebar.get("html") if "document.cookie" in h.proto.body] == [
        setters[0].proto.body]  # the same token: one student for the whole session


def test_the_form_lives_in_the_url_and_a_crafted_link_is_clamped(store_only):
    """The form is the page's URL schema (``ui.schemas.training_schema``): a recipe's form leaves
    only what differs from it in the link, a shared link opens the same form, and a crafted one
    is clamped to the page's limits (the same as the other pages': side ≤ 512, width divisor
    ≤ 16), with one warning naming what it got wrong."""
    from ui.schemas import UI_MAX_SIDE, WIDTH_DIVS

    at = page().run()
    assert dict(at.query_params) == {}  # LeNet's own recipe: nothing to say
    at.selectbox(key="tr.arch").set_value("nin").run()
    at.number_input(key="tr.epochs").set_value(3).run()
    assert not at.exception
    assert at.query_params["arch"] == "nin" and at.query_params["epochs"] == "3"
    assert "side" not in at.query_params  # the recipe's side: not repeated

    shared = page(OTHER)
    shared.query_params.update(arch="nin", epochs="3", bs="32")
    shared.run()
    assert not shared.exception
    assert shared.selectbox(key="tr.arch").value == "nin" and shared.number_input(key="tr.epochs").value == 3
    assert shared.number_input(key="tr.bs").value == 32

    crafted = page(OTHER)
    crafted.query_params.update(arch="vgg11", side="100000", wdiv="32", lr="nan", bs="abc")
    crafted.run()
    assert not crafted.exception
    assert crafted.number_input(key="tr.side").value == UI_MAX_SIDE
    assert crafted.select_slider(key="tr.wdiv").value in WIDTH_DIVS
    assert crafted.number_input(key="tr.lr").value > 0
    warned = " ".join(w.value for w in crafted.warning)
    assert "side" in warned and "wdiv" in warned and "bs" in warned
