"""One prepared check of cnnviz on a CUDA machine (issue #24): correctness first, then the measurements.

    bench/gpu_check.sh OUTDIR [--cpu-dry-run] [--data-dir DIR] [--wheels DIR]   # the usual way in
    python bench/gpu_check.py OUTDIR [--cpu-dry-run] [--data-dir DIR] [--wheels DIR] [--only SECTION] [--deadline S]

Sections, in this order, each in its own process with its own time budget (cut so that the whole
stays under ``--deadline``, 330 s by default), so that a section that fails, crashes or hangs never
stops the others:

* ``env``: Python, torch, CUDA, cuDNN, the GPU, TF32 settings, which packages import, and the torch
  APIs cnnviz calls (``torch.amp.GradScaler``, ``torch.autocast``, ``torch._foreach_norm``, the
  ``generator=`` of ``nn.init``, ``torch.load(weights_only=True)``...), called for real.
* ``cuda-tests``: the suite's CUDA tests (``tests/test_train.py``, which skip without a GPU) under
  pytest, and the rest of that file with the GPU visible, as on a developer's GPU box.
* ``jobs``: a real pool (``python -m cnnviz pool``) and its workers; one job of every kind
  submitted through ``Scheduler.submit``: a training run on CUDA, the gradient-flow pair, the
  BatchNorm pair, the feature-map quick training; their events, results and weights checked as
  the CPU tests check them.
* ``bench``: ``bench/bench_train.py --section gpu``: examples/s of every book recipe in fp32 and
  bf16, with and without channels-last, against the book's V100 (target ≥ 5×), and bf16 against
  fp32 accuracy (target: within 1 point).
* ``live``: a LeNet-BN run at GPU speed through the real worker, every step logged, then at the
  engine's own interval: every logged step must be in the store, and a reader polling
  ``Scheduler.events`` once a second, as the page does, must keep up (events/s written and read,
  its lag behind a fast observer).
* ``suite``: the engine's CPU tests (``test_train``, ``test_data``, ``test_batchnorm``) with the GPU
  hidden, on this machine's torch: the check that nothing breaks on another torch version.

``--cpu-dry-run`` runs every section on the CPU with tiny step counts (CUDA tests skip, the bench is
a smoke run), so that a lent GPU's minutes go to measuring only. ``--wheels DIR`` first installs
what does not import (pytest, numpy, torchvision...) from a folder of wheels, offline, into a
folder on ``PYTHONPATH`` (see ``gpu_check.sh``). The data: ``--data-dir``, else
``$CNNVIZ_DATA_DIR``, else ``./data`` or ``../shared/data`` when they hold Fashion-MNIST; without
it (or without torchvision) every run uses the engine's synthetic set, and the summary says so.

Writes ``OUTDIR/summary.json`` and ``OUTDIR/summary.md`` (every section's PASS/FAIL checks, the
targets, the tables), ``OUTDIR/sections/NAME.json`` and ``OUTDIR/logs/NAME.log``. Exit status 0
when every section passed. A check is a correctness condition (a section fails with it); a target
is a measurement against a goal (≥ 5×, ≤ 1 point...), reported PASS/FAIL but never failing its
section; in a dry run targets are "n/a".

It uses only the scheduler's public entry points (``Scheduler(db).submit(kind, params, student)``,
``.wait``, ``.events``, ``.get``, ``.weights``) and job parameters as plain dicts, so it does not
depend on where the job kinds live.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import math
import os
import pathlib
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT), str(BENCH)]  # cnnviz, and bench_train beside this file
PAGE_POLL_S = 1.0  # ui/jobs.py's POLL_S: how often a running job's panel rereads its events
FAST_POLL_S = 0.02  # the live section's observer of the store's commits
WORKER_FLUSH_S = 0.5  # cnnviz/runs/worker.py's FLUSH_S: an event waits at most this long for its commit


@dataclass(frozen=True)
class Section:
    name: str
    budget_s: float  # at most this long
    floor_s: float  # never started with less than this left (kept aside while earlier sections run)
    what: str


SECTIONS = (
    Section("env", 30, 10, "versions, GPU, packages, the torch APIs cnnviz calls"),
    Section("cuda-tests", 75, 25, "the suite's CUDA tests under pytest"),
    Section("jobs", 75, 30, "every job kind through a real pool and worker"),
    Section("bench", 170, 60, "bench_train.py --section gpu: examples/s vs the V100, bf16 vs fp32"),
    Section("live", 60, 25, "a LeNet-BN run at GPU speed recorded and read back live"),
    Section("suite", 75, 20, "the engine's CPU tests on this torch, GPU hidden"),
)
DEADLINE_S = 330.0  # the Python part; gpu_check.sh adds nvidia-smi and the wheels: ≤ 6 min in all

# wheel distribution name → the module it provides (installed from --wheels when that does not import)
WHEEL_MODULES = {"pytest": "pytest", "pluggy": "pluggy", "iniconfig": "iniconfig", "packaging": "packaging",
                 "pygments": "pygments", "pytest_timeout": "pytest_timeout", "numpy": "numpy", "pillow": "PIL",
                 "torchvision": "torchvision", "torchinfo": "torchinfo"}
PACKAGES = ("numpy", "torchvision", "PIL", "pytest", "pytest_timeout", "torchinfo", "plotly", "streamlit", "pandas",
            "hypothesis", "ray")


# --- a section's report -------------------------------------------------------------------------
class Report:
    """What one section found: checks (correctness), targets (measurements against a goal), metrics,
    notes; saved to ``OUTDIR/sections/NAME.json`` after every addition (a killed section keeps them)."""

    def __init__(self, out: pathlib.Path, name: str):
        self.path = out / "sections" / f"{name}.json"
        self.data: dict = {"name": name, "checks": [], "targets": [], "metrics": {}, "notes": []}
        self.save()

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        ok = bool(ok)
        self.data["checks"].append({"name": name, "ok": ok, "detail": detail})
        print(f"  {'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else "") + f"  [{_t()}]", flush=True)
        self.save()
        return ok

    def target(self, name: str, ok: bool | None, detail: str = "", value=None) -> None:
        self.data["targets"].append({"name": name, "ok": ok, "detail": detail, "value": value})
        print(f"  {'n/a ' if ok is None else 'PASS' if ok else 'FAIL'}  target: {name}" + (f": {detail}" if detail
                                                                                            else ""), flush=True)
        self.save()

    def note(self, text: str) -> None:
        self.data["notes"].append(text)
        print(f"  note: {text}", flush=True)
        self.save()

    def metric(self, key: str, value) -> None:
        self.data["metrics"][key] = value
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        tmp.replace(self.path)


@dataclass(frozen=True)
class Ctx:
    out: pathlib.Path
    dry: bool  # a CPU dry run
    budget_s: float  # this section's time
    data_dir: str | None

    @property
    def device(self) -> str:
        return "cpu" if self.dry else "cuda"

    def deadline(self, reserve_s: float = 3.0) -> float:
        return T0 + self.budget_s - reserve_s


T0 = time.monotonic()



def _dicts(events) -> list[dict]:
    """A job's events as their stored records (``Event.to_dict()``): the checks below read fields by name."""
    return [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in events]

