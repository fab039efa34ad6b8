"""The architectures themselves: real builds, the seed's counts, every toggle, configs, errors.

Real weights are only allocated at small inputs (the flatten-headed nets' dense heads shrink
with the input); the default-size figures are checked on the meta device.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
import torchinfo
from torch import nn

import cnnviz
from cnnviz import (
    CnnvizError,
    ConfigError,
    ShapeError,
    UnknownModelError,
    create_model,
    get_config,
    list_models,
    min_input_side,
    model_spec,
)
from cnnviz.config import MAX_INPUT_SIDE
from cnnviz.inspect.tracing import trace
from cnnviz.models.layers import BatchNorm

SLOW_FIXTURES = {"real"}  # every preset built with real weights, VGG-19's 143M parameters included (conftest)
NAMES = list_models()

# The seed's figures (1 input channel, 10 classes): (input side, parameters, torchinfo MACs).
SEED = {
    "alexnet": (224, 46_764_746, 938_754_826),
    "vgg11": (224, 128_806_154, 7_554_666_506),
    "nin": (224, 1_992_166, 763_822_966),
    "googlenet": (96, 5_977_530, 276_658_874),
    "lenet": (28, 44_878, 286_786),
    "resnet18": (224, 11_178_378, 1_737_382_026),
}


def small_side(name: str) -> int:
    """A cheap input side that every layer of ``name`` accepts."""
    return max(min_input_side(get_config(name)), 32)


def small_config(name: str, **overrides):
    s = small_side(name)
    return get_config(name, input_hw=(s, s), **overrides)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- registry ----------------------------------------------------------------------------------
def test_registry_holds_the_chapter_in_order():
    families = []
    for name in NAMES:
        fam = model_spec(name).family
        if fam not in families:
            families.append(fam)
    assert families == ["alexnet", "vgg", "nin", "googlenet", "batchnorm", "resnet"]  # the chapter's order
    for name in ("alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_small", "nin", "googlenet", "lenet",
                 "resnet18", "resnet34"):
        assert name in NAMES
    assert len(set(NAMES)) == len(NAMES)
    for name in NAMES:
        spec = model_spec(name)
        assert spec.name == name and spec.config == get_config(name)
        # the chapter's setting: grayscale Fashion-MNIST, 10 classes
        assert spec.config.in_channels == 1 and spec.config.num_classes == 10


# --- real weights ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=NAMES)
def real(request):
    """(name, cfg, model): each preset built once with real CPU weights at a small input."""
    name = request.param
    cfg = small_config(name)
    torch.manual_seed(0)
    model = create_model(cfg)
    yield name, cfg, model
    del model


def test_real_build_forward(real):
    name, cfg, model = real
    assert all(p.device.type == "cpu" and not p.is_meta for p in model.parameters())
    x = torch.randn(2, cfg.in_channels, *cfg.input_hw)
    with torch.no_grad():
        model.eval()
        y_eval = model(x)
        model.train()  # BatchNorm and dropout in training mode: a batch of 2 is enough
        y_train = model(x)
    for y in (y_eval, y_train):
        assert tuple(y.shape) == (2, cfg.num_classes)
        assert torch.isfinite(y).all(), name


def test_meta_totals_equal_real_torchinfo(real):
    """What the meta-device trace reports is what torchinfo reports on the real model."""
    name, cfg, model = real
    stats = torchinfo.summary(model, input_size=(1, cfg.in_channels, *cfg.input_hw), mode="eval", verbose=0)
    t = trace(cfg).totals
    assert t.params == stats.total_params == count_params(model)
    assert t.macs == stats.total_mult_adds
    assert t.param_bytes == stats.total_param_bytes


@pytest.mark.parametrize("name, overrides", [
    ("vgg11_small", dict(batch_norm=True)),  # torch BatchNorm2d and BatchNorm1d
    ("lenet", dict(bn_impl="scratch")),  # the seed's from-scratch layer
    ("googlenet", dict(batch_norm=True, bn_impl="scratch", width_div=4, in_channels=3)),
])
def test_meta_totals_equal_real_torchinfo_variants(name, overrides):
    cfg = small_config(name, **overrides)
    torch.manual_seed(0)
    model = create_model(cfg)
    stats = torchinfo.summary(model, input_size=(1, cfg.in_channels, *cfg.input_hw), mode="eval", verbose=0)
    t = trace(cfg).totals
    assert (t.params, t.macs, t.param_bytes) == (stats.total_params, stats.total_mult_adds, stats.total_param_bytes)
    if overrides.get("bn_impl") == "scratch":
        assert any(isinstance(m, BatchNorm) for m in model.modules())


def test_create_model_accepts_a_name_and_overrides():
    m = create_model("lenet", batch_norm=False)
    assert not any(isinstance(x, nn.modules.batchnorm._BatchNorm) for x in m.modules())
    assert count_params(m) == 44_426  # the seed's LeNet without its 2·(6+16+120+84) BN parameters


# --- the seed's counts, on the meta device -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SEED))
def test_defaults_reproduce_the_seed(name):
    side, params, macs = SEED[name]
    cfg = get_config(name)
    assert cfg.input_hw == (side, side) and cfg.in_channels == 1 and cfg.num_classes == 10
    t = trace(cfg).totals
    assert t.params == params
    assert t.macs == macs
    meta = create_model(cfg, device="meta")
    assert all(p.is_meta for p in meta.parameters())
    assert count_params(meta) == params


def _vgg_params(conv_arch, in_ch=1, side=224, fc=4096, classes=10) -> int:
    """VGG's parameter count by hand: 3×3 convs with bias, then three dense layers."""
    n, cin = 0, in_ch
    for convs, c in conv_arch:
        for _ in range(convs):
            n += cin * c * 9 + c
            cin = c
    flat = cin * (side // 2 ** len(conv_arch)) ** 2
    return n + (flat * fc + fc) + (fc * fc + fc) + (fc * classes + classes)


def _resnet_params(stages, in_ch=1, stem=64, classes=10) -> int:
    """The seed's ResNet by hand: 7×7 stem + BN, blocks of two 3×3 convs + BN, 1×1 shortcuts."""
    n = in_ch * stem * 49 + stem + 2 * stem
    cin = stem
    for i, (blocks, c) in enumerate(stages):
        for j in range(blocks):
            stride = 2 if (j == 0 and i > 0) else 1
            n += cin * c * 9 + c + 2 * c + c * c * 9 + c + 2 * c
            if stride != 1 or cin != c:
                n += cin * c + c
            cin = c
    return n + cin * classes + classes


def test_hand_counts_agree_with_the_seed():
    """The formulas below are checked against the seed's figures before they check other presets."""
    from cnnviz.models.resnet import RESNET18
    from cnnviz.models.vgg import VGG11

    assert _vgg_params(VGG11) == SEED["vgg11"][1]
    assert _resnet_params(RESNET18) == SEED["resnet18"][1]


@pytest.mark.parametrize("name", [n for n in NAMES if model_spec(n).family in ("vgg", "resnet")])
def test_other_presets_match_hand_counts(name):
    cfg = get_config(name)
    t = trace(cfg).totals
    if model_spec(name).family == "vgg":
        assert t.params == _vgg_params(cfg.conv_arch)
    else:
        assert t.params == _resnet_params(cfg.stages)


@pytest.mark.parametrize("name, tv_name", [("vgg11", "vgg11"), ("vgg13", "vgg13"), ("vgg16", "vgg16"),
                                           ("vgg19", "vgg19")])
def test_vgg_matches_torchvision(name, tv_name):
    """torchvision's VGG (3 channels, its own 7×7 adaptive pool that is a no-op at 224) differs from
    ours only in the first conv's input channels."""
    import torchvision

    with torch.device("meta"):
        tv = getattr(torchvision.models, tv_name)(num_classes=10)
    stats = torchinfo.summary(tv, input_size=(1, 3, 224, 224), device="meta", verbose=0)
    t = trace(get_config(name)).totals
    first_conv_extra = 2 * 9 * 64  # two more input channels of 3×3 kernels, 64 filters
    assert t.params == stats.total_params - first_conv_extra
    assert t.macs == stats.total_mult_adds - first_conv_extra * 224 * 224


# --- toggles ---------------------------------------------------------------------------------------
def _leaves(cfg):
    return trace(cfg).leaves()


def _kinds(cfg, kind):
    return [r for r in _leaves(cfg) if r.kind == kind]


def _classifier(leaves) -> set[str]:
    """The output layer's name: the last linear (NiN has none: its last block's convs are normalised too)."""
    linears = [r.name for r in leaves if r.kind == "linear"]
    return set(linears[-1:])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_batch_norm_after_each_conv_and_linear(name, impl):
    off = get_config(name, batch_norm=False)
    on = get_config(name, batch_norm=True, bn_impl=impl)
    off_leaves, on_leaves = _leaves(off), _leaves(on)
    assert not [r for r in off_leaves if r.kind == "norm"]
    norms = [r for r in on_leaves if r.kind == "norm"]
    assert norms

    # every conv/linear is followed by a norm, except the classifier and ResNet's 1×1 shortcuts
    weighted = [r for r in off_leaves if r.kind in ("conv", "linear")]
    exempt = _classifier(off_leaves) | {r.name for r in weighted if r.name.endswith(".shortcut")}
    normed = [r for r in weighted if r.name not in exempt]
    assert len(norms) == len(normed)
    if impl == "torch":
        assert {r.type for r in norms} <= {"BatchNorm2d", "BatchNorm1d"}
    else:
        assert {r.type for r in norms} == {"BatchNorm"}
    main_path = [r for r in on_leaves if not r.name.endswith(".shortcut")]
    for r in norms:
        i = main_path.index(r)
        before, after = main_path[i - 1], main_path[i + 1]
        assert before.kind in ("conv", "linear") and before.output_shape == r.output_shape, r.name
        assert after.kind == "act", r.name  # BN sits before the activation (seed §5.1)
        if impl == "torch":
            assert r.type == ("BatchNorm2d" if len(r.output_shape) == 3 else "BatchNorm1d")
        assert r.params == 2 * r.output_shape[0]  # gamma and beta per channel

    # the exact parameter delta: 2 per normalised channel or feature
    delta = trace(on).totals.params - trace(off).totals.params
    assert delta == sum(2 * r.output_shape[0] for r in normed)


def test_scratch_and_torch_batch_norm_have_the_same_parameters():
    for name in ("lenet", "resnet18", "vgg11_small"):
        a = trace(get_config(name, batch_norm=True)).totals
        b = trace(get_config(name, batch_norm=True, bn_impl="scratch")).totals
        assert a.params == b.params


def test_residual_off_removes_skips_and_shortcuts():
    on, off = trace(get_config("resnet18")), trace(get_config("resnet18", residual=False))
    assert len([r for r in on.layers if r.kind == "add"]) == 8
    assert not [r for r in off.layers if r.kind == "add"]
    assert not [r for r in off.layers if r.name.endswith(".shortcut")]
    assert [r.skip for r in off.layers if r.kind == "residual"] == [None] * 8
    assert off.totals.params == 11_005_450
    # what went away is exactly the three 1×1 shortcut convs: 64→128, 128→256, 256→512
    assert on.totals.params - off.totals.params == (64 * 128 + 128) + (128 * 256 + 256) + (256 * 512 + 512)
    # without the shortcuts every other record is unchanged
    same = {r.name: r.output_shape for r in on.layers if r.kind not in ("add",) and ".shortcut" not in r.name}
    assert same == {r.name: r.output_shape for r in off.layers}


def test_residual_off_forward_has_no_skip():
    """With residual off and a zeroed main path, a block outputs ReLU(0) = 0; with it on, ReLU(x)."""
    from cnnviz.models.resnet import Residual

    for residual, expect_zero in ((False, True), (True, False)):
        cfg = get_config("resnet18", residual=residual, batch_norm=False)
        blk = Residual(cfg, 4, 4)
        for p in blk.parameters():
            nn.init.zeros_(p)
        x = torch.rand(1, 4, 5, 5) + 0.5
        y = blk(x)
        assert torch.equal(y, torch.zeros_like(x)) == expect_zero
        if not expect_zero:
            assert torch.allclose(y, x)


# Architectures with dropout layers in the book, and how many.
DROPOUTS = {"alexnet": 2, "vgg": 2, "nin": 1, "lenet": 2, "googlenet": 0, "resnet": 0}


@pytest.mark.parametrize("name", NAMES)
def test_dropout_zero_removes_dropout(name):
    family = model_spec(name).family
    n = DROPOUTS[{"batchnorm": "lenet"}.get(family, family)]
    with_drop = trace(get_config(name, dropout=0.3))
    without = trace(get_config(name, dropout=0.0))
    assert len([r for r in with_drop.layers if r.kind == "dropout"]) == n
    assert not [r for r in without.layers if r.kind == "dropout"]
    assert with_drop.totals.params == without.totals.params and with_drop.totals.macs == without.totals.macs
    meta = create_model(get_config(name, dropout=0.3), device="meta")
    assert [m.p for m in meta.modules() if isinstance(m, nn.Dropout)] == [0.3] * n


@pytest.mark.parametrize("name", NAMES)
def test_activation_swap(name):
    relu, sig = get_config(name, activation="relu"), get_config(name, activation="sigmoid")
    r_leaves, s_leaves = _leaves(relu), _leaves(sig)
    assert {r.type for r in r_leaves if r.kind == "act"} == {"ReLU"}
    assert {r.type for r in s_leaves if r.kind == "act"} == {"Sigmoid"}
    # the same network otherwise: one Sigmoid where each ReLU was
    assert [(r.name, r.kind) for r in r_leaves] == [(r.name, r.kind) for r in s_leaves]
    assert trace(relu).totals.params == trace(sig).totals.params


def test_vgg11_width_div_4_is_the_books_small_vgg():
    a, b = trace(get_config("vgg11", width_div=4)), trace(get_config("vgg11_small"))
    assert [r.output_shape[0] for r in a.leaves() if r.kind == "conv"] == [16, 32, 64, 64, 128, 128, 128, 128]
    assert [r.output_shape for r in a.leaves()] == [r.output_shape for r in b.leaves()]
    assert a.totals.params == b.totals.params == 43_093_322
    assert a.totals.macs == b.totals.macs


@pytest.mark.parametrize("name", NAMES)
def test_width_div_divides_channels(name):
    cfg = get_config(name)
    full = _kinds(cfg, "conv")
    half = _kinds(cfg.replace(width_div=2), "conv")
    assert [r.name for r in full] == [r.name for r in half]
    kept = 0
    for a, b in zip(full, half):
        if a.output_shape[0] == b.output_shape[0] == cfg.num_classes:
            kept += 1  # NiN's last block outputs one map per class, whatever the width
        else:
            assert b.output_shape[0] == a.output_shape[0] // 2, a.name
    assert kept == (3 if name == "nin" else 0)
    assert trace(cfg.replace(width_div=2)).totals.params < trace(cfg).totals.params


@pytest.mark.parametrize("name", NAMES)
def test_three_input_channels_change_only_the_first_conv(name):
    g, rgb = trace(get_config(name)), trace(get_config(name, in_channels=3))
    first = g.leaves()[0]
    assert first.kind == "conv" and first.input_shape[0] == 1
    assert rgb.leaves()[0].input_shape[0] == 3
    kh, kw = first.kernel
    cout, oh, ow = first.output_shape
    assert rgb.totals.params - g.totals.params == 2 * kh * kw * cout
    assert rgb.totals.macs - g.totals.macs == 2 * kh * kw * cout * oh * ow
    assert [r.output_shape for r in rgb.layers] == [r.output_shape for r in g.layers]


def test_three_input_channels_by_hand():
    assert trace(get_config("alexnet", in_channels=3)).totals.params == 46_764_746 + 2 * 11 * 11 * 96
    assert trace(get_config("resnet18", in_channels=3)).totals.params == 11_178_378 + 2 * 7 * 7 * 64


@pytest.mark.parametrize("name, side, flat, hidden", [
    # AlexNet at 227: conv ⌊(227+2−11)/4⌋+1 = 55 → pools 27, 13, 6 → 256·6·6 = 9216 (vs 6400 at 224)
    ("alexnet", 227, 9216, 4096),
    # VGG-11 at 256: five halvings → 8 → 512·8·8 = 32768 (vs 25088 at 224)
    ("vgg11", 256, 32768, 4096),
    # LeNet at 32: 28 → 14 → 10 → 5 → 16·5·5 = 400 (vs 256 at 28)
    ("lenet", 32, 400, 120),
])
def test_input_size_sets_the_first_dense_width(name, side, flat, hidden):
    default = trace(get_config(name))
    other = trace(get_config(name, input_hw=(side, side)))
    d_flat = [r for r in default.leaves() if r.kind == "flatten"][0].output_shape[0]
    assert [r for r in other.leaves() if r.kind == "flatten"][0].output_shape == (flat,)
    first_dense = [r for r in other.leaves() if r.kind == "linear"][0]
    assert first_dense.input_shape == (flat,)
    assert other.totals.params - default.totals.params == (flat - d_flat) * hidden


@pytest.mark.parametrize("name, sides", [("nin", (224, 160)), ("googlenet", (96, 224)), ("resnet18", (224, 96))])
def test_global_pooling_nets_do_not_depend_on_input_size(name, sides):
    a, b = (trace(get_config(name, input_hw=(s, s))) for s in sides)
    assert a.totals.params == b.totals.params
    assert a.totals.macs != b.totals.macs
    assert a.layers[-1].output_shape == b.layers[-1].output_shape == (10,)


def test_num_classes_sets_the_output():
    t = trace(get_config("resnet18", num_classes=1000))
    assert t.layers[-1].output_shape == (1000,)
    assert t.totals.params - SEED["resnet18"][1] == 512 * 990 + 990


# --- configs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_configs_are_frozen_hashable_and_json_round_trip(name):
    cfg = get_config(name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.in_channels = 3  # type: ignore[misc]
    assert hash(cfg) == hash(get_config(name)) and cfg == get_config(name)
    cache = {cfg: name}
    assert cache[get_config(name)] == name
    assert cfg.replace(width_div=2) not in cache
    d = cfg.to_dict()
    text = json.dumps(d)
    back = type(cfg)(**json.loads(text))  # lists from JSON come back as tuples
    assert back == cfg and hash(back) == hash(cfg)


def test_lists_become_tuples():
    a = get_config("vgg11", conv_arch=[[1, 64], [1, 128]], input_hw=[64, 64])
    b = get_config("vgg11", conv_arch=((1, 64), (1, 128)), input_hw=(64, 64))
    assert a == b and hash(a) == hash(b)
    assert isinstance(a.conv_arch, tuple) and all(isinstance(x, tuple) for x in a.conv_arch)
    c = get_config("resnet18", stages=[[1, 32]])
    assert c.stages == ((1, 32),)


def test_replace_validates():
    cfg = get_config("vgg11")
    for bad in (dict(width_div=0), dict(in_channels=2), dict(dropout=1.0), dict(dropout=math.nan),
                dict(activation="tanh"), dict(bn_impl="cuda"), dict(num_classes=0)):
        with pytest.raises(ConfigError):
            cfg.replace(**bad)
    assert cfg.replace(width_div=4).width_div == 4
    assert cfg.width_div == 1  # the original is untouched


# --- clear errors ----------------------------------------------------------------------------------
ERRORS = [
    ("zero side", lambda: get_config("alexnet", input_hw=(0, 224)), ConfigError, "err.side_positive"),
    ("negative side", lambda: get_config("nin", input_hw=(-3, -3)), ConfigError, "err.side_positive"),
    ("two channels", lambda: get_config("vgg11", in_channels=2), ConfigError, "err.in_channels"),
    ("width_div empties lenet", lambda: trace(get_config("lenet", width_div=8)), ConfigError,
     "err.width_div_empty"),
    ("width_div empties lenet (build)", lambda: create_model("lenet", width_div=8), ConfigError,
     "err.width_div_empty"),
    ("empty conv_arch", lambda: get_config("vgg11", conv_arch=()), ConfigError, "err.empty_arch"),
    ("block with no conv", lambda: get_config("vgg11", conv_arch=((1, 64), (0, 128))), ConfigError,
     "err.block_convs"),
    ("block with no channels", lambda: get_config("vgg11", conv_arch=((1, 0),)), ConfigError, "err.block_channels"),
    ("conv_arch not pairs", lambda: get_config("vgg11", conv_arch=(5,)), ConfigError, "err.pairs"),
    ("empty stages", lambda: get_config("resnet18", stages=()), ConfigError, "err.empty_arch"),
    ("stage with no block", lambda: get_config("resnet18", stages=((0, 64),)), ConfigError, "err.stage_blocks"),
    ("side over the cap", lambda: get_config("resnet18", input_hw=(MAX_INPUT_SIDE + 1, 224)), ConfigError,
     "err.side_cap"),
    ("input_hw not a pair", lambda: get_config("resnet18", input_hw=(224,)), ConfigError, "err.input_hw"),
    ("unknown architecture", lambda: get_config("resnet50"), UnknownModelError, "err.unknown_model"),
    ("unknown architecture (build)", lambda: create_model("vgg"), UnknownModelError, "err.unknown_model"),
    ("unknown setting", lambda: get_config("vgg11", residual=False), ConfigError, "err.unknown_setting"),
    ("batch size 0", lambda: trace(get_config("lenet"), batch_size=0), ConfigError, "err.batch_size"),
    ("input too small", lambda: create_model("alexnet", input_hw=(64, 64)), ShapeError, "err.shape"),
]


@pytest.mark.parametrize("what, call, cls, code", ERRORS, ids=[e[0] for e in ERRORS])
def test_clear_errors(what, call, cls, code):
    with pytest.raises(cls) as info:
        call()
    err = info.value
    assert isinstance(err, CnnvizError) and isinstance(err, ValueError)
    assert err.code == code
    msg = str(err)
    assert msg and "\n" not in msg and "Traceback" not in msg
    zh = err.render("zh")
    assert zh != msg and any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_unknown_architecture_lists_the_valid_names():
    with pytest.raises(UnknownModelError) as info:
        get_config("resnet50")
    msg = str(info.value)
    assert "resnet50" in msg
    for name in NAMES:
        assert name in msg


def test_unknown_setting_names_it_and_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        get_config("vgg11", residual=False, foo=1)
    msg = str(info.value)
    assert "foo" in msg and "residual" in msg and "conv_arch" in msg and "width_div" in msg


def test_width_div_message_shows_the_arithmetic():
    with pytest.raises(ConfigError) as info:
        trace(get_config("lenet", width_div=8))
    assert "6 ÷ 8 = 0" in str(info.value)


def test_errors_are_one_public_type():
    assert issubclass(cnnviz.CnnvizError, ValueError)
    for cls in (ConfigError, ShapeError, UnknownModelError):
        assert issubclass(cls, CnnvizError)


def test_vgg_block_sides_halve_by_floor_and_stop_at_nothing():
    from cnnviz.models.vgg import block_sides

    assert block_sides(224, 5) == [224, 112, 56, 28, 14, 7]
    assert block_sides(33, 3) == [33, 16, 8, 4]
    assert block_sides(8, 5) == [8, 4, 2, 1, 0]  # the fourth block's pool leaves nothing: the designer marks it
