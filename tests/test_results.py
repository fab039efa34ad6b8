"""A finished run's results (``cnnviz.train.evaluate``, ``cnnviz.jobs.finished``): real tiny LeNet
runs on real Fashion-MNIST, recorded by the worker's ``run_job`` into a temporary store, checked
against an independent count; the kept weights' outcomes; fitting an upload; top-k predictions."""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, need_data
from PIL import Image

from cnnviz.jobs import finished as R
from cnnviz.labs.featuremaps import UploadError
from cnnviz.runs.store import RunStore
from cnnviz.runs.weights import WeightStore
from cnnviz.runs.worker import run_job
from cnnviz.train.config import TrainConfig
from cnnviz.train.evaluate import Results

SLOW_FIXTURES = {"env"}  # LeNet trained on real Fashion-MNIST (conftest marks their tests slow)
TEST_N = 300


def _cfg(**kw) -> TrainConfig:
    base = dict(dataset="fashion-mnist", data_dir=str(SHARED_DATA), subset=1024, test_subset=TEST_N, lr=0.3,
                batch_size=32, epochs=2)
    base.update(kw)
    return TrainConfig.create("lenet", **base)


def _run(store: RunStore, weights: WeightStore, rid: str, cfg: TrainConfig, stop_first: bool = False) -> list[dict]:
    """Run ``cfg`` as the pool's worker would: created, claimed, run, recorded."""
    store.create(rid, "lenet", rid, cfg.to_dict(), "student1", device="cpu")
    info = store.claim("test:1")
    assert info.id == rid
    if stop_first:
        store.request_stop(rid)  # pressed before the first step
    run_job(store, info, weights)
    return store.events(rid)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    need_data()
    folder = tmp_path_factory.mktemp("results")
    store = RunStore(folder / "runs.sqlite")
    weights = WeightStore.beside(store.path)
    events = _run(store, weights, "run0000done1", _cfg())
    yield store, weights, events
    store.close()


def _independent(weights: WeightStore, rid: str, cfg: TrainConfig):
    """The test split read straight from the IDX files, the network built from the config and
    the weights file loaded with torch: (labels, images, argmax, top probability), numpy."""
    from cnnviz.models.registry import create_model

    raw = SHARED_DATA / "FashionMNIST" / "raw"
    imgs = np.frombuffer((raw / "t10k-images-idx3-ubyte").read_bytes()[16:], np.uint8).reshape(-1, 28, 28)[:TEST_N]
    labels = np.frombuffer((raw / "t10k-labels-idx1-ubyte").read_bytes()[8:], np.uint8)[:TEST_N].astype(np.int64)
    model = create_model(cfg.model)
    model.load_state_dict(torch.load(weights.path(rid), weights_only=True))
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(imgs.astype(np.float32) / 255.0)[:, None]), 1).numpy()
    return labels, imgs, probs.argmax(1), probs.max(1)


def test_a_completed_run_records_its_results_just_before_its_end(env):
    store, weights, events = env
    kinds = [e.kind for e in events]
    assert kinds[-2:] == ["results", "end"] and kinds.count("results") == 1
    end = events[-1]
    res = R.stored_results(events)
    assert end.status == "completed" and res.run_id == "run0000done1" and res.dataset == "fashion-mnist"
    assert res.n == TEST_N == events[0].n_test
    assert sum(map(sum, res.confusion)) == TEST_N
    assert sum(res.confusion[i][i] for i in range(10)) / sum(map(sum, res.confusion)) == end.test_acc
    assert res.accuracy == end.test_acc
    assert store.get("run0000done1").summary["weights"] == "kept"
    assert store.get("run0000done1").summary["weights_bytes"] == weights.path("run0000done1").stat().st_size


