"""Compare: every registered architecture at one input size, side by side.

Layout only: side/channels/batch (bound to the URL) → one trace per preset → a table and
log-scale bar charts. A network that does not fit the chosen side gets a note with its
smallest valid input instead of failing the page. The table's last columns are measured, not
computed: each architecture's class-period run on this server (``cnnviz.runs.measured``,
read through ``ui.figures.measured_runs``, at most once per few seconds for the whole class);
a store that cannot be read leaves them out with one note.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.models.registry import model_spec
from cnnviz.runs.measured import label as measured_label
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
        side = state.slider_box("side", tr("ex.side"), tr("quizfix.side.box"), tr("quizfix.side.box.help"),
                                help=tr("cmp.side.help"))
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
done, store_err = figures.measured_runs()  # arch → its class-period run here; or why the store can't tell
if store_err is None:
    for r, row in zip(rows, table, strict=True):
        m = done.get(r.name)
        row.update(speed=m.examples_per_s if m else None, acc=m.test_acc if m else None,
                   where=measured_label(m, lang()) if m else tr("cmp.meas.none"))
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
        "speed": st.column_config.NumberColumn(tr("cmp.meas.col.speed"), format="compact",
                                               help=tr("cmp.meas.col.speed.help")),
        "acc": st.column_config.NumberColumn(tr("cmp.meas.col.acc"), format="percent",
                                             help=tr("cmp.meas.col.acc.help")),
        "where": st.column_config.TextColumn(tr("cmp.meas.col.where"), width="large",
                                             help=tr("cmp.meas.col.where.help")),
    },
)
if store_err is None:
    st.caption(tr("cmp.meas.caption"))
else:
    st.warning(tr("cmp.meas.unavailable", error=store_err.render(lang())), icon=":material/warning:")
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
