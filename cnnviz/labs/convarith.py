"""Convolution arithmetic, played out: where every window of a conv or pool layer lands.

For one square setting (input side n, kernel k, stride s, padding p, dilation d) PyTorch's
output side is ``⌊(n + 2p − d(k−1) − 1)/s⌋ + 1`` for ``nn.Conv2d``, ``nn.MaxPool2d`` and
``nn.AvgPool2d`` alike (floor mode). ``arithmetic`` computes it with the numbers filled in,
the top-left corner of every window in raster order (in *padded* coordinates: the padded
input is ``n + 2p`` cells, the real input starts at ``(p, p)``), which input cells each window
reads, and what is left over at the right/bottom edge that no window reaches. A setting whose
window (``d(k−1) + 1`` cells) is wider than the padded input has no output at all: that is a
result too (``fits`` is False), so the page can show why, rather than only an error.

Only values that cannot describe a layer at all (a zero kernel, a side past the cap, a pool's
padding over half its kernel, which PyTorch refuses) raise ``CnnvizError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import ConfigError
from cnnviz.i18n import t
from cnnviz.safe import verbatim

OPS = ("conv", "max", "avg")  # nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d
_OP_OF_TYPE = {"Conv2d": "conv", "MaxPool2d": "max", "AvgPool2d": "avg"}
# Ranges. Sides up to CELL_SIDE are drawn cell by cell; larger ones (to MAX_SIDE, the library's
# input cap) to scale. A kernel, stride or padding past 64 describes no layer of the chapter.
CELL_SIDE = 64
MAX_SIDE = 1024
MAX_KERNEL = 64
MAX_STRIDE = 64
MAX_PADDING = 64
MAX_DILATION = 16
RANGES = {"n": (1, MAX_SIDE), "k": (1, MAX_KERNEL), "s": (1, MAX_STRIDE), "p": (0, MAX_PADDING),
          "d": (1, MAX_DILATION)}


@dataclass(frozen=True)
class Setting:
    """One square layer geometry, validated on construction."""

    n: int  # input side
    k: int  # kernel side
    s: int = 1  # stride
    p: int = 0  # zero padding on every side
    d: int = 1  # dilation: taps d cells apart
    op: str = "conv"  # conv, max or avg

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ConfigError("err.convarith.op", op=str(self.op)[:24], choices=", ".join(OPS))
        for name, (lo, hi) in RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise ConfigError("err.convarith.range", name=name, value=str(value)[:24], lo=lo, hi=hi)
        if self.op != "conv" and self.d != 1:
            raise ConfigError("err.convarith.pool_dilation", d=self.d)
        if self.op != "conv" and self.p > self.k // 2:  # PyTorch's own rule for both pools
            raise ConfigError("err.convarith.pool_padding", p=self.p, k=self.k, half=self.k // 2)


@dataclass(frozen=True)
class Arithmetic:
    """Where the windows of ``setting`` land. Coordinates are (row, col), 0-based.

    ``out`` may be ≤ 0: then ``fits`` is False, there are no windows, and ``span > padded``
    says why (the window does not fit in the padded input).
    """

    setting: Setting
    padded: int  # n + 2p: side of the padded input
    span: int  # d(k−1) + 1: side of the area one window covers
    numerator: int  # n + 2p − d(k−1) − 1 = padded − span
    out: int  # ⌊numerator / s⌋ + 1 (Python's floor division, so negative numerators floor down)
    leftover: int  # cells at the right/bottom edge of the padded input that no window reaches

    @property
    def fits(self) -> bool:
        return self.out >= 1

    @property
    def count(self) -> int:
        """Number of windows = output cells (out², or 0 in the collapse case)."""
        return self.out * self.out if self.fits else 0

    @property
    def starts(self) -> tuple[int, ...]:
        """Row (= column) of the windows' top-left corners along one axis, padded coordinates."""
        return tuple(range(0, self.setting.s * self.out, self.setting.s)) if self.fits else ()

    def window(self, index: int) -> tuple[int, int]:
        """Top-left corner (padded coordinates) of the window of output cell ``index`` (raster order)."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        r, c = divmod(index, self.out)
        return r * self.setting.s, c * self.setting.s

    def windows(self) -> list[tuple[int, int]]:
        """Every window's top-left corner, in raster order of the output cells (out² of them)."""
        starts = self.starts
        return [(r, c) for r in starts for c in starts]

    def taps(self, index: int) -> Iterator[tuple[int, int]]:
        """The k² cells (padded coordinates) the window of output cell ``index`` reads."""
        r0, c0 = self.window(index)
        s = self.setting
        return ((r0 + i * s.d, c0 + j * s.d) for i in range(s.k) for j in range(s.k))

    def covered(self, index: int) -> list[tuple[int, int]]:
        """The input cells (input coordinates, padding excluded) the window of ``index`` reads."""
        p, n = self.setting.p, self.setting.n
        return [(r - p, c - p) for r, c in self.taps(index) if p <= r < p + n and p <= c < p + n]

    def covered_range(self, index: int) -> tuple[int, int] | None:
        """First and last input row (= column, by symmetry of the taps) the window of ``index``
        reaches along rows; None when it lies entirely in the padding."""
        r0, _ = self.window(index)
        p, n, d, k = self.setting.p, self.setting.n, self.setting.d, self.setting.k
        rows = [r0 + i * d - p for i in range(k) if 0 <= r0 + i * d - p < n]
        return (rows[0], rows[-1]) if rows else None

    def params(self) -> dict[str, Any]:
        s = self.setting
        return dict(n=s.n, k=s.k, s=s.s, p=s.p, d=s.d, num=self.numerator, out=self.out, padded=self.padded,
                    span=self.span)

    def formula_latex(self, lang: str = "en") -> str:
        """The formula with the numbers filled in, as LaTeX (``st.latex``)."""
        return t("convarith.formula.latex", lang, **self.params())

    def formula_text(self, lang: str = "en") -> str:
        """The same formula as plain text (the CLI, captions, tests)."""
        return t("convarith.formula.text", lang, **self.params())

    def explain(self, lang: str = "en") -> str:
        """One sentence: the output side, or why there is none."""
        if not self.fits:
            return t("convarith.collapse", lang, **self.params())
        if self.leftover:
            return t("convarith.result.leftover", lang, left=self.leftover, count=self.count, **self.params())
        return t("convarith.result", lang, count=self.count, **self.params())