def _t() -> str:
    """Seconds since this process started, for the log."""
    return f"{time.monotonic() - T0:.1f} s"


def importable(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def dataset_for(data_dir: str | None) -> tuple[str, str | None]:
    """The dataset every run of the check uses: Fashion-MNIST when it can be read, else the synthetic set."""
    from bench_train import gpu_dataset

    return gpu_dataset(data_dir)


def register_job_kinds() -> str:
    """Register every job kind in this process, as a worker does (``submit`` looks the kind up here)."""
    importlib.import_module("cnnviz.jobs")  # its __init__ registers every kind
    return "cnnviz.jobs"


# --- section: env -----------------------------------------------------------------------------------
def section_env(rep: Report, ctx: Ctx) -> None:
    import torch

    rep.metric("python", platform.python_version())
    rep.metric("torch", torch.__version__)
    rep.metric("torch_cuda", torch.version.cuda)
    rep.metric("cudnn", torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)
    rep.metric("cpu_cores", len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    rep.metric("packages", {m: importable(m) for m in PACKAGES})
    smi = ctx.out / "nvidia-smi.txt"
    rep.metric("nvidia_smi", smi.read_text()[:4000] if smi.is_file() else None)
    cuda = torch.cuda.is_available()
    rep.metric("cuda_available", cuda)
    if cuda:
        p = torch.cuda.get_device_properties(0)
        rep.metric("gpu", {"name": p.name, "capability": f"{p.major}.{p.minor}",
                           "memory_gib": round(p.total_memory / 2**30, 1), "count": torch.cuda.device_count(),
                           "bf16": torch.cuda.is_bf16_supported()})
        tf32 = {}
        for key, get in (("cudnn.allow_tf32", lambda: torch.backends.cudnn.allow_tf32),
                         ("cuda.matmul.allow_tf32", lambda: torch.backends.cuda.matmul.allow_tf32),
                         ("cuda.matmul.fp32_precision", lambda: torch.backends.cuda.matmul.fp32_precision),
                         ("float32_matmul_precision", torch.get_float32_matmul_precision)):
            try:
                tf32[key] = get()
            except Exception as err:  # noqa: BLE001  (an API another torch version lacks)
                tf32[key] = f"{type(err).__name__}"
        rep.metric("tf32", tf32)  # fp32 convolutions run in TF32 unless cudnn.allow_tf32 is False
    if ctx.dry:
        rep.note("CPU dry run: CUDA is not required")
    else:
        rep.check("CUDA is available", cuda,
                  torch.cuda.get_device_name(0) if cuda else "torch.cuda.is_available() is False")
        rep.check("nvidia-smi answered", smi.is_file() and "NVIDIA" in smi.read_text(), str(smi))
        if cuda:
            rep.check("bf16 is supported (the engine's default precision on CUDA)", torch.cuda.is_bf16_supported())
    for mod in ("numpy", "torchvision", "pytest"):
        if not importable(mod):
            rep.note(f"{mod} does not import here: give gpu_check.sh a wheel folder (--wheels) with it")
    dataset, why = dataset_for(ctx.data_dir)
    rep.metric("dataset", dataset)
    rep.metric("data_dir", ctx.data_dir)
    if why:
        rep.note(why)
    for mod in ("cnnviz.runs.scheduler", "cnnviz.train.loop", "cnnviz.cli"):
        try:
            importlib.import_module(mod)
            ok, detail = True, ""
        except Exception as err:  # noqa: BLE001  (a missing package names itself)
            ok, detail = False, f"{type(err).__name__}: {err}"
        rep.check(f"import {mod}", ok, detail)
    try:
        rep.check("the job kinds register (as a worker registers them)", True, register_job_kinds())
    except Exception as err:  # noqa: BLE001
        rep.check("the job kinds register (as a worker registers them)", False, f"{type(err).__name__}: {err}")
    for name, call in torch_api_calls(cuda):
        try:
            call()
            rep.check(f"torch API: {name}", True)
        except Exception as err:  # noqa: BLE001
            rep.check(f"torch API: {name}", False, f"{type(err).__name__}: {err}"[:300])


def torch_api_calls(cuda: bool):
    """(name, call) for every torch API cnnviz relies on beyond the basics, called the way cnnviz calls it."""
    import io

    import torch
    import torch.nn.functional as F
    from torch import nn

    def gen():
        return torch.Generator().manual_seed(0)

    def load_weights_only():
        buf = io.BytesIO()
        torch.save({"w": torch.ones(2)}, buf)
        buf.seek(0)
        assert torch.equal(torch.load(buf, map_location="cpu", weights_only=True)["w"], torch.ones(2))

    def autocast(device: str):
        def call():
            m = nn.Conv2d(1, 4, 3).to(device=device, memory_format=torch.channels_last)
            x = torch.rand(2, 1, 8, 8, device=device).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                y = m(x)
            assert y.dtype == torch.bfloat16
            F.cross_entropy(y.float().flatten(1)[:, :10], torch.tensor([0, 1], device=device)).backward()
        return call

    def grad_scaler():
        s = torch.amp.GradScaler("cuda", enabled=cuda)
        if cuda:
            w = torch.ones(3, device="cuda", requires_grad=True)
            opt = torch.optim.SGD([w], lr=0.1)
            with torch.autocast(device_type="cuda", dtype=torch.float16):
                loss = (w * 2).sum()
            s.scale(loss).backward()
            s.unscale_(opt)
            s.step(opt)
            s.update()

    calls = [
        ("torch.amp.GradScaler('cuda')" + (": scale/unscale_/step/update" if cuda else ""), grad_scaler),
        ("torch.autocast(cpu, bfloat16) + channels_last", autocast("cpu")),
        ("torch._foreach_norm", lambda: torch.stack([n.float() for n in torch._foreach_norm([torch.ones(3)])])),
        ("nn.init.xavier_uniform_(generator=)", lambda: nn.init.xavier_uniform_(torch.empty(3, 3), generator=gen())),
        ("nn.init.kaiming_uniform_(generator=)",
         lambda: nn.init.kaiming_uniform_(torch.empty(3, 3), a=math.sqrt(5), generator=gen())),
        ("torch.load(weights_only=True)", load_weights_only),
        ("torch.cuda.mem_get_info / is_bf16_supported / synchronize exist",
         lambda: [getattr(torch.cuda, n) for n in ("mem_get_info", "is_bf16_supported", "synchronize")]),
        ("torch.mps.recommended_max_memory / driver_allocated_memory exist",
         lambda: [getattr(torch.mps, n) for n in ("recommended_max_memory", "driver_allocated_memory")]),
        ("torch.backends.cudnn.benchmark", lambda: torch.backends.cudnn.benchmark),
        ("std_mean, histc, cdist, bincount, topk", lambda: (torch.std_mean(torch.rand(4, 3), dim=0),
                                                            torch.histc(torch.rand(10), bins=4),
                                                            torch.cdist(torch.rand(2, 3), torch.rand(2, 3)),
                                                            torch.bincount(torch.tensor([0, 1, 1])),
                                                            torch.topk(torch.rand(5), 2))),
        ("F.interpolate(bilinear, antialias=False)",
         lambda: F.interpolate(torch.rand(1, 1, 28, 28), size=(96, 96), mode="bilinear", align_corners=False)),
    ]
    if cuda:
        calls.append(("torch.autocast(cuda, bfloat16) + channels_last", autocast("cuda")))
        calls.append(("torch.cuda.mem_get_info()", lambda: torch.cuda.mem_get_info(torch.device("cuda"))))
    return calls


# --- pytest-based sections --------------------------------------------------------------------------
def run_pytest(rep: Report, ctx: Ctx, label: str, args: list[str], env_extra: dict | None = None,
               timeout: float | None = None) -> list[dict] | None:
    """Run pytest; its test cases from a JUnit file ({id, outcome, message}), None when it could not run."""
    if not importable("pytest"):
        rep.check(f"{label}: pytest is installed", False, "give gpu_check.sh a wheel folder with pytest (--wheels)")
        return None
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in label)  # names that travel
    xml = ctx.out / "logs" / f"{rep.data['name']}-{safe}.junit.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **(env_extra or {}))
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q", "-rfEs", f"--junitxml={xml}",
           "-o", "junit_family=xunit2"]
    print(f"  $ {' '.join(cmd[2:])}", flush=True)
    limit = timeout if timeout is not None else max(5.0, ctx.deadline() - time.monotonic())
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=limit, start_new_session=True)
        out, rc = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        rep.check(f"{label}: finished in time", False, f"pytest still running after {limit:.0f} s")
        print(out[-3000:], flush=True)
        return None
    print("\n".join("    " + ln for ln in out.strip().splitlines()[-25:]), flush=True)
    if not xml.is_file():
        rep.check(f"{label}: pytest ran", False, f"exit status {rc}, no JUnit file")
        return None
    cases = []
    for tc in ET.parse(xml).getroot().iter("testcase"):
        outcome, msg = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error", "skipped"):
                outcome, msg = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag], \
                    (child.get("message") or "")[:300]
        cases.append({"id": f"{tc.get('classname', '')}::{tc.get('name', '')}", "outcome": outcome, "message": msg})
    counts = {k: sum(c["outcome"] == k for c in cases) for k in ("passed", "failed", "error", "skipped")}
    rep.metric(f"{label} counts", counts)
    rep.metric(f"{label} exit status", rc)
    return cases


