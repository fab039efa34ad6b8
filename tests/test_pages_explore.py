"""The exploring pages through Streamlit's AppTest: each page runs inside ``app.py`` (so the
navigation, the language switch and the shared helpers are real), one page per AppTest."""

from __future__ import annotations

import json
import pathlib
import time

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import get_config, list_models
from cnnviz.i18n import t
from cnnviz.inspect.tracing import trace
from cnnviz.numbers import human
from ui import schemas
from ui.schemas import UI_MAX_SIDE

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 60  # the first run imports torch; later ones take a fraction of a second


def open_page(page: str, **query: str) -> AppTest:
    """``app.py`` on ``page``, with ``query`` in the URL as a shared link would put it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():  # in the URL from the first run, as when a link is opened
        at.query_params[k] = v
    at.run()
    if page == "home":
        return at
    # the first run resolves the navigation (on Home, which ignores other pages' keys)
    at.switch_page(f"pages/{page}.py")
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label_key: str, **params) -> str:
    label = t(label_key, "en", **params)
    return next(m.value for m in at.metric if m.label == label)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def show_tab(at: AppTest, key: str) -> AppTest:
    """Open the explorer's view ``key`` (``ex.tab.flow``...) as a click on it would: only the
    chosen view is drawn."""
    at.get("button_group")[0].set_value(key.removeprefix("ex.tab.")).run()
    return ok(at)


# --- home ---------------------------------------------------------------------------------
def test_home_tells_the_story_and_links_every_page():
    at = ok(open_page("home"))
    assert at.title[0].value == t("app.title", "en")
    labels = [p.value for p in at.page_link]
    for key in ("nav.explorer", "nav.designer", "nav.compare"):
        assert t(key, "en") in labels
    assert labels.count(t("home.open", "en", arch="AlexNet")) == 1  # one card per step of the chapter
    (timeline,) = plotly_specs(at)
    assert len(timeline["data"][0]["x"]) == 6


# --- explorer -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def explorer() -> AppTest:
    """One explorer session shared by the tests that walk through architectures and switches."""
    return ok(open_page("explorer"))


def test_explorer_default_view(explorer):
    at = explorer
    assert at.selectbox(key="explorer.arch").value == "alexnet"
    assert not at.error
    assert metric(at, "ex.m.params") == human(trace(get_config("alexnet")).totals.params)
    assert metric(at, "ex.m.min_side") == t("ex.px", "en", n=65)
    (diagram,) = plotly_specs(at)  # only the open tab is drawn: the structure
    assert diagram["layout"]["title"]["text"] == t("ex.diagram.title", "en")
    assert not at.dataframe
    for key, title in (("ex.tab.flow", "chart.flow.title"), ("ex.tab.rf", "chart.rf.title")):
        (spec,) = plotly_specs(show_tab(at, key))
        assert spec["layout"]["title"]["text"] == t(title, "en")
    show_tab(at, "ex.tab.table")
    assert not plotly_specs(at) and len(at.dataframe) == 1


@pytest.mark.parametrize("arch", list_models())
def test_explorer_renders_every_architecture(explorer, arch):
    at = show_tab(explorer, "ex.tab.structure")  # the session keeps the tab a test before opened
    at.selectbox(key="explorer.arch").set_value(arch).run()
    ok(at)
    assert not at.error
    cfg = get_config(arch)
    # the architecture opens in its book configuration: LeNet at 28, GoogLeNet at 96
    assert at.slider(key="explorer.side").value == cfg.input_hw[0]
    assert metric(at, "ex.m.params") == human(trace(cfg).totals.params)
    assert at.query_params.get("arch") == (None if arch == "alexnet" else arch)
    assert len(plotly_specs(at)) == 1  # the diagram; the other tabs draw when opened


@pytest.mark.parametrize("arch, widget, value, url", [
    ("alexnet", "bn", True, ("bn", "1")),
    ("resnet18", "res", False, ("res", "0")),
    ("vgg11", "drop", 0.0, ("drop", "0")),
    ("vgg11", "wd", 4, ("wd", "4")),
    ("lenet", "act", "relu", ("act", "relu")),
    ("nin", "ch", 3, ("ch", "3")),
])
def test_explorer_switches_change_the_network_and_the_url(arch, widget, value, url):
    at = ok(open_page("explorer", arch=arch))
    before = trace(get_config(arch)).totals.params
    key = f"explorer.{widget}"
    widgets = {"bn": at.toggle, "res": at.toggle, "drop": at.slider, "wd": at.select_slider, "act": at.radio,
               "ch": at.radio}
    widgets[widget](key=key).set_value(value).run()
    ok(at)
    assert not at.error
    assert at.query_params.get(url[0]) == url[1]
    show_tab(at, "ex.tab.table")
    after = int(at.dataframe[0].value["params"].sum())
    if widget in ("bn", "ch"):
        assert after > before  # BN's γ, β; three input channels
    elif widget in ("res", "wd"):
        assert after < before  # no 1×1 shortcut convs; fewer channels
    else:
        assert after == before  # dropout and activations hold no parameters
        names = " ".join(at.dataframe[0].value["type"])
        assert ("Dropout" not in names) if widget == "drop" else ("ReLU" in names and "Sigmoid" not in names)


def test_explorer_too_small_input_shows_the_error_panel_and_a_fix():
    at = ok(open_page("explorer", arch="alexnet", side="32"))
    assert len(at.error) == 1
    msg = at.error[0].value
    assert "features.7" in msg and "65×65" in msg  # the layer and the smallest valid input
    # no totals or views of a whole trace: only the layers up to the collapse (tests/test_quizfix.py)
    assert not at.metric and [c.key for c in at.get("plotly_chart")] == ["explorer.collapse.diagram"]
    assert [n.strip() for n in at.dataframe[0].value["layer"]][-1] == "features.7"
    at.button[0].click().run()
    ok(at)
    assert not at.error and at.slider(key="explorer.side").value == 65
    assert at.query_params["side"] == "65"


def test_explorer_width_divisor_that_empties_a_layer_is_an_error_not_a_crash():
    at = ok(open_page("explorer", arch="lenet", wd="16"))
    assert len(at.error) == 1 and "16" in at.error[0].value


def test_explorer_crafted_link_is_clamped_and_warned():
    at = ok(open_page("explorer", arch="googlenet", side="100000", ch="7", batch="-3", expand="9.9"))
    warnings = " ".join(w.value for w in at.warning)
    assert "100000" in warnings and "ch=`7`" in warnings and "9.9" in warnings
    assert at.slider(key="explorer.side").value == UI_MAX_SIDE
    assert at.radio(key="explorer.ch").value == 3
    assert at.number_input(key="explorer.batch").value == 1
    assert at.selectbox(key="explorer.expand").value == "auto"
    assert not at.error
    assert at.query_params["side"] == str(UI_MAX_SIDE) and "expand" not in at.query_params


def test_explorer_link_opens_the_same_view():
    at = ok(open_page("explorer", arch="resnet18", side="160", expand="b3.0", table="blocks"))
    assert not at.warning
    assert at.selectbox(key="explorer.expand").value == "b3.0"
    spec = plotly_specs(at)[0]
    assert any("b3.0.shortcut" in (h or "") for h in spec["data"][-1]["hovertext"])
    show_tab(at, "ex.tab.table")
    assert at.radio(key="explorer.table").value == "blocks"
    at.slider(key="explorer.side").set_value(128).run()
    assert at.query_params == {"arch": "resnet18", "side": "128", "expand": "b3.0", "table": "blocks",
                               "view": "table"}
    assert not at.warning  # the link's warning was for the first run only; no widget complains either
    link = ok(open_page("explorer", **at.query_params))  # the link a teacher copies now
    assert link.radio(key="explorer.table").value == "blocks" and len(link.dataframe) == 1


def test_explorer_in_chinese():
    at = ok(open_page("explorer", arch="googlenet", view="flow"))  # the view outlives the language switch
    at.sidebar.selectbox(key="lang").set_value("zh").run()
    ok(at)
    assert at.title[0].value == t("ex.title", "zh")
    assert at.query_params["lang"] == "zh" and at.query_params["arch"] == "googlenet"
    assert t("ex.m.params", "zh") in [m.label for m in at.metric]
    (spec,) = plotly_specs(at)
    assert spec["layout"]["title"]["text"] == t("chart.flow.title", "zh")


def test_explorer_error_panel_in_chinese():
    at = ok(open_page("explorer", arch="alexnet", side="32", lang="zh"))
    assert "该网络的输入至少需要 65×65" in at.error[0].value


# --- designer -----------------------------------------------------------------------------
def designer_params(at: AppTest) -> str:
    return metric(at, "ex.m.params")


def test_designer_default_is_vgg11():
    at = ok(open_page("designer"))
    assert any(m.value.endswith(t("de.is", "en", name="VGG-11")) for m in at.markdown)
    assert designer_params(at) == human(trace(get_config("vgg11")).totals.params)
    assert metric(at, "de.m.share") == "93%"
    split = plotly_specs(at)[1]
    assert [d["name"] for d in split["data"]] == [t("chart.split.conv", "en"), t("chart.split.dense", "en")]
    assert split["data"][0]["y"] == ["NiN", "AlexNet", t("de.yours", "en")]


@pytest.mark.parametrize("preset", ["vgg16", "vgg19", "vgg11_small"])
def test_designer_presets_fill_the_sliders(preset):
    at = ok(open_page("designer"))
    at.button(key=f"designer.preset.{preset}").click().run()
    ok(at)
    cfg = get_config(preset)
    assert at.slider(key="designer.blocks").value == len(cfg.conv_arch)
    for i, (n, c) in enumerate(cfg.conv_arch):
        assert at.slider(key=f"designer.convs.{i}").value == n
        assert at.select_slider(key=f"designer.chans.{i}").value == c
    assert designer_params(at) == human(trace(cfg).totals.params)
    # the URL now describes the preset: read back, it gives the same network
    values, problems = schemas.designer_schema().parse(at.query_params)
    assert problems == [] and schemas.designer_arch(values) == cfg.conv_arch


def test_designer_new_block_starts_like_the_last_one():
    at = ok(open_page("designer", side="256"))
    at.slider(key="designer.blocks").set_value(6).run()
    ok(at)
    assert at.slider(key="designer.convs.5").value == 2 and at.select_slider(key="designer.chans.5").value == 512
    assert at.query_params["blocks"] == "6" and at.query_params["chans"] == "64,128,256,512,512,512"


def test_designer_warns_when_the_map_collapses():
    at = ok(open_page("designer", side="16"))
    assert len(at.warning) == 1 and "5" in at.warning[0].value
    assert len(at.error) == 1 and "MaxPool2d" in at.error[0].value  # the library's ShapeError message
    assert not at.get("plotly_chart")
    at.slider(key="designer.blocks").set_value(4).run()
    ok(at)
    assert not at.error and len(plotly_specs(at)) == 2


def test_designer_crafted_link():
    at = ok(open_page("designer", blocks="99", convs="1,x,3", chans="100", side="0"))
    warnings = at.warning[0].value
    assert "blocks=`99`" in warnings and "side=`0`" in warnings and "convs" in warnings and "chans=`100`" in warnings
    assert at.slider(key="designer.blocks").value == 6
    assert at.select_slider(key="designer.chans.0").value == 128  # the nearest allowed width
    assert at.slider(key="designer.side").value == 8


def test_designer_in_chinese():
    at = ok(open_page("designer", lang="zh"))
    assert at.title[0].value == t("de.title", "zh")
    assert t("de.m.dense", "zh") in [m.label for m in at.metric]


# --- compare ------------------------------------------------------------------------------
def test_compare_every_architecture():
    at = ok(open_page("compare"))
    table = at.dataframe[0].value
    assert len(table) == len(list_models())
    assert list(table["params"])[0] == trace(get_config("alexnet")).totals.params
    assert "note" not in table.columns  # every network fits at 224: no empty note column
    bars, scatter = plotly_specs(at)
    assert len(bars["data"][0]["y"]) == len(list_models())
    assert bars["layout"]["xaxis"]["type"] == "log"


def test_compare_small_input_notes_the_networks_that_do_not_fit():
    at = ok(open_page("compare", side="32"))
    assert not at.error
    table = at.dataframe[0].value.set_index("arch")
    assert table.loc["AlexNet", "note"] == t("cmp.too_small", "en", side=65)
    assert table.loc["NiN", "note"] == t("cmp.too_small", "en", side=67)
    assert table.loc["ResNet-18", "note"] == ""
    assert "AlexNet" in at.info[0].value
    bars, _ = plotly_specs(at)
    assert "AlexNet" not in bars["data"][0]["y"] and "ResNet-18" in bars["data"][0]["y"]


def test_compare_crafted_link_and_chinese():
    at = ok(open_page("compare", side="abc", ch="2", lang="zh"))
    assert "side=`abc`" in at.warning[0].value and "改用" in at.warning[0].value
    assert at.slider(key="compare.side").value == 224
    assert at.title[0].value == t("cmp.page.title", "zh")


@pytest.fixture
def compare_store(page_store):
    """An empty run store of the page's own (``conftest.page_store``), the measured cache cleared."""
    from cnnviz.runs.store import RunStore
    from ui import figures

    figures._measured.clear()
    store = RunStore(page_store)
    yield store
    store.close()
    figures._measured.clear()


