"""Shared test set-up.

Datasets: tests and benchmarks read the small real Fashion-MNIST/MNIST stand-ins in
``../shared/data`` through the product's own setting, ``CNNVIZ_DATA_DIR``; the product
never names that path. Anything a test writes goes to tmp paths: ``CNNVIZ_DB`` (the run store) is set to a temporary
file for the whole session, subprocesses included; artifacts go to the git-ignored ``artifacts/``.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if SHARED_DATA.is_dir():
    os.environ.setdefault("CNNVIZ_DATA_DIR", str(SHARED_DATA))

# The run store defaults to <data dir>/cnnviz-runs.sqlite: never let a test (or the app
# servers the browser tests start, which inherit this environment) write into shared data.
_RUN_STORE = tempfile.mkdtemp(prefix="cnnviz-test-runs-")
os.environ["CNNVIZ_DB"] = os.path.join(_RUN_STORE, "runs.sqlite")

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def shared_data() -> pathlib.Path:
    """The shared real-image folder, or a skip where this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA
