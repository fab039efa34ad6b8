"""``pool`` and ``worker``: the processes that run every background job.

``python -m cnnviz pool`` serves one run store (``--db``, default ``$CNNVIZ_DB`` or the data
folder's) until SIGTERM: it starts ``--workers`` worker processes (``python -m cnnviz
worker``), each with ``--threads`` torch threads, never more than the cores in all
(``cnnviz.runs.pool``). The app starts one by itself when none serves its store; ``make
classroom`` starts one for all its replicas. ``worker`` is the pool's child: it imports the
labs (so their job kinds are registered) and claims jobs until the pool goes away.

The supervisor imports neither torch nor a job kind (``cnnviz.cli`` imports only the command
asked for): it starts in a fraction of a second. Only a worker imports ``cnnviz.jobs``.

``--exit-with-parent PID``: the pool exits once process PID is no longer its parent (the app
that started it is gone). The spawner names itself, so that an app that died while the pool
was starting is still noticed: checked first thing in ``run``, before the supervisor's own
imports, then again before the store is opened and on every tick (``Pool._orphaned``). A bare
``--exit-with-parent`` watches the parent that ``python -m cnnviz`` read first thing
(``cnnviz.__main__``), before any other import.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

# imported by each worker and by a Ray task on its node, where it registers every job kind
PLUGINS = ("cnnviz.jobs",)
COMMAND = "pool"
HELP = "run the worker pool that executes training runs and lab jobs (the app starts one itself)"
# a worker's command line (the pool adds --db and --threads); a list, so that a test can wrap it
WORKER_ARGV = [sys.executable, "-m", "cnnviz", "pool", "--worker"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="run store (default: $CNNVIZ_DB or the data folder's)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: from the cores)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per worker (workers x threads <= cores)")
    p.add_argument("--ray-address", default=None,
                   help="run the jobs on this Ray cluster (default $CNNVIZ_RAY_ADDRESS; local workers when unset "
                        "or unreachable)")
    p.add_argument("--exit-with-parent", nargs="?", type=int, const=0, default=None, metavar="PID",
                   help="exit when the process that started it does: PID (the spawner's own pid), else the parent "
                        "this process had when it started")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a pool's child process


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(message)s")
    parent = None if args.exit_with_parent is None else (args.exit_with_parent or args.parent_pid)
    if parent is not None and os.getppid() != parent:  # the app that started it is gone already
        logging.info("the process that started this pool (pid %d) is gone: exiting", parent)
        return 0
    from cnnviz.runs.pool import Pool  # the store, the supervisor: after the check above
    from cnnviz.settings import db_path

    db = args.db or str(db_path())
    if args.worker:
        import importlib

        from cnnviz.runs.worker import worker_loop

        for module in PLUGINS:  # the job kinds this worker runs (a missing one is an error naming its module)
            importlib.import_module(module)
        worker_loop(db, args.threads or 1)
        return 0
    pool = Pool(db, WORKER_ARGV, args.workers, args.threads, parent=parent, ray_address=args.ray_address,
                plugins=PLUGINS)
    logging.info("pool for %s: %d worker(s) x %d thread(s)", db, pool.workers, pool.threads)
    code = pool.serve()
    if code == 3:  # a distinct status, so that a supervisor can tell (the app's races are harmless)
        logging.info("another pool already serves %s", db)
    return code
