"""The training engine: events, learning, Stop, divergence, determinism, building blocks."""

from __future__ import annotations

import json
import math
import threading

import pytest
import torch
from torch import nn

from cnnviz.errors import ConfigError
from cnnviz.models.registry import create_model, get_config
from cnnviz.train import estimate
from cnnviz.train.config import TrainConfig, TrainingError
from cnnviz.train.data import DataConfig
from cnnviz.train.events import EndEvent, EpochEvent, EvalEvent, StartEvent, StepEvent, event_from_dict
from cnnviz.train.loop import check, run_to_end, train
from cnnviz.train.steps import grad_norms, init_weights, resolve_device, weight_params

from training_helpers import strip_timing, tiny, write_idx


def kinds(events):
    return [e.kind for e in events]


def test_event_stream_shape():
    evs = run_to_end(tiny(max_steps=8, eval_every=4))
    assert isinstance(evs[0], StartEvent) and isinstance(evs[-1], EndEvent)
    assert kinds(evs).count("start") == 1 and kinds(evs).count("end") == 1
    start, end = evs[0], evs[-1]
    assert start.device == "cpu" and start.precision == "fp32" and not start.channels_last
    assert start.n_train == 640 and start.n_test == 200 and start.steps_per_epoch == 20 and start.total_steps == 8
    assert start.layers == ("features.0", "features.4", "classifier.1", "classifier.5", "classifier.9")
    steps = [e for e in evs if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == list(range(1, 9))  # every step on the CPU
    assert [e.step for e in evs if isinstance(e, EvalEvent)] == [4]
    assert all(e.n == 100 for e in evs if isinstance(e, EvalEvent))
    s = steps[-1]
    assert s.epoch == pytest.approx(8 / 20) and s.lr == 0.5 and s.examples_per_s > 0
    assert 0.0 <= s.train_acc <= 1.0 and math.isfinite(s.loss)
    ep = [e for e in evs if isinstance(e, EpochEvent)]
    assert len(ep) == 1 and ep[0].epoch == pytest.approx(0.4)  # a partial epoch when max_steps ends the run
    assert end.status == "completed" and end.step == 8 and end.test_acc == ep[0].test_acc
    assert set(end.message) == {"en", "zh"} and "8 steps" in end.message["en"]
    for e in evs:  # every event is JSON and round-trips
        d = json.loads(json.dumps(e.to_dict()))
        assert event_from_dict(d) == e


def test_auto_log_interval_spares_tiny_nets_and_gpus():
    from cnnviz.train.loop import auto_log_every

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert auto_log_every(286_786, 32, cpu) == 4  # LeNet: an event would cost more than a few % of a step
    assert auto_log_every(286_786, 256, cpu) == 1
    assert auto_log_every(10_000_000, 32, cpu) == 1 and auto_log_every(10_000_000, 32, gpu) == 10
    evs = run_to_end(tiny(epochs=1, log_every=0))  # 20 steps of 32 → events at 4, 8, ..., 20
    assert [e.step for e in evs if isinstance(e, StepEvent)] == [4, 8, 12, 16, 20]
    steps = [e for e in evs if isinstance(e, StepEvent)]
    assert steps[-1].train_acc == pytest.approx(evs[-2].train_acc)  # the epoch's running figures add up
    assert steps[-1].epoch_loss == pytest.approx(evs[-2].train_loss)


def test_grad_norms_cover_every_conv_and_linear_weight():
    evs = run_to_end(tiny(max_steps=2))
    for s in (e for e in evs if isinstance(e, StepEvent)):
        assert list(s.grad_norms) == list(evs[0].layers)
        assert all(v > 0 and math.isfinite(v) for v in s.grad_norms.values())
    model = create_model(get_config("lenet"))
    x = torch.rand(4, 1, 28, 28)
    nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3])).backward()
    got = grad_norms(model)
    for name, w in weight_params(model):
        assert got[name] == pytest.approx(w.grad.norm().item(), rel=1e-5)


def test_loss_falls_on_learnable_data():
    evs = run_to_end(tiny(max_steps=40, model_settings={"activation": "relu"}, lr=0.1))
    losses = [e.loss for e in evs if isinstance(e, StepEvent)]
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert evs[-1].status == "completed" and evs[-1].test_acc > 0.3  # chance is 0.1


