"""The Results view (``ui/results.py``) under AppTest on the training page, the class board and the
teacher's page, for a real finished run: LeNet, one epoch on a Fashion-MNIST subset (the shared
real images), trained by ``cnnviz.runs.worker.run_job`` in this process into a temporary store
(no pool: nothing else runs). Checks: the accuracy and n, a heatmap whose cells sum to n, the
mistakes, "try your own" with a non-square PNG (letterboxed, then cropped; three predictions), a
broken upload (the error, no traceback), the drawing source (AppTest cannot draw on the canvas: it
says to draw first; the drawing's conversion is checked on arrays), an evicted run (said so; the
confusion still shows), the test split of a run that fell back to the synthetic set, and the
feature-map lab on a run's own test images."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from conftest import need_data
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz.labs import featuremaps as fm
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.worker import local_source, run_job

from training_helpers import tiny

SLOW_FIXTURES = {"runs"}  # two real runs, then the pages' Results view (conftest marks their tests slow)
TIMEOUT = 120
ME = "results-test-token-me-0001"  # a browser's cookie token (22+ URL-safe characters)
KEY = "results-teacher-key"


def sid(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:24]


def train_runs(s: Scheduler, student: str, seeds=(0,), results: bool = True) -> list[str]:
    """Finished runs (LeNet, one epoch on 1,024 Fashion-MNIST images, 300 test images), one per
    seed, trained here by the worker's own ``run_job``: the store gets every event and the weights
    (without ``results``: every event but the results one, as a run from before they were kept)."""
    def source(info, stop, ctx):
        return (d for d in local_source(info, stop, ctx) if results or d.kind != "results")

    ids = []
    for seed in seeds:
        cfg = tiny(dataset="fashion-mnist", subset=1024, test_subset=300, batch_size=64, lr=0.9, seed=seed,
                   log_every=4)
        ids.append(s.submit("train", cfg.to_dict(), student).run_id)
        assert run_job(s.store, s.store.claim("test:1"), s.weights, source=source) == "completed"
    return ids


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(scheduler, a finished run id, another finished run id whose weights are then deleted)."""
    need_data()
    from ui import sched

    mp = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("results") / "runs.sqlite"
    mp.setenv("CNNVIZ_DB", str(db))
    mp.setenv("CNNVIZ_POOL", "external")  # no pool: the runs are trained below, in this process
    mp.setenv("CNNVIZ_TEACHER_KEY", KEY)
    sched._scheduler.clear()
    sched.teacher_key.clear()
    s = Scheduler(db, pool="external")
    ids = train_runs(s, sid(ME), seeds=(0, 1))
    s.weights.delete(ids[1])  # as if evicted past the total cap
    try:
        yield s, ids[0], ids[1]
    finally:
        s.close()
        mp.undo()
        sched._scheduler.clear()
        sched.teacher_key.clear()


def page(name: str, lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    at.session_state["_student_token"] = ME
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "success", "error", "warning", "info", "subheader")
                    for e in at.get(kind))


def specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def heatmap(at) -> dict:
    return next(d for s in specs(at) for d in s["data"] if d["type"] == "heatmap" and "texttemplate" in d)


def tab(at, label: str, prefix: str = "tr.results") -> AppTest:
    """The view with its tab ``label`` open (the tabs keep the open one in session state)."""
    at.session_state[f"{prefix}.tab"] = label
    return at.run()


def uploader(at):
    """The view's "try your own" uploader (its key ends in ``try_up``)."""
    return next(u for u in at.get("file_uploader") if u.id.endswith("try_up"))


