"""The Results view of a finished training run: what the trained network does on the test split.

``view(rid, key_prefix)`` is drawn by the training page (below the curves once the run has
completed or been stopped), the class board and the teacher's page (a run picker, then this).
It shows the test accuracy and its n, then four tabs: the confusion matrix with per-class
accuracy, the grid of mistakes, the feature maps of the trained network for a test image or an
upload, and "try your own" (an upload or a drawing → the top-3 predictions, saying whether it was
letterboxed or cropped and whether it was inverted). A line says what the run's weights take,
what this student keeps against their share and the class against its cap (``cnnviz.runs.weights``).

What is shared, and why:

* the confusion, per-class and mistakes come from the run's stored "results" event
  (``cnnviz.jobs.finished.stored_results``): they need no weights, so an evicted run still
  shows them; their figures are built once per run and language (``st.cache_resource``,
  as ``ui.figures``), since a finished run's events never change;
* the trained model is loaded once per process per run id (``trained``), shared by every
  session with a ``threading.Lock``: ``capture`` hooks the model and flips it to eval mode,
  so one forward pass at a time;
* the run's test split is the one it was evaluated on (``cnnviz.jobs.finished.run_data``: its
  config's, or the synthetic set where the run itself fell back to it), loaded once per
  (data config, dataset actually used);
* the drawing canvas is streamlit-drawable-canvas (a Components v2 component whose frontend is
  bundled in its wheel: no request leaves the server); its value, a PNG data URL, is read
  undecoded (``canvas_data_url``) and goes through ``fit_drawing``: the same bounded decode as an
  upload (``cnnviz.labs.images``), with the drawing's tighter caps.

Every ``CnnvizError`` (an evicted file, a broken upload) goes through ``show_error``: never a
traceback.
"""

from __future__ import annotations

import dataclasses
import threading
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st
import torch
from streamlit.errors import StreamlitPageNotFoundError
from streamlit_drawable_canvas import st_canvas

from cnnviz.errors import CnnvizError
from cnnviz.jobs import finished as lr
from cnnviz.jobs.finished import run_title
from cnnviz.labs import featuremaps as fm
from cnnviz.runs.store import TEACHER, RunInfo
from cnnviz.status import FINISHED
from cnnviz.train.data import DISPLAY, DataConfig, prepare
from cnnviz.viz import labs as lc
from cnnviz.viz import results as vr
from ui.common import fmt_bytes, lang, show_error, tr
from ui.sched import scheduler, student

PLOT = {"displaylogo": False}
FITS = ("letterbox", "crop")
TOP_K = 3
SOURCES = ("upload", "draw")  # "try your own": an uploaded picture or one drawn on the canvas
CANVAS_PX = 280  # the drawing square, 10 x a 28 x 28 input
STROKE_PX = 22  # about 2 px once shrunk to 28 x 28, as the datasets' strokes


# --- shared, cached objects ------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=128)
def stored(rid: str) -> lr.Results | None:
    """The run's recorded results (None: none recorded). Only asked for finished runs, whose events are final."""
    return lr.stored_results(scheduler().events(rid))


@st.cache_resource(show_spinner=False, max_entries=128)
def figures(rid: str, language: str) -> dict[str, go.Figure]:
    """The run's confusion matrix (counts, row shares), per-class bars and mistakes grid in ``language``."""
    res = stored(rid)
    d = res.to_dict()
    names = lr.class_names(res.dataset, language)
    return {
        "cm": vr.confusion_figure(d["confusion"], names, language),
        "cm_norm": vr.confusion_figure(d["confusion"], names, language, normalise=True),
        "per_class": vr.per_class_figure(d["per_class"], names, d["accuracy"], language),
        "mistakes": vr.mistakes_figure(d["mistakes"], names, language),
    }


@st.cache_resource(show_spinner=False, max_entries=8)
def trained(rid: str) -> tuple[lr.TrainedRun, threading.Lock]:
    """The run's trained network (CPU, eval mode), loaded once per process, shared by every session;
    hold the lock around a forward pass. Raises the library's errors (unknown, not finished,
    weights gone): an exception is not cached, so a later call looks again."""
    sch = scheduler()
    return lr.load_run(sch.store, sch.weights, rid), threading.Lock()


def test_split(run: lr.TrainedRun) -> tuple[torch.Tensor, torch.Tensor, CnnvizError | None]:
    """The test split ``run`` was evaluated on (uint8 N x 28 x 28, labels, a notice or None), shared
    read-only: its config's dataset, or the synthetic set where the run fell back to it (the notice
    says so). ``DataError`` when those images are not on this machine now (never another set's)."""
    used = run.info.summary.get("dataset") or run.cfg.data.dataset  # what its start event said it used
    return _split(dataclasses.replace(run.cfg.data, dataset=used), run.cfg.data.dataset, run)


