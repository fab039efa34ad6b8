"""Architecture explorer: one network of the chapter, traced at the chosen input.

Layout only: widgets (bound to the URL) → config → ``cnnviz`` trace → totals, the structure
diagram, the shape flow, the receptive field and the layer table. An invalid configuration
shows the library's message in the error panel and hides the panels that need a trace.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from cnnviz.errors import CnnvizError, ShapeError
from cnnviz.models.registry import get_config, model_spec
from cnnviz.viz import diagram
from ui import downloads, figures, schemas
from ui.common import arch_has, arch_label, fmt_bytes, fmt_count, lang, show_error, tr, try_trace
from ui.widgets import PageState

PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

state = PageState("explorer", schemas.explorer_schema(), parse=schemas.parse_explorer)


def on_arch_change() -> None:
    """A new architecture opens in the book's configuration (LeNet at 28 with sigmoid...)."""
    state.set(schemas.explorer_defaults(state.get("arch")))


def use_side(side: int) -> None:
    """The error panel's button: move the input to the smallest side that works."""
    state.set({"side": side})


def controls() -> dict:
    """The configuration widgets; returns the current values."""
    with st.container(border=True):
        c = st.columns([2.2, 2.6, 1.5, 1.0], gap="medium")
        with c[0]:
            arch = state.selectbox("arch", tr("ex.arch"), format_func=arch_label, on_change=on_arch_change)
        with c[1]:
            state.slider_box("side", tr("ex.side"), tr("quizfix.side.box"), tr("quizfix.side.box.help"),
                             help=tr("ex.side.help"))
        with c[2]:
            state.radio("ch", tr("ex.ch"), format_func=lambda v: tr(f"ex.ch.{v}"))
        with c[3]:
            state.number("batch", tr("ex.batch"), help=tr("ex.batch.help"))
        c = st.columns([1.25, 1.15, 1.5, 1.4, 1.6], gap="medium")
        with c[0]:
            state.toggle("bn", tr("ex.bn"), help=tr("ex.bn.help"))
        with c[1]:
            if hasattr(get_config(arch), "residual"):
                state.toggle("res", tr("ex.res"), help=tr("ex.res.help"))
            else:  # drawn off, not bound: the reader's choice waits for the next ResNet
                st.toggle(tr("ex.res"), value=False, disabled=True, key="ex.res.na", help=tr("ex.res.na"))
        with c[2]:
            has_drop = arch_has(arch, "dropout")
            state.slider("drop", tr("ex.drop"), disabled=not has_drop,
                         help=tr("ex.drop.help") if has_drop else tr("ex.drop.na", arch=arch_label(arch)))
        with c[3]:
            state.select_slider("wd", tr("ex.wd"), help=tr("ex.wd.help"))
        with c[4]:
            state.radio("act", tr("ex.act"), format_func=lambda v: tr(f"ex.act.{v}"))
    return state.values()


def metrics(trace) -> None:
    tt = trace.totals
    cols = st.columns(6)
    cols[0].metric(tr("ex.m.params"), fmt_count(tt.params), help=tr("ex.m.params.help", n=f"{tt.params:,}"))
    cols[1].metric(tr("ex.m.macs"), fmt_count(tt.macs), help=tr("ex.m.macs.help", n=f"{tt.macs:,}"))
    cols[2].metric(tr("ex.m.param_mem"), fmt_bytes(tt.param_bytes), help=tr("ex.m.param_mem.help"))
    cols[3].metric(tr("ex.m.act_mem", n=tt.batch_size), fmt_bytes(tt.activation_bytes),
                   help=tr("ex.m.act_mem.help", n=tt.batch_size))
    cols[4].metric(tr("ex.m.depth"), tt.depth, help=tr("ex.m.depth.help", conv=tt.conv_layers, linear=tt.linear_layers))
    cols[5].metric(tr("ex.m.min_side"), tr("ex.px", n=tt.min_side), help=tr("ex.m.min_side.help"))


def export_buttons(arch: str, cfg) -> None:
    """The shown configuration as plain PyTorch (``ui.downloads``)."""
    downloads.export_buttons(cfg, arch if cfg == get_config(arch) else None, arch, (1, 1, 2.4))


def idea(arch: str, trace) -> None:
    """The architecture's idea in two sentences, and what the numbers at this input show."""
    family = model_spec(arch).family
    st.markdown(f"**{tr('ex.idea', arch=arch_label(arch))}**  \n{tr('home.idea.' + family)}")
    facts = "\n".join(f"- {fact}" for fact in figures.key_facts(trace.config, trace.totals.batch_size, lang()))
    st.markdown(f"**{tr('ex.notice')}**\n\n{facts}")


def structure_tab(arch: str, trace) -> None:
    units = diagram.units(trace)
    options = list(schemas.EXPAND_MODES) + units
    requested = state.get("expand")
    if requested not in options:  # only a crafted link gets here: say so, then draw the automatic view
        st.warning(tr("url.unknown_block", raw=str(requested)[:40]), icon=":material/link_off:")
    by_name = {r.name: r for r in trace.layers}

    def expand_label(v: str) -> str:
        if v in schemas.EXPAND_MODES:
            return tr(f"ex.expand.{v}")
        r = by_name[v]
        kind = r.kind if r.kind in diagram.UNIT_KINDS else "block"
        return tr("ex.expand.unit", unit=tr(f"dg.unit.{kind}", name=v), c=r.output_shape[0])

    left, right = st.columns([3.2, 1.3], gap="medium")
    with right:
        expand = state.selectbox("expand", tr("ex.expand"), options=options, format_func=expand_label,
                                 help=tr("ex.expand.help"))
        with st.container(border=True):
            idea(arch, trace)
        st.markdown(tr("ex.legend"))
        st.caption(tr("ex.howto"))
    with left:
        fig = figures.structure(trace.config, trace.totals.batch_size, expand, lang())
        st.plotly_chart(fig, config=PLOT_CONFIG | {"displayModeBar": False})


