"""Issue 21, item 5: the quiz and the labs fixed as listed.

* a collapse (an input too small for the network) keeps the layers up to the failing one
  (``cnnviz.inspect.collapse``), and the explorer draws them, the failed one marked;
* the quiz keeps each student's progress in the run store (a reload finds it), checks in a
  form (Enter submits), lists its "which layer collapses" choices with their layer types, and
  its explorer link opens the failing layer on a diagram;
* the input side has a number box beside its slider, one value, in the URL;
* the feature-map lab names the image's class; the labs open on Fashion-MNIST.
"""

from __future__ import annotations

import json
import pathlib
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.errors import ShapeError
from cnnviz.i18n import t
from cnnviz.inspect.collapse import collapse
from cnnviz.inspect.tracing import trace
from cnnviz.labs import quiz as qz
from cnnviz.models.registry import get_config, min_input_side
from cnnviz.viz import diagram
from cnnviz.viz.explore import layer_rows

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120
SEED = 7  # the quiz's seed: its questions 6 and 8 are "which layer collapses"
ME, OTHER = "quizfix-me-" + "x" * 16, "quizfix-other-" + "y" * 16  # raw cookie tokens


@pytest.fixture
def store(page_store):
    """A fresh run store and no pool: the pages only read and write its tables."""
    return page_store


# --- the layers up to a collapse ------------------------------------------------------------------
CUTS = [("alexnet", 32), ("vgg11_small", 16), ("nin", 20), ("lenet", 8)]


@pytest.mark.parametrize("arch, side", CUTS)
def test_collapse_keeps_the_layers_that_ran(arch, side):
    cfg = get_config(arch, input_hw=(side, side))
    with pytest.raises(ShapeError) as refused:
        trace(cfg)
    cut = collapse(cfg)
    assert cut is not None and cut.failed == refused.value.layer
    assert cut.error.min_side == min_input_side(cfg)  # the same message as the explorer's
    leaves = [r for r in cut.trace.layers if r.is_leaf]
    assert leaves[-1].name == cut.failed and leaves[-1].output_shape == ()
    assert all(r.output_shape for r in leaves[:-1])  # every layer before it ran
    assert leaves[0].input_shape == (1, side, side)
    # the same layers as a whole trace (at the smallest side that works), in the same order
    whole = {r.name: r for r in trace(cfg.replace(input_hw=(min_input_side(cfg),) * 2)).layers}
    assert [r.name for r in leaves] == [n for n in whole if whole[n].is_leaf][:len(leaves)]
    for r in leaves:
        w = whole[r.name]
        assert (r.type, r.kind, r.params, r.kernel, r.stride, r.padding) == (w.type, w.kind, w.params, w.kernel,
                                                                               w.stride, w.padding)
    # each layer's output feeds the next, and a conv's MACs are its weights times its output pixels
    for a, b in zip(leaves, leaves[1:]):
        assert a.output_shape == b.input_shape
    for r in leaves[:-1]:
        if r.kind == "conv":
            assert r.macs == r.params * r.output_shape[1] * r.output_shape[2]


def test_collapse_of_a_network_that_fits_is_none():
    assert collapse(get_config("alexnet")) is None
    assert collapse(get_config("resnet18", input_hw=(8, 8))) is None  # padded windows: side 8 works


def test_diagram_and_table_mark_the_failed_layer():
    cut = collapse(get_config("vgg11_small", input_hw=(16, 16)))
    lay = diagram.layout(cut.trace, "none", "en", failed=cut.failed)
    node = lay.node(cut.failed)
    assert node.kind == diagram.FAILED and node.label.startswith("✕")
    assert "output" not in {n.id for n in lay.nodes}  # nothing leaves the failed layer
    assert "features.4" in lay.expanded  # the block around it is drawn open even with "none"
    fig = diagram.figure(lay, "en")
    assert "#b91c1c" in json.dumps(fig.to_plotly_json()["layout"]["shapes"])  # the red outline
    rows = layer_rows(cut.trace, "leaves", "en", failed=cut.failed)
    assert rows[-1]["layer"].strip() == cut.failed
    assert rows[-1]["output"] == t("quizfix.table.failed", "en")
    assert all("×" in r["output"] for r in rows[:-1])


def test_a_conv_left_with_no_output_is_drawn_with_its_channels():
    """A collapse at a conv (AlexNet's 11×11 at side 8): the failing layer has no output shape, so
    its label reads its channels off its parameters (96 × (1 × 11 × 11 + 1)), in "auto" too
    (whose sizing pass lays out every unit)."""
    cut = collapse(get_config("alexnet", input_hw=(8, 8)))
    assert cut is not None and cut.failed == "features.0"
    for expand in ("auto", "none", "all"):
        lay = diagram.layout(cut.trace, expand, "en", failed=cut.failed)
        assert "96" in lay.node(cut.failed).label and "?" not in lay.node(cut.failed).label


def _spec(chart) -> str:
    """A plotly chart's figure as text, non-ASCII characters as they are (the proto escapes them)."""
    return json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)