@st.cache_resource(show_spinner=False, max_entries=4)
def _split(used: DataConfig, asked: str, _run: lr.TrainedRun) -> tuple[torch.Tensor, torch.Tensor, CnnvizError | None]:
    # keyed by the data config with the dataset actually used (and the one asked for, for the notice):
    # every run on the same images shares one copy; ``_run`` is not hashed, any run with this key
    # loads the same split
    d = lr.run_data(_run)  # DataError (not cached) when the images are gone
    notice = CnnvizError("resv.data.fell_back", dataset=DISPLAY.get(asked, asked)) if d.dataset != asked else None
    return d.test_x, d.test_y, notice


def predict(run: lr.TrainedRun, lock: threading.Lock, x: torch.Tensor, k: int = TOP_K) -> list[tuple[int, float]]:
    with lock:
        return lr.predict(run, x, k)


def capture(run: lr.TrainedRun, lock: threading.Lock, x: torch.Tensor, max_channels: int = 16) -> list[fm.LayerMaps]:
    with lock:  # capture hooks the model and flips it to eval mode: one caller at a time
        return fm.capture(run.model, x, max_channels=max_channels)


# --- runs and their weights ---------------------------------------------------------------------------
def weights_state(info: RunInfo) -> str:
    """What became of the run's weights (``cnnviz.jobs.finished.weights_state``) in this server's store."""
    return lr.weights_state(info, scheduler().weights)


def kept_runs(runs: list[RunInfo]) -> list[RunInfo]:
    """The finished training runs among ``runs`` whose weights file is there (newest first, as given)."""
    return lr.kept_runs(runs, scheduler().weights)


def choice_label(info: RunInfo) -> str:
    """A run in a picker: its title, status and test accuracy (and a short id: twins tell apart)."""
    acc = info.summary.get("test_acc")
    return tr("resv.pick.label", title=run_title(info, lang()), status=tr(f"train.status.{info.status}"),
              acc=vr.pct(acc, 1) if acc is not None else "—") + f" ({info.id[:6]})"


def weights_line(info: RunInfo, state: str) -> None:
    """This run's weights, what this student keeps against their share and the class against
    its cap ("Your saved networks: 120 MiB of 409.6 MiB; the class: 1.2 GiB of 2 GiB"), or why
    there are none."""
    if state == "kept":
        u = scheduler().weights.usage(student())
        st.caption(tr("guard.w.kept", mine=fmt_bytes(u.student_bytes), total=fmt_bytes(u.total_bytes),
                      **_caps(info)))
    elif state == "evicted":
        st.warning(tr("guard.w.evicted", **_caps(info)), icon=":material/delete_history:")
    elif state == "too_big":
        st.warning(tr("resv.w.too_big", **_caps(info)), icon=":material/delete_history:")
    else:
        st.info(tr("resv.w.none"), icon=":material/info:")


def _caps(info: RunInfo) -> dict:
    """The caps and this run's weights size, as the messages show them (``run_cap``: what one
    run of this owner may keep, the per-run cap or a student's share, whichever is smaller)."""
    w = scheduler().weights
    size = info.summary.get("weights_bytes")
    if not size and w.exists(info.id):  # a run from before the summary recorded it
        size = w.path(info.id).stat().st_size
    return dict(cap=fmt_bytes(w.max_total_bytes), run_cap=fmt_bytes(w.cap_for(info.owner, info.owner == TEACHER)),
                share=fmt_bytes(w.max_student_bytes), size=fmt_bytes(size or 0))


