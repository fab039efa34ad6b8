"""What a run will cost before it starts: memory (from the meta-device trace) and time (measured).

Memory: ``cnnviz.inspect.trace(cfg, batch).totals.train_step_bytes`` counts weights,
gradients, one optimiser state (SGD momentum), every layer output of one batch (what
backward keeps) and the input batch, all in float32; we swap in the real number of
optimiser states (none for plain SGD, two for Adam) and add the dataset, which lives on
the training device. Mixed precision halves most activations, so on CUDA the figure is an
upper bound. It is compared with what the device has free: ``torch.cuda.mem_get_info`` on
CUDA, ``MemAvailable`` of ``/proc/meminfo`` on the CPU.

Time: ``calibrate`` times a few real training steps of the actual network on the actual
device (two warm-up steps, then at least ``steps`` timed ones, up to half a second's worth,
and takes the median step) at a small batch chosen so that a step costs about 2 G
multiply-accumulates, which keeps the measurement around a second on a laptop CPU.
Throughput per example only grows with the batch, so the estimate is on
the slow side for large batches. Evaluation passes are counted at a third of a training
step's cost per example (forward only).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnviz import host
from cnnviz.inspect.tracing import trace
from cnnviz.numbers import human_bytes
from cnnviz.train.config import TrainConfig, TrainingError
from cnnviz.train.data import Data
from cnnviz.train.steps import resolve_device

PROBE_MACS = 2e9  # multiply-accumulates per calibration step (forward + backward ≈ 3 × forward)
WARMUP_STEPS = 2
MAX_WARMUP_STEPS = 30  # a step that never settles (a busy machine) still ends the warm-up
MAX_WARMUP_SECONDS = 5.0
PROBE_SECONDS = 0.5  # keep timing steps until this much time has passed (or MAX_PROBE_STEPS)...
MAX_PROBE_STEPS = 10


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs on its device, and what the device has free (None: unknown)."""

    need_bytes: int
    step_bytes: int  # weights, gradients, optimiser states, activations, input batch
    data_bytes: int  # the dataset held on the device
    free_bytes: int | None
    device: str

    @property
    def fits(self) -> bool:
        return self.free_bytes is None or self.need_bytes <= self.free_bytes


def optimizer_states(cfg: TrainConfig) -> int:
    """Tensors the optimiser keeps per parameter: Adam 2, SGD with momentum 1, plain SGD 0."""
    if cfg.optimizer == "adam":
        return 2
    return 1 if cfg.momentum > 0 else 0


def step_bytes(cfg: TrainConfig) -> int:
    """Training-step footprint from the trace, with this optimiser's state count."""
    tot = trace(cfg.model, cfg.batch_size).totals
    # train_step_bytes assumes one optimiser state (3 × weights: weights, gradients, momentum)
    return tot.train_step_bytes + (optimizer_states(cfg) - 1) * tot.param_bytes


def dataset_bytes(n_train: int, n_test: int) -> int:
    """uint8 28 × 28 images and int64 labels of both splits."""
    return (n_train + n_test) * (28 * 28 + 8)


def free_bytes(device: torch.device | str) -> int | None:
    """Memory the device has free now: CUDA's free memory, the host's MemAvailable, else None."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return int(torch.cuda.mem_get_info(dev)[0])
    if dev.type == "mps":
        try:
            return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
        except (AttributeError, RuntimeError):
            return None
    return host.meminfo("MemAvailable")


def memory_estimate(cfg: TrainConfig, device: torch.device | str | None = None, n_train: int = 60000,
                    n_test: int = 10000) -> MemoryEstimate:
    """The estimate for ``cfg`` on ``device`` (default: the one it would run on)."""
    dev = torch.device(device) if device is not None else resolve_device(cfg.device)
    sb, db = step_bytes(cfg), dataset_bytes(n_train, n_test)
    return MemoryEstimate(sb + db, sb, db, free_bytes(dev), str(dev))


def check_memory(cfg: TrainConfig, device: torch.device, data: Data) -> MemoryEstimate:
    """Raise ``TrainingError`` when the estimate exceeds the device's free memory."""
    est = memory_estimate(cfg, device, len(data.train_y), len(data.test_y))
    if not est.fits:
        raise TrainingError("train.err.memory", need=human_bytes(est.need_bytes),
                            free=human_bytes(est.free_bytes or 0), device=est.device)
    return est


