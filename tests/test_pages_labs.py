"""AppTest for the lab pages: every page renders without an exception, and a small action each.

The lab jobs run on a real worker pool (``module_sched_db``: one for the module, 2 workers);
each test poses as its own students (``_student_token``). AppTest does not fire ``run_every``
timers, so the tests wait for the job in the store (``Scheduler.wait``) and then check the
page's rendering of the finished job.
"""

from __future__ import annotations

import io
import pathlib
import secrets

import numpy as np
import pytest
from conftest import WAIT_S
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz.runs.scheduler import Scheduler

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120

pytestmark = pytest.mark.usefixtures("module_sched_db")


@pytest.fixture(scope="module")
def sched(module_sched_db):
    s = Scheduler(module_sched_db, pool="external")
    yield s
    s.close()


def _page(name: str, lang: str = "en", token: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["_student_token"] = token or secrets.token_urlsafe(24)  # a student of its own
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in ("error", "warning", "success", "info") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("name", ["gradflow", "batchnorm", "costlab", "featuremaps"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_lab_page_renders(name, lang):
    at = _page(name, lang)
    at.run()
    assert not at.exception, at.exception
    assert at.title and at.title[0].value
    if lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in at.title[0].value)


def test_gradflow_page_runs_a_pair_and_renders_the_result(sched):
    at = _page("gradflow")
    at.run()
    assert len(at.get("latex")) >= 3  # the seed's derivation
    at.slider(key="gradflow.depth").set_value(15)
    at.slider(key="gradflow.steps").set_value(5)
    at.button(key="gf.run").click().run()
    assert not at.exception, at.exception
    rid = at.session_state["gf.run_id"]
    info = sched.get(rid)
    assert info.kind == "gradflow" and info.config["depth"] == 15 and info.config["steps"] == 5
    assert sched.wait(rid, TIMEOUT).status == "completed"
    at.run()
    assert not at.exception, at.exception
    assert "smaller than its last" in _text(at) and "Finished: 5 steps" in _text(at)
    assert len(at.get("plotly_chart")) == 4  # depth chart, two heatmaps, loss
    table = at.dataframe[0].value
    assert len(table) == 2
    # hiding a variant leaves one heatmap
    at.get("button_group")[0].set_value(["residual"]).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3


def _start_gradflow(at, steps: int, seed: int) -> None:
    """Open the gradient-flow page as this session's student and press Run on a 9-conv pair."""
    at.run()
    at.slider(key="gradflow.depth").set_value(9)
    at.slider(key="gradflow.steps").set_value(steps)
    at.number_input(key="gradflow.seed").set_value(seed)
    at.button(key="gf.run").click().run()


def test_gradflow_page_a_second_student_gets_the_same_job(sched):
    first, second = _page("gradflow"), _page("gradflow")
    for at in (first, second):
        _start_gradflow(at, steps=10, seed=7)
        assert not at.exception, at.exception
    rid = first.session_state["gf.run_id"]
    assert second.session_state["gf.run_id"] == rid  # one computation for both
    assert "An identical run already exists" in _text(second)
    assert len(sched.watchers(rid)) == 2
    assert sched.wait(rid, TIMEOUT).status == "completed"
    tables = []
    for at in (first, second):
        at.run()
        assert not at.exception, at.exception
        tables.append(at.dataframe[0].value.to_dict())
    assert tables[0] == tables[1]  # the same numbers


def test_gradflow_page_stop_and_leave(sched):
    alice, bob = _page("gradflow"), _page("gradflow")
    for at in (alice, bob):
        _start_gradflow(at, steps=200, seed=99)
    rid = alice.session_state["gf.run_id"]
    assert bob.session_state["gf.run_id"] == rid
    bob.button(key="gf.stop").click().run()  # others still watch it: Bob only leaves it
    assert not bob.exception, bob.exception
    assert "gf.run_id" not in bob.session_state and "You left this run" in _text(bob)
    assert sched.get(rid).live and len(sched.watchers(rid)) == 1
    alice.button(key="gf.stop").click().run()  # the last watcher: it stops for good
    assert sched.wait(rid, WAIT_S).status == "stopped"
    alice.run()
    assert not alice.exception and "Stopped after" in _text(alice)


def test_gradflow_page_shows_a_failed_job_without_a_traceback(sched):
    from cnnviz.i18n import messages
    from cnnviz.labs.gradflow import GradFlowConfig

    # a job the worker could not run (as it records any exception): failed, with its message
    token = secrets.token_urlsafe(24)
    import hashlib

    me = hashlib.sha256(token.encode()).hexdigest()[:24]
    rid = "failedjob" + secrets.token_hex(2)
    sched.store.attach_or_create(rid, "", me, arch="resnet18", label="x", config=GradFlowConfig().to_dict(),
                                 kind="gradflow")
    sched.store.request_stop(rid)  # never claimed by the pool
    sched.store.append(rid, 0, [], status="failed", code="train.failed",
                       message=messages("train.failed", error="RuntimeError: boom"))
    at = _page("gradflow", token=token)
    at.session_state["gf.run_id"] = rid
    at.run()
    assert not at.exception and "boom" in _text(at) and "Traceback" not in _text(at)


def test_gradflow_page_a_forgotten_run_is_said_so():
    at = _page("gradflow")
    at.session_state["gf.run_id"] = "nosuchrun"
    at.run()
    assert not at.exception and at.error and "Press Run" in _text(at)
    assert "gf.run_id" not in at.session_state


def test_batchnorm_page_equality_and_paired_run(sched):
    at = _page("batchnorm")
    at.run()
    assert not at.exception, at.exception
    assert float(at.metric[0].value) < 1e-4  # scratch vs nn.BatchNorm2d
    assert "Equal to float32 rounding" in _text(at)
    assert at.metric[3].value == "0.000e+00"  # one image, two batches, evaluation mode
    at.slider(key="batchnorm.tsteps").set_value(20)
    at.button(key="bn.t.run").click().run()
    rid = at.session_state["bn.run_id"]
    info = sched.wait(rid, TIMEOUT)
    assert info.status == "completed", info
    at.run()
    assert not at.exception, at.exception
    assert "LeNet with BN: loss" in _text(at)
    assert len(at.get("plotly_chart")) >= 6  # 2 curves, stats, histogram, running stats, noise
    assert at.selectbox(key="bn.hist_layer").options == ["conv1", "conv2", "fc1", "fc2"]


def test_costlab_page_cross_checks_and_reacts():
    at = _page("costlab")
    at.run()
    assert not at.exception, at.exception
    text = _text(at)
    assert text.count("Cross-check") == 2 and not at.error
    df = at.dataframe[0].value  # the book's block: Inception row, parameters column
    assert df.iloc[0, 1] == 163_328 and df.iloc[0, 2] == 163_696 and df.iloc[0, 3] == 128_049_152
    at.slider(key="costlab.c2r").set_value(400).run()  # a "reduction" wider than the input
    assert not at.exception and "save nothing" in _text(at)


def _png(w=40, h=30) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (h, w), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_featuremaps_page_dataset_upload_and_errors():
    at = _page("featuremaps")
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1 + 2  # the input, LeNet's two convs
    at.selectbox(key="featuremaps.arch").set_value("googlenet").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1 + 6  # default: first 4 and last 2 convs
    at.radio(key="featuremaps.src").set_value("upload").run()
    up = at.get("file_uploader")[0]
    up.set_value(("x.png", _png(), "image/png")).run()
    assert not at.exception and not at.error and len(at.get("plotly_chart")) == 7
    for data, words in ((b"GIF89a" + b"\0" * 64, "upload a PNG/JPEG file"), (_png()[:60], "damaged or truncated")):
        at.get("file_uploader")[0].set_value(("bad.png", data, "image/png")).run()
        assert not at.exception, at.exception
        assert words in at.error[0].value


def test_featuremaps_page_trained_weights(sched, monkeypatch):
    from cnnviz.labs import featuremaps as fm

    monkeypatch.setitem(fm.QUICK_STEPS, "lenet", 12)  # the page's quick training, shortened
    at = _page("featuremaps")
    at.run()
    at.radio(key="featuremaps.weights").set_value("trained").run()
    assert not at.exception, at.exception
    assert "Train the network first" in _text(at) and "12 steps" in _text(at)
    at.button(key="fm.train").click().run()
    rid = at.session_state["fm.run_id"]
    assert sched.get(rid).config == fm.quick_config("lenet", "fashion-mnist").to_dict()  # the labs' default data
    assert sched.wait(rid, TIMEOUT).status == "completed"
    at.run()
    assert not at.exception, at.exception
    assert "Trained 12 steps" in _text(at) and len(at.get("plotly_chart")) == 3
    # another student asking for the same network gets these weights at once
    other = _page("featuremaps")
    other.run()
    other.radio(key="featuremaps.weights").set_value("trained").run()
    other.button(key="fm.train").click().run()
    assert not other.exception and other.session_state["fm.run_id"] == rid
    assert "Trained 12 steps" in _text(other) and len(other.get("plotly_chart")) == 3
    # another network: train first
    at.selectbox(key="featuremaps.arch").set_value("nin").run()
    assert not at.exception and "Train the network first" in _text(at)
    # weights evicted from the server (and this process never loaded them): a translated error, no traceback
    import streamlit as st

    sched.weights.delete(rid)
    st.cache_resource.clear()
    third = _page("featuremaps")
    third.session_state["fm.run_id"] = rid
    third.run()
    third.radio(key="featuremaps.weights").set_value("trained").run()
    assert not third.exception and "no longer kept" in third.error[0].value


def test_lab_pages_are_in_the_navigation():
    from ui.nav import PAGES

    labs = [p for p in PAGES if p[3] == "nav.section.labs"]
    assert [p[0] for p in labs] == ["pages/gradflow.py", "pages/batchnorm.py", "pages/costlab.py",
                                    "pages/featuremaps.py", "pages/quiz.py", "pages/convarith.py"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    for path, *_ in labs:
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)


# --- the feature-map lab on a finished training run (``?weights=run&run=<id>``) --------------------------
@pytest.fixture(scope="module")
def train_runs(sched):
    """Two finished tiny training runs of the class; the second's weights deleted (as if evicted)."""
    from training_helpers import tiny

    ids = []
    for seed in (11, 12):
        rid = sched.submit("train", tiny(seed=seed, max_steps=6).to_dict(), "fm-run-student-" + "0" * 12).run_id
        assert sched.wait(rid, TIMEOUT).status == "completed"
        ids.append(rid)
    sched.weights.delete(ids[1])
    return ids


def _fm_link(**query: str) -> AppTest:
    at = _page("featuremaps")
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _maps(at: AppTest) -> list:
    import json

    return [json.loads(c.proto.spec)["data"][0]["z"] for c in at.get("plotly_chart")]


def test_featuremaps_link_to_a_finished_run_reopens_it(sched, train_runs):
    rid = train_runs[0]
    at = _fm_link(weights="run", run=rid, img="3")
    assert not at.exception, at.exception
    assert at.radio(key="featuremaps.weights").value == "run"
    assert at.selectbox(key="featuremaps.run").value == rid
    assert at.selectbox(key="featuremaps.run").options == [at.selectbox(key="featuremaps.run").format_func(rid)]
    arch = at.selectbox(key="featuremaps.arch")
    assert arch.value == "lenet" and arch.disabled  # the run decides the network
    assert at.number_input(key="featuremaps.img").value == 3
    assert "come from the run" in _text(at) and not at.warning
    assert len(at.get("plotly_chart")) == 1 + 2  # the input, LeNet's two convs
    assert {k: at.query_params[k] for k in ("weights", "run", "img")} == {"weights": "run", "run": rid, "img": "3"}
    assert "arch" not in at.query_params and "data" not in at.query_params
    # the trained weights, not the untrained ones: the same image gives other maps
    untrained = _fm_link(img="3", data="synthetic")  # the run's data (tiny(): the synthetic set)
    assert _maps(untrained)[0] == _maps(at)[0]  # the same input image (the run's test split starts the same)
    assert _maps(untrained)[1] != _maps(at)[1]
    # the run mode picked from the radio, with no run in the link: the newest run whose weights are kept
    other = _fm_link()
    other.radio(key="featuremaps.weights").set_value("run").run()
    assert not other.exception and other.selectbox(key="featuremaps.run").value == rid
    assert other.query_params["run"] == rid


@pytest.mark.parametrize("case", ["unknown", "evicted", "garbled", "lab job"])
def test_featuremaps_link_to_a_bad_run_warns_and_shows_the_untrained_network(sched, train_runs, case):
    if case == "lab job":
        from cnnviz.labs import featuremaps as fm

        rid = sched.submit("featuremaps", fm.QuickTrainConfig("lenet", "synthetic", steps=5, seed=5).to_dict(),
                           "fm-lab-student-" + "0" * 12).run_id
    else:
        rid = {"unknown": "deadbeef0000", "evicted": train_runs[1], "garbled": "<script>"}[case]
    at = _fm_link(weights="run", run=rid, img="3")
    if case == "lab job":  # done before the module's pool stops (a running job holds its stop for a step)
        sched.wait(rid, TIMEOUT)
    assert not at.exception, at.exception
    words = {"unknown": "no run `deadbeef0000`", "evicted": "no longer kept", "garbled": "is not a run id",
             "lab job": "not a training run"}[case]
    assert words in "\n".join(w.value for w in at.warning)
    if case != "garbled":
        assert "showing the untrained network instead" in at.warning[0].value
        assert at.radio(key="featuremaps.weights").value == "untrained"
        assert "run" not in at.query_params and "weights" not in at.query_params
        assert len(at.get("plotly_chart")) == 1 + 2  # the untrained network's maps