def measured_cols(at: AppTest):
    return at.dataframe[0].value.set_index("arch")[["speed", "acc", "where"]]


def test_compare_says_not_measured_yet_without_runs(compare_store):
    at = ok(open_page("compare"))
    cols = measured_cols(at)
    assert len(cols) == len(list_models())
    assert set(cols["where"]) == {t("cmp.meas.none", "en")} and cols["speed"].isna().all()
    assert t("cmp.meas.caption", "en") in [c.value for c in at.caption]
    zh = measured_cols(ok(open_page("compare", lang="zh")))
    assert set(zh["where"]) == {t("cmp.meas.none", "zh")}


def test_compare_shows_a_completed_class_preset_run(compare_store):
    from test_measured import finished_run, preset

    from cnnviz.runs.measured import measured

    rid = finished_run(compare_store, preset("lenet"), rates=(20000.0, 22000.0), acc=0.82, worker="labhost:77")
    finished_run(compare_store, preset("resnet18", lr=0.5), acc=0.9)  # off the preset: not shown
    at = ok(open_page("compare", side="32"))  # the side chosen does not change the measured columns
    cols = measured_cols(at)
    lenet = cols.loc[t("arch.lenet", "en")]
    assert (lenet["speed"], lenet["acc"]) == (21000.0, 0.82)
    day = time.strftime("%Y-%m-%d", time.localtime(compare_store.get(rid).ended))
    assert lenet["where"] == f"labhost · cpu · {day} · Fashion-MNIST"
    assert cols.loc["ResNet-18", "where"] == t("cmp.meas.none", "en")
    assert measured(compare_store)["lenet"].run_id == rid