def probe_batch(cfg: TrainConfig, step_macs: float = PROBE_MACS) -> int:
    """The calibration batch: about ``step_macs`` per step, at least 2, at most the real batch."""
    macs = max(1, trace(cfg.model).totals.macs)
    return int(min(cfg.batch_size, max(2, step_macs // (3 * macs))))


def calibrate(cfg: TrainConfig, device: torch.device | str | None = None, steps: int = 2,
              step_macs: float = PROBE_MACS) -> float:
    """Training examples per second of ``cfg``'s network, measured on ``device`` (cached), at
    ``probe_batch(cfg, step_macs)`` on a CPU (the real batch elsewhere)."""
    dev = torch.device(device) if device is not None else resolve_device(cfg.device)
    return _calibrate(cfg.model, str(dev), probe_batch(cfg, step_macs) if dev.type == "cpu" else cfg.batch_size,
                      steps)


@functools.lru_cache(maxsize=64)
def _calibrate(model_cfg, device: str, batch: int, steps: int) -> float:
    from cnnviz.models.registry import create_model

    dev = torch.device(device)
    model = create_model(model_cfg, device=dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = torch.rand(batch, model_cfg.in_channels, *model_cfg.input_hw, device=dev)
    y = torch.randint(0, model_cfg.num_classes, (batch,), device=dev)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    # The first steps of a fresh process pay for allocations and oneDNN/cuDNN kernel selection
    # (LeNet: ~0.5 s each, then ~5 ms): warm up until two consecutive steps agree, not for a
    # fixed count, or the estimate comes out 50x too long.
    prev, t_limit = None, time.perf_counter() + MAX_WARMUP_SECONDS
    for i in range(MAX_WARMUP_STEPS):
        t0 = time.perf_counter()
        step()
        _sync(dev)
        dt = time.perf_counter() - t0
        if (i + 1 >= WARMUP_STEPS and prev is not None and dt <= 1.5 * prev) or time.perf_counter() > t_limit:
            break
        prev = dt
    times: list[float] = []
    t_end = time.perf_counter() + PROBE_SECONDS
    while len(times) < steps or (len(times) < MAX_PROBE_STEPS and time.perf_counter() < t_end):
        t0 = time.perf_counter()
        step()
        _sync(dev)
        times.append(time.perf_counter() - t0)
    times.sort()
    return batch / max(times[len(times) // 2], 1e-9)  # the median step: robust to a busy neighbour


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def time_estimate(cfg: TrainConfig, examples_per_s: float, n_train: int, n_test: int) -> float:
    """Seconds for the whole run at ``examples_per_s`` training throughput (capped by the budget)."""
    n = min(n_train, cfg.data.subset or n_train)
    spe = math.ceil(n / cfg.batch_size)
    steps = cfg.epochs * spe if not cfg.max_steps else min(cfg.max_steps, cfg.epochs * spe)
    epochs = steps / spe
    train_examples = min(steps * cfg.batch_size, epochs * n)
    evals_per_epoch = 4 if cfg.eval_every is None else (spe / cfg.eval_every if cfg.eval_every else 0)
    n_test = min(n_test, cfg.data.test_subset or n_test)
    eval_examples = math.ceil(epochs) * n_test + epochs * max(0, evals_per_epoch - 1) * min(cfg.eval_subset, n_test)
    seconds = (train_examples + eval_examples / 3) / max(examples_per_s, 1e-9)
    return min(seconds, cfg.time_budget_s) if cfg.time_budget_s else seconds
