"""Facts of this machine that several layers need, torch-free: its memory, its CPU's model, the
cores this process may use (the pool's plan, the calibration's identity, admission's bound)."""

from __future__ import annotations

import functools
import os


def meminfo(field: str) -> int | None:
    """``/proc/meminfo``'s ``field`` (``MemTotal``, ``MemAvailable``...) in bytes; None where it is missing."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return None


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` ("?" where unknown)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
