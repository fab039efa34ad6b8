"""The training page under Streamlit's AppTest: empty store, a finished run reattached from the
URL, an unknown run id, a run started from the page, and the page reached through app.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.runs.manager import RunManager

from training_helpers import tiny

PAGE = "../pages/training.py"
TIMEOUT = 120


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A fresh run store for the page's process-wide manager (closed and forgotten afterwards)."""
    from ui import training as ut

    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(path))
    yield path
    try:
        ut.manager().close()
    finally:
        ut._manager.clear()


def finished_run(db, **fields) -> str:
    """A tiny run completed by another manager (as if by an earlier server process)."""
    m = RunManager(db, slots={"cpu": 1})
    try:
        rid = m.submit(tiny(**fields))
        assert m.wait(rid, timeout=60).status == "completed"
        return rid
    finally:
        m.close()


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info", "subheader")
                    for e in at.get(kind))


def test_empty_store(db):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "No runs yet." in texts(at)
    assert any(b.label == "Start training" and not b.disabled for b in at.button)
    assert [m.label for m in at.metric][:3] == ["Memory needed", "Estimated time", "Training images"]
    assert at.metric[1].value != "—"  # the time estimate was measured


def test_finished_run_reattaches_from_the_url(db):
    rid = finished_run(db, max_steps=8, eval_every=4)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
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
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params["run"] = rid
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.title[0].value == "训练网络" and "完成 0.15 轮（3 步）" in texts(at)


def test_unknown_run_id(db):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params["run"] = "deadbeef0000"
    at.run()
    assert not at.exception
    assert any("deadbeef0000" in e.value for e in at.error)


def test_start_a_run_from_the_page_then_overlay_and_delete(db):
    from ui import training as ut

    first = finished_run(db, max_steps=3)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
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
    mgr = ut.manager()
    info = mgr.wait(rid, timeout=60)
    assert info.status == "completed" and info.config["data"]["subset"] == 128
    at.run()  # the fragment draws the finished run; the history now holds both
    assert not at.exception and len(at.get("plotly_chart")) >= 3
    at.multiselect(key="tr.overlay").set_value([rid, first]).run()
    assert not at.exception and len(at.get("plotly_chart")) >= 4  # the overlay chart added
    at.selectbox(key="tr.pick").set_value(first).run()
    next(b for b in at.button if b.key == "tr.delete").click().run()
    assert not at.exception
    assert [r.id for r in mgr.runs()] == [rid]


def test_through_app_navigation(db):
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not at.exception
    at.switch_page("pages/training.py").run()
    assert not at.exception
    assert at.title[0].value == "Train a network"


def test_architecture_change_applies_its_recipe_and_bad_values_are_refused(db):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
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
