"""Figures and figures-of-merit of training runs, from their event dicts (no Streamlit here).

``curves_figure`` is the book's Animator, live and for several runs at once: training loss
(left), training and test accuracy (right) against epochs, one colour per run.
``grad_bar_figure`` shows the latest gradient norm of every conv/linear weight;
``grad_heatmap_figure`` the whole history, steps × layers, on a log scale: vanishing
gradients show as a dark band in the lower layers. They take a run's typed events
(``cnnviz.train.events``); a run's progress is its kind's fold (``cnnviz.jobs.train.TrainProgress``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz import safe
from cnnviz.i18n import t
from cnnviz.train.events import EpochEvent, EvalEvent, Event, StartEvent, StepEvent
from cnnviz.viz import theme

DASHES = {"loss": "solid", "train_acc": "dash", "test_acc": "dashdot", "test_acc_subset": "dot"}
MAX_POINTS = 1500  # per curve; longer histories are thinned evenly (the last point always kept)
MAX_HEAT_COLS = 300


def _thin(rows: list, limit: int = MAX_POINTS) -> list:
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    out = [rows[int(i * step)] for i in range(limit)]
    if out[-1] is not rows[-1]:
        out.append(rows[-1])
    return out


def curves_figure(runs: Sequence[tuple[str, Sequence[Event]]], lang: str = "en", height: int = 380) -> go.Figure:
    """Loss and accuracies against epochs for each ``(label, events)`` in ``runs``; a label is
    plain text (shown as it is, escaped for plotly: ``cnnviz.safe.html``)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("train.chart.loss", lang), t("train.chart.accuracy", lang)),
                        horizontal_spacing=0.08)
    single = len(runs) == 1
    for i, (label, events) in enumerate(runs):
        steps: list[StepEvent] = _thin([e for e in events if isinstance(e, StepEvent)])
        evals = [e for e in events if isinstance(e, EvalEvent)]
        epochs = [e for e in events if isinstance(e, EpochEvent)]

        def style(metric: str, i: int = i) -> dict:
            # one run: the book's Animator (loss blue, train acc magenta dashed, test acc green dash-dot);
            # several: a colour per run, a dash pattern per metric
            color = theme.METRIC[metric] if single else theme.SERIES[i % len(theme.SERIES)]
            return dict(color=color, dash=DASHES[metric], width=1 if metric == "test_acc_subset" else 2)

        def name(key: str, label: str = label) -> str:
            # a label names a run and its student (a display name they typed): plotly's HTML must
            # not read it as markup (``<a href>``, ``<br>``, styles), so it is escaped here
            return t(key, lang) if single else f"{safe.html(label)}: {t(key, lang)}"

        group = f"run{i}"
        fig.add_trace(go.Scatter(x=[e.epoch for e in steps], y=[e.epoch_loss for e in steps], mode="lines",
                                 name=name("train.chart.train_loss"), legendgroup=group, line=style("loss")),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=[e.epoch for e in steps], y=[e.train_acc for e in steps], mode="lines",
                                 name=name("train.chart.train_acc"), legendgroup=group, line=style("train_acc")),
                      row=1, col=2)
        if evals:
            fig.add_trace(go.Scatter(x=[e.epoch for e in evals], y=[e.test_acc for e in evals], mode="lines",
                                     name=name("train.chart.test_acc_subset"), legendgroup=group,
                                     line=style("test_acc_subset"), opacity=0.7), row=1, col=2)
        if epochs:
            fig.add_trace(go.Scatter(x=[e.epoch for e in epochs], y=[e.test_acc for e in epochs],
                                     mode="lines+markers", name=name("train.chart.test_acc"), legendgroup=group,
                                     line=style("test_acc"), marker=dict(size=7)), row=1, col=2)
    fig.update_xaxes(title_text=t("train.chart.epoch", lang))
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    theme.styled(fig, None, height).update_layout(margin=dict(l=10, r=10, t=40, b=10),
                                                  legend=dict(orientation="h", y=-0.2, x=0, xanchor="left",
                                                              yanchor="top"),
                                                  # keep the reader's zoom across the live refreshes
                                                  uirevision="curves")
    return fig


def _grad_steps(events: Sequence[Event]) -> tuple[list[str], list[StepEvent]]:
    layers: list[str] = []
    for e in events:
        if isinstance(e, StartEvent):
            layers = list(e.layers or [])
            break
    steps = [e for e in events if isinstance(e, StepEvent) and e.grad_norms]
    if not layers and steps:
        layers = list(steps[0].grad_norms)
    return layers, steps


def grad_bar_figure(events: Sequence[Event], lang: str = "en", height: int = 320) -> go.Figure | None:
    """The latest gradient norm per layer (input side left), log scale; None before the first step."""
    layers, steps = _grad_steps(events)
    if not steps:
        return None
    last = steps[-1]
    vals = [last.grad_norms.get(n) or 0.0 for n in layers]
    fig = go.Figure(go.Bar(x=layers, y=[max(v, 1e-12) for v in vals], marker_color=theme.KIND["conv"][1],
                           hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    # A log axis fitted to the data turns 0.3 vs 0.6 into an empty bar against a full one: in a
    # lesson on vanishing gradients that invents one. Show at least two decades below the top.
    pos = [v for v in vals if v > 0] or [1e-12]
    top, bottom = math.log10(max(pos)), math.log10(min(pos))
    fig.update_yaxes(type="log", title_text=t("train.chart.grad_norm", lang),
                     range=[min(bottom, top - 2) - 0.1, top + 0.1])
    theme.styled(fig, t("train.chart.grad_latest", lang, step=last.step), height)
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), uirevision="gradbar")
    return fig


def grad_heatmap_figure(events: Sequence[Event], lang: str = "en", height: int = 360) -> go.Figure | None:
    """log10 gradient norm, layers (rows, input at the bottom) × steps (columns); None before any step."""
    layers, steps = _grad_steps(events)
    if not steps:
        return None
    steps = _thin(steps, MAX_HEAT_COLS)
    z = [[_log10(s.grad_norms.get(n)) for s in steps] for n in layers]
    fig = go.Figure(go.Heatmap(z=z, x=[s.step for s in steps], y=layers, colorscale="Viridis",
                               colorbar=dict(title="log₁₀"),
                               hovertemplate=t("train.chart.grad_hover", lang) + "<extra></extra>"))
    fig.update_xaxes(title_text=t("train.chart.step", lang))
    theme.styled(fig, t("train.chart.grad_heatmap", lang), height)
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10), uirevision="gradheat")
    return fig


def _log10(v: float | None) -> float | None:
    return math.log10(v) if v and v > 0 else None