def test_the_results_equal_an_independent_count_and_a_recomputation(env):
    store, weights, events = env
    res = R.stored_results(events)
    run = R.load_run(store, weights, "run0000done1")
    labels, imgs, pred, top = _independent(weights, "run0000done1", run.cfg)
    assert int((pred == labels).sum()) == sum(res.confusion[i][i] for i in range(10))
    conf = np.zeros((10, 10), np.int64)
    np.add.at(conf, (labels, pred), 1)
    assert conf.tolist() == [list(r) for r in res.confusion]
    for c in range(10):
        rows = conf[c].sum()
        assert res.per_class[c] == (conf[c, c] / rows if rows else None)
    assert 0.3 < res.accuracy < 1  # it learnt something (chance is 0.1)
    assert R.evaluate(run) == res  # recomputed from the kept weights: the same, mistakes included
    assert not run.model.training and next(run.model.parameters()).device.type == "cpu"


def test_the_mistakes_are_wrong_and_the_most_confident_first(env):
    store, weights, events = env
    res = R.stored_results(events)
    labels, imgs, pred, top = _independent(weights, "run0000done1", TrainConfig.from_dict(
        store.get("run0000done1").config))
    wrong = int((pred != labels).sum())
    assert len(res.mistakes) == min(32, wrong) > 0
    probs = [m.prob for m in res.mistakes]
    assert probs == sorted(probs, reverse=True)
    for m in res.mistakes:
        assert m.true == labels[m.index] != m.pred == pred[m.index]
        assert m.prob == pytest.approx(float(top[m.index]), abs=1e-5)
        assert np.array_equal(np.array(m.image, np.uint8), imgs[m.index])
    # nothing wrong left out was more confident than the last one kept
    rest = sorted(float(top[i]) for i in np.nonzero(pred != labels)[0] if i not in {m.index for m in res.mistakes})
    assert not rest or rest[-1] <= probs[-1] + 1e-6
    assert len(R.evaluate(R.load_run(store, weights, "run0000done1"), max_mistakes=3).mistakes) == 3


def test_results_round_trip_through_json(env):
    res = R.stored_results(env[2])
    d = json.loads(json.dumps(res.to_dict()))
    assert Results.from_dict(d) == res and Results.from_dict(res.to_dict()) == res
    assert isinstance(d["confusion"], list) and len(d["mistakes"][0]["image"]) == 28


def test_a_stopped_run_carries_the_results_of_the_network_as_it_stopped(env):
    store, weights, _ = env
    events = _run(store, weights, "run0000stop1", _cfg(), stop_first=True)
    assert events[-1].status == "stopped" and events[-2].kind == "results"
    res = R.stored_results(events)
    assert res.n == TEST_N and sum(map(sum, res.confusion)) == TEST_N
    assert R.evaluate(R.load_run(store, weights, "run0000stop1")) == res


def test_a_run_that_fell_back_to_the_synthetic_set_is_evaluated_on_it(env, tmp_path, monkeypatch):
    from cnnviz.train import data

    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: False)  # never reach for the network
    store = RunStore(tmp_path / "runs.sqlite")
    weights = WeightStore.beside(store.path)
    events = _run(store, weights, "run0000fall1", _cfg(data_dir=str(tmp_path / "nothing"), epochs=1, subset=64))
    res = R.stored_results(events)
    assert events[0].dataset == res.dataset == "synthetic" and res.n == TEST_N
    run = R.load_run(store, weights, "run0000fall1")
    assert run.cfg.data.dataset == "fashion-mnist"  # what was asked for; the images were the shapes
    assert R.evaluate(run) == res and R.run_data(run).dataset == "synthetic"


def test_test_images_gone_from_this_machine_say_so(env, tmp_path, monkeypatch):
    import dataclasses

    from cnnviz.train import data

    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: False)
    store, weights, _ = env
    run = R.load_run(store, weights, "run0000done1")
    moved = dataclasses.replace(run, cfg=run.cfg.replace(data=dataclasses.replace(run.cfg.data,
                                                                                  data_dir=str(tmp_path))))
    with pytest.raises(data.DataError) as err:  # never the synthetic shapes' numbers in their place
        R.evaluate(moved)
    assert err.value.code == "res.err.data_missing" and str(tmp_path) in str(err.value)


