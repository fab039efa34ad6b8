"""Convolution arithmetic, played out: the output-side formula with its numbers and the windows sliding.

Layout only: widgets (bound to the URL: ``?n=7&k=3&s=2&p=1&op=max``) → ``cnnviz.labs.convarith``
→ the formula (``st.latex``), the output side and the animated figure of
``cnnviz.viz.convarith``. A link can also open one layer of a traced network:
``?arch=alexnet&side=224&layer=features.0`` traces AlexNet at 224 and takes that layer's input
side, kernel, stride and padding (conv and pooling layers only; anything else is a warning).
Those three parameters are used once and then leave the URL, which from then on carries the
values themselves.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from cnnviz import urlstate
from cnnviz.errors import CnnvizError
from cnnviz.labs import convarith
from cnnviz.models.registry import get_config, list_models
from cnnviz.urlstate import ChoiceField, IntField, TextField
from cnnviz.viz import convarith as charts
from ui.common import arch_label, lang, show_error, tr, try_trace
from ui.schemas import UI_MAX_SIDE, UI_MIN_SIDE
from ui.widgets import PageState, field

PLOT = {"displaylogo": False}
_R = convarith.RANGES
SCHEMA = urlstate.Schema((
    IntField("n", 7, lo=_R["n"][0], hi=_R["n"][1]),
    IntField("k", 3, lo=_R["k"][0], hi=_R["k"][1]),
    IntField("s", 1, lo=_R["s"][0], hi=_R["s"][1]),
    IntField("p", 0, lo=_R["p"][0], hi=_R["p"][1]),
    IntField("d", 1, lo=_R["d"][0], hi=_R["d"][1]),
    ChoiceField("op", "conv", choices=convarith.OPS),
))
# "open a layer": read once, then dropped from the URL (the setting fields take over)
LAYER_SCHEMA = urlstate.Schema((
    ChoiceField("arch", "alexnet", choices=tuple(list_models())),
    IntField("side", 224, lo=UI_MIN_SIDE, hi=UI_MAX_SIDE),
    TextField("layer", "features.0"),
))
OPENED = "convarith.opened"  # session key: the layer the page was opened on, for its note

state = PageState("convarith", SCHEMA)


@st.cache_resource(max_entries=256, show_spinner=False)
def cached_figure(setting: convarith.Setting, language: str) -> go.Figure:
    """The figure is a pure function of the (frozen) setting and the language: one per class."""
    return charts.figure(convarith.arithmetic(setting), language)


def open_layer() -> None:
    """Apply ``arch``/``side``/``layer`` from the URL (if there) to the widgets, then drop them."""
    raw = {k: st.query_params.get_all(k) for k in LAYER_SCHEMA.names if k in st.query_params}
    if not raw:
        return
    for k in raw:
        del st.query_params[k]
    if "layer" not in raw or "arch" not in raw:
        st.warning(tr("convarith.layer.no_arch"), icon=":material/link_off:")
        return
    head, problems = urlstate.Schema((LAYER_SCHEMA.field("arch"),)).parse(raw)
    arch = head["arch"]
    own_side = min(max(get_config(arch).input_hw[0], UI_MIN_SIDE), UI_MAX_SIDE)
    values, more = LAYER_SCHEMA.parse(raw, {"side": own_side} | head)
    problems += more
    if problems:
        st.warning(urlstate.problems_text(problems, lang()), icon=":material/link_off:")
    side = values["side"]
    traced, err = try_trace(get_config(arch, input_hw=(side, side)))
    if err is not None:
        show_error(err)
        return
    try:
        record = convarith.find_layer(traced.layers, values["layer"])
        setting = convarith.from_layer(record)
    except CnnvizError as err:
        st.warning(err.render(lang()), icon=":material/warning:")
        return
    state.set(dict(n=setting.n, k=setting.k, s=setting.s, p=setting.p, d=setting.d, op=setting.op))
    st.session_state[OPENED] = dict(arch=arch, side=side, layer=record.name, type=record.type, setting=setting,
                                    out=tuple(record.output_shape[-2:]))


def controls() -> convarith.Setting | None:
    """The setting widgets; the setting they describe, or None (the error is shown)."""
    with st.container(border=True):
        op = state.segmented("op", tr("convarith.op"), format_func=lambda o: tr(f"convarith.op.{o}"))
        n, k, s, p, d = state.row(*(field("number", f, tr(f"convarith.{f}")) for f in "nksp"),
                                  field("number", "d", tr("convarith.d"), disabled=op != "conv"))  # pools: no dilation
    state.sync()
    try:
        return convarith.Setting(n=int(n), k=int(k), s=int(s), p=int(p), d=int(d) if op == "conv" else 1, op=op)
    except CnnvizError as err:
        show_error(err)
        return None


# --- page ----------------------------------------------------------------------------------------------
st.title(tr("convarith.title"))
st.markdown(tr("convarith.intro"))
open_layer()
state.start()
setting = controls()
opened = st.session_state.get(OPENED)
if setting is not None and opened and opened["setting"] == setting:
    st.info(tr("convarith.layer.opened", layer=opened["layer"], type=opened["type"], arch=arch_label(opened["arch"]),
               side=opened["side"]), icon=":material/input:")
    st.caption(tr("convarith.layer.trace_out", h=opened["out"][0], w=opened["out"][1]))
if setting is not None:
    a = convarith.arithmetic(setting)
    st.latex(a.formula_latex(lang()))
    c = st.columns(2)
    c[0].metric(tr("convarith.out_side"), a.out if a.fits else 0)
    c[1].metric(tr("convarith.windows"), a.count)
    if a.fits:
        st.success(a.explain(lang()), icon=":material/grid_on:")
    else:
        st.warning(a.explain(lang()), icon=":material/crop_free:")
    if setting.n > convarith.CELL_SIDE:
        st.caption(tr("convarith.to_scale", cells=convarith.CELL_SIDE))
    st.plotly_chart(cached_figure(setting, lang()), config=PLOT, key="convarith.fig")
