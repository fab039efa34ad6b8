"""The convolution-arithmetic figure: the window sliding over the padded input, the output filling in.

Coordinates are cells: x = column, y = row (the y axis reversed, so row 0 is on top), one unit a
cell, the padded input at ``[0, padded]²`` and the output grid beside it at ``[x0, x0 + out]``.
Everything that does not move (the padded and real input, grid lines, the output's outline) is
drawn once; the animation's frames carry only the three traces that move, each a polygon of at
most seven points: the window, the current output cell and the computed part of the output
(rows done plus the current row up to the current cell), so a frame is some 200 bytes.

Inputs up to ``CELL_SIDE`` are drawn cell by cell (grid lines, the dilated taps when few), one
frame per window up to ``MAX_FRAMES`` windows and evenly spaced windows beyond. Larger inputs are
drawn to scale: no grid, the first and last windows outlined, two frames. The collapse case
(no output) draws the window over the padded input it does not fit in.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from cnnviz.i18n import t
from cnnviz.labs.convarith import CELL_SIDE, Arithmetic
from cnnviz.viz import theme

MAX_FRAMES = 144  # frames of one figure (a frame and its slider step are ~0.5 kB of JSON)
MAX_TAPS = 16  # dilated kernels up to this side show their k² taps as dots
HEIGHT = 520


def _rect(x0: float, y0: float, w: float, h: float) -> tuple[list[float], list[float]]:
    return [x0, x0 + w, x0 + w, x0, x0], [y0, y0, y0 + h, y0 + h, y0]


def _filled(index: int, out: int, x0: float) -> tuple[list[float], list[float]]:
    """Output cells 0..index in raster order as one polygon: full rows above, the row up to index."""
    r, c = divmod(index, out)
    xs = [x0, x0 + out, x0 + out, x0 + c + 1, x0 + c + 1, x0, x0]
    ys: list[float] = [0, 0, r, r, r + 1, r + 1, 0]
    return xs, ys


def _grid(x0: float, side: int) -> tuple[list, list]:
    """Grid lines of a side×side block at x0, as one None-separated line trace."""
    xs: list = []
    ys: list = []
    for i in range(side + 1):
        xs += [x0 + i, x0 + i, None, x0, x0 + side, None]
        ys += [0, side, None, i, i, None]
    return xs, ys


def _poly(xy, name: str, fill: str, line: str, width: float = 1.5, dash: str = "solid", opacity: float = 1.0,
          hover: str | None = None, legend: bool = True) -> go.Scatter:
    return go.Scatter(x=xy[0], y=xy[1], mode="lines", fill="toself", fillcolor=fill, name=name, opacity=opacity,
                      line=dict(color=line, width=width, dash=dash), showlegend=legend,
                      hoverinfo="text" if hover else "skip", text=hover, hoveron="fills")


def _hover(a: Arithmetic, index: int, language: str) -> str:
    r, c = a.window(index)
    rows = a.covered_range(index)
    if rows is None:
        return t("convarith.fig.hover_pad", language, r=r, c=c)
    # the taps are symmetric in rows and columns, so the column range follows from the row one
    dc = c - r
    return t("convarith.fig.hover", language, r=r, c=c, r0=rows[0], r1=rows[1], c0=rows[0] + dc, c1=rows[1] + dc)


def _frame_indices(a: Arithmetic, cells: bool) -> tuple[list[int], int]:
    """Which windows get a frame, and the spacing (1: every window)."""
    if not cells:
        return sorted({0, a.count - 1}), max(a.count - 1, 1)
    if a.count <= MAX_FRAMES:
        return list(range(a.count)), 1
    every = math.ceil(a.count / MAX_FRAMES)
    return sorted(set(range(0, a.count, every)) | {a.count - 1}), every


def figure(a: Arithmetic, language: str = "en") -> go.Figure:
    """The animated figure of ``a`` (see the module docstring); a static one in the collapse case."""
    s = a.setting
    op = t(f"convarith.op.{s.op}", language)
    cells = s.n <= CELL_SIDE
    fill, line = theme.KIND["conv" if s.op == "conv" else "pool"]
    P, p, n = a.padded, s.p, s.n
    fig = go.Figure()
    # the padded input, the real input inside it
    if p:
        fig.add_trace(_poly(_rect(0, 0, P, P), t("convarith.fig.padding", language), theme.SAND, theme.FAINT))
    fig.add_trace(_poly(_rect(p, p, n, n), t("convarith.fig.input", language, n=n), theme.KIND["block"][0],
                        theme.MUTED))
    if not a.fits:
        return _collapse(fig, a, op, language)
    out, x0 = a.out, P + max(2, round(P * 0.15))
    fig.add_trace(_poly(_rect(x0, 0, out, out), t("convarith.fig.output", language, out=out), theme.PAPER,
                        theme.MUTED))
    if cells:
        gx, gy = _grid(0, P)
        ox, oy = _grid(x0, out)
        fig.add_trace(go.Scatter(x=gx + ox, y=gy + oy, mode="lines", line=dict(color=theme.LIGHT_RULE, width=1),
                                 hoverinfo="skip", showlegend=False))
    else:  # to scale: the first and last windows outlined for good
        for key, idx, dash in (("first", 0, "dot"), ("last", a.count - 1, "dash")):
            r, c = a.window(idx)
            fig.add_trace(go.Scatter(x=_rect(c, r, a.span, a.span)[0], y=_rect(c, r, a.span, a.span)[1],
                                     mode="lines", line=dict(color=line, width=2, dash=dash), hoverinfo="skip",
                                     name=t(f"convarith.fig.{key}", language)))
    taps = cells and s.d > 1 and s.k <= MAX_TAPS

    def moving(index: int) -> list[go.Scatter]:
        r, c = a.window(index)
        orow, ocol = divmod(index, out)
        data = [
            _poly(_filled(index, out, x0), t("convarith.fig.filled", language), theme.KIND["gap"][0], theme.GREEN,
                  width=1),
            _poly(_rect(x0 + ocol, orow, 1, 1), t("convarith.fig.current", language), line, line, width=2,
                  opacity=0.55),
            _poly(_rect(c, r, a.span, a.span), t("convarith.fig.window", language), line, line, width=2.5,
                  opacity=0.35, hover=_hover(a, index, language)),
        ]
        if taps:
            pts = list(a.taps(index))
            data.append(go.Scatter(x=[q + 0.5 for _, q in pts], y=[q + 0.5 for q, _ in pts], mode="markers",
                                   marker=dict(color=line, size=7), name=t("convarith.fig.taps", language),
                                   hoverinfo="skip"))
        return data

    first = len(fig.data)
    for tr in moving(0):
        fig.add_trace(tr)
    idxs, every = _frame_indices(a, cells)
    moved = list(range(first, len(fig.data)))
    # frames carry only the moving traces' coordinates (and the window's hover text)
    fig.frames = [go.Frame(name=str(i), traces=moved, data=[
        go.Scatter(x=tr.x, y=tr.y, text=tr.text) if tr.text else go.Scatter(x=tr.x, y=tr.y) for tr in moving(i)])
        for i in idxs]
    anim = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
    steps = [dict(method="animate", label=f"({i // out}, {i % out})", args=[[str(i)], anim]) for i in idxs]
    # past a couple of dozen steps the tick labels would overlap: keep only the current value's
    ticks = dict(font=dict(color="rgba(0,0,0,0)")) if len(steps) > 24 else {}
    fig.update_layout(
        sliders=[dict(active=0, steps=steps, x=0.16, len=0.84, y=0, yanchor="top", pad=dict(t=30),
                      currentvalue=dict(prefix=t("convarith.fig.step", language), font=dict(color=theme.INK)),
                      **ticks)],
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=0, xanchor="left", yanchor="top",
                          pad=dict(t=42), buttons=[
                              dict(label=t("convarith.fig.play", language), method="animate",
                                   args=[None, dict(anim, frame=dict(duration=350, redraw=False), fromcurrent=True)]),
                              dict(label=t("convarith.fig.pause", language), method="animate",
                                   args=[[None], dict(anim, mode="immediate")])])],
    )
    title = t("convarith.fig.title", language, op=op, out=out, **_geom(a))
    if every > 1 and cells:
        title += " · " + t("convarith.fig.sampled", language, every=every, count=a.count)
    _axes(fig, x0 + out, P)
    return theme.styled(fig, title, HEIGHT)


def _geom(a: Arithmetic) -> dict:
    s = a.setting
    return dict(n=s.n, k=s.k, s=s.s, p=s.p, d=s.d)


def _collapse(fig: go.Figure, a: Arithmetic, op: str, language: str) -> go.Figure:
    """The window, anchored at the padded input's corner, overflowing it."""
    label = t("convarith.fig.too_big", language, span=a.span, padded=a.padded)
    if a.padded <= CELL_SIDE:
        gx, gy = _grid(0, a.padded)
        fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", line=dict(color=theme.LIGHT_RULE, width=1),
                                 hoverinfo="skip", showlegend=False))
    fig.add_trace(_poly(_rect(0, 0, a.span, a.span), t("convarith.fig.window", language), theme.PINK, theme.PINK,
                        width=2.5, dash="dash", opacity=0.25, hover=label))
    fig.add_annotation(x=a.span / 2, y=a.span, text=label, showarrow=False, yanchor="top",
                       font=dict(color=theme.PINK, size=13))
    _axes(fig, a.span, a.span)
    return theme.styled(fig, t("convarith.fig.title.collapse", language, op=op, **_geom(a)), HEIGHT)


def _axes(fig: go.Figure, width: float, height: float) -> None:
    """Square cells, row 0 on top, no ticks to read (the cells are the scale)."""
    fig.update_xaxes(range=[-0.5, width + 0.5], visible=False, constrain="domain")
    fig.update_yaxes(range=[height + 1, -0.5], visible=False, scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(margin=dict(l=20, r=20, t=90, b=90), hovermode="closest")
