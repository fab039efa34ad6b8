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
* ``gpu``: on CUDA only, each book recipe's training examples/s (median of the StepEvents
  after warm-up, bf16 autocast and channels-last as the engine does) against the book's V100
  figures. Target ≥ 5×. On a machine without CUDA it prints a note and skips.

    CNNVIZ_DATA_DIR=/work/shared/data .venv/bin/python bench/bench_train.py
    .venv/bin/python bench/bench_train.py --section class --arch resnet18
"""

from __future__ import annotations

import argparse
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
from cnnviz.train.recipes import BOOK, CLASS  # noqa: E402
from cnnviz.train.steps import build_model, make_optimizer

from machine import cpu_model, table, usable_cores  # noqa: E402

BOOK_V100 = {"alexnet": 3942, "vgg": 2464, "nin": 3088, "googlenet": 3266, "resnet": 5033}  # examples/sec, d2l.ai
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
def section_gpu(archs: list[str], steps: int) -> None:
    print("\n## book recipes on the GPU vs the book's V100 figures (target ≥ 5×)\n")
    if not torch.cuda.is_available():
        print("skipped: no CUDA GPU on this machine")
        return
    rows = []
    for fam, v100 in BOOK_V100.items():
        p = BOOK[fam]
        if archs and p.arch not in archs and fam not in archs:
            continue
        cfg = p.config(max_steps=steps, eval_every=0, device="cuda")
        rates, start = [], None
        for ev in train(cfg):
            if ev.kind == "start":
                start = ev
            if isinstance(ev, StepEvent) and ev.step > steps // 4:  # after cuDNN's autotuning
                rates.append(ev.examples_per_s)
            if ev.kind == "end" and ev.status != "completed":
                print(f"{p.arch}: {ev.status}: {ev.message['en']}")
        r = statistics.median(rates) if rates else float("nan")
        rows.append([p.arch, f"{cfg.model.input_hw[0]}", f"{cfg.batch_size}", start.precision if start else "?",
                     f"{v100:,}", f"{r:,.0f}", f"{r / v100:.1f}×", "PASS" if r >= 5 * v100 else "FAIL"])
    table(rows, ["arch", "side", "batch", "precision", "book V100 ex/s", "ex/s", "ratio", "≥5×"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--section", choices=("all", "engine", "pipeline", "class", "gpu"), default="all")
    ap.add_argument("--arch", action="append", default=[], help="class/gpu sections: only this arch (or family)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gpu-steps", type=int, default=200)
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
        section_gpu(args.arch, args.gpu_steps)


if __name__ == "__main__":
    main()