# --- the view -------------------------------------------------------------------------------------------
def view(rid: str, key_prefix: str) -> None:
    """The Results view of run ``rid``; widget keys start with ``key_prefix`` (one view per page)."""
    sch = scheduler()
    try:
        info = sch.get(rid)
    except CnnvizError as err:
        show_error(err)
        return
    if info.kind != "train":  # a lab job's id: no test results, no trained network to ask
        show_error(lr.NotTrainRun("res.err.not_train", run_id=info.id, kind=info.kind))
        return
    if info.status not in FINISHED:
        st.caption(tr("resv.not_finished"))
        return
    res = stored(rid)
    st.subheader(tr("resv.title"))
    if res is None:  # e.g. stopped before its results pass was done: the weights may still be there
        st.info(tr("res.no_results"), icon=":material/info:")
        dataset = info.summary.get("dataset") or info.config["data"]["dataset"]  # the one actually used
    else:
        dataset = res.dataset
        c = st.columns(3)
        c[0].metric(tr("resv.acc"), vr.pct(res.accuracy, 1))
        c[1].metric(tr("resv.n"), f"{res.n:,}", help=tr("resv.n.help", dataset=tr(f"train.data.{res.dataset}")))
        c[2].metric(tr("resv.wrong"), f"{res.n - sum(res.confusion[i][i] for i in range(len(res.confusion))):,}")
    state = weights_state(info)
    weights_line(info, state)
    names = ["confusion", "mistakes"] if res is not None else []
    names += ["maps", "try"]
    labels = [tr(f"resv.tab.{n}") for n in names]
    tab_key = f"{key_prefix}.tab"
    if st.session_state.get(tab_key) not in (None, *labels):  # the language changed: the labels with it
        del st.session_state[tab_key]
    # the open tab is the session's (an upload reruns the page and stays on its tab), and only its
    # content runs: a hidden tab computes no feature maps and loads no model
    tabs = dict(zip(names, st.tabs(labels, key=tab_key, on_change="rerun")))
    if res is not None:
        figs = figures(rid, lang())
        if tabs["confusion"].open:
            with tabs["confusion"]:
                norm = st.toggle(tr("resv.normalise"), key=f"{key_prefix}.norm")
                st.plotly_chart(figs["cm_norm" if norm else "cm"], config=PLOT, key=f"{key_prefix}.cm")
                st.plotly_chart(figs["per_class"], config=PLOT, key=f"{key_prefix}.per_class")
        if tabs["mistakes"].open:
            with tabs["mistakes"]:
                st.caption(tr("resv.mis.note", n=len(res.mistakes)))
                st.plotly_chart(figs["mistakes"], config=PLOT, key=f"{key_prefix}.mistakes")
    for name, draw in (("maps", maps_tab), ("try", try_tab)):
        if not tabs[name].open:
            continue
        with tabs[name]:
            if state != "kept":
                st.info(tr(f"resv.w.{state}", **_caps(info)), icon=":material/info:")
                continue
            try:
                model = trained(rid)
            except CnnvizError as err:  # evicted between the check and the load
                show_error(err)
                continue
            draw(rid, dataset, *model, key_prefix)


def _input_figure(x: torch.Tensor, title: str) -> go.Figure:
    # 1 x C x H x W → the C channels side by side, as the feature-map lab draws its input
    return lc.feature_grid(fm.tile(x[0].numpy(), cols=x.shape[1], normalise=False), title, height=260)


def lab_link(rid: str, img: int) -> None:
    """The feature-map lab on this run and image (the teacher's shareable link)."""
    params = {"weights": "run", "run": rid, "img": str(img)}
    label = tr("resv.maps.open_lab")
    try:
        st.page_link("pages/featuremaps.py", label=label, icon=":material/open_in_new:", query_params=params)
    except StreamlitPageNotFoundError:  # the page run on its own, outside app.py's navigation: the same address
        st.markdown(f"[{label}](/featuremaps?{urlencode(params)})")


