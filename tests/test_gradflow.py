"""The gradient-flow lab: real numbers from short paired runs on the CPU.

A 31-conv constant-width stack (15 residual blocks, ReLU, no BatchNorm, PyTorch's default
initialisation), three SGD steps on the synthetic set: the plain net's first convs get
gradients ~10^11 times smaller than its last (measured over seeds 0–3: 1.4e11 to 2.5e12),
the residual net's first and last are within a factor of 3. The thresholds below (≥ 1000×
and within 10×) leave orders of magnitude of margin.
"""

from __future__ import annotations

import json
import math
import threading

import pytest
import torch

from cnnviz.errors import ConfigError
from cnnviz.labs.gradflow import (
    VARIANTS,
    GradFlowConfig,
    PairHistory,
    build_pair,
    copy_matching,
    first_last_ratio,
    gradflow_job,
    norm_matrix,
    paired_events,
    path_layers,
    run_gradflow,
    summary_rows,
)
from cnnviz.runs.jobs import Job, JobBoard, LabBusyError
from cnnviz.train.config import StepEvent

from cli_helpers import error_line, run_cli


def _history(cfg: GradFlowConfig) -> dict:
    h = PairHistory(VARIANTS)
    for name, ev in run_gradflow(cfg):
        h.add(name, ev)
    return h.snapshot()


@pytest.fixture(scope="module")
def deep_plain_vs_residual():
    return _history(GradFlowConfig(depth=31, steps=3, seed=0))


def test_plain_gradients_vanish_and_residual_ones_do_not(deep_plain_vs_residual):
    s = deep_plain_vs_residual
    layers = path_layers(s)
    assert len(layers) == 31 + 1  # 31 convs on the main path, then the dense layer
    assert all(x.status == "completed" and len(x.steps) == 3 for x in s.values())
    for step in range(3):
        first_p, last_p, ratio_p = first_last_ratio(s["plain"], layers, step, k=3)
        first_r, last_r, ratio_r = first_last_ratio(s["residual"], layers, step, k=3)
        assert ratio_p >= 1e3, (step, first_p, last_p)  # orders of magnitude: measured ~1e12
        assert 0.1 <= ratio_r <= 10, (step, first_r, last_r)  # measured 1.2–1.4
        # the lower layers of the residual net get gradients >10^6 times larger than the plain net's
        assert first_r > 1e6 * first_p
        # and the loss of both is a real number near ln 10 (3 steps of SGD from a random start)
        assert abs(s["plain"].loss[step] - math.log(10)) < 0.5 and abs(s["residual"].loss[step] - math.log(10)) < 0.5
    # the plain net's norm falls layer after layer: monotone over blocks of five layers
    g = s["plain"].grad_norms[-1]
    sampled = [g[n] for n in layers[:-1]][::5]
    assert sampled == sorted(sampled)


def test_summary_and_heatmap_shapes(deep_plain_vs_residual):
    s = deep_plain_vs_residual
    layers = path_layers(s)
    rows = {r["variant"]: r for r in summary_rows(s)}
    assert rows["plain"]["ratio"] > 1e3 and rows["residual"]["ratio"] < 10
    m = norm_matrix(s["plain"], layers)
    assert len(m) == 3 and all(len(r) == len(layers) for r in m)


def test_batch_norm_rescues_the_plain_net():
    s = _history(GradFlowConfig(depth=31, steps=2, batch_norm=True, seed=0))
    layers = path_layers(s)
    _, _, ratio = first_last_ratio(s["plain"], layers, -1, k=3)
    assert ratio < 100  # measured ~1: BN rescales every layer's output


def test_pair_starts_from_the_same_weights_where_shapes_match():
    cfg = GradFlowConfig(resnet18=True, width=8, side=32)
    (_, a), (_, b) = cfg.pair()
    plain, res = build_pair([a, b], init="pytorch")
    sp, sr = plain.state_dict(), res.state_dict()
    shared = [k for k in sp if k in sr]
    assert len(shared) == len(sp)  # the plain net has nothing the residual one lacks
    for k in shared:
        assert torch.equal(sp[k], sr[k]), k
    only_res = sorted(set(sr) - set(sp))
    assert only_res and all(".shortcut." in k for k in only_res)  # the 1×1 shortcut convs keep their own
    assert copy_matching(plain, [res]) == shared


