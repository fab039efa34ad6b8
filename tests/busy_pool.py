"""``python tests/busy_pool.py TIMEOUT_S BOUND_S ARGS...``: ``python -m cnnviz ARGS...`` with SQLite's
wait for a lock (``cnnviz.runs.store.BUSY_TIMEOUT_S``) and the retry bound of the busy store's writes
(``cnnviz.runs.busy.BOUND_S``) set to these, in this process and in the pool's workers (whose command
line is this script again): a test of a locked store then takes seconds, not minutes. Test tooling
only (``tests/test_heal.py``)."""

import os
import sys

PARENT = os.getppid()  # first, as cnnviz.__main__ does
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's cnnviz

import cnnviz.runs.busy as busy  # noqa: E402
import cnnviz.runs.store as store  # noqa: E402
from cnnviz.cli import main  # noqa: E402
from cnnviz.cli import pool as cli_pool  # noqa: E402

timeout, bound, *args = sys.argv[1:]
store.BUSY_TIMEOUT_S = float(timeout)
busy.BOUND_S = float(bound)
cli_pool.WORKER_ARGV = [sys.executable, os.path.abspath(__file__), timeout, bound, "pool", "--worker"]
sys.exit(main(args, parent_pid=PARENT))
