"""Figure builders, the structure diagram and the table rows: pure functions of a Trace."""

from __future__ import annotations

import functools
import json

import pytest

from cnnviz import get_config, list_models
from cnnviz.i18n import TABLE
from cnnviz.inspect.tracing import trace
from cnnviz.models.registry import model_spec
from cnnviz.viz import diagram
from cnnviz.viz import explore as charts

MODELS = list_models()


@functools.cache
def tr_(name: str, **changes) -> object:
    cfg = get_config(name)
    return trace(cfg.replace(**changes) if changes else cfg)


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# --- the main path and the shape flow -----------------------------------------------------------
def test_spine_keeps_joins_and_drops_parallel_paths():
    g = charts.spine(tr_("googlenet"))
    names = [r.name for r in g]
    assert "b3.0.concat" in names and not any(".p1." in n or ".p2." in n for n in names)
    r = charts.spine(tr_("resnet18"))
    names = [r.name for r in r]
    assert "b3.0.add" in names and "b3.0.conv2" in names and "b3.0.shortcut" not in names


@pytest.mark.parametrize("name", MODELS)
def test_shape_flow_plots_every_spine_layer_with_its_shape(name):
    t = tr_(name)
    fig = charts.shape_flow(t, "en")
    chans, sides, mem = fig.data
    spine = charts.spine(t)
    assert len(chans.x) == len(spine) + 1  # the input, then every layer
    assert chans.y[0] == t.input_shape[0] and sides.y[0] == t.input_shape[1]
    for r, c, s in zip(spine, chans.y[1:], sides.y[1:]):
        assert c == r.output_shape[0]
        assert s == (r.output_shape[1] if len(r.output_shape) == 3 else 1)
    assert mem.y[1] == pytest.approx(spine[0].act_bytes / 2**20)
    assert all(r.name in h for r, h in zip(spine, chans.hovertext[1:]))  # hover names the layer


def test_shape_flow_speaks_the_readers_language():
    fig = charts.shape_flow(tr_("vgg11"), "zh")
    assert has_cjk(fig.layout.title.text) and has_cjk(fig.layout.yaxis.title.text)
    assert not has_cjk(charts.shape_flow(tr_("vgg11"), "en").layout.title.text)


def test_shape_flow_bands_are_the_blocks():
    fig = charts.shape_flow(tr_("vgg11"), "en")
    labels = [a.text for a in fig.layout.annotations]
    assert labels == ["features.0", "features.1", "features.2", "features.3", "features.4", "classifier"]


# --- receptive field ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "nin", "lenet"])
def test_receptive_field_grows_along_a_chain(name):
    fig = charts.rf_growth(tr_(name), "en")
    rf = list(fig.data[0].y)
    assert rf == sorted(rf) and rf[0] > 1
    assert fig.layout.shapes[0].y0 == tr_(name).input_shape[1]  # the input side as the reference line


def test_receptive_field_marks_the_first_layer_that_sees_everything():
    t = tr_("resnet18")
    fig = charts.rf_growth(t, "en")
    recs = [r for r in charts.spine(t) if r.kind in charts.RF_KINDS]
    first = next(r for r in recs if r.rf >= 224)
    assert any(first.name in (a.text or "") for a in fig.layout.annotations)


# --- parameter split ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_param_split_adds_up(name):
    t = tr_(name)
    split = charts.param_split(t)
    assert split.total == t.totals.params


def test_the_dense_head_holds_most_of_alexnet_and_vgg_and_none_of_nin():
    assert charts.param_split(tr_("alexnet")).dense_share > 0.9
    assert charts.param_split(tr_("vgg16")).dense_share > 0.85
    assert charts.param_split(tr_("nin")).dense == 0
    bn = charts.param_split(tr_("vgg11", batch_norm=True))
    assert bn.total == tr_("vgg11", batch_norm=True).totals.params


def test_param_split_figure_stacks_conv_and_dense():
    items = [("a", charts.param_split(tr_("alexnet"))), ("n", charts.param_split(tr_("nin")))]
    fig = charts.param_split_figure(items, "en")
    conv, dense = fig.data
    assert list(conv.y) == ["n", "a"] and fig.layout.barmode == "stack"
    assert dense.x[0] == 0 and dense.x[1] == pytest.approx(items[0][1].dense / 1e6)
    assert "0% dense" in [a.text for a in fig.layout.annotations]


# --- comparing ---------------------------------------------------------------------------------
def test_compare_figures_leave_out_networks_that_do_not_fit():
    rows = [charts.compare_row("alexnet", "AlexNet", "alexnet", None, 65),
            charts.compare_row("nin", "NiN", "nin", tr_("nin"), None)]
    fig = charts.compare_bars(rows, "en")
    assert [list(d.y) for d in fig.data] == [["NiN"]] * 4
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis4.type == "linear"
    assert fig.data[3].x[0] == tr_("nin").totals.depth
    sc = charts.compare_scatter(rows, "zh")
    assert [list(d.text) for d in sc.data] == [["NiN"]] and has_cjk(sc.layout.title.text)


# --- the chapter's story ---------------------------------------------------------------------
def test_timeline_follows_the_registry_in_chapter_order():
    ms = charts.milestones()
    assert [m.family for m in ms] == ["alexnet", "vgg", "nin", "googlenet", "batchnorm", "resnet"]
    assert [m.year for m in ms] == [model_spec(m.model).year for m in ms]
    fig = charts.timeline("zh")
    assert len(fig.data[0].x) == 6 and has_cjk(fig.layout.title.text)
    for m in ms:
        assert f"home.idea.{m.family}" in TABLE and f"home.idea.short.{m.family}" in TABLE


