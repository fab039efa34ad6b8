"""The one table of user-facing strings, in English and Simplified Chinese.

Entries live in ``cnnviz/strings/*.py`` (one file per area, each a ``STRINGS`` dict of
``key: (english, chinese)``) and are merged here into ``TABLE``; a key defined twice is an
error at import. Pages, the CLI and error messages all go through ``t``. Library errors
(``cnnviz.errors``) carry a key and parameters, so a page renders them in the reader's
language while the CLI prints English.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

LANGS = ("en", "zh")
LANG_NAMES = {"en": "English", "zh": "简体中文"}


def _load() -> dict[str, tuple[str, str]]:
    from cnnviz import strings

    table: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(strings.__path__), key=lambda i: i.name):
        mod = importlib.import_module(f"{strings.__name__}.{info.name}")
        for key, pair in getattr(mod, "STRINGS", {}).items():
            if key in table:
                raise RuntimeError(f"string key {key!r} is defined twice (again in strings/{info.name}.py)")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)):
                raise RuntimeError(f"string key {key!r} in strings/{info.name}.py needs (english, chinese)")
            table[key] = pair
    return table


TABLE: dict[str, tuple[str, str]] = _load()


def t(key: str, lang: str = "en", /, **params: Any) -> str:
    """The string ``key`` in ``lang`` ("en" or "zh"), formatted with ``params``.

    An unknown key raises ``KeyError`` (a bug, caught by the tests); an unknown language
    falls back to English.
    """
    pair = TABLE[key]
    text = pair[1] if lang == "zh" else pair[0]
    return text.format(**params) if params else text


def messages(code: str, **params: Any) -> dict[str, str]:
    """The string ``code`` rendered in every language: events and stored records carry all of them."""
    return {lang: t(code, lang, **params) for lang in LANGS}
