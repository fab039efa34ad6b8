"""Feature maps: one image through a network, every conv layer's output channels as images.

Layout only: widgets → an image (``cnnviz.train.data`` or an upload decoded by
``cnnviz.labs.featuremaps.decode_upload``) and a model (untrained, or trained briefly by a
"featuremaps" job on the scheduler: a worker of the shared pool trains it for a fixed number
of steps and keeps its weights; identical requests share one job; or a finished training run
of the class, whose weights are kept) → ``featuremaps.capture`` → tiled figures
(``cnnviz.viz.labs.feature_grid``).

A finished run is in the link (``?weights=run&run=<id>&img=3``), so a teacher's link reopens
the same view; its own config decides the network, the input size and channels and the data
(the network and data pickers follow it, locked), and the image number is into its test split.
A link naming a run that is unknown, not finished or whose weights are gone gets a warning
and the untrained network.

Shared objects are guarded: the untrained models (one per config) and the trained ones (one
per run id, loaded from the run's weights file) live in ``st.cache_resource`` for every
session, each with a lock, because ``capture`` registers hooks and switches the model to
evaluation mode while it runs.
"""

from __future__ import annotations

import json
import threading

import streamlit as st
import torch

from cnnviz import urlstate
from cnnviz.errors import CnnvizError
from cnnviz.jobs import finished as lr
from cnnviz.jobs.finished import class_names, run_title
from cnnviz.labs import featuremaps as fm
from cnnviz.safe import verbatim
from cnnviz.status import FINISHED
from cnnviz.train.data import DataConfig, load_data, prepare
from cnnviz.viz import labs as lc
from ui import jobs
from ui import results as ur
from ui.common import arch_label, dataset_label, lang, show_error, tr
from ui.sched import scheduler
from ui.schemas import featuremaps_schema
from ui.widgets import PageState, field, keep_choices, label_of

JOB = "fm.run_id"  # session key of this session's quick training (its run id)
PLOT = {"displaylogo": False}
# the settings, not the upload nor the trained job (``?arch=nin&img=7``); widget keys "featuremaps.<field>"
state = PageState("featuremaps", featuremaps_schema())


@st.cache_resource(show_spinner=False, max_entries=12)
def untrained(arch: str, dataset: str) -> tuple[torch.nn.Module, threading.Lock]:
    """The untrained network of ``arch``'s classroom config, shared; hold the lock to run it."""
    return fm.untrained_model(fm.lab_train_config(arch, dataset)), threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=8)
def trained(rid: str, params: str) -> tuple[torch.nn.Module, threading.Lock]:
    """The network a "featuremaps" job trained (loaded once per process), shared; hold the lock to
    run it. ``WeightsGone`` (not cached: a later call looks again) once its weights are evicted."""
    cfg = fm.QuickTrainConfig.from_dict(json.loads(params))
    return lr.load_quick_trained(scheduler().weights, rid, cfg), threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=4)
def dataset_images(dataset: str):
    """The test split of ``dataset`` (uint8 N x 28 x 28, labels, the fallback notice or None, the
    dataset actually loaded: its class names label the image), shared read-only."""
    data = load_data(DataConfig(dataset=dataset))
    return data.test_x, data.test_y, data.notice, data.dataset  # the set loaded: synthetic after a fallback


def finished_run() -> tuple[lr.TrainedRun, threading.Lock] | None:
    """With the weights of "a finished run": that run's network, shared (``ui.results.trained``);
    else None. No run named yet: the newest of the class's runs with kept weights. A run that is
    unknown, a lab job's, not finished or whose weights are gone: the library's reason as a
    warning, and the page falls back to the untrained network."""
    if state.get("weights") != "run":
        return None
    sch = scheduler()
    kept = ur.kept_runs(sch.runs(None))
    rid = state.get("run") or ""
    if not rid:
        if not kept:
            return None  # the picker says there is none yet
        rid = kept[0].id
        state.set({"run": rid})
    try:
        if rid not in {r.id for r in kept}:
            lr.load_run(sch.store, sch.weights, rid)  # raises the reason
        return ur.trained(rid)
    except CnnvizError as err:
        st.warning(tr("resv.fm.bad_run", error=err.render(lang())), icon=":material/link_off:")
        state.set({"weights": "untrained", "run": ""})  # before the radio is drawn
        return None


