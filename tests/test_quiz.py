"""The predict-the-shape quiz: determinism, every kind's answer checked independently (the
summary CLI, the modules themselves), the explanations' arithmetic, answer parsing, the CLI,
and the page through AppTest."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.errors import CnnvizError, ShapeError
from cnnviz.i18n import t
from cnnviz.inspect.tracing import trace
from cnnviz.labs import quiz as qz
from cnnviz.models.registry import build_meta
from tests.cli_helpers import error_line, run_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEEDS = tuple(range(12))
NAV_LINE = ("pages/quiz.py", "nav.quiz", ":material/quiz:", "nav.section.labs")
TIMEOUT = 60


SLOW_FIXTURES = {"questions"}  # every kind of question, traced for many seeds (conftest marks their tests slow)
@pytest.fixture(scope="module")
def questions() -> list[qz.Question]:
    """Every kind, several times: six questions (one of each kind) for each seed."""
    return [q for s in SEEDS for q in qz.quiz(s, len(qz.KINDS))]


def of_kind(questions, kind):
    out = [q for q in questions if q.kind == kind]
    assert len(out) == len(SEEDS)  # each seed's first six questions hold every kind once
    return out


def summary_cli(q: qz.Question) -> tuple[int, str, str]:
    """``python -m cnnviz summary --json`` of the question's network, built from the CLI's own flags."""
    cfg = q.config
    args = ["summary", q.arch, "--json", "--input", f"{cfg.in_channels},{cfg.input_hw[0]},{cfg.input_hw[1]}",
            "--set", f"batch_norm={cfg.batch_norm}", "--set", f"width_div={cfg.width_div}"]
    if hasattr(cfg, "residual"):
        args += ["--set", f"residual={cfg.residual}"]
    return run_cli(*args)


def summary_json(q: qz.Question) -> tuple[int, dict | None, str]:
    code, out, err = summary_cli(q)
    return code, (json.loads(out) if code == 0 else None), err


def layer_of(summary: dict, name: str) -> dict:
    return next(r for r in summary["layers"] if r["name"] == name)


# --- determinism ------------------------------------------------------------------------------
@pytest.mark.slow  # quizzes traced for several seeds
def test_same_seed_same_quiz_and_seeds_differ():
    a, b = qz.quiz(11, 8), qz.quiz(11, 8)
    assert a == b and len(a) == 8
    assert {q.kind for q in a[:6]} == set(qz.KINDS)  # each kind once before any repeats
    assert qz.quiz(12, 8) != a
    assert qz.quiz(11, 3) == a[:3]  # a shorter quiz is the start of the longer one


@pytest.mark.slow  # a fresh interpreter
def test_same_seed_same_quiz_in_another_process():
    """Classroom replicas are separate processes: a seed must not depend on hash randomisation."""
    code = "import json,sys; from cnnviz.labs.quiz import quiz; print(json.dumps([q.to_dict() for q in quiz(5, 6)]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert json.loads(out) == json.loads(json.dumps([q.to_dict() for q in qz.quiz(5, 6)]))


@pytest.mark.parametrize("seed, count", [(-1, 5), (qz.MAX_SEED + 1, 5), (1, 0), (1, qz.MAX_COUNT + 1), ("7", 3),
                                         (1, True)])
def test_bad_seed_or_count_is_a_clear_error(seed, count):
    with pytest.raises(CnnvizError) as exc:
        qz.quiz(seed, count)
    assert exc.value.code == "err.quiz_range" and "\n" not in str(exc.value)


# --- every kind's answer, checked against the summary and the modules --------------------------
def test_shape_answers_match_the_summary(questions):
    for q in of_kind(questions, "shape"):
        code, s, err = summary_json(q)
        assert code == 0, err
        assert tuple(layer_of(s, q.layer)["output_shape"]) == q.answer
        assert len(q.answer) == 3


def test_params_answers_match_the_modules(questions):
    for q in of_kind(questions, "params"):
        code, s, err = summary_json(q)
        assert code == 0, err
        assert layer_of(s, q.layer)["params"] == q.answer
        conv = dict(build_meta(q.config).named_modules())[q.layer]  # the module itself, no torchinfo
        assert sum(p.numel() for p in conv.parameters()) == q.answer


def test_collapse_answers_are_the_layer_the_library_names(questions):
    for q in of_kind(questions, "collapse"):
        assert q.answer == q.layer and q.answer in q.choices and len(q.choices) == qz.CHOICES
        with pytest.raises(ShapeError) as exc:
            trace(q.config)
        assert exc.value.layer == q.answer
        assert q.answer in error_line(*summary_cli(q))  # the CLI names the same layer
        side = q.config.input_hw[0]
        assert 8 <= side < exc.value.min_side  # inside the explorer's slider, below the smallest side
        # the choices are real spatial layers of that network (traced at a side it accepts)
        ok = trace(q.config.replace(input_hw=(exc.value.min_side,) * 2))
        names = [r.name for r in ok.layers if r.kind in ("conv", "pool")]
        assert set(q.choices) <= set(names) and list(q.choices) == [n for n in names if n in q.choices]


def test_min_side_answers_match_the_summary_and_the_edge(questions):
    for q in of_kind(questions, "min_side"):
        code, s, err = summary_json(q)
        assert code == 0, err
        assert s["totals"]["min_side"] == q.answer
        m = q.answer
        trace(q.config.replace(input_hw=(m, m)))  # accepted
        with pytest.raises(ShapeError) as exc:
            trace(q.config.replace(input_hw=(m - 1, m - 1)))
        assert exc.value.layer == q.layer
        assert str(m) not in q.render().split(".")[0]  # the setup does not give the side away


def test_rf_answers_match_the_summary(questions):
    for q in of_kind(questions, "rf"):
        code, s, err = summary_json(q)
        assert code == 0, err
        assert layer_of(s, q.layer)["rf"] == q.answer


def test_inception_answers_match_the_summary_and_the_block(questions):
    for q in of_kind(questions, "inception"):
        assert q.arch == "googlenet"
        code, s, err = summary_json(q)
        assert code == 0, err
        assert layer_of(s, q.layer)["output_shape"][0] == q.answer
        assert dict(build_meta(q.config).named_modules())[q.layer].out_channels == q.answer


# --- the explanations' arithmetic --------------------------------------------------------------
def _n_in(step: qz.Step) -> int:
    return int(re.match(r"\((\d+)", step.expr).group(1))


def test_every_step_evaluates_to_its_value(questions):
    for q in questions:
        assert q.steps, q
        for s in q.steps:
            assert qz.evaluate(s.expr) == s.value, (q.kind, s)


def test_explanations_arrive_at_the_answer(questions):
    for q in questions:
        st = q.steps
        if q.kind == "shape":
            chain = [s for s in st if s.what == "h"]
            assert _n_in(chain[0]) == q.config.input_hw[0]  # starts at the input side
            for a, b in zip(chain, chain[1:]):
                assert _n_in(b) == a.value  # each step takes the previous one's output
            assert chain[-1].layer == q.layer and chain[-1].value == q.answer[1]
            assert st[-1].what in ("c_conv", "c_pool") and st[-1].value == q.answer[0]
        elif q.kind in ("params", "inception"):
            assert len(st) == 1 and st[0].value == q.answer
        elif q.kind == "rf":
            r = [s for s in st if s.what == "r"]
            assert r[0].expr.startswith("1+") and r[-1].value == q.answer
        elif q.kind == "collapse":
            assert _n_in(st[0]) == q.config.input_hw[0]
            assert all(s.value >= 1 for s in st[:-1]) and st[-1].value < 1 and st[-1].layer == q.answer
            assert all(_n_in(b) == a.value for a, b in zip(st, st[1:]))
        elif q.kind == "min_side":
            fail = [s for s in st if s.what == "side_fail"]
            ok = [s for s in st if s.what == "h"]
            assert _n_in(fail[0]) == q.answer - 1 and fail[-1].value < 1 and fail[-1].layer == q.layer
            assert _n_in(ok[0]) == q.answer and all(s.value >= 1 for s in ok) and ok[-1].layer == q.layer
            for chain in (fail, ok):
                assert all(_n_in(b) == a.value for a, b in zip(chain, chain[1:]))
        # the rendered lines carry the numbers, in both languages
        for lang in ("en", "zh"):
            lines = q.explain(lang)
            assert len(lines) == len(st) + 2 and q.answer_text() in lines[-1]
            assert all(f"{s.value:,}" in line for s, line in zip(st, lines[1:-1]))


def test_pretty_writes_the_book_notation():
    assert qz.pretty("(28+2*2-5)//1+1") == "⌊(28+2·2−5)/1⌋+1"
    assert qz.pretty("3**2*64*128+128") == "3²·64·128+128"
    with pytest.raises(ValueError):
        qz.evaluate("__import__('os')")


# --- answer parsing ----------------------------------------------------------------------------
SHAPE_Q = qz.Question("shape", "lenet", (), "features.0", "quiz.q.shape", (), (64, 28, 28))
COUNT_Q = qz.Question("params", "lenet", (), "features.0", "quiz.q.params", (), 1234)
CHOICE_Q = qz.Question("collapse", "lenet", (), "features.4", "quiz.q.collapse", (), "features.4",
                       ("features.0", "features.3", "features.4", "features.7"))


@pytest.mark.parametrize("text", ["64x28x28", "64 × 28 × 28", "(64, 28, 28)", "[64,28,28]", "64*28*28", " 64X28x28 "])
def test_shapes_are_read_leniently(text):
    assert qz.check(SHAPE_Q, text)


@pytest.mark.parametrize("text", ["1234", "1,234", "1 234", "1_234", " 1,234 "])
def test_counts_are_read_leniently(text):
    assert qz.check(COUNT_Q, text)


def test_wrong_answers_are_wrong():
    assert not qz.check(SHAPE_Q, "64x28x27") and not qz.check(SHAPE_Q, "28x28x64")
    assert not qz.check(COUNT_Q, "1235")
    assert not qz.check(CHOICE_Q, "features.3") and qz.check(CHOICE_Q, " FEATURES.4 ")


@pytest.mark.parametrize("q, text, code", [
    (SHAPE_Q, "abc", "err.quiz_shape"), (SHAPE_Q, "28x28", "err.quiz_shape"), (SHAPE_Q, "64x28x28x1", "err.quiz_shape"),
    (SHAPE_Q, "64x-2x28", "err.quiz_shape"), (SHAPE_Q, "", "err.quiz_shape"), (COUNT_Q, "12a", "err.quiz_number"),
    (COUNT_Q, "1.5", "err.quiz_number"), (COUNT_Q, "-3", "err.quiz_number"), (CHOICE_Q, "nope", "err.quiz_choice"),
])
def test_garbage_is_a_clear_error(q, text, code):
    with pytest.raises(CnnvizError) as exc:
        qz.check(q, text)
    assert exc.value.code == code and "\n" not in str(exc.value)
    assert exc.value.render("zh") != str(exc.value)


# --- the CLI -----------------------------------------------------------------------------------
def test_cli_json_lists_questions_answers_and_layers():
    code, out, err = run_cli("quiz", "--seed", "5", "--count", "6", "--json")
    assert code == 0, err
    doc = json.loads(out)
    expected = qz.quiz(5, 6)
    assert doc["seed"] == 5 and doc["count"] == 6 and len(doc["questions"]) == 6
    assert {q["kind"] for q in doc["questions"]} == set(qz.KINDS)
    for got, q in zip(doc["questions"], expected):
        assert got["layer"] == q.layer and got["kind"] == q.kind and got["prompt"] == q.render("en")
        assert got["answer"] == (list(q.answer) if isinstance(q.answer, tuple) else q.answer)
        assert got["choices"] == list(q.choices) and got["explanation"] == q.explain("en")


def test_cli_text_form_and_chinese():
    code, out, err = run_cli("quiz", "--seed", "5", "--count", "6")
    assert code == 0, err
    for q in qz.quiz(5, 6):
        assert t("quiz.cli.answer", "en", answer=q.answer_text(), layer=q.layer) in out
    code, out, _ = run_cli("quiz", "--seed", "5", "--count", "2", "--lang", "zh")
    assert code == 0 and "答案" in out


@pytest.mark.parametrize("argv", [("--count", "0"), ("--seed", "-1"), ("--count", "abc"), ("--count", "31"),
                                  ("--lang", "fr")])
def test_cli_bad_args_are_one_line(argv):
    error_line(*run_cli("quiz", *argv))


# --- the page ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _quiz_store(tmp_path, monkeypatch):
    """A store of each test's own for the quiz's kept progress (``cnnviz.labs.quizprogress``), and no
    pool started for it: the page only reads and writes its tables."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("CNNVIZ_POOL", "external")
    sched._scheduler.clear()
    yield
    sched._scheduler.clear()


