"""``train``: train an architecture and print its metric events (JSON lines, or a progress bar).

Starts from the arch's own config, or from a training recipe (``--recipe book|class``); every other
option overrides it. Bad arguments (an unknown field, an input too small for the network,
a device this machine lacks) are one line on stderr and exit status 2, before any
training. Exit status: 0 completed, 1 diverged or failed, 130 interrupted (Ctrl-C).

The run is recorded in the app's run store (``--db``, else ``$CNNVIZ_DB`` or the data folder's,
``cnnviz.runs.store.db_path``) as the pool's workers record theirs (``cnnviz.runs.worker.run_job``,
owner "cli"): its events, its results and its trained weights, so the pages list it, a Stop
there stops it, and ``evaluate``/``predict`` can use it; the end event printed carries its
``run_id``. ``--no-store`` trains without recording anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from cnnviz import settings
from cnnviz.cli import apply_settings
from cnnviz.jobs import KINDS
from cnnviz.models.registry import get_config
from cnnviz.status import FINISHED, Status
from cnnviz.train.config import OPTIMIZERS, PRECISIONS, TrainConfig, TrainingError
from cnnviz.train.data import DATASETS, DISPLAY, DataConfig, DataError, load_split, raw_folder
from cnnviz.train.events import EndEvent, EpochEvent, EvalEvent, Event, StartEvent, StepEvent
from cnnviz.train.loop import check, train
from cnnviz.train.recipes import RECIPES, recipe_config

RECORDED_KIND = KINDS["train"]  # what a recorded run is: importing cnnviz.jobs registers it, here as in a worker

COMMAND = "train"
HELP = "train an architecture on Fashion-MNIST, MNIST or the built-in synthetic set"
BAR = 30
REFRESH_S = 0.1  # progress bar redraws at most ten times a second


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("arch", help="architecture name (see `python -m cnnviz list`)")
    p.add_argument("--recipe", choices=RECIPES, help="start from the book's settings or the class-period ones")
    p.add_argument("--preset", dest="recipe", choices=RECIPES, help=argparse.SUPPRESS)  # its name before 0.2
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="model config field, e.g. batch_norm=true, width_div=4, residual=false")
    p.add_argument("--dataset", choices=DATASETS,
                   help="default fashion-mnist, or the synthetic set when that is missing; a dataset named here "
                        "must be there")
    p.add_argument("--data-dir", help="folder with the datasets (default $CNNVIZ_DATA_DIR, else ~/.cache/cnnviz)")
    p.add_argument("--subset", type=int, help="train on a fixed random subset of this many images")
    p.add_argument("--test-subset", type=int, help="evaluate on the first this-many test images")
    p.add_argument("--input-side", type=int, help="resize the 28x28 images to this side")
    p.add_argument("--in-channels", type=int, choices=(1, 3), help="3 repeats the gray channel")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--time-budget", type=float, metavar="SECONDS", help="end the run (completed) after this long")
    p.add_argument("--max-steps", type=int, help="end the run (completed) after this many steps")
    p.add_argument("--device", default=None, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    p.add_argument("--precision", choices=PRECISIONS, help="auto: bf16/fp16 autocast on CUDA, fp32 elsewhere")
    p.add_argument("--log-every", type=int, help="steps per step event (default: auto; 10 on CUDA)")
    p.add_argument("--json-lines", action="store_true", help="print one JSON object per metric event")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="train here, or as a task on a Ray cluster ($CNNVIZ_RAY_ADDRESS or --ray-address)")
    p.add_argument("--ray-address", help="the Ray cluster for --backend ray (default $CNNVIZ_RAY_ADDRESS, else auto)")
    p.add_argument("--threads", type=int,
                   help="torch threads (on Ray: the task's CPUs); default: all cores here, 1 on Ray")
    p.add_argument("--no-store", action="store_true",
                   help="do not record the run (events, results, weights) in the app's run store")
    p.add_argument("--db", default=None, help="run store to record in (default: $CNNVIZ_DB or the data folder's)")


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The ``TrainConfig`` the arguments describe (``CnnvizError`` for values that cannot work)."""
    if args.recipe:
        base = recipe_config(args.arch, args.recipe)
    else:
        base = TrainConfig(arch=args.arch, model=get_config(args.arch), data=DataConfig(dataset="fashion-mnist"))
    model = base.model
    if args.input_side is not None:
        model = model.replace(input_hw=(args.input_side, args.input_side))
    if args.in_channels is not None:
        model = model.replace(in_channels=args.in_channels)
    model = apply_settings(model, args.set)
    d = base.data
    data = DataConfig(dataset=args.dataset or d.dataset, data_dir=args.data_dir or d.data_dir,
                      subset=args.subset if args.subset is not None else d.subset,
                      test_subset=args.test_subset if args.test_subset is not None else d.test_subset)
    changes: dict[str, Any] = {"model": model, "data": data}
    for name, value in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr),
                        ("optimizer", args.optimizer), ("momentum", args.momentum),
                        ("weight_decay", args.weight_decay), ("seed", args.seed), ("time_budget_s", args.time_budget),
                        ("max_steps", args.max_steps), ("device", args.device), ("precision", args.precision),
                        ("log_every", args.log_every)):
        if value is not None:
            changes[name] = value
    cfg = base.replace(**changes)
    check(cfg)  # geometry, device, precision: a bad argument, not a failed run
    if args.dataset and args.dataset != "synthetic":
        require_dataset(cfg.data)
    return cfg


