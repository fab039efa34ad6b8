"""Plotly figure builders and the table rows behind the pages: pure functions of a ``Trace``.

Every builder takes the reader's language and puts titles, axis labels and hover text
through the string table, so a page only chooses what to show. Nothing here imports
Streamlit; the tests build every figure directly.

* ``shape_flow``: channels and spatial side along the network, activation memory below.
* ``rf_growth``: receptive field of each conv/pool against the input side.
* ``compare_bars`` / ``compare_scatter``: architectures side by side (log scales).
* ``param_split`` / ``param_split_figure``: convolutional part vs dense head, the seed's
  point that AlexNet's and VGG's dense layers hold most parameters and NiN drops them.
* ``timeline``: the chapter's story, 2012 → 2015.
* ``layer_rows``: the explorer's layer table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cnnviz.i18n import t
from cnnviz.inspect.records import LayerRecord
from cnnviz.inspect.tracing import Trace
from cnnviz.numbers import human, human_bytes
from cnnviz.viz import theme
from cnnviz.viz.diagram.nodes import shape_text, window_text

SPINE_KINDS = ("conv", "pool", "gap", "linear", "flatten", "concat", "add")
RF_KINDS = ("conv", "pool", "concat", "add")
CHANNEL_COLOR = theme.BLUE  # channels rise: the conv colour
SIDE_COLOR = theme.ORANGE  # the side shrinks: the pooling colour
CONV_COLOR = theme.KIND["conv"][1]
DENSE_COLOR = theme.KIND["linear"][1]


# --- the main path ----------------------------------------------------------------------------
def spine(trace: Trace) -> list[LayerRecord]:
    """The layers along the network's depth: leaves that change shapes or hold weights, plus the
    joins. Inside an Inception block only its concat counts (its four lanes run side by side),
    inside a residual block its main path and the ⊕ (the 1×1 shortcut runs beside it)."""
    lanes = tuple(r.name + "." for r in trace.layers if r.kind == "branch")
    out = []
    for r in trace.layers:
        if not r.is_leaf or r.kind not in SPINE_KINDS or r.name.endswith(".shortcut"):
            continue
        if lanes and r.name.startswith(lanes):
            continue
        out.append(r)
    return out


def _bands(trace: Trace, recs: Sequence[LayerRecord]) -> list[tuple[str, int, int]]:
    """(block name, first index, last index) of the blocks that ``recs`` fall in: top-level
    blocks, or one level down when the top level is only a features/classifier pair (VGG)."""
    containers = {r.name for r in trace.layers if not r.is_leaf}

    def owner(name: str, depth: int) -> str | None:
        parts = name.split(".")
        for d in range(min(depth, len(parts) - 1), 0, -1):
            cand = ".".join(parts[:d])
            if cand in containers:
                return cand
        return None

    def bands_at(depth: int) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        for i, r in enumerate(recs):
            o = owner(r.name, depth)
            if o is None:
                continue
            if out and out[-1][0] == o and out[-1][2] == i - 1:
                out[-1] = (o, out[-1][1], i)
            else:
                out.append((o, i, i))
        return out

    top = bands_at(1)
    return bands_at(2) if len({b[0] for b in top}) <= 2 else top


def _rec_hover(r: LayerRecord, lang: str, batch: int = 1) -> str:
    geo = window_text(r, lang)
    return (f"<b>{r.name}</b> {r.type}{geo}<br>{shape_text(r.input_shape)} → {shape_text(r.output_shape)}"
            f"<br>{t('chart.hover.memory', lang, mem=human_bytes(r.act_bytes * batch), n=batch)}")


def shape_flow(trace: Trace, lang: str = "en", title: str | None = None):
    """Channels (log scale) and spatial side per layer along the depth, activation memory below.

    Dense layers have no spatial side: their feature count is drawn as channels and their side
    as 1, which is what a 1×1 map with that many channels would be.
    """
    import plotly.graph_objects as go

    recs = spine(trace)
    batch = trace.totals.batch_size
    # x = 0 is the input image itself, so the first layer's shrinking shows
    xs = list(range(0, len(recs) + 1))
    c, h, _ = trace.input_shape
    chans = [c] + [r.output_shape[0] if r.output_shape else 1 for r in recs]
    sides = [h] + [r.output_shape[1] if len(r.output_shape) == 3 else 1 for r in recs]
    mem = [trace.totals.input_bytes / 2**20] + [r.act_bytes * batch / 2**20 for r in recs]
    hover = [t("chart.hover.input", lang, shape=shape_text(trace.input_shape),
               mem=human_bytes(trace.totals.input_bytes), n=batch)] + [_rec_hover(r, lang, batch) for r in recs]

    # channel counts are powers of two in most of these nets: tick them so
    ticks = [2**k for k in range(0, 21) if min(chans) / 2 <= 2**k <= max(chans) * 2]
    if len(ticks) > 7:
        ticks = [v for v in ticks if v.bit_length() % 2 == 1]  # 1, 4, 16, 64, ...
    shapes, notes = [], []
    for k, (name, i0, i1) in enumerate(_bands(trace, recs)):
        if k % 2 == 0:
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=i0 + 0.5, x1=i1 + 1.5, y0=0, y1=1,
                               fillcolor=theme.SAND, opacity=0.7, line_width=0, layer="below"))
        notes.append(dict(x=(i0 + i1) / 2 + 1, y=1.0, xref="x", yref="paper", text=name, showarrow=False,
                          font=dict(size=9, color=theme.MUTED), yanchor="bottom"))
    # Two panels sharing the x axis, laid out by hand: make_subplots and the add_* helpers
    # validate the figure once per call, which costs more than the rest of this page's rerun.
    grid = theme.GRID
    xrange = [-0.6, len(recs) + 0.6]
    layout = dict(
        xaxis=dict(anchor="y", range=xrange, showgrid=False, showticklabels=False, matches="x2"),
        xaxis2=dict(anchor="y3", range=xrange, showgrid=False, title=dict(text=t("chart.layer_index", lang))),
        yaxis=dict(domain=[0.40, 1.0], type="log", title=dict(text=t("chart.channels", lang)), color=CHANNEL_COLOR,
                   gridcolor=grid, tickvals=ticks, ticktext=[str(v) for v in ticks]),
        yaxis2=dict(overlaying="y", side="right", anchor="x", title=dict(text=t("chart.side_px", lang)),
                    color=SIDE_COLOR, range=[0, max(sides) * 1.08], showgrid=False, tickmode="auto", nticks=6),
        yaxis3=dict(domain=[0.0, 0.34], anchor="x2", title=dict(text=t("chart.memory_mib", lang)), gridcolor=grid,
                    rangemode="tozero"),
        shapes=shapes, annotations=notes, bargap=0.15, hovermode="closest",
    )
    data = [
        go.Scatter(x=xs, y=chans, name=t("chart.channels", lang), mode="lines+markers", xaxis="x", yaxis="y",
                   line=dict(color=CHANNEL_COLOR, width=2, shape="hv"), marker=dict(size=6),
                   hovertext=hover, hoverinfo="text"),
        go.Scatter(x=xs, y=sides, name=t("chart.side", lang), mode="lines+markers", xaxis="x", yaxis="y2",
                   line=dict(color=SIDE_COLOR, width=2, dash="dot", shape="hv"),
                   marker=dict(size=6, symbol="diamond"), hovertext=hover, hoverinfo="text"),
        go.Bar(x=xs, y=mem, name=t("chart.memory", lang, n=batch), marker_color=theme.FAINT, xaxis="x2",
               yaxis="y3", hovertext=hover, hoverinfo="text"),
    ]
    fig = go.Figure(data=data, layout=layout)
    theme.styled(fig, title or t("chart.flow.title", lang), 460)
    fig.update_layout(margin=dict(t=84))
    return fig


def rf_growth(trace: Trace, lang: str = "en", title: str | None = None):
    """Receptive field (input pixels one output unit sees) of each conv, pool and join along the
    depth, with the input side as a reference line and the first layer that sees all of it."""
    import plotly.graph_objects as go

    recs = [r for r in spine(trace) if r.kind in RF_KINDS and r.rf is not None]
    side = max(trace.input_shape[1:])
    xs = list(range(1, len(recs) + 1))
    colors = [theme.KIND.get(r.kind, theme.KIND["conv"])[1] for r in recs]
    rfs = [r.rf for r in recs if r.rf is not None]  # one per record: recs keep those that have one
    hover = [f"<b>{r.name}</b> {r.type}<br>" + t("chart.rf.hover", lang, rf=r.rf, jump=r.jump) + window_text(r, lang)
             for r in recs]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=rfs, mode="lines+markers", name=t("chart.rf", lang),
                             line=dict(color=theme.INK, width=1.5), marker=dict(color=colors, size=8),
                             hovertext=hover, hoverinfo="text"))
    fig.add_hline(y=side, line=dict(color=SIDE_COLOR, dash="dash", width=1.5),
                  annotation_text=t("chart.rf.input", lang, side=side), annotation_position="top left",
                  annotation_font=dict(color=SIDE_COLOR, size=11))
    first = next((i for i, rf in enumerate(rfs) if rf >= side), None)
    if first is not None:
        fig.add_annotation(x=first + 1, y=rfs[first], text=t("chart.rf.covers", lang, name=recs[first].name),
                           showarrow=True, arrowhead=2, ax=-40, ay=-40, font=dict(size=11), bgcolor="white")
    theme.styled(fig, title or t("chart.rf.title", lang), 380)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(title_text=t("chart.rf.axis", lang), rangemode="tozero", gridcolor=theme.GRID)
    fig.update_xaxes(title_text=t("chart.layer_index_rf", lang), showgrid=False)
    return fig


# --- parameters: convolutional part vs dense head ------------------------------------------
@dataclass(frozen=True)
class ParamSplit:
    """Parameters of the convolutional part (convs and their BatchNorm) and of the dense head."""

    conv: int
    dense: int

    @property
    def total(self) -> int:
        """Every parameter."""
        return self.conv + self.dense

    @property
    def dense_share(self) -> float:
        """Fraction of all parameters in dense layers (0 for NiN, ~0.9 for AlexNet and VGG)."""
        return self.dense / self.total if self.total else 0.0


def param_split(trace: Trace) -> ParamSplit:
    """Split ``trace``'s parameters: BatchNorm counts with the part it normalises (a 1-D output
    belongs to the dense head)."""
    conv = dense = 0
    for r in trace.leaves():
        if r.kind == "linear" or (r.kind == "norm" and len(r.output_shape) == 1):
            dense += r.params
        else:
            conv += r.params
    return ParamSplit(conv, dense)


def param_split_figure(items: Sequence[tuple[str, ParamSplit]], lang: str = "en", title: str | None = None):
    """Stacked horizontal bars, one per network: convolutional vs dense parameters (millions),
    with the dense share written at the end of each bar."""
    import plotly.graph_objects as go

    labels = [name for name, _ in items][::-1]
    conv = [s.conv / 1e6 for _, s in items][::-1]
    dense = [s.dense / 1e6 for _, s in items][::-1]
    shares = [s.dense_share for _, s in items][::-1]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=labels, x=conv, orientation="h", name=t("chart.split.conv", lang), marker_color=CONV_COLOR,
                         hovertemplate="%{y}<br>" + t("chart.split.conv", lang) + ": %{x:.2f}M<extra></extra>"))
    fig.add_trace(go.Bar(y=labels, x=dense, orientation="h", name=t("chart.split.dense", lang),
                         marker_color=DENSE_COLOR,
                         hovertemplate="%{y}<br>" + t("chart.split.dense", lang) + ": %{x:.2f}M<extra></extra>"))
    for y, c, d, s in zip(labels, conv, dense, shares):
        fig.add_annotation(x=c + d, y=y, text=t("chart.split.share", lang, pct=f"{100 * s:.0f}"), showarrow=False,
                           xanchor="left", xshift=6, font=dict(size=11, color=DENSE_COLOR))
    theme.styled(fig, title or t("chart.split.title", lang), 120 + 46 * len(items))
    fig.update_layout(barmode="stack", margin=dict(l=10, r=90), legend=dict(traceorder="normal"))
    fig.update_xaxes(title_text=t("chart.split.axis", lang), gridcolor=theme.GRID, rangemode="tozero")
    fig.update_yaxes(automargin=True)
    return fig


# --- comparing architectures ----------------------------------------------------------------
class Figures(NamedTuple):
    """A compare row's figures, once it is known to have them (``CompareRow.figures``)."""

    params: int
    macs: int
    act_bytes: int
    depth: int


