"""Estimates from the pool's calibration, never from work in a page; admission (time and memory);
memory reservations summed across workers; a job stopped past the wall time it was admitted with.

* the training page, through form changes that used to train in the page's process (VGG-19 at
  512 px, batch 1, the book recipe), runs no training computation: no backward pass, no
  convolution on a real tensor, the page's old measurement never called; before the calibration
  it says "estimating…" (or why not), and Start waits;
* the calibration job measures each architecture in a worker, and the estimates read it;
* a pool on a store without a calibration of its machine queues one, the teacher's, first;
* a student's run past the class's limit is refused with its sentence, the teacher's is not,
  the teacher's own limit for the class applies at once, an identical run may still be watched;
* a run that needs more memory than the jobs may reserve is refused; reservations are summed
  over the running jobs: a job that fits but not beside them waits, and starts when one ends;
* a running job past its ``limit_s`` is stopped, saying so.
"""

from __future__ import annotations

import pytest
from conftest import WAIT_S, start_pool, stop_pool, until, wait_pool
from streamlit.testing.v1 import AppTest

from cnnviz.runs import admission, calibration
from cnnviz.runs.scheduler import Scheduler
from cnnviz.runs.store import TEACHER, RunStore
from cnnviz.status import Status
from cnnviz.train.recipes import recipe_config
from testkit.calibration import seed

from training_helpers import tiny

A, B = "a" * 24, "b" * 24
MB = 1 << 20


@pytest.fixture
def store_only(page_store):
    """A fresh store, no pool: the page only reads it (``conftest.page_store``)."""
    return page_store


class _Counter:
    """Counts training computation in this process: backward passes, and convolutions or linear
    layers on tensors that are not on the meta device (the trace's are)."""

    def __init__(self, monkeypatch):
        import torch
        import torch.nn.functional as F

        self.calls: list[str] = []
        real_backward, real_conv, real_linear = torch.Tensor.backward, F.conv2d, F.linear

        def backward(t, *a, **k):
            self.calls.append("backward")
            return real_backward(t, *a, **k)

        def conv(x, *a, **k):
            if x.device.type != "meta":
                self.calls.append(f"conv2d on {x.device}")
            return real_conv(x, *a, **k)

        def linear(x, *a, **k):
            if x.device.type != "meta":
                self.calls.append(f"linear on {x.device}")
            return real_linear(x, *a, **k)

        def measure(*a, **k):
            self.calls.append("estimate._calibrate")
            raise AssertionError("the page measured a training step")

        monkeypatch.setattr(torch.Tensor, "backward", backward)
        monkeypatch.setattr(F, "conv2d", conv)
        monkeypatch.setattr(F, "linear", linear)
        monkeypatch.setattr("cnnviz.train.estimate._calibrate", measure)


def _page() -> AppTest:
    at = AppTest.from_file("../pages/training.py", default_timeout=60)
    at.session_state["_student_token"] = A
    return at


def _start(at):
    return next(b for b in at.button if b.label == "Start training")


def test_form_changes_compute_nothing_and_wait_for_the_calibration(store_only, monkeypatch):
    monkeypatch.setenv("CNNVIZ_STUDENT_MAX_S", "300")  # the default (the suite's conftest raises it)
    counter = _Counter(monkeypatch)
    at = _page().run()
    assert not at.exception
    assert at.metric[1].value == "—" and _start(at).disabled  # nothing measured, no pool to measure it
    assert "No worker pool has measured" in at.metric[1].help
    # the change that took 27 s, +4.6 GB and a training step in the server before
    at.selectbox(key="tr.arch").set_value("vgg19").run()
    at.button[0].click().run()  # the book recipe
    at.number_input(key="tr.side").set_value(512).run()
    at.number_input(key="tr.bs").set_value(1).run()
    assert not at.exception
    assert counter.calls == []
    store = RunStore(store_only)
    calibration.request(store, calibration.machine_id(1), 1)  # a pool has queued the measurement
    at.run()
    assert at.metric[1].value == "estimating…" and _start(at).disabled
    assert _start(at).help == "Start is available once the time is estimated"
    seed(store_only)  # ... and it has finished
    at.run()
    assert counter.calls == []
    assert ":" in at.metric[1].value  # hours of VGG-19 at 512 px, from the measurement
    assert "this server's own measurement" in at.metric[1].help
    # a student may not start it: far past the class's limit, said before Start
    assert _start(at).disabled
    assert any("longer than the 5:00" in e.value for e in at.error)
    store.close()


