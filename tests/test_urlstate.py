"""Links are user input: every page's query string is parsed, clamped and explained."""

from __future__ import annotations

import pytest

from cnnviz import list_models, urlstate
from cnnviz.config import MAX_INPUT_SIDE
from cnnviz.urlstate import BoolField, ChoiceField, FloatField, IntChoiceField, IntField, IntListField, TextField
from ui import schemas


def keys(problems):
    return [p.key for p in problems]


# --- fields ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, value, problem", [
    ("100", 100, None), (" 64 ", 64, None), ("30.0", 30, None),
    ("100000", 512, "url.clamped"), ("1e9", 512, "url.clamped"), ("-5", 8, "url.clamped"),
    ("abc", 224, "url.not_int"), ("nan", 224, "url.not_int"), ("inf", 224, "url.not_int"), ("1.5", 224, "url.not_int"),
    ("9" * 5000, 224, "url.not_int"), ("", 224, "url.not_int"),
])
def test_int_field_clamps_or_defaults(raw, value, problem):
    got, prob = IntField("side", 224, lo=8, hi=512).parse(raw, 224)
    assert got == value
    assert (prob.key if prob else None) == problem


def test_float_field_snaps_to_the_slider_step_and_clamps():
    f = FloatField("drop", 0.0, lo=0.0, hi=0.9, step=0.1)
    assert f.parse("0.33", 0.0) == (0.3, None)
    value, prob = f.parse("5", 0.0)
    assert value == 0.9 and prob.key == "url.clamped"
    value, prob = f.parse("nan", 0.5)
    assert value == 0.5 and prob.key == "url.not_number"


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)])
def test_bool_field(raw, value):
    assert BoolField("bn", False).parse(raw, not value) == (value, None)


def test_bool_field_rejects_junk():
    value, prob = BoolField("bn", False).parse("maybe", False)
    assert value is False and prob.key == "url.not_bool"


def test_choice_field_rejects_unknown_values_and_lists_the_valid_ones():
    f = ChoiceField("arch", "alexnet", choices=("alexnet", "nin"))
    assert f.parse("nin", "alexnet") == ("nin", None)
    value, prob = f.parse("resnet999", "alexnet")
    assert value == "alexnet"
    assert prob.key == "url.bad_choice" and "alexnet, nin" in prob.render("en")


def test_int_choice_field_goes_to_the_nearest_choice():
    f = IntChoiceField("wd", 1, choices=(1, 2, 4, 8, 16))
    assert f.parse("4", 1) == (4, None)
    value, prob = f.parse("5", 1)
    assert value == 4 and prob.key == "url.nearest"
    value, prob = f.parse("1000", 1)
    assert value == 16 and prob is not None


def test_int_list_field():
    f = IntListField("convs", (1, 1, 2), lo=1, hi=4, max_len=3)
    assert f.parse("2,3,4", (1, 1, 2)) == ((2, 3, 4), None)
    value, prob = f.parse("2,9", (1, 1, 2))
    assert value == (2, 4) and prob.key == "url.clamped"
    value, prob = f.parse("1,2,3,4,1", (1, 1, 2))
    assert value == (1, 2, 3) and prob.key == "url.list_long"
    value, prob = f.parse("1,,2", (1, 1, 2))
    assert value == (1, 1, 2) and prob.key == "url.bad_list"
    assert f.encode((1, 2)) == "1,2"


def test_int_list_field_with_choices():
    f = IntListField("chans", (64,), max_len=2, choices=(64, 128, 256))
    value, prob = f.parse("100,256", (64,))
    assert value == (128, 256) and prob.key == "url.nearest"


def test_text_field_accepts_block_names_only():
    f = TextField("expand", "auto")
    assert f.parse("2.0", "auto") == ("2.0", None)
    for junk in ("../etc", "<script>", "a" * 41, ""):
        value, prob = f.parse(junk, "auto")
        assert value == "auto" and prob.key == "url.bad_text"


# --- schemas ------------------------------------------------------------------------------
def test_schema_parse_ignores_other_pages_keys_and_takes_the_last_repeated_value():
    s = urlstate.Schema((IntField("side", 224, lo=8, hi=512), BoolField("bn", False)))
    values, problems = s.parse({"side": ["100", "120"], "lang": "zh", "unrelated": "x"})
    assert values == {"side": 120, "bn": False} and problems == []


