"""Compare's measured columns (``cnnviz.runs.measured``): which runs count as an architecture's
class-period measurement, which one is kept, and what it says.

One real run: the teacher's pre-warm is pressed on the real teacher page (no pool: the runs
stay queued), so the store holds the very configs it submits; the LeNet one is then run for
real by a worker's ``run_job`` (the whole recipe, ~10 s on 2 cores), the others are completed
through the store API. The rules (status, config, budget, device, newest) use runs built
through the store API, completed by appending their events as a worker does.
"""

from __future__ import annotations

import itertools
import time

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import t
from cnnviz.models.registry import list_models
from cnnviz.runs.measured import Measured, comparable, counts, label, measured
from cnnviz.runs.store import TEACHER, RunStore
from cnnviz.runs.worker import run_job
from cnnviz.status import Status
from cnnviz.train.events import EndEvent, EpochEvent, Event, StartEvent
from cnnviz.train.recipes import CLASS, recipe_config

SLOW_FIXTURES = {"prewarmed"}  # the LeNet class recipe trained for real (conftest marks their tests slow)
_ids = itertools.count()


def preset(arch: str = "lenet", **changes) -> dict:
    """``arch``'s class-period config as the store holds it, with ``changes`` (dotted: data.x)."""
    import json

    d = json.loads(json.dumps(recipe_config(arch, "class").to_dict()))
    for k, v in changes.items():
        if k.startswith("data."):
            d["data"][k[5:]] = v
        else:
            d[k] = v
    return d


def finished_run(store: RunStore, config: dict, *, status: str = "completed", rates=(1000.0, 3000.0),
                 acc: float = 0.5, dataset: str | None = None, device: str = "cpu",
                 worker: str = "testhost:4242") -> str:
    """A "train" run of ``config``, claimed by ``worker`` and ended with ``status`` the way a
    worker records it: one "epoch" event per rate, the end event, the summary."""
    rid = f"m{next(_ids):05d}"
    store.create(rid, config["arch"], "label", config, owner="s" * 24)
    claimed = store.claim(worker)
    assert claimed is not None and claimed.id == rid  # the only queued job
    used = dataset or config["data"]["dataset"]
    events: list[Event] = [StartEvent(device, "fp32", False, used, config["data"]["dataset"], "built-in", 100, 10, 10,
                                      10 * len(rates), len(rates), 64, 1000, 1000, ("f.0",),
                                      config["time_budget_s"], None, 0.0)]
    events += [EpochEvent(10 * (i + 1), float(i + 1), 0.5, acc, acc, 0.5, r, 1.0) for i, r in enumerate(rates)]
    events.append(EndEvent(Status(status), "", {}, 10 * len(rates), float(len(rates)), 1.0, acc, 0.5))
    store.append(rid, 0, events, status=Status(status), progress=1.0, device=device.split(":")[0],
                 summary={"dataset": used, "device": device, "test_acc": acc, "time_budget_s": config["time_budget_s"]})
    return rid