def png(w: int, h: int, dark_on_light: bool = False) -> bytes:
    a = np.zeros((h, w), dtype=np.uint8)
    a[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 230  # a light block on black, as the datasets are
    if dark_on_light:
        a = 255 - a
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def test_training_page_shows_the_results_of_its_finished_run(runs):
    s, rid, _ = runs
    at = page("training", run=rid).run()
    assert not at.exception, at.exception
    info = s.get(rid)
    values = {m.label: m.value for m in at.metric}
    assert values["Test images"] == "300"
    assert values["Test accuracy"] == f"{100 * info.summary['test_acc']:.1f}%"  # the run's own test accuracy
    hm = heatmap(at)
    z = np.array(hm["z"])
    assert z.shape == (10, 10) and z.sum() == 300
    assert hm["x"][0] == "T-shirt/top" and hm["y"][9] == "Ankle boot"  # Fashion-MNIST's classes on both axes
    wrong = 300 - int(np.trace(z))
    assert values["Misclassified"] == f"{wrong:,}"
    tab(at, "Mistakes")
    assert not at.exception, at.exception
    grid = next(s for s in specs(at) if any(d["type"] == "image" for d in s["data"]))
    captions = [a["text"] for a in grid["layout"]["annotations"]]
    assert len(captions) == min(32, wrong) and all("→" in c and "%" in c for c in captions)
    assert "kept on the server" in texts(at) and "Your saved networks:" in texts(at) and "the class:" in texts(at)
    # the view's own toggle: each row as a share of its true class, the counts still in the cells
    tab(at, "Confusion matrix")
    at.toggle(key="tr.results.norm").set_value(True).run()
    assert not at.exception
    hm = heatmap(at)
    assert np.array(hm["text"]).sum() == 300 and max(max(r) for r in hm["z"] if r) <= 1.0


def test_try_your_own_letterboxed_then_cropped_and_a_broken_upload(runs):
    _, rid, _ = runs
    at = tab(page("training", run=rid), "Try your own")
    src = at.radio(key="tr.results.try_src")
    assert src.options == ["upload", "draw"] and src.value == "upload"  # the canvas is the other source
    uploader(at).set_value(("wide.png", png(60, 30), "image/png")).run()
    assert not at.exception, at.exception
    assert "letterboxed" in texts(at) and "inverted" not in texts(at)
    top = next(s for s in specs(at) if s["data"][0]["type"] == "bar" and s["data"][0].get("orientation") == "h")
    assert len(top["data"][0]["y"]) == 3 and sum(top["data"][0]["x"]) <= 1.0 + 1e-6
    at.radio(key="tr.results.fit").set_value("crop").run()
    assert not at.exception and "cropped" in texts(at) and "letterboxed" not in texts(at)
    uploader(at).set_value(("dark.png", png(30, 30, dark_on_light=True), "image/png")).run()
    assert "square" in texts(at) and "inverted" in texts(at)
    for data, words in ((b"GIF89a" + b"\0" * 64, "PNG/JPEG"), (png(40, 30)[:60], "damaged or truncated")):
        uploader(at).set_value(("bad.png", data, "image/png")).run()
        assert not at.exception, at.exception
        assert any(words in e.value for e in at.error)


def test_draw_says_draw_first_and_is_remembered_by_the_view(runs):
    _, rid, _ = runs
    at = tab(page("training", run=rid), "Try your own")
    at.radio(key="tr.results.try_src").set_value("draw").run()
    assert not at.exception, at.exception
    assert "Draw something first" in texts(at) and "the toolbar above it" in texts(at)
    assert not at.get("file_uploader") and at.radio(key="tr.results.try_src").value == "draw"
    assert not [s for s in specs(at) if s["data"][0].get("orientation") == "h"]  # no guesses for a blank canvas
    tab(at, "Feature maps")  # the tab closes: its widgets go; the choice is the view's
    tab(at, "Try your own")
    assert not at.exception and at.radio(key="tr.results.try_src").value == "draw"
    assert "Draw something first" in texts(at)


def test_a_drawing_becomes_a_light_on_dark_png_and_a_blank_one_none(runs):
    """What the canvas gives (H x W x 4 RGBA) → a grey PNG through ``fit_image``: white strokes on
    black stay light on dark (no inversion), a square needs no fitting; blank (all zero, opaque
    black, or strokes of zero opacity) is None, never a prediction."""
    from cnnviz.jobs import finished as lr

    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    assert fm.drawing_png(rgba) is None and fm.drawing_png(None) is None
    rgba[..., 3] = 255  # the component's black background, opaque
    assert fm.drawing_png(rgba) is None
    ghost = rgba.copy()
    ghost[100:180, 130:150] = (255, 255, 255, 0)  # white of zero opacity: nothing drawn
    assert fm.drawing_png(ghost) is None
    rgba[40:240, 130:152, :3] = 255  # a white vertical stroke, 22 px wide: a "1"
    data = fm.drawing_png(rgba)
    img = np.asarray(Image.open(io.BytesIO(data)))
    assert img.shape == (280, 280) and img[50, 140] == 255 and img[10, 10] == 0
    fitted = lr.fit_image(data, (28, 28), "L")
    assert fitted.shape == "square" and not fitted.inverted
    x = fitted.x[0, 0]  # 28 x 28 in [0, 1]
    assert x[14, 14] > 0.9 and x[1, 1] == 0 and x[14, 3] == 0  # the stroke in the middle, black around it


def test_the_test_split_is_the_one_the_run_used(runs):
    """A run that fell back to the synthetic set is shown the synthetic test split (with a note), not
    its config's dataset; a run on real images gets those, without a note."""
    import dataclasses

    from cnnviz.jobs import finished as lr
    from cnnviz.train.data import DataConfig, load_data
    from ui import results as ur

    s, rid, _ = runs
    real = lr.load_run(s.store, s.weights, rid)
    x, y, notice = ur.test_split(real)
    assert notice is None and len(y) == 300
    assert real.cfg.data.dataset == "fashion-mnist"
    fell = dataclasses.replace(real, info=dataclasses.replace(real.info, summary={**real.info.summary,
                                                                                  "dataset": "synthetic"}))
    sx, sy, snote = ur.test_split(fell)
    synth = load_data(dataclasses.replace(real.cfg.data, dataset="synthetic"))
    assert isinstance(real.cfg.data, DataConfig) and len(sy) == 300
    assert torch_equal(sx, synth.test_x) and not torch_equal(sx, x)
    assert "synthetic set" in snote.render("en") and "Fashion-MNIST" in snote.render("en")


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def test_feature_maps_of_the_trained_network(runs):
    _, rid, _ = runs
    at = page("training", run=rid).run()
    assert len(at.get("plotly_chart")) == 3 + 2  # curves, grads; confusion, per class (hidden tabs run nothing)
    tab(at, "Feature maps")
    assert len(at.get("plotly_chart")) == 3 + 1 + 2  # ...; the input, LeNet's two convs
    at.number_input(key="tr.results.img").set_value(5).run()
    assert not at.exception and "true class:" in texts(at) and "the network says:" in texts(at)
    # the lab's link (a markdown link here: AppTest runs the page outside app.py's navigation)
    assert f"/featuremaps?weights=run&run={rid}&img=5" in texts(at)


def test_the_feature_map_lab_on_a_run_uses_its_test_split(runs):
    """``?weights=run&run=<id>&img=3``: the lab's image numbers are into the run's own 300 test images."""
    _, rid, _ = runs
    at = page("featuremaps", weights="run", run=rid, img="3").run()
    assert not at.exception, at.exception
    box = at.number_input(key="featuremaps.img")
    assert box.value == 3 and box.max == 299
    assert len(at.get("plotly_chart")) >= 3  # the input and LeNet's two convs


def test_an_evicted_run_says_so_and_still_shows_its_confusion(runs):
    _, _, gone = runs
    at = page("training", run=gone).run()
    assert not at.exception, at.exception
    assert "were evicted" in texts(at) and "oldest first" in texts(at)
    assert np.array(heatmap(at)["z"]).sum() == 300  # recorded with the run: no weights needed
    for label in ("Try your own", "Feature maps"):  # these need the weights
        tab(at, label)
        assert not at.exception and not at.get("file_uploader") and "were evicted" in at.info[0].value


def test_the_class_board_picks_a_run_and_shows_its_results(runs):
    _, rid, gone = runs
    at = page("board").run()
    assert not at.exception, at.exception
    pick = at.selectbox(key="board.res_pick")
    assert len(pick.options) == 2  # both finished runs, the evicted one too (its results need no weights)
    pick.set_value(rid).run()
    assert not at.exception and np.array(heatmap(at)["z"]).sum() == 300
    assert "kept on the server" in texts(at)
    at.selectbox(key="board.res_pick").set_value(gone).run()
    assert not at.exception and "were evicted" in texts(at)


def test_the_teachers_page_shows_results_behind_the_key(runs):
    _, rid, _ = runs
    at = page("teacher").run()
    assert not at.get("plotly_chart")  # locked: nothing of the class
    at.text_input[0].input(KEY)
    next(b for b in at.button if b.label == "Unlock").click().run()
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="teacher.res_pick").set_value(rid).run()
    assert not at.exception and np.array(heatmap(at)["z"]).sum() == 300


