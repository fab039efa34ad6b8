"""BatchNorm lab (§5): the seed's layer against PyTorch's, training with and without BN, the
two modes, and the noise of batch statistics.

Layout only: widgets → ``cnnviz.labs.bnlab`` → figures of ``cnnviz.viz.labs``. The paired
LeNet run is a "bnpair" job on the scheduler (``ui.jobs.submit``: a worker process of the
shared pool runs it; identical requests share it), its run id kept in the session and its
stored events (curves, and the activation statistics as "stats" events) polled by a
fragment; the other three tabs compute in well under a second and run inline.
"""

from __future__ import annotations

import streamlit as st
import torch

from cnnviz.errors import CnnvizError
from cnnviz.labs import bnlab
from cnnviz.train.data import DataConfig, load_data, prepare
from cnnviz.viz import labs as lc
from ui import jobs
from ui.common import dataset_label, lang, show_error, tr
from ui.schemas import batchnorm_schema
from ui.widgets import PageState, field, keep_choices

JOB = "bn.run_id"  # session key of this session's paired job (its run id)
PLOT = {"displaylogo": False}
# every tab's settings, in one query string (``?tsteps=40&mom=0.3``); widget keys "batchnorm.<field>"
state = PageState("batchnorm", batchnorm_schema())


@st.cache_resource(show_spinner=False, max_entries=4)
def _features(dataset: str, n: int = 2048):
    data = load_data(DataConfig(dataset=dataset))
    return bnlab.conv_features(prepare(data.train_x[:n], (28, 28), 1)), data.notice


def features(dataset: str) -> torch.Tensor:
    """``2048 x 6 x 24 x 24``: LeNet's first conv (seeded) on training images; read-only, shared.

    Says so when the dataset was replaced by the synthetic one (files missing, offline).
    """
    x, notice = _features(dataset)
    if notice is not None:
        st.caption(notice.render(lang()))
    return x


# --- tab 1: from scratch against nn.BatchNorm2d ----------------------------------------------------
def scratch_tab() -> None:
    st.markdown(tr("lab.bn.scratch_intro"))
    st.latex(r"\hat{x} = \frac{x - \hat{\mu}_B}{\sqrt{\hat{\sigma}_B^2 + \epsilon}},\qquad "
             r"y = \gamma \odot \hat{x} + \beta,\qquad \hat{\mu}_B = \frac{1}{|B|}\sum_{x \in B} x,\quad "
             r"\hat{\sigma}_B^2 = \frac{1}{|B|}\sum_{x \in B}(x - \hat{\mu}_B)^2")
    n, ch, side, steps, seed = state.row(
        field("select_slider", "n", "N", help=tr("lab.bn.shape")), field("select_slider", "c", "C"),
        field("select_slider", "hw", "H = W"), field("slider", "steps", tr("lab.steps")),
        field("number", "seed", tr("lab.seed")))
    try:
        cmp = bnlab.compare_batchnorm(n=n, c=ch, h=side, w=side, steps=steps, seed=int(seed))
    except CnnvizError as err:
        show_error(err)
        return
    m = st.columns([1, 3], vertical_alignment="center")
    m[0].metric(tr("lab.bn.max_diff"), f"{cmp.max_diff:.2e}")
    with m[1]:
        if cmp.max_diff < 1e-4:
            st.success(tr("lab.bn.equal"), icon="✅")
        else:
            st.warning(tr("lab.bn.not_equal", diff=cmp.max_diff))
        st.caption(tr("lab.bn.out_moments", mean=cmp.out_mean, std=cmp.out_std))
    rows = [(tr("lab.bn.cmp.train_out", i=i + 1), d) for i, d in enumerate(cmp.train_out)]
    rows += [(tr("lab.bn.cmp.grad_in", i=i + 1), d) for i, d in enumerate(cmp.train_grad_in)]
    rows += [(tr(f"lab.bn.cmp.{k}"), getattr(cmp, k))
             for k in ("grad_gamma", "grad_beta", "running_mean", "running_var", "eval_out")]
    st.dataframe([{tr("lab.bn.cmp.what"): k, tr("lab.bn.cmp.diff"): f"{v:.2e}"} for k, v in rows], hide_index=True)