@pytest.fixture
def store(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite")
    yield s
    s.close()


# --- which runs count ---------------------------------------------------------------------------
def test_nothing_measured_in_an_empty_store(store):
    assert measured(store) == {}


def test_the_newest_completed_run_of_the_preset_wins(store):
    finished_run(store, preset(), acc=0.6)
    newest = finished_run(store, preset(), acc=0.7, rates=(100.0, 200.0, 600.0))
    got = measured(store)
    assert set(got) == {"lenet"}
    m = got["lenet"]
    assert (m.run_id, m.test_acc, m.examples_per_s) == (newest, 0.7, 300.0)  # the mean over the epochs
    assert (m.arch, m.host, m.device, m.dataset) == ("lenet", "testhost", "cpu", "fashion-mnist")
    assert m.when == pytest.approx(store.get(newest).ended) and abs(m.when - time.time()) < 60


@pytest.mark.parametrize("status", ["stopped", "failed", "diverged", "interrupted"])
def test_a_run_that_did_not_complete_does_not_count(store, status):
    kept = finished_run(store, preset(), acc=0.6)
    finished_run(store, preset(), acc=0.9, status=status)  # newer, but not the recipe run to its end
    assert measured(store)["lenet"].run_id == kept


@pytest.mark.parametrize("change", [
    {"lr": 0.05}, {"epochs": 2}, {"max_steps": 10}, {"seed": 1}, {"batch_size": 32}, {"optimizer": "adam"},
    {"data.subset": 500}, {"data.test_subset": 100}, {"data.dataset": "mnist"}, {"precision": "fp16"},
])
def test_a_run_off_the_preset_does_not_count(store, change):
    cfg = preset(**change)
    finished_run(store, cfg)
    assert measured(store) == {}
    assert not counts(store.list()[0])


def test_a_run_with_a_time_budget_never_counts(store):
    finished_run(store, preset(time_budget_s=30.0))
    assert measured(store) == {}


def test_where_the_data_lives_and_the_device_asked_for_do_not_matter(store):
    # the tests' and the CLI's runs name a data folder; the form may name the device
    rid = finished_run(store, preset(**{"data.data_dir": "/somewhere/else", "data.download": False, "device": "cpu"}))
    assert measured(store)["lenet"].run_id == rid
    assert comparable(preset(device="cuda")) == comparable(preset())


def test_each_architecture_at_its_own_preset(store):
    # ResNet-34 at the ResNet family's class recipe counts for ResNet-34, not for ResNet-18
    rid = finished_run(store, preset("resnet34"))
    finished_run(store, {**preset("resnet34"), "arch": "resnet18"})  # a ResNet-34 config under another name
    got = measured(store)
    assert set(got) == {"resnet34"} and got["resnet34"].run_id == rid


def test_this_machines_device_is_preferred_then_the_newest(store):
    cpu = finished_run(store, preset(), device="cpu", acc=0.6)
    gpu = finished_run(store, preset(), device="cuda:0", worker="gpubox:9", acc=0.8)  # newer, on a GPU
    assert measured(store, prefer="cpu")["lenet"].run_id == cpu
    m = measured(store, prefer="cuda")["lenet"]
    assert (m.run_id, m.device, m.host) == (gpu, "cuda:0", "gpubox")


def test_a_run_on_the_real_dataset_is_preferred_to_a_synthetic_fallback(store):
    real = finished_run(store, preset())
    fallback = finished_run(store, preset(), dataset="synthetic")  # newer, but the data was missing
    assert measured(store, prefer="cpu")["lenet"].run_id == real
    store.delete(real)
    m = measured(store, prefer="cpu")["lenet"]
    assert (m.run_id, m.dataset) == (fallback, "synthetic")
    assert label(m).endswith(t("train.data.synthetic", "en"))


def test_the_label_names_host_device_date_and_dataset():
    noon = time.mktime((2026, 3, 4, 12, 0, 0, 0, 0, -1))  # local time, as the label's date is
    m = Measured("lenet", "r1", 10.0, 0.5, "fashion-mnist", "cuda:0", "box7", noon)
    assert label(m) == "box7 · cuda:0 · 2026-03-04 · Fashion-MNIST"
    assert label(Measured("lenet", "r1", None, None, "mnist", "cpu", "", m.when), "zh") == "cpu · 2026-03-04 · MNIST"


# --- the teacher's pre-warm, and one real run ------------------------------------------------------
@pytest.fixture(scope="module")
def prewarmed(tmp_path_factory, shared_data_module):
    """The store after the teacher's pre-warm (the real page, no pool), its LeNet run run for
    real by ``run_job``, the other families' completed through the store API."""
    from ui import sched

    db = tmp_path_factory.mktemp("prewarm") / "runs.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNVIZ_DB", str(db))
    mp.setenv("CNNVIZ_POOL", "none")  # nothing runs them but this test
    try:
        at = AppTest.from_file("../pages/teacher.py", default_timeout=120)
        at.session_state[sched.TEACHER_KEY] = True  # the key already typed
        at.session_state[sched.TOKEN_KEY] = "measured-teacher-token-000001"
        at.run()
        [b for b in at.button if b.label == t("teacher.prewarm", "en")][0].click().run()
        assert not at.exception, at.exception
        store = RunStore(db)
        assert {r.owner for r in store.list()} == {TEACHER} and len(store.list()) == len(CLASS)
        assert measured(store) == {}  # queued: nothing measured yet
        statuses = {}
        while (info := store.claim("warmhost:101")) is not None:
            if info.arch == "lenet":
                statuses[info.id] = run_job(store, info)  # the whole class recipe, for real
            else:
                store.append(info.id, 0, [EpochEvent(10, 1.0, 0.5, 0.4, 0.4, 0.5, 50.0, 1.0)],
                             status="completed", summary={"dataset": "fashion-mnist", "device": "cpu", "test_acc": 0.4})
        yield store, statuses
        store.close()
    finally:
        mp.undo()
        sched._scheduler.clear()


@pytest.fixture(scope="module")
def shared_data_module():
    from conftest import need_data

    return need_data()


def test_every_prewarmed_run_counts_for_its_network(prewarmed):
    store, statuses = prewarmed
    assert list(statuses.values()) == ["completed"]
    got = measured(store, prefer="cpu")
    assert set(got) == {r.arch for r in CLASS.values()}  # one network per family
    assert {"vgg16", "resnet34"} <= set(list_models()) - set(got)  # not pre-warmed: not measured yet
    assert all(m.host == "warmhost" for m in got.values())


def test_the_real_lenet_run_gives_its_own_figures(prewarmed):
    store, statuses = prewarmed
    (rid,) = statuses
    m = measured(store, prefer="cpu")["lenet"]
    events = store.events(rid)
    rates = [e.examples_per_s for e in events if e.kind == "epoch"]
    end = next(e for e in events if e.kind == "end")
    assert len(rates) == recipe_config("lenet", "class").epochs
    assert m.run_id == rid and m.examples_per_s == pytest.approx(sum(rates) / len(rates)) and m.examples_per_s > 0
    assert m.test_acc == end.test_acc and m.test_acc > 0.5  # well above chance on real Fashion-MNIST
    assert (m.dataset, m.device) == ("fashion-mnist", "cpu")
