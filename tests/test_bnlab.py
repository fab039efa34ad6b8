"""The BatchNorm lab: the seed's layer equals PyTorch's, the modes, the noise, the hooks, the paired LeNet."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import WAIT_S
from torch import nn

from cnnviz.errors import ConfigError
from cnnviz.labs import bnlab
from cnnviz.labs.bnlab import ActivationRecorder, BNPairConfig, batch_noise, batch_vs_running, compare_batchnorm
from cnnviz.labs.gradflow import PairHistory, series_from_events
from cnnviz.models.layers import BatchNorm
from cnnviz.train.data import DataConfig, load_data, prepare
from cnnviz.train.events import event_from_dict


@pytest.mark.parametrize("shape", [(16, 4, 8, 8), (2, 1, 1, 1), (64, 16, 4, 4), (3, 8, 5, 7)])
def test_scratch_batchnorm_equals_pytorch(shape):
    n, c, h, w = shape
    r = compare_batchnorm(n, c, h, w, steps=3, seed=1)
    assert r.max_diff < 1e-4, r
    assert len(r.train_out) == 3 and max(r.train_out) < 1e-5
    assert r.eval_out < 1e-5 and r.running_mean < 1e-6 and r.running_var < 1e-5
    if n * h * w > 1:
        assert abs(r.out_mean) < 1e-5 and abs(r.out_std - 1) < 1e-3  # standardised before γ, β


@pytest.mark.slow  # LeNet trained
def test_scratch_layer_inside_lenet_matches_torch_layer():
    """LeNet with the seed's layer and with PyTorch's, same weights: same logits, same gradients."""
    from cnnviz.models.registry import create_model, get_config

    torch.manual_seed(0)
    a = create_model(get_config("lenet", bn_impl="scratch"))
    b = create_model(get_config("lenet", bn_impl="torch"))
    rename = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_var": "running_var"}
    sb = b.state_dict()
    with torch.no_grad():
        for k, v in a.state_dict().items():
            mod, _, leaf = k.rpartition(".")
            v.copy_(sb[f"{mod}.{rename.get(leaf, leaf)}"].view_as(v))
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    la, lb = a(x), b(x)
    nn.functional.cross_entropy(la, y).backward()
    nn.functional.cross_entropy(lb, y).backward()
    assert (la - lb).abs().max() < 1e-5
    assert (a.features[0].weight.grad - b.features[0].weight.grad).abs().max() < 1e-5


SLOW_FIXTURES = {"feats"}  # LeNet's conv features of 1,024 images (conftest marks their tests slow)
@pytest.fixture(scope="module")
def feats() -> torch.Tensor:
    data = load_data(DataConfig())
    return bnlab.conv_features(prepare(data.train_x[:1024], (28, 28), 1))


def test_batch_vs_running_and_the_mode_switch(feats):
    r = batch_vs_running(feats, batch_size=32, steps=60, momentum=0.1, seed=0)
    assert r.history[0]["running_mean"] == pytest.approx(0.1 * r.history[0]["batch_mean"], rel=1e-5)
    # after 60 steps (≫ 1/momentum) the running mean tracks the population's, the batch mean scatters around it
    pop = feats.mean(dim=(0, 2, 3))
    assert torch.allclose(torch.tensor(r.running_mean), pop, atol=0.05)
    assert r.companions_eval == 0.0  # evaluation mode: an image's output ignores its batch
    assert r.companions_train > 1e-3  # training mode: it depends on the batch
    assert r.train_vs_eval > 1e-3
    with pytest.raises(ConfigError):
        batch_vs_running(feats, batch_size=1)


def test_batch_noise_falls_as_one_over_sqrt_b(feats):
    rows = batch_noise(feats, batch_sizes=(4, 16, 64, 256), trials=300, seed=0)
    by_b = {r["batch_size"]: r for r in rows}
    ratio = by_b[256]["mean_noise"] / by_b[4]["mean_noise"]
    assert ratio == pytest.approx(math.sqrt(4 / 256), rel=0.3)  # 1/8
    for r in rows:
        assert r["mean_noise"] == pytest.approx(r["theory"], rel=0.3)
        assert r["std_noise"] > 0


def test_recorder_removes_hooks_and_ignores_eval_passes():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 3), nn.Sigmoid())
    x = torch.randn(4, 1, 8, 8)
    with ActivationRecorder(model, hist_every=1, bins=10, hist_range=(-2, 2)) as rec:
        model(x)
        rec.end_step()
        model.eval()
        model(x)  # not recorded
        model.train()
    assert all(not m._forward_hooks for m in model.modules())
    snap = rec.snapshot()
    assert list(snap) == ["1", "3"] and len(snap["1"].mean) == 1
    with torch.no_grad():
        pre = model[0](x)  # what entered the ReLU
    assert snap["1"].mean[0] == pytest.approx(float(pre.mean()), abs=1e-6)
    assert snap["1"].std[0] == pytest.approx(float(pre.std(unbiased=False)), abs=1e-6)
    assert sum(snap["1"].hists[0]) == pre.numel()  # clamping keeps every value in some bin
    with pytest.raises(RuntimeError):
        with ActivationRecorder(model):
            model(torch.randn(1, 2, 8, 8))  # wrong channels: the conv raises
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.slow  # LeNet trained
def test_paired_lenet_with_and_without_bn():
    cfg = BNPairConfig(steps=40, batch_size=64, hist_every=10)
    recs: dict = {}
    h = PairHistory(bnlab.BN_VARIANTS)
    for name, ev in bnlab.bn_pair_events(cfg, recorders=recs):
        h.add(name, ev)
    s = h.snapshot()
    assert all(v.status == "completed" and len(v.steps) == 40 for v in s.values())
    # the seed's point, in numbers: with BN the sigmoid LeNet learns at lr 0.9 within 40 steps, without it does not yet
    assert s["bn"].loss[-1] < s["no_bn"].loss[-1] - 0.3
    assert s["no_bn"].loss[-1] > 2.0
    # with BN every sigmoid input is standardised at step 1 (γ = 1, β = 0)
    bn, no = recs["bn"].snapshot(), recs["no_bn"].snapshot()
    assert list(bn) == list(no) and len(bn) == 4
    for layer in bn.values():
        assert abs(layer.mean[0]) < 1e-4 and abs(layer.std[0] - 1) < 1e-3
        assert len(layer.mean) == 40 and layer.hist_steps == [0, 10, 20, 30]
    assert any(abs(layer.std[0] - 1) > 0.2 for layer in no.values())  # without BN they are not
    assert all(not m._forward_hooks for r in recs.values() for m in r.model.modules())
    assert bnlab.act_labels(recs["bn"].model) == {"features.2": "conv1", "features.6": "conv2",
                                                    "classifier.3": "fc1", "classifier.7": "fc2"}


def _direct(cfg: BNPairConfig) -> dict:
    recs: dict = {}
    for _ in bnlab.bn_pair_events(cfg, recorders=recs):
        pass
    return recs


@pytest.mark.slow  # LeNet trained
def test_stats_events_carry_what_the_recorders_saw():
    """The "bnpair" job's stream: its ``StatsEvent``s (deltas every 10 steps and before each
    variant's end) fold back to the recorders' own snapshots, labels and bin edges."""
    cfg = BNPairConfig(steps=25, batch_size=32, hist_every=10)
    stream = [e.to_dict() for e in bnlab.bn_pair_stream(cfg, stats_every=10)]
    dicts = [event_from_dict(d) for d in json.loads(json.dumps(stream))]  # as the store gives them back
    recs = _direct(cfg)
    snaps, labels, edges = bnlab.stats_from_events(dicts)
    assert labels == bnlab.act_labels(recs["bn"].model) and edges == recs["bn"].bin_edges()
    for v in bnlab.BN_VARIANTS:
        want = recs[v].snapshot()
        assert list(snaps[v]) == list(want)
        for layer, ls in snaps[v].items():
            assert ls.mean == pytest.approx(want[layer].mean) and ls.std == pytest.approx(want[layer].std)
            assert ls.hist_steps == want[layer].hist_steps == [0, 10, 20] and ls.hists == want[layer].hists
        mine = [d for d in dicts if d.name == v]
        stats = [d for d in mine if d.kind == "stats"]
        assert [d.step for d in stats] == [10, 20, 25]
        assert mine[-2].kind == "stats" and mine[-1].kind == "end"  # the last statistics before the end
        assert stats[0].labels is not None and not any(d.labels is not None for d in stats[1:])
    series = series_from_events(dicts, bnlab.BN_VARIANTS)
    assert all(len(s.steps) == 25 and s.status == "completed" for s in series.values())


def test_bnpair_job_in_the_pool(module_sched_db):
    from cnnviz.runs.scheduler import Scheduler

    sch = Scheduler(module_sched_db, pool="external")
    try:
        cfg = BNPairConfig(steps=12, batch_size=32, hist_every=5)
        t = sch.submit("bnpair", cfg.to_dict(), "s" * 24)
        info = sch.wait(t.run_id, WAIT_S)
        assert info.status == "completed" and info.progress == 1.0, info
        snaps, labels, _ = bnlab.stats_from_events(sch.events(t.run_id))
        assert set(labels.values()) == {"conv1", "conv2", "fc1", "fc2"}
        want = _direct(cfg)
        for v, snap in snaps.items():
            for layer, ls in snap.items():
                assert len(ls.mean) == 12 and ls.hist_steps == [0, 5, 10]
                assert ls.mean == pytest.approx(want[v].snapshot()[layer].mean, rel=1e-3, abs=1e-5)
        assert all(abs(ls.std[0] - 1) < 1e-3 for ls in snaps["bn"].values())  # standardised at step 1
    finally:
        sch.close()


@pytest.mark.parametrize("make, code, field", [
    (lambda: BNPairConfig(steps=0), "err.range", "steps"),
    (lambda: BNPairConfig(bn_impl="mine").pair(), "err.choice", "bn_impl"),
    (lambda: BNPairConfig(dataset="cifar"), "err.choice", "dataset"),
    (lambda: BNPairConfig.from_dict({"steps": 10, "lr": "0.9"}), "err.bad_value", "lr"),
    (lambda: compare_batchnorm(n=1), "err.range", "n"),
])
def test_bad_pair_settings(make, code, field):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.code == code and info.value.params.get("field", info.value.params.get("key")) == field


@pytest.mark.slow  # the layer comparison, for real
def test_the_comparison_runs_the_seeds_layer(monkeypatch):
    """The lab compares the seed's from-scratch layer with PyTorch's, not PyTorch's with itself:
    a seed layer that is off by 0.01 shows up in every difference it reports."""

    class OffByALittle(BatchNorm):
        def forward(self, x):
            return super().forward(x) + 0.01

    monkeypatch.setattr(bnlab, "BatchNorm", OffByALittle)
    r = compare_batchnorm(16, 4, 8, 8, steps=2, seed=1)
    assert min(r.train_out) > 5e-3 and r.eval_out > 5e-3
