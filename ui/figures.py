"""Figures and tables computed once for the whole class.

Every figure of the explore pages is a pure function of its configuration, its options and
the reader's language, so it is built once per server and handed to every session that asks
for the same thing: a class of 40 opening GoogLeNet at 96 pixels builds its diagram once.
``st.cache_resource`` (not ``cache_data``) because nothing downstream mutates a figure:
``st.plotly_chart`` only reads it (``to_dict``), so one object serves all sessions at once
without a copy per rerun. Building a figure costs 6–15 ms (plotly validates every property);
a cached one costs what ``st.plotly_chart`` needs to serialise it, a few tenths of a ms.

The ``language`` argument is explicit (never read from the session) so that it is part of
the cache key. Errors are not cached: the caller traces first (``ui.common.try_trace``) and
only asks for figures of a config that traces.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from cnnviz.config import ConvNetConfig
from cnnviz.errors import ShapeError
from cnnviz.i18n import TABLE, t
from cnnviz.inspect.collapse import Collapse
from cnnviz.inspect.collapse import collapse as trace_collapse
from cnnviz.models.registry import get_config, list_models, model_spec
from cnnviz.viz import diagram
from cnnviz.viz import explore as charts
from cnnviz.viz import labs as lab_charts
from ui.common import cached_trace, try_trace

# Bounds on what the server keeps: a figure is 5–30 kB of plotly objects; a class explores a
# few dozen configurations in a lesson.
MAX_FIGURES = 512


def _short(name: str, language: str) -> str:
    key = f"arch.short.{name}"
    return t(key if key in TABLE else f"arch.{name}", language)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def structure(cfg: ConvNetConfig, batch: int, expand: str, language: str) -> go.Figure:
    """The structure diagram of ``cfg`` with ``expand``'s units drawn open."""
    trace = cached_trace(cfg, batch)
    return diagram.figure(diagram.layout(trace, expand, language), language, title=t("ex.diagram.title", language))


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def collapse(cfg: ConvNetConfig, batch: int) -> Collapse | None:
    """The layers of ``cfg`` up to the one its input is too small for (``cnnviz.inspect.collapse``),
    or None when it traces whole; shared by every session, like the traces."""
    return trace_collapse(cfg, batch)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def collapse_structure(cfg: ConvNetConfig, batch: int, expand: str, language: str) -> go.Figure | None:
    """The structure diagram up to the failed layer, marked; None when ``cfg`` traces whole."""
    cut = collapse(cfg, batch)
    if cut is None:
        return None
    lay = diagram.layout(cut.trace, expand, language, failed=cut.failed)
    return diagram.figure(lay, language, title=t("quizfix.collapse.diagram", language))


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def collapse_rows(cfg: ConvNetConfig, batch: int, view: str, language: str) -> list[dict[str, Any]]:
    """The layer table's rows up to the failed layer (none when ``cfg`` traces whole)."""
    cut = collapse(cfg, batch)
    return [] if cut is None else charts.layer_rows(cut.trace, view, language, failed=cut.failed)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def shape_flow(cfg: ConvNetConfig, batch: int, language: str, title_key: str | None = None) -> go.Figure:
    """Channels, side and activation memory along the network."""
    title = t(title_key, language) if title_key else None
    return charts.shape_flow(cached_trace(cfg, batch), language, title=title)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def rf_growth(cfg: ConvNetConfig, batch: int, language: str) -> go.Figure:
    """The receptive field of every conv and pool, against the input side."""
    return charts.rf_growth(cached_trace(cfg, batch), language)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def layer_rows(cfg: ConvNetConfig, batch: int, view: str, language: str) -> list[dict[str, Any]]:
    """The layer table's rows (``st.dataframe`` copies them into its own frame)."""
    return charts.layer_rows(cached_trace(cfg, batch), view, language)


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def key_facts(cfg: ConvNetConfig, batch: int, language: str) -> tuple[str, ...]:
    """What the numbers at this input show, as translated sentences."""
    return tuple(t(k, language, **p) for k, p in charts.key_facts(cached_trace(cfg, batch)))