def arithmetic(setting: Setting) -> Arithmetic:
    """The output side of ``setting`` and where its windows land (see ``Arithmetic``)."""
    padded = setting.n + 2 * setting.p
    span = setting.d * (setting.k - 1) + 1
    numerator = padded - span
    out = numerator // setting.s + 1
    # the last window ends at s(out−1) + span; whatever lies beyond it is never read
    leftover = padded - (setting.s * (out - 1) + span) if out >= 1 else 0
    return Arithmetic(setting, padded, span, numerator, out, leftover)


def compute(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, op: str = "conv") -> Arithmetic:
    """``arithmetic(Setting(...))`` in one call."""
    return arithmetic(Setting(n=n, k=k, s=s, p=p, d=d, op=op))


# --- opening a layer of a traced network ---------------------------------------------------------
def find_layer(records, name: str):
    """The record called ``name`` (a qualified name such as ``features.3``) among ``records``."""
    for rec in records:
        if rec.name == name:
            return rec
    raise ConfigError("err.convarith.no_layer", name=verbatim(name, 40))  # a link's text: quoted as code


def from_layer(record) -> Setting:
    """The setting of a conv or pooling layer from a ``LayerRecord``-like object: ``name``,
    ``type`` (the module's class name), ``kernel``/``stride``/``padding`` pairs and an
    ``input_shape`` of (C, H, W) (batch excluded). Dilation is 1: no network of the chapter
    dilates, and the records do not carry it."""
    op = _OP_OF_TYPE.get(getattr(record, "type", ""))
    if op is None or record.kernel is None:
        raise ConfigError("err.convarith.not_window", name=record.name, type=getattr(record, "type", "?"))
    h, w = record.input_shape[-2], record.input_shape[-1]
    pairs = (record.kernel, record.stride, record.padding, (h, w))
    if any(a != b for a, b in pairs):
        raise ConfigError("err.convarith.not_square", name=record.name, kernel=record.kernel, stride=record.stride,
                          padding=record.padding, h=h, w=w)
    return Setting(n=int(h), k=int(record.kernel[0]), s=int(record.stride[0]), p=int(record.padding[0]), op=op)