def test_the_calibration_measures_in_a_worker_and_the_estimates_read_it(tmp_path, monkeypatch):
    import cnnviz.jobs  # noqa: F401 (registers the kinds)
    from cnnviz.runs.worker import run_job

    monkeypatch.setattr("cnnviz.jobs.calibrate.list_models", lambda: ["lenet"])
    monkeypatch.setattr("cnnviz.jobs.calibrate.CLASS_S", 0.3)
    store = RunStore(tmp_path / "runs.sqlite")
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    cfg = recipe_config("lenet", "class")
    assert sch.train_estimate(cfg.to_dict()) is None  # nothing measured yet
    rid = calibration.request(store, calibration.machine_id(1), 1)
    info = store.claim("test:1")
    assert info is not None and info.id == rid and info.owner == TEACHER
    assert run_job(store, info) == Status.COMPLETED
    pts = calibration.points(store, calibration.machine_id(1))
    assert {(p.arch, p.point) for p in pts} == {("lenet", "class"), ("lenet", "probe")}
    est = sch.train_estimate(cfg.to_dict())
    assert est is not None and est.source == "calibration" and est.seconds > 0
    klass = next(p for p in pts if p.point == "class")
    assert est.rate == pytest.approx(klass.examples_per_s)  # the recipe's own network: its own point
    sch.close()
    store.close()


def test_rate_interpolates_the_mac_rate_between_points():
    pts = (calibration.Point("x", "class", 32, 64, 10**6, 1000.0),  # 1e9 MAC/s
           calibration.Point("x", "probe", 96, 2, 10**8, 40.0))  # 4e9 MAC/s
    assert calibration.rate(pts, "x", 10**6) == pytest.approx(1000.0)
    assert calibration.rate(pts, "x", 10**8) == pytest.approx(40.0)
    assert calibration.rate(pts, "x", 10**7) == pytest.approx(2e9 / 10**7)  # halfway on log scales
    assert calibration.rate(pts, "x", 10**9) == pytest.approx(4e9 / 10**9)  # beyond: the nearest point's
    assert calibration.rate(pts, "y", 10**7) is None


@pytest.mark.slow  # a real pool
def test_a_pool_on_an_uncalibrated_store_queues_the_measurement_first(tmp_path):
    db = tmp_path / "runs.sqlite"
    proc = start_pool(db, workers=1, calibrated=False)
    try:
        wait_pool(db)
        store = RunStore(db)
        jobs = until(lambda: store.list(kinds=(calibration.KIND,)), what="a calibration job")
        assert len(jobs) == 1 and jobs[0].owner == TEACHER
        machine = store.pool().detail["machine"]
        assert jobs[0].config["machine"] == machine == calibration.machine_id(1)
        assert not calibration.needed(store, machine)  # a second pool would not queue another
        store.close()
    finally:
        stop_pool(proc)


