"""Training throughput and the class-period recipes, each measured against a baseline in the same run.

Sections (``--section``, default all):

* ``engine``: ``cnnviz.train.train`` (a StepEvent per step with per-layer gradient norms,
  running accuracy, divergence check) against a bare PyTorch loop over the same model,
  initial weights, batches and input preparation. Throughput over steps 2..N of each, eval
  off; the two alternate, ``--repeats`` times, and the medians are compared. Target ≥ 0.95×.
* ``pipeline``: the engine against the book's pipeline shape, a ``DataLoader`` over
  ``torchvision.datasets.FashionMNIST`` with a per-sample ``transforms.Resize(96)`` +
  ``ToTensor()`` (shuffled, fresh workers each epoch as in the book) with the book's 4
  workers, and with 0 and 2 (on 2 cores, workers compete with training: fewer can be
  faster, so the ratio against the fastest setting is printed too), same model, weights
  and batch size. One training epoch of ``$CNNVIZ_DATA_DIR``'s Fashion-MNIST,
  model and dataset construction excluded from both. The per-image data cost is fixed, so
  the target (≥ 2×) is stated for a small net where data loading matters: AlexNet with
  channels ÷ 16 and 64-wide dense layers (0.8 M MACs at 96 × 96), batch 256 (the book's
  ResNet/LeNet batch). Larger nets are listed to show where the gain fades.
* ``class``: every family's "class period" recipe on ``$CNNVIZ_DATA_DIR``'s Fashion-MNIST:
  wall time from ``train()`` to its EndEvent (data loading and model building included) and
  the final test accuracy. Target ≤ 60 s on 2 CPU cores; chance is 10 %.
* ``gpu``: on CUDA only, each book recipe's training examples/s (the book's input side and
  batch; the median of the StepEvents after a warm-up; the data held on the GPU by the engine)
  in fp32 and bf16, with and without channels-last, against the book's V100 figures (target
  ≥ 5× for the engine's default, bf16 + channels-last, and whether that default is the fastest);
  then a short run of LeNet-BN and ResNet-18 in bf16 against the same run in fp32 (target: test
  accuracy within 1 point). Fashion-MNIST from ``--data-dir``/``$CNNVIZ_DATA_DIR``, else the
  synthetic set, said so. ``--json`` writes the measurements as they come (``bench/gpu_check.py``
  reads them); ``--device cpu --smoke`` runs it small on the CPU (a dry run of the code, not a
  measurement). On a machine without CUDA it prints a note and skips.

    CNNVIZ_DATA_DIR=/work/shared/data .venv/bin/python bench/bench_train.py
    .venv/bin/python bench/bench_train.py --section class --arch resnet18
    python bench/bench_train.py --section gpu --data-dir data --json gpu.json      # on a CUDA machine
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import platform
import statistics
import sys
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnviz.settings import data_dir  # noqa: E402
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import batches, load_data, prepare  # noqa: E402
from cnnviz.train.events import StepEvent
from cnnviz.train.loop import train  # noqa: E402
from cnnviz.train.recipes import BOOK, CLASS, Recipe  # noqa: E402
from cnnviz.train.steps import build_model, make_optimizer

from machine import cpu_model, table, usable_cores  # noqa: E402

FAMILY_ARCH = {fam: p.arch for fam, p in CLASS.items()}


def machine() -> str:
    cpu, cores = cpu_model(), usable_cores()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (f"machine: {cpu}; {cores} cores usable, torch threads {torch.get_num_threads()}; GPU: {gpu}\n"
            f"python {platform.python_version()}, torch {torch.__version__}, data dir {data_dir()}")


# --- engine vs bare loop --------------------------------------------------------------------
def engine_rate(cfg: TrainConfig) -> float:
    """Examples/s over steps 2..N of the engine (StepEvent timestamps; eval off)."""
    marks = []
    for ev in train(cfg):
        if isinstance(ev, StepEvent):
            marks.append((time.perf_counter(), ev.step))
    (t1, s1), (t2, s2) = marks[0], marks[-1]
    return (s2 - s1) * cfg.batch_size / (t2 - t1)


def bare_rate(cfg: TrainConfig) -> float:
    """The same steps as a plain loop: same model init, batches and preparation; nothing else."""
    data = load_data(cfg.data)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).train()
    opt = make_optimizer(model, cfg)
    hw, cin = cfg.model.input_hw, cfg.model.in_channels
    times, step = [], 0
    for xb, yb in batches(data.train_x, data.train_y, cfg.batch_size, cfg.seed, 0):
        x = prepare(xb, hw, cin)
        loss = F.cross_entropy(model(x), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()  # a bare loop still looks at its loss
        step += 1
        times.append(time.perf_counter())
        if step == cfg.max_steps:
            break
    return (len(times) - 1) * cfg.batch_size / (times[-1] - times[0])


def section_engine(repeats: int) -> None:
    print("\n## engine vs a bare PyTorch loop (CPU, same model/weights/batches; gradient norms on)\n")
    cases = [
        ("LeNet-BN 28, batch 64", TrainConfig.create("lenet", dataset="fashion-mnist", lr=0.5, batch_size=64,
                                                       max_steps=50, eval_every=0)),
        ("ResNet-18 ÷4 at 32, batch 64", TrainConfig.create("resnet18", input_side=32, model_settings={"width_div": 4},
                                                             dataset="fashion-mnist", lr=0.05, batch_size=64,
                                                             max_steps=30, eval_every=0)),
        ("AlexNet ÷2 at 67, batch 64", TrainConfig.create("alexnet", input_side=67,
                                                           model_settings={"width_div": 2, "fc_width": 512},
                                                           dataset="fashion-mnist", lr=0.02, batch_size=64,
                                                           max_steps=30, eval_every=0)),
    ]
    rows = []
    for name, cfg in cases:
        eng, bare = [], []
        for _ in range(repeats):
            bare.append(bare_rate(cfg))
            eng.append(engine_rate(cfg))
        e, b = statistics.median(eng), statistics.median(bare)
        rows.append([name, f"{b:,.0f}", f"{e:,.0f}", f"{e / b:.3f}×", "PASS" if e / b >= 0.95 else "FAIL"])
    table(rows, ["model", "bare ex/s", "engine ex/s", "engine/bare", "≥0.95×"])


# --- engine vs the book's pipeline -------------------------------------------------------------
def book_epoch(cfg: TrainConfig, workers: int) -> float:
    """Seconds for one epoch the book's way (per-sample PIL Resize + ToTensor in a DataLoader)."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    side = cfg.model.input_hw[0]
    trans = transforms.Compose([transforms.Resize(side), transforms.ToTensor()])
    ds = datasets.FashionMNIST(str(cfg.data.root()), train=True, transform=trans, download=False)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).train()
    opt = make_optimizer(model, cfg)
    loader = DataLoader(ds, cfg.batch_size, shuffle=True, num_workers=workers)
    t0 = time.perf_counter()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def engine_epoch(cfg: TrainConfig) -> float:
    """Seconds from the StartEvent to the last StepEvent of epoch 1 (the epoch-end evaluation excluded)."""
    t0 = last = None
    for ev in train(cfg.replace(epochs=1, eval_every=0)):
        if ev.kind == "start":
            t0 = time.perf_counter()
        elif isinstance(ev, StepEvent):
            last = time.perf_counter()
    return last - t0