def test_a_class_on_compare_reads_the_store_once(compare_store, monkeypatch):
    """The sessions after the first (either language), within the cache's few seconds, reuse its one read."""
    from cnnviz.runs import measured as mod

    reads = []
    real = mod.measured
    monkeypatch.setattr(mod, "measured", lambda *a, **k: reads.append(a) or real(*a, **k))
    for lang in ("en", "zh", "en"):
        ok(open_page("compare", lang=lang))
    assert len(reads) == 1


def test_compare_with_a_broken_store_keeps_its_columns_and_says_why(tmp_path, monkeypatch):
    from ui import figures, sched

    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path))  # a folder: not a database
    monkeypatch.setenv("CNNVIZ_POOL", "none")
    figures._measured.clear()
    sched._scheduler.clear()
    # the page on its own: app.py opens the scheduler before every page, unguarded (its own matter)
    at = ok(AppTest.from_file(str(ROOT / "pages" / "compare.py"), default_timeout=TIMEOUT).run())
    table = at.dataframe[0].value
    assert len(table) == len(list_models()) and "params" in table.columns and "where" not in table.columns
    (note,) = at.warning
    assert note.value.startswith(t("cmp.meas.unavailable", "en", error="")) and str(tmp_path) in note.value
    assert not at.error and len(plotly_specs(at)) == 2  # the charts are still there


