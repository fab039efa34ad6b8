"""Figures of a finished run's results: pure functions of a ``Results.to_dict()`` (no Streamlit).

The results dict is the "results" event of a training run (``cnnviz.train.evaluate``):
``confusion`` (10 x 10, [true][pred]), ``per_class`` (recall per true class, None where the
split holds none of it), ``mistakes`` (dicts with ``true``, ``pred``, ``prob`` and the raw
28 x 28 uint8 ``image``). Class names come from the caller (``cnnviz.jobs.finished.class_names``
in the reader's language), every other label through the string table.

* ``confusion_figure``: a heatmap with the class names on both axes and the count in every
  cell; the diagonal (the right answers) is outlined, so it reads at a glance; optionally each
  row normalised to the fraction of that true class (the counts stay in the cells);
* ``per_class_figure``: accuracy of each true class as bars, the overall accuracy as a line;
* ``mistakes_figure``: the misclassified test images tiled into ONE small PNG (a data URI in
  one ``go.Image`` trace: a few kB on the wire, not 32 heatmaps), each captioned
  "true → predicted (p%)";
* ``topk_figure``: the top-k predictions of one image as horizontal bars.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from cnnviz.i18n import t
from cnnviz.viz import theme

MISTAKE_COLS = 6  # tiles per row of the mistakes grid: room for "T-shirt/top → Ankle boot (97%)" in two lines
TILE = 28  # the raw test images' side
CAPTION_PX = 16  # image pixels under each tile kept for its caption
GAP_PX = 4


def pct(p: float | None, digits: int = 0) -> str:
    """0.973 → '97%' ('—' for None)."""
    return "—" if p is None else f"{100 * p:.{digits}f}%"


def row_normalised(confusion: Sequence[Sequence[int]]) -> list[list[float | None]]:
    """Each row of ``confusion`` divided by its total: the fraction of each true class predicted
    as each class (a row with no image stays empty: None)."""
    out = []
    for row in confusion:
        total = sum(row)
        out.append([c / total if total else None for c in row])
    return out


def confusion_figure(confusion: Sequence[Sequence[int]], names: Sequence[str], lang: str = "en",
                     normalise: bool = False, height: int = 560) -> go.Figure:
    """The confusion matrix: true class down, predicted class across, counts in the cells.

    ``z`` is the counts themselves (or, with ``normalise``, each row's fractions); the text of
    every cell is its count either way. The diagonal cells are outlined.
    """
    counts = [[int(c) for c in row] for row in confusion]
    k = len(counts)
    z = row_normalised(counts) if normalise else counts
    # a colour scale from white: an empty cell is blank paper, so the few big numbers stand out
    scale = [[0.0, "#ffffff"], [0.15, "#dbe8f6"], [1.0, theme.BLUE]]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(names), y=list(names), text=counts, texttemplate="%{text}", textfont=dict(size=11),
        colorscale=scale, zmin=0, zmax=1 if normalise else max(1, max(max(r) for r in counts)),
        customdata=counts, xgap=1, ygap=1,
        colorbar=dict(title=dict(text=t("resv.cm.share" if normalise else "resv.cm.count", lang), side="right")),
        hovertemplate=t("resv.cm.hover", lang) + "<extra></extra>",
    ))
    # outline the diagonal: the right answers, whatever their colour
    for i in range(k):
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=i - 0.5, y1=i + 0.5, xref="x", yref="y",
                      line=dict(color=theme.GREEN, width=2), layer="above")
    fig.update_xaxes(title=t("resv.cm.pred_axis", lang), tickangle=-35, showgrid=False, type="category",
                     range=[-0.5, k - 0.5])
    fig.update_yaxes(title=t("resv.cm.true_axis", lang), autorange="reversed", showgrid=False, type="category")
    theme.styled(fig, t("resv.cm.title_norm" if normalise else "resv.cm.title", lang), height)
    fig.update_layout(margin=dict(l=110, r=40, t=56, b=110))
    return fig


def per_class_figure(per_class: Sequence[float | None], names: Sequence[str], accuracy: float | None = None,
                     lang: str = "en", height: int = 360) -> go.Figure:
    """Accuracy (recall) of every true class as bars, the overall accuracy as a dashed line; a
    class with no test image gets no bar and a "no image" mark."""
    ys = [None if v is None else float(v) for v in per_class]
    text = [t("resv.pc.none", lang) if v is None else pct(v) for v in ys]
    fig = go.Figure(go.Bar(
        x=list(names), y=[0 if v is None else v for v in ys], text=text, textposition="outside",
        marker_color=[theme.FAINT if v is None else theme.GREEN for v in ys], cliponaxis=False,
        hovertemplate="%{x}: %{text}<extra></extra>",
    ))
    if accuracy is not None:
        fig.add_hline(y=accuracy, line=dict(color=theme.ORANGE, dash="dash", width=2),
                      annotation_text=t("resv.pc.overall", lang, acc=pct(accuracy, 1)),
                      annotation_position="top left", annotation_font_color=theme.ORANGE)
    fig.update_yaxes(title=t("resv.pc.axis", lang), range=[0, 1.12], tickformat=".0%")
    fig.update_xaxes(tickangle=-35, type="category")
    theme.styled(fig, t("resv.pc.title", lang), height)
    fig.update_layout(showlegend=False, margin=dict(l=60, r=30, t=56, b=100))
    return fig


def mistake_caption(m: Mapping[str, Any], names: Sequence[str], lang: str = "en", tile: bool = False) -> str:
    """ "true → predicted (p%)" of one mistake (``tile``: broken before the arrow, for the grid)."""
    text = t("resv.mis.caption", lang, true=names[int(m["true"])], pred=names[int(m["pred"])], p=pct(float(m["prob"])))
    return text.replace(" → ", "<br>→ ", 1) if tile else text


def tile_images(images: Sequence[Any], cols: int) -> np.ndarray:
    """``images`` (each 28 x 28, uint8-like) on a grid with room for a caption under each, as one
    uint8 array ``rows·(28+caption+gap) x cols·(28+gap)``; the paper is white."""
    n = len(images)
    rows = max(1, -(-n // cols))
    cell_h, cell_w = TILE + CAPTION_PX + GAP_PX, TILE + GAP_PX
    grid = np.full((rows * cell_h, cols * cell_w), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        a = np.asarray(img, dtype=np.uint8)[:TILE, :TILE]  # 28 x 28
        r, c = divmod(i, cols)
        y, x = r * cell_h, c * cell_w + GAP_PX // 2
        grid[y: y + a.shape[0], x: x + a.shape[1]] = a
    return grid


def _png_uri(gray: np.ndarray) -> str:
    """A grey uint8 array as a PNG data URI (plotly enlarges it with hard pixel edges: zsmooth off)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(gray, "L").save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def mistakes_figure(mistakes: Sequence[Mapping[str, Any]], names: Sequence[str], lang: str = "en",
                    cols: int = MISTAKE_COLS) -> go.Figure:
    """The misclassified test images (most confident first), each captioned "true → predicted (p%)":
    one PNG image trace with an annotation under each tile."""
    fig = go.Figure()
    if not mistakes:
        fig.add_annotation(text=t("resv.mis.none", lang), x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=14, color=theme.MUTED))
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return theme.styled(fig, t("resv.mis.title", lang, n=0), 200)
    cols = max(1, min(cols, len(mistakes)))
    grid = tile_images([m["image"] for m in mistakes], cols)
    h, w = grid.shape
    fig.add_trace(go.Image(source=_png_uri(grid), x0=0, y0=0, dx=1, dy=1, zsmooth=False, hoverinfo="skip"))
    cell_h, cell_w = TILE + CAPTION_PX + GAP_PX, TILE + GAP_PX
    for i, m in enumerate(mistakes):
        r, c = divmod(i, cols)
        fig.add_annotation(text=mistake_caption(m, names, lang, tile=True), x=c * cell_w + cell_w / 2,
                           y=r * cell_h + TILE + 1, xref="x", yref="y", yanchor="top", showarrow=False,
                           font=dict(size=10, color=theme.INK))
    # an image trace centres pixel (0, 0) on (x0, y0): the picture spans -0.5 .. w - 0.5
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x")
    rows = h // cell_h
    theme.styled(fig, t("resv.mis.title", lang, n=len(mistakes)), 90 + rows * 150)
    fig.update_layout(margin=dict(l=10, r=10, t=56, b=10))
    return fig


def topk_figure(preds: Sequence[tuple[int, float]], names: Sequence[str], lang: str = "en",
                height: int = 240) -> go.Figure:
    """The top-k ``(class, probability)`` of one image as bars, the most likely on top."""
    labels = [names[int(c)] for c, _ in preds]
    probs = [float(p) for _, p in preds]
    colours = [theme.GREEN] + [theme.FAINT] * (len(preds) - 1)
    fig = go.Figure(go.Bar(x=probs, y=labels, orientation="h", text=[pct(p, 1) for p in probs],
                           textposition="outside", marker_color=colours, cliponaxis=False,
                           hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title=t("resv.top.axis", lang), range=[0, 1.15], tickformat=".0%")
    theme.styled(fig, t("resv.top.title", lang, k=len(preds)), height)
    fig.update_layout(showlegend=False, margin=dict(l=110, r=30, t=56, b=48))
    return fig