def require_dataset(data: DataConfig) -> None:
    """A dataset asked for by name must be there (or downloadable): training on the synthetic
    shapes instead is for runs that named none. Loads both splits (cached in the process, so the
    run itself reads nothing twice); ``DataError`` saying where the files go otherwise."""
    root = data.root()
    try:
        for train_split in (True, False):
            load_split(data.dataset, root, train_split, data.download)
    except DataError as err:
        raise DataError("train.data.named_missing", reason=str(err), dataset=DISPLAY[data.dataset],
                        raw=str(raw_folder(data.dataset, root))) from None


OWNER = "cli"  # the run store's owner of the runs this command records


def _executor(args: argparse.Namespace):
    """The Ray executor for ``--backend ray`` (``TrainingError`` when the cluster is out of reach)."""
    from cnnviz.runs.rayexec import RayDown, RayExecutor

    address = args.ray_address or settings.ray_address() or "auto"
    try:
        return RayExecutor(address, args.threads or 1, plugins=("cnnviz.jobs",))
    except RayDown as err:
        raise TrainingError("train.err.ray", error=str(err)) from None


def _events(cfg: TrainConfig, args: argparse.Namespace, stop: threading.Event) -> Iterator[Event]:
    """The run's events, not recorded: trained here, or (``--backend ray``) as a task on a Ray cluster."""
    if args.backend == "ray":
        import uuid

        return _executor(args).stream("train", cfg.to_dict(), uuid.uuid4().hex[:12], stop)
    return train(cfg, stop=stop)


def run(args: argparse.Namespace) -> int:
    cfg = build_config(args)
    if args.threads and args.backend != "ray":
        import torch

        torch.set_num_threads(args.threads)
    if args.no_store:
        return _run_unrecorded(cfg, args)
    return _run_recorded(cfg, args)


def _run_unrecorded(cfg: TrainConfig, args: argparse.Namespace) -> int:
    stop = threading.Event()
    status = Status.FAILED
    progress = _Progress(sys.stderr)
    events = _events(cfg, args, stop)
    try:
        for ev in events:
            if args.json_lines:
                print(json.dumps(ev.to_dict()), flush=True)
            else:
                progress.show(ev)
            if isinstance(ev, EndEvent):
                status = ev.status
    except KeyboardInterrupt:
        stop.set()
        events.close()  # type: ignore[attr-defined]
        print("\ncnnviz: interrupted", file=sys.stderr)
        return 130
    return 0 if status in FINISHED else 1