BOOK_WORKERS = (0, 2, 4)  # d2l's get_dataloader_workers() is 4
PIPELINE_MODELS = [  # (label, arch, model settings, batch); the first is the one the ≥ 2× target is about
    ("AlexNet ÷16, fc 64 (small: data-bound)", "alexnet", {"width_div": 16, "fc_width": 64}, 256),
    ("AlexNet ÷16, fc 64, batch 128", "alexnet", {"width_div": 16, "fc_width": 64}, 128),
    ("NiN ÷8", "nin", {"width_div": 8}, 128),
    ("ResNet-18 ÷8 (compute-bound)", "resnet18", {"width_div": 8}, 256),
]


def section_pipeline(repeats: int) -> None:
    print("\n## engine vs the book's data pipeline at 96×96 (one epoch of the training split)\n")
    probe = TrainConfig.create("lenet", dataset="fashion-mnist")
    if load_data(probe.data).dataset != "fashion-mnist":
        print("skipped: Fashion-MNIST is not in the data folder (set CNNVIZ_DATA_DIR)")
        return
    n = len(load_data(probe.data).train_y)
    rows, target = [], None
    for i, (label, arch, settings, batch) in enumerate(PIPELINE_MODELS):
        cfg = TrainConfig.create(arch, input_side=96, model_settings=settings, dataset="fashion-mnist", lr=0.01,
                                 batch_size=batch, epochs=1)
        book = {w: [] for w in BOOK_WORKERS}
        eng = []
        for _ in range(repeats):
            for w in book:
                book[w].append(book_epoch(cfg, w))
            eng.append(engine_epoch(cfg))
        med = {w: statistics.median(v) for w, v in book.items()}
        e = statistics.median(eng)
        best = min(med.values())
        if i == 0:
            target = (med[4] / e, best / e)
        rows.append([label, batch, *(f"{med[w]:.2f}" for w in BOOK_WORKERS), f"{e:.2f}", f"{n / e:,.0f}",
                     f"{med[4] / e:.2f}×", f"{best / e:.2f}×"])
    table(rows, ["model", "batch", *(f"book {w} workers s" for w in BOOK_WORKERS), "engine s", "engine ex/s",
                 "vs book (4 workers)", "vs fastest loader"])
    print(f"\nsmall net (first row): {target[0]:.2f}× the book's own loader (4 workers: "
          f"{'PASS' if target[0] >= 2 else 'FAIL'}, target ≥ 2×), {target[1]:.2f}× the fastest loader setting "
          f"on this machine ({'PASS' if target[1] >= 2 else 'FAIL'}). The data path is a fixed cost per image, "
          "so the gain shrinks as the network grows.")


