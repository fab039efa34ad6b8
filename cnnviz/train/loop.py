"""The training engine: a config in, a stream of metric events out (``train``).

Training is a generator of frozen event dataclasses; the training page (through
``cnnviz.runs.worker``), the CLI and the tests all consume the same stream::

    from cnnviz.train import TrainConfig, train
    cfg = TrainConfig.create("lenet", dataset="fashion-mnist", lr=0.9, batch_size=256, epochs=2)
    for ev in train(cfg, stop=threading.Event()):
        print(ev.to_dict())      # StartEvent, StepEvent..., EvalEvent..., EpochEvent..., EndEvent

Events (``kind`` names them in ``to_dict()``):

- ``StartEvent``  device, precision, dataset actually used (+ a fallback notice), sizes, planned steps, layer names
- ``StepEvent``   every ``log_every`` steps (auto: every step on the CPU, every 2–4 for nets as
  small as LeNet, every 10 on CUDA, where each event is a host/device sync) and at each
  epoch's last step: step, epoch (fractional), loss (mean since the last StepEvent),
  epoch_loss and train_acc (running over the epoch, as the book's Animator), lr,
  examples_per_s, grad_norms {conv/linear module name: L2 norm of its weight gradient}, extra
- ``EvalEvent``   every ``eval_every`` steps: accuracy and loss on a fixed test subset
- ``EpochEvent``  end of each epoch: epoch means, test accuracy on the whole test split
- ``EndEvent``    status completed / stopped / diverged / failed, with a message in every language

"diverged": the training loss became NaN/inf, or exceeded 100 × ln(classes) (230 for 10
classes, a hundred times chance level), checked on every StepEvent.

Building blocks (for labs that drive their own loops, e.g. paired runs that must share
weights and batches): ``resolve_device``, ``build_model(cfg)`` (Xavier-initialised from the
seed), ``init_weights(model, seed)`` (each conv/linear weight drawn from a generator seeded by
(seed, module name), so two nets get the same initial weights wherever names and shapes
match), ``make_optimizer``, ``weight_params``/``grad_norms`` (one ``_foreach_norm``, one
sync), ``evaluate``, and ``cnnviz.train.data.batches``/``prepare`` (deterministic batches). A
paired run is two ``train`` generators built with the same seed, zipped: they see the same
batches in the same order (give both the same ``log_every`` so that their events pair up).
``check(cfg)`` raises what a run would fail with at set-up (shape, device), without
training. ``train(cfg, model=m)`` trains a pre-built model as is;
``callbacks`` are called every step after ``backward`` (gradients present, before the
optimiser step) with a ``StepContext`` and may return ``{name: float}``; the values are
reported in the next ``StepEvent.extra``.

Determinism: on the CPU the same config (seed included) gives identical numbers, apart
from the timing fields (``TIMING_FIELDS``). Dropout draws from PyTorch's global generator,
which ``train`` seeds; two dropout runs interleaved in one process share it. On CUDA:
mixed precision (bf16 where supported, else fp16 with a GradScaler) and channels-last.


The loop itself (``Loop``): Kept apart from the API module so each stays small. Per step the loop does no host/device
synchronisation except on logging steps (every ``log_every`` steps), where one
``tolist()`` fetches the window's loss, the epoch's running sums and the gradient norms
together; that is also where a non-finite loss is caught. Timing excludes what happens
outside training (evaluations, and whatever the consumer does between two events).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.errors import error_messages
from cnnviz.i18n import LANGS, messages
from cnnviz.status import Status
from cnnviz.train.config import TrainConfig
from cnnviz.train.data import Data, batches, load_data, prepare
from cnnviz.train.events import EndEvent, EpochEvent, EvalEvent, Event, StartEvent, StepEvent
from cnnviz.train.steps import (
    Predictions,
    StepCallback,
    StepContext,
    Stop,
    autocast_for,
    build_model,
    counted,
    evaluate,
    grad_norm_tensor,
    make_optimizer,
    predictions,
    resolve_device,
    resolve_precision,
    weight_params,
)

log = logging.getLogger("cnnviz.train")

GPU_LOG_EVERY = 10  # steps between syncs on CUDA: a sync per step costs GPU throughput
EVALS_PER_EPOCH = 4
CPU_LOG_MACS = 1e8  # off-GPU, a StepEvent at least every this many multiply-accumulates of training
DIVERGE_FACTOR = 100.0  # diverged: loss NaN/inf or over 100 × ln(classes) (230 for 10 classes)


class Loop:
    """One run: ``events()`` is the generator ``train`` returns."""

    def __init__(self, cfg: TrainConfig, stop: Stop, model: nn.Module | None, data: Data | None,
                 callbacks: tuple[StepCallback, ...]):
        self.cfg, self.stop, self.data, self.callbacks = cfg, stop, data, callbacks
        self.prebuilt = model  # a network to train as it is; None: _setup builds cfg's
        self.model: nn.Module  # the network on its device, from _setup on
        self.step, self.pos = 0, 0.0
        self.test_acc: float | None = None
        self.train_loss: float | None = None
        # the whole test split's predictions at the last epoch's end, and the step they were made at:
        # a completed run's results are these (``cnnviz.train.evaluate.results_from``), no second pass
        self.predictions: Predictions | None = None
        self.predictions_step = -1
        self.t0 = time.perf_counter()

    # --- the stream -------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        self.t0 = time.perf_counter()
        try:
            start = self._setup()
        except Exception as err:  # bad device, not enough memory, a shape that cannot work...
            if not _is_user_error(err):
                log.exception("training set-up failed")
            yield self._end(Status.FAILED, *error_messages(err))
            return
        yield start
        try:
            yield from self._epochs()
        except Exception as err:  # out of memory, a bug in a callback...: the run fails, the caller goes on
            log.exception("training failed")
            yield self._end(Status.FAILED, *error_messages(err))

    def _end(self, status: Status, code: str = "", message: dict | None = None) -> EndEvent:
        return EndEvent(status=status, code=code, message=message or {}, step=self.step, epoch=self.pos,
                        elapsed_s=time.perf_counter() - self.t0, test_acc=self.test_acc, train_loss=self.train_loss)

    # --- set-up -------------------------------------------------------------------------
    def _setup(self) -> StartEvent:
        from cnnviz.inspect.tracing import trace
        from cnnviz.train.estimate import check_memory

        cfg = self.cfg
        dev = self.device = resolve_device(cfg.device)
        self.precision = resolve_precision(cfg.precision, dev)
        self.channels_last = cfg.channels_last if cfg.channels_last is not None else dev.type == "cuda"
        data = self.data = self.data or load_data(cfg.data)
        macs = trace(cfg.model).totals.macs  # also checks the geometry: a ShapeError names the layer
        check_memory(cfg, dev, data)
        torch.manual_seed(cfg.seed)  # dropout draws from the global generators
        if dev.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
        model = self.prebuilt if self.prebuilt is not None else build_model(cfg)
        fmt = torch.channels_last if self.channels_last else torch.preserve_format
        # Module.to takes a device and a memory format together (torch._C._nn._parse_to); the stubs' overloads don't
        self.model = model.to(device=dev, memory_format=fmt)  # type: ignore[call-overload]
        self.model.train()
        self.opt = make_optimizer(self.model, cfg)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        # the whole dataset moves to the device once (uint8: 47 MB for Fashion-MNIST's 60k)
        self.train_x, self.train_y = data.train_x.to(dev), data.train_y.to(dev)
        self.test_x, self.test_y = data.test_x.to(dev), data.test_y.to(dev)
        named = weight_params(self.model)
        self.layer_names, self.weights = tuple(n for n, _ in named), [w for _, w in named]
        n = len(self.train_y)
        self.spe = math.ceil(n / cfg.batch_size)  # the last batch may be smaller (drop_last=False, as the book)
        total = cfg.epochs * self.spe
        self.total = min(total, cfg.max_steps) if cfg.max_steps else total
        # a cross-entropy this far above chance's ln(C) means the network is sure of wrong answers:
        # no healthy run gets there, and the exploding ones often never reach inf/NaN (dead ReLUs)
        self.diverge_at = DIVERGE_FACTOR * math.log(max(2, cfg.model.num_classes))
        self.log_every = cfg.log_every or auto_log_every(macs, cfg.batch_size, dev)
        self.eval_every = max(1, self.spe // EVALS_PER_EPOCH) if cfg.eval_every is None else cfg.eval_every
        notice = {lang: data.notice.render(lang) for lang in LANGS} if data.notice else None
        return StartEvent(
            device=str(dev), precision=self.precision, channels_last=self.channels_last, dataset=data.dataset,
            requested_dataset=data.requested, data_source=data.source, n_train=n, n_test=len(self.test_y),
            steps_per_epoch=self.spe, total_steps=self.total, epochs=cfg.epochs, batch_size=cfg.batch_size,
            n_params=sum(p.numel() for p in self.model.parameters()), macs=macs, layers=self.layer_names,
            time_budget_s=cfg.time_budget_s, notice=notice, time=time.time(),
        )

    # --- epochs and steps -----------------------------------------------------------------
    def _epochs(self) -> Iterator[Event]:
        cfg, dev = self.cfg, self.device
        hw, cin = cfg.model.input_hw, cfg.model.in_channels
        model, opt, scaler = self.model, self.opt, self.scaler
        zeros = lambda dtype=torch.float32: torch.zeros((), dtype=dtype, device=dev)  # noqa: E731
        for epoch in range(cfg.epochs):
            # device accumulators of the window since the last StepEvent (no sync per step);
            # the epoch's running sums are plain floats, folded in at each StepEvent
            win_loss, win_correct, win_steps, win_n, win_time = zeros(), zeros(torch.int64), 0, 0, 0.0
            ep_loss, ep_correct, ep_n, ep_time = 0.0, 0.0, 0, 0.0
            extra: dict = {}
            mark = time.perf_counter()
            for i, (xb, yb) in enumerate(batches(self.train_x, self.train_y, cfg.batch_size, cfg.seed, epoch)):
                if self.stop.is_set():
                    yield self._end(Status.STOPPED, "train.stopped", messages("train.stopped", step=self.step))
                    return
                self.step += 1
                self.pos = epoch + (i + 1) / self.spe
                x = prepare(xb, hw, cin, channels_last=self.channels_last)  # [B, C, H, W] on the device
                with autocast_for(dev, self.precision):
                    logits = model(x)  # [B, classes]
                    loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                (scaler.scale(loss) if scaler else loss).backward()
                done = self.step >= self.total or self._over_budget()
                last = i + 1 == self.spe
                logging_step = self.step % self.log_every == 0 or last or done
                with torch.no_grad():
                    win_loss += loss.detach().float() * len(yb)  # summed over examples
                    win_correct += (logits.argmax(1) == yb).sum()
                win_steps, win_n = win_steps + 1, win_n + len(yb)
                for cb in self.callbacks:
                    out = cb(StepContext(self.step, self.pos, model, opt, x, yb, logits, loss, logging_step))
                    extra.update(out or {})
                norms = None
                if logging_step and cfg.grad_norms:
                    if scaler:
                        scaler.unscale_(opt)  # true gradient norms, not scaled ones
                    norms = grad_norm_tensor(self.weights)  # [L], still on the device
                if scaler:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                if logging_step:
                    loss_sum, correct = torch.stack([win_loss, win_correct.float()]).tolist()  # the one sync
                    norm_list = norms.tolist() if norms is not None else []
                    lap = time.perf_counter() - mark
                    win_time, ep_time = win_time + lap, ep_time + lap
                    loss_mean = loss_sum / win_n
                    if not math.isfinite(loss_mean) or loss_mean > self.diverge_at:
                        yield self._end(Status.DIVERGED, "train.diverged",
                                        messages("train.diverged", step=self.step, loss=loss_mean, lr=cfg.lr))
                        return
                    ep_loss, ep_correct, ep_n = ep_loss + loss_sum, ep_correct + correct, ep_n + win_n
                    self.train_loss = ep_loss / ep_n
                    yield StepEvent(
                        step=self.step, epoch=self.pos, loss=loss_mean, epoch_loss=self.train_loss,
                        train_acc=ep_correct / ep_n, lr=float(opt.param_groups[0]["lr"]),
                        examples_per_s=win_n / max(win_time, 1e-9), elapsed_s=time.perf_counter() - self.t0,
                        grad_norms=dict(zip(self.layer_names, norm_list)),
                        extra={k: float(v) for k, v in extra.items()},
                    )
                    win_loss, win_correct, win_steps, win_n, win_time = zeros(), zeros(torch.int64), 0, 0, 0.0
                    extra = {}
                    mark = time.perf_counter()
                if self.eval_every and self.step % self.eval_every == 0 and not last and not done:
                    lap = self._lap(mark)  # training time of the window so far
                    ep_time, win_time = ep_time + lap, win_time + lap
                    ev = self._evaluate(self.test_x[: cfg.eval_subset], self.test_y[: cfg.eval_subset])
                    if ev is None:
                        continue  # stopped: the top of the loop ends the run
                    yield EvalEvent(step=self.step, epoch=self.pos, test_acc=ev[0], test_loss=ev[1],
                                    n=min(cfg.eval_subset, len(self.test_y)))
                    mark = time.perf_counter()
                if done:
                    break
            yield from self._epoch_end(ep_loss, ep_correct, ep_n, ep_time)
            if self.stop.is_set():
                yield self._end(Status.STOPPED, "train.stopped", messages("train.stopped", step=self.step))
                return
            if self.step >= self.total or self._over_budget():
                break
        yield self._end(Status.COMPLETED, *self._finish_message())

    def _epoch_end(self, ep_loss: float, ep_correct: float, ep_n: int, ep_time: float) -> Iterator[Event]:
        """Evaluate on the whole test split; the epoch's sums are complete (its last step logged)."""
        cfg = self.cfg
        p = predictions(self.model, self.test_x, self.test_y, cfg.model.input_hw, cfg.model.in_channels,
                        cfg.batch_size, self.precision, self.channels_last, stop=self.stop)
        if p is None or self.stop.is_set() or ep_n == 0:
            return
        self.predictions, self.predictions_step = p, self.step
        ev = counted(p, self.test_y)
        loss_sum, correct = ep_loss, ep_correct
        self.test_acc, self.train_loss = ev[0], loss_sum / ep_n
        yield EpochEvent(step=self.step, epoch=self.pos, train_loss=self.train_loss, train_acc=correct / ep_n,
                         test_acc=ev[0], test_loss=ev[1], examples_per_s=ep_n / max(ep_time, 1e-9),
                         elapsed_s=time.perf_counter() - self.t0)

    def _evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float] | None:
        """(accuracy, loss), or None when Stop cut it short."""
        cfg = self.cfg
        res = evaluate(self.model, x, y, cfg.model.input_hw, cfg.model.in_channels, cfg.batch_size,
                       self.precision, self.channels_last, stop=self.stop)
        return None if self.stop.is_set() else res

    def _lap(self, mark: float) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # queued kernels belong to training, not to what follows
        return time.perf_counter() - mark

    def _over_budget(self) -> bool:
        budget = self.cfg.time_budget_s
        return budget is not None and time.perf_counter() - self.t0 >= budget

    def _finish_message(self) -> tuple[str, dict]:
        acc = self.test_acc if self.test_acc is not None else float("nan")
        if self.step < self.cfg.epochs * self.spe and self._over_budget():
            return "train.budget_reached", messages("train.budget_reached", budget=self.cfg.time_budget_s,
                                                     epoch=self.pos, acc=acc)
        return "train.completed", messages("train.completed", epoch=self.pos, step=self.step, acc=acc)


