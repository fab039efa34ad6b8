"""One look for every figure: a plotly template (``TEMPLATE``) and one palette.

Every figure of ``cnnviz.viz`` starts from ``styled(fig, title, height)``, which applies the
template (fonts, white paper, light grid, the legend above the plot, the series colours)
and the title; a figure only sets what is its own (axes, margins it needs). The colours are
named by what they mean, so the same idea has the same colour on every page: convolutions
are blue and dense layers purple in the diagram, the parameter split and the layer kinds;
the plain net is orange and the residual one blue in every gradient chart.
"""

from __future__ import annotations

import plotly.graph_objects as go

# --- the palette ---------------------------------------------------------------------------
INK = "#1f2933"  # text (the app theme's textColor)
MUTED = "#6b7280"  # secondary text, neutral marks, edges
SLATE = "#4b5563"
FAINT = "#94a3b8"  # de-emphasised marks: memory bars, pooling branches, single batches
RULE = "#cbd5e1"  # axis lines
LIGHT_RULE = "#d1d5db"
GRID = "#eef2f7"
SAND = "#f4f1ec"  # bands behind stages, the input node (the app theme's secondaryBackgroundColor)
PAPER = "white"

BLUE = "#2b6cb0"
ORANGE = "#d9480f"  # the app theme's primaryColor
GREEN = "#2f855a"
PURPLE = "#6f42c1"
GOLD = "#b08900"
TEAL = "#0f766e"
PINK = "#be185d"

SERIES = (BLUE, ORANGE, GREEN, PURPLE, GOLD, TEAL, PINK, SLATE, "#9a3412", "#1d4ed8")  # runs, layers: in order

# The chapter's families, as on the home page's timeline and the comparison.
FAMILY = {"alexnet": ORANGE, "vgg": BLUE, "nin": GREEN, "googlenet": GOLD, "batchnorm": MUTED, "resnet": PURPLE}

# Layer kinds: (fill, line) of the diagram's boxes; the line colour marks the kind elsewhere.
KIND = {
    "conv": ("#dbe8f6", BLUE),
    "pool": ("#fde2cf", ORANGE),
    "gap": ("#d3f0e0", GREEN),
    "linear": ("#e9defa", PURPLE),
    "flatten": ("#eeeeee", MUTED),
    "concat": ("#fff3bf", GOLD),
    "add": ("#fff3bf", GOLD),
    "input": (SAND, MUTED),
    "block": ("#e6eef8", BLUE),
    "inception": ("#e6f4ea", GREEN),
    "residual": ("#f3e8ff", PURPLE),
}
SKIP = GREEN  # the residual skip path
EDGE = MUTED

# A lab's two variants: what is being fixed is orange, the fix blue (residual) or green (BN).
VARIANT = {"plain": ORANGE, "residual": BLUE, "no_bn": ORANGE, "bn": GREEN}

# A run's metrics, in the colours and dashes of the book's Animator (loss, train acc, test acc).
METRIC = {"loss": BLUE, "train_acc": PINK, "test_acc": GREEN, "test_acc_subset": GREEN}

FONT = dict(family="sans-serif", size=12, color=INK)

_AXIS = dict(showline=True, linecolor=RULE, gridcolor=GRID, zerolinecolor=GRID)
TEMPLATE = go.layout.Template(layout=dict(
    font=FONT, colorway=list(SERIES), plot_bgcolor=PAPER, paper_bgcolor=PAPER,
    margin=dict(l=60, r=40, t=56, b=48),
    hoverlabel=dict(bgcolor=PAPER, font_size=12),
    legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    xaxis=_AXIS, yaxis=_AXIS,
))


def styled(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    """``fig`` with the template, a left-aligned title (none when ``title`` is falsy) and a height."""
    fig.update_layout(template=TEMPLATE, height=height)
    if title:
        fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=15)))
    return fig