@st.cache_resource(max_entries=MAX_FIGURES, show_spinner=False)
def param_split(cfg: ConvNetConfig, references: tuple[str, ...], language: str) -> go.Figure:
    """Where the parameters are, for ``cfg`` (the designer's VGG) against the reference networks
    at the same input (each skipped if the input is too small for it)."""
    items = [(t("de.yours", language), charts.param_split(cached_trace(cfg)))]
    for name in references:
        ref = get_config(name).replace(input_hw=cfg.input_hw, in_channels=cfg.in_channels)
        traced, err = try_trace(ref)
        if err is None:
            items.append((t(f"arch.{name}", language), charts.param_split(traced)))
    return charts.param_split_figure(items, language)


@st.cache_resource(max_entries=64, show_spinner=False)
def comparison(side: int, ch: int, batch: int, language: str) -> list[charts.CompareRow]:
    """Every registered network at one input: a row each (no totals where the side is too small)."""
    rows = []
    for name in list_models():
        spec = model_spec(name)
        traced, err = try_trace(get_config(name).replace(input_hw=(side, side), in_channels=ch), batch)
        min_side = err.min_side if isinstance(err, ShapeError) else None
        rows.append(charts.compare_row(name, t(f"arch.{name}", language), spec.family, traced, min_side,
                                       short=_short(name, language)))
    return rows


@st.cache_resource(max_entries=64, show_spinner=False)
def comparison_figures(side: int, ch: int, batch: int, language: str) -> tuple[go.Figure, go.Figure]:
    """The comparison's log-scale bars and its parameters-against-MACs scatter."""
    rows = comparison(side, ch, batch, language)
    return (charts.compare_bars(rows, language, title=t("cmp.title.at", language, side=side, ch=ch)),
            charts.compare_scatter(rows, language))


@st.cache_resource(max_entries=4, show_spinner=False)
def timeline(language: str) -> go.Figure:
    """The home page's chapter timeline."""
    return charts.timeline(language)


@st.cache_resource(max_entries=256, show_spinner=False)
def inception_bars(rows: list[dict[str, Any]], language: str) -> go.Figure:
    """The cost lab's Inception bars for one block setting (rows: plain numbers, hashed by value)."""
    return lab_charts.inception_bars(rows, language)


@st.cache_resource(max_entries=256, show_spinner=False)
def head_bars(parts: dict[str, tuple[int, int]], language: str) -> go.Figure:
    """The cost lab's AlexNet-against-NiN head bars."""
    return lab_charts.head_bars(parts, language)


@st.cache_resource(max_entries=256, show_spinner=False)
def run_figures(run_id: str, n_events: int, title: str, language: str) -> tuple[go.Figure, Any, Any]:
    """A training run's curves, latest gradient bars and gradient heatmap after its first
    ``n_events`` events: built once per poll for every student watching the same run (a
    shared class run is drawn once a second, not forty times)."""
    from cnnviz.viz.training import curves_figure, grad_bar_figure, grad_heatmap_figure
    from ui.sched import scheduler

    events = scheduler().events(run_id)[:n_events]
    return (curves_figure([(title, events)], language), grad_bar_figure(events, language),
            grad_heatmap_figure(events, language))


# Compare's measured columns: a class of 40 reruns the page; the store is read at most once per
# MEASURED_TTL_S for all of them (a run that just ended shows up within that).
MEASURED_TTL_S = 15.0


@st.cache_data(ttl=MEASURED_TTL_S, max_entries=8, show_spinner=False)
def _measured(db: str, device: str) -> dict[str, Any]:
    from cnnviz.runs.measured import measured
    from ui.sched import scheduler

    return measured(scheduler().store, prefer=device)


def measured_runs() -> tuple[dict[str, Any], Any]:
    """(arch → ``cnnviz.runs.measured.Measured``, None), or ({}, the ``CnnvizError`` to show)
    when the run store cannot be read: the page shows that note and its other columns."""
    import sqlite3

    from cnnviz.errors import CnnvizError
    from cnnviz.runs.measured import device_type
    from cnnviz.runs.scheduler import RunError
    from cnnviz.settings import db_path

    try:
        return _measured(str(db_path()), device_type()), None
    except CnnvizError as err:  # errors are not cached: the next rerun tries again
        return {}, err
    except (OSError, sqlite3.Error) as err:
        return {}, RunError("train.runs.store_error", error=str(err))
