"""How fast is ``cnnviz.inspect.trace`` on the meta device, and how much faster than real weights?

For every registered architecture at input sides 224 and 512 (1 input channel) this prints the
median wall time of

* meta, warm min-side ("warm"): ``trace(cfg)`` after ``cnnviz.inspect._records.cache_clear()``;
  the smallest-input search (cached separately, keyed without the input size) stays warm. This
  is what a page pays when only the input size of a config it has seen changes.
* meta, cold ("cold"): ``trace(cfg)`` after clearing both ``_records`` and
  ``cnnviz.models.registry._min_side_cached``: a config never seen, binary search for the smallest
  input included (about eleven more meta builds and passes).
* real: ``create_model(cfg)`` on the CPU (weights allocated and initialised) plus
  ``torchinfo.summary`` with a real forward pass, what one would do without the meta device.

Targets: every architecture ≤ 50 ms at 224 and ≤ 100 ms at 512, judged separately on the warm
and the cold figure (two PASS/FAIL columns, two verdict lines); VGG-11 at 224 at least 20×
faster than the real-weights path, judged on the cold figure (the smaller ratio). One untimed
trace warms PyTorch up first.

    .venv/bin/python bench/bench_trace.py            # everything (~2-3 minutes on 2 cores)
    .venv/bin/python bench/bench_trace.py --quick    # four architectures, fewer runs
    .venv/bin/python bench/bench_trace.py --strict   # exit status 1 if any target fails
"""

from __future__ import annotations

import argparse
import gc
import os
import pathlib
import platform
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torchinfo  # noqa: E402

import cnnviz  # noqa: E402
import cnnviz.inspect as cinspect  # noqa: E402
from cnnviz.inspect import records  # noqa: E402
from cnnviz.models import registry  # noqa: E402

from machine import cpu_model  # noqa: E402

SIDES = (224, 512)
TARGET_MS = {224: 50.0, 512: 100.0}
SPEEDUP_TARGET = ("vgg11", 224, 20.0)
QUICK = ("alexnet", "vgg11", "googlenet", "resnet18")
# Real weights at 512 for nets whose dense head grows with the input (AlexNet 205M params, VGG
# 570M+ = 2+ GB) take many seconds and gigabytes each; above this many parameters they are skipped.
REAL_PARAM_CAP = 150_000_000


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def meta_warm(cfg) -> None:
    records._records.cache_clear()
    cinspect.trace(cfg)


def meta_cold(cfg) -> None:
    records._records.cache_clear()
    registry._min_side_cached.cache_clear()
    cinspect.trace(cfg)


def real(cfg) -> None:
    model = registry.create_model(cfg)
    torchinfo.summary(model, input_size=(1, cfg.in_channels, *cfg.input_hw), mode="eval", verbose=0)
    del model
    gc.collect()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}; 5 meta runs, 1 real run")
    ap.add_argument("--runs", type=int, default=None, help="meta runs per cell (default 7, quick 5)")
    ap.add_argument("--real-runs", type=int, default=None, help="real-weights runs per cell (default 3, quick 1)")
    ap.add_argument("--strict", action="store_true", help="exit status 1 when a target fails")
    args = ap.parse_args(argv)

    torch.set_num_threads(2)
    runs = args.runs or (5 if args.quick else 7)
    real_runs = args.real_runs or (1 if args.quick else 3)
    names = [n for n in cnnviz.list_models() if not args.quick or n in QUICK]

    print("cnnviz trace benchmark: meta-device trace vs real weights (create_model + torchinfo.summary)")
    print(f"machine   {cpu_model()}; {os.cpu_count()} logical cores; {platform.python_implementation()} "
          f"{platform.python_version()}; torch {torch.__version__}; torchinfo {torchinfo.__version__}; "
          f"torch threads {torch.get_num_threads()}")
    print(f"method    median of {runs} meta runs and {real_runs} real run(s) per cell; 1 input channel, "
          f"10 classes; one untimed warm-up trace first")
    print("          warm = _records cleared, min-side search cached; cold = both caches cleared")
    print(f"targets   meta ≤ {TARGET_MS[224]:.0f} ms at 224 and ≤ {TARGET_MS[512]:.0f} ms at 512 (warm and cold "
          f"judged apart); {SPEEDUP_TARGET[0]} at {SPEEDUP_TARGET[1]}: real/cold ≥ {SPEEDUP_TARGET[2]:.0f}×")
    print(f"          real weights skipped above {REAL_PARAM_CAP / 1e6:.0f}M parameters (memory and minutes)")
    print()

    cinspect.trace(cnnviz.get_config("lenet"))  # warm-up: PyTorch's first meta pass pays one-off costs

    head = (f"{'arch':<12} {'side':>4} {'params':>12} {'target':>6} {'warm ms':>8} {'':>4} {'cold ms':>8} {'':>4}"
            f" {'real ms':>8} {'real/warm':>9} {'real/cold':>9}")
    print(head)
    print("-" * len(head))
    failures: dict[str, list[str]] = {"warm": [], "cold": []}
    speedup = None
    t_start = time.perf_counter()
    for name in names:
        for side in SIDES:
            cfg = cnnviz.get_config(name, in_channels=1, input_hw=(side, side))
            warm = median_ms(lambda cfg=cfg: meta_warm(cfg), runs)
            cold = median_ms(lambda cfg=cfg: meta_cold(cfg), runs)
            params = cinspect.trace(cfg).totals.params
            verdicts = {}
            for label, ms in (("warm", warm), ("cold", cold)):
                verdicts[label] = "PASS" if ms <= TARGET_MS[side] else "FAIL"
                if verdicts[label] == "FAIL":
                    failures[label].append(f"{name} at {side}: {ms:.1f} ms > {TARGET_MS[side]:.0f} ms")
            if params <= REAL_PARAM_CAP:
                r_ms = median_ms(lambda cfg=cfg: real(cfg), real_runs)
                r_txt = f"{r_ms:8.0f} {r_ms / warm:8.0f}× {r_ms / cold:8.0f}×"
                if (name, side) == SPEEDUP_TARGET[:2]:
                    speedup = r_ms / cold
            else:
                r_txt = f"{'skipped':>8} {'':>9} {'':>9}"
            print(f"{name:<12} {side:>4} {params:>12,} {TARGET_MS[side]:6.0f} {warm:8.1f} {verdicts['warm']:>4} "
                  f"{cold:8.1f} {verdicts['cold']:>4} {r_txt}", flush=True)
    print("-" * len(head))

    sname, sside, starget = SPEEDUP_TARGET
    if speedup is None:
        print(f"speed-up  {sname} at {sside}: not measured")
    else:
        ok = speedup >= starget
        if not ok:
            failures["cold"].append(f"{sname} at {sside}: real/cold {speedup:.1f}× < {starget:.0f}×")
        print(f"speed-up  {sname} at {sside}: real/cold = {speedup:.0f}× (target ≥ {starget:.0f}×)  "
              f"{'PASS' if ok else 'FAIL'}")
    for label, what in (("warm", "records cache cleared, min side cached"),
                        ("cold", "both caches cleared, min-side search included")):
        fails = failures[label]
        print(f"verdict   {label} ({what}): {'PASS' if not fails else 'FAIL: ' + '; '.join(fails)}")
    print(f"elapsed   {time.perf_counter() - t_start:.0f} s")
    return 1 if (failures["warm"] or failures["cold"]) and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
