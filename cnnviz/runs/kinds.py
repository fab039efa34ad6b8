"""Job kinds: what a worker process can run, registered by name, and how a job is keyed.

A job is data: a kind's name and its parameters (JSON). A worker looks the kind up here and
runs ``kind.run(params, stop)``, an iterator of event dicts (each with a ``"kind"``; a paired
lab adds ``"name"``, its variant). The registry fails loudly: an unknown kind is an error,
never a silent no-op. ``train`` is registered here; the labs register theirs in
``cnnviz.labs`` (above this package), and the worker process imports them (``python -m
cnnviz worker``), so this package never imports the labs.

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
from typing import Any, Protocol

from cnnviz.errors import CnnvizError


class Stop(Protocol):
    """What a job polls between steps (``threading.Event`` or the worker's store-backed flag)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class JobContext:
    """What a running job may use besides its parameters: where its weights go."""

    run_id: str
    weights_path: pathlib.Path | None = None  # save the trained state_dict here (atomic), if the kind keeps weights
    exiting: Stop | None = None  # set when the process is going away: work after the job's own stop ends too


@dataclass(frozen=True)
class JobKind:
    """One kind of background job.

    ``run(params, stop, ctx)`` yields event dicts and must end (within a step) once
    ``stop.is_set()``; ``describe(params)`` is ``(arch, label)`` for the run list;
    ``fingerprint(params)`` is what besides the parameters decides the numbers (a dataset's
    hash), or ``None`` when the job is not reproducible (never shared); ``estimate_s(params)`` is
    a guess of its solo seconds (None: unknown); ``progress(summary, event)`` updates the
    summary dict the run list shows and returns the fraction done (None: unchanged).
    """

    name: str
    run: Callable[[Mapping[str, Any], Stop, JobContext], Iterator[Mapping[str, Any]]]
    describe: Callable[[Mapping[str, Any]], tuple[str, str]]
    fingerprint: Callable[[Mapping[str, Any]], str | None]
    estimate_s: Callable[[Mapping[str, Any]], float | None] = lambda params: None
    progress: Callable[[dict, Mapping[str, Any]], float | None] = lambda summary, ev: None
    device: Callable[[Mapping[str, Any]], str] = lambda params: "cpu"  # the device type it runs on
    keeps_weights: bool = False  # a finished job is worth sharing only while its weights are kept
    title: Callable[[Mapping[str, Any], str], str] | None = None  # (params, lang) → its name for people


class UnknownKindError(CnnvizError):
    """A job kind nobody registered (a worker without the labs imported, a typo)."""


_KINDS: dict[str, JobKind] = {}
_LOCK = threading.Lock()


def register_kind(kind: JobKind) -> JobKind:
    """Add ``kind``; registering a second, different kind under the same name is an error."""
    with _LOCK:
        old = _KINDS.get(kind.name)
        if old is not None and old is not kind and old.run is not kind.run:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
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
_CODE_PARTS = ("config.py", "models", "train", "labs", "inspect", "runs/kinds.py", "runs/worker.py")


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


def content_key(kind: str, params: Mapping[str, Any]) -> str:
    """The job's identity; "" when it is not reproducible (see the module docstring)."""
    k = get_kind(kind)
    fp = k.fingerprint(params)
    if fp is None:
        return ""
    blob = json.dumps({"kind": kind, "params": params, "data": fp, "device": k.device(params),
                       "code": code_version()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