def table_tab(trace) -> None:
    view = state.radio("table", tr("ex.table.view"), format_func=lambda v: tr(f"ex.table.{v}"))
    rows = figures.layer_rows(trace.config, trace.totals.batch_size, view, lang())
    # each conv and pool opens in the convolution-arithmetic lab, played out window by window
    query = {"arch": state.get("arch"), "side": trace.input_shape[1]} | ({"lang": lang()} if lang() != "en" else {})
    windows = {r.name for r in trace.layers if r.kernel and r.kind in ("conv", "pool")}
    rows = [dict(row, arith=f"/convarith?{urlencode(query | {'layer': name})}" if name in windows else None)
            for row in rows for name in (row["layer"].lstrip("\u2003"),)]
    st.dataframe(
        rows, hide_index=True, width="stretch", height=min(35 * len(rows) + 38, 620),
        column_config={
            "arith": st.column_config.LinkColumn(tr("ex.col.arith"), display_text=tr("ex.col.arith.open"),
                                                 help=tr("ex.col.arith.help")),
            "layer": st.column_config.TextColumn(tr("ex.col.layer"), width="medium"),
            "type": st.column_config.TextColumn(tr("ex.col.type")),
            "output": st.column_config.TextColumn(tr("ex.col.output")),
            "params": st.column_config.NumberColumn(tr("ex.col.params"), format="localized"),
            "macs": st.column_config.NumberColumn(tr("ex.col.macs"), format="localized"),
            "share": st.column_config.ProgressColumn(tr("ex.col.share"), format="percent", min_value=0.0,
                                                     max_value=1.0, help=tr("ex.col.share.help")),
        },
    )
    st.caption(tr("ex.table.caption", n=trace.totals.batch_size))


def collapse_panel(cfg, batch: int) -> None:
    """An input too small for the network: the layers that ran, the failed one marked ✕, as the
    diagram and the table (``cnnviz.inspect.collapse``), so the student sees where the side ran out."""
    cut = figures.collapse(cfg, batch)
    if cut is None:  # pragma: no cover - the trace refused this input, so the cut pass stops too
        return
    st.markdown(f"**{tr('quizfix.collapse.head')}**")
    st.caption(tr("quizfix.collapse.caption", layer=cut.failed))
    expand = state.get("expand")
    expand = expand if expand in list(schemas.EXPAND_MODES) + diagram.units(cut.trace) else "auto"
    left, right = st.columns([3.2, 1.3], gap="medium")
    with left:
        fig = figures.collapse_structure(cfg, batch, expand, lang())
        st.plotly_chart(fig, config=PLOT_CONFIG | {"displayModeBar": False}, key="explorer.collapse.diagram")
    with right:
        rows = figures.collapse_rows(cfg, batch, "leaves", lang())
        st.dataframe(rows, hide_index=True, width="stretch", height=min(35 * len(rows) + 38, 620),
                     column_order=("layer", "type", "output"),
                     column_config={"layer": st.column_config.TextColumn(tr("ex.col.layer")),
                                    "type": st.column_config.TextColumn(tr("ex.col.type")),
                                    "output": st.column_config.TextColumn(tr("ex.col.output"))})


@st.fragment
def panels(arch: str, trace) -> None:
    """The four views of one trace, one drawn at a time: a click sends one figure, not four.

    A fragment: the view switch, the diagram's expand choice and the table's view rerun this
    panel only, not the controls and totals above it. The view is a segmented control bound to
    the URL (``?view=rf``), so a teacher's link opens on the receptive field, in either language.
    """
    view = state.segmented("view", tr("ex.view"), format_func=lambda v: tr(f"ex.tab.{v}"),
                           label_visibility="collapsed")
    batch = trace.totals.batch_size
    if view == "structure":
        structure_tab(arch, trace)
    elif view == "flow":
        st.plotly_chart(figures.shape_flow(trace.config, batch, lang()), config=PLOT_CONFIG)
        st.caption(tr("ex.flow.caption"))
    elif view == "rf":
        st.plotly_chart(figures.rf_growth(trace.config, batch, lang()), config=PLOT_CONFIG)
        st.caption(tr("ex.rf.caption", side=trace.totals.min_side))
    else:
        table_tab(trace)
    # here, so that a fragment rerun (the view, the diagram's or the table's choice) reaches the URL
    state.sync(defaults=schemas.explorer_defaults(arch))


st.title(tr("ex.title"))
st.caption(tr("ex.intro"))
state.start()
values = controls()
arch = values["arch"]

trace, err, cfg = None, None, None
try:
    cfg = schemas.explorer_config(values)
    trace, err = try_trace(cfg, values["batch"])
except CnnvizError as e:  # e.g. a width divisor that leaves a layer no channels
    err = e

if err is not None:
    show_error(err)
    if isinstance(err, ShapeError) and err.min_side and err.min_side <= schemas.UI_MAX_SIDE:
        st.button(tr("ex.fix_side", side=err.min_side), on_click=use_side, args=(err.min_side,),
                  icon=":material/straighten:")
    if isinstance(err, ShapeError):
        collapse_panel(cfg, values["batch"])
    state.sync(defaults=schemas.explorer_defaults(arch))
else:
    metrics(trace)
    export_buttons(arch, trace.config)
    panels(arch, trace)