def test_a_class_on_one_configuration_builds_its_figures_once(monkeypatch):
    """Figures are pure functions of the configuration: the second session (and the third, in
    another language, once more) reuses what the first built, server-wide."""
    from cnnviz.viz import diagram
    from ui import figures

    built = []
    real = diagram.figure
    monkeypatch.setattr(diagram, "figure", lambda *a, **k: built.append(a[1]) or real(*a, **k))
    figures.structure.clear()
    for _ in range(2):
        (spec,) = plotly_specs(ok(open_page("explorer", arch="nin", side="112")))
    assert built == ["en"] and spec["layout"]["title"]["text"] == t("ex.diagram.title", "en")
    ok(open_page("explorer", arch="nin", side="112", lang="zh"))
    assert built == ["en", "zh"]


def test_the_layer_table_opens_each_conv_and_pool_in_the_arithmetic_lab():
    from urllib.parse import parse_qsl, urlsplit

    at = ok(open_page("explorer", arch="alexnet", view="table"))
    table = at.dataframe[0].value
    links = {name: (kind, link) for name, kind, link in zip(table["layer"].str.strip("\u2003"), table["type"],
                                                             table["arith"])}
    assert links["features.0"][1] == "/convarith?arch=alexnet&side=224&layer=features.0"
    for name, (kind, link) in links.items():  # every conv and pool has its link, nothing else has one
        has_window = kind.startswith(("Conv2d", "MaxPool2d"))
        assert (isinstance(link, str) and link.endswith(f"layer={name}")) if has_window else not isinstance(link, str)
    page = ok(open_page("convarith", **dict(parse_qsl(urlsplit(links["features.0"][1]).query))))
    assert "features.0" in page.info[0].value and not page.warning
