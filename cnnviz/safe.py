"""Text from outside the app (a student, a URL, a file name) shown as text, never as markup.

Whatever a page shows is interpreted by something:

* Streamlit's Markdown (``st.error``/``warning``/``info``/``success``, ``st.markdown``, captions,
  subheaders, widget labels and help, radio options, toasts): GitHub-flavoured, so
  ``[x](http://…)`` is a live link, ``![x](http://…)`` an image the browser fetches from
  anywhere, and a bare ``http://…`` or ``www.…`` becomes a link by itself (remark-gfm's
  autolinking). Backslash-escaping the Markdown characters cannot stop that last one.
* plotly's subset of HTML in every piece of text of a figure (trace names in the legend,
  hover text, titles, annotations): ``<a href>`` is a live link, ``<b>``/``<br>``/``style``
  change the chart.
* the browser's download dialog (a file name).

So text from outside goes through one of these, at the place where it enters the app (a URL
value parsed, a run id read, a display name turned into a label, an answer quoted back):

* ``md(text)``: a Markdown inline code span showing ``text`` verbatim. Inside a code span
  nothing is a link, an autolink, an image, emphasis, a directive (``:red[…]``), math or HTML.
  Its fence is one backtick longer than the longest run of backticks in the text, so nothing
  in it can close the span early.
* ``html(text)``: ``&``, ``<`` and ``>`` escaped, for plotly text and HTML (plotly turns the
  entities back into the characters; tags never form).
* ``verbatim(text)``: a parameter of a message (``cnnviz.i18n.t``, a ``CnnvizError``, a
  ``cnnviz.urlstate.Problem``). Messages are Markdown, as pages show them, so it formats as
  ``md(text)``, under ``{name}`` and ``{name!r}`` alike; inside ``plain_text()`` (how a
  ``CnnvizError`` makes its ``str``, which the CLI prints) as the text itself (``{name!r}``:
  its ``repr``). Not a ``str``: it cannot slip into a path or a query by accident.
* ``file_name(text)``: a download's file name (letters, digits, ``._-``).

All of them first ``clean`` the text: control and format characters (newlines, tabs, bidi
overrides, zero-width marks) become U+FFFD, so nothing breaks a line, reorders what follows or
hides; and a crafted value is cut to ``limit`` characters. Tables (``st.dataframe``) and the
options of a select box or multiselect show plain text: names go there as they are.

No Streamlit and nothing else of cnnviz here: every layer may use it.
"""

from __future__ import annotations

import contextlib
import contextvars
import html as _html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

REPLACEMENT = "\ufffd"  # what a control or format character is shown as
LIMIT = 64  # characters of a quoted value by default: enough for a run id, short for a crafted link
ELLIPSIS = "…"
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))  # control, format, surrogate, line/paragraph separators
_BACKTICKS = re.compile(r"`+")
_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_PLAIN: contextvars.ContextVar[bool] = contextvars.ContextVar("cnnviz_safe_plain", default=False)


def clean(text: object, limit: int | None = None) -> str:
    """``text`` as a string, every control/format character replaced by U+FFFD, cut to ``limit``
    characters (an ellipsis added) when given."""
    s = str(text)
    if limit is not None and len(s) > limit:
        s = s[:limit] + ELLIPSIS
    return "".join(REPLACEMENT if unicodedata.category(ch) in _HIDDEN else ch for ch in s)


def md(text: object, limit: int | None = LIMIT) -> str:
    """``text`` as a Markdown inline code span: shown verbatim, never a link, image or markup.

    CommonMark: a span opened by N backticks ends at the next run of exactly N, so the fence is
    one longer than any run inside; one space on each side keeps a backtick at either end from
    joining the fence, and is removed by the renderer (content that begins and ends with a
    space loses one of each). Empty text shows as an empty-looking span of one space.
    """
    s = clean(text, limit)
    longest = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    fence = "`" * (longest + 1)
    if not s.strip(" "):
        return f"{fence}{s or ' '}{fence}"  # only spaces: kept as they are (never stripped)
    return f"{fence} {s} {fence}" if s[0] in "` " or s[-1] in "` " else f"{fence}{s}{fence}"


def html(text: object, limit: int | None = None) -> str:
    """``text`` for plotly or HTML: ``&``, ``<``, ``>`` as entities (no tag, no entity of its own)."""
    return _html.escape(clean(text, limit), quote=False)


def file_name(text: object, default: str = "download", limit: int = 100) -> str:
    """A download's file name from ``text``: runs of anything but ASCII letters, digits and
    ``._-`` become one ``_``; no leading dot (a hidden file) or dash (an option); at most
    ``limit`` characters; ``default`` when nothing is left."""
    s = _FILE_BAD.sub("_", str(text)).lstrip(".-_")[:limit].rstrip("_")
    return s or default


@dataclass(frozen=True)
class Verbatim:
    """A message parameter that came from outside: Markdown code in a page, plain text in a terminal."""

    text: str
    limit: int | None = LIMIT

    def _plain(self) -> str:
        return clean(self.text, self.limit)

    def __format__(self, spec: str) -> str:
        return self._plain() if _PLAIN.get() else md(self.text, self.limit)

    def __str__(self) -> str:
        return format(self)

    def __repr__(self) -> str:  # what ``{name!r}`` shows: the string table quotes values so
        return repr(self._plain()) if _PLAIN.get() else md(self.text, self.limit)


def verbatim(text: object, limit: int | None = LIMIT) -> Verbatim:
    """``text`` (from a student, a URL, a file name) as a message parameter: see ``Verbatim``."""
    return text if isinstance(text, Verbatim) else Verbatim(str(text), limit)


@contextlib.contextmanager
def plain_text() -> Iterator[None]:
    """Within this block, ``Verbatim`` parameters format as plain text (for a terminal, a log)."""
    token = _PLAIN.set(True)
    try:
        yield
    finally:
        _PLAIN.reset(token)
