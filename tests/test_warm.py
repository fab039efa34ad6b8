"""The warm-up (``classroom.warm``, ``ui.warm``): a fresh server loads its default pages once,
in one real session per page, before anyone says it is ready.

Fast: the launcher's reading of the warm-up's reports; a server that cannot be warmed is one
report naming the page and the cause; ``CNNVIZ_WARM=off`` warms nothing; the launcher's lines
for a warm-up that failed or overran (the class is served anyway). Slow: ``make run`` itself
(the Makefile's recipe, on a free port): its ready line comes only after one session has run
every default page in the server's own process (the server's marker lines, one pid), the
warm-up leaves no student in the store, and a real student afterwards does. The classroom's
side (ready only after every replica was warmed) is in ``tests/test_classroom.py``, on its
running classroom.
"""

from __future__ import annotations

import asyncio
import io
import os
import pathlib
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from conftest import WAIT_S, until

from classroom import warm as wm
from classroom.launcher import Child, Classroom
from cnnviz.supervisor import free_port, terminate

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER_RE = re.compile(r"cnnviz warm-up: (\w+) \((en|zh)\) ran in pid (\d+)")


# --- fast --------------------------------------------------------------------------------------
def test_the_launcher_reads_one_report_per_server_and_skips_other_lines():
    ok = wm.Report("http://127.0.0.1:1", True, (("home", 3.2), ("explorer", 1.25)), 4.5)
    bad = wm.Report("http://127.0.0.1:2", False, (("home", 2.0),), 2.1, "explorer: the page raised KeyError: 'x'")
    text = "--- 2026-01-01 classroom starts: python -m classroom.warm\n" + ok.to_json() + "\nnoise {\n" \
        + bad.to_json() + "\n{not json\n"
    assert wm.parse_reports(text) == [ok, bad]
    assert wm.summary(ok, "en") == "warmed in 4.5 s (home 3.20 s, explorer 1.25 s)"
    assert wm.summary(bad, "en") == "not fully warmed: explorer: the page raised KeyError: 'x' (loaded: home 2.00 s)"
    assert "4.5" in wm.summary(ok, "zh") and "home 3.20 s" in wm.summary(ok, "zh")


def _refused_url() -> str:
    """A loopback port nobody listens on."""
    port = free_port()
    return f"http://127.0.0.1:{port}"


def test_a_server_that_cannot_be_warmed_is_one_report_naming_the_page():
    report = wm.warm(_refused_url(), timeout=10)
    assert not report.ok and report.pages == ()
    assert report.error.startswith("home: ") and ("refused" in report.error.lower() or "Errno" in report.error)
    # every server gets its report, in order, whatever the others did
    urls = [_refused_url(), _refused_url()]
    assert [r.url for r in wm.warm_all(urls, timeout=10)] == urls


def test_a_server_that_never_answers_is_a_timeout_within_the_bound():
    with socket.socket() as srv:  # accepts connections (the kernel's backlog) and never speaks
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        t0 = time.monotonic()
        report = wm.warm(f"http://127.0.0.1:{srv.getsockname()[1]}", timeout=1.5)
    assert not report.ok and report.error.startswith("home: ")
    assert time.monotonic() - t0 < 10


def test_warm_off_warms_nothing(monkeypatch, capsys):
    monkeypatch.setenv("CNNVIZ_WARM", "off")
    monkeypatch.setenv("CNNVIZ_LANG", "en")
    assert wm.main([_refused_url()]) == 0  # never contacted: a refused server would be status 1
    assert "warm-up off (CNNVIZ_WARM=off)" in capsys.readouterr().out
    monkeypatch.setenv("CNNVIZ_WARM", "sometimes")
    assert wm.main([_refused_url()]) == 2
    assert "CNNVIZ_WARM" in capsys.readouterr().err


def test_the_ready_line_keeps_the_word_ready_in_both_languages():
    from cnnviz.i18n import t

    for lang in ("en", "zh"):
        assert "ready" in t("warm.ready", lang, url="http://x", summary="s")


