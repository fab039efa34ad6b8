"""Inception and NiN cost lab (§3, §4): what the 1×1 convolutions save.

Layout only: sliders → ``cnnviz.labs.costlab`` (closed-form arithmetic) → tables and the figures
of ``cnnviz.viz.labs``; each section also shows the cross-check against torchinfo's
counts (the real Inception module, the traced networks).
"""

from __future__ import annotations

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.labs import costlab
from cnnviz.models.registry import get_config
from ui import figures
from ui.common import arch_label, fmt_count, lang, show_error, tr, try_trace
from ui.schemas import costlab_schema
from ui.widgets import PageState, field

PLOT = {"displaylogo": False}
# both sections' settings in one query string (``?c2r=400&nside=96``); widget keys "costlab.<field>"
state = PageState("costlab", costlab_schema())


@st.cache_data(show_spinner=False, max_entries=256)
def torchinfo_counts(cin: int, c1: int, c2: tuple, c3: tuple, c4: int, side: int) -> dict:
    """torchinfo's per-path counts of the real module (meta device, ~50 ms): cached per setting."""
    return costlab.torchinfo_inception(cin, c1, c2, c3, c4, side)


def _counts(cols) -> dict:
    """Column formats: integer counts with thousands separators."""
    return {tr(f"lab.cost.col.{c}"): st.column_config.NumberColumn(format="localized") for c in cols}


@st.fragment  # its sliders rerun this section, not the page
def inception_section() -> None:
    st.subheader(tr("lab.cost.inception"))
    st.caption(tr("lab.cost.book"))
    cin, side, c1, c4 = state.row(*(field("number", k, tr(f"lab.cost.{k}")) for k in ("cin", "side", "c1", "c4")))
    c2r, c2, c3r, c3 = state.row(*(field("slider", k, tr(f"lab.cost.{k}")) for k in ("c2r", "c2", "c3r", "c3")))
    state.sync()  # a fragment rerun does not reach the page's sync: write the URL here (before any early return)
    spec = dict(cin=int(cin), c1=int(c1), c2=(int(c2r), int(c2)), c3=(int(c3r), int(c3)), c4=int(c4), side=int(side))
    try:
        costs = costlab.inception_costs(**spec)
        ti = torchinfo_counts(**spec)
    except CnnvizError as err:
        show_error(err)
        return
    st.caption(tr("lab.cost.out_channels", n=costs.out_channels))
    rows = costs.rows()
    cols = ("weights", "params", "macs", "macs_ti")
    st.dataframe([{tr("lab.cost.col.what"): tr(f"lab.cost.row.{r['key']}"), tr("lab.cost.col.weights"): r["weights"],
                   tr("lab.cost.col.params"): r["params"], tr("lab.cost.col.macs"): r["macs"],
                   tr("lab.cost.col.macs_ti"): r["macs_torchinfo"]} for r in rows], hide_index=True,
                 column_config=_counts(cols))
    total, nb = costs.total, costs.total_no_bottleneck
    if nb.params > total.params:
        st.markdown(tr("lab.cost.saving", params=fmt_count(nb.params - total.params), pct=1 - total.params / nb.params,
                       macs=fmt_count(nb.macs - total.macs), r3=costs.single[3].macs / total.macs,
                       r5=costs.single[5].macs / total.macs))
    else:
        st.markdown(tr("lab.cost.saving_none"))
    st.plotly_chart(figures.inception_bars(rows, lang()), config=PLOT, key="cl.bars")
    closed = {p: (c.params, c.macs_torchinfo) for p, c in costs.branches.items()}
    if closed == ti:
        st.success(tr("lab.cost.check_ok"), icon="✅")
    else:
        st.error(tr("lab.cost.check_bad", ti=ti, cf=closed))


@st.fragment
def nin_section() -> None:
    st.subheader(tr("lab.cost.nin"))
    side, classes, cin = state.row(field("select_slider", "nside", tr("lab.cost.net_side")),
                                   field("select_slider", "classes", tr("lab.cost.classes")),
                                   field("radio", "ncin", tr("lab.cost.cin")))
    state.sync()  # as in inception_section: this fragment's reruns write the URL themselves
    try:
        h = costlab.nin_vs_alexnet(side=int(side), in_channels=int(cin), num_classes=int(classes))
    except CnnvizError as err:
        show_error(err)
        return
    st.markdown(tr("lab.cost.nin_intro", flat=f"{h.alexnet_flat:,}"))
    parts = {arch_label("alexnet"): (h.alexnet_features.params, h.alexnet_head.params),
             arch_label("nin"): (h.nin_features.params, h.nin_head.params)}
    st.plotly_chart(figures.head_bars(parts, lang()), config=PLOT, key="cl.head")
    st.markdown(tr("lab.cost.head_summary", a_head=fmt_count(h.alexnet_head.params),
                   a_pct=h.alexnet_head.params / h.alexnet_total.params, n_head=fmt_count(h.nin_head.params),
                   ratio=h.alexnet_head.params / h.nin_head.params, ones=fmt_count(h.nin_one_by_one.params)))
    table = []
    for net, feats, head in (("alexnet", h.alexnet_features, h.alexnet_head), ("nin", h.nin_features, h.nin_head)):
        for part, cost in (("features", feats), ("head", head)):
            table.append({tr("lab.cost.col.net"): arch_label(net), tr("lab.cost.col.part"): tr(f"lab.cost.{part}"),
                          tr("lab.cost.col.params"): cost.params, tr("lab.cost.col.macs_ti"): cost.macs_torchinfo})
    st.dataframe(table, hide_index=True, column_config=_counts(("params", "macs_ti")))
    # cross-check the closed form against the traced networks (torchinfo on the meta device)
    ok = True
    for net, total in (("alexnet", h.alexnet_total), ("nin", h.nin_total)):
        tr_, err = try_trace(get_config(net, input_hw=(int(side), int(side)), in_channels=int(cin),
                                        num_classes=int(classes)))
        if err is not None:
            show_error(err)
            return
        got = (tr_.totals.params, tr_.totals.macs)
        if got != (total.params, total.macs_torchinfo):
            ok = False
            st.error(tr("lab.cost.trace_bad", name=arch_label(net), ti=got, cf=(total.params, total.macs_torchinfo)))
    if ok:
        st.success(tr("lab.cost.trace_ok"), icon="✅")


# --- page ----------------------------------------------------------------------------------------------
st.title(tr("lab.cost.title"))
st.markdown(tr("lab.cost.intro"))
st.latex(r"\text{params} = k^2\,c_\text{in}\,c_\text{out} + c_\text{out},\qquad "
         r"\text{MACs} = k^2\,c_\text{in}\,c_\text{out}\cdot H\,W")
state.start()  # full runs only: seeds both fragments' widgets from the link (or the last visit)
inception_section()
st.divider()
nin_section()
state.sync()