# --- class-period recipes -----------------------------------------------------------------------
def section_class(archs: list[str]) -> None:
    print("\n## class-period recipes on Fashion-MNIST (2 CPU cores target: ≤ 60 s)\n")
    rows = []
    for fam, p in CLASS.items():
        if archs and p.arch not in archs and fam not in archs:
            continue
        cfg = p.config()
        t0 = time.perf_counter()
        end = start = None
        for ev in train(cfg):
            if ev.kind == "start":
                start = ev
            end = ev
        wall = time.perf_counter() - t0
        m = cfg.model
        note = "" if start is None or start.dataset == "fashion-mnist" else f" (on {start.dataset}!)"
        rows.append([p.arch, f"{m.input_hw[0]}px ÷{m.width_div}", f"{cfg.optimizer} lr {cfg.lr:g} m {cfg.momentum:g}",
                     f"{cfg.batch_size}", f"{end.epoch:.2f}/{cfg.epochs}", f"{start.n_train if start else '?'}",
                     f"{wall:.1f}", f"{(end.test_acc or 0):.1%}{note}",
                     end.status + ("" if end.code != "train.budget_reached" else " (budget)"),
                     "PASS" if wall <= 60 else "FAIL"])
    table(rows, ["arch", "input", "optimiser", "batch", "epochs", "train imgs", "wall s", "test acc", "status",
                 "≤60 s"])


# --- GPU ---------------------------------------------------------------------------------------------
# The book's printed training throughput on its V100 (examples/s), per recipe family ("lenet": the LeNet
# chapter's network, without BatchNorm, sigmoid, lr 0.9; "batchnorm": the BatchNorm chapter's LeNet with it).
# The figures of issue #24 (an earlier version of this file had 3,942 / 2,464 / 3,088 / 3,266 / 5,033 for
# AlexNet / VGG / NiN / GoogLeNet / ResNet: printed builds of the book differ).
BOOK_V100 = {"lenet": 72_322, "alexnet": 4_171, "vgg": 2_551, "nin": 3_201, "googlenet": 3_568,
             "batchnorm": 34_609, "resnet": 4_672}