def _room(tmp_path: pathlib.Path, cmd: list[str] | None = None, warm_timeout: float = 10.0) -> Classroom:
    """A launcher that is not started: two stand-in replicas on refused ports, its warm-up only."""
    class Stub(Classroom):
        def _warm_cmd(self, urls):
            return cmd if cmd is not None else super()._warm_cmd(urls)

    room = Stub(2, "127.0.0.1", free_port(), run_dir=str(tmp_path), out=io.StringIO(), warm_timeout=warm_timeout)
    room.run_dir = tmp_path
    room.replicas = [Child(name=f"r{i + 1}", log=tmp_path / f"r{i + 1}.log", port=free_port()) for i in range(2)]
    return room


@pytest.mark.slow  # a child python (websockets and Streamlit's protobuf classes: about a second)
def test_the_launcher_says_which_replica_was_not_warmed_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_WARM", "on")
    room = _room(tmp_path)
    room._start_warm(room.replicas)
    try:
        room._wait_warm()  # returns: the launcher goes on to HAProxy and "ready"
    finally:
        room.stop()
    out = room.out.getvalue()
    assert "warming the replicas" in out
    for r in room.replicas:
        assert re.search(rf"replica {r.name} not fully warmed: home: .*; the class is served anyway", out), out
    assert not room.warming


def test_a_warm_up_past_its_bound_is_stopped_and_said(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_WARM", "on")
    monkeypatch.setattr("classroom.launcher.WARM_GRACE_S", 0.0)
    room = _room(tmp_path, cmd=[sys.executable, "-c", "import time; time.sleep(60)"], warm_timeout=1.0)
    room._start_warm(room.replicas)
    child = room.warming[0].child.proc
    t0 = time.monotonic()
    try:
        room._wait_warm()
    finally:
        room.stop()
    assert time.monotonic() - t0 < 15 and child.poll() is not None
    assert "the warm-up did not finish within 1 s" in room.out.getvalue()


def test_warm_off_in_the_launcher_is_one_line_and_no_child(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_WARM", "off")
    room = _room(tmp_path)
    room._start_warm(room.replicas)
    assert not room.warming
    assert "no warm-up (CNNVIZ_WARM=off)" in room.out.getvalue()


# --- slow: make run ------------------------------------------------------------------------------
def _venv() -> pathlib.Path:
    return pathlib.Path(sys.executable).parent.parent


@pytest.mark.slow
def test_make_run_is_ready_only_after_its_own_process_ran_every_default_page(tmp_path):
    """``make run``'s recipe as it is (the set-up step assumed done: ``-o``), on a free port."""
    venv = _venv()
    if not shutil.which("make") or not (venv / "bin" / "streamlit").exists():
        pytest.skip("make, or streamlit in this interpreter's environment, is missing")
    port = free_port()
    db = tmp_path / "runs.sqlite"
    env = dict(os.environ, CNNVIZ_DB=str(db), CNNVIZ_POOL="none", CNNVIZ_WARM="on", CNNVIZ_LANG="en",
               PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(["make", "-s", "-o", f"{venv}/.app-installed", "run", f"VENV={venv}", f"PORT={port}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        def ready():
            if proc.poll() is not None:
                pytest.fail(f"make run exited ({proc.returncode}):\n" + "\n".join(lines[-30:]))
            return next((i for i, ln in enumerate(lines) if f"cnnviz ready on {base}: warmed in" in ln), None)

        at = until(ready, WAIT_S, "make run's ready line", step=0.1)
        before = lines[:at]
        marks = [m.groups() for ln in before if (m := MARKER_RE.search(ln))]
        pages = {p or "home" for p in wm.PAGES}
        assert {(p, lang) for p, lang, _ in marks} == {(p, lang) for p in pages for lang in wm.LANGS}, before
        assert len({pid for *_, pid in marks}) == 1  # one process: the server itself ran them
        for page in pages:  # the ready line names every page load it waited for
            assert re.search(rf"[(,] {page} \d", lines[at].replace("(", "( ")) and f" {page}/zh " in lines[at]
        with sqlite3.connect(db) as conn:  # the warm-up is nobody: no student seen
            assert conn.execute("SELECT COUNT(*) FROM students").fetchone()[0] == 0

        from testkit.wsclient import Student

        async def a_student() -> None:  # a plain browser session: it is seen
            s = Student(base, page="training", timeout=WAIT_S)
            try:
                await s.connect()
                assert not s.last_run_exceptions, s.last_run_exceptions
            finally:
                await s.close()

        asyncio.run(a_student())
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM students").fetchone()[0] == 1
    finally:
        terminate([proc], 10, group=True)
