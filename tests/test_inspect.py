"""``cnnviz.inspect.trace``: the book's printed shapes, the joins, receptive fields, the smallest
input and its ``ShapeError``, totals and JSON. Everything here runs on the meta device."""

from __future__ import annotations

import json

import pytest

from cnnviz import CnnvizError, ShapeError, get_config, list_models, min_input_side
from cnnviz.config import MAX_BATCH
from cnnviz.inspect.totals import BYTES_PER_VALUE
from cnnviz.inspect.tracing import Trace, trace

NAMES = list_models()


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _children(t: Trace, parent: str) -> list:
    return [r for r in t.layers if r.parent == parent and not r.synthetic]


def _top(t: Trace) -> list:
    return [(r.kind, r.output_shape) for r in t.layers if r.depth == 1]


# --- the book's printed output shapes ----------------------------------------------------------
def test_alexnet_shapes_at_224():
    t = trace(get_config("alexnet"))
    main = [(r.type, r.output_shape) for r in t.leaves() if r.kind in ("conv", "pool", "flatten", "linear")]
    assert main == [
        ("Conv2d", (96, 54, 54)), ("MaxPool2d", (96, 26, 26)),
        ("Conv2d", (256, 26, 26)), ("MaxPool2d", (256, 12, 12)),
        ("Conv2d", (384, 12, 12)), ("Conv2d", (384, 12, 12)), ("Conv2d", (256, 12, 12)),
        ("MaxPool2d", (256, 5, 5)),
        ("Flatten", (6400,)), ("Linear", (4096,)), ("Linear", (4096,)), ("Linear", (10,)),
    ]
    assert t.input_shape == (1, 224, 224)
    assert t.leaves()[0].input_shape == (1, 224, 224)


def test_vgg11_block_shapes_at_224():
    t = trace(get_config("vgg11"))
    assert [r.output_shape for r in _children(t, "features")] == [
        (64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7),
    ]
    assert all(r.kind == "block" for r in _children(t, "features"))
    head = [(r.type, r.output_shape) for r in _children(t, "classifier") if r.kind in ("flatten", "linear")]
    assert head == [("Flatten", (25088,)), ("Linear", (4096,)), ("Linear", (4096,)), ("Linear", (10,))]


def test_nin_shapes_at_224():
    t = trace(get_config("nin"))
    assert _top(t) == [
        ("block", (96, 54, 54)), ("pool", (96, 26, 26)),
        ("block", (256, 26, 26)), ("pool", (256, 12, 12)),
        ("block", (384, 12, 12)), ("pool", (384, 5, 5)),
        ("dropout", (384, 5, 5)), ("block", (10, 5, 5)),
        ("gap", (10, 1, 1)), ("flatten", (10,)),
    ]


def test_resnet18_shapes_at_224():
    t = trace(get_config("resnet18"))
    assert _top(t) == [
        ("block", (64, 56, 56)),  # stem: 7×7/2 conv and 3×3/2 pool
        ("block", (64, 56, 56)), ("block", (128, 28, 28)), ("block", (256, 14, 14)), ("block", (512, 7, 7)),
        ("gap", (512, 1, 1)), ("flatten", (512,)), ("linear", (10,)),
    ]


def test_googlenet_shapes_at_96():
    t = trace(get_config("googlenet"))
    assert t.input_shape == (1, 96, 96)
    assert [s for _, s in _top(t)] == [(64, 24, 24), (192, 12, 12), (480, 6, 6), (832, 3, 3), (1024,), (10,)]