def section_cuda_tests(rep: Report, ctx: Ctx) -> None:
    select = ["-k", "cuda" if ctx.dry else "cuda or gpu"]  # a dry run: only the ones that skip
    left = ctx.deadline() - time.monotonic()
    cases = run_pytest(rep, ctx, "CUDA tests", ["tests/test_train.py", *select],
                       timeout=left if ctx.dry else max(5.0, min(45.0, 0.6 * left)))
    if cases is not None:
        cuda = [c for c in cases if "cuda" in c["id"].lower()]
        rep.check("the CUDA tests were collected", len(cuda) >= 2, ", ".join(c["id"].split("::")[-1] for c in cuda))
        bad = [c for c in cases if c["outcome"] in ("failed", "error")]
        rep.check("no test failed", not bad, "; ".join(f"{c['id']}: {c['message']}" for c in bad))
        skipped = [c for c in cuda if c["outcome"] == "skipped"]
        if ctx.dry:
            rep.note(f"CPU dry run: {len(skipped)} CUDA test(s) skipped, as on any machine without CUDA")
        else:
            rep.check("the CUDA tests ran (none skipped)", not skipped and cuda,
                      "; ".join(f"{c['id']}: {c['message']}" for c in skipped))
    if ctx.dry:
        return
    # the rest of the engine's tests with the GPU visible: what a developer's `make test` on a GPU box meets
    rest = run_pytest(rep, ctx, "test_train.py, GPU visible", ["tests/test_train.py", "-k", "not (cuda or gpu)"])
    if rest is not None:
        bad = [c for c in rest if c["outcome"] in ("failed", "error")]
        rep.target("tests/test_train.py passes with a GPU visible (device 'auto' picks CUDA)", not bad,
                   "; ".join(f"{c['id'].split('::')[-1]}: {c['message'][:120]}" for c in bad) or
                   f"{len(rest)} tests", value=len(bad))


def section_suite(rep: Report, ctx: Ctx) -> None:
    import torch

    files = ["tests/test_train.py", "tests/test_data.py", "tests/test_batchnorm.py"]
    args = files + (["-k", "prepare_scales or bad_data_config"] if ctx.dry else [])
    rep.metric("torch", torch.__version__)
    cases = run_pytest(rep, ctx, f"suite on torch {torch.__version__}", args, {"CUDA_VISIBLE_DEVICES": ""})
    if cases is None:
        return
    bad = [c for c in cases if c["outcome"] in ("failed", "error")]
    rep.check(f"{', '.join(f.split('/')[-1] for f in files)} pass on torch {torch.__version__} (GPU hidden)",
              not bad and len(cases) > 0,
              "; ".join(f"{c['id']}: {c['message']}" for c in bad) or f"{len(cases)} tests")