def _run_recorded(cfg: TrainConfig, args: argparse.Namespace) -> int:
    """Train as a recorded run: made running in the store by the scheduler's own ``run_here`` (the
    same canonical params, key and estimate as a page's Start), then the worker's own ``run_job``."""
    from cnnviz.i18n import messages, t
    from cnnviz.runs.scheduler import Scheduler
    from cnnviz.runs.store import worker_name
    from cnnviz.runs.worker import local_source, run_job

    source = _executor(args).source if args.backend == "ray" else local_source  # Ray: before anything is written
    sch = Scheduler(args.db, pool="none")  # this process runs the job itself: no pool is asked for
    store, weights = sch.store, sch.weights
    info = sch.run_here("train", cfg.to_dict(), OWNER, worker=worker_name())
    rid = info.id
    progress = _Progress(sys.stderr)
    seen = {"end": False, "broken": False}

    def show(ev: Event) -> None:
        d = ev.to_dict()
        if isinstance(ev, EndEvent) and ev.own:
            d["run_id"], seen["end"] = rid, True
        if seen["broken"]:
            return
        try:
            if args.json_lines:
                print(json.dumps(d), flush=True)
            else:
                progress.show(ev)
        except BrokenPipeError:  # `... --json-lines | head`: the reader left; the run stops within a step
            seen["broken"] = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            store.request_stop(rid)

    ctrl_c = _CtrlC()
    try:
        with ctrl_c:
            status = run_job(store, info, weights, source, on_event=show)
    except KeyboardInterrupt:  # a second Ctrl-C: out now, whatever was being written
        weights.discard(rid)
        try:
            store.append(rid, store.count_events(rid), [], status=Status.INTERRUPTED,
                         code="train.runs.interrupted", message=messages("train.runs.interrupted"))
        except Exception:  # sqlite3.Error mid-transaction: the row stays running, as after a kill
            pass
        print("\ncnnviz: interrupted", file=sys.stderr)
        return 130
    finally:
        final = store.get(rid)
        sch.close()
    if ctrl_c.pressed:
        print("\ncnnviz: interrupted", file=sys.stderr)
        return 130
    if seen["broken"]:
        return 141
    if not seen["end"] and final is not None:  # the job broke before its own end (a Ray worker died...)
        print(f"cnnviz: {final.status}: {final.text()}", file=sys.stderr)
    if not args.json_lines and final is not None:
        print(t("cli.train.recorded", run_id=rid, db=str(store.path)), file=sys.stderr)
        outcome = final.summary.get("weights")
        if outcome in ("kept", "too_big"):
            print(t(f"cli.train.weights.{outcome}", run_id=rid,
                    mb=f"{final.summary.get('weights_bytes', 0) / 2**20:.3g}"), file=sys.stderr)
    return 0 if status in FINISHED else 1


class _CtrlC:
    """While a recorded run trains: the first Ctrl-C ends it within a step as the pool's SIGTERM
    does (``worker.mark_exiting``: it is recorded interrupted, its weights dropped); a second
    one raises ``KeyboardInterrupt``. Only in the main thread (where signals arrive)."""

    def __init__(self):
        self.pressed, self._prev = False, None

    def _on_int(self, signum, frame) -> None:
        from cnnviz.runs.worker import mark_exiting

        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        mark_exiting(True)

    def __enter__(self) -> _CtrlC:
        import signal

        if threading.current_thread() is threading.main_thread():
            self._prev = signal.signal(signal.SIGINT, self._on_int)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        from cnnviz.runs.worker import mark_exiting

        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
        if self.pressed:
            mark_exiting(False)


class _Progress:
    """A one-line text progress bar on stderr, and a line per epoch."""

    def __init__(self, out: TextIO):
        self.out, self.total, self.shown = out, 1, 0.0
        self.test: float | None = None

    def show(self, ev: Event) -> None:
        if isinstance(ev, StartEvent):
            self.total = max(1, ev.total_steps)
            if ev.notice:
                print(f"note: {ev.notice['en']}", file=self.out)
            print(f"{ev.dataset}: {ev.n_train} train / {ev.n_test} test images, {ev.n_params:,} parameters, "
                  f"{ev.device} ({ev.precision}), {ev.total_steps} steps", file=self.out)
        elif isinstance(ev, StepEvent):
            now = time.monotonic()
            if now - self.shown < REFRESH_S and ev.step < self.total:
                return
            self.shown = now
            frac = min(1.0, ev.step / self.total)
            bar = "#" * int(frac * BAR) + "." * (BAR - int(frac * BAR))
            eta = (self.total - ev.step) * ev.elapsed_s / max(1, ev.step)
            test = f" test {self.test:.1%}" if self.test is not None else ""
            print(f"\r[{bar}] {frac:4.0%} epoch {ev.epoch:.2f} loss {ev.epoch_loss:.4f} "
                  f"train {ev.train_acc:.1%}{test} {ev.examples_per_s:,.0f} ex/s ETA {eta:.0f}s ",
                  end="", file=self.out, flush=True)
        elif isinstance(ev, EvalEvent):
            self.test = ev.test_acc
        elif isinstance(ev, EpochEvent):
            self.test = ev.test_acc
            print(f"\repoch {ev.epoch:.2f}: train loss {ev.train_loss:.4f}, train acc {ev.train_acc:.1%}, "
                  f"test acc {ev.test_acc:.1%}, {ev.examples_per_s:,.0f} ex/s" + " " * 20, file=self.out)
        elif isinstance(ev, EndEvent):
            msg = ev.message.get("en", "")
            # a completed run's message already says so; the others are prefixed by their status
            print("\n" + (msg if ev.status == Status.COMPLETED else f"{ev.status.value}: {msg}"), file=self.out)
