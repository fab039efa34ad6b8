"""Shared links to the lab pages: each lab keeps its settings in the URL (``ui.schemas`` + ``PageState``).

Every page opens through ``app.py`` as a link would (the query string set before the first run,
then the page chosen), so the navigation and the language switch are real. Per lab: a link's
settings reach the widgets and stay in the URL after a change; a crafted link is clamped or
defaulted with one translated warning, never an exception; the defaults leave the URL clean.
Also the two field types the labs added to ``cnnviz.urlstate`` (stepped whole numbers, number
choices such as learning rates).
"""

from __future__ import annotations

import pathlib

import pytest
from conftest import WAIT_S
from streamlit.testing.v1 import AppTest

from cnnviz.urlstate import FloatChoiceField, IntStepField
from ui import schemas

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 60
LABS = {"gradflow": schemas.gradflow_schema, "batchnorm": schemas.batchnorm_schema,
        "costlab": schemas.costlab_schema, "featuremaps": schemas.featuremaps_schema}


def open_page(page: str, **query: str) -> AppTest:
    """``app.py`` on ``pages/<page>.py`` with ``query`` in the URL from the first run, as a link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"pages/{page}.py")
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def lab_params(at: AppTest, page: str) -> dict[str, str]:
    """The query-string entries that belong to ``page``'s schema."""
    names = LABS[page]().names
    return {k: v for k, v in at.query_params.items() if k in names}


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


# --- the field types ------------------------------------------------------------------------
def test_step_field_snaps_to_its_grid_and_clamps():
    f = IntStepField("depth", 31, lo=9, hi=57, step=2)
    assert f.parse("15", 31) == (15, None)
    value, problem = f.parse("30", 31)  # even: a tie between 29 and 31 goes to the lower
    assert value == 29 and problem.key == "url.nearest" and "9, 11, …, 57" in problem.render()
    assert f.parse("100", 31)[0] == 57 and f.parse("100", 31)[1].key == "url.clamped"
    assert f.parse("-4", 31)[0] == 9
    assert f.parse("abc", 31) == (31, f.parse("abc", 31)[1]) and f.parse("abc", 31)[1].key == "url.not_int"
    g = IntStepField("steps", 40, lo=5, hi=200, step=5)
    assert g.parse("38", 40)[0] == 40 and g.parse("37", 40)[0] == 35
    assert g.encode(40) == "40"


def test_float_choice_field_matches_nearest_and_returns_the_choice_itself():
    f = FloatChoiceField("lr", 0.05, choices=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2))
    for raw in ("0.05", "0.050", "5e-2", " .05 "):
        value, problem = f.parse(raw, 0.05)
        assert value is f.choices[3] and problem is None  # the select slider finds it among its options
    value, problem = f.parse("0.07", 0.05)
    assert value == 0.05 and problem.key == "url.nearest" and "0.005, 0.01" in problem.render()
    assert f.parse("9", 0.05)[0] == 0.2 and f.parse("-1", 0.05)[0] == 0.005
    for raw in ("abc", "nan", "inf", "1" * 500):
        value, problem = f.parse(raw, 0.05)
        assert value == 0.05 and problem.key == "url.not_number"
    assert f.encode(0.005) == "0.005" and f.encode(0.1) == "0.1"
    assert "改用最接近的" in f.parse("0.07", 0.05)[1].render("zh")


@pytest.mark.parametrize("page", list(LABS))
def test_lab_schema_defaults_round_trip(page):
    schema = LABS[page]()
    defaults = schema.defaults()
    assert schema.encode(defaults) == {}  # the defaults write nothing
    values, problems = schema.parse({k: schema.field(k).encode(v) for k, v in defaults.items()})
    assert values == defaults and problems == []


# --- each lab: a link opens its view, the URL follows the widgets ---------------------------------
@pytest.mark.parametrize("page", list(LABS))
def test_default_view_leaves_the_url_clean(page):
    at = open_page(page)
    assert not at.warning and lab_params(at, page) == {}