def test_lenet_shapes_at_28():
    t = trace(get_config("lenet"))
    main = [(r.type, r.output_shape) for r in t.leaves() if r.kind in ("conv", "pool", "flatten", "linear")]
    assert main == [
        ("Conv2d", (6, 24, 24)), ("AvgPool2d", (6, 12, 12)), ("Conv2d", (16, 8, 8)), ("AvgPool2d", (16, 4, 4)),
        ("Flatten", (256,)), ("Linear", (120,)), ("Linear", (84,)), ("Linear", (10,)),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_records_are_consistent(name):
    """Execution order, parents before children, leaf inputs chained, container sums."""
    t = trace(get_config(name))
    names = [r.name for r in t.layers]
    assert len(names) == len(set(names))
    seen = set()
    for r in t.layers:
        assert r.parent == "" or r.parent in seen, r.name  # parents come first
        assert r.depth == r.name.count(".") + 1
        seen.add(r.name)
    by_name = {r.name: r for r in t.layers}
    for r in t.layers:
        if not r.is_leaf:
            leaves = [x for x in t.leaves() if x.name.startswith(r.name + ".")]
            assert r.params == sum(x.params for x in leaves), r.name
            assert r.macs == sum(x.macs for x in leaves), r.name
        assert r.act_bytes == BYTES_PER_VALUE * _numel(r.output_shape)
        for i in r.inputs:
            assert i in by_name, (r.name, i)
    assert t.layers[-1].output_shape == (10,)


def _numel(shape) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


# --- joins -------------------------------------------------------------------------------------
def test_googlenet_inception_records():
    t = trace(get_config("googlenet"))
    blocks = [r for r in t.layers if r.kind == "inception"]
    assert len(blocks) == 9
    names = [r.name for r in t.layers]
    by_name = {r.name: r for r in t.layers}
    # the seed's output channels, block by block: 3a 3b | 4a–4e | 5a 5b
    assert [b.output_shape[0] for b in blocks] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    for b in blocks:
        branches = [r for r in t.layers if r.parent == b.name and r.kind == "branch"]
        assert [r.name for r in branches] == [f"{b.name}.p{i}" for i in range(1, 5)]
        concat = by_name[f"{b.name}.concat"]
        assert concat.kind == "concat" and concat.synthetic and concat.is_leaf and concat.params == 0
        assert concat.inputs == tuple(r.name for r in branches)
        assert concat.output_shape[0] == sum(r.output_shape[0] for r in branches) == b.output_shape[0]
        assert {r.output_shape[1:] for r in branches} == {b.input_shape[1:]} == {concat.output_shape[1:]}
        for r in branches:
            assert r.input_shape == b.input_shape  # four paths over the same input
        # the join comes after everything inside the block and before what follows it
        inside = [i for i, n in enumerate(names) if n.startswith(b.name + ".") and n != concat.name]
        assert names.index(concat.name) == max(inside) + 1
    assert not [r for r in t.layers if r.kind in ("add", "residual")]


def test_resnet18_residual_records():
    t = trace(get_config("resnet18"))
    by_name = {r.name: r for r in t.layers}
    names = [r.name for r in t.layers]
    blocks = [r for r in t.layers if r.kind == "residual"]
    assert len(blocks) == 8
    assert [b.skip for b in blocks] == ["identity", "identity", "conv1x1", "identity",
                                        "conv1x1", "identity", "conv1x1", "identity"]
    adds = [r for r in t.layers if r.kind == "add"]
    assert [a.parent for a in adds] == [b.name for b in blocks]  # one add per block
    for b in blocks:
        add = by_name[f"{b.name}.add"]
        assert add.synthetic and add.type == "Add" and add.params == 0
        assert add.output_shape == b.output_shape
        main, skip = add.inputs
        assert main == f"{b.name}.bn2"
        if b.skip == "conv1x1":
            sc = by_name[f"{b.name}.shortcut"]
            assert skip == sc.name and sc.kind == "conv" and sc.kernel == (1, 1) and sc.stride == (2, 2)
            assert sc.output_shape == b.output_shape and sc.input_shape == b.input_shape
            assert sc.params == b.input_shape[0] * b.output_shape[0] + b.output_shape[0]
        else:
            assert skip == b.name  # the block's own input
            assert f"{b.name}.shortcut" not in by_name
            assert b.input_shape == b.output_shape
        # the add comes before the last ReLU: y = ReLU(F(x) + x)
        assert names.index(add.name) + 1 == names.index(f"{b.name}.act2")


def test_resnet_joins_without_batch_norm_name_existing_records():
    t = trace(get_config("resnet18", batch_norm=False))
    names = {r.name for r in t.layers}
    adds = [r for r in t.layers if r.kind == "add"]
    assert len(adds) == 8
    for a in adds:
        assert a.inputs[0] == f"{a.parent}.conv2"  # no bn2 record when BatchNorm is off
        assert all(i in names for i in a.inputs)


def test_resnet_residual_off_has_no_joins():
    t = trace(get_config("resnet34", residual=False))
    assert len([r for r in t.layers if r.kind == "residual"]) == 16
    assert all(r.skip is None for r in t.layers if r.kind == "residual")
    assert not [r for r in t.layers if r.kind == "add" or r.synthetic]


# --- receptive fields --------------------------------------------------------------------------
def test_vgg_receptive_fields_by_hand():
    t = trace(get_config("vgg11"))
    by_name = {r.name: r for r in t.layers}
    # 3×3 conv: rf 3; 2×2/2 pool: 3 + 1 = 4, jump 2; block 2's conv: 4 + 2·2 = 8, its pool: 8 + 1·2 = 10, jump 4
    assert (by_name["features.0.0"].rf, by_name["features.0.0"].jump) == (3, 1)
    pools = [r for r in t.leaves() if r.kind == "pool"]
    assert [(p.rf, p.jump) for p in pools[:3]] == [(4, 2), (10, 4), (30, 8)]
    assert (by_name["features.1"].rf, by_name["features.1"].jump) == (10, 4)  # a block reports its output's field


def test_alexnet_receptive_fields_by_hand():
    t = trace(get_config("alexnet"))
    convs_pools = [r for r in t.leaves() if r.kind in ("conv", "pool")]
    # r += (k − 1)·j, j *= s: 11×11/4 → 11, 4; 3×3/2 → 19, 8; 5×5 → 51; 3×3/2 → 67, 16;
    # three 3×3 → 99, 131, 163; 3×3/2 → 195, 32
    assert [r.rf for r in convs_pools] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump for r in convs_pools] == [4, 8, 8, 16, 16, 16, 16, 32]
    # activations pass the field through unchanged
    assert all(r.rf == prev.rf for prev, r in zip(t.leaves(), t.leaves()[1:]) if r.kind == "act")