def _explorer(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/explorer.py")
    return at.run()


def test_explorer_shows_the_layers_up_to_a_collapse(store):
    at = _explorer(arch="alexnet", side="32")
    assert not at.exception, at.exception
    assert at.error and "features.7" in at.error[0].value  # the message stays
    (chart,) = at.get("plotly_chart")
    spec = _spec(chart)
    assert "✕" in spec and "features.7" in spec
    (table,) = at.dataframe
    names = [n.strip() for n in table.value["layer"]]
    assert names[-1] == "features.7" and names[0] == "features.0"
    assert list(table.value["output"])[-1] == t("quizfix.table.failed", "en")
    # a side that fits: the usual panels, no collapse view
    at.slider(key="explorer.side").set_value(224).run()
    assert not at.exception and not at.error
    assert "✕" not in _spec(at.get("plotly_chart")[0])


# --- the side's number box ---------------------------------------------------------------------------
def test_side_number_box_and_slider_are_one_value_in_the_url(store):
    at = _explorer(arch="lenet")
    box = at.number_input(key="explorer.side.box")
    assert box.value == at.slider(key="explorer.side").value == 28
    box.set_value(16).run()
    assert not at.exception, at.exception
    assert at.slider(key="explorer.side").value == 16 and at.number_input(key="explorer.side.box").value == 16
    assert at.query_params["side"] in ("16", ["16"])
    at.slider(key="explorer.side").set_value(100).run()
    assert at.number_input(key="explorer.side.box").value == 100
    assert at.query_params["side"] in ("100", ["100"])
    at = _explorer(arch="lenet", side="48")  # a link sets both
    assert at.number_input(key="explorer.side.box").value == at.slider(key="explorer.side").value == 48


# --- the quiz ---------------------------------------------------------------------------------------
def test_quiz_progress_table_keeps_answers_per_student_and_seed(tmp_path):
    from cnnviz.labs.quizprogress import MAX_ANSWER, QuizProgress
    from cnnviz.runs.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")
    try:
        p = QuizProgress(store)
        p.record("a", 7, 0, False, "1x1x1")
        p.record("a", 7, 0, True, "64x28x28")  # a later check replaces the first
        p.record("a", 7, 3, False, "z" * 1000)
        p.record("b", 7, 0, False, "9")
        p.move("a", 7, 4)
        again = QuizProgress(RunStore(tmp_path / "runs.sqlite"))  # another process (replica) sees it
        got = again.answers("a", 7)
        assert got[0].right and got[0].text == "64x28x28" and not got[3].right and len(got[3].text) == MAX_ANSWER
        assert set(again.answers("b", 7)) == {0} and again.answers("a", 8) == {}
        assert again.position("a", 7) == 4 and again.position("a", 8) == 0 and again.position("b", 7) == 0
    finally:
        store.close()


def _quiz(token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["seed"] = str(SEED)
    at.session_state["_student_token"] = token
    at.run()
    at.switch_page("pages/quiz.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _score(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == t("quiz.score", "en"))


def _goto(at: AppTest, i: int) -> None:
    for _ in range(i):
        at.button(key="quiz.next").click().run()


def test_quiz_progress_survives_a_reload(store):
    qs = qz.quiz(SEED, 10)
    at = _quiz(ME)
    right = 0 if not qs[0].choices else None
    assert right == 0  # question 1 of seed 7 is typed
    at.text_input(key=f"quiz.answer.{SEED}.0").input(qs[0].answer_text())
    at.button(key="quiz.check").click().run()
    _goto(at, 1)
    at.text_input(key=f"quiz.answer.{SEED}.1").input("1x1x1")
    at.button(key="quiz.check").click().run()
    _goto(at, 1)  # on question 3 now
    assert _score(at) == "1 / 10"
    # a reload: a new session of the same browser (its cookie token)
    again = _quiz(ME)
    assert _score(again) == "1 / 10"
    assert again.subheader[0].value.startswith(t("quiz.progress", "en", i=3, n=10, kind="")[:12])
    again.button(key="quiz.prev").click().run()  # question 2's wrong answer is shown again, as answered
    assert again.text_input(key=f"quiz.answer.{SEED}.1").value == "1x1x1"
    assert again.error and "1x1x1" in again.error[0].value
    # another browser has its own progress
    other = _quiz(OTHER)
    assert _score(other) == "0 / 10" and other.subheader[0].value.startswith("Question 1 ")


def test_quiz_checks_in_a_form_so_enter_submits(store):
    at = _quiz(ME)
    box = at.text_input(key=f"quiz.answer.{SEED}.0")
    check = at.button(key="quiz.check")
    assert box.proto.form_id and box.proto.form_id == check.proto.form_id  # one form: Enter submits it
    assert check.proto.is_form_submitter


def test_quiz_collapse_choices_carry_their_layer_type(store):
    qs = qz.quiz(SEED, 10)
    i = next(j for j, q in enumerate(qs) if q.kind == "collapse")
    q = qs[i]
    ok = trace(q.config.replace(input_hw=(min_input_side(q.config),) * 2))
    by_name = {r.name: r for r in ok.layers}
    for c, typ in zip(q.choices, q.choice_types):
        assert typ.startswith(by_name[c].type + " ")  # "MaxPool2d 2×2/2"
    at = _quiz(ME)
    _goto(at, i)
    radio = at.radio(key=f"quiz.answer.{SEED}.{i}")
    assert list(radio.options) == [f"{c} ({typ})" for c, typ in zip(q.choices, q.choice_types)]
    assert any("Conv2d" in o for o in radio.options) or any("Pool2d" in o for o in radio.options)


def test_quiz_collapse_link_opens_the_failing_layer_on_a_diagram(store):
    qs = qz.quiz(SEED, 10)
    i = next(j for j, q in enumerate(qs) if q.kind == "collapse")
    q = qs[i]
    at = _quiz(ME)
    _goto(at, i)
    wrong = next(c for c in q.choices if c != q.answer)
    at.radio(key=f"quiz.answer.{SEED}.{i}").set_value(wrong)
    at.button(key="quiz.check").click().run()
    (link,) = at.get("page_link")
    params = dict(parse_qsl(link.proto.query_string))
    assert params["side"] == str(q.config.input_hw[0])
    assert q.layer.startswith(params["expand"] + ".")  # the block around the failing layer
    ex = _explorer(**params)
    assert not ex.exception, ex.exception
    assert not ex.warning  # the link's block is one the view knows
    assert ex.error and q.layer in ex.error[0].value
    (chart,) = ex.get("plotly_chart")
    assert q.layer in _spec(chart) and "✕" in _spec(chart)
    assert [n.strip() for n in ex.dataframe[0].value["layer"]][-1] == q.layer


# --- the labs -------------------------------------------------------------------------------------------
def test_labs_default_to_fashion_mnist():
    from ui import schemas

    for schema, names in ((schemas.featuremaps_schema(), ("data",)), (schemas.gradflow_schema(), ("data",)),
                          (schemas.batchnorm_schema(), ("tdata", "mdata", "bdata"))):
        for name in names:
            assert schema.field(name).default == "fashion-mnist", name
    from cnnviz.train.recipes import recipe_config

    assert recipe_config("lenet", "class").data.dataset == "fashion-mnist"  # what training opens on


def test_featuremaps_names_the_class(store, monkeypatch):
    from conftest import need_data

    from cnnviz.jobs.finished import class_names
    from cnnviz.train.data import DataConfig, load_data

    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(need_data()))
    at = AppTest.from_file(str(ROOT / "pages" / "featuremaps.py"), default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="featuremaps.data").value == "fashion-mnist"
    y = load_data(DataConfig(dataset="fashion-mnist")).test_y
    captions = [c.value for c in at.caption]
    want = t("resv.maps.label", "en", name=class_names("fashion-mnist", "en")[int(y[0])])
    assert want in captions  # image 0 of the test split: "true class: Ankle boot"
    assert not any(c.startswith("label:") for c in captions)


def _gradflow_default(**changes):
    """The gradient-flow lab's config from its page's defaults (``ui.schemas.gradflow_schema``)."""
    from cnnviz.labs.gradflow import GradFlowConfig
    from ui import schemas

    d = schemas.gradflow_schema().defaults()
    return GradFlowConfig(depth=d["depth"], resnet18=d["r18"], batch_norm=d["bn"], width=d["width"], side=d["side"],
                          steps=d["steps"], lr=d["lr"], init=d["init"], batch_size=d["batch"], seed=d["seed"],
                          dataset=d["data"]).replace(**changes)


def test_gradflow_defaults_are_the_measured_ones():
    cfg = _gradflow_default()
    assert (cfg.batch_norm, cfg.dataset, cfg.conv_depth, cfg.steps, cfg.lr) == (True, "fashion-mnist", 31, 40, 0.05)


@pytest.mark.slow  # two 31-conv nets trained 40 steps each: 10-60 s on one thread
def test_gradflow_defaults_show_the_point(monkeypatch):
    """The plain net stays near chance (ln 10 ≈ 2.30), the residual one learns: the measurement
    in ``ui.schemas.gradflow_schema``'s docstring, seed 0."""
    import torch
    from conftest import need_data

    from cnnviz.labs.gradflow import run_gradflow
    from cnnviz.train.events import StepEvent

    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(need_data()))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses: dict[str, list[float]] = {"plain": [], "residual": []}
        for name, ev in run_gradflow(_gradflow_default()):
            if isinstance(ev, StepEvent):
                losses[name].append(ev.loss)
    finally:
        torch.set_num_threads(threads)
    plain, residual = (sum(v[-5:]) / 5 for v in (losses["plain"], losses["residual"]))
    assert len(losses["plain"]) == len(losses["residual"]) == 40
    assert plain > 1.8 and residual < 1.4 and plain - residual > 0.6, (plain, residual)