def auto_log_every(macs: int, batch_size: int, device: torch.device) -> int:
    """Steps per StepEvent: 10 on CUDA (each event is a sync); elsewhere every step, except for
    nets so small that the event itself would cost more than ~2 % of a step (LeNet at batch 64)."""
    if device.type == "cuda":
        return GPU_LOG_EVERY
    step_macs = 3 * max(1, macs) * batch_size  # forward + backward ≈ 3 × forward
    return max(1, min(GPU_LOG_EVERY, math.ceil(CPU_LOG_MACS / step_macs)))


def _is_user_error(err: Exception) -> bool:
    from cnnviz.errors import CnnvizError

    return isinstance(err, CnnvizError)


# --- the engine ----------------------------------------------------------------------------
def train(cfg: TrainConfig, *, stop: Stop | None = None, model: nn.Module | None = None,
          data: Data | None = None, callbacks: Sequence[StepCallback] = ()) -> Generator[Event, None, None]:
    """Train ``cfg`` and yield its events; the last one is always an ``EndEvent``.

    ``stop`` is checked before every step (and between evaluation batches): once set, the
    run ends "stopped" within one step. A non-finite loss ends it "diverged"; any exception
    ends it "failed" with the message (the generator itself does not raise). ``model`` trains a
    pre-built network (moved to the device; not re-initialised); ``data`` skips loading.
    """

    yield from Loop(cfg, stop or threading.Event(), model, data, tuple(callbacks)).events()


def check(cfg: TrainConfig) -> None:
    """Raise the ``CnnvizError`` a run of ``cfg`` would fail with at set-up, without loading anything.

    Geometry (``ShapeError`` naming the layer), device and precision: what a CLI reports as a
    bad argument rather than as a failed run.
    """
    from cnnviz.inspect.tracing import trace

    trace(cfg.model)
    resolve_precision(cfg.precision, resolve_device(cfg.device))


def run_to_end(cfg: TrainConfig, **kwargs: Any) -> list[Event]:
    """All events of ``train(cfg, ...)`` as a list (tests, scripts)."""
    return list(train(cfg, **kwargs))