def test_admission_by_time(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_STUDENT_MAX_S", "60")
    seed(tmp_path / "runs.sqlite")
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    long = recipe_config("resnet18", "book").replace(epochs=3)  # hours on this machine
    with pytest.raises(admission.NotAdmitted) as err:
        sch.submit("train", long.to_dict(), A)
    assert err.value.code == "adm.too_long" and "1:00" in str(err.value)
    assert sch.refusal("train", long.to_dict()) is not None  # what the form shows before Start
    t = sch.submit("train", long.to_dict(), TEACHER)  # the teacher's limit is hours
    assert sch.get(t.run_id).limit_s == pytest.approx(14400 * admission.OVERRUN)
    assert sch.submit("train", long.to_dict(), A).attached  # watching the identical run costs nothing
    short = recipe_config("lenet", "class")
    s = sch.submit("train", short.to_dict(), B)
    assert sch.get(s.run_id).limit_s == pytest.approx(60 * admission.OVERRUN)
    # the teacher raises the class's limit: the same request is admitted at once
    mid = recipe_config("resnet18", "book").replace(epochs=1, seed=5)
    est = sch.known_estimate_s("train", mid.to_dict())
    assert est is not None and est > 60
    with pytest.raises(admission.NotAdmitted):
        sch.submit("train", mid.to_dict(), "c" * 24)
    admission.set_student_limit(sch.store, int(est) + 60)
    assert sch.refusal("train", mid.to_dict()) is None
    admission.set_student_limit(sch.store, None)
    assert admission.student_limit(sch.store) == 60
    sch.close()


def test_admission_by_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_JOBS_MEMORY_MB", "300")
    seed(tmp_path / "runs.sqlite")
    sch = Scheduler(tmp_path / "runs.sqlite", pool="none")
    big = recipe_config("vgg16", "book").replace(epochs=1, batch_size=64)  # gigabytes of activations
    with pytest.raises(admission.NotAdmitted) as err:
        sch.submit("train", big.to_dict(), TEACHER)  # the teacher's too: the machine does not have it
    assert err.value.code == "adm.too_big" and "300 MiB" in str(err.value)
    t = sch.submit("train", tiny().to_dict(), A)
    info = sch.get(t.run_id)
    assert 0 < info.mem_bytes < 300 * MB  # its reservation, from the trace
    sch.close()


def test_reservations_are_summed_over_the_running_jobs(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    for rid, owner, mem in (("r1", "s1", 600), ("r2", "s2", 300), ("big", "s3", 200), ("small", "s4", 100)):
        store.create(rid, "lenet", rid, {}, owner, mem_bytes=mem * MB)
    cap = 1000 * MB
    assert store.claim("w:1", memory=cap).id == "r1"
    assert store.claim("w:2", memory=cap).id == "r2"
    assert store.reserved() == 900 * MB
    got = store.claim("w:3", memory=cap)  # 200 MB does not fit beside 900; 100 does
    assert got is not None and got.id == "small"
    assert store.claim("w:4", memory=cap) is None  # "big" waits for memory
    store.append("r1", 0, [], status=Status.COMPLETED)  # 600 MB freed
    assert store.claim("w:4", memory=cap).id == "big"
    store.close()


def test_a_queued_job_says_it_waits_for_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_JOBS_MEMORY_MB", "1000")
    store = RunStore(tmp_path / "runs.sqlite")
    store.create("r1", "lenet", "r1", {}, "s1", mem_bytes=900 * MB)
    store.claim("w:1", memory=1000 * MB)
    assert admission.waits_for_memory(store, 200 * MB) == (900 * MB, 1000 * MB)
    assert admission.waits_for_memory(store, 100 * MB) is None
    store.close()


def test_a_job_past_its_wall_time_is_stopped_saying_so(tmp_path):
    import cnnviz.jobs  # noqa: F401
    from cnnviz.runs.worker import run_job

    store = RunStore(tmp_path / "runs.sqlite")
    cfg = tiny(epochs=200, seed=3)  # minutes of steps
    store.create("long1", "lenet", "long", cfg.to_dict(), A, limit_s=1.2)
    info = store.claim("test:1")
    assert run_job(store, info) == Status.STOPPED
    got = store.get("long1")
    assert got.code == "adm.overran" and "0:01" in got.message["en"]  # 1.2 s, written m:ss
    assert got.ended - got.started < WAIT_S
    store.close()


def test_the_classroom_reads_where_the_calibration_stands(tmp_path):
    """``make classroom`` says ready only once the machine is measured: the launcher reads the
    newest calibration's status from the store (read-only, without torch)."""
    from classroom.launcher import LIVE_WORDS, read_calibration

    db = tmp_path / "runs.sqlite"
    assert read_calibration(db) is None  # no store yet
    store = RunStore(db)
    assert read_calibration(db) is None  # a store, no calibration: nothing to wait for
    calibration.request(store, calibration.machine_id(1), 1)
    assert read_calibration(db) in LIVE_WORDS  # queued: ready waits
    seed(db)  # a newer, completed one
    assert read_calibration(db) == Status.COMPLETED
    store.close()
