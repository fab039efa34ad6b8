"""VGG designer: build a VGG from blocks and watch the shapes and the parameters move.

Layout only: preset buttons and per-block sliders (bound to the URL) → ``VGGConfig`` →
trace → the halving of the map, the shape flow, and where the parameters sit compared with
AlexNet and NiN (the seed's point: the dense head holds most of them, and NiN drops it).
"""

from __future__ import annotations

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.models.registry import get_config
from cnnviz.models.vgg import block_sides
from cnnviz.viz import explore as charts
from ui import downloads, figures, schemas
from ui.common import arch_label, arch_short, fmt_count, lang, show_error, tr, try_trace
from ui.widgets import PageState

PLOT_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
REFERENCES = ("alexnet", "nin")  # drawn beside the design in the parameter split

state = PageState("designer", schemas.designer_schema())
PRESETS = schemas.designer_presets()


def apply_preset(name: str) -> None:
    """A preset button: fill the block count and every block's sliders."""
    arch = PRESETS[name]
    state.set({"blocks": len(arch), "convs": tuple(n for n, _ in arch), "chans": tuple(c for _, c in arch)})


def seed_new_blocks(n: int) -> None:
    """Blocks added with the block slider start like the block before them, with twice its
    channels (capped at 512, as VGG does)."""
    for i in range(1, n):
        if state.key("convs", i) not in st.session_state:
            st.session_state[state.key("convs", i)] = st.session_state[state.key("convs", i - 1)]
        if state.key("chans", i) not in st.session_state:
            prev = st.session_state[state.key("chans", i - 1)]
            st.session_state[state.key("chans", i)] = min(prev * 2, 512)


def presets() -> None:
    """One button per preset, across the page."""
    cols = st.columns([0.8] + [1] * len(PRESETS), vertical_alignment="center")
    cols[0].markdown(f"**{tr('de.presets')}**")
    for col, name in zip(cols[1:], PRESETS):
        col.button(arch_short(name), key=f"designer.preset.{name}", on_click=apply_preset, args=(name,),
                   width="stretch")


def controls() -> tuple[tuple[tuple[int, int], ...], dict]:
    """The block sliders and the input; returns ``conv_arch`` and the page's values."""
    blocks = state.slider("blocks", tr("de.blocks"), help=tr("de.blocks.help"))
    seed_new_blocks(blocks)
    widths = [0.55, 1, 1.5]
    head = st.columns(widths)
    head[0].caption(tr("de.col.block"))
    head[1].caption(tr("de.col.convs"))
    head[2].caption(tr("de.col.chans"))
    for i in range(blocks):
        a, b, c = st.columns(widths, vertical_alignment="center")
        a.markdown(f"**{i + 1}**")
        with b:
            state.slider("convs", tr("de.convs", i=i + 1), i=i, label_visibility="collapsed")
        with c:
            state.select_slider("chans", tr("de.chans", i=i + 1), i=i, label_visibility="collapsed")
    st.divider()
    state.slider_box("side", tr("de.side"), tr("quizfix.side.box"), tr("quizfix.side.box.help"))
    a, b = st.columns(2)
    with a:
        state.radio("ch", tr("ex.ch"), format_func=lambda v: tr(f"ex.ch.{v}"))
    with b:
        state.select_slider("fc", tr("de.fc"), help=tr("de.fc.help"))
    values = state.values(list_lengths={"convs": blocks, "chans": blocks})
    return schemas.designer_arch(values), values


def matching_preset(arch: tuple[tuple[int, int], ...]) -> str | None:
    return next((name for name, a in PRESETS.items() if tuple(a) == tuple(arch)), None)


def export_buttons(cfg, name: str | None) -> None:
    """The design as plain PyTorch (``ui.downloads``)."""
    downloads.export_buttons(cfg, name, name or "vgg_custom", (1, 1, 0.8))


def results(arch, values) -> None:
    side = values["side"]
    match = matching_preset(arch)
    st.markdown(f"#### {tr('de.is', name=arch_label(match)) if match else tr('de.custom')}")
    st.caption(tr("de.halving", steps=" → ".join(str(s) if s >= 1 else "0 ✗" for s in block_sides(side, len(arch)))))
    try:
        cfg = get_config("vgg11").replace(conv_arch=arch, input_hw=(side, side), in_channels=values["ch"],
                                          fc_width=values["fc"])
        trace, err = try_trace(cfg)
    except CnnvizError as e:
        trace, err = None, e
    if err is not None:
        # the map collapsed: the library's ShapeError says which layer and why
        st.warning(tr("de.collapsed", n=len(arch), side=side), icon=":material/warning:")
        show_error(err)
        return
    split = charts.param_split(trace)
    flat = next((r for r in trace.leaves() if r.kind == "flatten"), None)
    cols = st.columns(4)
    cols[0].metric(tr("ex.m.params"), fmt_count(split.total), help=f"{split.total:,}")
    cols[1].metric(tr("de.m.conv"), fmt_count(split.conv), help=f"{split.conv:,}")
    cols[2].metric(tr("de.m.dense"), fmt_count(split.dense), help=f"{split.dense:,}")
    cols[3].metric(tr("de.m.share"), f"{100 * split.dense_share:.0f}%")
    export_buttons(cfg, match if match and cfg == get_config(match) else None)
    if flat is not None:
        st.caption(tr("de.flatten", shape="×".join(map(str, flat.input_shape)), n=f"{flat.output_shape[0]:,}",
                      fc=values["fc"], w=f"{flat.output_shape[0] * values['fc']:,}"))
    st.plotly_chart(figures.shape_flow(cfg, 1, lang(), "de.flow.title"), config=PLOT_CONFIG)

    missing = []
    for name in REFERENCES:
        ref = get_config(name).replace(input_hw=(side, side), in_channels=values["ch"])
        rt, rerr = try_trace(ref)
        if rt is None:
            missing.append(tr("de.ref_missing", arch=arch_label(name), side=getattr(rerr, "min_side", "?")))
    st.plotly_chart(figures.param_split(cfg, tuple(REFERENCES), lang()), config=PLOT_CONFIG)
    st.caption(tr("de.split.caption", side=side))
    for m in missing:
        st.caption(m)


st.title(tr("de.title"))
st.caption(tr("de.intro"))
state.start()
presets()
left, right = st.columns([1, 2.1], gap="large")
with left:
    with st.container(border=True):
        arch, values = controls()
with right:
    results(arch, values)
state.sync(values)