def test_gradflow_link():
    # BatchNorm on and Fashion-MNIST are the defaults (ui.schemas.gradflow_schema): a link turns them off
    at = open_page("gradflow", depth="15", bn="0", lr="0.01", init="xavier", data="mnist")
    assert not at.warning
    assert at.slider(key="gradflow.depth").value == 15 and at.toggle(key="gradflow.bn").value is False
    assert at.select_slider(key="gradflow.lr").value == 0.01
    assert at.selectbox(key="gradflow.init").value == "xavier"
    assert at.selectbox(key="gradflow.data").value == "mnist"
    at.slider(key="gradflow.steps").set_value(10).run()
    assert lab_params(at, "gradflow") == {"depth": "15", "bn": "0", "lr": "0.01", "init": "xavier",
                                          "data": "mnist", "steps": "10"}


@pytest.mark.slow  # a real pool
def test_gradflow_run_takes_the_links_settings(sched_db):
    from cnnviz.runs.scheduler import Scheduler

    # the page alone (a button click does not survive AppTest's page switch), the link in its URL
    at = AppTest.from_file(str(ROOT / "pages" / "gradflow.py"), default_timeout=TIMEOUT)
    at.session_state["_student_token"] = "links-student-token-0123456789"
    # the page's longest run (200 steps of a paired 15-conv net: a minute or more here), so that it
    # is still queued or running when Stop is pressed: only a working Stop ends it "stopped"
    for k, v in dict(depth="15", steps="200", lr="0.01", init="xavier").items():
        at.query_params[k] = v
    ok(at.run()).button(key="gf.run").click().run()
    rid = ok(at).session_state["gf.run_id"]
    sch = Scheduler(sched_db, pool="external")
    try:
        p = sch.get(rid).config
        assert (p["depth"], p["steps"], p["lr"], p["init"]) == (15, 200, 0.01, "xavier")
        assert sch.get(rid).status in ("queued", "running")
        ok(at.button(key="gf.stop").click().run())
        info = sch.wait(rid, WAIT_S)
        assert info.status == "stopped", (info.status, info.message)
        steps = [e["step"] for e in sch.events(rid) if e.get("kind") == "step"]
        assert max(steps, default=0) < 200  # ended by the Stop, not by running out of steps
    finally:
        sch.close()


def test_gradflow_hidden_depth_survives_in_the_url():
    at = open_page("gradflow", depth="21", r18="1")
    # ResNet-18 sets the depth: no depth slider, but the link's depth stays
    assert [s.key for s in at.slider] == ["gradflow.steps"]
    at.toggle(key="gradflow.bn").set_value(False).run()  # on by default
    assert lab_params(at, "gradflow") == {"depth": "21", "r18": "1", "bn": "0"}
    at.toggle(key="gradflow.r18").set_value(False).run()
    assert ok(at).slider(key="gradflow.depth").value == 21
    assert lab_params(at, "gradflow") == {"depth": "21", "bn": "0"}


def test_batchnorm_link():
    at = open_page("batchnorm", n="8", tsteps="40", tlr="0.3", impl="scratch", mom="0.3", trials="50")
    assert not at.warning
    assert at.select_slider(key="batchnorm.n").value == 8 and at.slider(key="batchnorm.tsteps").value == 40
    assert at.select_slider(key="batchnorm.tlr").value == 0.3 and at.selectbox(key="batchnorm.impl").value == "scratch"
    assert at.select_slider(key="batchnorm.mom").value == 0.3 and at.select_slider(key="batchnorm.trials").value == 50
    at.slider(key="batchnorm.msteps").set_value(10).run()
    assert lab_params(ok(at), "batchnorm") == {"n": "8", "tsteps": "40", "tlr": "0.3", "impl": "scratch",
                                               "mom": "0.3", "trials": "50", "msteps": "10"}


def test_costlab_link():
    at = open_page("costlab", c2r="400", nside="96", ncin="3")
    assert not at.warning
    assert at.slider(key="costlab.c2r").value == 400 and at.select_slider(key="costlab.nside").value == 96
    assert at.radio(key="costlab.ncin").value == 3
    text = "\n".join(m.value for m in at.markdown)
    assert "save nothing" in text  # the link's reduction (400 > 192 inputs) reached the arithmetic
    at.number_input(key="costlab.cin").set_value(256).run()
    assert lab_params(ok(at), "costlab") == {"c2r": "400", "nside": "96", "ncin": "3", "cin": "256"}
    at.select_slider(key="costlab.nside").set_value(224).run()  # back to the default: gone from the URL
    assert lab_params(ok(at), "costlab") == {"c2r": "400", "ncin": "3", "cin": "256"}