@dataclass(frozen=True)
class CompareRow:
    """One architecture's figures at the compare page's input size (``trace`` None: too small)."""

    name: str
    label: str
    family: str
    params: int | None = None
    macs: int | None = None
    act_bytes: int | None = None
    depth: int | None = None
    min_side: int | None = None
    short: str = ""  # a short label for crowded charts (defaults to ``label``)

    def __post_init__(self) -> None:
        if not self.short:
            object.__setattr__(self, "short", self.label)

    @property
    def figures(self) -> Figures:
        """The four figures of a row that has them (``params`` is not None: all four are set together)."""
        assert self.params is not None and self.macs is not None and self.act_bytes is not None \
            and self.depth is not None, self.name
        return Figures(self.params, self.macs, self.act_bytes, self.depth)


def compare_row(name: str, label: str, family: str, trace: Trace | None, min_side: int | None,
                short: str = "") -> CompareRow:
    """The compare table's row for one architecture (``trace`` None: the input is too small)."""
    if trace is None:
        return CompareRow(name, label, family, min_side=min_side, short=short)
    tt = trace.totals
    return CompareRow(name, label, family, tt.params, tt.macs, tt.activation_bytes, tt.depth, tt.min_side, short)


def compare_bars(rows: Sequence[CompareRow], lang: str = "en", title: str | None = None):
    """Four panels of horizontal bars: parameters, MACs and activation memory on log scales
    (they span three orders of magnitude), depth on a linear one. Rows without figures
    (input too small) are left out."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ok = [r for r in rows if r.params is not None][::-1]
    figs = [r.figures for r in ok]
    panels: list[tuple[str, str, list[int], bool, Callable[[float], str]]] = [
        ("params", t("cmp.params", lang), [f.params for f in figs], True, human),
        ("macs", t("cmp.macs", lang), [f.macs for f in figs], True, human),
        ("mem", t("cmp.memory", lang), [f.act_bytes for f in figs], True, human_bytes),
        ("depth", t("cmp.depth", lang), [f.depth for f in figs], False, str),
    ]
    fig = make_subplots(rows=1, cols=4, shared_yaxes=True, horizontal_spacing=0.025,
                        subplot_titles=[p[1] for p in panels])
    colors = [theme.FAMILY.get(r.family, theme.MUTED) for r in ok]
    labels = [r.label for r in ok]
    for i, (_, name, vals, log, fmt) in enumerate(panels, start=1):
        fig.add_trace(go.Bar(y=labels, x=vals, orientation="h", marker_color=colors, showlegend=False,
                             text=[fmt(v) for v in vals], textposition="auto", insidetextanchor="end",
                             textfont=dict(size=10), hovertemplate="%{y}<br>" + name + ": %{text}<extra></extra>"),
                      row=1, col=i)
        fig.update_xaxes(type="log" if log else "linear", row=1, col=i, gridcolor=theme.GRID,
                         dtick=1 if log else None, minor=dict(showgrid=False),
                         title_text=t("cmp.log", lang) if log else t("cmp.linear", lang), title_font=dict(size=10))
    theme.styled(fig, title or t("cmp.title", lang), 150 + 34 * max(len(ok), 1))
    fig.update_layout(margin=dict(l=10, r=20, t=80))
    fig.update_yaxes(automargin=True)
    return fig


def compare_scatter(rows: Sequence[CompareRow], lang: str = "en", title: str | None = None):
    """Parameters against MACs, log–log: where each design spends its budget (memory for
    weights vs compute). VGG sits high on both; NiN and GoogLeNet buy compute with few weights."""
    import plotly.graph_objects as go

    ok = [r for r in rows if r.params is not None]
    fig = go.Figure()
    for fam in dict.fromkeys(r.family for r in ok):
        rs = [r for r in ok if r.family == fam]
        fig.add_trace(go.Scatter(
            x=[r.macs for r in rs], y=[r.params for r in rs], mode="markers+text", name=t(f"family.{fam}", lang),
            text=[r.short for r in rs], textfont=dict(size=10),
            # a family's points sit close together (VGG-11…19): alternate their labels above and below
            textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(rs))],
            marker=dict(size=12, color=theme.FAMILY.get(fam, theme.MUTED), line=dict(color="white", width=1)),
            hovertext=[f"<b>{r.label}</b><br>{t('cmp.params', lang)}: {human(r.figures.params)}<br>"
                       f"{t('cmp.macs', lang)}: {human(r.figures.macs)}<br>{t('cmp.depth', lang)}: {r.depth}"
                       for r in rs],
            hoverinfo="text"))
    theme.styled(fig, title or t("cmp.scatter.title", lang), 440)
    fig.update_xaxes(type="log", title_text=t("cmp.macs", lang), gridcolor=theme.GRID, dtick=1)
    fig.update_yaxes(type="log", title_text=t("cmp.params", lang), gridcolor=theme.GRID, dtick=1)
    return fig


# --- the chapter's story --------------------------------------------------------------------
@dataclass(frozen=True)
class Milestone:
    """One step of the chapter: a family, its year, the preset that shows it, in chapter order."""

    family: str
    year: int
    model: str


def milestones() -> list[Milestone]:
    """The chapter's steps, from the registry: the first preset of each family, in the
    chapter's order (which is not quite the years': NiN (2013) follows VGG (2014))."""
    from cnnviz.models.registry import list_models, model_spec

    seen: dict[str, Milestone] = {}
    for name in list_models():
        spec = model_spec(name)
        seen.setdefault(spec.family, Milestone(spec.family, spec.year, name))
    return list(seen.values())


def timeline(lang: str = "en", title: str | None = None):
    """The chapter as a timeline: one marker per milestone, its idea in a line beside it.
    Milestones of the same year are spread a little, and labels alternate above and below
    the line in date order, so neighbours never collide."""
    import plotly.graph_objects as go

    ms = milestones()
    per_year: dict[int, int] = {}
    xs = []
    for m in ms:
        k = per_year.get(m.year, 0)
        per_year[m.year] = k + 1
        xs.append(m.year + 0.42 * k)
    order = sorted(range(len(ms)), key=lambda i: xs[i])
    ys = [0] * len(ms)
    for rank, i in enumerate(order):
        ys[i] = 1 if rank % 2 == 0 else -1
    fig = go.Figure()
    fig.add_hline(y=0, line=dict(color=theme.FAINT, width=2))
    years = sorted({m.year for m in ms})
    for y in years:  # the years, written on the line itself
        fig.add_annotation(x=y - 0.12, y=0, text=f"<b>{y}</b>", showarrow=False, xanchor="right",
                           font=dict(size=12, color=theme.MUTED), bgcolor="white")
    for x, y, m in zip(xs, ys, ms):
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=y * 0.5, line=dict(color=theme.LIGHT_RULE, width=1))
        fig.add_annotation(x=x, y=y * 0.55, text=f"<b>{t('family.' + m.family, lang)}</b><br>"
                           f"{t('home.idea.short.' + m.family, lang)}", showarrow=False,
                           yanchor="bottom" if y > 0 else "top", font=dict(size=11), align="center")
    fig.add_trace(go.Scatter(x=xs, y=[0] * len(xs), mode="markers", hoverinfo="text",
                             hovertext=[f"{t('family.' + m.family, lang)} ({m.year})" for m in ms],
                             marker=dict(size=16, color=[theme.FAMILY.get(m.family, theme.MUTED) for m in ms],
                                         line=dict(color="white", width=2))))
    theme.styled(fig, title or t("home.timeline.title", lang), 300)
    fig.update_layout(showlegend=False, margin=dict(l=10, r=10, t=40, b=10), dragmode=False)
    fig.update_xaxes(visible=False, range=[min(xs) - 0.6, max(xs) + 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-1.6, 1.6], fixedrange=True)
    return fig


# --- the layer table --------------------------------------------------------------------------


def layer_rows(trace: Trace, view: str = "leaves", lang: str = "en", failed: str | None = None) -> list[dict[str, Any]]:
    """Rows of the explorer's layer table.

    ``view``: "leaves" (every layer, joins included), "blocks" (the top-level layers and the
    blocks: VGG/NiN/Inception/residual blocks, stages), or "all" (the whole tree). Names are
    indented by depth; convs and pools show kernel/stride ("Conv2d 3×3/1"), residual blocks
    their shortcut; ``share`` is the fraction of all parameters (a block's whole subtree).
    ``failed``: a ``cnnviz.inspect.collapse`` trace, cut at that layer: its output reads "no
    output pixel", and a container the pass never finished reads "not reached".
    """
    total = trace.totals.params or 1
    blocks = {"block", "inception", "residual"}
    if view == "leaves":
        recs: Iterable[LayerRecord] = (r for r in trace.layers if r.is_leaf)
    elif view == "blocks":
        recs = (r for r in trace.layers if (r.kind in blocks or r.depth == 1))
    else:
        recs = trace.layers
    rows = []
    for r in recs:
        extra = ""
        if r.kernel:
            (kh, kw), (s, _), _ = r.window
            extra = f" {kh}×{kw}/{s}"
        elif r.skip:  # a residual block: say which shortcut it has
            extra = f" ({t('dg.skip.' + r.skip, lang)})"
        if r.output_shape:
            output = shape_text(r.output_shape)
        else:  # only in a collapse's trace: the failed layer, or a container it stopped
            output = t("quizfix.table.failed" if r.name == failed else "quizfix.table.unfinished", lang)
        rows.append({
            "layer": "\u2003" * (r.depth - 1) + r.name, "type": r.type + extra, "output": output,
            "params": r.params, "macs": r.macs, "share": r.params / total,
        })
    return rows


# --- what to notice ---------------------------------------------------------------------------
def key_facts(trace: Trace) -> list[tuple[str, dict[str, Any]]]:
    """A few computed observations about ``trace`` worth saying out loud in class, as
    (string key, parameters) pairs: where the parameters are, which layer costs the most
    compute and which the most memory, how far the receptive field reaches."""
    facts: list[tuple[str, dict[str, Any]]] = []
    leaves = trace.leaves()
    split = param_split(trace)
    share = 100 * split.dense_share
    pct = f"{share:.0f}" if share >= 10 else f"{share:.1f}"
    if not any(r.kind == "linear" for r in leaves):
        facts.append(("fact.no_dense", {}))
    elif split.dense_share >= 0.5:
        facts.append(("fact.dense_heavy", dict(pct=pct, dense=human(split.dense), total=human(split.total))))
    else:
        facts.append(("fact.dense_light", dict(pct=pct)))
    side = trace.input_shape[1]
    first = next((r for r in spine(trace) if len(r.output_shape) == 3), None)
    if first is not None and first.output_shape[1] < side:
        facts.append(("fact.first_shrink", dict(name=first.name, a=side, b=first.output_shape[1])))
    total_macs = trace.totals.macs or 1
    heavy = max(leaves, key=lambda r: r.macs, default=None)
    if heavy is not None and heavy.macs:
        facts.append(("fact.most_macs", dict(name=heavy.name, type=heavy.type,
                                             pct=f"{100 * heavy.macs / total_macs:.0f}")))
    big = max(leaves, key=lambda r: r.act_bytes, default=None)
    if big is not None:
        facts.append(("fact.biggest_act", dict(name=big.name, shape=shape_text(big.output_shape),
                                               mem=human_bytes(big.act_bytes))))
    rfs = [(r.name, r.rf) for r in spine(trace) if r.kind in ("conv", "pool") and r.rf is not None]
    if rfs:
        name, rf = rfs[-1]
        key = "fact.rf_covers" if rf >= side else "fact.rf_partial"
        facts.append((key, dict(rf=rf, side=side, name=name)))
    return facts