GPU_RECIPES = {"lenet": Recipe("lenet", 28, lr=0.9, batch_size=256, model={"batch_norm": False}), **BOOK}
GPU_COMBOS = (("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True))  # (precision, channels-last)
GPU_ACC_FAMILIES = ("batchnorm", "resnet")  # BatchNorm nets: the book's plain-SGD AlexNet/VGG sit at chance for epochs
ACC_EXAMPLES = 40_000  # the accuracy runs' epochs: the book's 10, fewer where the training split is large
GPU_NAMES = {"lenet": "LeNet", "alexnet": "AlexNet", "vgg": "VGG-11 ÷4", "nin": "NiN", "googlenet": "GoogLeNet",
             "batchnorm": "LeNet-BN", "resnet": "ResNet-18"}
GPU_TARGET = 5.0  # × the book's V100 examples/s
ACC_TOLERANCE = 0.01  # bf16 within 1 point of fp32
FASTEST_WITHIN = 0.05  # the default counts as the fastest when within 5 % of it
GPU_LENET_STEPS = 5  # × --gpu-steps for the LeNets: a step takes a millisecond, a window of 10 is too short to time


def gpu_dataset(data_dir: str | None) -> tuple[str, str | None]:
    """("fashion-mnist", None) when its files are there and torchvision can read them; else
    ("synthetic", why): the engine's built-in set, said out loud."""
    from cnnviz.train.data import available
    from cnnviz.train.data import data_dir as default_dir

    root = data_dir or str(default_dir())
    if not available("fashion-mnist", root):
        return "synthetic", f"Fashion-MNIST is not in {root}: the engine's synthetic set instead (not the book's data)"
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:  # the engine reads the IDX files through it
        return "synthetic", "torchvision is not installed: the engine's synthetic set instead (not the book's data)"
    return "fashion-mnist", None


SMOKE_MODEL = {"width_div": 8, "fc_width": 64}  # a dry run's networks: thin (settings an arch lacks are left out)


def gpu_recipe(fam: str, smoke: bool, **changes) -> Recipe:
    """The book's recipe of ``fam``; ``smoke``: a CPU dry run's, its class-period input side, channels
    ÷ 8, dense layers 64 wide, batch 8 (the code paths, not a measurement)."""
    r = dataclasses.replace(GPU_RECIPES[fam], **changes)
    if smoke:
        side = CLASS[fam].input_side if fam in CLASS else r.input_side
        model = r.model if r.arch == "lenet" else {**r.model, **SMOKE_MODEL}  # LeNet is thin already
        r = dataclasses.replace(r, input_side=side, batch_size=8, model=model,
                                test_subset=min(r.test_subset or 10**9, 32))
    return r


def gpu_rate(fam: str, device: str, precision: str, channels_last: bool, steps: int, log_every: int,
             dataset: str, data_dir: str | None, smoke: bool) -> dict:
    """One short run of ``fam``'s book recipe: the median examples/s of its StepEvents after a warm-up
    (cuDNN's autotuning, the allocator's first blocks); the data sits on the device (the engine's own)."""
    r = gpu_recipe(fam, smoke, test_subset=256)  # the run's closing evaluation stays short
    cfg = r.config(max_steps=steps, epochs=1000, eval_every=0, device=device, precision=precision,
                   channels_last=channels_last, log_every=log_every, dataset=dataset, data_dir=data_dir)
    warm = max(log_every, steps // 3)
    rates, start, end = [], None, None
    t0 = time.perf_counter()
    for ev in train(cfg):
        if ev.kind == "start":
            start = ev
        elif isinstance(ev, StepEvent) and ev.step > warm:
            rates.append(ev.examples_per_s)
        elif ev.kind == "end":
            end = ev
    return {"family": fam, "name": GPU_NAMES[fam], "arch": cfg.arch, "side": cfg.model.input_hw[0],
            "batch": cfg.batch_size,
            "precision": start.precision if start else precision, "channels_last": channels_last,
            "device": start.device if start else device, "dataset": start.dataset if start else "?",
            "status": end.status if end else "?", "message": (end.message or {}).get("en", "") if end else "",
            "windows": len(rates), "examples_per_s": statistics.median(rates) if rates else None,
            "wall_s": time.perf_counter() - t0}


def gpu_accuracy(fam: str, device: str, dataset: str, data_dir: str | None, epochs: int, smoke: bool) -> dict:
    """The same short run of ``fam``'s book recipe in fp32 and in bf16 (same seed, weights and batches):
    their test accuracies on the whole test split."""
    r = gpu_recipe(fam, smoke, **({"subset": 128, "test_subset": 64} if smoke else {}))
    if not smoke:  # the book's epochs on a small split; on the full 60,000 images, a shorter run
        from cnnviz.train.data import split_sizes

        n_train = split_sizes(r.config(dataset=dataset, data_dir=data_dir).data)[0]
        epochs = max(1, min(epochs, ACC_EXAMPLES // max(1, n_train)))
    out = {"family": fam, "name": GPU_NAMES[fam], "arch": r.arch, "epochs": epochs, "side": r.input_side,
           "batch": r.batch_size}
    for precision in ("fp32", "bf16"):
        cfg = r.config(epochs=epochs, eval_every=0, device=device, precision=precision, dataset=dataset,
                       data_dir=data_dir)
        t0 = time.perf_counter()
        events = list(train(cfg))
        start, end = events[0], events[-1]
        per_epoch = [e.test_acc for e in events if e.kind == "epoch"]
        out[precision] = {"test_acc": end.test_acc, "status": end.status, "wall_s": time.perf_counter() - t0,
                          "last3_mean": statistics.mean(per_epoch[-3:]) if per_epoch else None,
                          "dataset": getattr(start, "dataset", "?"), "n_test": getattr(start, "n_test", None),
                          "message": end.message.get("en", "")}
    a, b = out["fp32"]["test_acc"], out["bf16"]["test_acc"]
    out["delta"] = None if a is None or b is None else b - a
    return out


def _fmt_rate(r: float | None) -> str:
    return "—" if r is None else f"{r:,.0f}"


def section_gpu(archs: list[str], steps: int, device: str = "cuda", smoke: bool = False,
                json_path: str | None = None, data_dir: str | None = None, acc_epochs: int = 10) -> dict:
    """Examples/s of every book recipe in fp32 and bf16, with and without channels-last, against the
    book's V100; then bf16 against fp32 accuracy. Returns (and writes to ``json_path`` as it goes)
    every measurement and the targets."""
    from cnnviz.train.steps import resolve_device, resolve_precision

    print(f"\n## book recipes on {device} vs the book's V100 figures (target ≥ {GPU_TARGET:g}×)\n")
    res: dict = {"device": device, "smoke": smoke, "rows": [], "accuracy": [], "targets": [], "notes": []}

    def save() -> None:
        if json_path:
            pathlib.Path(json_path).write_text(json.dumps(res, indent=1))

    if device.startswith("cuda") and not torch.cuda.is_available():
        print("skipped: no CUDA GPU on this machine")
        res["notes"].append("skipped: no CUDA GPU on this machine")
        save()
        return res
    dev = resolve_device(device)
    dataset, why = gpu_dataset(data_dir)
    res["dataset"] = dataset
    if why:
        print(f"note: {why}")
        res["notes"].append(why)
    default = (resolve_precision("auto", dev), dev.type == "cuda")  # what a run on this device gets
    res["default"] = {"precision": default[0], "channels_last": default[1]}
    log_every = 1 if smoke else 10  # 10: the engine's own interval on CUDA (one sync per event)
    fams = [f for f in GPU_RECIPES if not archs or f in archs or GPU_RECIPES[f].arch in archs]
    table_rows = []
    for fam in fams:
        rates = {}
        for precision, cl in GPU_COMBOS:
            n = steps * GPU_LENET_STEPS if GPU_RECIPES[fam].arch == "lenet" and not smoke else steps
            row = gpu_rate(fam, device, precision, cl, n, log_every, dataset, data_dir, smoke)
            res["rows"].append(row)
            save()
            rates[(precision, cl)] = row["examples_per_s"]
            if row["status"] != "completed":
                print(f"{row['arch']} {precision} cl={cl}: {row['status']}: {row['message']}")
        good = {k: v for k, v in rates.items() if v}
        best = max(good, key=good.get) if good else None
        d = rates.get(default)
        v100 = BOOK_V100[fam]
        ratio = d / v100 if d else None
        within = d is not None and best is not None and d >= (1 - FASTEST_WITHIN) * good[best]
        res["targets"].append({"name": f"{GPU_NAMES[fam]} ≥ {GPU_TARGET:g}× V100", "family": fam,
                               "ok": None if smoke or ratio is None else ratio >= GPU_TARGET,
                               "value": ratio, "default_rate": d, "v100": v100,
                               "best": f"{best[0]}{'+cl' if best[1] else ''}" if best else None,
                               "default_is_fastest": within})
        save()
        table_rows.append([GPU_NAMES[fam], row["side"], row["batch"], row["dataset"],
                           *(_fmt_rate(rates[c]) for c in GPU_COMBOS),
                           f"{best[0]}{'+cl' if best[1] else ''}" if best else "—", f"{v100:,}",
                           "—" if ratio is None else f"{ratio:.1f}×",
                           "n/a" if smoke else ("PASS" if ratio and ratio >= GPU_TARGET else "FAIL")])
    table(table_rows, ["arch", "side", "batch", "data", "fp32", "fp32+cl", "bf16", "bf16+cl", "fastest",
                       "V100 ex/s", f"default ({default[0]}{'+cl' if default[1] else ''}) / V100",
                       f"≥{GPU_TARGET:g}×"])
    slower = [t for t in res["targets"] if t["default_rate"] and not t["default_is_fastest"]]
    if slower:
        print(f"\nthe default ({default[0]}, channels-last {default[1]}) is more than {FASTEST_WITHIN:.0%} slower "
              "than the fastest for: " + ", ".join(f"{GPU_NAMES[t['family']]} (fastest {t['best']})" for t in slower))
    else:
        print(f"\nthe default ({default[0]}, channels-last {default[1]}) is the fastest, within "
              f"{FASTEST_WITHIN:.0%}, for every network measured")

    print(f"\n## bf16 against fp32: the same run's test accuracy (target: within {ACC_TOLERANCE * 100:g} point)\n")
    acc_rows = []
    for fam in (f for f in GPU_ACC_FAMILIES if f in fams):
        a = gpu_accuracy(fam, device, dataset, data_dir, 1 if smoke else acc_epochs, smoke)
        res["accuracy"].append(a)
        ok = a["delta"] is not None and abs(a["delta"]) <= ACC_TOLERANCE
        res["targets"].append({"name": f"{a['name']} bf16 within 1 point of fp32", "family": fam,
                               "ok": None if smoke else ok, "value": a["delta"]})
        save()
        acc_rows.append([a["name"], a["side"], a["batch"], a["epochs"], a["fp32"]["dataset"],
                         f"{(a['fp32']['test_acc'] or 0):.2%}", f"{(a['bf16']['test_acc'] or 0):.2%}",
                         "—" if a["delta"] is None else f"{a['delta'] * 100:+.2f}",
                         "/".join(f"{(a[p]['last3_mean'] or 0):.2%}" for p in ("fp32", "bf16")),
                         f"{a['fp32']['wall_s']:.1f} / {a['bf16']['wall_s']:.1f}",
                         "n/a" if smoke else ("PASS" if ok else "FAIL")])
    table(acc_rows, ["arch", "side", "batch", "epochs", "data", "fp32 acc", "bf16 acc", "Δ points",
                     "last 3 epochs fp32/bf16", "wall s fp32/bf16", "≤1 point"])
    print("(the target is on the final test accuracies; the mean of the last 3 epochs shows how much a single "
          "epoch's figure moves)")
    if smoke:
        print("\n(smoke run: small inputs and batches; the targets are for the GPU run)")
    save()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--section", choices=("all", "engine", "pipeline", "class", "gpu"), default="all")
    ap.add_argument("--arch", action="append", default=[], help="class/gpu sections: only this arch (or family)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gpu-steps", type=int, default=60, help="gpu section: steps of each throughput run")
    ap.add_argument("--gpu-acc-epochs", type=int, default=10, help="gpu section: epochs of the bf16/fp32 runs")
    ap.add_argument("--device", default="cuda", help="gpu section: the device (cpu with --smoke: a dry run)")
    ap.add_argument("--smoke", action="store_true", help="gpu section: small inputs, batch 8 (a CPU dry run)")
    ap.add_argument("--data-dir", default=None, help="gpu section: the data folder (default $CNNVIZ_DATA_DIR)")
    ap.add_argument("--json", default=None, help="gpu section: write its measurements here as they come")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*worker processes in total.*")  # the book's 4 workers on 2 cores
    print(machine())
    if args.section in ("all", "engine"):
        section_engine(args.repeats)
    if args.section in ("all", "pipeline"):
        section_pipeline(args.repeats)
    if args.section in ("all", "class"):
        section_class(args.arch)
    if args.section in ("all", "gpu"):
        section_gpu(args.arch, args.gpu_steps, args.device, args.smoke, args.json, args.data_dir,
                    args.gpu_acc_epochs)


if __name__ == "__main__":
    main()
