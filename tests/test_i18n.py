"""The string table (``cnnviz/strings/*.py`` merged by ``cnnviz.i18n``): both languages, the same
placeholders, and every key the code uses is defined."""

from __future__ import annotations

import ast
import functools
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


def _shape_problems(key, pair) -> list[str]:
    """Both languages present and non-empty."""
    if not (isinstance(pair, tuple) and len(pair) == 2):
        return [f"{key}: not an (English, Chinese) pair: {pair!r}"]
    en, zh = pair
    if not (isinstance(en, str) and isinstance(zh, str)):
        return [f"{key}: not two strings: {pair!r}"]
    return [f"{key}: empty {lang}" for lang, text in (("English", en), ("Chinese", zh)) if not text.strip()]


def _translation_problems(key: str, en: str, zh: str) -> list[str]:
    """Prose is translated (differs, with ideographs); anything else may stay, or be Chinese."""
    if _is_prose(en):
        out = []
        if zh == en:
            out.append(f"{key}: Chinese text is a copy of the English")
        if not _has_cjk(zh):
            out.append(f"{key}: no Chinese characters in {zh!r}")
        return out
    if zh != en and not _has_cjk(zh):
        return [f"{key}: {zh!r} differs from the English but has no Chinese characters"]
    return []


def _placeholder_problems(key: str, en: str, zh: str, fmt=None) -> list[str]:
    """The same placeholders, and both format with the same arguments (numbers suit every format
    spec in use: "{cap:,}", "{name!r}"). ``fmt(key, lang, **params)`` formats (``t`` by default)."""
    fmt = fmt or t
    try:
        fe, fz = _fields(en), _fields(zh)
    except ValueError as err:  # an unbalanced brace
        return [f"{key}: malformed placeholders: {err}"]
    if fe != fz:
        return [f"{key}: placeholders differ: English {sorted(fe)}, Chinese {sorted(fz)}"]
    params = {name: 1234 for name in fe}
    if not params:
        return []
    out = []
    for lang in LANGS:
        try:
            if not fmt(key, lang, **params):
                out.append(f"{key}: formats to nothing in {lang}")
        except Exception as err:  # noqa: BLE001 (every failure is reported, with its key)
            out.append(f"{key}: does not format in {lang}: {type(err).__name__}: {err}")
    return out


def _error_problems(code: str) -> list[str]:
    en, _ = TABLE[code]
    try:
        err = CnnvizError(code, **{name: 7 for name in _fields(en)})
        en_text, zh_text = str(err), err.render("zh")
    except Exception as exc:  # noqa: BLE001 (every failure is reported, with its code)
        return [f"{code}: does not render: {type(exc).__name__}: {exc}"]
    out = []
    if en_text != err.render("en"):
        out.append(f"{code}: str() is not the English rendering")
    if "\n" in en_text:
        out.append(f"{code}: the English message spans several lines")
    if zh_text == en_text or not _has_cjk(zh_text):
        out.append(f"{code}: the Chinese rendering is not Chinese: {zh_text!r}")
    return out


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s) in the string table:\n" + "\n".join(problems)


def test_table_is_not_empty_and_has_both_languages():
    assert LANGS == ("en", "zh")
    assert len(TABLE) > 20
    problems = [p for key, pair in TABLE.items() for p in _shape_problems(key, pair)]
    assert not problems, _report(problems)


def test_chinese_is_a_translation():
    """Every key at once; the message lists every bad key."""
    problems = [p for key in KEYS for p in _translation_problems(key, *TABLE[key])]
    assert not problems, _report(problems)


def test_placeholders_match():
    """Every key at once; the message lists every bad key."""
    problems = [p for key in KEYS for p in _placeholder_problems(key, *TABLE[key])]
    assert not problems, _report(problems)


def test_the_checks_report_every_bad_key():
    """The table-wide checks find each kind of fault, and name every faulty key, not the first."""
    assert _shape_problems("a", ("x", " ")) == ["a: empty Chinese"]
    assert _shape_problems("b", ("", "")) == ["b: empty English", "b: empty Chinese"]
    assert _shape_problems("c", ("only one",)) and _shape_problems("d", ("x", None))
    assert not _shape_problems("e", ("x", "y"))
    assert _translation_problems("f", "input must be positive", "input must be positive") == [
        "f: Chinese text is a copy of the English", "f: no Chinese characters in 'input must be positive'"]
    assert _translation_problems("g", "input must be positive", "input must be positive!")
    assert _translation_problems("h", "sigmoid", "sigmoide")  # changed, but not into Chinese
    assert not _translation_problems("i", "AlexNet", "AlexNet") and not _translation_problems("j", "sigmoid", "S 型")
    fake = {"k": ("{a} of {b}", "{a}的{c}"), "l": ("{n:,} steps", "{n:,} 步"), "m": ("{n:d} steps", "{n:q} 步")}

    def fmt(key, lang, **params):
        return fake[key][LANGS.index(lang)].format(**params)

    assert _placeholder_problems("k", *fake["k"], fmt) == ["k: placeholders differ: English ['a', 'b'], Chinese "
                                                           "['a', 'c']"]
    assert not _placeholder_problems("l", *fake["l"], fmt)
    assert [p.split(":")[1] for p in _placeholder_problems("m", *fake["m"], fmt)] == [" does not format in zh"]
    assert _placeholder_problems("o", "{a", "{a}")[0].startswith("o: malformed placeholders")
    copies = {"f": ("input is bad", "input is bad"), "g2": ("fine words", "好的"), "h": ("output is bad", "output")}
    bad = [p for key, pair in copies.items() for p in _translation_problems(key, *pair)]
    assert {p.split(":")[0] for p in bad} == {"f", "h"} and _report(bad).startswith(f"{len(bad)} problem(s)")


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


@functools.cache  # two tests scan every source file
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


ERROR_CODES = [k for k in KEYS if k.startswith("err.") and k.count(".") == 1]


def test_every_error_renders_in_both_languages():
    """Every top-level error code at once; the message lists every bad code."""
    assert len(ERROR_CODES) > 5
    problems = [p for code in ERROR_CODES for p in _error_problems(code)]
    assert not problems, _report(problems)


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