def test_evicted_weights_say_so(env, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    weights = WeightStore(tmp_path / "w", max_total_bytes=1)  # every file is over the total cap: evicted at once
    events = _run(store, weights, "run0000evic1", _cfg(epochs=1, subset=64))
    info = store.get("run0000evic1")
    assert info.summary["weights"] == "kept" and not weights.exists("run0000evic1")
    assert R.stored_results(events) is not None  # the results outlive the weights
    with pytest.raises(R.WeightsGone) as err:
        R.load_run(store, weights, "run0000evic1")
    assert err.value.code == "res.err.evicted" and "evicted" in str(err.value)
    assert "CNNVIZ_WEIGHTS_MAX_MB" in str(err.value) and "total cap" in str(err.value)
    assert err.value.render("zh") != str(err.value)


def test_weights_over_the_run_cap_are_never_kept_and_say_so(env, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    weights = WeightStore(tmp_path / "w", max_run_bytes=1000)
    _run(store, weights, "run0000big01", _cfg(epochs=1, subset=64))
    s = store.get("run0000big01").summary
    assert s["weights"] == "too_big" and s["weights_bytes"] > 1000 and not weights.exists("run0000big01")
    with pytest.raises(R.WeightsGone) as err:
        R.load_run(store, weights, "run0000big01")
    msg = str(err.value)
    assert err.value.code == "res.err.too_big" and "per-run cap" in msg and "CNNVIZ_WEIGHTS_MAX_RUN_MB" in msg
    usage = weights.usage()
    assert (usage.files, usage.total_bytes, usage.max_run_bytes) == (0, 0, 1000)


def test_usage_counts_the_kept_files(env):
    store, weights, _ = env
    u = weights.usage()
    assert u.files == len(weights.files()) >= 1
    assert u.total_bytes == sum(p.stat().st_size for p in weights.files())
    assert u.max_total_bytes == weights.max_total_bytes and u.max_run_bytes == weights.max_run_bytes


def test_runs_that_cannot_be_evaluated_say_why(env):
    store, weights, _ = env
    with pytest.raises(R.UnknownRun, match="nosuchrun"):
        R.load_run(store, weights, "nosuchrun")
    store.create("labjob000001", "lenet", "fm", {"arch": "lenet"}, "student1", kind="featuremaps")
    with pytest.raises(R.NotTrainRun, match="lab job"):
        R.load_run(store, weights, "labjob000001")
    store.create("queued000001", "lenet", "q", _cfg().to_dict(), "student2")
    with pytest.raises(R.NotFinished, match="queued"):
        R.load_run(store, weights, "queued000001")
    store.request_stop("queued000001")  # stopped while queued: it never trained
    with pytest.raises(R.NotFinished, match="never"):
        R.load_run(store, weights, "queued000001")
    assert R.stored_results([{"kind": "start"}, {"kind": "end"}]) is None


def test_class_names():
    assert R.class_names("fashion-mnist")[0] == "T-shirt/top" and R.class_names("fashion-mnist")[9] == "Ankle boot"
    assert R.class_names("fashion-mnist", "zh")[3] == "连衣裙"
    assert R.class_names("mnist") == [str(i) for i in range(10)]
    assert R.class_names("synthetic")[4] == "ring" and len(set(R.class_names("synthetic", "zh"))) == 10


# --- uploads ------------------------------------------------------------------------------------------
def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_a_square_light_on_dark_image_is_resized_as_it_is():
    a = np.zeros((56, 56), np.uint8)
    a[14:42, 14:42] = 255
    f = R.fit_image(_png(a), (28, 28))
    assert (f.shape, f.inverted) == ("square", False) and f.x.shape == (1, 1, 28, 28)
    assert f.x[0, 0, 14, 14] > 0.9 and f.x[0, 0, 0, 0] == 0
    assert "square" in f.notes()[0] and len(f.notes("zh")) == 1


def test_a_wide_image_is_letterboxed_with_its_background_level():
    a = np.full((28, 56), 40, np.uint8)  # a dark grey background, not black
    a[4:24, 10:46] = 250
    f = R.fit_image(_png(a), (28, 28))
    assert (f.shape, f.inverted) == ("letterboxed", False)
    x = f.x[0, 0]
    assert torch.allclose(x[:5], torch.full((5, 28), 40 / 255), atol=1e-3)  # padding above: the background grey
    assert torch.allclose(x[-5:], torch.full((5, 28), 40 / 255), atol=1e-3)
    assert x[14, 14] > 0.9  # the content is whole, in the middle band


def test_a_tall_image_letterboxes_left_and_right_and_crop_cuts_instead():
    a = np.zeros((84, 28), np.uint8)
    a[:28] = 255  # the top third bright: cropping to the centre drops it
    a[28:56, 10:18] = 200
    f = R.fit_image(_png(a), (28, 28))
    assert f.shape == "letterboxed" and float(f.x[0, 0, :, :8].max()) == 0.0  # side padding, black as its border
    c = R.fit_image(_png(a), (28, 28), fit="crop")
    assert c.shape == "cropped" and not c.inverted
    assert c.x[0, 0, 14, 14] == pytest.approx(200 / 255, abs=0.01) and float(c.x[0, 0, :, 0].max()) == 0.0
    assert "cropped" in c.notes()[0]


def test_dark_strokes_on_light_paper_are_inverted():
    a = np.full((40, 40), 230, np.uint8)
    a[18:22, 5:35] = 20  # a dark horizontal stroke
    f = R.fit_image(_png(a), (28, 28))
    assert f.inverted and f.shape == "square"
    x = f.x[0, 0]
    assert x[14, 14] > 0.8 and x[0, 0] == pytest.approx((255 - 230) / 255, abs=0.01)
    assert any("inverted" in n for n in f.notes())
    rgb = R.fit_image(_png(np.stack([a] * 3, -1)), (32, 32), mode="RGB")
    assert rgb.inverted and rgb.x.shape == (1, 3, 32, 32)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@pytest.mark.parametrize("data,code", [
    (b"", "err.upload.empty"),
    (b"GIF89a not an image we take", "err.upload.type"),
    (_png(np.random.default_rng(0).integers(0, 256, (64, 64)))[:2000], "err.upload.broken"),
    (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 5000, 5000, 8, 0, 0, 0, 0))
     + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b""), "err.upload.too_many_pixels"),
])
def test_uploads_keep_the_safety_rules(data, code):
    with pytest.raises(UploadError) as err:
        R.fit_image(data, (28, 28))
    assert err.value.code == code


def test_predict_gives_the_top_k_most_probable_first(env):
    store, weights, events = env
    run = R.load_run(store, weights, "run0000done1")
    labels, imgs, pred, top = _independent(weights, "run0000done1", run.cfg)
    f = R.fit_image(_png(imgs[0]), run.cfg.model.input_hw)
    assert f.shape == "square" and not f.inverted  # a dataset image is already light on dark
    top3 = R.predict(run, f.x, k=3)
    assert len(top3) == 3 and len({c for c, _ in top3}) == 3
    ps = [p for _, p in top3]
    assert ps == sorted(ps, reverse=True) and sum(ps) <= 1 + 1e-6
    assert top3[0][0] == pred[0] and ps[0] == pytest.approx(float(top[0]), abs=1e-5)
    every = R.predict(run, f.x, k=50)  # clipped to the 10 classes
    assert len(every) == 10 and sum(p for _, p in every) == pytest.approx(1.0, abs=1e-5)
