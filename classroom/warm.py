"""Warm a freshly started cnnviz server before its class arrives: ``python -m classroom.warm URL...``.

A server that has just started has imported nothing of the app: its first session imports
torch, plotly and pandas, traces the default network and builds the shared figures while the
students who arrived with it wait (40 students within 2 s at a fresh two-replica classroom:
first pages p50 1.55 s, p95 3.46 s). This opens one real session per page on each server, the
way a browser tab does (``/_stcore/stream``: a ``rerun_script`` with the page's name, then the
run's messages up to ``script_finished``), through home, the explorer, training and the board
with their default views, in English and then in Chinese (figures are cached per language).

Why a real session rather than a hook in the app: Streamlit runs ``app.py`` only for a
session, never when the server starts, so nothing inside the app can run before the first
visitor; and code that merely imported torch and built the figures would miss what only a page
run does (Streamlit's lazy imports for its elements, pyarrow for tables, the figures' JSON
encoding, the pages' compilation, the ``st.cache_resource`` entries keyed exactly as the pages
key them).

Who runs it:

* ``make classroom``: ``classroom.launcher`` runs ``python -m classroom.warm --json URL...``
  (every replica, straight to its port) as a child once each replica answers its health check,
  and prints ``ready`` only after it has finished or ``--timeout`` has passed (then one line
  says what failed, and the class is served anyway);
* ``make run``: the Makefile starts ``python -m classroom.warm --wait S URL`` beside
  ``streamlit run app.py``: it waits for the server's health check, warms it, and prints the
  ready line (and exits at once if its parent, the recipe's shell, is gone).

The session says it is the warm-up in the ``HEADER`` request header. The app (``ui.warm``)
believes that only of a connection straight from this machine, not through the classroom's
proxy; it then records no student "seen" for it (the teacher's list stays the class) and writes
one line per page in the server's log, the marker the tests read.

Only the standard library at import (the launcher reads ``parse_reports``); ``websockets`` and
Streamlit's protobuf classes are imported when a page is loaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

HEADER = "X-Cnnviz-Warmup"  # the request header that says "this session is the warm-up" (see ui.warm)
# Home (the default page: "") and the pages a class opens first, with their default views.
PAGES: tuple[str, ...] = ("", "explorer", "training", "board")
LANGS: tuple[str, ...] = ("en", "zh")  # the app's languages; figures are cached per language
TIMEOUT_S = 120.0  # the whole warm-up of every server (they are warmed at once, one thread each)
STREAM_PATH = "_stcore/stream"
HEALTH_PATH = "_stcore/health"
_MAX_MESSAGE = 64 * 1024 * 1024  # a single ForwardMsg (a big chart) may exceed websockets' 1 MiB default


class WarmError(RuntimeError):
    """A page could not be loaded: the message names the page and why (refused, timeout, an
    exception on the page, a page the server does not have)."""


@dataclass(frozen=True)
class Report:
    """One server's warm-up: its URL, whether every page loaded, seconds per page load
    (``("home", 3.1), ("explorer", 1.2), ...``, English first), the total, and the first error."""

    url: str
    ok: bool
    pages: tuple[tuple[str, float], ...] = ()
    seconds: float = 0.0
    error: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)


def page_label(page: str, lang: str) -> str:
    """How a page load is named in the reports: "home", "explorer", "board/zh"."""
    return (page or "home") + ("" if lang == "en" else f"/{lang}")


def parse_reports(text: str) -> list[Report]:
    """The ``Report`` lines of ``--json`` output (other lines skipped): what the launcher reads."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
            out.append(Report(url=str(d["url"]), ok=bool(d["ok"]),
                              pages=tuple((str(p), float(s)) for p, s in d.get("pages", ())),
                              seconds=float(d.get("seconds", 0.0)), error=str(d.get("error", ""))))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _split(url: str) -> tuple[str, str]:
    """(http base with a trailing slash, websocket URL of the stream) of a server URL."""
    base = url.rstrip("/") + "/"
    if not base.startswith(("http://", "https://")):
        base = "http://" + base
    return base, "ws" + base[4:] + STREAM_PATH


