"""Running ``python -m cnnviz`` in-process, and the contract every CLI error keeps."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from cnnviz.cli import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``cnnviz.cli.main(argv)``: (exit status, stdout, stderr); argparse's own exits included."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def error_line(code: int, out: str, err: str) -> str:
    """Assert the CLI's error contract (status 2, nothing on stdout, exactly one
    ``cnnviz: error:`` line on stderr, no traceback) and return that line."""
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert out == "", out
    assert len(lines) == 1, err
    assert lines[0].startswith("cnnviz: error:") and "Traceback" not in err
    return lines[0]
