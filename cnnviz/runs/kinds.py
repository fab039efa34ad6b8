"""Job kinds: what a worker process can run, registered by name, and how a job is keyed.

A job is data: a kind's name and its parameters (JSON). ``kind.parse(params)`` turns them into
the kind's frozen config once (a ``ConfigError`` when they cannot work); every other function
of the kind takes that config. A worker looks the kind up here and runs
``kind.run(cfg, stop, ctx)``, an iterator of typed events (``cnnviz.train.events``; a paired
lab's carry their variant in ``name``).

This package knows no kind: they live in ``cnnviz.jobs`` (one module each), and
``cnnviz/jobs/__init__.py`` is the one place that registers them. Every process that submits
or runs jobs imports ``cnnviz.jobs`` first (the app's scheduler, the CLI, the pool's workers,
a Ray task); the registry fails loudly for a kind nobody registered, naming that module.

The content key (``content_key``) makes identical requests share one computation: the kind,
its parameters as canonical JSON, the dataset's fingerprint (``train.data.fingerprint``: a
re-downloaded or edited dataset is another dataset), the device type it runs on, and the code
version (a hash of the sources that decide the numbers). A job that is not deterministic (a
wall-clock budget) has no key and is never shared.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pathlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from cnnviz.errors import CnnvizError
from cnnviz.train.events import Event

P = TypeVar("P")  # a kind's parsed, frozen config


class Stop(Protocol):
    """What a job polls between steps (``threading.Event`` or the worker's store-backed flag)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class JobContext:
    """What a running job may use besides its config: where its weights go."""

    run_id: str
    weights_path: pathlib.Path | None = None  # save the trained state_dict here (atomic), if the kind keeps weights
    exiting: Stop | None = None  # set when the process is going away: work after the job's own stop ends too


def _unknown(cfg: Any) -> None:
    return None


def _cpu(cfg: Any) -> str:
    return "cpu"


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """One kind of background job.

    ``parse(params)`` is the kind's config (parsed once per use; a ``CnnvizError`` when the
    params cannot work: ``Scheduler.submit`` calls it before anything is written).
    ``run(cfg, stop, ctx)`` yields typed events and must end (within a step) once
    ``stop.is_set()``; ``describe(cfg)`` is ``(arch, label)`` for the run list;
    ``fingerprint(cfg)`` is what besides the parameters decides the numbers (a dataset's
    hash), or ``None`` when the job is not reproducible (never shared); ``estimate_s(cfg)`` is
    a guess of its solo seconds (None: unknown); ``memory_bytes(cfg)`` the memory it needs
    on its device (``cnnviz.runs.admission`` reserves it); ``progress(summary, event)`` folds one event
    into the summary dict the run list and the pages show and returns the fraction done (None:
    unchanged): the one place a kind's events become its progress.
    """

    name: str
    parse: Callable[[Mapping[str, Any]], P]
    run: Callable[[P, Stop, JobContext], Iterator[Event]]
    describe: Callable[[P], tuple[str, str]]
    fingerprint: Callable[[P], str | None]
    progress: Callable[[dict, Event], float | None]
    estimate_s: Callable[[P], float | None] = _unknown
    device: Callable[[P], str] = _cpu  # the device type it runs on
    memory_bytes: Callable[[P], int | None] = _unknown  # what it reserves while it runs (None: the default)
    keeps_weights: bool = False  # a finished job is worth sharing only while its weights are kept
    title: Callable[[P, str], str] | None = None  # (cfg, lang) → its name for people


class UnknownKindError(CnnvizError):
    """A job kind nobody registered (a process that did not import ``cnnviz.jobs``, a typo)."""


_KINDS: dict[str, JobKind] = {}
_LOCK = threading.Lock()


def register_kind(kind: JobKind[P]) -> JobKind[P]:
    """Add ``kind``; registering a second, different kind under the same name is an error."""
    with _LOCK:
        old = _KINDS.get(kind.name)
        if old is not None and old is not kind and old.run is not kind.run:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind[Any]:
    with _LOCK:
        kind = _KINDS.get(name)
        known = ", ".join(sorted(_KINDS))
    if kind is None:
        raise UnknownKindError("err.job.kind", kind=name, known=known)
    return kind


def kinds() -> list[str]:
    with _LOCK:
        return sorted(_KINDS)


# the sources whose change can change a job's numbers (not the strings, figures, pages or CLI)
_CODE_PARTS = ("config.py", "models", "train", "labs", "inspect", "jobs", "runs/kinds.py", "runs/worker.py")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the sources that decide a job's numbers, computed once per process."""
    root = pathlib.Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for part in _CODE_PARTS:
        p = root / part
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def content_key(kind: str, params: Mapping[str, Any], cfg: Any = None) -> str:
    """The job's identity; "" when it is not reproducible (see the module docstring). ``cfg``:
    ``params`` already parsed (saves parsing them again)."""
    k = get_kind(kind)
    cfg = k.parse(params) if cfg is None else cfg
    fp = k.fingerprint(cfg)
    if fp is None:
        return ""
    blob = json.dumps({"kind": kind, "params": params, "data": fp, "device": k.device(cfg),
                       "code": code_version()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