# --- the real pool ----------------------------------------------------------------------------------
@contextlib.contextmanager
def real_pool(ctx: Ctx, tmp: pathlib.Path, name: str, workers: int, threads: int):
    """A store served by a real pool (``python -m cnnviz pool``) and a ``Scheduler`` on it. Enter it
    first: the pool and its workers start up while this process imports what it needs."""
    from cnnviz.supervisor import terminate  # standard library only: no torch before the pool starts

    db = tmp / "runs.sqlite"
    if ctx.dry:
        # A store without a calibration of this machine makes the pool queue one first ("calibrate",
        # most of a minute of one worker): the live section's single worker then holds its runs queued
        # past the section's budget. The dry run checks the script, not the calibration: it gets the
        # tests' ready-made one (testkit.calibration). (On the GPU, the real one still runs first.)
        from testkit.calibration import seed

        seed(db, threads=threads, workers=workers)
    log_path = ctx.out / "logs" / f"{name}-pool.log"
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--workers", str(workers),
                             "--threads", str(threads), "--exit-with-parent"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    sch = None
    try:
        from cnnviz.runs.scheduler import Scheduler

        sch = Scheduler(db, pool="external")
        t0 = time.monotonic()
        while not sch.pool_alive():
            if proc.poll() is not None or time.monotonic() - t0 > 60:
                raise RuntimeError(f"the pool did not start: {log_path.read_text()[-1500:]}")
            time.sleep(0.1)
        print(f"  pool up in {time.monotonic() - t0:.1f} s ({workers} workers x {threads} threads)  [{_t()}]",
              flush=True)
        _calibration_line(sch)
        yield db, sch
    finally:
        if sch is not None:
            with contextlib.suppress(Exception):
                sch.clear()
            sch.close()
        terminate([proc], 15)  # the pool: SIGTERM (its workers end their jobs), SIGKILL after the grace


def _calibration_line(sch) -> None:
    """Say where the pool's measurement of this machine stands (cnnviz.runs.calibration): on a
    fresh store it runs first, in one worker, while the other jobs start on the others."""
    from cnnviz.runs import calibration

    jobs = sch.store.list(kinds=(calibration.KIND,))
    state = jobs[0].status.value if jobs else "none"
    print(f"  calibration of this machine: {state} ({len(sch.calibration())} points so far)  [{_t()}]", flush=True)