# --- tab 2: the paired LeNet run ----------------------------------------------------------------------
def train_tab() -> None:
    st.markdown(tr("lab.bn.train_intro"))
    steps, lr, batch, impl, dataset = state.row(
        field("slider", "tsteps", tr("lab.steps")), field("select_slider", "tlr", tr("lab.lr")),
        field("select_slider", "tbatch", tr("lab.batch_size")),
        field("selectbox", "impl", tr("lab.bn.impl"), format_func=lambda i: tr(f"lab.bn.impl.{i}")),
        field("selectbox", "tdata", tr("lab.dataset"), format_func=dataset_label))
    joined = jobs.gate("bn")  # a visitor of a class with a join code: the form, and Run disabled
    if st.button(tr("lab.run"), type="primary", key="bn.t.run", icon=":material/play_arrow:", disabled=not joined,
                 help=None if joined else tr("ident.start_disabled")):
        try:
            cfg = bnlab.BNPairConfig(steps=int(steps), lr=float(lr), batch_size=int(batch), bn_impl=impl,
                                     dataset=dataset)
            jobs.submit(JOB, "bnpair", cfg.to_dict())
        except CnnvizError as err:
            show_error(err)
    job = jobs.current(JOB)
    if job is None:
        jobs.notes(JOB)
        st.caption(tr("lab.none_yet"))
        return
    jobs.live("bn._live", job.id, lambda: jobs.watching(JOB, job.id), lambda: render_pair(job.id))


@st.cache_resource(show_spinner=False, max_entries=32)
def _stats(rid: str, n: int):
    """The recorders' statistics of a job's first ``n`` events: folded once per process and count."""
    return bnlab.stats_from_events(jobs.events(rid)[:n])


def render_pair(rid: str) -> None:
    """Progress, the overlaid curves and the activation statistics of a paired LeNet job."""
    info = jobs.info(rid)
    if info is None or st.session_state.get(JOB) != rid:  # deleted, or left: the app reruns at once
        return
    jobs.notes(JOB)
    try:
        cfg = bnlab.BNPairConfig.from_dict(info.config)
    except CnnvizError as err:
        show_error(err)
        return
    series = jobs.pair_series(rid, bnlab.BN_VARIANTS)
    step = min((len(s.steps) for s in series.values()), default=0)
    if not jobs.status(JOB, info, step, cfg.steps, stop_key="bn.stop"):
        return
    if step == 0:
        return
    for name, s in series.items():
        test = f"{s.test_acc:.1%}" if s.test_acc is not None else "—"
        st.markdown(tr("lab.bn.result", variant=lc.variant_name(name, lang()), loss=s.loss[-1], acc=s.train_acc[-1],
                       test=test))
    c = st.columns(2)
    for col, metric in zip(c, ("loss", "train_acc")):
        col.plotly_chart(lc.variant_curves({n: (s.steps, getattr(s, metric)) for n, s in series.items()},
                                           metric, lang()),
                         config=PLOT, key=f"bn.curve.{metric}")
    snaps, labels, edges = _stats(rid, len(jobs.events(rid)))
    if not snaps:
        return  # the first statistics arrive after a few steps
    st.plotly_chart(lc.activation_stats(snaps, labels, lang()), config=PLOT, key="bn.stats")
    first = next(iter(snaps.values()))
    layers = list(first)
    hist_steps = first[layers[0]].hist_steps if layers else []
    if not hist_steps:
        return
    c = st.columns(2)
    keep_choices("bn.hist_layer", layers)
    layer = c[0].selectbox(tr("lab.bn.hist_layer"), layers, key="bn.hist_layer", format_func=lambda n: labels.get(n, n))
    if info.live or len(hist_steps) < 2:
        pick = len(hist_steps) - 1
    else:
        pick = c[1].select_slider(tr("lab.bn.hist_step"), list(range(len(hist_steps))), len(hist_steps) - 1,
                                  key=f"bn.hist_step.{rid}", format_func=lambda i: str(hist_steps[i] + 1))
    hists = {}
    for n, snap in snaps.items():
        rec = snap.get(layer)
        if rec and rec.hists:
            i = min(pick, len(rec.hists) - 1)
            hists[n] = (rec.hists[i], rec.hist_steps[i] + 1)
    st.plotly_chart(lc.activation_hist(hists, edges, labels.get(layer, layer), lang()), config=PLOT, key="bn.hist")


