"""The one way numbers reach a person: counts, bytes and durations, the same in both languages.

Torch-free and below everything but the string table, so the pool's supervisor, the CLI and
the pages all write a figure the same way (``ui.common.fmt_*`` are these).
"""

from __future__ import annotations


def human(n: float) -> str:
    """1234567 → '1.23M'."""
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def human_bytes(n: float) -> str:
    """Bytes in binary units, three significant figures at most: 1536 → '1.5 KiB',
    187,056,128 → '178 MiB' (narrow enough for a metric tile on a projected page)."""
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= div:
            v = n / div
            return f"{v:.0f} {unit}" if abs(v) >= 100 else f"{v:.1f} {unit}"
    return f"{n:.0f} B"


def duration(seconds: float | None) -> str:
    """0:42, 12:05, 1:02:03; "—" for None (nothing known)."""
    if seconds is None:
        return "—"
    s = int(round(max(0.0, seconds)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
