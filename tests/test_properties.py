"""Property-based tests: any VGG ``conv_arch`` or ResNet ``stages`` a user can type, at any input
size, traces or fails with a ``CnnvizError``, never anything else, and when it fails for size
the smallest side it reports is right."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import need

from cnnviz import CnnvizError, ConfigError, ShapeError, get_config
from cnnviz.cli import apply_settings
from cnnviz.inspect.tracing import trace

# every test here is a hypothesis property: without it, the module skips (and fails in CI)
hypothesis, st = need("hypothesis"), need("hypothesis.strategies")
HealthCheck, event, given, settings = hypothesis.HealthCheck, hypothesis.event, hypothesis.given, hypothesis.settings

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sides = st.integers(min_value=1, max_value=300)
conv_archs = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 64)), min_size=1, max_size=6)
stage_lists = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 64)), min_size=1, max_size=4)


@pytest.mark.slow  # 40 random networks traced
@SETTINGS
@given(arch=conv_archs, h=sides, w=sides, in_channels=st.sampled_from([1, 3]), width_div=st.integers(1, 8))
def test_any_vgg_traces_or_fails_cleanly(arch, h, w, in_channels, width_div):
    cfg = get_config("vgg11", conv_arch=arch, input_hw=(h, w), in_channels=in_channels, width_div=width_div)
    empties = any(c // width_div == 0 for _, c in arch)
    need = 2 ** len(arch)  # every block halves the map with a 2×2/2 pool
    try:
        t = trace(cfg)  # anything but a CnnvizError escapes and fails the test
    except ShapeError as err:
        assert not empties
        assert min(h, w) < need
        assert err.min_side is not None and err.min_side > min(h, w)
        assert err.min_side == need
        event("too small")
        ok = trace(cfg.replace(input_hw=(err.min_side, err.min_side)))
        assert ok.layers[-1].output_shape == (10,)
        return
    except ConfigError as err:
        assert empties and err.code == "err.width_div_empty"
        event("no channels left")
        return
    event("traced")
    assert t.input_shape == (in_channels, h, w) and t.config == cfg  # traced what was asked for
    assert not empties and min(h, w) >= need
    assert t.layers[-1].output_shape == (10,)
    flat = [r for r in t.leaves() if r.kind == "flatten"][0]
    assert flat.output_shape == ((arch[-1][1] // width_div) * (h >> len(arch)) * (w >> len(arch)),)
    assert t.totals.conv_layers == sum(n for n, _ in arch) and t.totals.linear_layers == 3
    assert t.totals.min_side == need


def _resnet_params(cfg) -> int:
    bn = 2 if cfg.batch_norm else 0  # gamma and beta per channel
    stem = cfg.stem_channels // cfg.width_div
    n = cfg.in_channels * stem * 49 + stem + bn * stem
    cin = stem
    for i, (blocks, c) in enumerate(cfg.stages):
        c //= cfg.width_div
        for j in range(blocks):
            stride = 2 if (j == 0 and i > 0) else 1
            n += (cin * 9 * c + c) + (c * 9 * c + c) + 2 * bn * c
            if cfg.residual and (stride != 1 or cin != c):
                n += cin * c + c
            cin = c
    return n + cin * cfg.num_classes + cfg.num_classes


@pytest.mark.slow  # 40 random networks traced
@SETTINGS
@given(stages=stage_lists, h=sides, w=sides, in_channels=st.sampled_from([1, 3]), width_div=st.integers(1, 4),
       stem=st.integers(1, 64), residual=st.booleans(), batch_norm=st.booleans())
def test_any_resnet_traces_or_fails_cleanly(stages, h, w, in_channels, width_div, stem, residual, batch_norm):
    cfg = get_config("resnet18", stages=stages, input_hw=(h, w), in_channels=in_channels, width_div=width_div,
                     stem_channels=stem, residual=residual, batch_norm=batch_norm)
    empties = stem // width_div == 0 or any(c // width_div == 0 for _, c in stages)
    try:
        t = trace(cfg)
    except ShapeError as err:  # every window is padded: no input is too small
        raise AssertionError(f"ResNet refused {h}×{w}: {err}") from None
    except ConfigError as err:
        assert empties and err.code == "err.width_div_empty"
        event("no channels left")
        return
    event("traced")
    assert not empties
    assert t.layers[-1].output_shape == (10,)
    assert t.totals.min_side == 1
    blocks = [r for r in t.layers if r.kind == "residual"]
    assert len(blocks) == sum(n for n, _ in stages)
    adds = [r for r in t.layers if r.kind == "add"]
    assert len(adds) == (len(blocks) if residual else 0)
    assert t.totals.params == _resnet_params(cfg)
    last = stages[-1][1] // width_div
    assert [r.output_shape for r in t.layers if r.kind == "gap"] == [(last, 1, 1)]


_SCALARS = [f.name for f in dataclasses.fields(get_config("vgg11"))
            if f.type in ("int", "float", "bool", "str")]


@SETTINGS
@given(key=st.sampled_from(_SCALARS), raw=st.one_of(st.text(max_size=12), st.integers().map(str),
                                                     st.floats().map(str)))
def test_cli_settings_parse_or_fail_cleanly(key, raw):
    """``--set key=value`` on a scalar field: a valid config or a ``CnnvizError``, for any text."""
    cfg = get_config("vgg11", input_hw=(32, 32))
    try:
        out = apply_settings(cfg, [f"{key}={raw}"])
    except CnnvizError as err:
        assert str(err) and "\n" not in str(err)
        return
    out.validate()
    assert type(getattr(out, key)) is type(getattr(cfg, key))