def test_featuremaps_link():
    at = open_page("featuremaps", arch="nin", maps="8", img="7")
    assert not at.warning
    assert at.selectbox(key="featuremaps.arch").value == "nin" and at.select_slider(key="featuremaps.maps").value == 8
    assert at.number_input(key="featuremaps.img").value == 7
    at.select_slider(key="featuremaps.maps").set_value(4).run()
    assert lab_params(ok(at), "featuremaps") == {"arch": "nin", "maps": "4", "img": "7"}
    at.radio(key="featuremaps.src").set_value("upload").run()  # the index widget is gone; its value is not
    assert lab_params(ok(at), "featuremaps") == {"arch": "nin", "maps": "4", "img": "7", "src": "upload"}
    at.radio(key="featuremaps.src").set_value("dataset").run()
    assert ok(at).number_input(key="featuremaps.img").value == 7


# --- crafted links: clamped or defaulted, one translated warning ------------------------------------
def test_gradflow_crafted_link():
    at = open_page("gradflow", depth="30", steps="999", lr="abc", init="he", bn="maybe", seed="1e400")
    w = warnings(at)
    assert "depth=`30`" in w and "steps=`999`" in w and "lr=`abc`" in w and "init=`he`" in w and "bn=`maybe`" in w
    assert "seed=`1e400`" in w and not at.error
    assert at.slider(key="gradflow.depth").value == 29 and at.slider(key="gradflow.steps").value == 200
    assert at.select_slider(key="gradflow.lr").value == 0.05 and at.selectbox(key="gradflow.init").value == "pytorch"
    assert lab_params(at, "gradflow") == {"depth": "29", "steps": "200"}
    at.toggle(key="gradflow.bn").set_value(True).run()
    assert not ok(at).warning  # the warning is for the link's first run only


def test_batchnorm_crafted_link_in_chinese():
    at = open_page("batchnorm", tlr="0.7", tsteps="35", mom="1e9", n="zz", trials="-1", lang="zh")
    w = warnings(at)
    assert "tlr=`0.7`" in w and "tsteps=`35`" in w and "mom=`1e9`" in w and "n=`zz`" in w and "改用" in w
    assert at.select_slider(key="batchnorm.tlr").value == 0.5  # 0.7 is halfway: the lower
    assert at.slider(key="batchnorm.tsteps").value == 40 and at.select_slider(key="batchnorm.mom").value == 1.0
    assert at.select_slider(key="batchnorm.n").value == 16 and at.select_slider(key="batchnorm.trials").value == 50
    assert lab_params(at, "batchnorm") == {"tlr": "0.5", "tsteps": "40", "mom": "1", "trials": "50"}


def test_costlab_crafted_link():
    at = open_page("costlab", cin="99999", side="0", nside="100", classes="-5", c3="<script>" * 50)
    w = warnings(at)
    assert "cin=`99999`" in w and "side=`0`" in w and "nside=`100`" in w and "classes=`-5`" in w and "c3=`<script>" in w
    assert "<script>" * 4 not in w  # a long value is quoted short
    assert at.number_input(key="costlab.cin").value == 2048 and at.number_input(key="costlab.side").value == 1
    assert at.select_slider(key="costlab.nside").value == 96 and at.select_slider(key="costlab.classes").value == 10
    assert at.slider(key="costlab.c3").value == 32 and not at.error
    assert lab_params(at, "costlab") == {"cin": "2048", "side": "1", "nside": "96"}


def test_featuremaps_crafted_link():
    at = open_page("featuremaps", arch="vgg99", maps="5", img="5000", weights="x", src="")
    w = warnings(at)
    assert "arch=`vgg99`" in w and "maps=`5`" in w and "weights=`x`" in w
    assert "img=`5000`" in w and "0–999" in w  # the synthetic test split has 1,000 images: the page lowers it
    assert at.selectbox(key="featuremaps.arch").value == "lenet" and at.select_slider(key="featuremaps.maps").value == 4
    assert at.number_input(key="featuremaps.img").value == 999
    assert at.radio(key="featuremaps.weights").value == "untrained"
    assert not at.error and lab_params(at, "featuremaps") == {"maps": "4", "img": "999"}