def test_trains_on_idx_files_through_torchvision(tmp_path):
    write_idx(tmp_path, "FashionMNIST", n_train=128, n_test=32)
    evs = run_to_end(tiny(dataset="fashion-mnist", data_dir=str(tmp_path), subset=None, test_subset=None, epochs=2))
    start, end = evs[0], evs[-1]
    assert start.dataset == "fashion-mnist" and start.notice is None and start.n_train == 128 and start.n_test == 32
    assert [e.epoch for e in evs if isinstance(e, EpochEvent)] == [1.0, 2.0]
    assert end.status == "completed" and end.step == 8


def test_missing_dataset_trains_on_synthetic_and_says_so(tmp_path):
    cfg = tiny(max_steps=2).replace(data=DataConfig("mnist", data_dir=str(tmp_path), download=False, subset=64))
    evs = run_to_end(cfg)
    start = evs[0]
    assert start.dataset == "synthetic" and start.requested_dataset == "mnist"
    assert "MNIST" in start.notice["en"] and "合成" in start.notice["zh"]
    assert evs[-1].status == "completed"


def test_stop_takes_effect_within_one_step():
    stop = threading.Event()

    def press_stop(ctx):
        if ctx.step == 3:
            stop.set()  # as if a user pressed Stop during step 3

    evs = run_to_end(tiny(epochs=5), stop=stop, callbacks=[press_stop])
    assert [e.step for e in evs if isinstance(e, StepEvent)] == [1, 2, 3]
    end = evs[-1]
    assert end.status == "stopped" and end.step == 3 and "3" in end.message["en"]


def test_stop_from_another_thread():
    stop = threading.Event()
    gen = train(tiny(epochs=50), stop=stop)
    seen = []
    for ev in gen:
        seen.append(ev)
        if isinstance(ev, StepEvent) and ev.step == 2:
            threading.Thread(target=stop.set).start()
            threading.Event().wait(0.05)
    assert seen[-1].status == "stopped" and seen[-1].step <= 3


def test_divergence_ends_the_run():
    evs = run_to_end(tiny(lr=1e3, epochs=3))
    end = evs[-1]
    assert end.status == "diverged" and end.code == "train.diverged"
    assert "1000" in end.message["en"] and "发散" in end.message["zh"]
    assert end.step < 10


def test_nan_loss_is_divergence():
    def poison(ctx):
        if ctx.step == 2:
            with torch.no_grad():
                next(ctx.model.parameters()).fill_(float("nan"))

    evs = run_to_end(tiny(max_steps=10), callbacks=[poison])
    assert evs[-1].status == "diverged" and evs[-1].step == 3


def test_same_seed_same_numbers():
    cfg = tiny(max_steps=12, eval_every=5, model_settings={"dropout": 0.3})
    a = [strip_timing(e.to_dict()) for e in run_to_end(cfg)]
    b = [strip_timing(e.to_dict()) for e in run_to_end(cfg)]
    assert a == b
    c = [strip_timing(e.to_dict()) for e in run_to_end(cfg.replace(seed=1))]
    assert a[1] != c[1]


def test_time_budget_ends_the_run_as_completed():
    evs = run_to_end(tiny(epochs=100, time_budget_s=0.05))
    end = evs[-1]
    assert end.status == "completed" and end.code == "train.budget_reached" and end.step < 2000
    assert isinstance(evs[-2], EpochEvent)  # the final evaluation


def test_callbacks_report_extra_metrics_and_can_fail():
    evs = run_to_end(tiny(max_steps=3), callbacks=[lambda ctx: {"twice": 2.0 * ctx.step}])
    assert [e.extra["twice"] for e in evs if isinstance(e, StepEvent)] == [2.0, 4.0, 6.0]

    def broken(ctx):
        raise RuntimeError("callback bug")

    evs = run_to_end(tiny(max_steps=3), callbacks=[broken])  # the generator itself never raises
    assert evs[-1].status == "failed" and "callback bug" in evs[-1].message["en"]


def test_prebuilt_model_and_adam():
    model = init_weights(create_model(get_config("lenet")), seed=0)
    before = model.features[0].weight.detach().clone()
    evs = run_to_end(tiny(max_steps=3, optimizer="adam", lr=1e-3), model=model)
    assert evs[-1].status == "completed"
    assert not torch.equal(before, model.features[0].weight.detach())  # that very model was trained