def pool_shape(ctx: Ctx, want: int) -> tuple[int, int]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(want, cores))
    return workers, max(1, min(4, cores // workers))


def logged_steps(total: int, spe: int, every: int) -> list[int]:
    """The steps a run logs: every ``every``-th, each epoch's last, and the last (``cnnviz.train.loop``)."""
    return [s for s in range(1, total + 1) if s % every == 0 or s % spe == 0 or s == total]


def steps_of(events: list[dict], name: str | None = None) -> list[int]:
    return [e["step"] for e in events if e["kind"] == "step" and e.get("name") == name]


def finite(values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


# --- section: jobs ------------------------------------------------------------------------------------
def section_jobs(rep: Report, ctx: Ctx) -> None:
    with tempfile.TemporaryDirectory(prefix="cnnviz-gpu-jobs-") as tmp, \
            real_pool(ctx, pathlib.Path(tmp), "jobs", *pool_shape(ctx, 4)) as (db, sch):
        jobs_in_pool(rep, ctx, sch)


def jobs_in_pool(rep: Report, ctx: Ctx, sch) -> None:
    import torch

    from cnnviz.train.config import TrainConfig
    from cnnviz.train.recipes import recipe_config
    from cnnviz.train.steps import build_model

    register_job_kinds()
    dataset, why = dataset_for(ctx.data_dir)
    if why:
        rep.note(why)
    train_log = 10 if not ctx.dry else 2  # 10: the engine's own interval on CUDA
    n = 256 if ctx.dry else 512
    tcfg = TrainConfig.create("resnet18", input_side=32, model_settings={"width_div": 8}, dataset=dataset,
                              subset=n, test_subset=n // 2, lr=0.05, momentum=0.9, batch_size=64, epochs=3,
                              eval_every=2 if ctx.dry else 4, log_every=train_log, device=ctx.device)
    gf_steps = 6
    jobs = {
        "train": tcfg.to_dict(),
        "gradflow": {"depth": 5 if ctx.dry else 7, "width": 8, "side": 16 if ctx.dry else 32, "steps": gf_steps,
                     "batch_size": 16 if ctx.dry else 32, "dataset": dataset},
        "bnpair": {"steps": 12, "batch_size": 32, "hist_every": 5, "dataset": dataset},
        "featuremaps": {"arch": "lenet", "steps": 20, "dataset": dataset},
    }
    ids = {}
    for kind, params in jobs.items():
        ids[kind] = sch.submit(kind, params, f"gpucheck-{kind}".ljust(24, "x")).run_id
    infos = {}
    for kind, rid in ids.items():
        infos[kind] = info = sch.wait(rid, timeout=max(5.0, ctx.deadline(8) - time.monotonic()))
        rep.check(f"{kind}: the job completed in a worker process", info.status == "completed" and
                  info.worker and int(info.worker.rsplit(":", 1)[1]) != os.getpid(),
                  f"{info.status} {info.code} {info.text('en')[:200]}".strip())
        rep.metric(f"{kind} wall_s", round((info.ended or time.time()) - (info.started or time.time()), 2))

    # --- train: the engine's events on CUDA, the results just before the end, the weights ---------
    ev = _dicts(sch.events(ids["train"]))
    kinds = [e["kind"] for e in ev]
    start, end = (ev[0] if ev else {}), (ev[-1] if ev else {})
    rep.check("train: start first, end last, results just before the end",
              kinds[:1] == ["start"] and kinds[-2:] == ["results", "end"], " ".join(kinds[:3] + ["…"] + kinds[-3:]))
    want_dev = "cuda" if not ctx.dry else "cpu"
    rep.check(f"train: ran on {want_dev}, mixed precision and channels-last as the engine picks them",
              str(start.get("device", "")).startswith(want_dev) and
              (ctx.dry or (start.get("precision") in ("bf16", "fp16") and start.get("channels_last"))),
              f"device {start.get('device')}, precision {start.get('precision')}, "
              f"channels-last {start.get('channels_last')}, data {start.get('dataset')}")
    if start:
        want = logged_steps(start["total_steps"], start["steps_per_epoch"], train_log)
        got = steps_of(ev)
        rep.check("train: every logged step is in the store", got == want, f"{len(got)} steps, want {len(want)}")
        steps = [e for e in ev if e["kind"] == "step"]
        rep.check("train: losses and gradient norms finite, every conv/linear layer's norm there",
                  steps and finite(e["loss"] for e in steps) and
                  all(list(e["grad_norms"]) == list(start["layers"]) and finite(e["grad_norms"].values())
                      for e in steps))
        rep.check("train: the loss fell", steps and steps[-1]["epoch_loss"] < steps[0]["loss"],
                  f"{steps[0]['loss']:.3f} → {steps[-1]['epoch_loss']:.3f}" if steps else "no steps")
        evals = [e for e in ev if e["kind"] == "eval"]
        epochs = [e for e in ev if e["kind"] == "epoch"]
        rep.check("train: evaluations and one epoch event per epoch", evals and len(epochs) == start["epochs"],
                  f"{len(evals)} eval, {len(epochs)} epoch events")
        res = next((e["results"] for e in ev if e["kind"] == "results"), None)
        if res:
            total = sum(map(sum, res["confusion"]))
            diag = sum(res["confusion"][i][i] for i in range(len(res["confusion"])))
            rep.check("train: the confusion matrix sums to the test split and its diagonal is the test accuracy",
                      total == res["n"] == start["n_test"] and abs(diag / total - end.get("test_acc", -1)) < 1e-9,
                      f"n {res['n']}, diag {diag}, test_acc {end.get('test_acc')}")
        else:
            rep.check("train: a results event", False)
    # weights: kept, loadable into a fresh network, trained, and they give the run's accuracy
    weights = getattr(sch, "weights", None)
    info = infos["train"]
    if weights is None:
        rep.note("Scheduler has no .weights: the weights were not checked")
    else:
        path = weights.path(ids["train"])
        rep.check("train: its weights are kept", path.is_file() and info.summary.get("weights") == "kept",
                  f"{info.summary.get('weights')} {info.summary.get('weights_bytes')} bytes")
        if path.is_file():
            state = torch.load(path, map_location="cpu", weights_only=True)
            model = build_model(tcfg)
            fresh = {k: v.clone() for k, v in model.state_dict().items()}
            model.load_state_dict(state)  # strict: every key, every shape
            moved = any(not torch.equal(v, fresh[k]) for k, v in state.items() if v.is_floating_point())
            rep.check("train: the weights load into a fresh network, finite, and trained",
                      moved and all(torch.isfinite(v.float()).all() for v in state.values()))
            from cnnviz.train.evaluate import evaluate_model

            model.to(start.get("device", "cpu"))
            again = evaluate_model(model, tcfg, run_id=ids["train"])
            tol = 0 if ctx.dry else 0.02  # cuDNN may pick other kernels in this process
            rep.check("train: those weights give the run's test accuracy again",
                      again is not None and abs(again.accuracy - end.get("test_acc", -1)) <= tol + 1e-12,
                      f"{again.accuracy if again else None} vs {end.get('test_acc')}")

    # --- the two paired labs: both variants step by step, the BN statistics ---------------------------
    for kind, names, n in (("gradflow", ("plain", "residual"), gf_steps), ("bnpair", ("no_bn", "bn"), 12)):
        ev = _dicts(sch.events(ids[kind]))
        for name in names:
            mine = [e for e in ev if e.get("name") == name]
            st = next((e for e in mine if e["kind"] == "start"), {})
            steps = [e for e in mine if e["kind"] == "step"]
            ends = [e for e in mine if e["kind"] == "end"]
            rep.check(f"{kind}/{name}: start, steps 1..{n} with finite gradient norms, completed",
                      st and [e["step"] for e in steps] == list(range(1, n + 1)) and
                      all(finite(e["grad_norms"].values()) and e["grad_norms"] for e in steps) and
                      ends and ends[-1]["status"] == "completed",
                      f"device {st.get('device')}, {len(steps)} steps, end {ends[-1]['status'] if ends else None}")
        if kind == "bnpair":
            stats = [e for e in ev if e["kind"] == "stats"]
            rep.check("bnpair: activation statistics for both variants, up to the last step",
                      {e["name"] for e in stats} == set(names) and
                      all(max(e["step"] for e in stats if e["name"] == v) == n for v in names),
                      f"{len(stats)} stats events")
        devices = {e.get("device") for e in ev if e["kind"] == "start"}
        rep.note(f"{kind} ran on {', '.join(sorted(map(str, devices)))}: the lab kinds fix device='cpu' in their "
                 "configs (no device parameter), so they never use the GPU")

    # --- featuremaps: the engine's stream without names, its weights for the lab ------------------------
    ev = _dicts(sch.events(ids["featuremaps"]))
    end = ev[-1] if ev else {}
    rep.check("featuremaps: the engine's events, its own end at step 20, no names",
              ev and ev[0]["kind"] == "start" and end.get("kind") == "end" and end.get("step") == 20 and
              not any("name" in e for e in ev), f"{len(ev)} events")
    if weights is not None:
        path = weights.path(ids["featuremaps"])
        ok, detail = path.is_file(), str(path.name)
        if ok:
            cfg = recipe_config("lenet", "class", dataset=dataset, time_budget_s=None, seed=0)
            model = build_model(cfg)
            fresh = {k: v.clone() for k, v in model.state_dict().items()}
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            ok = any(not torch.equal(v, fresh[k]) for k, v in state.items() if v.is_floating_point())
            detail = f"{len(state)} tensors, trained {ok}"
        rep.check("featuremaps: its trained weights are kept and load into the lab's LeNet", ok, detail)
    rep.target("the lab kinds run on CUDA", None if ctx.dry else False,
               "gradflow, bnpair and featuremaps build their TrainConfigs with device='cpu': "
               "on a GPU machine they still train on the CPU")


# --- section: bench -----------------------------------------------------------------------------------
def section_bench(rep: Report, ctx: Ctx) -> None:
    raw = ctx.out / "sections" / "bench-raw.json"
    raw.unlink(missing_ok=True)
    cmd = [sys.executable, str(BENCH / "bench_train.py"), "--section", "gpu", "--json", str(raw)]
    if ctx.data_dir:
        cmd += ["--data-dir", ctx.data_dir]
    if ctx.dry:
        cmd += ["--device", "cpu", "--smoke", "--gpu-steps", "4", "--arch", "batchnorm"]  # LeNet-BN: both parts
    else:
        cmd += ["--device", "cuda", "--gpu-steps", "60", "--gpu-acc-epochs", "10"]
    print(f"  $ {' '.join(cmd[1:])}", flush=True)
    limit = max(5.0, ctx.deadline(4) - time.monotonic())
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    timer = threading.Timer(limit, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        for line in proc.stdout:
            print("    " + line.rstrip(), flush=True)
        rc = proc.wait()
    finally:
        timer.cancel()
    rep.check("bench_train.py --section gpu finished", rc == 0,
              f"exit status {rc}" + (f" (killed after {limit:.0f} s)" if rc == -signal.SIGKILL else ""))
    if not raw.is_file():
        rep.check("bench_train.py wrote its measurements", False, str(raw))
        return
    res = json.loads(raw.read_text())
    rep.metric("bench", res)
    for n in res.get("notes", []):
        rep.note(n)
    rows = res.get("rows", [])
    bad = [r for r in rows if r["status"] != "completed" or not r["examples_per_s"]]
    rep.check("every throughput run completed with a rate", rows and not bad,
              f"{len(rows)} runs" + "".join(f"; {r['name']} {r['precision']} cl={r['channels_last']}: {r['status']} "
                                            f"{r['message'][:120]}" for r in bad))
    acc = res.get("accuracy", [])
    rep.check("the bf16 and fp32 accuracy runs completed", acc and all(
        a[p]["status"] == "completed" for a in acc for p in ("fp32", "bf16")), f"{len(acc)} pairs")
    if not ctx.dry:
        rep.check("the runs used the device asked for", rows and all(r["device"].startswith("cuda") for r in rows))
    for t in res.get("targets", []):
        v = t.get("value")
        detail = ""
        if "default_rate" in t:
            detail = (f"{t['default_rate']:,.0f} ex/s = {v:.1f}× the V100's {t['v100']:,}; fastest {t['best']}"
                      f"{'' if t['default_is_fastest'] else ' (the default is not)'}" if v else "no rate")
        elif v is not None:
            detail = f"Δ {v * 100:+.2f} points"
        rep.target(t["name"], None if ctx.dry else t["ok"], detail, value=v)


# --- section: live ------------------------------------------------------------------------------------
def live_run(rep: Report, ctx: Ctx, sch, db: pathlib.Path, label: str, log_every: int, max_steps: int,
             dataset: str) -> None:
    """One LeNet-BN run (the book's: batch 256, lr 1.0) through the real worker; a page-like reader and a
    fast observer read it back as it runs."""
    from cnnviz.runs.scheduler import Scheduler
    from cnnviz.train.config import TrainConfig

    # a dry run's: small batches and evaluations, cheap on the CPU
    small = {"test_subset": 200, "eval_subset": 100, "batch_size": 32} if ctx.dry else {"batch_size": 256}
    cfg = TrainConfig.create("lenet", dataset=dataset, lr=1.0, epochs=1000, max_steps=max_steps,
                             device=ctx.device, log_every=log_every, **small)
    rid = sch.submit("train", cfg.to_dict(), f"gpucheck-live-{log_every}".ljust(24, "x")).run_id
    seen: dict[str, dict[int, float]] = {"page": {}, "fast": {}}
    poll_s: dict[str, list[float]] = {"page": [], "fast": []}

    def reader(who: str, every: float) -> None:
        r = Scheduler(db, pool="external")  # its own cache, as another replica's
        try:
            n = 0
            deadline = ctx.deadline(6)
            while time.monotonic() < deadline:
                live = r.get(rid).live  # first: once it is over, the read below has every event
                t = time.perf_counter()
                evs = _dicts(r.events(rid))
                poll_s[who].append(time.perf_counter() - t)
                now = time.monotonic()
                for i in range(n, len(evs)):
                    seen[who][i] = now
                n = len(evs)
                if not live:
                    break
                time.sleep(every)
        finally:
            r.close()

    threads = [threading.Thread(target=reader, args=(w, s), daemon=True)
               for w, s in (("page", PAGE_POLL_S), ("fast", FAST_POLL_S))]
    for th in threads:
        th.start()
    info = sch.wait(rid, timeout=max(5.0, ctx.deadline(8) - time.monotonic()))
    for th in threads:
        th.join(timeout=PAGE_POLL_S * 3)
    events = _dicts(sch.events(rid))
    tag = f"live, log every {log_every}"
    rep.check(f"{tag}: the run completed", info.status == "completed", f"{info.status} {info.text('en')[:200]}")
    if not events or events[0]["kind"] != "start":
        rep.check(f"{tag}: events recorded", False)
        return
    start = events[0]
    steps = [e for e in events if e["kind"] == "step"]
    want = logged_steps(start["total_steps"], start["steps_per_epoch"], log_every)
    rep.check(f"{tag}: every logged step is in the store", [e["step"] for e in steps] == want,
              f"{len(steps)} of {len(want)} logged steps, {len(events)} events")
    rate = statistics.median(e["examples_per_s"] for e in steps) if steps else 0.0
    span = (info.ended - info.started) if info.ended and info.started else 0.0
    page, fast = seen["page"], seen["fast"]
    rep.check(f"{tag}: the page-like reader got every event", len(page) == len(events) == len(fast),
              f"page {len(page)}, fast {len(fast)}, store {len(events)}")
    lags = sorted(page[i] - fast[i] for i in page if i in fast)
    first, last = (min(page.values()), max(page.values())) if page else (0.0, 0.0)
    m = {"device": start["device"], "precision": start["precision"], "dataset": start["dataset"],
         "steps": start["total_steps"], "log_every": log_every, "examples_per_s": round(rate),
         "events": len(events), "step_events": len(steps), "run_s": round(span, 2),
         "written_events_per_s": round(len(events) / span, 1) if span > 0 else None,
         "read_events_per_s": round(len(page) / (last - first), 1) if last > first else None,
         "page_polls": len(poll_s["page"]),
         "page_read_ms_p50": round(1000 * statistics.median(poll_s["page"]), 2) if poll_s["page"] else None,
         "page_read_ms_max": round(1000 * max(poll_s["page"]), 2) if poll_s["page"] else None,
         "lag_s_p50": round(statistics.median(lags), 3) if lags else None,
         "lag_s_p95": round(lags[int(0.95 * (len(lags) - 1))], 3) if lags else None,
         "lag_s_max": round(lags[-1], 3) if lags else None}
    rep.metric(tag, m)
    print(f"  {tag}: {m}", flush=True)
    keep_up = PAGE_POLL_S + 0.5  # one poll interval, plus room for a slow read
    rep.check(f"{tag}: the reader kept up (behind the store by at most one poll, {keep_up:g} s)",
              lags and lags[-1] <= keep_up,
              f"lag p50 {m['lag_s_p50']} s, p95 {m['lag_s_p95']} s, max {m['lag_s_max']} s")
    rep.check(f"{tag}: a poll reads fast (max ≤ 0.25 s)", poll_s["page"] and max(poll_s["page"]) <= 0.25,
              f"p50 {m['page_read_ms_p50']} ms, max {m['page_read_ms_max']} ms")
    rep.target(f"{tag}: tens of thousands of examples/s (≥ 10,000)", None if ctx.dry else rate >= 10_000,
               f"{rate:,.0f} ex/s; {m['written_events_per_s']} events/s written, {m['read_events_per_s']} read",
               value=rate)


def section_live(rep: Report, ctx: Ctx) -> None:
    register_job_kinds()
    runs = ((1, 16), (0, 16)) if ctx.dry else ((1, 2500), (0, 5000))  # (log_every: 0 = the engine's own, steps)
    with tempfile.TemporaryDirectory(prefix="cnnviz-gpu-live-") as tmp, \
            real_pool(ctx, pathlib.Path(tmp), "live", *pool_shape(ctx, 1)) as (db, sch):
        dataset, why = dataset_for(ctx.data_dir)
        if why:
            rep.note(why)
        for every, steps in runs:
            if every == 0:
                every = 10 if not ctx.dry else 4  # what auto gives LeNet-BN at batch 256 on CUDA; any on the CPU
            live_run(rep, ctx, sch, db, f"every {every}", every, steps, dataset)


# --- the driver ---------------------------------------------------------------------------------------
RUNNERS = {"env": section_env, "cuda-tests": section_cuda_tests, "jobs": section_jobs, "bench": section_bench,
           "live": section_live, "suite": section_suite}


def run_section(name: str, ctx: Ctx) -> int:
    """One section, in this process (the driver started it): its report, exit status 0 when it passed."""
    rep = Report(ctx.out, name)
    try:
        RUNNERS[name](rep, ctx)
    except Exception as err:  # noqa: BLE001  (a crash is this section's failure, with its traceback)
        import traceback

        traceback.print_exc()
        rep.check(f"{name} ran to its end", False, f"{type(err).__name__}: {err}"[:500])
    ok = rep.data["checks"] and all(c["ok"] for c in rep.data["checks"])
    return 0 if ok else 1


def install_wheels(wheels: pathlib.Path, site: pathlib.Path, out: pathlib.Path) -> list[str]:
    """Install, offline, the wheels of ``wheels`` whose module does not import, into ``site``; returns them."""
    todo = []
    for whl in sorted(wheels.glob("*.whl")):
        dist = whl.name.split("-")[0].lower().replace("-", "_")
        mod = WHEEL_MODULES.get(dist, dist)
        if not importable(mod):
            todo.append(whl)
    if not todo:
        return []
    site.mkdir(parents=True, exist_ok=True)
    log = out / "logs" / "wheels.log"
    cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--find-links", str(wheels),
           "--target", str(site), "--disable-pip-version-check", *map(str, todo)]
    with open(log, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
        if rc != 0:  # no pip here: a wheel is a zip file laid out for site-packages
            f.write("pip failed; unpacking the wheels instead\n")
            for whl in todo:
                with zipfile.ZipFile(whl) as z:
                    z.extractall(site)
    return [w.name for w in todo]


def default_data_dir(arg: str | None) -> str | None:
    if arg:
        return str(pathlib.Path(arg).resolve())
    if os.environ.get("CNNVIZ_DATA_DIR"):
        return os.environ["CNNVIZ_DATA_DIR"]
    for cand in (ROOT / "data", ROOT.parent / "shared" / "data"):
        if (cand / "FashionMNIST" / "raw").is_dir():
            return str(cand)
    return None


def run_child(name: str, argv: list[str], out: pathlib.Path, timeout: float,
              env: dict) -> tuple[int | None, float, float]:
    """Run one section's process (its own session, so a timeout kills it and its pool); stream its output
    to the console and to ``logs/NAME.log``. (exit status or None when killed, seconds, CPU seconds)."""
    log = out / "logs" / f"{name}.log"
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    cpu0 = _children_cpu_s()
    try:
        with open(log, "w") as f:
            for line in proc.stdout:
                f.write(line)
                f.flush()
                print(line, end="", flush=True)
        rc = proc.wait()
    finally:
        timer.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind (a pool, its workers)
    return (None if killed.is_set() else rc), time.monotonic() - t0, _children_cpu_s() - cpu0


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the ended child processes and of the ones they waited for."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the folder to write the results to")
    ap.add_argument("--cpu-dry-run", action="store_true", help="everything on the CPU, tiny: checks the script")
    ap.add_argument("--data-dir", default=None, help="a folder with FashionMNIST/raw (default $CNNVIZ_DATA_DIR)")
    ap.add_argument("--wheels", default=os.environ.get("CNNVIZ_WHEELS"), help="a folder of wheels to install from")
    ap.add_argument("--only", action="append", choices=[s.name for s in SECTIONS], help="run only this section")
    ap.add_argument("--deadline", type=float, default=DEADLINE_S, help="seconds for all the sections together")
    ap.add_argument("--run-section", default=None, help=argparse.SUPPRESS)  # the driver's child
    ap.add_argument("--budget", type=float, default=60.0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out).resolve()
    data = default_data_dir(args.data_dir)
    if args.run_section:
        return run_section(args.run_section, Ctx(out, args.cpu_dry_run, args.budget, data))

    t_start = time.monotonic()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "sections").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cnnviz-gpu-check-"))
    env["CNNVIZ_DB"] = str(tmp / "default-runs.sqlite")  # nothing writes beside the data
    if data:
        env["CNNVIZ_DATA_DIR"] = data
    installed = []
    if args.wheels:
        site = tmp / "site"
        installed = install_wheels(pathlib.Path(args.wheels), site, out)
        if installed:
            env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            print(f"installed from {args.wheels}: {', '.join(installed)}", flush=True)
    mode = "CPU dry run" if args.cpu_dry_run else "GPU run"
    print(f"cnnviz GPU check ({mode}) → {out}; data: {data or 'none (synthetic)'}; deadline {args.deadline:.0f} s",
          flush=True)
    chosen = [s for s in SECTIONS if not args.only or s.name in args.only]
    results = []
    for i, sec in enumerate(chosen):
        left = args.deadline - (time.monotonic() - t_start)
        reserve = sum(s.floor_s for s in chosen[i + 1:])
        budget = min(sec.budget_s, left - reserve)
        print(f"\n=== {sec.name}: {sec.what} (budget {max(0.0, budget):.0f} s)", flush=True)
        if budget < sec.floor_s:
            results.append({"name": sec.name, "status": "SKIP", "seconds": 0.0, "budget_s": budget,
                            "reason": "no time left"})
            print(f"SKIP  {sec.name}: only {budget:.0f} s left", flush=True)
            continue
        child = [sys.executable, str(BENCH / "gpu_check.py"), str(out), "--run-section", sec.name,
                 "--budget", f"{budget:.1f}"] + (["--cpu-dry-run"] if args.cpu_dry_run else []) + \
                (["--data-dir", data] if data else [])
        rc, secs, cpu = run_child(sec.name, child, out, budget + 2.0, env)
        path = out / "sections" / f"{sec.name}.json"
        rep = json.loads(path.read_text()) if path.is_file() else {"checks": [], "targets": [], "metrics": {},
                                                                     "notes": []}
        checks_ok = bool(rep["checks"]) and all(c["ok"] for c in rep["checks"])
        status = "PASS" if rc == 0 and checks_ok else "FAIL"
        reason = "" if rc is not None else f"timed out after {budget:.0f} s"
        if rc not in (0, None) and checks_ok:
            reason = f"exit status {rc}"
        results.append({"name": sec.name, "status": status, "seconds": round(secs, 1), "cpu_s": round(cpu, 1),
                        "budget_s": round(budget, 1),
                        "reason": reason, **{k: rep.get(k) for k in ("checks", "targets", "metrics", "notes")}})
        print(f"{status}  {sec.name} ({secs:.1f} s, {cpu:.1f} s of CPU){': ' + reason if reason else ''}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - t_start
    summary = {"mode": mode, "dry_run": args.cpu_dry_run, "when": datetime.datetime.now().isoformat(timespec="seconds"),
               "host": platform.node(), "python": platform.python_version(), "data_dir": data,
               "wheels_installed": installed, "wall_s": round(wall, 1), "deadline_s": args.deadline,
               "cpu_s": round(sum(r.get("cpu_s", 0.0) for r in results), 1), "load_avg": _load(),
               "passed": all(r["status"] == "PASS" for r in results), "sections": results}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (out / "summary.md").write_text(markdown(summary))
    print(f"\n{'=' * 60}\n{mode}: {sum(r['status'] == 'PASS' for r in results)} of {len(results)} sections passed "
          f"in {wall:.1f} s ({summary['cpu_s']} s of CPU; load average {summary['load_avg']})")
    for r in results:
        print(f"{r['status']}  {r['name']:<11} {r['seconds']:6.1f} s  {r.get('cpu_s', 0):6.1f} s CPU  "
              f"{r.get('reason', '')}")
    for r in results:
        for t in r.get("targets") or []:
            print(f"{'n/a ' if t['ok'] is None else 'PASS' if t['ok'] else 'FAIL'}  target  {t['name']}: {t['detail']}")
    print(f"summary: {out / 'summary.md'}")
    return 0 if summary["passed"] else 1


def _load() -> str | None:
    try:
        return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


# --- the markdown summary --------------------------------------------------------------------------------
def _mark(ok) -> str:
    return "n/a" if ok is None else "PASS" if ok else "FAIL"


def _md_table(head: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return lines + [""]


def markdown(s: dict) -> str:
    sec = {r["name"]: r for r in s["sections"]}
    env = (sec.get("env") or {}).get("metrics") or {}
    gpu = env.get("gpu") or {}
    lines = [f"# cnnviz GPU check: {s['mode']}", "",
             f"{s['when']} on {s['host']}: {gpu.get('name', 'no GPU')}, Python {s['python']}, torch "
             f"{env.get('torch', '?')} (CUDA {env.get('torch_cuda')}, cuDNN {env.get('cudnn')}); data "
             f"{env.get('dataset', '?')} from {s['data_dir'] or '(none)'}; {s['wall_s']} s of {s['deadline_s']:.0f} "
             f"({s['cpu_s']} s of CPU; load average at the end {s['load_avg']}).", ""]
    if s["wheels_installed"]:
        lines += [f"Installed from the wheel folder: {', '.join(s['wheels_installed'])}.", ""]
    lines += _md_table(["section", "status", "seconds", "CPU s", "budget s", "checks", "note"],
                       [[r["name"], r["status"], r["seconds"], r.get("cpu_s", ""), r["budget_s"],
                         f"{sum(c['ok'] for c in r.get('checks') or [])}/{len(r.get('checks') or [])}",
                         r.get("reason", "")] for r in s["sections"]])
    targets = [(r["name"], t) for r in s["sections"] for t in r.get("targets") or []]
    if targets:
        lines += ["## Targets", ""]
        lines += _md_table(["section", "target", "result", "detail"],
                           [[n, t["name"], _mark(t["ok"]), t["detail"]] for n, t in targets])
    bench = ((sec.get("bench") or {}).get("metrics") or {}).get("bench")
    if bench and bench.get("rows"):
        lines += ["## Throughput (examples/s)", ""]
        combos = [("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)]
        by = {}
        for r in bench["rows"]:
            by.setdefault(r["family"], {})[(r["precision"], r["channels_last"])] = r
        t = {x["family"]: x for x in bench.get("targets", []) if "default_rate" in x}
        rows = []
        for fam, rs in by.items():
            any_r = next(iter(rs.values()))
            rows.append([any_r["name"], any_r["side"], any_r["batch"], any_r["dataset"],
                         *(f"{rs[c]['examples_per_s']:,.0f}" if c in rs and rs[c]["examples_per_s"] else "—"
                           for c in combos),
                         (t.get(fam) or {}).get("best") or "—", f"{(t.get(fam) or {}).get('v100', 0):,}",
                         f"{t[fam]['value']:.1f}×" if t.get(fam) and t[fam]["value"] else "—"])
        d = bench.get("default") or {}
        lines += _md_table(["network", "side", "batch", "data", "fp32", "fp32 + channels-last", "bf16",
                            "bf16 + channels-last", "fastest", "book V100",
                            f"default ({d.get('precision')}{' + cl' if d.get('channels_last') else ''}) / V100"], rows)
    if bench and bench.get("accuracy"):
        lines += ["## bf16 against fp32 (test accuracy of the same run)", ""]
        lines += _md_table(["network", "epochs", "data", "fp32", "bf16", "Δ points", "last 3 epochs fp32 / bf16"],
                           [[a["name"], a["epochs"], a["fp32"]["dataset"], f"{(a['fp32']['test_acc'] or 0):.2%}",
                             f"{(a['bf16']['test_acc'] or 0):.2%}",
                             "—" if a["delta"] is None else f"{a['delta'] * 100:+.2f}",
                             " / ".join(f"{(a[p].get('last3_mean') or 0):.2%}" for p in ("fp32", "bf16"))]
                            for a in bench["accuracy"]])
    live = (sec.get("live") or {}).get("metrics") or {}
    if live:
        keys = ["device", "log_every", "steps", "examples_per_s", "events", "run_s", "written_events_per_s",
                "read_events_per_s", "page_read_ms_p50", "page_read_ms_max", "lag_s_p50", "lag_s_p95", "lag_s_max"]
        lines += ["## Live path", "", f"A reader polls `Scheduler.events` every {PAGE_POLL_S:g} s as the page does; "
                  f"its lag is measured against an observer polling every {FAST_POLL_S:g} s.", ""]
        lines += _md_table(keys, [[m.get(k) for k in keys] for m in live.values() if isinstance(m, dict)])
    lines += ["## Checks", ""]
    for r in s["sections"]:
        lines += [f"### {r['name']}: {r['status']}" + (f" ({r['reason']})" if r.get("reason") else ""), ""]
        lines += [f"- {_mark(c['ok'])} {c['name']}" + (f": {c['detail']}" if c["detail"] else "")
                  for c in r.get("checks") or []]
        lines += [f"- note: {n}" for n in r.get("notes") or []]
        lines += [""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