def test_chinese_results(runs):
    _, rid, _ = runs
    at = page("training", "zh", run=rid).run()
    assert not at.exception, at.exception
    assert "训练好的网络的结果" in texts(at)
    hm = heatmap(at)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(hm["x"]))  # class names in Chinese


def test_weights_state_reads_the_summary_and_the_file(runs):
    """kept (the file is there), evicted (kept, and gone), too big or none (never kept)."""
    import dataclasses

    from cnnviz.jobs import finished

    s, rid, gone = runs
    w = s.weights
    assert finished.weights_state(s.get(rid), w) == "kept" and finished.weights_state(s.get(gone), w) == "evicted"
    info = s.get(gone)
    too_big = dataclasses.replace(info, summary={**info.summary, "weights": "too_big"})
    assert finished.weights_state(too_big, w) == "too_big"
    assert finished.weights_state(dataclasses.replace(info, summary={}), w) == "none"
    assert [r.id for r in finished.kept_runs(s.runs(None), w)] == [rid]
    assert {r.id for r in finished.finished_runs(s.runs(None))} == {rid, gone}


def test_a_run_without_results_says_so_and_still_answers_an_upload(runs):
    s, _, _ = runs
    rid = train_runs(s, sid(ME), seeds=(2,), results=False)[0]
    at = page("training", run=rid).run()
    assert not at.exception, at.exception
    assert "no results recorded for this run" in texts(at) and "kept on the server" in texts(at)
    assert [t.label for t in at.tabs][-2:] == ["Feature maps", "Try your own"]
    at = tab(at, "Try your own")
    uploader(at).set_value(("tall.png", png(20, 50), "image/png")).run()
    assert not at.exception and "letterboxed" in texts(at)