def _origin(base: str) -> str:
    """The ``Origin`` a browser on ``base`` sends: scheme and host, no path."""
    parts = urllib.parse.urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def healthy(url: str, timeout: float = 2.0) -> bool:
    """The server answers ``/_stcore/health`` with 200."""
    try:
        with urllib.request.urlopen(_split(url)[0] + HEALTH_PATH, timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def load_page(url: str, page: str = "", lang: str = "en", timeout: float = 60.0) -> float:
    """One session: open the stream, run ``page`` (``""``: the default page) in ``lang``, wait for
    its run to finish; seconds from connecting to the finished run. ``WarmError`` otherwise."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    base, ws_url = _split(url)
    name = page_label(page, lang)
    query = "" if lang == "en" else f"lang={lang}"
    t0 = time.perf_counter()
    deadline = t0 + timeout
    finished = ForwardMsg.ScriptFinishedStatus
    try:
        with connect(ws_url, subprotocols=["streamlit"], additional_headers={HEADER: "1"},  # type: ignore[list-item]
                     origin=_origin(base),  # type: ignore[arg-type]
                     open_timeout=timeout, close_timeout=2, max_size=_MAX_MESSAGE, ping_interval=None,
                     user_agent_header="cnnviz-warm-up") as ws:
            cs = ClientState(query_string=query, page_name=page)
            ci = cs.context_info
            ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
            ci.url = base + page + (f"?{query}" if query else "")
            msg = BackMsg()
            msg.rerun_script.CopyFrom(cs)
            ws.send(msg.SerializeToString())
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise WarmError(f"{name}: no finished run within {timeout:g} s")
                data = ws.recv(timeout=left)
                if isinstance(data, str):  # the protocol is binary only
                    continue
                fm = ForwardMsg()
                fm.ParseFromString(data)
                typ = fm.WhichOneof("type")
                if typ == "page_not_found":
                    raise WarmError(f"{name}: the server has no such page")
                if typ == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                        and fm.delta.new_element.WhichOneof("type") == "exception":
                    ex = fm.delta.new_element.exception
                    raise WarmError(f"{name}: the page raised {ex.type}: {ex.message}"[:300])
                if typ == "session_event" and fm.session_event.WhichOneof("type") == "script_compilation_exception":
                    raise WarmError(f"{name}: {fm.session_event.script_compilation_exception.message}"[:300])
                if typ != "script_finished":
                    continue
                status = fm.script_finished
                if status == finished.FINISHED_WITH_COMPILE_ERROR:
                    raise WarmError(f"{name}: the page did not compile")
                # another run follows (st.rerun), or a timer-driven fragment of the page ran: not ours
                if status == finished.FINISHED_SUCCESSFULLY and not fm.metadata.run.fragment_ids:
                    return time.perf_counter() - t0
    except TimeoutError:
        raise WarmError(f"{name}: no finished run within {timeout:g} s") from None
    except (OSError, WebSocketException) as err:
        raise WarmError(f"{name}: {type(err).__name__}: {err}"[:300]) from None


def warm(url: str, pages: tuple[str, ...] = PAGES, langs: tuple[str, ...] = LANGS,
         timeout: float = TIMEOUT_S) -> Report:
    """Every page of ``pages`` in every language of ``langs`` (all of the first language first),
    one session each, one after the other, within ``timeout`` s in all; stops at the first error."""
    t0 = time.perf_counter()
    done: list[tuple[str, float]] = []
    try:
        for lang in langs:
            for page in pages:
                left = timeout - (time.perf_counter() - t0)
                if left <= 0:
                    raise WarmError(f"{page_label(page, lang)}: no time left of {timeout:g} s")
                done.append((page_label(page, lang), load_page(url, page, lang, left)))
    except WarmError as err:
        return Report(url, False, tuple(done), time.perf_counter() - t0, str(err))
    return Report(url, True, tuple(done), time.perf_counter() - t0)


def warm_all(urls: list[str], timeout: float = TIMEOUT_S, pages: tuple[str, ...] = PAGES,
             langs: tuple[str, ...] = LANGS) -> list[Report]:
    """``warm`` every server at once (a thread each: a replica's imports run in its own process,
    so two replicas warm on two cores); reports in the order of ``urls``."""
    reports: dict[int, Report] = {}

    def one(i: int, url: str) -> None:
        try:
            reports[i] = warm(url, pages, langs, timeout)
        except Exception as err:  # noqa: BLE001 (a surprise in one server's warm-up is its report)
            reports[i] = Report(url, False, (), 0.0, f"{type(err).__name__}: {err}"[:300])

    threads = [threading.Thread(target=one, args=(i, u), daemon=True) for i, u in enumerate(urls)]
    for th in threads:
        th.start()
    end = time.monotonic() + timeout + 10  # each warm() bounds itself; this only guards a stuck thread
    for th in threads:
        th.join(max(0.0, end - time.monotonic()))
    return [reports.get(i, Report(u, False, (), timeout, f"no report within {timeout:g} s"))
            for i, u in enumerate(urls)]


def wait_healthy(url: str, timeout: float) -> bool:
    """Until ``url`` answers its health check (True), ``timeout`` passes or the process that
    started this one is gone (False: ``make run``'s server failed to start and its shell left)."""
    parent = os.getppid()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if healthy(url):
            return True
        if os.getppid() != parent:
            return False
        time.sleep(0.25)
    return False


def summary(report: Report, lang: str) -> str:
    """One report as the teacher reads it: "warmed in 6.1 s (home 3.21 s, explorer 1.40 s, ...)"."""
    from cnnviz.i18n import t

    pages = ", ".join(f"{p} {s:.2f} s" for p, s in report.pages)
    if report.ok:
        return t("warm.done", lang, secs=report.seconds, pages=pages)
    return t("warm.failed", lang, error=report.error, pages=pages or "–")


def main(argv: list[str] | None = None) -> int:
    from cnnviz import settings
    from cnnviz.i18n import t

    try:
        lang = settings.console_lang()
    except settings.SettingError:
        lang = "en"
    p = argparse.ArgumentParser(prog="python -m classroom.warm", description=t("warm.description", lang))
    p.add_argument("urls", nargs="+", metavar="URL", help=t("warm.h.urls", lang))
    p.add_argument("--timeout", type=float, default=TIMEOUT_S, help=t("warm.h.timeout", lang, secs=TIMEOUT_S))
    p.add_argument("--wait", type=float, default=0.0, metavar="S", help=t("warm.h.wait", lang))
    p.add_argument("--json", action="store_true", help=t("warm.h.json", lang))
    a = p.parse_args(argv)
    try:
        on = settings.warm_up()
    except settings.SettingError as err:
        print(t("warm.error", lang, err=err.render(lang)), file=sys.stderr)
        return 2
    if not on:
        if not a.json:
            print(t("warm.off", lang), flush=True)
        return 0
    if a.wait > 0:
        for url in a.urls:
            if not wait_healthy(url, a.wait):
                print(t("warm.no_server", lang, url=url, secs=a.wait), file=sys.stderr, flush=True)
                return 1
    reports = warm_all(list(a.urls), a.timeout)
    for r in reports:
        if a.json:
            print(r.to_json(), flush=True)
        elif r.ok:
            print(t("warm.ready", lang, url=r.url, summary=summary(r, lang)), flush=True)
        else:
            print(t("warm.not_ready", lang, url=r.url, summary=summary(r, lang)), flush=True)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
