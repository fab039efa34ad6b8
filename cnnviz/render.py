"""Plain-text rendering of a ``Trace`` for the CLI (the pages render their own way)."""

from __future__ import annotations

from .inspect import Trace


def human(n: float) -> str:
    """1234567 → '1.23M'."""
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def human_bytes(n: float) -> str:
    """Bytes in binary units: 1536 → '1.5 KiB'."""
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n:.0f} B"


def format_summary(arch: str, t: Trace) -> str:
    """A torchinfo-like table: indented names, output shapes, params, MACs, receptive field."""
    rows = [f"{arch}  input {'x'.join(map(str, t.input_shape))}  (shapes per example; N = batch)", ""]
    head = f"{'layer':<34} {'type':<18} {'output shape':<16} {'params':>12} {'MACs':>14} {'RF':>5}"
    rows += [head, "-" * len(head)]
    for r in t.layers:
        label = ("  " * (r.depth - 1) + r.name)[:34]
        shape = "x".join(map(str, r.output_shape))
        extra = f" k{r.kernel[0]}s{r.stride[0]}p{r.padding[0]}" if r.kernel else ""
        rf = str(r.rf) if r.rf is not None else ""
        rows.append(f"{label:<34} {(r.type + extra)[:18]:<18} {shape:<16} {r.params:>12,} {r.macs:>14,} {rf:>5}")
    tt = t.totals
    rows += [
        "-" * len(head),
        f"parameters            {tt.params:,} ({human_bytes(tt.param_bytes)})",
        f"multiply-accumulates  {tt.macs:,} per example",
        f"depth                 {tt.depth} layers with weights ({tt.conv_layers} conv, {tt.linear_layers} linear)",
        f"activations           {human_bytes(tt.activation_bytes)} for a batch of {tt.batch_size}",
        f"training step         ~{human_bytes(tt.train_step_bytes)} (weights, gradients, momentum, activations)",
        f"smallest input        {tt.min_side}x{tt.min_side}",
    ]
    return "\n".join(rows)