def test_lenet_receptive_fields_by_hand():
    t = trace(get_config("lenet"))
    assert [(r.rf, r.jump) for r in t.leaves() if r.kind in ("conv", "pool")] == [(5, 1), (6, 2), (14, 2), (16, 4)]


def test_receptive_field_never_shrinks_along_the_main_path():
    for name in ("resnet18", "googlenet", "nin"):
        t = trace(get_config(name))
        rfs = [r.rf for r in t.layers if r.depth == 1]
        assert all(r is not None for r in rfs)
        assert rfs == sorted(rfs), name


# --- smallest input, ShapeError -------------------------------------------------------------
# By hand: AlexNet 65 (⌊(65+2−11)/4⌋+1 = 15 → 7 → 7 → 3 → 3 → 1), NiN 67 (⌊(67−11)/4⌋+1 = 15 → 7 → 3 → 1),
# VGG 2⁵ = 32, LeNet 16 (12 → 6 → 2 → 1), GoogLeNet and ResNet pad every window: 1.
MIN_SIDE = {"alexnet": 65, "nin": 67, "lenet": 16, "googlenet": 1, "vgg": 32, "resnet": 1}


@pytest.mark.parametrize("name", NAMES)
def test_min_side_is_tight(name):
    cfg = get_config(name)
    m = min_input_side(cfg)
    key = next(k for k in MIN_SIDE if name.startswith(k))
    assert m == MIN_SIDE[key]
    ok = trace(cfg.replace(input_hw=(m, m)))
    assert ok.layers[-1].output_shape == (10,)
    assert ok.totals.min_side == m
    if m > 1:
        with pytest.raises(ShapeError) as info:
            trace(cfg.replace(input_hw=(m - 1, m - 1)))
        err = info.value
        assert err.min_side == m
        assert f"at least {m}×{m}" in str(err)
        # either side alone being too small is enough
        for hw in ((m - 1, 512), (512, m - 1)):
            with pytest.raises(ShapeError):
                trace(cfg.replace(input_hw=hw))


def test_min_side_does_not_depend_on_the_input_size():
    for side in (65, 224, 500):
        assert min_input_side(get_config("alexnet", input_hw=(side, side))) == 65
    assert min_input_side(get_config("vgg11", conv_arch=((1, 8),) * 6)) == 64


