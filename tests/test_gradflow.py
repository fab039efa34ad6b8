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
import time

import pytest
import torch
from conftest import WAIT_S

from cnnviz.errors import ConfigError
from cnnviz.jobs import LAB_KINDS
from cnnviz.labs.bnlab import BNPairConfig
from cnnviz.labs.featuremaps import QuickTrainConfig
from cnnviz.labs.gradflow import (
    VARIANTS,
    GradFlowConfig,
    PairHistory,
    build_pair,
    copy_matching,
    first_last_ratio,
    norm_matrix,
    paired_events,
    path_layers,
    run_gradflow,
    series_from_events,
    summary_rows,
)
from cnnviz.runs.kinds import content_key, get_kind
from cnnviz.runs.scheduler import Scheduler
from cnnviz.train.events import StepEvent, event_from_dict

from cli_helpers import error_line, run_cli


def _history(cfg: GradFlowConfig) -> dict:
    h = PairHistory(VARIANTS)
    for name, ev in run_gradflow(cfg):
        h.add(name, ev)
    return h.snapshot()


SLOW_FIXTURES = {"deep_plain_vs_residual"}  # a 31-conv pair trained (conftest marks their tests slow)
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


@pytest.mark.slow  # paired training
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


@pytest.mark.slow  # paired training
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


def test_stored_events_fold_to_the_same_series_as_the_events():
    """What a worker stores (each event with its variant as ``name``, NaN as null) and the store
    gives back folds to the series the live events give, NaN included."""
    cfg = GradFlowConfig(depth=5, steps=2, width=8)
    h = PairHistory(VARIANTS)
    dicts = []
    for name, ev in run_gradflow(cfg):
        h.add(name, ev)
        dicts.append(ev.named(name).to_dict())
    stored = [event_from_dict(d) for d in json.loads(json.dumps(dicts))]  # as the store gives them back
    assert all(e.name in VARIANTS for e in stored)
    assert series_from_events(stored, VARIANTS) == h.snapshot()
    step = next(d for d in dicts if d["kind"] == "step")
    step = {**step, "loss": None, "grad_norms": {**step["grad_norms"], "stem.0": None}}  # a diverged step
    s = series_from_events([event_from_dict(step)], VARIANTS)[step["name"]]
    assert math.isnan(s.loss[0]) and math.isnan(s.grad_norms[0]["stem.0"])


# --- the lab kinds: parameters ----------------------------------------------------------------------
CONFIGS = [("gradflow", GradFlowConfig(depth=15, batch_norm=True, lr=0.01, init="xavier", dataset="fashion-mnist")),
           ("bnpair", BNPairConfig(steps=30, bn_impl="scratch", lr=0.3)),
           ("featuremaps", QuickTrainConfig(arch="nin", dataset="mnist", steps=40, seed=3))]


@pytest.mark.parametrize("kind, cfg", CONFIGS, ids=[k for k, _ in CONFIGS])
def test_lab_kinds_round_trip_their_params(kind, cfg):
    assert kind in LAB_KINDS and get_kind(kind).name == kind
    params = json.loads(json.dumps(cfg.to_dict()))  # what the store keeps
    assert type(cfg).from_dict(params) == cfg
    assert type(cfg).from_dict({}) == type(cfg)()  # every field has its default
    k = get_kind(kind)
    assert k.parse(params) == cfg  # the kind's config, parsed once
    arch, label = k.describe(cfg)
    assert arch and kind in label
    fp = k.fingerprint(cfg)
    assert fp and not fp.startswith("missing:") or fp == f"missing:{cfg.dataset}"
    assert content_key(kind, params) == content_key(kind, dict(reversed(list(params.items()))))  # order-free
    other = dict(params, seed=params["seed"] + 1)
    assert content_key(kind, other) != content_key(kind, params)  # another seed, another job
    assert k.estimate_s(cfg) > 0


@pytest.mark.parametrize("kind, cfg", CONFIGS, ids=[k for k, _ in CONFIGS])
@pytest.mark.parametrize("bad", [{"nope": 1}, {"seed": True}, {"seed": "1"}, {"seed": -1}, {"seed": 1.5},
                                 {"dataset": "cifar"}, {"dataset": 3}, "not a dict", None])