# --- tab 3: batch statistics against running statistics ---------------------------------------------
def modes_tab() -> None:
    st.markdown(tr("lab.bn.modes_intro"))
    st.latex(r"\text{running} \leftarrow (1 - m)\cdot\text{running} + m\cdot\text{batch}")
    batch, steps, momentum, dataset = state.row(
        field("select_slider", "mbatch", tr("lab.batch_size")), field("slider", "msteps", tr("lab.steps")),
        field("select_slider", "mom", tr("lab.bn.momentum")),
        field("selectbox", "mdata", tr("lab.dataset"), format_func=dataset_label))
    try:
        res = bnlab.batch_vs_running(features(dataset), batch_size=int(batch), steps=int(steps),
                                     momentum=float(momentum))
    except CnnvizError as err:
        show_error(err)
        return
    st.plotly_chart(lc.running_stats_figure(res.history, lang()), config=PLOT, key="bn.running")
    m = st.columns(3)
    m[0].metric(tr("lab.bn.train_vs_eval"), f"{res.train_vs_eval:.3e}")
    m[1].metric(tr("lab.bn.companions_train"), f"{res.companions_train:.3e}")
    m[2].metric(tr("lab.bn.companions_eval"), f"{res.companions_eval:.3e}")
    st.caption(tr("lab.bn.modes_note"))
    st.dataframe([{tr("lab.bn.table.channel"): i, tr("lab.bn.table.batch_mean"): round(bm, 4),
                   tr("lab.bn.table.running_mean"): round(rm, 4), tr("lab.bn.table.batch_var"): round(bv, 4),
                   tr("lab.bn.table.running_var"): round(rv, 4)}
                  for i, (bm, rm, bv, rv) in enumerate(zip(res.batch_mean, res.running_mean, res.batch_var,
                                                           res.running_var))],
                 hide_index=True)


# --- tab 4: batch size and noise ------------------------------------------------------------------------
def batch_tab() -> None:
    st.markdown(tr("lab.bn.batch_intro"))
    trials, dataset = state.row(field("select_slider", "trials", tr("lab.bn.trials")),
                                field("selectbox", "bdata", tr("lab.dataset"), format_func=dataset_label))
    try:
        rows = bnlab.batch_noise(features(dataset), trials=int(trials))
    except CnnvizError as err:
        show_error(err)
        return
    st.plotly_chart(lc.batch_noise_figure(rows, lang()), config=PLOT, key="bn.noise")


# --- page ----------------------------------------------------------------------------------------------------
st.title(tr("lab.bn.title"))
st.markdown(tr("lab.bn.intro"))
state.start()  # the link (or the last visit) → the widgets of all four tabs (st.tabs draws every tab each run)
tabs = st.tabs([tr("lab.bn.tab.scratch"), tr("lab.bn.tab.train"), tr("lab.bn.tab.modes"), tr("lab.bn.tab.batch")])
with tabs[0]:
    scratch_tab()
with tabs[1]:
    train_tab()
with tabs[2]:
    modes_tab()
with tabs[3]:
    batch_tab()
state.sync()