def maps_tab(rid: str, dataset: str, run: lr.TrainedRun, lock: threading.Lock, key_prefix: str) -> None:
    """The trained network's feature maps for a test image (by its number) or an upload."""
    cfg = run.cfg
    hw, cin = cfg.model.input_hw, cfg.model.in_channels
    names = lr.class_names(dataset, lang())
    left, right = st.columns([1, 3], gap="large")
    with left:
        src = st.radio(tr("resv.maps.source"), ("test", "upload"), horizontal=True, key=f"{key_prefix}.src",
                       format_func=lambda s: tr(f"resv.maps.source.{s}"))
        x = None
        if src == "test":
            try:
                tx, ty, notice = test_split(run)
            except CnnvizError as err:  # the run's dataset is gone from this machine
                show_error(err)
                return
            last = len(ty) - 1
            i = int(st.number_input(tr("resv.maps.index", last=last), min_value=0, max_value=last, step=1,
                                    key=f"{key_prefix}.img"))
            if notice is not None:
                st.caption(notice.render(lang()))
            x = prepare(tx[i: i + 1], hw, cin)  # 1 x C x H x W, as the run trained
            st.caption(tr("resv.maps.label", name=names[int(ty[i])]))
            lab_link(rid, i)
        else:
            up = st.file_uploader(tr("resv.try.upload"), type=["png", "jpg", "jpeg"], key=f"{key_prefix}.maps_up",
                                  max_upload_size=fm.MAX_UPLOAD_BYTES // 2**20)
            if up is None:
                st.caption(tr("lab.fm.upload_first"))
            else:
                try:
                    x = lr.fit_image(up.getvalue(), hw, "L" if cin == 1 else "RGB").x
                except CnnvizError as err:
                    show_error(err)
        if x is None:
            return
        top = predict(run, lock, x, 1)[0]
        st.caption(tr("resv.maps.pred", caption=f"{names[top[0]]} ({vr.pct(top[1])})"))
        st.plotly_chart(_input_figure(x, tr("lab.fm.input", h=x.shape[-2], w=x.shape[-1], c=x.shape[1])),
                        config=PLOT, key=f"{key_prefix}.maps_input")
    with right:
        maps = capture(run, lock, x)
        cols = st.columns(2)
        for j, lm in enumerate(maps):
            h, w = lm.maps.shape[-2:]
            title = tr("lab.fm.layer_title", name=lm.name, shown=lm.shown, channels=lm.channels, h=h, w=w)
            cols[j % 2].plotly_chart(lc.feature_grid(fm.tile(lm.maps), title), config=PLOT,
                                     key=f"{key_prefix}.map.{lm.name}")


def try_tab(rid: str, dataset: str, run: lr.TrainedRun, lock: threading.Lock, key_prefix: str) -> None:
    """An upload or a drawing → what the network sees → its top-3 guesses; says letterboxed/cropped and inverted."""
    cfg = run.cfg
    hw, cin = cfg.model.input_hw, cfg.model.in_channels
    names = lr.class_names(dataset, lang())
    st.caption(tr("resv.try.intro", h=hw[0], w=hw[1], c=cin))
    left, right = st.columns([3, 5], gap="large")  # the picture on the left, the guesses beside it
    with left:
        src = _source(key_prefix)
        mode = "L" if cin == 1 else "RGB"
        if src == "upload":
            fit = st.radio(tr("resv.try.fit"), FITS, horizontal=True, key=f"{key_prefix}.fit",
                           format_func=lambda f: tr(f"resv.try.fit.{f}"))
            # the widget's cap stops a big file before it reaches the server's memory; fit_image checks
            # again (bytes, format, size from the header, integrity), as the feature-map lab does
            up = st.file_uploader(tr("resv.try.upload"), type=["png", "jpg", "jpeg"], key=f"{key_prefix}.try_up",
                                  max_upload_size=fm.MAX_UPLOAD_BYTES // 2**20)
            data, first = (None if up is None else up.getvalue()), "resv.try.first"
        else:
            st.caption(tr("resv.try.canvas"))
            st.space("medium")  # room for the toolbar, which shows above the canvas on hover
            # white strokes on black, as the datasets are (no inversion); the component's toolbar undoes
            # and clears; a finished stroke sends the drawing back (one rerun per stroke)
            st_canvas(stroke_width=STROKE_PX, stroke_color="#ffffff", background_color="#000000",
                      width=CANVAS_PX, height=CANVAS_PX, drawing_mode="freedraw", return_image_data=True,
                      key=f"{key_prefix}.canvas")
            data, first = canvas_data_url(f"{key_prefix}.canvas"), "resv.try.draw_first"
    with right:
        try:
            if data is None:
                fitted = None
            elif src == "upload":
                fitted = lr.fit_image(data, hw, mode, fit)
            else:  # the canvas is square: nothing to letterbox or crop; a blank one is None
                fitted = lr.fit_drawing(data, hw, mode)
        except CnnvizError as err:
            show_error(err)
            return
        if fitted is None:
            st.caption(tr(first))
            return
        for note in fitted.notes(lang()):  # square / letterboxed / cropped, and inverted
            st.info(note, icon=":material/crop:")
        preds = predict(run, lock, fitted.x, TOP_K)
        c = st.columns([2, 3])
        c[0].plotly_chart(_input_figure(fitted.x, tr("resv.try.seen", h=hw[0], w=hw[1])), config=PLOT,
                          key=f"{key_prefix}.try_input")
        c[1].plotly_chart(vr.topk_figure(preds, names, lang()), config=PLOT, key=f"{key_prefix}.top")


def canvas_data_url(key: str) -> str | None:
    """The drawing canvas's value as the browser sent it: a ``data:image/png;base64,...`` URL, not
    decoded, or None before the first stroke.

    Read from the component's state (``st.session_state[key]["drawing"]["data"]``, where
    Components v2 keep it), never through ``CanvasResult.image_data``: that decodes whatever the
    value holds with Pillow, any format and any size, before a check could run. The URL goes to
    ``cnnviz.jobs.finished.fit_drawing``, which refuses a forged one by its length and its header.
    """
    state = st.session_state.get(key)
    drawing = state.get("drawing") if hasattr(state, "get") else None
    url = drawing.get("data") if hasattr(drawing, "get") else None
    return url if url is None or isinstance(url, str) else ""  # "" (not a data URL): refused as unreadable


def _source(key_prefix: str) -> str:
    """Upload or draw, remembered by the view: a closed tab drops its widgets' state, so the choice
    is also kept under a key of its own and given back to the radio when the tab reopens."""
    kept, widget = f"{key_prefix}.try_source", f"{key_prefix}.try_src"
    if widget not in st.session_state:
        st.session_state[widget] = st.session_state.get(kept, SOURCES[0])
    src = st.radio(tr("resv.try.source"), SOURCES, horizontal=True, key=widget,
                   format_func=lambda s: tr(f"resv.try.source.{s}"))
    st.session_state[kept] = src
    return src
