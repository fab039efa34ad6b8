"""``train`` records its run in the run store; ``evaluate RUN_ID`` and ``predict RUN_ID IMAGE``
read it back (real tiny LeNet runs on real Fashion-MNIST, a temporary ``CNNVIZ_DB``)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import SHARED_DATA, WAIT_S, need_data
from PIL import Image

from cnnviz.runs.store import RunStore, worker_name
from cnnviz.runs.weights import WeightStore

from cli_helpers import error_line, run_cli

SLOW_FIXTURES = {"recorded"}  # a LeNet trained on real Fashion-MNIST by the CLI (conftest marks their tests slow)
TRAIN = ["train", "lenet", "--dataset", "fashion-mnist", "--subset", "512", "--test-subset", "200", "--epochs", "2",
         "--batch-size", "32", "--lr", "0.3", "--threads", "1"]
SMALL = ["train", "lenet", "--dataset", "synthetic", "--subset", "64", "--test-subset", "32", "--max-steps", "2",
         "--batch-size", "32"]  # two steps: a recorded run in a moment


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One recorded CLI run: (db path, its printed events)."""
    need_data()
    db = tmp_path_factory.mktemp("clires") / "runs.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNVIZ_DB", str(db))
    mp.setenv("CNNVIZ_DATA_DIR", str(SHARED_DATA))
    code, out, err = run_cli(*TRAIN, "--json-lines")
    assert code == 0, err
    yield db, [json.loads(line) for line in out.splitlines()]
    mp.undo()


def test_train_records_its_run_and_says_its_id(recorded):
    db, events = recorded
    end = events[-1]
    assert end["kind"] == "end" and end["status"] == "completed" and len(end["run_id"]) == 12
    store = RunStore(db)
    try:
        info = store.get(end["run_id"])
        assert info.status == "completed" and info.owner == "cli" and info.worker == worker_name()
        assert info.summary["weights"] == "kept" and info.summary["test_acc"] == end["test_acc"]
        stored = store.events(end["run_id"])
        assert [e.to_dict() for e in stored] == [*events[:-1], {k: v for k, v in end.items() if k != "run_id"}]
        assert [e.kind for e in stored][-2:] == ["results", "end"]
        assert WeightStore.beside(db).exists(end["run_id"])
    finally:
        store.close()


def test_no_store_records_nothing(recorded, tmp_path, monkeypatch):
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    code, out, err = run_cli(*SMALL, "--json-lines", "--no-store")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and events[-1]["kind"] == "end" and "run_id" not in events[-1]
    assert not db.exists() or RunStore(db).list(kinds=None) == []
    assert not WeightStore.beside(db).files()


