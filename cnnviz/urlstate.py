"""Page configurations as URL query strings: typed, validated, clamped.

A teacher shares a link such as ``/explorer?arch=googlenet&side=96``; every student's page
opens on the same view. A link is user input, so each page declares a ``Schema`` of typed
fields (ranges, choices) and ``Schema.parse`` turns whatever the query string holds into
clean values plus a list of ``Problem``s: out-of-range numbers are clamped, unknown choices
and unreadable values fall back to the default. Nothing here knows about Streamlit; the page
helpers in ``ui.widgets`` bind a schema to widgets and to ``st.query_params``.

The pages' own schemas (the explorer's, the designer's, the compare page's) are UI knowledge
and live in ``ui.schemas``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnviz.config import FALSE_WORDS, TRUE_WORDS
from cnnviz.i18n import t
from cnnviz.safe import Verbatim, verbatim

# A crafted link may carry a megabyte of junk; messages quote at most this much of it.
_QUOTE = 24
# Longest raw value we even try to read; anything longer is rejected as unreadable.
_MAX_RAW = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a link: a string-table key and its parameters (the link's own text
    among them as ``cnnviz.safe.Verbatim``: Markdown code when rendered)."""

    key: str
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``."""
        return t(self.key, lang, **self.params)


def _quote(raw: str) -> Verbatim:
    """A value from the link as a message parameter: its first ``_QUOTE`` characters, shown as
    Markdown code (never a link, an image or markup: see ``cnnviz.safe``)."""
    return verbatim(raw, _QUOTE)


@dataclass(frozen=True)
class Field:
    """A named value of a page's configuration. Subclasses define reading and writing."""

    name: str
    default: Any

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, value: Any) -> str:
        """The value as it appears in the URL."""
        return str(value)

    def clean(self, value: Any) -> Any:
        """A valid Python value of this field (used for values that come from code, not URLs)."""
        parsed, _ = self.parse(self.encode(value), self.default)
        return parsed


def _finite_number(raw: str) -> float:
    """``raw`` as a finite float; ``ValueError`` for text, NaN, ±inf or an absurdly long value
    (a crafted link can carry thousands of digits)."""
    if len(raw) > _MAX_RAW:
        raise ValueError(raw[:20])
    value = float(raw.strip())
    if not math.isfinite(value):
        raise ValueError(raw[:20])
    return value


@dataclass(frozen=True)
class IntField(Field):
    """A whole number in [lo, hi]; out-of-range values are clamped."""

    lo: int = 0
    hi: int = 0

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        try:
            num = _finite_number(raw)
            if num != int(num):
                raise ValueError
            value = int(num)
        except ValueError:
            return default, Problem("url.not_int", dict(name=self.name, raw=_quote(raw), value=default))
        clamped = min(max(value, self.lo), self.hi)
        if clamped != value:
            return clamped, Problem("url.clamped", dict(name=self.name, raw=_quote(raw), lo=self.lo, hi=self.hi,
                                                        value=clamped))
        return value, None


@dataclass(frozen=True)
class FloatField(Field):
    """A number in [lo, hi], rounded to the widget's ``step``; out-of-range values are clamped."""

    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.1

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        try:
            value = _finite_number(raw)
        except ValueError:
            return default, Problem("url.not_number", dict(name=self.name, raw=_quote(raw), value=default))
        clamped = min(max(value, self.lo), self.hi)
        snapped = round(round(clamped / self.step) * self.step, 6)  # sliders only hold multiples of step
        if clamped != value:
            return snapped, Problem("url.clamped", dict(name=self.name, raw=_quote(raw), lo=self.lo, hi=self.hi,
                                                        value=snapped))
        return snapped, None

    def encode(self, value: Any) -> str:
        return f"{float(value):g}"


@dataclass(frozen=True)
class BoolField(Field):
    """On/off: 1/0, true/false, on/off, yes/no."""

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        low = raw.strip().lower()
        if low in TRUE_WORDS:
            return True, None
        if low in FALSE_WORDS:
            return False, None
        return default, Problem("url.not_bool", dict(name=self.name, raw=_quote(raw), value=self.encode(default)))

    def encode(self, value: Any) -> str:
        return "1" if value else "0"


@dataclass(frozen=True)
class ChoiceField(Field):
    """One of a fixed list of strings (architecture names, modes)."""

    choices: tuple[str, ...] = ()

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        value = raw.strip()
        if value in self.choices:
            return value, None
        shown = ", ".join(self.choices) if len(self.choices) <= 12 else ", ".join(self.choices[:12]) + ", …"
        return default, Problem("url.bad_choice", dict(name=self.name, raw=_quote(raw), choices=shown, value=default))


@dataclass(frozen=True)
class IntChoiceField(Field):
    """One of a fixed list of whole numbers (channels 1/3, widths 64/128/…); others go to the nearest."""

    choices: tuple[int, ...] = ()

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        value, problem = IntField(self.name, default, lo=min(self.choices), hi=max(self.choices)).parse(raw, default)
        if problem is not None and problem.key == "url.not_int":
            return value, problem
        if value in self.choices:
            return value, problem
        nearest = min(self.choices, key=lambda c: (abs(c - value), c))
        return nearest, Problem("url.nearest", dict(name=self.name, raw=_quote(raw),
                                                     choices=", ".join(map(str, self.choices)), value=nearest))


