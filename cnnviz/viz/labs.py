"""Plotly figure builders of the chapter labs: pure functions of the labs' plain data.

Every builder takes the reader's language and puts titles, axis labels and hover text
through the string table; nothing here imports Streamlit, so the tests build every figure
directly.

* gradient flow: ``gradflow_depth`` (norm against depth, log scale, both variants),
  ``gradflow_heatmap`` (steps × layers, one per variant), ``variant_curves`` (loss or
  accuracy of every variant of a paired run);
* BatchNorm: ``activation_stats``, ``activation_hist``, ``batch_noise_figure``,
  ``running_stats_figure``;
* costs: ``inception_bars``, ``head_bars``;
* feature maps: ``feature_grid``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.i18n import t
from cnnviz.numbers import human
from cnnviz.viz import theme


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    # subplots make axes of their own (xaxis2...), which the template's xaxis does not reach
    theme.styled(fig, title, height).update_layout(margin=dict(l=60, r=30, t=64, b=48))
    fig.update_xaxes(showline=True, linecolor=theme.RULE, gridcolor=theme.GRID)
    fig.update_yaxes(showline=True, linecolor=theme.RULE, gridcolor=theme.GRID)
    return fig


def _positive(values: Sequence[float]) -> list[float | None]:
    """Values for a log axis: zeros (an underflowed gradient) and NaN become gaps."""
    return [v if (v is not None and v > 0 and math.isfinite(v)) else None for v in values]


def variant_name(variant: str, lang: str) -> str:
    return t(f"lab.variant.{variant}", lang)


# --- gradient flow ----------------------------------------------------------------------------
def gradflow_depth(norms: Mapping[str, Sequence[float]], layers: Sequence[str], step: int,
                   lang: str = "en") -> go.Figure:
    """Gradient norm of every layer against its depth (1 = next to the input), log scale.

    ``norms`` maps a variant to its norms in the order of ``layers`` at ``step``. An exact
    zero (the gradient underflowed float32) is a gap, marked by a note.
    """
    fig = go.Figure()
    x = list(range(1, len(layers) + 1))
    zeros = False
    for variant, vals in norms.items():
        ys = _positive(vals)
        zeros = zeros or any(v == 0 for v in vals)
        fig.add_trace(go.Scatter(
            x=x, y=ys, mode="lines+markers", name=variant_name(variant, lang),
            line=dict(color=theme.VARIANT.get(variant), width=2), marker=dict(size=5),
            customdata=list(layers), connectgaps=False,
            hovertemplate=t("lab.grad.hover", lang) + "<extra>%{fullData.name}</extra>",
        ))
    fig.update_yaxes(type="log", title=t("lab.grad.norm_axis", lang), exponentformat="power")
    fig.update_xaxes(title=t("lab.grad.depth_axis", lang))
    if zeros:
        fig.add_annotation(text=t("lab.grad.zero_note", lang), xref="paper", yref="paper", x=0, y=-0.18,
                           showarrow=False, font=dict(size=11, color=theme.MUTED), xanchor="left")
    return _layout(fig, t("lab.grad.depth_title", lang, step=step), 420)


def log_range(matrices: Sequence[Sequence[Sequence[float]]]) -> tuple[float, float]:
    """(min, max) of log10 over the positive finite entries of all matrices: a shared colour scale."""
    vals = [math.log10(v) for m in matrices for row in m for v in row if v and v > 0 and math.isfinite(v)]
    if not vals:
        return -1.0, 0.0
    return min(vals), max(vals)


def gradflow_heatmap(matrix: Sequence[Sequence[float]], layers: Sequence[str], steps: Sequence[int], variant: str,
                     lang: str = "en", zrange: tuple[float, float] | None = None) -> go.Figure:
    """steps × layers heatmap of log10 gradient norms for one variant (zeros left blank)."""
    z = [[math.log10(v) if v and v > 0 and math.isfinite(v) else None for v in row] for row in matrix]
    zmin, zmax = zrange or log_range([matrix])
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(1, len(layers) + 1)), y=list(steps), zmin=zmin, zmax=zmax, colorscale="Viridis",
        customdata=[list(layers)] * len(steps),
        colorbar=dict(title=dict(text="log₁₀ ‖∇W‖", side="right")),
        hovertemplate=t("lab.grad.heat_hover", lang) + "<extra></extra>",
    ))
    fig.update_xaxes(title=t("lab.grad.depth_axis", lang))
    fig.update_yaxes(title=t("lab.step_axis", lang), autorange="reversed")
    return _layout(fig, t("lab.grad.heat_title", lang, variant=variant_name(variant, lang)), 360)


def variant_curves(series: Mapping[str, tuple[Sequence[int], Sequence[float]]], metric: str, lang: str = "en",
                   log_y: bool = False) -> go.Figure:
    """One line per variant: ``metric`` ("loss" or "train_acc") against the step."""
    fig = go.Figure()
    for variant, (steps, vals) in series.items():
        fig.add_trace(go.Scatter(x=list(steps), y=list(vals), mode="lines", name=variant_name(variant, lang),
                                 line=dict(color=theme.VARIANT.get(variant), width=2)))
    fig.update_xaxes(title=t("lab.step_axis", lang))
    fig.update_yaxes(title=t(f"lab.metric.{metric}", lang), type="log" if log_y else "linear")
    return _layout(fig, t(f"lab.metric.{metric}.title", lang), 320)


# --- BatchNorm --------------------------------------------------------------------------------
def activation_stats(stats: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str], lang: str = "en") -> go.Figure:
    """Mean (top) and std (bottom) of every layer's pre-activations over the steps, one column per variant.

    ``stats`` maps a variant to ``{layer: LayerStats}``; ``labels`` maps a layer to its
    short name ("conv1"). Colours follow the layer, so the columns compare line by line.
    """
    variants = list(stats)
    fig = make_subplots(rows=2, cols=len(variants), shared_xaxes=True, shared_yaxes="rows",
                        column_titles=[variant_name(v, lang) for v in variants],
                        row_titles=[t("lab.bn.mean", lang), t("lab.bn.std", lang)], vertical_spacing=0.08)
    for c, variant in enumerate(variants, start=1):
        for i, (layer, rec) in enumerate(stats[variant].items()):
            color = theme.SERIES[i % len(theme.SERIES)]
            steps = list(range(1, len(rec.mean) + 1))
            name = labels.get(layer, layer)
            for r, vals in ((1, rec.mean), (2, rec.std)):
                fig.add_trace(go.Scatter(x=steps, y=list(vals), mode="lines", name=name, legendgroup=name,
                                         showlegend=(c == 1 and r == 1), line=dict(color=color, width=1.5)),
                              row=r, col=c)
    fig.update_xaxes(title=t("lab.step_axis", lang), row=2)
    _layout(fig, t("lab.bn.stats_title", lang), 540)
    fig.update_layout(margin=dict(t=96), legend=dict(y=1.09))  # the legend above the column titles
    return fig


def activation_hist(hists: Mapping[str, tuple[Sequence[int], int]], edges: Sequence[float], layer_label: str,
                    lang: str = "en") -> go.Figure:
    """Histograms of one layer's pre-activations, one per variant, overlaid (as fractions).

    ``hists`` maps a variant to (counts, step). The end bins also hold the values beyond the
    range (they are clamped).
    """
    centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = edges[1] - edges[0] if len(edges) > 1 else 1
    fig = go.Figure()
    for variant, (counts, step) in hists.items():
        total = max(1, sum(counts))
        fig.add_trace(go.Bar(x=centers, y=[c / total for c in counts], width=width, opacity=0.55,
                             name=f"{variant_name(variant, lang)} · {t('lab.step_n', lang, step=step)}",
                             marker_color=theme.VARIANT.get(variant)))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title=t("lab.bn.preact_axis", lang))
    fig.update_yaxes(title=t("lab.bn.fraction_axis", lang))
    return _layout(fig, t("lab.bn.hist_title", lang, layer=layer_label), 340)


def batch_noise_figure(rows: Sequence[Mapping[str, float]], lang: str = "en") -> go.Figure:
    """Noise of the batch mean and batch std against the batch size (log–log), with 1/√B."""
    b = [r["batch_size"] for r in rows]
    fig = go.Figure()
    for key, color, dash in (("mean_noise", theme.BLUE, "solid"), ("std_noise", theme.ORANGE, "solid"),
                             ("theory", theme.MUTED, "dash")):
        fig.add_trace(go.Scatter(x=b, y=[r[key] for r in rows], mode="lines+markers" if dash == "solid" else "lines",
                                 name=t(f"lab.bn.noise.{key}", lang), line=dict(color=color, dash=dash, width=2)))
    fig.update_xaxes(type="log", title=t("lab.bn.batch_axis", lang), tickvals=b)
    fig.update_yaxes(type="log", title=t("lab.bn.noise_axis", lang))
    return _layout(fig, t("lab.bn.noise_title", lang), 360)


def running_stats_figure(history: Sequence[Mapping[str, float]], lang: str = "en") -> go.Figure:
    """Channel 0: the batch mean of each step and the running mean that follows it."""
    steps = [h["step"] for h in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=[h["batch_mean"] for h in history], mode="markers",
                             name=t("lab.bn.batch_mean", lang), marker=dict(color=theme.FAINT, size=6)))
    fig.add_trace(go.Scatter(x=steps, y=[h["running_mean"] for h in history], mode="lines",
                             name=t("lab.bn.running_mean", lang), line=dict(color=theme.GREEN, width=2)))
    fig.update_xaxes(title=t("lab.step_axis", lang))
    fig.update_yaxes(title=t("lab.bn.mean", lang))
    return _layout(fig, t("lab.bn.running_title", lang), 320)


# --- costs --------------------------------------------------------------------------------------
def inception_bars(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> go.Figure:
    """Parameters (left) and MACs (right) of the block, its paths, and the alternatives."""
    keys = [r["key"] for r in rows]
    names = [t(f"lab.cost.row.{k}", lang) for k in keys]
    colors = [theme.GREEN if k == "inception" else theme.FAINT if k.startswith("p") else theme.ORANGE for k in keys]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("lab.cost.params", lang), t("lab.cost.macs", lang)))
    for col, metric in ((1, "params"), (2, "macs")):
        vals = [r[metric] for r in rows]
        fig.add_trace(go.Bar(x=names, y=vals, marker_color=colors, showlegend=False,
                             text=[human(v) for v in vals], textposition="outside", cliponaxis=False), row=1, col=col)
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(tickangle=-30)
    return _layout(fig, t("lab.cost.bars_title", lang), 440)


def head_bars(parts: Mapping[str, tuple[int, int]], lang: str = "en", log: bool = True) -> go.Figure:
    """Parameters of the feature extractor and of the head of each network (grouped bars).

    ``parts`` maps a network label to (feature-extractor parameters, head parameters).
    """
    nets = list(parts)
    fig = go.Figure()
    for idx, (key, color) in enumerate((("features", theme.BLUE), ("head", theme.ORANGE))):
        vals = [parts[n][idx] for n in nets]
        fig.add_trace(go.Bar(x=nets, y=vals, name=t(f"lab.cost.{key}", lang), marker_color=color,
                             text=[human(v) for v in vals], textposition="outside", cliponaxis=False))
    fig.update_layout(barmode="group")
    fig.update_yaxes(type="log" if log else "linear", title=t("lab.cost.params", lang))
    return _layout(fig, t("lab.cost.head_title", lang), 380)


# --- feature maps ---------------------------------------------------------------------------------
def feature_grid(grid: np.ndarray, title: str, height: int | None = None) -> go.Figure:
    """One tiled image (``featuremaps.tile``) as a heatmap without axes; NaN gaps stay white."""
    h, w = grid.shape
    fig = go.Figure(go.Heatmap(z=grid, colorscale="Gray", showscale=False, zmin=0, zmax=1,
                               hovertemplate="%{z:.2f}<extra></extra>"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    _layout(fig, title, height or int(min(640, max(200, 70 + 380 * h / max(w, 1)))))
    fig.update_layout(margin=dict(l=10, r=10, t=48, b=10))
    return fig
