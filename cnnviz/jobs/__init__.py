"""Every kind of heavy job, one module each, and the one place they are registered.

``cnnviz.runs`` is the machinery (the store, the queue, the workers, the pool); it knows no
kind. Each module here defines one ``JobKind`` (``KIND``): its frozen config (parsed once from
the job's JSON params), how it runs (typed events out), how its events fold into its progress,
its title for people, what keys it (identical jobs are computed once) and its estimate.

* ``train``: a training run (``TrainConfig``), its results and weights;
* ``gradflow``: the gradient-flow lab's paired plain/residual run;
* ``bnpair``: the BatchNorm lab's paired LeNet without/with BatchNorm;
* ``featuremaps``: the feature-map lab's quick training;
* ``calibrate``: the pool's measurement of this machine's speed (``cnnviz.runs.calibration``).

``finished`` is what a finished run is for people: its trained network, results, weights
state and title.

Adding a kind: a module here with its config and ``KIND = JobKind(...)``, one line in
``KINDS`` below, its strings, and its page (``docs/architecture.md``). Every process that
submits or runs jobs imports this package first (``ui.sched``, ``cnnviz.cli``, the pool's
workers, a Ray task): ``cnnviz.runs.kinds.get_kind`` fails loudly for a kind nobody registered.
"""

from __future__ import annotations

from typing import Any

from cnnviz.jobs import bnpair, calibrate, featuremaps, gradflow, train
from cnnviz.runs.kinds import JobKind, register_kind

KINDS: dict[str, JobKind[Any]] = {k.name: register_kind(k) for k in (
    train.KIND, gradflow.KIND, bnpair.KIND, featuremaps.KIND, calibrate.KIND,
)}
LAB_KINDS = ("gradflow", "bnpair", "featuremaps")

__all__ = ["KINDS", "LAB_KINDS"]