def test_rgb_input_and_resize():
    """28×28 grayscale images reach a 3-channel net as 40×40 RGB batches (resized on the device)."""
    cfg = TrainConfig.create("resnet18", input_side=40, in_channels=3, model_settings={"width_div": 16},
                             subset=64, test_subset=32, batch_size=16, max_steps=2, eval_every=0)
    seen = []

    def record(ctx):
        seen.append((tuple(ctx.x.shape), ctx.x.dtype, bool(torch.equal(ctx.x[:, 0], ctx.x[:, 2]))))

    evs = run_to_end(cfg, callbacks=[record])
    assert evs[-1].status == "completed" and evs[0].macs > 0
    assert seen == [((16, 3, 40, 40), torch.float32, True)] * 2  # gray copied to every channel


def test_init_weights_by_name_pairs_residual_and_plain_nets():
    a = init_weights(create_model(get_config("resnet18", width_div=16)), seed=7)
    b = init_weights(create_model(get_config("resnet18", width_div=16, residual=False)), seed=7)
    c = init_weights(create_model(get_config("resnet18", width_div=16)), seed=8)
    wa, wb, wc = dict(weight_params(a)), dict(weight_params(b)), dict(weight_params(c))
    assert "b3.0.shortcut" in wa and "b3.0.shortcut" not in wb
    for name, w in wb.items():  # every layer the plain net has starts from the residual net's weights
        assert torch.equal(w, wa[name])
    assert not torch.equal(wa["b2.0.conv1"], wc["b2.0.conv1"])
    w = wa["b2.0.conv1"]
    fan_in, fan_out = w[0].numel(), w.shape[0] * w[0, 0].numel()
    assert w.abs().max() <= math.sqrt(6 / (fan_in + fan_out)) + 1e-6  # Xavier-uniform's bound


def test_config_round_trip_and_validation():
    cfg = TrainConfig.create("vgg11_small", input_side=32, model_settings={"fc_width": 64}, dataset="mnist",
                             subset=100, optimizer="adam", lr=1e-3, epochs=2, time_budget_s=5.0)
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.model.conv_arch == cfg.model.conv_arch
    for bad in (dict(lr=0.0), dict(lr=float("nan")), dict(momentum=1.0), dict(optimizer="rmsprop"),
                dict(batch_size=0), dict(epochs=0), dict(device="tpu"), dict(time_budget_s=-1.0)):
        with pytest.raises(ConfigError):
            cfg.replace(**bad)


def test_check_reports_problems_before_training():
    with pytest.raises(Exception) as err:
        check(TrainConfig.create("alexnet", input_side=30))
    assert "65" in str(err.value)  # the smallest side AlexNet accepts
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError):
            resolve_device("cuda")
        with pytest.raises(TrainingError):
            check(tiny(device="cuda"))
        with pytest.raises(TrainingError):
            check(tiny(precision="fp16"))


def test_not_enough_memory_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(estimate, "free_bytes", lambda device: 1024)
    evs = run_to_end(tiny(max_steps=2))
    assert kinds(evs) == ["end"] and evs[0].status == "failed" and evs[0].code == "train.err.memory"
    assert "KiB" in evs[0].message["en"]


def test_autocast_and_channels_last_paths_on_the_cpu():
    """The CUDA code paths (autocast, channels-last inputs and weights) exercised with CPU bf16."""
    cfg = TrainConfig.create("resnet18", input_side=32, model_settings={"width_div": 16}, subset=64, test_subset=32,
                             batch_size=16, max_steps=3, eval_every=2, log_every=1, precision="bf16",
                             channels_last=True)
    evs = run_to_end(cfg)
    start, end = evs[0], evs[-1]
    assert start.precision == "bf16" and start.channels_last and end.status == "completed", end.message
    steps = [e for e in evs if isinstance(e, StepEvent)]
    assert all(math.isfinite(e.loss) for e in steps) and all(v > 0 for v in steps[-1].grad_norms.values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["auto", "fp16"])
def test_cuda_mixed_precision_and_channels_last(precision):
    cfg = TrainConfig.create("resnet18", input_side=32, model_settings={"width_div": 8}, subset=512,
                             test_subset=64, batch_size=32, max_steps=12, device="cuda", precision=precision)
    evs = run_to_end(cfg)
    start, end = evs[0], evs[-1]
    assert start.device.startswith("cuda") and start.channels_last
    best = "bf16" if torch.cuda.is_bf16_supported() else "fp16"  # what "auto" picks on this GPU
    assert start.precision == ("fp16" if precision == "fp16" else best)
    assert end.status == "completed", end.message
    steps = [e for e in evs if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == [10, 12]  # a sync every 10 steps, and at the end
    assert all(math.isfinite(v) and v > 0 for v in steps[-1].grad_norms.values())