# --- the layer table ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_layer_rows_shares_add_up_over_the_layers(name):
    rows = charts.layer_rows(tr_(name), "leaves")
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert sum(r["params"] for r in rows) == tr_(name).totals.params


def test_layer_rows_views():
    t = tr_("googlenet")
    blocks = charts.layer_rows(t, "blocks")
    assert {"\u2003" + "b3.0", "b2"} <= {r["layer"] for r in blocks}
    assert not any(r["type"].startswith("ReLU") for r in blocks)
    assert len(charts.layer_rows(t, "all")) == len(t.layers)
    res = charts.layer_rows(tr_("resnet18"), "blocks", "en")
    assert any(r["type"] == "Residual (1×1 conv)" for r in res)
    assert any(r["type"] == "Residual (identity)" for r in res)
    leaves = charts.layer_rows(tr_("alexnet"), "leaves")
    assert leaves[0]["type"] == "Conv2d 11×11/4" and leaves[0]["output"] == "96×54×54"


@pytest.mark.parametrize("name", MODELS)
def test_key_facts_are_translatable(name):
    for key, params in charts.key_facts(tr_(name)):
        assert key in TABLE
        en, zh = TABLE[key]
        assert en.format(**params) and zh.format(**params)


def test_key_facts_say_where_the_parameters_are():
    assert charts.key_facts(tr_("alexnet"))[0][0] == "fact.dense_heavy"
    assert charts.key_facts(tr_("nin"))[0][0] == "fact.no_dense"
    assert charts.key_facts(tr_("resnet18"))[0][0] == "fact.dense_light"


# --- the structure diagram ----------------------------------------------------------------------
def edges_into(d, node_id):
    return [e for e in d.edges if e.dst == node_id and e.src != node_id]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("expand", ["none", "all", "auto"])
def test_every_edge_carries_the_shape_of_the_tensor_it_moves(name, expand):
    d = diagram.layout(tr_(name), expand, "en")
    nodes = {n.id: n for n in d.nodes}
    for e in d.edges:
        assert e.src in nodes and e.dst in nodes
        if e.label and not e.skip:
            assert e.label == diagram.shape_text(nodes[e.src].out_shape), e
    # the drawing ends with the network's output shape
    assert edges_into(d, "output")[0].label == diagram.shape_text(tr_(name).layers[-1].output_shape)
    assert diagram.figure(d, "en").layout.height > 100


def test_a_chain_is_one_column():
    d = diagram.layout(tr_("alexnet"), "auto", "en")
    assert {n.x for n in d.nodes} == {0.0} and d.units == ()
    labels = [n.label for n in d.nodes]
    assert labels[1] == "11×11 conv, 96 /4 · ReLU" and "dense, 4096 · ReLU · dropout 0.5" in labels


def test_inception_is_four_lanes_into_a_concat():
    t = tr_("googlenet")
    d = diagram.layout(t, "b3.0", "en")
    assert d.expanded == frozenset({"b3.0"})
    lane_nodes = [n for n in d.nodes if n.id.startswith("b3.0.p")]
    assert sorted({n.x for n in lane_nodes}) == sorted(diagram.LANE_X)
    into = edges_into(d, "b3.0.concat")
    assert len(into) == 4
    chans = sum(int(e.label.split("×")[0]) for e in into)
    assert chans == d.node("b3.0.concat").out_shape[0] == 256  # 64 + 128 + 32 + 32
    # the other eight blocks are one summary box each
    assert d.node("b3.1").label == "Inception: 128 + 192 + 96 + 64 → 480 ch"


def test_residual_blocks_show_their_skip():
    d = diagram.layout(tr_("resnet18"), "all", "en")
    skips = [e for e in d.edges if e.skip]
    identity = [e for e in skips if e.label == "identity"]
    assert len(identity) == 5  # 8 blocks, 3 of which change shape
    shortcuts = [n for n in d.nodes if n.id.endswith(".shortcut")]
    assert [n.id for n in shortcuts] == ["b3.0.shortcut", "b4.0.shortcut", "b5.0.shortcut"]
    assert all(n.x == diagram.SKIP_X and n.label == "1×1 conv, " + str(n.out_shape[0]) + " /2" for n in shortcuts)
    for blk in ("b2.0", "b3.0"):
        assert len(edges_into(d, f"{blk}.add")) == 2  # main path + skip


def test_collapsed_residual_blocks_keep_a_labelled_skip():
    d = diagram.layout(tr_("resnet34"), "none", "en")
    assert len(d.units) == 17 and d.expanded == frozenset()  # the stem and 16 residual blocks
    loops = [e for e in d.edges if e.skip and e.src == e.dst]
    assert len(loops) == 16 and {e.label for e in loops} == {"identity", "1×1 conv"}


def test_plain_net_has_no_skips():
    d = diagram.layout(tr_("resnet18", residual=False), "all", "en")
    assert not any(e.skip for e in d.edges) and not any(n.kind == "add" for n in d.nodes)


def test_auto_expands_small_nets_fully_and_big_ones_by_example():
    assert diagram.default_expand(tr_("vgg11")) == frozenset(diagram.units(tr_("vgg11")))
    assert diagram.default_expand(tr_("googlenet")) == frozenset({"b3.0"})
    assert diagram.default_expand(tr_("resnet34")) == frozenset({"b2.0", "b3.0"})


def test_diagram_speaks_the_readers_language():
    d = diagram.layout(tr_("googlenet"), "b3.0", "zh")
    assert has_cjk(d.node("b3.0.concat").label) and has_cjk(d.node("input").label)
    spec = json.loads(diagram.figure(d, "zh").to_json())
    boxes = spec["data"][-1]  # the box labels, with their hover text
    assert any(has_cjk(text) for text in boxes["text"]) and any("卷积核" in h for h in boxes["hovertext"])
