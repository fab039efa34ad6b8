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
from typing import Any, TextIO

from cnnviz import settings
from cnnviz.cli import apply_settings
from cnnviz.models.registry import get_config
from cnnviz.train.config import OPTIMIZERS, PRECISIONS, TrainConfig, TrainingError
from cnnviz.train.data import DATASETS, DISPLAY, DataConfig, DataError, load_split, raw_folder
from cnnviz.train.loop import check, train
from cnnviz.train.recipes import RECIPES, recipe_config

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
    from cnnviz.runs.trainjob import TRAIN  # noqa: F401  (registers "train")

    address = args.ray_address or settings.ray_address() or "auto"
    try:
        return RayExecutor(address, args.threads or 1, plugins=("cnnviz.labs.jobkinds",))
    except RayDown as err:
        raise TrainingError("train.err.ray", error=str(err)) from None


def _events(cfg: TrainConfig, args: argparse.Namespace, stop: threading.Event):
    """The run's event dicts, not recorded: trained here, or (``--backend ray``) as a task on a Ray cluster."""
    if args.backend == "ray":
        import uuid

        return _executor(args).stream("train", cfg.to_dict(), uuid.uuid4().hex[:12], stop)
    return (ev.to_dict() for ev in train(cfg, stop=stop))


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
    status = "failed"
    progress = _Progress(sys.stderr) if not args.json_lines else None
    events = _events(cfg, args, stop)
    try:
        for d in events:
            if args.json_lines:
                print(json.dumps(d), flush=True)
            else:
                progress.show(d)
            if d["kind"] == "end":
                status = d["status"]
    except KeyboardInterrupt:
        stop.set()
        events.close()
        print("\ncnnviz: interrupted", file=sys.stderr)
        return 130
    return 0 if status in ("completed", "stopped") else 1


def _run_recorded(cfg: TrainConfig, args: argparse.Namespace) -> int:
    """Train as a recorded run: created "running" in the store, then the worker's own ``run_job``."""
    import uuid

    from cnnviz.i18n import t
    from cnnviz.runs.kinds import content_key
    from cnnviz.runs.store import RunStore
    from cnnviz.runs.trainjob import TRAIN
    from cnnviz.runs.weights import WeightStore
    from cnnviz.runs.worker import local_source, run_job, worker_name
    from cnnviz.settings import db_path
    from cnnviz.train.config import messages

    source = _executor(args).source if args.backend == "ray" else local_source  # Ray: before anything is written
    store = RunStore(args.db or db_path())
    weights = WeightStore.beside(store.path)
    params = json.loads(json.dumps(cfg.to_dict()))  # canonical: what the store gives back
    arch, label = TRAIN.describe(params)
    rid = uuid.uuid4().hex[:12]
    info = store.create(rid, arch, label, params, OWNER, device=TRAIN.device(params), status="running",
                        key=content_key("train", params), worker=worker_name(), started=time.time())
    progress = _Progress(sys.stderr) if not args.json_lines else None
    seen = {"end": False, "broken": False}

    def show(d: dict) -> None:
        if d["kind"] == "end" and "name" not in d:
            d, seen["end"] = {**d, "run_id": rid}, True
        if seen["broken"]:
            return
        try:
            if args.json_lines:
                print(json.dumps(d), flush=True)
            else:
                progress.show(d)
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
            store.append(rid, store.count_events(rid), [], status="interrupted", code="train.runs.interrupted",
                         message=messages("train.runs.interrupted"))
        except Exception:  # sqlite3.Error mid-transaction: the row stays "running", as after a kill
            pass
        print("\ncnnviz: interrupted", file=sys.stderr)
        return 130
    finally:
        final = store.get(rid)
        store.close()
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
    return 0 if status in ("completed", "stopped") else 1


class _CtrlC:
    """While a recorded run trains: the first Ctrl-C ends it within a step as the pool's SIGTERM
    does (``worker.mark_exiting``: it is recorded "interrupted", its weights dropped); a second
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
        self.out, self.total, self.test, self.shown = out, 1, None, 0.0

    def show(self, d: dict) -> None:
        kind = d["kind"]
        if kind == "start":
            self.total = max(1, d["total_steps"])
            if d.get("notice"):
                print(f"note: {d['notice']['en']}", file=self.out)
            print(f"{d['dataset']}: {d['n_train']} train / {d['n_test']} test images, {d['n_params']:,} parameters, "
                  f"{d['device']} ({d['precision']}), {d['total_steps']} steps", file=self.out)
        elif kind == "step":
            now = time.monotonic()
            if now - self.shown < REFRESH_S and d["step"] < self.total:
                return
            self.shown = now
            frac = min(1.0, d["step"] / self.total)
            bar = "#" * int(frac * BAR) + "." * (BAR - int(frac * BAR))
            eta = (self.total - d["step"]) * d["elapsed_s"] / max(1, d["step"])
            test = f" test {self.test:.1%}" if self.test is not None else ""
            print(f"\r[{bar}] {frac:4.0%} epoch {d['epoch']:.2f} loss {d['epoch_loss']:.4f} "
                  f"train {d['train_acc']:.1%}{test} {d['examples_per_s']:,.0f} ex/s ETA {eta:.0f}s ",
                  end="", file=self.out, flush=True)
        elif kind in ("eval", "epoch"):
            self.test = d["test_acc"]
            if kind == "epoch":
                print(f"\repoch {d['epoch']:.2f}: train loss {d['train_loss']:.4f}, train acc {d['train_acc']:.1%}, "
                      f"test acc {d['test_acc']:.1%}, {d['examples_per_s']:,.0f} ex/s" + " " * 20, file=self.out)
        elif kind == "end":
            msg = d["message"].get("en", "")
            # a completed run's message already says so; the others are prefixed by their status
            print("\n" + (msg if d["status"] == "completed" else f"{d['status']}: {msg}"), file=self.out)
