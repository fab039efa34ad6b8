"""Error types for everything a user can get wrong.

Every error that a configuration, a URL or an upload can cause is a ``CnnvizError`` (a
``ValueError``) made of a string-table key and its parameters: ``str(err)`` is the English
message (what the CLI prints) and ``err.render("zh")`` the Chinese one (what a page shows).
Pages and the CLI catch this one type; anything else that escapes is a bug.

A parameter that came from outside (a URL value, a run id from a link, a student's answer)
is passed as ``cnnviz.safe.verbatim(value)``: ``render`` (pages, Markdown) shows it as code,
never as a link or markup; ``str(err)`` shows the plain text (``cnnviz.safe.plain_text``).
"""

from __future__ import annotations

from typing import Any

from cnnviz.safe import plain_text


class CnnvizError(ValueError):
    """Base class: a user-facing problem with one clear message."""

    def __init__(self, code: str, /, **params: Any):
        self.code, self.params = code, params  # a key of the string table and its arguments
        with plain_text():  # the terminal's message: outside values as plain text, not Markdown code
            message = self.render("en")
        super().__init__(message)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` ("en" or "zh")."""
        from cnnviz.i18n import t

        return t(self.code, lang, **self.params)


class ConfigError(CnnvizError):
    """A configuration value that cannot work (negative size, empty conv_arch, over a cap...)."""


class UnknownModelError(CnnvizError):
    """An architecture name that is not in the registry; the message lists the valid ones."""


class ShapeError(CnnvizError):
    """The input is too small for the network: some layer's output would have no pixels.

    ``layer`` is the qualified module name (e.g. ``features.3``); the message shows the
    arithmetic that went to zero and, once known, ``min_side``, the smallest square input
    that works (the public entry points fill it in).
    """

    def __init__(self, layer: str, kind: str, h: int, w: int, k: int, s: int, p: int, arithmetic: str,
                 min_side: int | None = None):
        self.layer, self.kind, self.arithmetic, self.min_side = layer, kind, arithmetic, min_side
        self._geom = dict(h=h, w=w, k=k, s=s, p=p)
        super().__init__("err.shape", layer=layer, kind=kind, arithmetic=arithmetic, **self._geom)

    def render(self, lang: str = "en") -> str:
        from cnnviz.i18n import t

        p = self._geom["p"]
        pad = t("err.shape.pad", lang, p=p) if p else ""
        msg = t("err.shape", lang, layer=self.layer, kind=self.kind, arithmetic=self.arithmetic, pad=pad,
                **{k: v for k, v in self._geom.items() if k != "p"})
        if self.min_side is not None:
            msg += t("err.shape.min", lang, min_side=self.min_side)
        return msg

    def with_min_side(self, min_side: int | None) -> ShapeError:
        """The same error, its message completed with the smallest valid input side."""
        return ShapeError(self.layer, self.kind, arithmetic=self.arithmetic, min_side=min_side, **self._geom)


def error_messages(err: BaseException) -> tuple[str, dict[str, str]]:
    """(code, {lang: text}) for any exception: user errors translated, others as they are."""
    from cnnviz.i18n import LANGS, messages

    if isinstance(err, CnnvizError):
        return err.code, {lang: err.render(lang) for lang in LANGS}
    return "train.failed", messages("train.failed", error=f"{type(err).__name__}: {err}")