@dataclass(frozen=True)
class IntStepField(IntField):
    """A whole number in [lo, hi] on a grid of ``step`` from ``lo`` (a slider with ``step=2`` from 9
    only holds odd depths); off-grid values go to the nearest grid point, ties to the lower."""

    step: int = 1

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        value, problem = super().parse(raw, default)
        if problem is not None and problem.key == "url.not_int":
            return value, problem
        k, rest = divmod(value - self.lo, self.step)
        snapped = min(self.lo + (k + (2 * rest > self.step)) * self.step, self.hi)
        if snapped == value:
            return value, problem
        grid = f"{self.lo}, {self.lo + self.step}, …, {self.hi}"
        return snapped, Problem("url.nearest", dict(name=self.name, raw=_quote(raw), choices=grid, value=snapped))


@dataclass(frozen=True)
class FloatChoiceField(IntChoiceField):
    """One of a fixed list of numbers that need not be whole (learning rates 0.005/0.01/…); others
    go to the nearest. An ``IntChoiceField`` in every other respect, so the page helpers offer its
    ``choices`` to a select slider as they do for whole numbers."""

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        try:
            value = _finite_number(raw)
        except ValueError:
            return default, Problem("url.not_number", dict(name=self.name, raw=_quote(raw), value=default))
        for c in self.choices:  # the choice object itself, so the widget finds it among its options
            if math.isclose(value, c, rel_tol=1e-9, abs_tol=1e-12):
                return c, None
        nearest = min(self.choices, key=lambda c: (abs(c - value), c))
        return nearest, Problem("url.nearest", dict(name=self.name, raw=_quote(raw),
                                                     choices=", ".join(f"{c:g}" for c in self.choices),
                                                     value=f"{nearest:g}"))

    def encode(self, value: Any) -> str:
        return f"{float(value):g}"


@dataclass(frozen=True)
class IntListField(Field):
    """Comma-separated whole numbers, each from ``choices`` (if given) or in [lo, hi]; 1..max_len of them.

    The VGG designer keeps its per-block convolution counts and channels this way
    (``convs=1,1,2,2,2``), so the link stays short and readable.
    """

    lo: int = 0
    hi: int = 0
    max_len: int = 1
    choices: tuple[int, ...] = ()

    def _item(self) -> Field:
        if self.choices:
            return IntChoiceField(self.name, self.default[0], choices=self.choices)
        return IntField(self.name, self.default[0], lo=self.lo, hi=self.hi)

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        parts = raw.split(",") if len(raw) <= _MAX_RAW else []
        if not parts or not all(p.strip() for p in parts):
            return tuple(default), Problem("url.bad_list", dict(name=self.name, raw=_quote(raw),
                                                                value=self.encode(default)))
        problem = None
        if len(parts) > self.max_len:
            parts = parts[: self.max_len]
            problem = Problem("url.list_long", dict(name=self.name, cap=self.max_len))
        item, values = self._item(), []
        for i, p in enumerate(parts):
            fallback = default[i] if i < len(default) else default[-1]
            v, prob = item.parse(p, fallback)
            values.append(v)
            problem = problem or prob
        return tuple(values), problem

    def encode(self, value: Any) -> str:
        return ",".join(str(int(v)) for v in value)


@dataclass(frozen=True)
class TextField(Field):
    """A short identifier (a block name such as ``2.0``): letters, digits, ``._-``; checked by the page."""

    max_len: int = 40

    def parse(self, raw: str, default: Any) -> tuple[Any, Problem | None]:
        value = raw.strip()
        if 0 < len(value) <= self.max_len and all(c.isascii() and (c.isalnum() or c in "._-") for c in value):
            return value, None
        return default, Problem("url.bad_text", dict(name=self.name, raw=_quote(raw), value=default))


@dataclass(frozen=True)
class Schema:
    """The fields of one page's configuration."""

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names in {names}")

    @property
    def names(self) -> tuple[str, ...]:
        """Field names, i.e. the query-string keys this page owns."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def defaults(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every field's default, with ``overrides`` (e.g. an architecture's own input side)."""
        out = {f.name: f.default for f in self.fields}
        out.update({k: v for k, v in (overrides or {}).items() if k in out})
        return out

    def parse(self, params: Mapping[str, Any], defaults: Mapping[str, Any] | None = None,
              ) -> tuple[dict[str, Any], list[Problem]]:
        """Clean values for every field from a query-string mapping, and what was wrong with it.

        ``params`` maps keys to a string or a list of strings (a repeated key: the last one
        wins, as in ``st.query_params``). Keys this schema does not know are ignored (they
        belong to other pages or to the language switch). Missing keys take ``defaults``.
        """
        values = self.defaults(defaults)
        problems: list[Problem] = []
        for f in self.fields:
            if f.name not in params:
                continue
            raw = params[f.name]
            if isinstance(raw, (list, tuple)):
                if not raw:
                    continue
                raw = raw[-1]
            value, problem = f.parse(str(raw), values[f.name])
            values[f.name] = value
            if problem is not None:
                problems.append(problem)
        return values, problems

    def encode(self, values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> dict[str, str]:
        """The query-string entries for ``values``: only those that differ from the defaults,
        so a link carries what the teacher changed and stays short."""
        base = self.defaults(defaults)
        out: dict[str, str] = {}
        for f in self.fields:
            if f.name in values and f.encode(values[f.name]) != f.encode(base[f.name]):
                out[f.name] = f.encode(values[f.name])
        return out




def problems_text(problems: Iterable[Problem], lang: str) -> str:
    """All problems of one link as one message (a heading line, then one line each)."""
    lines = [t("url.problems", lang)] + [f"- {p.render(lang)}" for p in problems]
    return "\n".join(lines)
