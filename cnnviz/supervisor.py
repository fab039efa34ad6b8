"""Supervising child processes: the one module behind both supervisors of cnnviz.

Two processes supervise others: the worker pool (``cnnviz.runs.pool``: its worker processes)
and the classroom launcher (``classroom.launcher``: the Streamlit replicas, HAProxy and the
pool). What they share lives here:

* ``spawn``: start a child with stdin from ``/dev/null``, its output appended to a log file,
  optionally in a session of its own and pinned to some CPUs, and dying with this process
  (``PR_SET_PDEATHSIG``, see ``child_setup``);
* ``Backoff`` and ``Child``: a supervised slot (the process now, every pid it had) and when
  it may start again after it ended: a restart backoff that starts over once a run was stable;
* ``terminate``: SIGTERM, a grace period, SIGKILL for what is left, for one child or many,
  optionally by process group;
* ``free_port`` / ``free_ports``: loopback ports nobody listens on;
* ``describe_exit``: how a child ended, raw (the signal's name, or the exit status), which
  each supervisor words its own way (the pool's job messages, the launcher's translated lines).

The standard library only, and no thread: the launcher imports this and must stay
single-threaded and torch-free. ``preexec_fn`` is unsafe in a process that has threads, and
the death signal follows the *thread* that forked the child, not the process: spawn from a
process's main thread only, and never from a Streamlit script thread (``die_with_parent=False``
there: the app's pool watches its parent's pid instead, ``cnnviz.runs.pool.spawn_pool``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1  # linux/prctl.h
try:
    _LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover - no libc to load
    _LIBC = None


# --- starting a child ----------------------------------------------------------------------------
def child_setup(parent: int, cpus: set[int] | None = None,
                death_signal: int | None = signal.SIGTERM) -> Callable[[], None]:
    """The ``preexec_fn`` of a child of process ``parent`` (the caller's pid, read before the fork).

    With ``death_signal``, the kernel sends it to the child when the thread that forked it ends
    (``prctl(PR_SET_PDEATHSIG)``, Linux only; elsewhere nothing: the normal stop path still
    works); and a parent that died between the fork and the ``prctl`` is caught by comparing
    ``getppid()`` with ``parent``: the child then sends itself the signal. ``cpus``: the child
    runs on those CPUs only (``sched_setaffinity``)."""

    def setup() -> None:
        if death_signal is not None and _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
            if os.getppid() != parent:  # the parent died between fork and prctl
                os.kill(os.getpid(), death_signal)
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup


def spawn(argv: Sequence[str], *, log: pathlib.Path | str | None = None, env: Mapping[str, str] | None = None,
          cwd: pathlib.Path | str | None = None, cpus: set[int] | None = None, new_session: bool = False,
          die_with_parent: bool = True, banner: str | None = None) -> subprocess.Popen:
    """Start ``argv``; its stdin is ``/dev/null``, its stdout and stderr are appended to ``log``
    (None: this process's own).

    ``die_with_parent``: it gets SIGTERM when this process dies, even by SIGKILL
    (``child_setup``; from the main thread of a process without threads only).
    ``new_session``: its own session and process group (Ctrl-C in a terminal does not reach it,
    and ``terminate(..., group=True)`` ends whatever it started too). ``cpus``: pinned to those.
    ``banner``: first a line ``--- <date> <banner>: <argv>`` in the log, where one log
    collects every start of the same child."""
    argv = [str(a) for a in argv]
    need_setup = (die_with_parent and _LIBC is not None) or bool(cpus)
    setup = child_setup(os.getpid(), cpus, signal.SIGTERM if die_with_parent else None) if need_setup else None
    out = open(log, "ab") if log is not None else None  # noqa: SIM115 (closed below, the child keeps its copy)
    try:
        if out is not None and banner:
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {banner}: {' '.join(argv)}\n".encode())
            out.flush()
        return subprocess.Popen(argv, cwd=cwd, env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT if out is not None else None,
                                start_new_session=new_session, preexec_fn=setup)  # noqa: PLW1509 (see above)
    finally:
        if out is not None:
            out.close()


# --- restarts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backoff:
    """When a child that ended may start again.

    ``steps``: the delays of successive restarts without a stable run in between (the last one
    repeats). A run is stable once the child has been up ``stable_s`` (and, for a child with a
    health check, was healthy): the next restart starts from the first step again, or waits
    ``after_stable`` when that is set (a step of its own, outside the streak).

    The values are each supervisor's own: see ``cnnviz.runs.pool.BACKOFF`` and
    ``classroom.launcher.BACKOFF`` for why they differ.
    """

    steps: tuple[float, ...]
    stable_s: float
    after_stable: float | None = None

    def delay(self, streak: int) -> float:
        """The delay of the restart that follows ``streak`` unstable runs."""
        return self.steps[min(streak, len(self.steps) - 1)]


@dataclass
class Child:
    """A supervised slot: its process now (None before its first start and between an end and
    its restart), when that process started, the restart due, and every pid it had."""

    name: str
    backoff: Backoff
    proc: subprocess.Popen | None = None
    started: float = 0.0  # time.monotonic() of the last start
    restart_at: float | None = None  # a restart is due at this monotonic time
    streak: int = 0  # restarts without a stable run in between (picks the backoff step)
    restarts: int = 0
    pids: list[int] = field(default_factory=list)  # every pid it had, oldest first

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def attach(self, proc: subprocess.Popen, now: float | None = None) -> None:
        """``proc`` is this slot's process from now on (just started)."""
        self.proc = proc
        self.pids.append(proc.pid)
        self.started = time.monotonic() if now is None else now
        self.restart_at = None

    def ended(self, now: float | None = None, healthy: bool = True) -> float:
        """Its process ended (or was stopped): forget it and schedule the restart; the delay.
        ``healthy=False``: the run does not count as stable however long it was (a replica that
        never answered its health check)."""
        now = time.monotonic() if now is None else now
        self.proc = None
        if healthy and now - self.started >= self.backoff.stable_s:
            self.streak = 0
            if self.backoff.after_stable is not None:
                self.restart_at = now + self.backoff.after_stable
                return self.backoff.after_stable
        delay = self.backoff.delay(self.streak)
        self.streak += 1
        self.restart_at = now + delay
        return delay

    def due(self, now: float | None = None) -> bool:
        """No process, and it was never started or its restart time has come."""
        now = time.monotonic() if now is None else now
        return self.proc is None and (not self.pids or (self.restart_at is not None and now >= self.restart_at))


# --- stopping ------------------------------------------------------------------------------------
def terminate(procs: Iterable[subprocess.Popen], grace: float, *, group: bool = False,
              on_kill: Callable[[subprocess.Popen], None] | None = None) -> None:
    """Stop and reap each process: SIGTERM (and SIGCONT, as a stopped process acts on SIGTERM only
    once resumed), up to ``grace`` s for all of them together, then SIGKILL for what is left
    (``on_kill(proc)`` is called first, to say so).

    ``group``: the signals go to each process's group (started with ``new_session``), and
    whatever is still in the group once its leader has ended is SIGKILLed too."""
    procs = list(procs)

    def send(p: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)

    for p in procs:
        if p.poll() is None:
            send(p, signal.SIGTERM)
            send(p, signal.SIGCONT)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            if on_kill is not None:
                on_kill(p)
            send(p, signal.SIGKILL)
            p.wait()
        if group:  # anything the child left in its group: killed, and gone before we return
            send(p, signal.SIGKILL)
            _wait_group_gone(p.pid, GROUP_GONE_S)


GROUP_GONE_S = 5.0  # how long a SIGKILLed group may take to leave (a big process frees its memory first)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``, from /proc (none where there is no /proc)."""
    out = []
    for d in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(d.name))
    return out


def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Until no live process is left in ``pgid`` (SIGKILLed: they are on their way out), at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


# --- ports ---------------------------------------------------------------------------------------
def free_ports(n: int) -> list[int]:
    """``n`` distinct ports nobody listens on now on 127.0.0.1 (held together while picked, so
    never twice the same)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    """A port nobody listens on now on 127.0.0.1."""
    return free_ports(1)[0]


# --- how a child ended ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Exit:
    """How a child ended, raw: ``signal`` (its number) and ``name`` (``"SIGKILL"``; None for a
    number without a name) when a signal ended it, else ``status``, its exit status.
    ``str()``: ``"SIGKILL"``, ``"signal 99"`` or ``"exit status 3"``."""

    signal: int | None = None
    name: str | None = None
    status: int | None = None

    def __str__(self) -> str:
        if self.signal is None:
            return f"exit status {self.status}"
        return self.name or f"signal {self.signal}"


def describe_exit(returncode: int) -> Exit:
    """A ``Popen.returncode`` (negative: killed by that signal) as an ``Exit``."""
    if returncode < 0:
        try:
            name: str | None = signal.Signals(-returncode).name
        except ValueError:
            name = None
        return Exit(signal=-returncode, name=name)
    return Exit(status=returncode)