@pytest.fixture
def app() -> AppTest:
    """``app.py`` on the quiz (it is in ``ui.nav.PAGES``), seed 7."""
    import ui.nav

    assert NAV_LINE in ui.nav.PAGES
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["seed"] = "7"
    at.run()
    at.switch_page("pages/quiz.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _answer(at: AppTest, q: qz.Question, i: int, text: str) -> AppTest:
    key = f"quiz.answer.7.{i}"
    if q.choices:
        at.radio(key=key).set_value(text)
    else:
        at.text_input(key=key).input(text)
    at.button(key="quiz.check").click().run()
    assert not at.exception, at.exception
    return at


def _score(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == t("quiz.score", "en"))


def test_page_right_answer_raises_the_score(app):
    qs = qz.quiz(7, 10)
    assert _score(app) == "0 / 10"
    assert app.markdown[0].value == qs[0].render("en") or qs[0].render("en") in [m.value for m in app.markdown]
    _answer(app, qs[0], 0, qs[0].layer if qs[0].choices else qs[0].answer_text())
    assert _score(app) == "1 / 10"
    assert app.success and t("quiz.right", "en", answer=qs[0].answer_text()) in app.success[0].value
    assert not app.get("page_link")  # the arithmetic and the link are for wrong answers
    app.button(key="quiz.next").click().run()
    assert qs[1].render("en") in [m.value for m in app.markdown] and _score(app) == "1 / 10"
    app.button(key="quiz.prev").click().run()
    assert qs[0].render("en") in [m.value for m in app.markdown]


def test_page_wrong_answer_shows_the_arithmetic_and_the_explorer_link(app):
    qs = qz.quiz(7, 10)
    i = next(j for j, q in enumerate(qs) if q.kind == "shape")
    for _ in range(i):
        app.button(key="quiz.next").click().run()
    q = qs[i]
    _answer(app, q, i, "1x1x1")
    assert _score(app) == "0 / 10"
    assert app.error and "1x1x1" in app.error[0].value
    assert app.get("latex")  # the output-size formula
    text = "\n".join(m.value for m in app.markdown)
    for line in q.explain("en"):
        assert line in text
    (link,) = app.get("page_link")
    assert link.proto.page == "explorer" and link.proto.label == t("quiz.explorer", "en", layer=q.layer)
    params = dict(parse_qsl(link.proto.query_string))
    cfg = q.config
    assert params["arch"] == q.arch and params["side"] == str(cfg.input_hw[0])
    assert params["ch"] == str(cfg.in_channels) and params["wd"] == str(cfg.width_div)
    assert params["bn"] == ("1" if cfg.batch_norm else "0")
    if "expand" in params:  # the unit around the layer, one the explorer offers
        assert q.layer == params["expand"] or q.layer.startswith(params["expand"] + ".")
    # following the link opens the explorer on the same network, without a complaint about the link
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/explorer.py")
    at.run()
    assert not at.exception and not at.warning and not at.error
    assert at.selectbox(key="explorer.arch").value == q.arch
    assert at.slider(key="explorer.side").value == cfg.input_hw[0]
    assert at.toggle(key="explorer.bn").value == cfg.batch_norm
    assert at.select_slider(key="explorer.wd").value == cfg.width_div
    if "expand" in params:
        assert at.selectbox(key="explorer.expand").value == params["expand"]


def test_page_garbage_answer_is_a_message_not_a_score(app):
    qs = qz.quiz(7, 10)
    i = next(j for j, q in enumerate(qs) if not q.choices)
    for _ in range(i):
        app.button(key="quiz.next").click().run()
    _answer(app, qs[i], i, "banana")
    assert app.error and "banana" in app.error[0].value and not app.get("page_link")
    assert _score(app) == "0 / 10"
    app.button(key="quiz.check").click().run()  # nothing typed is a hint, not an error
    _answer(app, qs[i], i, "")
    assert app.warning and app.warning[0].value == t("quiz.empty", "en") and _score(app) == "0 / 10"


def test_page_new_quiz_changes_the_seed_in_the_link(app):
    app.button(key="quiz.new").click().run()
    assert not app.exception
    seed = app.number_input(key="quiz.seed").value
    assert seed != 7 and app.query_params.get("seed") in (str(seed), [str(seed)])


def test_page_crafted_seed_is_a_warning_not_a_crash():
    at = AppTest.from_file(str(ROOT / "pages" / "quiz.py"), default_timeout=TIMEOUT)
    at.query_params["seed"] = "abc"
    at.run()
    assert not at.exception, at.exception
    assert at.warning and "abc" in at.warning[0].value
    assert at.number_input(key="quiz.seed").value == 1  # the default seed's quiz
    assert qz.quiz(1, 10)[0].render("en") in [m.value for m in at.markdown]


def test_page_on_its_own_links_the_explorer_by_address():
    """Run outside app.py's navigation (no page table), a wrong answer still gets its link."""
    at = AppTest.from_file(str(ROOT / "pages" / "quiz.py"), default_timeout=TIMEOUT)
    at.query_params["seed"] = "7"
    at.run()
    qs = qz.quiz(7, 10)
    i = next(j for j, q in enumerate(qs) if isinstance(q.answer, int))  # a count: 999999999 is readable, and wrong
    for _ in range(i):
        at.button(key="quiz.next").click().run()
    at.text_input(key=f"quiz.answer.7.{i}").input("999999999")
    at.button(key="quiz.check").click().run()
    assert not at.exception, at.exception
    link = next(m.value for m in at.markdown if "/explorer?" in m.value)
    assert f"arch={qs[i].arch}" in link and f"side={qs[i].config.input_hw[0]}" in link


def test_page_speaks_chinese():
    at = AppTest.from_file(str(ROOT / "pages" / "quiz.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == t("quiz.title", "zh")
    assert qz.quiz(1, 10)[0].render("zh") in [m.value for m in at.markdown]