def test_schema_encode_keeps_only_changed_values_and_round_trips():
    s = schemas.designer_schema()
    assert s.encode(s.defaults()) == {}
    values = s.defaults() | {"blocks": 3, "convs": (2, 2, 3), "chans": (32, 64, 128), "side": 96}
    encoded = s.encode(values)
    assert encoded == {"blocks": "3", "convs": "2,2,3", "chans": "32,64,128", "side": "96"}
    parsed, problems = s.parse(encoded)
    assert problems == [] and parsed == values


def test_duplicate_field_names_are_a_bug():
    with pytest.raises(ValueError):
        urlstate.Schema((IntField("a", 1, lo=0, hi=2), BoolField("a", False)))


def test_every_problem_renders_in_both_languages():
    _, problems = schemas.parse_explorer({"arch": "x", "side": "1e6", "ch": "7", "batch": "z", "bn": "?",
                                           "drop": "nan", "wd": "3", "act": "tanh", "table": "q", "expand": "<>"})
    assert len(problems) == 10
    for p in problems:
        assert p.render("en") and p.render("zh") and p.render("en") != p.render("zh")


# --- the explorer ---------------------------------------------------------------------------
def test_explorer_defaults_follow_the_architecture():
    values, problems = schemas.parse_explorer({"arch": "lenet"})
    assert problems == []
    assert values["side"] == 28 and values["bn"] is True and values["act"] == "sigmoid"
    values, _ = schemas.parse_explorer({"arch": "googlenet"})
    assert values["side"] == 96 and values["drop"] == 0.0
    values, _ = schemas.parse_explorer({})
    assert values["arch"] == "alexnet" and values["side"] == 224 and values["drop"] == 0.5


def test_a_crafted_explorer_link_is_clamped_and_explained():
    values, problems = schemas.parse_explorer({"arch": "resnet9000", "side": "100000"})
    assert values["arch"] == "alexnet"  # the default, with its own defaults
    assert values["side"] == schemas.UI_MAX_SIDE <= MAX_INPUT_SIDE
    assert keys(problems) == ["url.bad_choice", "url.clamped"]
    text = urlstate.problems_text(problems, "zh")
    assert "100000" in text and "resnet9000" in text and "改用" in text


@pytest.mark.parametrize("arch", list_models())
def test_explorer_config_builds_every_architecture(arch):
    values, _ = schemas.parse_explorer({"arch": arch, "wd": "2", "bn": "1"})
    cfg = schemas.explorer_config(values)
    assert cfg.width_div == 2 and cfg.batch_norm is True
    assert cfg.input_hw == (values["side"], values["side"])


def test_residual_switch_only_reaches_resnet():
    cfg = schemas.explorer_config(schemas.parse_explorer({"arch": "resnet18", "res": "0"})[0])
    assert cfg.residual is False
    cfg = schemas.explorer_config(schemas.parse_explorer({"arch": "vgg11", "res": "0"})[0])
    assert not hasattr(cfg, "residual")


# --- the designer -----------------------------------------------------------------------------
def test_designer_arch_pads_short_lists():
    values, problems = schemas.designer_schema().parse({"blocks": "4", "convs": "1,2", "chans": "64"})
    assert problems == []
    assert schemas.designer_arch(values) == ((1, 64), (2, 64), (2, 64), (2, 64))


def test_designer_presets_are_the_papers_vggs():
    presets = schemas.designer_presets()
    assert list(presets) == ["vgg11", "vgg13", "vgg16", "vgg19", "vgg11_small"]
    assert sum(n for n, _ in presets["vgg16"]) == 13  # + 3 dense layers = 16
    for arch in presets.values():
        values = schemas.designer_schema().defaults() | {
            "blocks": len(arch), "convs": tuple(n for n, _ in arch), "chans": tuple(c for _, c in arch)}
        assert schemas.designer_arch(values) == arch  # every preset fits the sliders' ranges
        assert schemas.designer_schema().parse(schemas.designer_schema().encode(values))[1] == []
