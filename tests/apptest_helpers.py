"""Reading an AppTest page the way the teacher's and the board's tests do: one button by its
label, one table by a column, every message's text."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

TEXT_KINDS = ("markdown", "caption", "success", "error", "warning", "info", "subheader", "toast")


def button(at: AppTest, label: str):
    """The one button labelled ``label`` (the test fails naming the labels there are otherwise)."""
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, (label, [b.label for b in at.button])
    return found[0]


def frame(at: AppTest, column: str, without: str | None = None):
    """The one table on the page with ``column`` (and not ``without``): dataframes have no key in AppTest."""
    found = [d.value for d in at.dataframe if column in d.value.columns and without not in d.value.columns]
    assert len(found) == 1, (column, [list(d.value.columns) for d in at.dataframe])
    return found[0]


def texts(at: AppTest) -> str:
    """Every message, caption and heading on the page, joined."""
    return " ".join(str(e.value) for kind in TEXT_KINDS for e in at.get(kind))
