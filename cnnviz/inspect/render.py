"""Plain-text rendering of a ``Trace`` for the CLI (the pages render their own way)."""

from __future__ import annotations

from cnnviz.i18n import t
from cnnviz.inspect.tracing import Trace
from cnnviz.numbers import human_bytes


def format_summary(arch: str, tr: Trace, lang: str = "en") -> str:
    """A torchinfo-like table: indented names, output shapes, params, MACs, receptive field."""
    shape_in = "x".join(map(str, tr.input_shape))
    rows = [t("cli.sum.title", lang, arch=arch, shape=shape_in), ""]
    head = (f"{t('cli.sum.layer', lang):<34} {t('cli.sum.type', lang):<18} {t('cli.sum.output', lang):<16} "
            f"{t('cli.sum.params', lang):>12} {t('cli.sum.macs', lang):>14} {t('cli.sum.rf', lang):>5}")
    rows += [head, "-" * len(head)]
    for r in tr.layers:
        label = ("  " * (r.depth - 1) + r.name)[:34]
        shape = "x".join(map(str, r.output_shape))
        extra = ""
        if r.kernel:
            (k, _), (s, _), (p, _) = r.window
            extra = f" k{k}s{s}p{p}"
        rf = str(r.rf) if r.rf is not None else ""
        rows.append(f"{label:<34} {(r.type + extra)[:18]:<18} {shape:<16} {r.params:>12,} {r.macs:>14,} {rf:>5}")
    tt = tr.totals
    rows += [
        "-" * len(head),
        t("cli.sum.t.params", lang, n=f"{tt.params:,}", size=human_bytes(tt.param_bytes)),
        t("cli.sum.t.macs", lang, n=f"{tt.macs:,}"),
        t("cli.sum.t.depth", lang, depth=tt.depth, conv=tt.conv_layers, linear=tt.linear_layers),
        t("cli.sum.t.acts", lang, size=human_bytes(tt.activation_bytes), batch=tt.batch_size),
        t("cli.sum.t.step", lang, size=human_bytes(tt.train_step_bytes)),
        t("cli.sum.t.min", lang, side=tt.min_side),
    ]
    return "\n".join(rows)