def test_shape_error_names_the_layer_and_shows_the_arithmetic():
    with pytest.raises(ShapeError) as info:
        trace(get_config("alexnet", input_hw=(64, 64)))
    err = info.value
    msg = str(err)
    assert "MaxPool2d at features." in msg
    assert "⌊(" in msg and "= 0" in msg
    assert "at least 65×65" in msg
    assert err.layer.startswith("features.") and err.kind == "MaxPool2d" and err.min_side == 65
    assert isinstance(err, CnnvizError) and isinstance(err, ValueError)
    # the last pool sees 2×2: ⌊(2−3)/2⌋+1 = 0
    assert "⌊(2−3)/2⌋+1 = 0" in msg and "features.17" in msg
    zh = err.render("zh")
    assert _has_cjk(zh) and "features.17" in zh and "65×65" in zh and zh != msg


def test_shape_error_shows_padding_when_there_is_some():
    # AlexNet's first conv (11×11, stride 4, padding 1) on an 8×8 input
    with pytest.raises(ShapeError) as info:
        trace(get_config("alexnet", input_hw=(8, 8)))
    msg = str(info.value)
    assert "Conv2d at features.0" in msg and "padding 1" in msg and "⌊(8+2·1−11)/4⌋+1 = 0" in msg
    assert "填充 1" in info.value.render("zh")


def test_shape_error_for_non_square_input_reports_the_failing_side():
    with pytest.raises(ShapeError) as info:
        trace(get_config("vgg11", input_hw=(224, 16)))
    msg = str(info.value)
    # the fifth pool sees 224/16 = 14 rows but 16/16 = 1 column: the width is what goes to zero
    assert "MaxPool2d at features.4." in msg and "14×1 input" in msg and "⌊(1−2)/2⌋+1 = 0" in msg
    assert "at least 32×32" in msg


# --- totals ------------------------------------------------------------------------------------
def test_totals():
    t = trace(get_config("vgg11"), batch_size=8)
    tt = t.totals
    assert tt.param_bytes == 4 * tt.params
    assert tt.trainable_params == tt.params
    assert (tt.conv_layers, tt.linear_layers, tt.depth) == (8, 3, 11)
    assert tt.batch_size == 8 and tt.input_bytes == 8 * 224 * 224 * 4
    one = trace(get_config("vgg11")).totals
    assert tt.activation_bytes == 8 * one.activation_bytes
    assert tt.params == one.params and tt.macs == one.macs  # per example
    assert tt.train_step_bytes == 3 * tt.param_bytes + tt.activation_bytes + tt.input_bytes
    assert tt.activation_bytes == 8 * sum(r.act_bytes for r in t.leaves())


@pytest.mark.parametrize("name, depth", [("alexnet", 8), ("vgg11", 11), ("vgg13", 13), ("vgg16", 16),
                                         ("vgg19", 19), ("lenet", 5)])
def test_depth_as_papers_count_it(name, depth):
    assert trace(get_config(name)).totals.depth == depth


@pytest.mark.parametrize("name, depth", [("resnet18", 18), ("resnet34", 34), ("googlenet", 22), ("vgg11", 11),
                                         ("vgg19", 19), ("alexnet", 8), ("nin", 12), ("lenet", 5)])
def test_resnet_depth_as_the_paper_counts_it(name, depth):
    assert trace(get_config(name)).totals.depth == depth


@pytest.mark.parametrize("batch", [0, -1, MAX_BATCH + 1])
def test_bad_batch_size(batch):
    with pytest.raises(CnnvizError) as info:
        trace(get_config("lenet"), batch_size=batch)
    assert info.value.code == "err.batch_size" and str(MAX_BATCH) in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_is_json(name):
    t = trace(get_config(name))
    d = json.loads(json.dumps(t.to_dict()))
    assert set(d) >= {"input_shape", "config", "layers", "totals"}
    assert len(d["layers"]) == len(t.layers)
    assert d["totals"]["params"] == t.totals.params and d["totals"]["depth"] == t.totals.depth
    assert d["layers"][0]["output_shape"] == list(t.layers[0].output_shape)
    assert d["config"] == t.config.to_dict()


def test_trace_is_cached_and_records_are_immutable():
    cfg = get_config("googlenet")
    a, b = trace(cfg), trace(cfg)
    assert a.layers is b.layers
    with pytest.raises(AttributeError):
        a.layers[0].params = 0  # type: ignore[misc]
    # a different batch size reuses the records but not the totals
    c = trace(cfg, batch_size=4)
    assert c.layers is a.layers and c.totals.activation_bytes == 4 * a.totals.activation_bytes
