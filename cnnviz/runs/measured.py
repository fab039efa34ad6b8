"""What this server has measured: each architecture's training speed and test accuracy at its
class-period recipe, from the runs in the store (Compare's measured columns).

``measured(store)`` looks, for every registered architecture, for the completed "train" runs
whose config *is* that architecture's class-period recipe
(``cnnviz.train.recipes.recipe_config(arch, "class")``) and keeps one of them.

Which runs count:

* status "completed" only: a stopped, failed, diverged or interrupted run did not run the
  recipe to its end, so its accuracy is not the recipe's.
* the config equals the recipe's in everything except ``data.data_dir``, ``data.download`` and
  ``device``: those only say where the files live, whether they may be fetched, and which
  device was asked for (the device actually used is shown, and preferred, below). Everything
  else decides the numbers or how they are measured: the model config, optimiser, lr,
  momentum, weight decay, batch, epochs, ``max_steps``, seed, dataset, training and test
  subsets and the subset's seed, precision, channels-last, logging and evaluation cadence,
  gradient norms (which cost time). So a run shortened in any way (fewer epochs, a smaller
  subset, ``max_steps``) is not a measurement of the recipe and never counts.
* a run with a wall-clock budget never counts (the recipe has none; checked explicitly, as a
  budget makes the figures depend on the machine's load).
* the student's form, a CLI ``--recipe class`` run and the teacher's pre-warm
  (``pages/teacher.py``: ``CLASS[family].config().to_dict()``, i.e. the recipe for the family's
  own network, no data folder) all give exactly this config, so each of them counts.

Which one is kept, when several count: a run on this machine's device type (``prefer``:
``cuda``, ``mps`` or ``cpu``; default: what ``device="auto"`` resolves to here) over one on
another; then one whose dataset is the one it asked for over one that fell back to the built-in
synthetic set (shown as such in the label); then the newest (by end time).

The figures: ``examples_per_s`` is the mean of the run's "epoch" events' ``examples_per_s``
(each epoch's training throughput, evaluation excluded), or, for a run without epoch events,
the summary's last step window; ``test_acc`` is the summary's (the end event's, on the run's
whole test split). Reading a run's events costs a query, so a run's mean is computed once per
process and kept (a completed run never changes).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import CnnvizError
from cnnviz.i18n import TABLE, t
from cnnviz.models.registry import list_models
from cnnviz.runs.store import RunInfo, RunStore
from cnnviz.status import Status
from cnnviz.train.events import EpochEvent
from cnnviz.train.recipes import recipe_config

IGNORED_DATA = ("data_dir", "download")  # where the files are and whether they may be fetched
IGNORED = ("device",)  # the device asked for; the one used is the run's own (preferred below)
_RATE_CACHE_MAX = 4096


@dataclass(frozen=True)
class Measured:
    """One architecture's class-period run on this server."""

    arch: str
    run_id: str
    examples_per_s: float | None  # mean epoch throughput (see the module docstring)
    test_acc: float | None  # 0..1, on the run's test split
    dataset: str  # the dataset actually used ("fashion-mnist", or "synthetic" after a fallback)
    device: str  # the device actually used ("cpu", "cuda:0"...)
    host: str  # the machine of the worker that ran it ("" when the run has no worker recorded)
    when: float  # unix time the run ended

    @property
    def date(self) -> str:
        """The day it ended, ``YYYY-MM-DD`` (this server's local time)."""
        return time.strftime("%Y-%m-%d", time.localtime(self.when))


def comparable(config: Mapping[str, Any]) -> str:
    """The part of a run's config that decides its numbers, as canonical JSON."""
    d = {k: v for k, v in dict(config).items() if k not in IGNORED}
    d["data"] = {k: v for k, v in dict(d.get("data") or {}).items() if k not in IGNORED_DATA}
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def preset_key(arch: str) -> str | None:
    """``comparable`` of ``arch``'s class-period recipe (None: its family has no such recipe)."""
    try:
        cfg = recipe_config(arch, "class")
    except CnnvizError:
        return None
    return comparable(json.loads(json.dumps(cfg.to_dict())))  # JSON's lists, as the store gives them back


def device_type() -> str:
    """This machine's device type: what ``device="auto"`` resolves to (``cuda``, ``mps``, ``cpu``)."""
    from cnnviz.train.steps import resolve_device

    return resolve_device("auto").type


_rates: dict[tuple[str, str], float | None] = {}
_rates_lock = threading.Lock()


def _examples_per_s(store: RunStore, info: RunInfo) -> float | None:
    key = (str(store.path), info.id)
    with _rates_lock:
        if key in _rates:
            return _rates[key]
    rates = [e.examples_per_s for e in store.events(info.id)
             if isinstance(e, EpochEvent) and isinstance(e.examples_per_s, (int, float))]
    rate = sum(rates) / len(rates) if rates else info.summary.get("examples_per_s")
    with _rates_lock:
        if len(_rates) >= _RATE_CACHE_MAX:
            _rates.clear()
        _rates[key] = rate
    return rate


def _used_device(info: RunInfo) -> str:
    return str(info.summary.get("device") or info.device or "")


def counts(info: RunInfo, arch: str | None = None) -> bool:
    """Whether ``info`` is a measurement of its (or ``arch``'s) class-period recipe."""
    arch = arch or info.arch
    if info.kind != "train" or info.status != Status.COMPLETED or info.arch != arch:
        return False
    if info.config.get("time_budget_s") or info.summary.get("time_budget_s"):
        return False
    key = preset_key(arch)
    return key is not None and comparable(info.config) == key


def measured(store: RunStore, prefer: str | None = None) -> dict[str, Measured]:
    """Architecture → its kept class-period run on this server (see the module docstring);
    architectures without one are absent. ``prefer``: the device type to prefer (default:
    this machine's). One read of the run list, plus one of the events of each run kept the
    first time it is kept."""
    prefer = prefer or device_type()
    archs = set(list_models())
    best: dict[str, tuple[tuple, RunInfo]] = {}
    for info in store.list(kinds=("train",)):
        if info.arch not in archs or not counts(info):
            continue
        real = info.summary.get("dataset", info.config.get("data", {}).get("dataset")) \
            == info.config.get("data", {}).get("dataset")
        rank = (_used_device(info).split(":")[0] == prefer, real, info.ended or info.created)
        if info.arch not in best or rank > best[info.arch][0]:
            best[info.arch] = (rank, info)
    out = {}
    for arch, (_, info) in best.items():
        acc = info.summary.get("test_acc")
        out[arch] = Measured(
            arch=arch, run_id=info.id, examples_per_s=_examples_per_s(store, info),
            test_acc=float(acc) if isinstance(acc, (int, float)) else None,
            dataset=str(info.summary.get("dataset") or info.config.get("data", {}).get("dataset", "")),
            device=_used_device(info), host=info.worker.rsplit(":", 1)[0] if info.worker else "",
            when=float(info.ended or info.created))
    return out


def label(m: Measured, lang: str = "en") -> str:
    """``<host> · <device> · <YYYY-MM-DD> · <dataset>`` (an unknown host left out)."""
    key = f"train.data.{m.dataset}"
    data = t(key, lang) if key in TABLE else m.dataset
    return " · ".join(p for p in (m.host, m.device, m.date, data) if p)