def test_lab_kinds_refuse_bad_params(kind, cfg, bad):
    params = dict(cfg.to_dict(), **bad) if isinstance(bad, dict) else bad
    with pytest.raises(ConfigError) as info:
        type(cfg).from_dict(params)
    assert info.value.render("zh") != info.value.render("en")
    with pytest.raises(ConfigError):
        get_kind(kind).parse(params)  # what Scheduler.submit calls before writing anything


def test_an_int_is_a_float_but_a_bool_is_not_an_int():
    assert GradFlowConfig.from_dict({"lr": 1}).lr == 1.0
    with pytest.raises(ConfigError):
        GradFlowConfig.from_dict({"depth": True})
    with pytest.raises(ConfigError):
        GradFlowConfig.from_dict({"batch_norm": 1})


# --- the gradflow job on a real worker pool ------------------------------------------------------------
TINY = GradFlowConfig(depth=5, steps=3, width=8, side=16, batch_size=16)
ALICE, BOB = "a" * 24, "b" * 24


@pytest.fixture(scope="module")
def sched(module_sched_db):
    s = Scheduler(module_sched_db, pool="external")
    yield s
    s.close()


def test_gradflow_job_runs_in_the_pool_with_the_numbers_of_the_direct_run(sched):
    t = sched.submit("gradflow", TINY.to_dict(), ALICE)
    info = sched.wait(t.run_id, WAIT_S)
    assert info.status == "completed" and info.kind == "gradflow" and info.progress == 1.0, info
    assert info.summary["step"] == 3
    got = series_from_events(sched.events(t.run_id), VARIANTS)
    h = PairHistory(VARIANTS)
    for name, ev in run_gradflow(TINY):
        h.add(name, ev)
    want = h.snapshot()
    for v in VARIANTS:
        assert got[v].steps == want[v].steps == [1, 2, 3] and got[v].status == "completed"
        assert got[v].layers == want[v].layers
        assert got[v].loss == pytest.approx(want[v].loss, rel=1e-4)  # another process, one thread
        for g, w in zip(got[v].grad_norms, want[v].grad_norms):
            assert g == pytest.approx(w, rel=1e-3)


def test_two_students_asking_the_same_lab_share_one_job(sched):
    cfg = TINY.replace(seed=11, steps=4)
    a = sched.submit("gradflow", cfg.to_dict(), ALICE, replace=True)
    b = sched.submit("gradflow", cfg.to_dict(), BOB, replace=True)
    assert not a.attached and b.attached and b.run_id == a.run_id
    assert sorted(sched.watchers(a.run_id)) == [ALICE, BOB]
    assert sched.wait(a.run_id, WAIT_S).status == "completed"
    evs = sched.events(a.run_id)
    assert sum(d.kind == "start" for d in evs) == 2  # one computation: each variant started once
    key = sched.get(a.run_id).key
    assert key and [r.id for r in sched.runs(kinds=("gradflow",)) if r.key == key] == [a.run_id]
    # a third request after the end attaches to the finished job: the same numbers, nothing recomputed
    c = sched.submit("gradflow", cfg.to_dict(), "c" * 24, replace=True)
    assert c.attached and c.run_id == a.run_id and sched.events(c.run_id) == evs


def test_a_new_lab_request_replaces_the_students_previous_one(sched):
    long = sched.submit("gradflow", TINY.replace(steps=2000, seed=21).to_dict(), ALICE, replace=True)
    new = sched.submit("gradflow", TINY.replace(seed=22).to_dict(), ALICE, replace=True)
    assert new.replaced == (long.run_id,) and not new.attached
    assert sched.wait(long.run_id, WAIT_S).status == "stopped"  # nobody else watched it
    assert sched.wait(new.run_id, WAIT_S).status == "completed"


def test_stopping_a_lab_job_ends_it_within_a_step(sched):
    t = sched.submit("gradflow", TINY.replace(steps=2000, seed=31).to_dict(), BOB, replace=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(d.kind == "step" for d in sched.events(t.run_id)):
        time.sleep(0.1)
    assert sched.get(t.run_id).status == "running"
    assert sched.stop(t.run_id, BOB) == "stopped"
    info = sched.wait(t.run_id, WAIT_S)
    assert info.status == "stopped" and info.text("zh")
    s = series_from_events(sched.events(t.run_id), VARIANTS)
    assert all(v.status == "stopped" for v in s.values())  # each variant's engine saw the stop
    assert 0 < max(len(v.steps) for v in s.values()) < 2000


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
