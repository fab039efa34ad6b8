"""``cnnviz.supervisor``, the one supervisor module of the pool and the classroom launcher, with
real processes (small ``python -c`` children) and waits on conditions:

* a child dies with its parent: the parent SIGKILLed, the kernel SIGTERMs the child
  (``PR_SET_PDEATHSIG``); and a parent gone between the fork and the ``prctl`` is caught too;
* the restart backoff: its steps, the ceiling, the reset after a stable (and healthy) run, and
  the pool's "at once after a stable run";
* terminate with grace: SIGTERM, then SIGKILL for a child that ignores SIGTERM (and only for
  it), and by process group, the child's own children included;
* ``free_ports``: distinct ports, free on 127.0.0.1; ``describe_exit`` raw;
* a pool started by an app (``spawn_pool``) exits by itself when that app is gone even before
  the pool has read its parent (it imports torch first): the spawner passes its pid.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest
from conftest import ROOT, until

from cnnviz import supervisor as sv
from testkit.procs import alive as _alive

PY = sys.executable
# a child that says it is ready (its SIGTERM handling set up), then waits to be stopped
IGNORES_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True)\n" \
               "while True: time.sleep(60)"
OBEYS_TERM = "import time; print('ready', flush=True)\nwhile True: time.sleep(60)"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux's")




def _text(path: pathlib.Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _kill_if_alive(*pids: int) -> None:
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- dying with the parent ----------------------------------------------------------------------------
def test_a_child_dies_with_its_parent(tmp_path):
    """The parent (a python that spawned a child with ``die_with_parent``) is SIGKILLed, so it can
    clean nothing up: the kernel SIGTERMs the child."""
    code = ("import sys\nfrom cnnviz import supervisor as sv\n"
            f"p = sv.spawn([sys.executable, '-c', {OBEYS_TERM!r}], log=sys.argv[1])\n"
            "print(p.pid, flush=True)\nsys.stdin.read()\n")  # and waits, until killed
    log = tmp_path / "child.log"
    parent = subprocess.Popen([PY, "-c", code, str(log)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    child = None
    try:
        child = int(parent.stdout.readline())
        until(lambda: "ready" in _text(log), 30, "the child to start")
        assert _alive(child)
        parent.kill()
        parent.wait(10)
        until(lambda: not _alive(child), 30, "the child to die with its parent")
    finally:
        parent.kill()
        parent.wait(10)
        if child:
            _kill_if_alive(child)


def test_a_parent_gone_before_the_prctl_is_caught():
    """``child_setup`` compares ``getppid()`` with the parent's pid read before the fork: a
    mismatch (the parent died in between; here, a wrong pid) and the child signals itself."""
    proc = subprocess.Popen([PY, "-c", "print('never')"], stdout=subprocess.PIPE,
                            preexec_fn=sv.child_setup(parent=os.getpid() + 1_000_000))  # noqa: PLW1509
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM and out == b""


def test_spawn_pins_cpus_and_logs_each_start(tmp_path):
    cpu = min(os.sched_getaffinity(0))
    log = tmp_path / "c.log"
    for _ in range(2):
        p = sv.spawn([PY, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], log=log, cpus={cpu},
                     banner="test starts")
        assert p.wait(30) == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 4 and lines[1] == lines[3] == f"[{cpu}]"
    assert lines[0].startswith("--- ") and lines[0].endswith(f"test starts: {PY} -c import os; "
                                                              "print(sorted(os.sched_getaffinity(0)))")


# --- the restart backoff --------------------------------------------------------------------------
class _Proc:
    pid = 4242


def test_the_backoff_steps_up_to_its_ceiling_and_resets_after_a_stable_run():
    c = sv.Child("r1", sv.Backoff(steps=(1, 2, 4), stable_s=30.0))
    assert c.due(0.0)  # never started: start now
    delays, now = [], 100.0
    for _ in range(5):  # each run 5 s: never stable
        c.attach(_Proc(), now)
        assert not c.due(now)
        delays.append(c.ended(now + 5))
        assert c.proc is None and not c.due(now + 5) and c.due(now + 5 + delays[-1])
        now += 5 + delays[-1]
    assert delays == [1, 2, 4, 4, 4] and c.streak == 5 and len(c.pids) == 5
    c.attach(_Proc(), now)
    assert c.ended(now + 30, healthy=False) == 4  # up 30 s, but never healthy: not stable
    c.attach(_Proc(), now + 40)
    assert c.ended(now + 70) == 1  # up and healthy 30 s: from the first step again
    c.attach(_Proc(), now + 71)
    assert c.ended(now + 72) == 2


def test_the_pools_backoff_restarts_at_once_after_a_stable_run():
    """``after_stable``: the pool's workers (a worker that served 20 s and died is replaced at
    once; one that dies at start waits 0.5 s, then 1 s...)."""
    c = sv.Child("worker 1", sv.Backoff(steps=(0.5, 1, 2), stable_s=20.0, after_stable=0.0))
    c.attach(_Proc(), 0.0)
    assert c.ended(1.0) == 0.5  # died at start
    c.attach(_Proc(), 2.0)
    assert c.ended(3.0) == 1
    c.attach(_Proc(), 4.0)
    assert c.ended(30.0) == 0 and c.due(30.0) and c.streak == 0  # stable: at once, the streak forgotten
    c.attach(_Proc(), 30.0)
    assert c.ended(31.0) == 0.5


# --- terminate with grace ---------------------------------------------------------------------------
def test_terminate_escalates_to_sigkill_only_for_a_child_that_ignores_sigterm(tmp_path):
    stubborn_log, polite_log = tmp_path / "stubborn.log", tmp_path / "polite.log"
    stubborn = sv.spawn([PY, "-c", IGNORES_TERM], log=stubborn_log)
    polite = sv.spawn([PY, "-c", OBEYS_TERM], log=polite_log)
    try:
        until(lambda: "ready" in _text(stubborn_log) and "ready" in _text(polite_log), 30, "both children")
        killed = []
        sv.terminate([stubborn, polite], grace=1.0, on_kill=killed.append)
        assert killed == [stubborn]
        assert stubborn.returncode == -signal.SIGKILL and polite.returncode == -signal.SIGTERM
    finally:
        for p in (stubborn, polite):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_terminate_by_group_takes_the_childs_own_children(tmp_path):
    """The launcher's way: the child (its own session) exits on SIGTERM, but its child ignores
    SIGTERM; once the leader is gone, the rest of its group is SIGKILLed."""
    log = tmp_path / "group.log"
    code = ("import subprocess, sys, time\n"
            f"g = subprocess.Popen([sys.executable, '-c', {IGNORES_TERM!r}])\n"
            "print('grandchild', g.pid, flush=True)\nwhile True: time.sleep(60)\n")
    leader = sv.spawn([PY, "-c", code], log=log, new_session=True)
    grandchild = None
    try:
        def grandchild_ready():
            text = _text(log)
            return "ready" in text and int(text.split("grandchild ")[1].split()[0])

        grandchild = until(grandchild_ready, 30, "the grandchild")
        killed = []
        sv.terminate([leader], grace=10.0, group=True, on_kill=killed.append)
        assert leader.returncode == -signal.SIGTERM and killed == []  # the leader itself obeyed
        until(lambda: not _alive(grandchild), 10, "the grandchild to be killed with its group")
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()
        if grandchild:
            _kill_if_alive(grandchild)


# --- ports, exits -----------------------------------------------------------------------------------
def test_free_ports_are_distinct_and_free():
    ports = sv.free_ports(20)
    assert len(set(ports)) == 20
    for port in [*ports, sv.free_port()]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_describe_exit_is_raw():
    assert sv.describe_exit(-9) == sv.Exit(signal=9, name="SIGKILL") and str(sv.describe_exit(-9)) == "SIGKILL"
    assert str(sv.describe_exit(-99)) == "signal 99" and sv.describe_exit(-99).name is None
    assert sv.describe_exit(3) == sv.Exit(status=3) and str(sv.describe_exit(3)) == "exit status 3"
    assert str(sv.describe_exit(0)) == "exit status 0"


# --- the app's pool -------------------------------------------------------------------------------
def test_an_apps_pool_exits_when_the_app_is_gone_before_the_pool_started(tmp_path):
    """The app (here a python that calls ``spawn_pool`` and exits at once) is gone long before the
    pool has imported torch: the pool must still see it, from the pid on its command line, and exit
    by itself, before it even takes the store's pool lock."""
    db, log = tmp_path / "runs.sqlite", tmp_path / "pool.log"
    code = ("import os, sys\nfrom cnnviz.runs.pool import spawn_pool\n"
            "p = spawn_pool(sys.argv[1], [sys.executable, '-m', 'cnnviz', 'pool', '--workers', '1'], sys.argv[2])\n"
            "print(p.pid, os.getpid(), flush=True)\n")
    app = subprocess.run([PY, "-c", code, str(db), str(log)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    pool, app_pid = map(int, app.stdout.split())
    try:
        until(lambda: not _alive(pool), 120, f"the orphaned pool {pool} to exit: {_text(log)[-2000:]}")
        text = _text(log)
        assert f"the process that started this pool (pid {app_pid}) is gone: exiting" in text, text
        assert "Traceback" not in text
        assert not db.exists() and not (tmp_path / "runs.sqlite.pool.lock").exists()  # it served nothing
    finally:
        _kill_if_alive(pool)


def test_an_apps_pool_serves_while_the_app_lives_and_exits_after_it(tmp_path):
    """The ordinary case: the pool beats while its app lives; the app SIGKILLed (no clean-up), the
    pool notices within a tick, stops and leaves no worker behind."""
    from cnnviz.runs.store import RunStore

    db, log = tmp_path / "runs.sqlite", tmp_path / "pool.log"
    code = ("import sys\nfrom cnnviz.runs.pool import spawn_pool\n"
            "p = spawn_pool(sys.argv[1], [sys.executable, '-m', 'cnnviz', 'pool', '--workers', '1'], sys.argv[2])\n"
            "print(p.pid, flush=True)\nsys.stdin.read()\n")  # and waits, until killed
    app = subprocess.Popen([PY, "-c", code, str(db), str(log)], cwd=ROOT, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    pool, workers = None, []
    try:
        pool = int(app.stdout.readline())

        def beating():
            if not db.exists():
                return None
            store = RunStore(db)
            try:
                info = store.pool()
                return info is not None and info.pid == pool and info.alive()
            finally:
                store.close()

        until(beating, 120, f"the pool {pool} to beat: {_text(log)[-2000:]}")
        workers = until(lambda: [int(p) for p in _text(pathlib.Path(f"/proc/{pool}/task/{pool}/children")).split()],
                        60, "the pool's worker")
        app.kill()
        app.wait(10)
        until(lambda: not _alive(pool) and not any(map(_alive, workers)), 60, "the pool and its workers to exit")
        assert f"the process that started this pool (pid {app.pid}) is gone: exiting" in _text(log)
    finally:
        app.kill()
        app.wait(10)
        if pool:
            _kill_if_alive(pool, *workers)


CHILD_IGNORING_TERM = ("import signal, subprocess, sys, time\n"
                       "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                       "subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                       "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(120)'])\n"
                       "time.sleep(120)\n")


def test_terminate_returns_only_once_the_whole_group_is_gone():
    """A group leader and a child that both ignore SIGTERM: after the grace, both are SIGKILLed, and
    ``terminate`` returns only once no live process is left in the group (the launcher's "SIGTERM
    stops everything" is then true the moment it exits)."""
    leader = subprocess.Popen([sys.executable, "-c", CHILD_IGNORING_TERM], start_new_session=True)
    try:
        until(lambda: len(sv._group_members(leader.pid)) == 2, what="the leader and its child in one group")
        sv.terminate([leader], 0.5, group=True)
        assert leader.returncode == -signal.SIGKILL
        assert sv._group_members(leader.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal.SIGKILL)
