"""``cnnviz.settings``: every ``CNNVIZ_*`` variable read and validated in one place, torch-free,
and the README's settings table in step with it."""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys

import pytest

from cnnviz import settings
from cnnviz.settings import SETTINGS, SettingError

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Settings", 1)[1].split("\n\n", 2)[1]  # the table after the heading
    names: set[str] = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        names.update(re.findall(r"`(CNNVIZ_[A-Z_]+)`", first))
    return names


def test_the_readme_table_lists_every_setting_and_no_other():
    assert _readme_settings() == set(SETTINGS)


def test_the_code_reads_no_cnnviz_variable_outside_settings():
    """``os.environ`` / ``getenv`` of a ``CNNVIZ_*`` name anywhere but this module is a second way."""
    offenders = []
    for folder in ("cnnviz", "ui", "pages", "classroom"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py" and path.parent.name == "cnnviz":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"(environ\.get|environ\[|getenv)\(?\s*[\"']CNNVIZ_", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_defaults_when_unset_or_blank():
    env = {"CNNVIZ_MAX_LIVE": "  ", "HOME": "/home/x"}
    assert settings.get("CNNVIZ_MAX_LIVE", env) == 1
    assert settings.get("CNNVIZ_POOL", env) == "auto"
    assert settings.get("CNNVIZ_WORKERS", env) is None
    assert settings.get("CNNVIZ_WEIGHTS_MAX_MB", env) == 2048


@pytest.mark.parametrize("name, raw", [("CNNVIZ_MAX_LIVE", "abc"), ("CNNVIZ_MAX_LIVE", "0"),
                                       ("CNNVIZ_WORKERS", "-2"), ("CNNVIZ_WEIGHTS_MAX_MB", "1.5"),
                                       ("CNNVIZ_POOL", "sometimes"), ("CNNVIZ_LANG", "fr")])
def test_a_value_that_cannot_work_is_one_clear_error_naming_the_variable(name, raw):
    with pytest.raises(SettingError) as err:
        settings.get(name, {name: raw})
    assert name in str(err.value) and repr(raw) in str(err.value) and name in err.value.render("zh")
    assert [e.params["name"] for e in settings.check({name: raw})] == [name]


def test_values_are_parsed():
    env = {"CNNVIZ_MAX_LIVE": " 3 ", "CNNVIZ_POOL": "External", "CNNVIZ_DATA_DIR": "~/d", "CNNVIZ_LANG": "zh"}
    assert settings.get("CNNVIZ_MAX_LIVE", env) == 3
    assert settings.get("CNNVIZ_POOL", env) == "external"
    assert settings.get("CNNVIZ_DATA_DIR", env) == pathlib.Path("~/d").expanduser()
    assert settings.check(env) == []


def test_data_dir_and_store_path(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert settings.data_dir(env) == tmp_path / "cache" / "cnnviz"
    env["CNNVIZ_DATA_DIR"] = str(tmp_path / "data")
    assert settings.db_path(env) == tmp_path / "data" / settings.DB_NAME
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        env["CNNVIZ_DATA_DIR"] = str(ro)
        expected = tmp_path / "cache" / "cnnviz" / settings.DB_NAME
        import os

        if os.access(ro, os.W_OK):  # root writes anywhere: the read-only fallback cannot be seen here
            expected = ro / settings.DB_NAME
        assert settings.db_path(env) == expected
    finally:
        ro.chmod(0o755)
    assert settings.db_path(dict(env, CNNVIZ_DB=str(tmp_path / "x.sqlite"))) == tmp_path / "x.sqlite"


def test_the_settings_module_loads_no_torch():
    code = ("import sys; from cnnviz import settings; settings.check(); settings.db_path(); "
            "print('torch' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "False", res.stderr


def test_no_status_word_is_spelled_outside_the_status_module():
    """Every status is ``cnnviz.status.Status``: a string literal that is a status word (or quotes one,
    as SQL does) anywhere else in the product is a second vocabulary."""
    import io
    import tokenize

    from cnnviz.status import Status

    words = {s.value for s in Status}
    offenders = []
    for folder in ("cnnviz", "ui", "pages", "classroom"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if str(rel) == "cnnviz/status.py" or rel.parts[:2] == ("cnnviz", "strings"):
                continue
            src = path.read_text(encoding="utf-8")
            for tok in tokenize.generate_tokens(io.StringIO(src).readline):
                if tok.type != tokenize.STRING or tok.string.startswith(('"""', "'''", 'f"', "f'")):
                    continue
                try:
                    value = ast.literal_eval(tok.string)
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, str) and (value in words or any(f"'{w}'" in value for w in words)):
                    offenders.append(f"{rel}:{tok.start[0]}: {tok.string}")
    assert not offenders, "\n".join(offenders)
