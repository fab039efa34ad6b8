"""The class's address and the links to a run's view, and who counts as connected.

No Streamlit here (``ui.teach`` is the glue): everything is a pure function of what the page
read from its request, so it is tested without a browser.

* ``class_address``: the address students type or scan: scheme, host, port and the server's base
  path, never a page, a query or anything a student wrote. Taken from the teacher's own request
  (``st.context.url``, else its ``Host`` header), validated character by character; a loopback
  host (the teacher opened ``localhost`` on the projector's machine) is replaced by this
  machine's address on its network (``lan_ip``), which is what a student's device can reach.
  ``$CNNVIZ_CLASS_URL`` wins over all of it (a proxy with a public name, say).
* ``run_link``: a run's live view, ``<base>/training?run=<id>`` (a path: it works whatever host
  the reader came through), ``&present=1`` for the presenter view, ``&lang=zh`` kept.
* ``qr_png``: the address as a QR code (``segno``), PNG bytes, big modules for a projector.
* Connected: a session that has any page open touches the store every ``BEAT_S`` seconds
  (``ui.teach.heartbeat``, a timer in the sidebar), whether or not the student clicks; the
  teacher's page counts those seen within ``ONLINE_S``, so a closed tab drops out within it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

BEAT_S = 20.0  # an open page's heartbeat
ONLINE_S = 60.0  # connected: a heartbeat within this window (three beats: one lost beat drops nobody)

# a host name or IPv4 address, or a bracketed IPv6 address, and an optional port: nothing else
_NETLOC = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
                     r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
_BASE = re.compile(r"^[A-Za-z0-9._~/-]*$")  # Streamlit's server.baseUrlPath, as the teacher configured it
_RUN_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def valid_netloc(netloc: str) -> bool:
    """``host[:port]`` made only of what a host name, an IP address and a port may hold."""
    return len(netloc) <= 260 and bool(_NETLOC.match(netloc))


def base_path(base: str | None) -> str:
    """Streamlit's ``server.baseUrlPath`` as a URL prefix: "" or "/cnnviz" (no trailing slash)."""
    base = (base or "").strip("/")
    return "/" + base if base and _BASE.match(base) else ""


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_ip() -> str | None:
    """This machine's address on the network that leads elsewhere (the one a student's device
    reaches), or None. A UDP socket "connected" to a private address sends nothing: the system
    only picks the interface it would use."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if not ip or is_loopback(ip) or ip == "0.0.0.0" else ip


def class_address(url: str | None, host: str | None, base: str | None = "", override: str | None = None,
                  lan=lan_ip) -> tuple[str | None, bool]:
    """(the class's address, whether it still names this machine only).

    ``url``: the page's URL in the teacher's browser (``st.context.url``), else ``host``: its
    ``Host`` header (plain http); ``base``: ``server.baseUrlPath``; ``override``:
    ``$CNNVIZ_CLASS_URL`` (already validated by ``cnnviz.settings``), which wins. A loopback host
    becomes ``lan()``'s address (same port); when there is none the loopback address is kept and
    the second value is True (the page says to set ``CNNVIZ_CLASS_URL``). (None, False): nothing
    usable (no request context, or a Host header that is not a host)."""
    if override:
        return override.rstrip("/"), False
    scheme, netloc = "http", ""
    if url:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            scheme, netloc = parts.scheme, parts.netloc
    if not netloc and host:
        netloc = host.strip()
    if not netloc or not valid_netloc(netloc):
        return None, False
    hostname, _, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not hostname or (hostname.startswith("[") and not hostname.endswith("]")):  # no port: all of it is host
        hostname, port = netloc, ""
    local = False
    if is_loopback(hostname):
        ip = lan()
        if ip:
            hostname = ip
        else:
            local = True
    netloc = hostname + (":" + port if port else "")
    return f"{scheme}://{netloc}{base_path(base)}", local


def run_link(run_id: str, base: str | None = "", *, present: bool = False, lang: str = "en") -> str:
    """A run's live view on the training page, as a path: ``/training?run=<id>`` (after the base
    path), ``&present=1`` for the projector, ``&lang=zh`` when the reader reads Chinese."""
    if not _RUN_ID.match(run_id):  # run ids are letters and digits; anything else links nowhere
        raise ValueError(f"not a run id: {run_id!r}")
    link = f"{base_path(base)}/training?run={run_id}"
    if present:
        link += "&present=1"
    if lang != "en":
        link += f"&lang={lang}"
    return link


def qr_png(address: str, scale: int = 10) -> bytes:
    """``address`` as a QR code, PNG bytes (``scale`` pixels a module, a quiet zone of 2 modules:
    a 29-module code is about 330 px, readable across a room from a projector)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(address, error="m", micro=False).save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()
