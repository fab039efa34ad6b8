"""Compare: every registered architecture at one input size, side by side.

Layout only: side/channels/batch (bound to the URL) → one trace per preset → a table and
log-scale bar charts. A network that does not fit the chosen side gets a note with its
smallest valid input instead of failing the page.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.models.registry import model_spec
from ui import figures, schemas
from ui.common import lang, tr
from ui.widgets import PageState

PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

state = PageState("compare", schemas.compare_schema())

st.title(tr("cmp.page.title"))
st.caption(tr("cmp.page.intro"))
state.start()
with st.container(border=True):
    a, b, c = st.columns([3, 1.4, 1], gap="medium")
    with a:
        side = state.slider("side", tr("ex.side"), help=tr("cmp.side.help"))
    with b:
        ch = state.radio("ch", tr("ex.ch"), format_func=lambda v: tr(f"ex.ch.{v}"))
    with c:
        batch = state.number("batch", tr("ex.batch"), help=tr("ex.batch.help"))
state.sync()

rows = figures.comparison(side, ch, batch, lang())  # computed once per setting for the whole class

table = [{
    "arch": r.label, "params": r.params, "macs": r.macs,
    "mem": r.act_bytes / 2**20 if r.act_bytes is not None else None, "depth": r.depth,
    "year": model_spec(r.name).year,
    "note": "" if r.params is not None else tr("cmp.too_small", side=r.min_side if r.min_side else "?"),
} for r in rows]
if not any(row["note"] for row in table):  # every network fits this side: no empty column
    for row in table:
        del row["note"]
st.dataframe(
    table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3,  # every row, no scrolling
    column_config={
        "arch": st.column_config.TextColumn(tr("cmp.col.arch"), width="medium", pinned=True),
        "year": st.column_config.NumberColumn(tr("cmp.col.year"), format="%d", width="small"),
        # "compact" (11.3B rather than 11,258,859,530) reads from the back of a classroom; hover for exact
        "params": st.column_config.NumberColumn(tr("cmp.params"), format="compact"),
        "macs": st.column_config.NumberColumn(tr("cmp.col.macs"), format="compact"),
        "mem": st.column_config.NumberColumn(tr("cmp.col.mem", n=batch), format="%.1f MiB"),
        "depth": st.column_config.NumberColumn(tr("cmp.col.depth"), format="%d", help=tr("cmp.depth")),
        "note": st.column_config.TextColumn(tr("cmp.col.note"), width="medium"),
    },
)
too_small = [r for r in rows if r.params is None]
if too_small:
    st.info(tr("cmp.some_missing", names=", ".join(r.label for r in too_small), side=side),
            icon=":material/info:")
if len(too_small) < len(rows):
    bars, scatter = figures.comparison_figures(side, ch, batch, lang())
    st.plotly_chart(bars, config=PLOT_CONFIG)
    st.caption(tr("cmp.bars.caption"))
    st.plotly_chart(scatter, config=PLOT_CONFIG)
    st.caption(tr("cmp.scatter.caption"))
