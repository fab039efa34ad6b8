"""Gradient-flow lab: a deep plain net against the same net with residual connections (§6.4).

Layout only: widgets → ``GradFlowConfig`` → a "gradflow" job on the scheduler (``ui.jobs.submit``:
it runs the paired run of ``cnnviz.labs.gradflow`` in a worker process of the shared pool; an
identical request of another student attaches to it). The session keeps the run id in
``st.session_state``; a fragment polls the job's stored events once a second while it runs
and draws the figures of ``cnnviz.viz.labs``. Beside it, the seed's derivation.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.labs.gradflow import VARIANTS, GradFlowConfig, norm_matrix, path_layers, summary_rows
from cnnviz.status import FINISHED, Status
from cnnviz.viz import labs as lc
from ui import jobs
from ui.common import dataset_label, lang, show_error, tr
from ui.schemas import gradflow_schema
from ui.widgets import PageState, field

JOB = "gf.run_id"  # session key of this session's job (its run id)
PLOT = {"displaylogo": False}
state = PageState("gradflow", gradflow_schema())  # widget keys "gradflow.<field>"


def controls() -> GradFlowConfig | None:
    """The settings (bound to the URL: ``?depth=15&bn=1``); ``None`` (with the error shown) when they cannot work."""
    resnet18, bn = state.row(field("toggle", "r18", tr("lab.grad.resnet18"), help=tr("lab.grad.resnet18_help")),
                             field("toggle", "bn", tr("lab.grad.batch_norm")))
    if resnet18:  # a disabled slider would still show its own depth, not ResNet-18's
        st.caption(tr("lab.grad.depth_resnet18"))
        depth = 31  # unused: the stages set the depth
    else:
        # odd depths only (the stem plus two convs per block): the field's grid is the slider's step
        depth = state.slider("depth", tr("lab.grad.depth"),
                             help=tr("lab.grad.depth_help"))
    with st.expander(tr("lab.advanced")):
        steps, width, side, lr = state.row(
            field("slider", "steps", tr("lab.steps")), field("select_slider", "width", tr("lab.grad.width")),
            field("select_slider", "side", tr("lab.grad.side")), field("select_slider", "lr", tr("lab.lr")))
        init, batch, seed, dataset = state.row(
            field("selectbox", "init", tr("lab.grad.init"), format_func=lambda i: tr(f"lab.grad.init.{i}")),
            field("select_slider", "batch", tr("lab.batch_size")), field("number", "seed", tr("lab.seed")),
            field("selectbox", "data", tr("lab.dataset"), format_func=dataset_label))
    try:
        return GradFlowConfig(depth=int(depth), resnet18=resnet18, batch_norm=bn, width=int(width), side=int(side),
                              steps=int(steps), lr=float(lr), init=init, batch_size=int(batch), seed=int(seed),
                              dataset=dataset)
    except CnnvizError as err:
        show_error(err)
        return None


def start(cfg: GradFlowConfig) -> None:
    try:
        jobs.submit(JOB, "gradflow", cfg.to_dict())
    except CnnvizError as err:
        st.session_state["gf._error"] = err


def derivation() -> None:
    """The seed's §6.4, formulas by ``st.latex``, prose in the reader's language."""
    st.markdown(f"**{tr('lab.grad.why')}**")
    st.markdown(tr("lab.grad.why1"))
    st.latex(r"y = f(x),\qquad w \leftarrow w - \eta\,\frac{\partial \ell}{\partial w}")
    st.latex(r"y' = g(f(x))")
    st.latex(r"\frac{\partial y'}{\partial w} = \frac{\partial y'}{\partial y}\,\frac{\partial y}{\partial w}"
             r" = \frac{\partial g(y)}{\partial y}\,\frac{\partial y}{\partial w}")
    st.markdown(tr("lab.grad.why2"))
    st.latex(r"y'' = f(x) + g(f(x)) = y + y'")
    st.latex(r"\frac{\partial y''}{\partial w} = \frac{\partial y}{\partial w} + \frac{\partial y'}{\partial w}")
    st.markdown(tr("lab.grad.why3"))
    st.caption(tr("quizfix.grad.bn_note"))


def render(rid: str, show: list[str]) -> None:
    """Status, the numbers, and the charts of the job ``rid`` (queued, running or finished)."""
    info = jobs.info(rid)
    if info is None or st.session_state.get(JOB) != rid:  # deleted, or left: the app reruns at once
        return
    jobs.notes(JOB)
    try:
        cfg = GradFlowConfig.from_dict(info.config)
    except CnnvizError as err:
        show_error(err)
        return
    series = jobs.pair_series(rid, VARIANTS)
    done = [len(s.steps) for s in series.values()]
    step = min(done) if done else 0
    if not jobs.status(JOB, info, step, cfg.steps, stop_key="gf.stop"):
        return
    for name, s in series.items():
        if s.status not in (Status.RUNNING, *FINISHED) and s.message:
            st.warning(tr("lab.variant_ended", variant=lc.variant_name(name, lang()),
                          message=s.message.get(lang()) or s.message.get("en", "")))
    if step == 0:
        return
    layers = path_layers(series)
    shown = {v: series[v] for v in VARIANTS if v in show}
    # which step the depth chart shows: the latest while training, any once finished
    pick = step
    if not info.live and step > 1:
        pick = st.slider(tr("lab.grad.step_pick"), 1, step, step, key=f"gf.pick.{rid}")  # per job: ranges differ
    idx = pick - 1
    rows = summary_rows(series, idx)
    st.dataframe([{tr("lab.grad.table.variant"): lc.variant_name(r["variant"], lang()),
                   tr("lab.grad.table.first"): f"{r['first']:.2e}", tr("lab.grad.table.last"): f"{r['last']:.2e}",
                   tr("lab.grad.table.ratio"): f"{r['ratio']:.2e}", tr("lab.grad.table.loss"): round(r["loss"], 4)}
                  for r in rows], hide_index=True)
    ratios = {r["variant"]: r for r in rows}
    if "plain" in ratios and "residual" in ratios:
        p, r = ratios["plain"], ratios["residual"]
        key = "lab.grad.verdict_zero" if p["first"] == 0 else "lab.grad.verdict"
        st.markdown(tr(key, step=pick, plain=p["ratio"], res=r["ratio"]))
    if shown:
        norms = {v: [s.grad_norms[idx].get(n, float("nan")) for n in layers] for v, s in shown.items()}
        st.plotly_chart(lc.gradflow_depth(norms, layers, pick, lang()), config=PLOT, key="gf.depth_fig")
        mats = {v: norm_matrix(s, layers) for v, s in shown.items()}
        zr = lc.log_range(list(mats.values()))
        cols = st.columns(len(shown))
        for col, (v, s) in zip(cols, shown.items()):
            with col:
                st.plotly_chart(lc.gradflow_heatmap(mats[v], layers, s.steps, v, lang(), zr), config=PLOT,
                                key=f"gf.heat.{v}")
        st.plotly_chart(lc.variant_curves({v: (s.steps, s.loss) for v, s in shown.items()}, "loss", lang()),
                        config=PLOT, key="gf.loss_fig")
    st.caption(tr("lab.paired_note"))


# --- page ----------------------------------------------------------------------------------------
st.title(tr("lab.grad.title"))
st.markdown(tr("lab.grad.intro"))
main, side = st.columns([3, 2], gap="large")
with side:
    derivation()
with main:
    state.start()  # the link (or the last visit) → the widgets, with a warning about bad values
    cfg = controls()
    joined = jobs.gate("gf")  # a visitor of a class with a join code: the form, and Run disabled
    c = st.columns([1, 3], vertical_alignment="bottom")
    # the return value, not on_click: a callback would get the config of the previous run of the script
    if c[0].button(tr("lab.run"), type="primary", disabled=cfg is None or not joined, key="gf.run",
                   icon=":material/play_arrow:", help=None if joined else tr("ident.start_disabled")):
        start(cfg)
    show = c[1].pills(tr("lab.grad.show"), VARIANTS, default=list(VARIANTS), selection_mode="multi", key="gf.show",
                      format_func=lambda v: lc.variant_name(v, lang()))
    err = st.session_state.pop("gf._error", None)
    if err is not None:
        show_error(err)
state.sync()  # the settings → the URL (only those that differ from the defaults)
job = jobs.current(JOB)
if job is None:
    jobs.notes(JOB)  # e.g. "you left this run" after a Stop on a shared one
    st.caption(tr("lab.none_yet"))
else:
    # when the run ends, one full rerun stops the polling and unlocks the step slider
    jobs.live("gf._live", job.id, lambda: jobs.watching(JOB, job.id), lambda: render(job.id, list(show or [])))