def test_progress_output_says_where_the_run_went(recorded, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    code, out, err = run_cli(*SMALL)
    rid = RunStore(tmp_path / "runs.sqlite").list()[0].id
    assert code == 0 and out == "" and f"recorded as run {rid}" in err and f"cnnviz evaluate {rid}" in err


def test_evaluate_json_agrees_with_the_run(recorded, monkeypatch):
    db, events = recorded
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    end = events[-1]
    code, out, err = run_cli("evaluate", end["run_id"], "--json")
    assert code == 0, err
    rep = json.loads(out)
    conf = np.array(rep["confusion"])
    assert conf.shape == (10, 10) and conf.sum() == events[0]["n_test"] == rep["n"] == 200
    assert np.trace(conf) / conf.sum() == end["test_acc"] == rep["accuracy"] == rep["recorded_test_acc"]
    assert rep["classes"][0] == "T-shirt/top" and rep["per_class"][9]["name"] == "Ankle boot"
    for i, c in enumerate(rep["per_class"]):
        assert c["n"] == conf[i].sum() and c["accuracy"] == (conf[i, i] / conf[i].sum() if conf[i].sum() else None)
    stored = next(e for e in events if e["kind"] == "results")["results"]  # as printed by train --json-lines
    assert stored["confusion"] == rep["confusion"]  # recomputed from the weights: what the run recorded


def test_evaluate_text(recorded, monkeypatch):
    db, events = recorded
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    code, out, err = run_cli("evaluate", events[-1]["run_id"])
    assert code == 0 and "Ankle boot" in out and "confusion matrix" in out and "200 test images" in out


def _test_png(path, index: int = 0) -> None:
    raw = (SHARED_DATA / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()
    img = np.frombuffer(raw[16 + 784 * index: 16 + 784 * (index + 1)], np.uint8).reshape(28, 28)
    Image.fromarray(img).save(path)


def test_predict_json_gives_the_top_3(recorded, tmp_path, monkeypatch):
    db, events = recorded
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    png = tmp_path / "test0.png"
    _test_png(png)
    code, out, err = run_cli("predict", events[-1]["run_id"], str(png), "--json")
    assert code == 0, err
    rep = json.loads(out)
    probs = [c["prob"] for c in rep["top"]]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert len({c["class"] for c in rep["top"]}) == 3 and all(c["name"] for c in rep["top"])
    assert rep["fit"] == "square" and rep["inverted"] is False
    wide = tmp_path / "wide.png"
    Image.fromarray(np.hstack([np.asarray(Image.open(png))] * 2)).save(wide)
    code, out, err = run_cli("predict", events[-1]["run_id"], str(wide), "--k", "5", "--fit", "crop", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["fit"] == "cropped" and len(rep["top"]) == 5 and "cropped" in rep["notes"][0]
    code, out, err = run_cli("predict", events[-1]["run_id"], str(png))
    assert code == 0 and out.count("%") == 3 and "square" in out


def test_errors_are_one_line_with_exit_2(recorded, tmp_path, monkeypatch):
    db, events = recorded
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    rid = events[-1]["run_id"]
    png = tmp_path / "ok.png"
    _test_png(png)
    assert "no run 'nosuchrun01'" in error_line(*run_cli("evaluate", "nosuchrun01"))
    assert "no run" in error_line(*run_cli("predict", "nosuchrun01", str(png)))
    assert "cannot read the image" in error_line(*run_cli("predict", rid, str(tmp_path / "missing.png")))
    (tmp_path / "note.png").write_bytes(b"this is not an image")
    assert "PNG/JPEG" in error_line(*run_cli("predict", rid, str(tmp_path / "note.png")))
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[:2000])
    error_line(*run_cli("predict", rid, str(tmp_path / "cut.png")))
    error_line(*run_cli("predict", rid, str(png), "--k", "0"))
    store = RunStore(db)
    try:
        store.create("labjob0000a1", "lenet", "fm", {"arch": "lenet"}, "student1", kind="featuremaps")
        assert "lab job" in error_line(*run_cli("evaluate", "labjob0000a1"))
        store.create("queued0000a1", "lenet", "q", store.get(rid).config, "student1")
        assert "queued" in error_line(*run_cli("evaluate", "queued0000a1"))
    finally:
        store.close()


def test_evicted_weights_are_one_line_with_exit_2(recorded, tmp_path, monkeypatch):
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    code, out, err = run_cli(*SMALL, "--json-lines")
    rid = json.loads(out.splitlines()[-1])["run_id"]
    WeightStore.beside(db).path(rid).unlink()  # as eviction past the total cap does
    line = error_line(*run_cli("evaluate", rid))
    assert "evicted" in line and "CNNVIZ_WEIGHTS_MAX_MB" in line
    png = tmp_path / "ok.png"
    _test_png(png)
    assert "evicted" in error_line(*run_cli("predict", rid, str(png)))


@pytest.mark.slow  # a CLI run stopped mid-training
def test_a_stop_from_the_store_stops_a_cli_run_which_keeps_its_results(recorded, tmp_path, monkeypatch):
    import threading

    from conftest import until

    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("CNNVIZ_DB", str(db))
    got = {}
    t = threading.Thread(target=lambda: got.update(r=run_cli(*SMALL[:-4], "--epochs", "1000", "--batch-size", "32",
                                                              "--json-lines")))
    t.start()
    store = RunStore(db)
    try:
        running = until(lambda: [i for i in store.list() if i.summary.get("step", 0) >= 3], what="the CLI run's steps")
        store.request_stop(running[0].id)  # a teacher's Stop on the page
        t.join(WAIT_S)
        code, out, err = got["r"]
        events = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and events[-1]["status"] == "stopped" and events[-1]["run_id"] == running[0].id
        assert events[-2]["kind"] == "results" and events[-2]["results"]["n"] == 32
        assert store.get(running[0].id).status == "stopped" and WeightStore.beside(db).exists(running[0].id)
    finally:
        store.close()


@pytest.mark.slow  # a CLI subprocess
def test_ctrl_c_records_the_run_as_interrupted(recorded, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", *SMALL[:-4], "--epochs", "1000", "--json-lines"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, CNNVIZ_DB=str(db)))
    try:
        first = json.loads(proc.stdout.readline())
        assert first["kind"] == "start"
        proc.stdout.readline()  # a step: training has begun
        proc.send_signal(signal.SIGINT)
        proc.wait(WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in proc.stderr.read()
    store = RunStore(db)
    try:
        (info,) = store.list()
        assert info.status == "interrupted" and info.ended is not None and not WeightStore.beside(db).files()
        assert store.events(info.id)[-1].kind == "end"  # ended within a step, as the pool's SIGTERM ends a job
    finally:
        store.close()
