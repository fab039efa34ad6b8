"""Convolution arithmetic: the formula against PyTorch, the windows against ``unfold``, the figure, the page."""

from __future__ import annotations

import json
import pathlib
import random

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.inspect.tracing import trace
from cnnviz.labs import convarith
from cnnviz.labs.convarith import Setting, compute
from cnnviz.models.registry import get_config, list_models
from cnnviz.viz import convarith as charts

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _torch_side(s: Setting) -> int | None:
    """PyTorch's output side on the meta device (no arithmetic done), None if it refuses the setting."""
    x = torch.empty(1, 1, s.n, s.n, device="meta")
    if s.op == "conv":
        layer = nn.Conv2d(1, 1, s.k, stride=s.s, padding=s.p, dilation=s.d, device="meta")
    elif s.op == "max":
        layer = nn.MaxPool2d(s.k, stride=s.s, padding=s.p)
    else:
        layer = nn.AvgPool2d(s.k, stride=s.s, padding=s.p)
    try:
        y = layer(x)
    except RuntimeError:
        return None
    assert y.shape[-1] == y.shape[-2]
    return int(y.shape[-1]) if y.numel() else None


def _random_settings(op: str, count: int, seed: int) -> list[Setting]:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        n = rng.choice((rng.randint(1, 20), rng.randint(1, 80), rng.randint(100, 1024)))
        k = rng.randint(1, 13)
        p = rng.randint(0, k // 2) if op != "conv" else rng.randint(0, 6)
        d = rng.randint(1, 4) if op == "conv" else 1
        out.append(Setting(n=n, k=k, s=rng.randint(1, 6), p=p, d=d, op=op))
    return out


@pytest.mark.parametrize("op", convarith.OPS)
def test_output_side_matches_torch(op):
    collapsed = 0
    for s in _random_settings(op, 150, seed=len(op)):
        a = convarith.arithmetic(s)
        expected = _torch_side(s)
        if a.fits:
            assert a.out == expected, s
        else:  # PyTorch refuses a window wider than the padded input
            assert expected is None, s
            assert a.span > a.padded and a.count == 0 and a.windows() == []
            collapsed += 1
    if op == "conv":
        assert collapsed, "the random settings should include some collapse cases"


def test_formula_is_filled_in_both_languages():
    a = compute(7, 3, s=2, p=1)
    assert a.out == 4 and a.numerator == 6 and a.padded == 9 and a.span == 3
    assert a.formula_text() == "out = ⌊(7 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = ⌊6/2⌋ + 1 = 4"
    latex = a.formula_latex("en")
    assert r"\frac{7 + 2\cdot 1 - 1\cdot(3-1) - 1}{2}" in latex and latex.endswith("= 4")
    assert "输出边长" in a.formula_latex("zh") and "输出边长" in a.formula_text("zh")
    assert a.formula_text("zh").endswith("= 4")


@pytest.mark.parametrize("n,k,s,p,d", [(7, 3, 2, 1, 1), (5, 3, 1, 1, 2), (9, 4, 3, 2, 1), (6, 1, 1, 0, 1),
                                       (10, 3, 4, 0, 3), (4, 3, 1, 2, 1)])
def test_windows_match_unfold(n, k, s, p, d):
    """Every window's cells, in raster order, are exactly the ones ``F.unfold`` gathers."""
    a = compute(n, k, s=s, p=p, d=d)
    wins = a.windows()
    assert len(wins) == a.count == a.out ** 2
    assert wins[0] == (0, 0) and wins[-1] == (s * (a.out - 1), s * (a.out - 1))
    assert wins == sorted(wins) and all(r + a.span <= a.padded and c + a.span <= a.padded for r, c in wins)
    assert [a.window(i) for i in range(a.count)] == wins
    x = torch.arange(1, n * n + 1, dtype=torch.float64).reshape(1, 1, n, n)  # cell (r, c) holds r·n + c + 1
    cols = F.unfold(x, k, dilation=d, padding=p, stride=s)[0]  # (k², out²): column i is window i
    assert cols.shape == (k * k, a.count)
    for i in range(a.count):
        got = sorted(int(v) - 1 for v in cols[:, i] if v > 0)  # zeros are padding
        assert got == sorted(r * n + c for r, c in a.covered(i)), (i, a.window(i))
        rows = a.covered_range(i)
        if got:
            assert rows == (min(v // n for v in got), max(v // n for v in got))
        else:
            assert rows is None
    # what no window reaches at the far edge
    assert a.leftover == a.padded - (wins[-1][0] + a.span)


def test_leftover_and_explanations():
    a = compute(8, 3, s=2)  # windows at 0, 2, 4: the last ends at 7, column 7 is never read
    assert a.out == 3 and a.leftover == 1
    assert "never read" in a.explain() and "从未被读取" in a.explain("zh")
    assert compute(7, 3, s=2).leftover == 0 and "never read" not in compute(7, 3, s=2).explain()


def test_collapse_is_a_result_that_says_why():
    a = compute(3, 5)
    assert not a.fits and a.out == -1 and a.count == 0 and a.windows() == [] and a.starts == ()
    assert a.span == 5 > a.padded == 3
    assert "does not fit" in a.explain() and "放不进" in a.explain("zh")
    assert "⌊-2/1⌋ + 1 = -1" in a.formula_text()
    with pytest.raises(IndexError):
        a.window(0)
    # out = 0 (numerator −1 .. −s) is a collapse too, and PyTorch agrees
    b = compute(4, 3, s=2, d=2)
    assert b.out == 0 and not b.fits and _torch_side(b.setting) is None


@pytest.mark.parametrize("kwargs,code", [
    (dict(n=0, k=3), "err.convarith.range"), (dict(n=1025, k=3), "err.convarith.range"),
    (dict(n=7, k=0), "err.convarith.range"), (dict(n=7, k=3, s=0), "err.convarith.range"),
    (dict(n=7, k=3, p=-1), "err.convarith.range"), (dict(n=7, k=3, d=0), "err.convarith.range"),
    (dict(n=7.5, k=3), "err.convarith.range"), (dict(n=True, k=3), "err.convarith.range"),
    (dict(n=7, k=3, op="sum"), "err.convarith.op"),
    (dict(n=7, k=3, p=2, op="max"), "err.convarith.pool_padding"),
    (dict(n=7, k=4, p=3, op="avg"), "err.convarith.pool_padding"),
    (dict(n=7, k=3, d=2, op="max"), "err.convarith.pool_dilation"),
])
def test_validation_errors_have_codes(kwargs, code):
    with pytest.raises(CnnvizError) as info:
        Setting(**kwargs)
    assert info.value.code == code
    assert "\n" not in str(info.value) and any("\u4e00" <= ch <= "\u9fff" for ch in info.value.render("zh"))


def test_pool_padding_limit_is_pytorchs():
    assert _torch_side(Setting(7, 4, s=1, p=2, op="avg")) == 8  # k // 2 is allowed
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(3, padding=2)(torch.empty(1, 1, 7, 7, device="meta"))  # one more is not


# --- opening a layer of a traced network ---------------------------------------------------------
def test_from_layer_alexnet():
    layers = trace(get_config("alexnet", input_hw=(224, 224))).layers
    rec = convarith.find_layer(layers, "features.0")
    s = convarith.from_layer(rec)
    assert (s.n, s.k, s.s, s.p, s.d, s.op) == (224, 11, 4, 1, 1, "conv")
    assert convarith.arithmetic(s).out == rec.output_shape[-1] == 54
    s3 = convarith.from_layer(convarith.find_layer(layers, "features.3"))
    assert (s3.n, s3.k, s3.s, s3.p, s3.op) == (54, 3, 2, 0, "max")
    with pytest.raises(CnnvizError) as info:
        convarith.from_layer(convarith.find_layer(layers, "features.2"))  # a ReLU
    assert info.value.code == "err.convarith.not_window"
    with pytest.raises(CnnvizError) as info:
        convarith.find_layer(layers, "features.99")
    assert info.value.code == "err.convarith.no_layer"


@pytest.mark.parametrize("arch", list_models())
def test_every_window_layer_of_every_network_agrees_with_its_trace(arch):
    """The helper opens every conv and pool layer of the chapter, and the formula gives the traced side."""
    layers = trace(get_config(arch)).layers
    windowed = [r for r in layers if r.type in ("Conv2d", "MaxPool2d", "AvgPool2d")]
    assert windowed
    for rec in windowed:
        s = convarith.from_layer(rec)
        assert convarith.arithmetic(s).out == rec.output_shape[-1], rec.name


def test_non_square_layer_is_refused():
    class Rec:
        name, type, kind = "x", "Conv2d", "conv"
        kernel, stride, padding, input_shape = (3, 1), (1, 1), (0, 0), (1, 8, 8)

    with pytest.raises(CnnvizError) as info:
        convarith.from_layer(Rec())
    assert info.value.code == "err.convarith.not_square"


# --- the figure ----------------------------------------------------------------------------------------
def _size(fig) -> int:
    return len(fig.to_json())


def test_figure_small_input_has_a_frame_per_window_and_a_slider():
    a = compute(7, 3, s=2, p=1)
    fig = charts.figure(a, "en")
    assert len(fig.frames) == a.count == 16
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 16 and steps[0].label == "(0, 0)" and steps[-1].label == "(3, 3)"
    assert fig.layout.updatemenus[0].buttons[0].label == "Play"
    moved = fig.frames[0].traces
    assert all(f.traces == moved for f in fig.frames)
    # the window trace of the last frame sits at the last window: (6, 6), 3 cells wide
    window = fig.frames[-1].data[list(moved).index(max(moved))]
    assert min(window.x) == 6 and max(window.x) == 9 and min(window.y) == 6
    assert "input rows 5–6" in window.text
    names = {tr.name for tr in fig.data}
    assert {"padding", "input 7×7", "output 4×4", "window"} <= names
    # frames only carry coordinates and hover text: every frame is small
    assert all(len(json.dumps(f.to_plotly_json(), default=list)) < 600 for f in fig.frames)


def test_figure_dilated_shows_taps():
    fig = charts.figure(compute(7, 3, d=2), "zh")
    assert len(fig.frames) == 9 and len(fig.frames[0].data) == 4  # window, cell, filled, taps
    assert len(fig.frames[0].data[3].x) == 9
    assert fig.layout.updatemenus[0].buttons[0].label == "播放"


def test_figure_samples_many_windows_and_stays_small():
    a = compute(40, 1)
    fig = charts.figure(a, "en")
    assert a.count == 1600 and len(fig.frames) <= charts.MAX_FRAMES + 1
    assert fig.frames[0].name == "0" and fig.frames[-1].name == "1599"
    assert "every 12th" in fig.layout.title.text
    assert _size(fig) < 120_000


def test_figure_large_input_is_drawn_to_scale():
    a = compute(1024, 11, s=4, p=2)
    fig = charts.figure(a, "en")
    assert len(fig.frames) == 2 and len(fig.layout.sliders[0].steps) == 2
    assert {"first window", "last window"} <= {tr.name for tr in fig.data}
    assert _size(fig) < 15_000  # no grid, no per-cell anything
    last = fig.frames[-1].data[-1]
    assert min(last.x) == 4 * (a.out - 1)


def test_figure_collapse_draws_the_window_over_the_padded_input():
    fig = charts.figure(compute(3, 5, p=0), "en")
    assert not fig.frames and not fig.layout.sliders
    window = [tr for tr in fig.data if tr.name == "window"][0]
    assert max(window.x) == 5 and max(window.y) == 5
    assert "window 5×5 > padded input 3×3" in fig.layout.annotations[0].text
    assert "no output" in fig.layout.title.text


# --- the page -----------------------------------------------------------------------------------------
def _page(query: dict | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "convarith.py"), default_timeout=60)
    at.session_state["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> tuple[str, str]:
    return at.metric[0].value, at.metric[1].value


def test_page_reads_the_url():
    at = _page({"n": "7", "k": "3", "s": "2", "p": "1"})
    assert _metrics(at) == ("4", "16")
    assert "⌊" not in at.get("latex")[0].value and r"\frac{6}{2}" in at.get("latex")[0].value
    assert at.number_input(key="convarith.n").value == 7
    assert len(at.get("plotly_chart")) == 1
    at.number_input(key="convarith.s").set_value(1).run()
    assert _metrics(at) == ("7", "49") and "s" not in at.query_params  # back at its default: out of the link


def test_page_in_chinese_and_collapse():
    at = _page({"n": "3", "k": "5"}, lang="zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in at.title[0].value)
    assert _metrics(at) == ("0", "0")
    assert "放不进" in at.warning[0].value


def test_page_pool_padding_error_is_translated():
    at = _page({"op": "max", "k": "3", "p": "2"})
    assert "at most half its kernel" in at.error[0].value and not at.get("plotly_chart")


def test_page_opens_a_layer_of_a_traced_network():
    at = _page({"arch": "alexnet", "side": "224", "layer": "features.0"})
    rec = convarith.find_layer(trace(get_config("alexnet", input_hw=(224, 224))).layers, "features.0")
    vals = [at.number_input(key=f"convarith.{f}").value for f in "nksp"]
    assert vals == [rec.input_shape[-1], rec.kernel[0], rec.stride[0], rec.padding[0]] == [224, 11, 4, 1]
    assert _metrics(at)[0] == str(rec.output_shape[-1]) == "54"
    assert "features.0" in at.info[0].value and "54×54" in at.caption[0].value
    assert "layer" not in at.query_params and at.query_params["k"] == "11" and at.query_params["n"] == "224"


def test_page_opens_a_pool_layer_at_another_side():
    at = _page({"arch": "lenet", "side": "32", "layer": "features.3"})
    vals = [at.number_input(key=f"convarith.{f}").value for f in "nksp"]
    assert vals == [28, 2, 2, 0] and _metrics(at)[0] == "14"  # LeNet at 32: conv 5 → 28, the pool halves it


@pytest.mark.parametrize("layer,words", [("features.99", "no layer called `features.99`"),
                                         ("features.2", "not a convolution or pooling layer")])
def test_page_bad_layer_is_a_warning(layer, words):
    at = _page({"arch": "alexnet", "layer": layer})
    assert any(words in w.value for w in at.warning)
    assert _metrics(at) == ("5", "25")  # the page still works, on its defaults


def test_page_layer_link_problems_are_shown_not_raised():
    at = _page({"arch": "alexnet", "side": "8", "layer": "features.0"})  # AlexNet cannot run at 8×8
    assert at.error and "features" in at.error[0].value
    at = _page({"layer": "features.0"})  # no arch
    assert any("needs arch" in w.value for w in at.warning)
    at = _page({"arch": "alexnet", "side": "abc", "layer": "features.0"})  # unreadable side: AlexNet's own 224
    assert any("side" in w.value for w in at.warning) and at.number_input(key="convarith.n").value == 224