def pick_image(cfg, from_run: bool = False) -> torch.Tensor | None:
    """The input tensor ``1 x C x H x W`` the reader chose, or ``None`` (message shown). ``from_run``:
    the image number is into the run's own test split (its test subset)."""
    model_cfg = cfg.model
    hw, cin = model_cfg.input_hw, model_cfg.in_channels
    source = state.radio("src", tr("lab.fm.source"), format_func=lambda s: tr(f"lab.fm.source.{s}"))
    if source == "dataset":
        try:
            if from_run:
                x, y, notice = ur.test_split(run[0])
                used = run[0].info.summary.get("dataset") or run[0].cfg.data.dataset  # as test_split reads it
            else:
                x, y, notice, used = dataset_images(cfg.data.dataset)
        except CnnvizError as err:  # the run's dataset is not on this machine now
            show_error(err)
            return None
        last = len(y) - 1  # the schema allows MNIST's 10,000 images; the synthetic test split has 1,000
        if state.get("img", 0) > last:
            raw = state.get("img")
            state.set({"img": last})
            st.warning(urlstate.problems_text([urlstate.Problem("url.clamped", dict(
                name="img", raw=verbatim(raw), lo=0, hi=last, value=last))], lang()), icon=":material/link_off:")
        # not state.number: its maximum is the schema's, this one is the chosen split's
        i = st.number_input(tr("lab.fm.index"), min_value=0, max_value=last, step=1, key=state.key("img"))
        if notice is not None:
            st.caption(notice.render(lang()))
        # the class's name, as the Results view writes it ("true class: Trouser"), never its number
        st.caption(tr("resv.maps.label", name=class_names(used, lang())[int(y[int(i)])]))
        return prepare(x[int(i): int(i) + 1], hw, cin)
    # the widget's own cap stops a big file before it reaches the server's memory; decode_upload
    # checks again (bytes, format, pixel count, integrity), since the type filter only sees extensions
    up = st.file_uploader(tr("lab.fm.upload"), type=["png", "jpg", "jpeg"], key="fm.upload",
                          max_upload_size=fm.MAX_UPLOAD_BYTES // 2**20)
    if up is None:
        st.caption(tr("lab.fm.upload_first"))
        return None
    try:
        return fm.decode_upload(up.getvalue(), "L" if cin == 1 else "RGB", hw)
    except CnnvizError as err:
        show_error(err)
        return None


def weights_label(kind: str) -> str:
    return tr("resv.fm.weights.run") if kind == "run" else tr(f"lab.fm.weights.{kind}")


def weights(cfg, run: tuple[lr.TrainedRun, threading.Lock] | None) -> tuple[torch.nn.Module, threading.Lock] | None:
    """The model to run: untrained (shared), the quick training's (shared by run id), or a finished
    run's (``run``, resolved before the widgets: it decides the network)."""
    kind = state.radio("weights", tr("lab.fm.weights"), format_func=weights_label)
    if kind == "untrained":
        return untrained(cfg.arch, cfg.data.dataset)
    if kind == "run":
        kept = ur.kept_runs(scheduler().runs(None))
        if not kept or run is None:
            st.info(tr("resv.fm.no_runs"), icon=":material/info:")
            return None
        labels = {r.id: ur.choice_label(r) for r in kept}
        state.selectbox("run", tr("resv.fm.run"), options=list(labels), format_func=label_of(labels))
        m = run[0].cfg.model
        st.caption(tr("resv.fm.from_run", h=m.input_hw[0], w=m.input_hw[1], c=m.in_channels,
                      title=run_title(run[0].info, lang())))
        return run[0].model, run[1]
    quick = fm.quick_config(cfg.arch, cfg.data.dataset)
    steps = quick.total_steps
    st.caption(tr("lab.fm.no_stored_weights", steps=steps))
    seconds = int(round(scheduler().estimate_s("featuremaps", quick.to_dict())))
    joined = jobs.gate("fm")  # a visitor of a class with a join code: the form, and Train disabled
    if st.button(tr("lab.fm.train", steps=steps, seconds=seconds), key="fm.train", icon=":material/model_training:",
                 disabled=not joined, help=None if joined else tr("ident.start_disabled")):
        try:
            jobs.submit(JOB, "featuremaps", quick.to_dict())
        except CnnvizError as err:
            show_error(err)
    job = jobs.current(JOB)
    if job is None or dict(job.config) != quick.to_dict():
        jobs.notes(JOB)
        st.info(tr("lab.fm.train_first"))
        return None
    if job.live:
        jobs.live("fm._live", job.id, lambda: jobs.watching(JOB, job.id), lambda: progress(job.id, steps))
        return None
    done = progress(job.id, steps)
    if not done:
        return None
    try:
        return trained(job.id, json.dumps(quick.to_dict(), sort_keys=True))
    except CnnvizError as err:
        show_error(err)
        return None


def progress(rid: str, total: int) -> bool:
    """The quick training's status (queued, a progress bar, or how it ended); True once its
    weights can be used (completed or stopped)."""
    info = jobs.info(rid)
    if info is None or st.session_state.get(JOB) != rid:  # deleted, or left: the app reruns at once
        return False
    jobs.notes(JOB)
    step = int(info.summary.get("step", 0))  # the job kind's own fold (cnnviz.jobs.featuremaps)
    if not jobs.status(JOB, info, step, total, stop_key="fm.stop"):
        return False
    if info.live:
        return False
    acc = info.summary.get("test_acc")
    st.caption(tr("lab.fm.trained", steps=step, acc=f"{acc:.1%}" if acc is not None else "—"))
    return info.status in FINISHED


# --- page --------------------------------------------------------------------------------------------------
st.title(tr("lab.fm.title"))
st.markdown(tr("lab.fm.intro"))
state.start()  # the link (or the last visit) → the widgets, with a warning about bad values
run = finished_run()  # before the pickers: a finished run decides the network and the data
archs = list(fm.FM_ARCHS)
if run is not None:
    archs += [] if run[0].cfg.arch in archs else [run[0].cfg.arch]
    state.set({"arch": run[0].cfg.arch, "data": run[0].cfg.data.dataset})
arch, dataset, n_show = state.row(
    field("selectbox", "arch", tr("lab.fm.model"), format_func=arch_label, options=archs, disabled=run is not None),
    field("selectbox", "data", tr("lab.dataset"), format_func=dataset_label, disabled=run is not None),
    field("select_slider", "maps", tr("lab.fm.channels")), widths=(2, 2, 1))


def sync() -> None:
    """The settings to the URL; with a finished run, its id (the network and data are the run's,
    so they stay out of the link), else no run id."""
    values = state.values()
    if run is not None:
        values.update(arch=state.schema.field("arch").default, data=state.schema.field("data").default)
    else:
        values["run"] = ""
    state.sync(values)


try:
    cfg = run[0].cfg if run is not None else fm.lab_train_config(arch, dataset)
except CnnvizError as err:
    show_error(err)
    sync()
    st.stop()
side = cfg.model.input_hw[0]
st.caption(tr("lab.fm.speed_note", side=side))
left, right = st.columns([1, 3], gap="large")
with left:
    x = pick_image(cfg, from_run=run is not None)
    model_lock = weights(cfg, run)
    if x is not None:
        st.plotly_chart(lc.feature_grid(fm.tile(x[0].numpy(), cols=x.shape[1], normalise=False),
                                        tr("lab.fm.input", h=x.shape[-2], w=x.shape[-1], c=x.shape[1]), height=260),
                        config=PLOT, key="fm.input")
with right:
    if x is not None and model_lock is not None:
        model, lock = model_lock
        names = [n for n, _ in fm.conv_layers(model)]
        default = names if len(names) <= 8 else names[:4] + names[-2:]
        keep_choices(f"fm.layers.{arch}", names, multi=True)
        chosen = st.multiselect(tr("lab.fm.layers"), names, default=default, key=f"fm.layers.{arch}")
        with lock:  # capture hooks the model and flips it to eval mode: one caller at a time
            maps = fm.capture(model, x, max_channels=int(n_show), layers=chosen)
        cols = st.columns(2)
        for i, lm in enumerate(maps):
            h, w = lm.maps.shape[-2:]
            title = tr("lab.fm.layer_title", name=lm.name, shown=lm.shown, channels=lm.channels, h=h, w=w)
            cols[i % 2].plotly_chart(lc.feature_grid(fm.tile(lm.maps), title), config=PLOT, key=f"fm.map.{lm.name}")
sync()
