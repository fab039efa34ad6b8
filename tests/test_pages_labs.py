"""AppTest for the lab pages: every page renders without an exception, and a small action each.

AppTest does not fire ``run_every`` timers, so the tests drive the job layer directly (wait
for the session's ``Job``) and then check the page's rendering of the finished job.
"""

from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120


def _page(name: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
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


def test_gradflow_page_runs_a_pair_and_renders_the_result():
    at = _page("gradflow")
    at.run()
    assert len(at.get("latex")) >= 3  # the seed's derivation
    at.slider(key="gradflow.depth").set_value(15)
    at.slider(key="gradflow.steps").set_value(5)
    at.button(key="gf.run").click().run()
    assert not at.exception, at.exception
    job = at.session_state["gf.job"]
    assert job.params.depth == 15 and job.params.steps == 5
    job.wait(TIMEOUT)
    assert job.status == "completed"
    at.run()
    assert not at.exception, at.exception
    assert "smaller than its last" in _text(at)
    assert len(at.get("plotly_chart")) == 4  # depth chart, two heatmaps, loss
    table = at.dataframe[0].value
    assert len(table) == 2
    # hiding a variant leaves one heatmap
    at.get("button_group")[0].set_value(["residual"]).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3


def test_gradflow_page_shows_a_failed_job_without_a_traceback():
    from cnnviz.labs.gradflow import PairHistory
    from cnnviz.runs.jobs import Job

    def broken(stop):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    job = Job(PairHistory(("plain", "residual")), broken, params=None).start().wait(10)
    assert job.status == "failed"
    at = _page("gradflow")
    at.session_state["gf.job"] = job
    at.run()
    assert not at.exception and "boom" in _text(at)


def test_batchnorm_page_equality_and_paired_run():
    at = _page("batchnorm")
    at.run()
    assert not at.exception, at.exception
    assert float(at.metric[0].value) < 1e-4  # scratch vs nn.BatchNorm2d
    assert "Equal to float32 rounding" in _text(at)
    assert at.metric[3].value == "0.000e+00"  # one image, two batches, evaluation mode
    at.slider(key="batchnorm.tsteps").set_value(20)
    at.button(key="bn.t.run").click().run()
    job = at.session_state["bn.job"]
    job.wait(TIMEOUT)
    assert job.status == "completed", job.error
    at.run()
    assert not at.exception, at.exception
    assert "LeNet with BN: loss" in _text(at)
    assert len(at.get("plotly_chart")) >= 6  # 2 curves, stats, histogram, running stats, noise


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


def test_featuremaps_page_trained_weights():
    at = _page("featuremaps")
    at.run()
    at.radio(key="featuremaps.weights").set_value("trained").run()
    assert "Train the network first" in _text(at)
    from cnnviz.labs import featuremaps as fm

    cfg = fm.lab_train_config("lenet", "synthetic", seconds=2)
    job = fm.quick_train_job(cfg).start().wait(TIMEOUT)
    assert job.status == "completed"
    assert job.history.snapshot()["model"].steps  # it trained
    at.session_state["fm.job"] = job
    at.run()  # the page's config (20 s budget) differs from this job's: it asks to train again
    assert "Train the network first" in _text(at)
    job.params = fm.lab_train_config("lenet", "synthetic")  # as if trained from the page
    at.run()
    assert not at.exception, at.exception
    assert "Trained" in _text(at) and len(at.get("plotly_chart")) == 3


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
