"""The export buttons of the explorer and the designer: the configuration on the page as plain
PyTorch (``cnnviz.export.code``), a script or a notebook."""

from __future__ import annotations

import streamlit as st

from cnnviz import safe
from cnnviz.config import ConvNetConfig
from cnnviz.export import code as export
from ui.common import lang, tr


def export_buttons(cfg: ConvNetConfig, name: str | None, stem: str, widths: tuple[float, ...]) -> None:
    """Two download buttons for ``cfg`` (``name``: the preset it is, if unchanged; ``stem``: the
    file name). The file is written on click, in a thread of its own (a callable ``data``, cached
    in the library per config), and the click reruns nothing (``on_click="ignore"``)."""
    lg = lang()
    stem = safe.file_name(stem, "cnnviz")  # a browser's download name: no path, no markup
    a, b, _ = st.columns(widths)
    a.download_button(tr("export.button.py"), data=lambda: export.script(cfg, lg, name), file_name=f"{stem}.py",
                      mime="text/x-python", on_click="ignore", icon=":material/code:", help=tr("export.button.py.help"))
    b.download_button(tr("export.button.ipynb"), data=lambda: export.notebook(cfg, lg, name),
                      file_name=f"{stem}.ipynb", mime="application/x-ipynb+json", on_click="ignore",
                      icon=":material/book_2:", help=tr("export.button.ipynb.help"))
