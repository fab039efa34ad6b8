"""One student as a real Streamlit browser session over the websocket, for load tests.

``Student`` speaks the protocol of the installed Streamlit's frontend (read from
``streamlit/proto`` and the bundled ``static/js``) with nothing but ``websockets`` and the
``streamlit.proto`` classes, so dozens of them fit in one asyncio loop::

    s = Student("http://127.0.0.1:8501", page="explorer", query="arch=lenet")
    await s.connect()                          # seconds to the first finished run
    await s.set_widget("explorer.bn", True)    # seconds from send to script_finished
    await s.close()

What it reproduces, and where the browser does it:

* **Page selection.** The first rerun carries the URL path relative to the base URL as
  ``page_name`` (``"explorer"`` for ``/explorer``; ``""`` for the default page) and an
  empty ``page_script_hash``; ``st.navigation`` resolves it against each ``st.Page``'s
  ``url_path``. Once the server names the page it ran (``navigation.page_script_hash``,
  else ``new_session.page_script_hash``), later reruns send that hash and an empty name.
  An unknown name gets a ``page_not_found`` message and the default page is run:
  ``page_not_found`` is then set and ``page`` names the page actually shown.
* **Query string.** Sent with every rerun; ``page_info_changed`` (the script wrote
  ``st.query_params``) replaces it, as the browser's address bar would.
* **Widget states.** A widget's value is recorded when its element arrives: the value the
  server sets (``set_value``) wins, else the value this session already holds, else the
  element's default. Every rerun sends all recorded states; a button's ``trigger_value``
  goes out once. After a finished full run, states of widgets no longer on the page are
  dropped (the frontend's ``removeInactiveWidgetState``).
* **ForwardMsg cache.** Deltas the server marks ``metadata.cacheable`` (≥ 10 kB new
  elements, e.g. plotly charts) are kept by hash, and every rerun lists the kept hashes in
  ``cached_message_hashes``; the server then sends only a ``ref_hash`` for those, which is
  resolved here. Entries expire after ``config.max_cached_message_age`` finished runs
  without use, as in the frontend's ``ForwardMessageCache``. ``cache=False`` turns the
  cache off (no hashes sent: the server always sends everything).
* **Cookies.** No proto carries them: a browser sends its cookies in the ``Cookie``
  header of the HTTP upgrade request, and the server reads them there (``st.context
  .cookies``, the XSRF cookie, the auth cookie). ``cookies`` go into that header;
  ``Set-Cookie`` values of the upgrade response (e.g. a proxy's sticky-session cookie) are
  in ``set_cookies`` and are merged into ``cookies`` for a later ``connect``. With
  ``preflight=True`` the client first GETs ``/_stcore/health`` like the frontend does (the
  XSRF cookie and any proxy cookie come from there) and passes the XSRF token as the
  second ``Sec-WebSocket-Protocol`` entry, as the frontend does.
* **Fragments.** A widget drawn inside a fragment reruns only that fragment
  (``fragment_id``), and the run ends with ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``.
  ``auto_rerun`` requests (``st.fragment(run_every=...)``) are recorded in
  ``auto_reruns``; ``rerun(fragment_id=...)`` sends one such run by hand.
* **Stateful tabs.** ``st.tabs(..., key=..., on_change="rerun")`` is a block holding a
  widget id (``tab_container.id``), not an element, so ``widgets()`` skips it: ``tabs()``
  lists such containers with their labels, and ``select_tab`` opens one of their tabs as a
  click does, a ``WidgetState`` with the tab's label, kept and sent with every later rerun
  while the container is on the page.
* **Uploads.** ``upload(key, name, data, mime)`` does what the browser's file uploader
  does: a ``file_urls_request`` BackMsg (one file name), the server's
  ``file_urls_response`` (a file id and an upload URL under ``/_stcore/upload_file/<session
  id>/<file id>``), an HTTP ``PUT`` of the bytes there as ``multipart/form-data`` (field name
  and file name the file's name) with the session's cookies and the XSRF token in
  ``X-Xsrftoken`` (so a proxy's sticky cookie takes it to the same replica), then a rerun
  whose widget state is a ``FileUploaderState`` naming the file. A refused PUT (413: over
  ``server.maxUploadSize``) raises ``StudentError`` and is kept in ``last_upload_status``.
* **Components v2.** A ``bidi_component`` element (``st.components.v2``; e.g. the drawing
  canvas) is a widget whose state is JSON (``json_value``): ``set_component(key, value)``
  sends ``value`` as the component's frontend would.
* **Forms.** ``set_widget(key, value, rerun=False)`` records a value without a rerun, as a
  widget inside ``st.form`` does until its submit button is pressed (``click``).
* **Pings.** Websocket ping frames are answered by ``websockets``; ``heartbeat()``
  sends the frontend's ``app_heartbeat`` and waits for ``heartbeat_ack``.

A closed connection (server gone, proxy timeout, send queue overflow) raises
``StudentError`` from whatever call is waiting, with the close code and reason.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Checkbox_pb2 import Checkbox
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

__all__ = ["Student", "StudentError", "TabsInfo", "WidgetInfo", "multipart_file"]

STREAM_PATH = "_stcore/stream"
CONTINUE_WAIT_S = 3.0  # how long a request with a body waits for "100 Continue" before sending it anyway (RFC 9110)
HEALTH_PATH = "_stcore/health"
XSRF_COOKIE = "_streamlit_xsrf"
_MAX_MESSAGE = 64 * 1024 * 1024  # a single ForwardMsg (a big chart) may exceed websockets' 1 MiB default

FINISHED_SUCCESSFULLY = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FINISHED_WITH_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR
FINISHED_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
FINISHED_FRAGMENT_RUN_SUCCESSFULLY = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY

_ID_RE = re.compile(r"^\$\$ID-([0-9a-f]+)-(.*)$", re.DOTALL)

# Element types that are widgets (have an ``id`` the server registers a state for).
_WIDGET_TYPES = {
    "button", "download_button", "checkbox", "selectbox", "radio", "slider", "number_input",
    "text_input", "text_area", "multiselect", "button_group", "color_picker", "date_input",
    "time_input", "date_time_input", "file_uploader", "camera_input", "audio_input", "chat_input",
    "feedback", "pagination", "menu_button", "plotly_chart", "dataframe", "vega_lite_chart",
    "deck_gl_json_chart", "echarts_chart", "bidi_component",
}
# Elements that are widgets only when they report selections (they always carry an id).
_SELECTION_TYPES = {"plotly_chart", "dataframe", "vega_lite_chart", "deck_gl_json_chart", "echarts_chart"}
# Widgets that send a one-shot trigger when pressed and hold no state between runs.
_TRIGGER_KINDS = {"button", "download_button"}


def multipart_file(name: str, data: bytes, mime: str) -> tuple[bytes, str]:
    """(body, Content-Type) of a ``multipart/form-data`` request holding one file, as the
    frontend's ``FormData.append(name, file, name)`` makes it: field name and file name both
    ``name`` (quotes and line breaks in it escaped as browsers do)."""
    boundary = "----cnnvizStudent" + secrets.token_hex(12)
    safe = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{safe}\"; filename=\"{safe}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode("ascii"), f"multipart/form-data; boundary={boundary}"


class StudentError(RuntimeError):
    """A session that cannot go on: connection refused or closed, a run that timed out, a
    widget this page does not show, a value the widget cannot take."""


@dataclass
class WidgetInfo:
    """A widget of the current page, as the browser knows it."""

    key: str | None          # the user key (``key=`` in the page), None for keyless widgets
    id: str                  # the full widget id, ``$$ID-<hash>-<key>``
    kind: str                # selectbox, radio, slider, select_slider, checkbox, toggle, number_input, button, ...
    label: str
    value: Any               # the value this session holds (option labels for choice widgets)
    options: list[str] | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    data_type: str | None = None   # INT/FLOAT for sliders and number inputs
    disabled: bool = False
    fragment_id: str | None = None
    delta_path: tuple[int, ...] = ()


@dataclass
class TabsInfo:
    """A stateful tab container of the current page (``st.tabs`` with ``key=`` and ``on_change``)."""

    key: str | None          # the user key (``key=`` in the page)
    id: str                  # the full widget id, ``$$ID-<hash>-<key>``
    labels: list[str]        # the tabs' labels, in order
    index: int               # the tab the server opens (its ``default_tab_index``)
    fragment_id: str | None = None
    delta_path: tuple[int, ...] = ()


@dataclass
class _Node:
    path: tuple[int, ...]
    kind: str                # element type, or "block:<type>"
    proto: Any               # Element or Block
    run_id: str
    fragment_id: str | None


@dataclass
class _Cached:
    raw: bytes
    run_count: int
    fragment_id: str | None


@dataclass
class _Waiter:
    future: asyncio.Future
    fragment_id: str | None
    saw_new_session: bool = False
    statuses: list[int] = field(default_factory=list)


def _split_id(widget_id: str) -> str | None:
    m = _ID_RE.match(widget_id)
    if not m:
        return None
    key = m.group(2)
    return None if key == "None" else key


def _kind_of(el_type: str, proto: Any) -> str:
    if el_type == "checkbox":
        return "toggle" if proto.type == Checkbox.StyleType.TOGGLE else "checkbox"
    if el_type == "slider":
        return "select_slider" if proto.type == Slider.Type.SELECT_SLIDER else "slider"
    return el_type


def _choice(options: list[str], value: Any, what: str) -> str:
    """An option label from: the label itself (``str(value)``: 4 picks the option "4"),
    else an index into the options (an int), else a unique case-insensitive label."""
    if isinstance(value, bool):
        raise StudentError(f"{what}: {value!r} is not one of {options}")
    text = str(value)
    if text in options:
        return text
    if isinstance(value, int):
        if 0 <= value < len(options):
            return options[value]
        raise StudentError(f"{what}: {value} is neither an option nor an index 0..{len(options) - 1}")
    folded = [o for o in options if o.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise StudentError(f"{what}: {value!r} is not one of {options}")


class Student:
    """One browser tab on a Streamlit app, driven over ``/_stcore/stream``."""

    def __init__(self, base_url: str, page: str = "", query: str = "", cookies: dict[str, str] | None = None,
                 timeout: float = 30.0, *, preflight: bool = False, cache: bool = True,
                 headers: dict[str, str] | None = None):
        parts = urllib.parse.urlsplit(base_url if "://" in base_url else "http://" + base_url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            raise StudentError(f"unsupported URL scheme in {base_url!r}")
        secure = parts.scheme in ("https", "wss")
        self._http_base = f"{'https' if secure else 'http'}://{parts.netloc}{parts.path.rstrip('/')}/"
        self._ws_url = f"{'wss' if secure else 'ws'}://{parts.netloc}{parts.path.rstrip('/')}/{STREAM_PATH}"
        self._origin = f"{'https' if secure else 'http'}://{parts.netloc}"
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or (443 if secure else 80)
        self.base_url = self._http_base
        self.page = page.strip("/")
        self.query = query.lstrip("?")
        self.cookies: dict[str, str] = dict(cookies or {})
        self.timeout = float(timeout)
        self.preflight = preflight
        self.cache_enabled = cache
        self.extra_headers = dict(headers or {})

        self.session_id: str | None = None
        self.response_headers: dict[str, str] = {}     # of the upgrade response (last value per name)
        self.set_cookies: list[str] = []                # raw Set-Cookie values: preflight, then upgrade
        self.exceptions: list[str] = []                 # every Exception element / compile error received
        self.page_not_found: str | None = None          # the page name the server did not find
        self.page_script_hash: str = ""
        self.main_script_hash: str = ""
        self.app_pages: list[dict[str, Any]] = []
        self.auto_reruns: dict[str, float] = {}        # fragment id → interval the server asked for
        self.max_cached_message_age = 2
        self.last_upload_status: int | None = None     # HTTP status of the last upload's PUT
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.closed_by_server = False

        # per-run measurements (reset by every rerun this client sends)
        self.last_run_bytes = 0
        self.last_run_deltas = 0
        self.last_run_messages = 0
        self.last_run_cache_hits = 0
        self.last_run_exceptions: list[str] = []
        self.last_run_status: int | None = None
        self.last_sent_bytes = 0
        # totals
        self.bytes_received = 0
        self.bytes_sent = 0
        self.messages_received = 0
        self.cache_hits = 0
        self.runs = 0

        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._nodes: dict[tuple[int, ...], _Node] = {}
        self._states: dict[str, WidgetState] = {}
        self._cache: dict[str, _Cached] = {}
        self._script_run_count = 0
        self._run_id = ""
        self._has_new_session = False
        self._waiter: _Waiter | None = None
        self._heartbeat: asyncio.Future | None = None
        self._file_urls: dict[str, asyncio.Future] = {}  # request id → the server's FileURLsResponse
        self._closed_error: StudentError | None = None
        self._closing = False

    # --- connection ---------------------------------------------------------------------
    async def connect(self) -> float:
        """Open the socket and load the page: the initial rerun with the page name and the
        query string, as a browser does on page load. Returns seconds until the run finished
        (socket open included)."""
        if self._ws is not None:
            raise StudentError("already connected")
        t0 = time.perf_counter()
        subprotocols = ["streamlit"]
        if self.preflight:
            await self._preflight()
            token = self.cookies.get(XSRF_COOKIE)
            if token:
                subprotocols.append(token)
        headers = dict(self.extra_headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self._ws = await ws_connect(
                self._ws_url, subprotocols=subprotocols, additional_headers=headers, origin=self._origin,
                open_timeout=self.timeout, close_timeout=2, max_size=_MAX_MESSAGE, ping_interval=None,
                user_agent_header="cnnviz-classroom-student",
            )
        except (TimeoutError, OSError, InvalidHandshake, InvalidURI) as e:
            raise StudentError(f"cannot open {self._ws_url}: {type(e).__name__}: {e}") from e
        resp = self._ws.response
        self.response_headers = {k: v for k, v in resp.headers.raw_items()}
        for raw in resp.headers.get_all("Set-Cookie"):
            self._take_cookie(raw)
        self._reader = asyncio.create_task(self._read_loop(), name="student-reader")
        return (time.perf_counter() - t0) + await self._rerun(page_name=self.page, fragment_id=None, initial=True)

    async def close(self) -> None:
        """Close the socket (the server ends the session after its TTL); never raises."""
        self._closing = True
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 5)
            except Exception:
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass
            self._reader = None

    async def __aenter__(self) -> Student:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._closed_error is None

    # --- actions ------------------------------------------------------------------------
    async def set_widget(self, key: str, value: Any, rerun: bool = True) -> float:
        """Change one widget (by user key or full id) and wait for the run it causes to
        finish. Every other widget keeps its value. Returns seconds from send to finish.
        ``rerun=False``: only record the value (0.0), as a widget in an ``st.form`` does; it
        goes out with the next rerun (the form's submit button: ``click``)."""
        info = self.widget(key)
        if info.kind in _TRIGGER_KINDS:
            if value is not True:
                raise StudentError(f"{key}: a {info.kind} only takes True (a click)")
            return await self.click(key)
        state = value if isinstance(value, WidgetState) else self._encode(info, value)
        state.id = info.id
        self._states[info.id] = state
        if not rerun:
            return 0.0
        return await self._rerun(fragment_id=info.fragment_id)

    async def set_component(self, key: str, value: Any) -> float:
        """Set a Components v2 element's state (``bidi_component``, by user key or full id) to
        ``value``, JSON-encoded as its frontend sends it (``json_value``; the drawing canvas:
        ``{"drawing": {"raw": ..., "data": "data:image/png;base64,..."}}``), and wait for the
        run. Returns seconds from send to finish."""
        info = self.widget(key)
        if info.kind != "bidi_component":
            raise StudentError(f"{key} is a {info.kind}, not a Components v2 element")
        self._states[info.id] = WidgetState(id=info.id, json_value=json.dumps(value))
        return await self._rerun(fragment_id=info.fragment_id)

    async def upload(self, key: str, name: str, data: bytes, mime: str = "application/octet-stream") -> float:
        """Put one file into the ``st.file_uploader`` ``key`` as the browser does (see the
        module docstring: URLs asked over the socket, an HTTP PUT, then the widget's state) and
        wait for the run. Returns seconds from asking for the URL to the run's end.
        ``StudentError`` when the server gives no URL or refuses the PUT (``last_upload_status``)."""
        info = self.widget(key)
        if info.kind != "file_uploader":
            raise StudentError(f"{key} is a {info.kind}, not a file uploader")
        if info.disabled:
            raise StudentError(f"{key} (file_uploader) is disabled")
        self._check_open()
        t0 = time.perf_counter()
        request_id = secrets.token_hex(8)
        fut = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = fut
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id or ""
        try:
            await self._send(msg)
            resp = await self._wait(fut, "file_urls_response")
        finally:
            self._file_urls.pop(request_id, None)
        if resp.error_msg or not resp.file_urls:
            raise StudentError(f"{key}: no upload URL: {resp.error_msg or 'empty file_urls_response'}")
        urls = resp.file_urls[0]
        self.last_upload_status = await self._put_file(urls.upload_url, name, data, mime)
        if not 200 <= self.last_upload_status < 300:
            raise StudentError(f"{key}: the upload PUT answered HTTP {self.last_upload_status}")
        state = WidgetState(id=info.id)
        state.file_uploader_state_value.uploaded_file_info.append(UploadedFileInfo(
            name=name, size=len(data), file_id=urls.file_id,
            file_urls=FileURLs(file_id=urls.file_id, upload_url=urls.upload_url, delete_url=urls.delete_url)))
        self._states[info.id] = state
        await self._rerun(fragment_id=info.fragment_id)
        return time.perf_counter() - t0

    async def click(self, key: str) -> float:
        """Press a button: a rerun carrying its ``trigger_value`` once."""
        info = self.widget(key)
        if info.kind not in _TRIGGER_KINDS:
            raise StudentError(f"{key} is a {info.kind}, not a button")
        trigger = WidgetState(id=info.id, trigger_value=True)
        return await self._rerun(fragment_id=info.fragment_id, triggers=[trigger])

    async def select_tab(self, key: str, label: str) -> float:
        """Open the tab ``label`` of the stateful tab container ``key`` (user key or full id), as a
        click on it does, and wait for the run it causes. The choice is sent again with every
        later rerun while the container is on the page. Returns seconds from send to finish."""
        info = self.tab_container(key)
        if label not in info.labels:
            raise StudentError(f"{key}: no tab {label!r}; tabs: {info.labels}")
        self._states[info.id] = WidgetState(id=info.id, string_value=label)
        return await self._rerun(fragment_id=info.fragment_id)

    async def rerun(self, fragment_id: str | None = None, is_auto_rerun: bool = False) -> float:
        """A rerun with the current widget states (the 'R' key), or of one fragment."""
        return await self._rerun(fragment_id=fragment_id, is_auto_rerun=is_auto_rerun)

    async def heartbeat(self) -> float:
        """The frontend's ``app_heartbeat``: seconds until ``heartbeat_ack``."""
        self._check_open()
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.create_future()
        t0 = time.perf_counter()
        await self._send(BackMsg(app_heartbeat=True))
        await self._wait(self._heartbeat, "heartbeat")
        return time.perf_counter() - t0

    # --- what the page shows ------------------------------------------------------------
    def widget_keys(self) -> list[str]:
        """User keys of the widgets on the current page, in page order."""
        return [w.key for w in self.widgets() if w.key is not None]

    def widgets(self) -> list[WidgetInfo]:
        """Every widget on the current page, in page order."""
        out = []
        for node in self._sorted_nodes():
            if node.kind in _WIDGET_TYPES:
                el_type = node.proto.WhichOneof("type")
                proto = getattr(node.proto, el_type)
                wid = getattr(proto, "id", "")
                if wid and (el_type not in _SELECTION_TYPES or wid in self._states or _split_id(wid)):
                    out.append(self._info(node, el_type, proto, wid))
        return out

    def widget(self, key: str) -> WidgetInfo:
        """The widget with this user key (or full id) on the current page."""
        for w in self.widgets():
            if w.key == key or w.id == key:
                return w
        raise StudentError(f"no widget {key!r} on page {self.page!r}; widgets: {self.widget_keys()}")

    def tabs(self) -> list[TabsInfo]:
        """Every stateful tab container on the current page, in page order (``st.tabs`` without
        a key holds no state and is not listed)."""
        nodes = self._sorted_nodes()
        out = []
        for node in nodes:
            if node.kind != "block:tab_container" or not node.proto.tab_container.id:
                continue
            box, path = node.proto.tab_container, node.path
            labels = [n.proto.tab.label for n in nodes
                      if n.kind == "block:tab" and len(n.path) == len(path) + 1 and n.path[:len(path)] == path]
            out.append(TabsInfo(_split_id(box.id), box.id, labels, box.default_tab_index, node.fragment_id, path))
        return out

    def tab_container(self, key: str) -> TabsInfo:
        """The stateful tab container with this user key (or full id) on the current page."""
        for info in self.tabs():
            if info.key == key or info.id == key:
                return info
        raise StudentError(f"no tab container {key!r} on page {self.page!r}; tab containers: "
                           f"{[info.key for info in self.tabs()]}")

    def elements(self, kind: str | None = None) -> list[Any]:
        """Element protos of the current page (of one type, e.g. ``"markdown"``), in order."""
        out = []
        for node in self._sorted_nodes():
            if node.kind.startswith("block:"):
                continue
            if kind is None or node.kind == kind:
                out.append(getattr(node.proto, node.kind))
        return out

    def texts(self) -> list[str]:
        """The readable text of the current page: headings, markdown, captions, alerts,
        metrics, widget labels and exception messages, in page order."""
        out: list[str] = []
        for node in self._sorted_nodes():
            if node.kind.startswith("block:"):
                blk = node.proto
                if blk.WhichOneof("type") == "tab":
                    out.append(blk.tab.label)
                continue
            p = getattr(node.proto, node.kind)
            if node.kind in ("heading", "markdown", "text", "alert"):
                out.append(p.body)
            elif node.kind == "metric":
                out.append(f"{p.label}: {p.body}")
            elif node.kind == "exception":
                out.append(f"{p.type}: {p.message}")
            elif node.kind == "code":
                out.append(p.code_text)
            elif isinstance(getattr(p, "label", None), str):
                out.append(p.label)
        return out

    def page_text(self) -> str:
        return "\n".join(self.texts())

    def alerts(self) -> list[tuple[str, str]]:
        """(format, body) of the st.error/warning/info/success boxes on the page."""
        from streamlit.proto.Alert_pb2 import Alert

        return [(Alert.Format.Name(a.format), a.body) for a in self.elements("alert")]

    @property
    def current_page(self) -> str | None:
        """The url path of the page the server ran last ("" for the default page), if known."""
        for p in self.app_pages:
            if p["page_script_hash"] == self.page_script_hash:
                return "" if p["is_default"] else p["url_pathname"]
        return None

    # --- internals: sending -------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed_error is not None:
            raise self._closed_error
        if self._ws is None:
            raise StudentError("not connected")

    async def _send(self, msg: BackMsg) -> int:
        data = msg.SerializeToString()
        try:
            await self._ws.send(data)
        except ConnectionClosed as e:
            raise self._closed(e) from e
        self.bytes_sent += len(data)
        return len(data)

    def _client_state(self, page_name: str, fragment_id: str | None, triggers: list[WidgetState],
                      is_auto_rerun: bool) -> ClientState:
        cs = ClientState(query_string=self.query, is_auto_rerun=is_auto_rerun)
        if self.page_script_hash:
            cs.page_script_hash = self.page_script_hash
        else:
            cs.page_name = page_name
        if fragment_id:
            cs.fragment_id = fragment_id
        cs.widget_states.widgets.extend(self._states.values())
        cs.widget_states.widgets.extend(triggers)
        if self.cache_enabled:
            cs.cached_message_hashes.extend(self._cache.keys())
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        path = page_name if not self.page_script_hash else (self.current_page or "")
        ci.url = self._http_base + path + (f"?{self.query}" if self.query else "")
        ci.is_embedded, ci.color_scheme = False, "light"
        return cs

    async def _rerun(self, page_name: str = "", fragment_id: str | None = None,
                     triggers: list[WidgetState] | None = None, is_auto_rerun: bool = False,
                     initial: bool = False) -> float:
        self._check_open()
        async with self._lock:
            if self._waiter is not None:  # pragma: no cover - the lock makes this impossible
                raise StudentError("a run is already awaited")
            loop = asyncio.get_running_loop()
            self._waiter = _Waiter(loop.create_future(), fragment_id)
            self.last_run_bytes = self.last_run_deltas = self.last_run_messages = self.last_run_cache_hits = 0
            self.last_run_exceptions = []
            self.last_run_status = None
            msg = BackMsg()
            msg.rerun_script.CopyFrom(self._client_state(page_name, fragment_id, triggers or [], is_auto_rerun))
            self._has_new_session = False
            t0 = time.perf_counter()
            try:
                self.last_sent_bytes = await self._send(msg)
                await self._wait(self._waiter.future, "initial run" if initial else "rerun")
            finally:
                self._waiter = None
            self.runs += 1
            return time.perf_counter() - t0

    async def _wait(self, fut: asyncio.Future, what: str) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.timeout)
        except TimeoutError:
            raise StudentError(f"timeout: no end of {what} within {self.timeout:g} s") from None

    # --- internals: receiving -----------------------------------------------------------
    def _closed(self, exc: ConnectionClosed) -> StudentError:
        """The error for a send on a closed socket."""
        return self._closed_ws(self._ws, exc)

    def _closed_ws(self, ws: Any, exc: ConnectionClosed | None = None) -> StudentError:
        """Record how the socket closed (code, reason, which side) and the error every
        later call raises."""
        if self._closed_error is None:
            proto = getattr(ws, "protocol", None)
            rcvd = getattr(proto, "close_rcvd", None) or (exc.rcvd if exc else None)
            sent = getattr(proto, "close_sent", None) or (exc.sent if exc else None)
            rcvd_first = getattr(proto, "close_rcvd_then_sent", None)
            frame = rcvd or sent
            self.close_code = frame.code if frame else None
            self.close_reason = frame.reason if frame else ""
            # The server closed it, or the connection dropped without a close handshake.
            self.closed_by_server = not self._closing and (rcvd_first is not False)
            if frame is None:
                detail = "no close frame: the connection dropped"
            else:
                detail = f"code {frame.code}" + (f", {frame.reason}" if frame.reason else "")
            who = "by the server" if self.closed_by_server else "by the client" if self._closing else ""
            self._closed_error = StudentError(f"connection closed {who} ({detail})".replace("  ", " "))
        return self._closed_error

    def _fail_waiters(self, err: StudentError) -> None:
        for fut in (self._waiter.future if self._waiter else None, self._heartbeat, *self._file_urls.values()):
            if fut is not None and not fut.done():
                fut.set_exception(err)

    async def _read_loop(self) -> None:
        ws = self._ws
        try:
            async for data in ws:
                if isinstance(data, str):  # the protocol is binary only
                    continue
                self._on_bytes(data)
            self._fail_waiters(self._closed_ws(ws))
        except ConnectionClosed:
            self._fail_waiters(self._closed_ws(ws))
        except asyncio.CancelledError:
            self._fail_waiters(self._closed_error or StudentError("connection closed by the client"))
            raise
        except Exception as e:  # a protocol surprise: surface it to whoever waits
            err = StudentError(f"cannot handle a message: {type(e).__name__}: {e}")
            self._closed_error = err
            self._fail_waiters(err)

    def _on_bytes(self, data: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(data)
        self.bytes_received += len(data)
        self.messages_received += 1
        self.last_run_bytes += len(data)
        self.last_run_messages += 1
        typ = msg.WhichOneof("type")
        if typ == "ref_hash":
            entry = self._cache.get(msg.ref_hash)
            if entry is None:
                raise StudentError(f"cached ForwardMsg miss for hash {msg.ref_hash}")
            entry.run_count = self._script_run_count
            real = ForwardMsg()
            real.ParseFromString(entry.raw)
            real.metadata.CopyFrom(msg.metadata)
            self.cache_hits += 1
            self.last_run_cache_hits += 1
            msg, typ = real, real.WhichOneof("type")
        elif self.cache_enabled and msg.metadata.cacheable and msg.hash and msg.hash not in self._cache:
            frag = msg.delta.fragment_id if typ == "delta" and msg.delta.fragment_id else None
            self._cache[msg.hash] = _Cached(data, self._script_run_count, frag)
        handler = getattr(self, f"_on_{typ}", None)
        if handler is not None:
            handler(msg)

    def _on_new_session(self, msg: ForwardMsg) -> None:
        ns = msg.new_session
        if ns.initialize.session_id:
            self.session_id = ns.initialize.session_id
        self.main_script_hash = ns.main_script_hash or self.main_script_hash
        if ns.page_script_hash:
            self.page_script_hash = ns.page_script_hash
        if ns.HasField("config"):
            self.max_cached_message_age = ns.config.max_cached_message_age
        if ns.app_pages:
            self.app_pages = [self._page(p) for p in ns.app_pages]
        self._run_id = msg.metadata.run.script_run_id
        self._has_new_session = True
        if self._waiter is not None:
            self._waiter.saw_new_session = True

    @staticmethod
    def _page(p: Any) -> dict[str, Any]:
        return {"page_script_hash": p.page_script_hash, "page_name": p.page_name, "url_pathname": p.url_pathname,
                "is_default": p.is_default, "section": p.section_header}

    def _on_navigation(self, msg: ForwardMsg) -> None:
        nav = msg.navigation
        self.app_pages = [self._page(p) for p in nav.app_pages]
        if nav.page_script_hash:
            self.page_script_hash = nav.page_script_hash

    def _on_page_not_found(self, msg: ForwardMsg) -> None:
        self.page_not_found = msg.page_not_found.page_name or self.page or ""
        self.page_script_hash = self.main_script_hash

    def _on_page_info_changed(self, msg: ForwardMsg) -> None:
        self.query = msg.page_info_changed.query_string

    def _on_auto_rerun(self, msg: ForwardMsg) -> None:
        self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval

    def _on_stop_auto_rerun(self, msg: ForwardMsg) -> None:
        self.auto_reruns.clear()

    def _on_file_urls_response(self, msg: ForwardMsg) -> None:
        fut = self._file_urls.get(msg.file_urls_response.response_id)
        if fut is not None and not fut.done():
            fut.set_result(msg.file_urls_response)

    def _on_heartbeat_ack(self, msg: ForwardMsg) -> None:
        if self._heartbeat is not None and not self._heartbeat.done():
            self._heartbeat.set_result(True)

    def _on_session_event(self, msg: ForwardMsg) -> None:
        ev = msg.session_event
        if ev.WhichOneof("type") == "script_compilation_exception":
            text = f"{ev.script_compilation_exception.type}: {ev.script_compilation_exception.message}"
            self.exceptions.append(text)
            self.last_run_exceptions.append(text)

    def _on_delta(self, msg: ForwardMsg) -> None:
        self.last_run_deltas += 1
        d = msg.delta
        path = tuple(msg.metadata.delta_path)
        frag = d.fragment_id or None
        dt = d.WhichOneof("type")
        if dt == "new_element":
            el = d.new_element
            el_type = el.WhichOneof("type")
            if el_type is None:
                return
            self._nodes[path] = _Node(path, el_type, el, self._run_id, frag)
            if el_type == "exception":
                text = f"{el.exception.type}: {el.exception.message}"
                self.exceptions.append(text)
                self.last_run_exceptions.append(text)
            proto = getattr(el, el_type)
            wid = getattr(proto, "id", "") if el_type in _WIDGET_TYPES else ""
            if wid and el_type not in _TRIGGER_KINDS:
                self._record_state(el_type, proto, wid)
        elif dt == "add_block":
            blk = d.add_block
            self._nodes[path] = _Node(path, f"block:{blk.WhichOneof('type')}", blk, self._run_id, frag)
        elif dt == "new_transient":
            pass  # spinners and toasts between elements: nothing a student reads

    def _on_script_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        run = msg.metadata.run
        frag_ids = list(run.fragment_ids)
        is_fragment_run = status == FINISHED_FRAGMENT_RUN_SUCCESSFULLY or bool(frag_ids)
        # Streamlit names the finished run; if it ever does not, it is the latest one started.
        run_id = run.script_run_id if msg.metadata.HasField("run") else self._run_id
        if status in (FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            self._clear_stale(run_id, frag_ids)
        if status != FINISHED_EARLY_FOR_RERUN and self._has_new_session:
            self._expire_cache(frag_ids)
        w = self._waiter
        if w is None or w.future.done():
            return
        w.statuses.append(status)
        if status == FINISHED_EARLY_FOR_RERUN:
            return  # another run follows (the script called st.rerun, or the page changed mode)
        if w.fragment_id is None and is_fragment_run:
            return  # a timer-driven fragment run of the page, not ours
        if w.fragment_id is not None and status == FINISHED_FRAGMENT_RUN_SUCCESSFULLY and frag_ids \
                and w.fragment_id not in frag_ids:
            return
        self.last_run_status = status
        if status == FINISHED_WITH_COMPILE_ERROR:
            self.last_run_exceptions.append("compile error")
        w.future.set_result(status)

    # --- internals: state ---------------------------------------------------------------
    def _sorted_nodes(self) -> list[_Node]:
        return [self._nodes[p] for p in sorted(self._nodes)]

    def _clear_stale(self, run_id: str, fragment_ids: list[str]) -> None:
        """The frontend's ``clearStaleNodes``: after a full run, drop what it did not draw;
        after a fragment run, drop what those fragments did not draw again."""
        if not fragment_ids:
            stale = [p for p, n in self._nodes.items() if n.run_id != run_id]
        else:
            stale = [p for p, n in self._nodes.items() if n.fragment_id in fragment_ids and n.run_id != run_id]
        for p in stale:
            del self._nodes[p]
        if not fragment_ids:
            active = {w.id for w in self.widgets()} | {t.id for t in self.tabs()}
            for wid in [w for w in self._states if w not in active]:
                del self._states[wid]

    def _expire_cache(self, fragment_ids: list[str]) -> None:
        """``ForwardMessageCache.incrementRunCount``."""
        self._script_run_count += 1
        for h, entry in list(self._cache.items()):
            if fragment_ids and (entry.fragment_id is None or entry.fragment_id not in fragment_ids):
                continue
            if self._script_run_count - entry.run_count > self.max_cached_message_age:
                del self._cache[h]

    def _record_state(self, el_type: str, proto: Any, wid: str) -> None:
        """What the widget's component does on mount and on ``set_value``."""
        current = self._states.get(wid)
        if getattr(proto, "set_value", False) or current is None:
            state = self._proto_state(el_type, proto, current=bool(getattr(proto, "set_value", False)))
            if state is not None:
                state.id = wid
                self._states[wid] = state

    @staticmethod
    def _proto_state(el_type: str, p: Any, current: bool) -> WidgetState | None:
        """The WidgetState a widget holds from its element: its set value or its default."""
        s = WidgetState()
        if el_type == "checkbox":
            s.bool_value = p.value if current else p.default
        elif el_type in ("selectbox", "radio"):
            if current:
                if not p.HasField("raw_value"):
                    return None
                s.string_value = p.raw_value
            else:
                if not p.HasField("default") or not p.options:
                    return None
                s.string_value = p.options[p.default]
        elif el_type == "slider":
            if p.type == Slider.Type.SELECT_SLIDER:
                labels = list(p.raw_value) if current and p.raw_value else [p.options[int(i)] for i in p.default
                                                                         if 0 <= int(i) < len(p.options)]
                s.string_array_value.data.extend(labels)
            else:
                s.double_array_value.data.extend(list(p.value) if current and p.value else list(p.default))
        elif el_type == "number_input":
            v = p.value if current and p.HasField("value") else (p.default if p.HasField("default") else None)
            if v is None:
                return None
            if p.data_type == NumberInput.DataType.INT:
                s.int_value = int(v)
            else:
                s.double_value = float(v)
        elif el_type in ("text_input", "text_area"):
            v = p.value if current and p.HasField("value") else (p.default if p.HasField("default") else None)
            if v is None:
                return None
            s.string_value = v
        elif el_type == "multiselect":
            s.string_array_value.data.extend(list(p.raw_values) if current else [p.options[i] for i in p.default])
        elif el_type == "button_group":
            labels = [o.content for o in p.options]
            s.string_array_value.data.extend(list(p.raw_values) if current else
                                             [labels[i] for i in p.default if i < len(labels)])
        else:
            return None  # charts with selections, uploaders, pickers: no state until used
        return s

    def _info(self, node: _Node, el_type: str, p: Any, wid: str) -> WidgetInfo:
        kind = _kind_of(el_type, p)
        info = WidgetInfo(key=_split_id(wid), id=wid, kind=kind, label=getattr(p, "label", ""),
                          value=None, disabled=bool(getattr(p, "disabled", False)),
                          fragment_id=node.fragment_id, delta_path=node.path)
        state = self._states.get(wid)
        which = state.WhichOneof("value") if state is not None else None
        if el_type in ("selectbox", "radio", "multiselect"):
            info.options = list(p.options)
        if el_type == "button_group":
            info.options = [o.content for o in p.options]
        if el_type == "slider":
            info.min, info.max, info.step = p.min, p.max, p.step
            info.data_type = Slider.DataType.Name(p.data_type)
            if kind == "select_slider":
                info.options = list(p.options)
        if el_type == "number_input":
            info.min = p.min if p.has_min else None
            info.max = p.max if p.has_max else None
            info.step = p.step
            info.data_type = NumberInput.DataType.Name(p.data_type)
        if which is None:
            info.value = False if kind in _TRIGGER_KINDS else None
        elif which in ("double_array_value", "string_array_value"):
            vals = list(getattr(state, which).data)
            # a select_slider's state is its option labels (strings, "0.9"), whatever its data type
            if el_type == "slider" and info.data_type == "INT" and which == "double_array_value":
                vals = [int(v) for v in vals]
            if el_type in ("multiselect", "button_group"):
                info.value = vals
            else:
                info.value = vals[0] if len(vals) == 1 else tuple(vals)
        else:
            info.value = getattr(state, which)
        return info

    def _encode(self, info: WidgetInfo, value: Any) -> WidgetState:
        """The WidgetState the browser would send for ``value``."""
        s = WidgetState(id=info.id)
        what = f"{info.key or info.id} ({info.kind})"
        if info.disabled:
            raise StudentError(f"{what} is disabled")
        if info.kind in ("checkbox", "toggle"):
            if not isinstance(value, bool):
                raise StudentError(f"{what}: needs True/False, got {value!r}")
            s.bool_value = value
        elif info.kind in ("selectbox", "radio"):
            s.string_value = _choice(info.options or [], value, what)
        elif info.kind == "select_slider":
            vals = value if isinstance(value, (tuple, list)) else [value]
            s.string_array_value.data.extend(_choice(info.options or [], v, what) for v in vals)
        elif info.kind == "slider":
            vals = value if isinstance(value, (tuple, list)) else [value]
            for v in vals:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise StudentError(f"{what}: needs a number, got {v!r}")
                if not (info.min <= v <= info.max):
                    raise StudentError(f"{what}: {v} outside [{info.min:g}, {info.max:g}]")
            s.double_array_value.data.extend(float(v) for v in vals)
        elif info.kind == "number_input":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise StudentError(f"{what}: needs a number, got {value!r}")
            if (info.min is not None and value < info.min) or (info.max is not None and value > info.max):
                raise StudentError(f"{what}: {value} outside [{info.min}, {info.max}]")
            if info.data_type == "INT":
                s.int_value = int(value)
            else:
                s.double_value = float(value)
        elif info.kind in ("text_input", "text_area"):
            s.string_value = str(value)
        elif info.kind in ("multiselect", "button_group"):
            vals = value if isinstance(value, (tuple, list)) else [value]
            s.string_array_value.data.extend(_choice(info.options or [], v, what) for v in vals)
        else:
            raise StudentError(f"{what}: setting this kind of widget is not supported; pass a WidgetState")
        return s

    # --- internals: cookies -------------------------------------------------------------
    def _take_cookie(self, raw: str) -> None:
        self.set_cookies.append(raw)
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:
            name, _, rest = raw.partition("=")
            if name.strip():
                self.cookies[name.strip()] = rest.split(";", 1)[0].strip()
            return
        for name, morsel in jar.items():
            self.cookies[name] = morsel.value

    async def _put_file(self, url: str, name: str, data: bytes, mime: str) -> int:
        """PUT ``data`` to ``url`` (absolute path, or relative to the base URL) as the frontend's
        upload client does; the HTTP status."""
        path = url if url.startswith("/") else urllib.parse.urlsplit(self._http_base).path + url
        body, ctype = multipart_file(name, data, mime)
        lines = [f"PUT {path} HTTP/1.1", f"Origin: {self._origin}", f"Content-Type: {ctype}",
                 f"Content-Length: {len(body)}"]
        token = self.cookies.get(XSRF_COOKIE)
        if token:
            lines.append(f"X-Xsrftoken: {token}")
        head = await self._http(lines, body, f"upload to {path}")
        status_line = head.decode("latin-1").split("\r\n", 1)[0]
        try:
            return int(status_line.split()[1])
        except (IndexError, ValueError):
            raise StudentError(f"{path}: not an HTTP answer: {status_line!r}") from None

    async def _http(self, lines: list[str], body: bytes, what: str) -> bytes:
        """One HTTP/1.1 request (``lines``: the request line and its own headers; the host, the
        connection, the user agent and the cookies are added here) on a connection of its own;
        the answer's head. A server that refuses by ``Content-Length`` and closes while the body
        is still going out (413) is still heard."""
        lines = [lines[0], f"Host: {self._host}:{self._port}", "Connection: close",
                 "User-Agent: cnnviz-classroom-student", "Accept: */*", *lines[1:]]
        if body:  # as curl does: the server may refuse on the headers (413), before any body is sent
            lines.append("Expect: 100-continue")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            ssl = self._http_base.startswith("https") or None
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self._host, self._port, ssl=ssl),
                                                    self.timeout)
            try:
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
                await asyncio.wait_for(writer.drain(), self.timeout)
                if not body:
                    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
                try:  # "100 Continue", or the final answer; a server that says neither gets the body anyway
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CONTINUE_WAIT_S)
                except TimeoutError:
                    head = b""
                if head and b" 100 " not in head.split(b"\r\n", 1)[0] + b" ":
                    return head  # refused on the headers: the body never goes out
                try:
                    writer.write(body)
                    await asyncio.wait_for(writer.drain(), self.timeout)
                except (ConnectionResetError, BrokenPipeError):
                    pass  # it answered and closed while the body was going out: its answer may still be read
                return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            finally:
                writer.close()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            raise StudentError(f"cannot {what}: {type(e).__name__}: {e}") from e

    async def _preflight(self) -> None:
        """GET /_stcore/health as the frontend does before opening the socket; keep its
        cookies (Streamlit's XSRF cookie, a proxy's sticky cookie)."""
        path = urllib.parse.urlsplit(self._http_base).path + HEALTH_PATH
        head = await self._http([f"GET {path} HTTP/1.1"], b"", f"reach {self._http_base}{HEALTH_PATH}")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        if " 200 " not in status_line + " ":
            raise StudentError(f"{HEALTH_PATH} answered {status_line!r}")
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "set-cookie":
                self._take_cookie(value.strip())