@pytest.mark.parametrize("init", ["pytorch", "xavier"])
def test_pair_weights_ignore_the_global_generator(init, monkeypatch):
    """Other threads' runs draw from torch's shared global generator (dropout, shuffles) at any
    moment, also while a pair is being built: the weights must depend on the seed alone."""
    import cnnviz.labs.gradflow as gf

    cfg = GradFlowConfig(depth=9, width=8, side=32)
    (_, a), (_, b) = cfg.pair()
    clean = build_pair([a, b], init=init)[0].state_dict()
    real = gf.create_model

    def interrupted(*args, **kwargs):
        torch.rand(7)  # another thread's draw lands just before this model is built
        return real(*args, **kwargs)

    monkeypatch.setattr(gf, "create_model", interrupted)
    busy = build_pair([a, b], init=init)[0].state_dict()
    assert all(torch.equal(clean[k], busy[k]) for k in clean)
    conv = next(k for k in clean if k.endswith("conv1.weight"))
    fan_in = clean[conv][0].numel()
    bound = 1 / math.sqrt(fan_in) if init == "pytorch" else math.sqrt(6 / (fan_in + clean[conv].shape[0] * 9))
    assert float(clean[conv].abs().max()) <= bound + 1e-6  # PyTorch's Kaiming(a=√5) bound is 1/√fan_in


def test_pairing_gives_identical_runs_for_identical_variants():
    """Same config twice: same weights, same batches, lock-step → the very same numbers."""
    cfg = GradFlowConfig(depth=9, steps=4, seed=3).train_config(False)
    seen: dict[str, list] = {"a": [], "b": []}

    def spy(name):
        return lambda ctx: seen[name].append(ctx.x.sum().item())  # the batch each variant trains on

    order, h = [], PairHistory(("a", "b"))
    for name, ev in paired_events([("a", cfg), ("b", cfg)], init="pytorch",
                                  callbacks={"a": [spy("a")], "b": [spy("b")]}):
        h.add(name, ev)
        if isinstance(ev, StepEvent):
            order.append((name, ev.step))
    s = h.snapshot()
    assert seen["a"] == seen["b"] and len(seen["a"]) == 4
    assert s["a"].loss == s["b"].loss and s["a"].grad_norms == s["b"].grad_norms
    assert order == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3), ("a", 4), ("b", 4)]


def test_job_runs_in_a_thread_and_board_caps_concurrency():
    board = JobBoard(max_running=1)
    job = board.submit(gradflow_job(GradFlowConfig(depth=9, steps=2)))
    blocker = Job(PairHistory(("x",)), lambda stop: iter(()))
    if job.running:
        with pytest.raises(LabBusyError) as info:
            board.submit(blocker)
        assert info.value.render("zh")
    job.wait(120)
    assert job.status == "completed" and job.error is None
    s = job.history.snapshot()
    assert [len(v.steps) for v in s.values()] == [2, 2]
    assert board.get(job.id) is job


def test_job_stop_reaches_the_engine():
    job = gradflow_job(GradFlowConfig(depth=9, steps=2000)).start()
    for _ in range(600):
        if any(v.steps for v in job.history.snapshot().values()):
            break
        threading.Event().wait(0.05)
    job.stop()
    job.wait(60)
    s = job.history.snapshot()
    assert job.status == "stopped"
    assert all(v.status == "stopped" for v in s.values())
    assert max(len(v.steps) for v in s.values()) < 2000


@pytest.mark.parametrize("changes", [dict(depth=1), dict(depth=99), dict(steps=0), dict(init="he"), dict(lr=-1.0),
                                     dict(dataset="cifar"), dict(width=0)])
def test_bad_settings_are_config_errors(changes):
    with pytest.raises(ConfigError):
        GradFlowConfig().replace(**changes)


def test_cli_json_has_every_step_of_both_variants():
    rc, out, err = run_cli("gradflow", "--depth", "9", "--steps", "2", "--set", "width=8", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["depth"] == 9 and set(d["variants"]) == {"plain", "residual"}
    for rows in d["variants"].values():
        assert [r["step"] for r in rows] == [1, 2]
        assert set(rows[0]["grad_norms"]) >= set(d["layers"]) and len(d["layers"]) == 10
        assert all(isinstance(v, float) for v in rows[0]["grad_norms"].values())
    assert {r["variant"] for r in d["summary"]} == {"plain", "residual"}


def test_cli_jsonl_and_text():
    rc, out, _ = run_cli("gradflow", "--depth", "5", "--steps", "1", "--jsonl")
    lines = [json.loads(x) for x in out.splitlines()]
    assert rc == 0 and [x["variant"] for x in lines] == ["plain", "residual"]
    rc, out, _ = run_cli("gradflow", "--depth", "5", "--steps", "1")
    assert rc == 0 and "last/first" in out and "residual" in out


@pytest.mark.parametrize("argv", [("--depth", "100"), ("--set", "nope=1"), ("--set", "init=he"), ("--steps", "x"),
                                  ("--set", "batch_norm=maybe"), ("--set", "depth")])
def test_cli_bad_arguments_are_one_line_and_exit_2(argv):
    error_line(*run_cli("gradflow", *argv))
