"""Drawing the structure diagram: ``figure(layout(trace))`` turns positioned nodes and edges into
one plotly figure (boxes as shapes, edges as lines with the tensor shape as their label, the
residual skip beside its block). Pure: the same diagram always draws the same figure.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from cnnviz.viz import theme
from cnnviz.viz.diagram.nodes import FAILED, NODE_H, ROW_PX, UNIT_KINDS, X_RANGE, Diagram, Edge, Node

# (fill, outline) per node kind: a conv is the same blue on every chart; the layer an input too
# small left with no pixel (``nodes.FAILED``) in the error panel's red
COLORS = {**theme.KIND, FAILED: ("#fde8e8", "#b91c1c")}
SKIP_COLOR = theme.SKIP
EDGE_COLOR = theme.EDGE


# --- drawing ----------------------------------------------------------------------------------
def _bottom(n: Node) -> float:
    return n.y + (NODE_H / 2 if n.w else 0)


def _top(n: Node) -> float:
    return n.y - (NODE_H / 2 if n.w else 0)


def _vertical_stretches(pts) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [(p, q) for p, q in zip(pts, pts[1:]) if abs(p[0] - q[0]) < 1e-9 and p[1] != q[1]]


def _skip_label(e: Edge) -> dict | None:
    """Along the skip's vertical stretch, on a white patch so the dashes do not cross it; beside
    it when the stretch is too short for the word (a collapsed block's skip)."""
    verts = _vertical_stretches(e.points)
    if not e.label or not verts:
        return None
    (x, y0), (_, y1) = verts[0]
    if abs(y1 - y0) >= 1.2:
        return dict(x=x, y=-(y0 + y1) / 2, text=e.label, showarrow=False, textangle=-90, bgcolor="white",
                    font=dict(size=10, color=SKIP_COLOR))
    return dict(x=x - 0.06, y=-(y0 + y1) / 2, text=e.label, showarrow=False, xanchor="right",
                font=dict(size=10, color=SKIP_COLOR))


def figure(diagram: Diagram, lang: str = "en", title: str | None = None):
    """The plotly figure of a laid-out ``Diagram``: boxes, arrows, shapes on edges, hover details.

    Built as one ``go.Figure(data, layout)``: plotly validates on every ``add_*`` call, and
    this figure is redrawn on every rerun of the explorer.
    """

    by_id = {n.id: n for n in diagram.nodes}
    shapes: list[dict] = []
    annotations: list[dict] = []
    for f in diagram.frames:
        line = COLORS.get(f.kind, COLORS["block"])[1]
        shapes.append(dict(type="rect", x0=f.x0, x1=f.x1, y0=-f.y0, y1=-f.y1, layer="below",
                           line=dict(color=line, width=1, dash="dot"), fillcolor="rgba(0,0,0,0)"))
        annotations.append(dict(x=f.x0 + 0.05, y=-f.y0 - 0.02, text=f"<i>{f.label}</i>", showarrow=False,
                                xanchor="left", yanchor="top", font=dict(size=10, color=line)))

    main_x: list = []  # polylines of the main edges, None-separated (one trace draws them all)
    main_y: list = []
    skip_x: list = []
    skip_y: list = []
    ends: list[tuple[tuple[float, float], tuple[float, float]]] = []  # last segment of each edge: its arrowhead
    lx, ly, lt = [], [], []  # shape labels
    for e in diagram.edges:
        if e.skip:
            skip_x += [p[0] for p in e.points] + [None]
            skip_y += [-p[1] for p in e.points] + [None]
            ends.append((e.points[-2], e.points[-1]))
            label = _skip_label(e)
            if label:
                annotations.append(label)
            continue
        if e.points:  # a routed edge (Inception lanes): its shape on its longest vertical stretch
            pts = list(e.points)
            verts = _vertical_stretches(pts)
            if e.label and verts:
                p, q = max(verts, key=lambda pq: abs(pq[1][1] - pq[0][1]))
                lx.append(p[0] + 0.05)
                ly.append(-(p[1] + q[1]) / 2)
                lt.append(e.label)
        else:
            a, b = by_id[e.src], by_id[e.dst]
            pts = [(a.x, _bottom(a)), (b.x, b.y + 0.25 if b.kind == "output" else _top(b))]
            if e.label:  # on a vertical edge the shape sits just right of it, on a diagonal one at its middle
                (x0, y0), (x1, y1) = pts
                lx.append((x0 + x1) / 2 + (0.07 if abs(x1 - x0) < 1e-6 else 0.0))
                ly.append(-(y0 + y1) / 2)
                lt.append(e.label)
        main_x += [p[0] for p in pts] + [None]
        main_y += [-p[1] for p in pts] + [None]
        ends.append((pts[-2], pts[-1]))

    boxes = [n for n in diagram.nodes if n.w and n.kind not in ("fork", "output")]
    for n in boxes:
        fill, line = COLORS.get(n.kind, COLORS["block"])
        width = 1.4 if n.kind in UNIT_KINDS + ("block",) else 1  # a collapsed unit: a firmer outline
        width = 2.5 if n.kind == FAILED else width
        shapes.append(dict(type="rect", x0=n.x - n.w / 2, x1=n.x + n.w / 2, y0=-n.y - NODE_H / 2,
                           y1=-n.y + NODE_H / 2, layer="below", fillcolor=fill, line=dict(color=line, width=width)))
    forks = [n for n in diagram.nodes if n.kind == "fork"]

    # three decimals are a hundredth of a pixel at ROW_PX: the rest is bytes sent for nothing
    main_x, main_y, skip_x, skip_y, lx, ly = (_r(v) for v in (main_x, main_y, skip_x, skip_y, lx, ly))
    for sh in shapes:
        sh.update({k: round(sh[k], 3) for k in ("x0", "x1", "y0", "y1")})
    for an in annotations:
        an.update(x=round(an["x"], 3), y=round(an["y"], 3))
    data = [
        go.Scatter(x=main_x, y=main_y, mode="lines", line=dict(color=EDGE_COLOR, width=1.2), hoverinfo="skip"),
        go.Scatter(x=skip_x, y=skip_y, mode="lines", line=dict(color=SKIP_COLOR, width=1.6, dash="dash"),
                   hoverinfo="skip"),
        go.Scatter(x=_r(q[0] for _, q in ends), y=_r(-q[1] for _, q in ends), mode="markers", hoverinfo="skip",
                   marker=dict(symbol="triangle-down", size=7, color=EDGE_COLOR,
                               angle=_r(_angle(s) for s in ends))),
        go.Scatter(x=lx, y=ly, mode="text", text=lt, textposition="middle right", hoverinfo="skip",
                   textfont=dict(size=10, color=theme.SLATE)),
        go.Scatter(x=_r(n.x for n in forks), y=_r(-n.y for n in forks), mode="markers", hoverinfo="skip",
                   marker=dict(size=7, color=EDGE_COLOR)),
        # the boxes' labels; the invisible square markers are what the pointer hovers
        go.Scatter(x=_r(n.x for n in boxes), y=_r(-n.y for n in boxes), mode="markers+text",
                   text=[n.label for n in boxes], textposition="middle center",
                   textfont=dict(size=11, color=theme.INK), marker=dict(size=26, symbol="square",
                                                                        color="rgba(0,0,0,0)"),
                   hovertext=[n.hover for n in boxes], hoverinfo="text"),
    ]
    layout = dict(
        shapes=shapes, annotations=annotations, height=int((diagram.rows + 1.2) * ROW_PX) + 40,
        margin=dict(l=4, r=4, t=36 if title else 8, b=4), showlegend=False,
        title=dict(text=title, x=0.01, font=dict(size=15)) if title else None,
        xaxis=dict(visible=False, range=list(X_RANGE), fixedrange=True),
        yaxis=dict(visible=False, range=[-(diagram.rows + 0.6), 0.7], fixedrange=True),
        template=theme.TEMPLATE, dragmode=False,
    )
    return go.Figure(data=data, layout=layout)


def _r(values) -> list:
    """Coordinates rounded to three decimals; the None separators of a polyline kept."""
    return [None if v is None else round(v, 3) for v in values]


def _angle(seg: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """Clockwise rotation, in degrees, that turns a downward triangle marker along ``seg``.

    Layout y grows downwards like the screen's, and a clockwise turn by θ takes "down" (0, 1)
    to (−sin θ, cos θ); so θ = atan2(−dx, dy).
    """
    (x0, y0), (x1, y1) = seg
    dx, dy = x1 - x0, y1 - y0
    if abs(dx) < 1e-9 and abs(dy) < 1e-9:
        return 0.0
    return math.degrees(math.atan2(-dx, dy))
