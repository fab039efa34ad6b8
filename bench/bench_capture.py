"""What do the labs' measurements cost? Gradient-norm and activation-statistics capture against
a bare training step.

For each workload (the gradient-flow lab's default plain net, 31 convs at width 16 on 32×32
inputs, batch 64; the BatchNorm lab's LeNet with BN, batch 128) this times one SGD step
(``prepare`` → forward → cross-entropy → backward → step, the engine's building blocks) in
four ways:

* ``bare``: nothing captured (the baseline, measured in the same run);
* ``+grad norms``: ``cnnviz.train.grad_norm_tensor`` over every conv/linear weight and one
  ``tolist()``, what the engine does on every logging step (every step on a CPU);
* ``+act stats``: a ``cnnviz.labs.bnlab.ActivationRecorder`` on every nonlinearity (mean and std
  of its input each step, a 40-bin histogram every 10 steps);
* ``+both``.

The four run interleaved step by step (``--rounds`` passes over ``--steps`` batches, the
modes in rotating order), so background load hits them alike; the table shows the median
per-step time's 25th percentile (robust to other processes' bursts; the load average is
printed) and the ratio to ``bare``. Target: every capture ≤ 10 % overhead (ratio ≤ 1.10).

    .venv/bin/python bench/bench_capture.py            # ~1 minute on 2 cores
    .venv/bin/python bench/bench_capture.py --quick    # fewer rounds
    .venv/bin/python bench/bench_capture.py --strict   # exit status 1 if a target fails
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnviz.labs.bnlab import ActivationRecorder  # noqa: E402
from cnnviz.labs.gradflow import GradFlowConfig  # noqa: E402
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import DataConfig, batches, load_data, prepare  # noqa: E402
from cnnviz.train.steps import build_model, grad_norm_tensor, weight_params  # noqa: E402

from machine import cpu_model  # noqa: E402

TARGET = 1.10
# The per-step time's 25th percentile rather than its median: on a shared 2-core machine other
# processes preempt some steps by 2-5× and the median moves with them; a low quantile of
# step-interleaved samples estimates what each mode costs when it does get the cores.
QUANTILE = 0.25
MODES = ("bare", "+grad norms", "+act stats", "+both")


def workloads() -> list[tuple[str, TrainConfig]]:
    gf = GradFlowConfig().train_config(residual=False)
    lenet = TrainConfig.create("lenet", lr=0.9, batch_size=128, device="cpu")
    return [(f"gradflow plain, {GradFlowConfig().conv_depth} convs, batch {gf.batch_size}", gf),
            ("LeNet + BN (sigmoid), batch 128", lenet)]


def bench(cfg: TrainConfig, rounds: int, steps: int) -> dict[str, float]:
    """Median seconds per step of each mode."""
    data = load_data(DataConfig())
    hw, cin = cfg.model.input_hw, cfg.model.in_channels
    xs = [(prepare(x, hw, cin), y) for x, y in batches(data.train_x, data.train_y, cfg.batch_size, 0, 0)][:steps]
    models = {m: build_model(cfg) for m in MODES}
    opts = {m: torch.optim.SGD(models[m].parameters(), lr=0.01) for m in MODES}
    recs = {m: ActivationRecorder(models[m], hist_every=10) for m in MODES if "act" in m or "both" in m}
    weights = {m: [w for _, w in weight_params(models[m])] for m in MODES}
    for r in recs.values():
        r.__enter__()
    times: dict[str, list[float]] = {m: [] for m in MODES}
    order = list(MODES)
    try:
        for rnd in range(rounds + 1):  # round 0 warms up and is not counted
            for x, y in xs:
                order = order[1:] + order[:1]  # rotate, so no mode always runs right after another
                for mode in order:  # interleaved step by step: a burst of background load hits every mode
                    model, opt = models[mode], opts[mode]
                    t0 = time.perf_counter()
                    loss = F.cross_entropy(model(x), y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if mode in ("+grad norms", "+both"):
                        grad_norm_tensor(weights[mode]).tolist()
                    if mode in recs:
                        recs[mode].end_step()
                    opt.step()
                    loss.item()  # the engine syncs once per logging step too
                    if rnd:
                        times[mode].append(time.perf_counter() - t0)
    finally:
        for r in recs.values():
            r.remove()
    return {m: quantile(v, QUANTILE) for m, v in times.items()}


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=10, help="steps per mode per round")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: with 2, a preempted worker thread stalls every op "
                         "on a busy machine)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.steps = 3, 5
    threads = args.threads
    torch.set_num_threads(threads)
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, torch {torch.__version__} ({threads} threads), "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{args.rounds} rounds of {args.steps} steps per mode, interleaved step by step; ms per step "
          f"(25th percentile); "
          f"ratio to bare (target ≤ {TARGET:.2f})\n")
    head = f"{'workload':<40} " + " ".join(f"{m:>18}" for m in MODES)
    print(head)
    print("-" * len(head))
    ok = True
    for name, cfg in workloads():
        med = bench(cfg, args.rounds, args.steps)
        base = med["bare"]
        cells = []
        for m in MODES:
            ratio = med[m] / base
            flag = "" if m == "bare" else (" ok" if ratio <= TARGET else " !!")
            ok = ok and (m == "bare" or ratio <= TARGET)
            cells.append(f"{med[m] * 1e3:8.2f} ({ratio:4.2f}){flag:>3}")
        print(f"{name:<40} " + " ".join(f"{c:>18}" for c in cells))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\nverdict: {'PASS' if ok else 'FAIL'}: capture overhead {'within' if ok else 'above'} "
          f"{(TARGET - 1) * 100:.0f} % of a bare step")
    return 1 if (args.strict and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
