"""The string table (``cnnviz/strings/*.py`` merged by ``cnnviz.i18n``): both languages, the same
placeholders, and every key the code uses is defined."""

from __future__ import annotations

import ast
import pathlib
import re
import string

import pytest

from cnnviz import CnnvizError, list_models
from cnnviz.i18n import LANGS, TABLE, t

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEYS = sorted(TABLE)

# Prose: more than one token and a word in lower case ("input must be positive", ", padding {p}"):
# its Chinese must differ and contain ideographs. Names ("AlexNet", "VGG-11", "Inception {name}")
# and single option values or identifiers ("sigmoid", "conv_arch") may stay the same.
_LOWER_WORD = re.compile(r"\b[a-z]{2,}\b")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _is_prose(en: str) -> bool:
    text = _PLACEHOLDER.sub(" ", en).strip()
    return len(text.split()) > 1 and bool(_LOWER_WORD.search(text))


def _has_cjk(text: str) -> bool:
    """Chinese ideographs (punctuation such as "，" alone does not count)."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _source_files() -> list[pathlib.Path]:
    files = [p for p in (ROOT / "cnnviz").rglob("*.py") if "strings" not in p.relative_to(ROOT / "cnnviz").parts]
    for extra in ("ui", "pages", "classroom"):
        if (ROOT / extra).is_dir():
            files += sorted((ROOT / extra).rglob("*.py"))
    if (ROOT / "app.py").is_file():
        files.append(ROOT / "app.py")
    return files


def test_prose_rule():
    assert _is_prose("input must be positive") and _is_prose(", padding {p}")
    assert not _is_prose("AlexNet") and not _is_prose("VGG-11") and not _is_prose("Inception {name}")
    assert not _is_prose("sigmoid") and not _is_prose("Fashion-MNIST")


def test_table_is_not_empty_and_has_both_languages():
    assert LANGS == ("en", "zh")
    assert len(TABLE) > 20
    for key, pair in TABLE.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        en, zh = pair
        assert en.strip() and zh.strip(), key


@pytest.mark.parametrize("key", KEYS)
def test_chinese_is_a_translation(key):
    en, zh = TABLE[key]
    if _is_prose(en):
        assert zh != en, f"{key}: Chinese text is a copy of the English"
        assert _has_cjk(zh), f"{key}: no Chinese characters in {zh!r}"
    elif zh != en:
        assert _has_cjk(zh), f"{key}: {zh!r} differs from the English but has no Chinese characters"


@pytest.mark.parametrize("key", KEYS)
def test_placeholders_match(key):
    en, zh = TABLE[key]
    assert _fields(en) == _fields(zh), key
    # both format with the same arguments (numbers suit every format spec in use: "{cap:,}", "{name!r}")
    params = {name: 1234 for name in _fields(en)}
    if params:
        assert t(key, "en", **params) and t(key, "zh", **params)


def test_t_languages_and_unknown_keys():
    assert t("arch.lenet", "en") == TABLE["arch.lenet"][0]
    assert t("arch.lenet", "zh") == TABLE["arch.lenet"][1]
    assert t("arch.lenet", "fr") == TABLE["arch.lenet"][0]  # unknown language: English
    assert t("err.side_cap", "zh", side=2000, cap=1024) == TABLE["err.side_cap"][1].format(side=2000, cap=1024)
    with pytest.raises(KeyError):
        t("no.such.key")


@pytest.mark.parametrize("name", list_models())
def test_every_architecture_has_a_name(name):
    assert f"arch.{name}" in TABLE


_ERR_CODE = re.compile(r"^err\.[A-Za-z0-9_.]*[A-Za-z0-9_]$")


def _first_string_args(path: pathlib.Path) -> list[tuple[str, str]]:
    """(callee name, first argument) for every call whose first argument is a string literal.

    Parsed, not grepped, so docstrings and comments (usage examples) do not count and
    ``t("family." + name)`` or ``t(f"arch.{name}")`` are not mistaken for keys."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                out.append((name, arg.value))
    return out


def test_every_error_code_raised_is_in_the_table():
    codes: dict[str, str] = {}
    for path in _source_files():
        for _, value in _first_string_args(path):
            if _ERR_CODE.match(value):
                codes.setdefault(value, str(path.relative_to(ROOT)))
    # the library's own codes must be among those found, or the scan is broken
    expected = {"err.shape", "err.unknown_model", "err.side_positive", "err.width_div_empty", "err.batch_size"}
    assert expected <= set(codes)
    missing = {c: where for c, where in codes.items() if c not in TABLE}
    assert not missing, f"error codes without a string: {missing}"


def test_every_literal_key_passed_to_t_is_in_the_table():
    used: dict[str, str] = {}
    for path in _source_files():
        for callee, value in _first_string_args(path):
            if callee in ("t", "tr"):
                used.setdefault(value, str(path.relative_to(ROOT)))
    assert "common.language" in used  # ui/common.py's language switch: the scan works
    missing = {k: where for k, where in used.items() if k not in TABLE}
    assert not missing, f"keys used but not defined: {missing}"


@pytest.mark.parametrize("code", [k for k in KEYS if k.startswith("err.") and k.count(".") == 1])
def test_every_error_renders_in_both_languages(code):
    en, _ = TABLE[code]
    err = CnnvizError(code, **{name: 7 for name in _fields(en)})
    assert str(err) == err.render("en") and "\n" not in str(err)
    assert err.render("zh") != str(err) and _has_cjk(err.render("zh"))


def test_no_key_is_written_twice_in_one_file():
    """A repeated key inside one dict literal silently replaces the first entry (it once
    turned the training page's title into a run-name template); the merge cannot see it."""
    import ast
    import pathlib

    for path in sorted((pathlib.Path(__file__).resolve().parents[1] / "cnnviz" / "strings").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                dupes = sorted({k for k in keys if keys.count(k) > 1})
                assert not dupes, f"{path.name} defines {dupes} more than once"
