"""The HAProxy side of the classroom: find the binary, render and validate its config, read its stats.

One frontend on the teacher's host:port, one backend with the K Streamlit replicas:

- ``balance leastconn``: a student's load is their websocket (one long connection per open
  tab, every script rerun travels over it), and leastconn counts open connections, so each
  newcomer goes to the replica holding the fewest students; in particular a replica that was
  just restarted (empty) takes the next arrivals instead of getting only its 1/K share.
- Stickiness by an inserted cookie, ``CNNVIZ_REPLICA=<server name>``: HAProxy adds it to the
  first response a browser gets (the page itself, before the page's script opens the
  websocket), so the websocket (``/_stcore/stream``), uploads (``/_stcore/upload_file/<session>``,
  which Streamlit only accepts on the replica holding that session) and media
  (``/media/...``, kept in the replica's memory) all reach the same replica. ``indirect``:
  sent once, stripped from the requests the replica sees; ``nocache``: a response that
  carries it is marked uncacheable; ``httponly``: page scripts never see it. Streamlit's
  XSRF check is a double submit (the ``_streamlit_xsrf`` cookie against the token the page
  sends), with no per-server secret, and the cookie path is ``/``: it travels with the
  stickiness cookie, so uploads pass the check behind the proxy too.
- Active health checks of ``GET /_stcore/health`` (200 only when the replica's runtime
  accepts browsers): every 2 s, down after 3 failures (1 s apart once one failed), up after
  2 successes (1 s apart while down). A cookie naming a replica that is down is ignored (no
  ``option persist``) and ``option redispatch 1`` retries a refused connection on another
  replica at once, so the students of a dead replica land on a live one, which gives them a
  new cookie.
- ``timeout tunnel 1h`` for the websockets once upgraded (Streamlit's server pings them
  every 30 s, ``server.websocketPingInterval``, so only a dead connection idles that long);
  ordinary HTTP timeouts for the rest.
- ``option forwardfor``: each request carries the student's address in ``X-Forwarded-For``
  (appended last, after any the browser sent), which the rate limit of new identities reads
  (``ui.sched.client_address``); the replicas see only the proxy's loopback address.
- ``http-response set-header X-Cnnviz-Replica %s``: every answer names the replica (the
  server name, as in the cookie) that served it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass

from cnnviz.i18n import t

COOKIE = "CNNVIZ_REPLICA"
HEADER = "X-Cnnviz-Replica"
BACKEND = "replicas"
INSTALL_HINT = "apt-get update && apt-get install -y haproxy"  # as root; Debian 12 ships 2.6
HEALTH_PATH = "/_stcore/health"

# health checks: (interval while up, interval after a failure, interval while down, rise, fall)
CHECK_INTER_S, CHECK_FASTINTER_S, CHECK_DOWNINTER_S, CHECK_RISE, CHECK_FALL = 2, 1, 1, 2, 3


@dataclass(frozen=True)
class Server:
    """One replica as HAProxy sees it: its name (also its cookie value) and its loopback address."""

    name: str
    host: str
    port: int


def find_haproxy() -> str | None:
    """The haproxy binary: on PATH, else where Debian puts it (``/usr/sbin`` is not on every user's PATH)."""
    found = shutil.which("haproxy")
    if found:
        return found
    for path in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy"):
        if os.access(path, os.X_OK):
            return path
    return None


def _addr(host: str, port: int) -> str:
    return f"ipv6@{host}:{port}" if ":" in host else f"{host}:{port}"


def render(servers: list[Server], bind_host: str, bind_port: int, stats_socket: str | None = None,
           balance: str = "leastconn") -> str:
    """The whole haproxy.cfg text for ``haproxy -f CFG -db`` (foreground, logs on stderr)."""
    if not servers:
        raise ValueError("at least one replica")
    lines = [
        "# cnnviz classroom: written by classroom/haproxy.py at each start; edits are lost.",
        "global",
        "    log stderr format raw local0 info",
        "    maxconn 4096",
    ]
    if stats_socket:
        lines.append(f"    stats socket {stats_socket} mode 600 level admin")
    lines += [
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlog-normal          # log failed requests only (and the health-check changes)",
        "    option log-health-checks",
        "    option forwardfor",
        "    option redispatch 1            # a refused connection is retried on another replica",
        "    retries 3",
        "    timeout connect 3s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout tunnel 1h              # websockets, once upgraded",
        "    timeout client-fin 10s",
        "    timeout http-request 15s",
        "    timeout http-keep-alive 15s",
        "    timeout queue 30s",
        "    timeout check 3s",
        "",
        "frontend classroom",
        f"    bind {_addr(bind_host, bind_port)}",
        f"    default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        f"    balance {balance}",
        f"    cookie {COOKIE} insert indirect nocache httponly attr SameSite=Lax",
        f"    option httpchk GET {HEALTH_PATH}",
        "    http-check expect status 200",
        f"    http-response set-header {HEADER} %s",
        (f"    default-server check inter {CHECK_INTER_S}s fastinter {CHECK_FASTINTER_S}s "
         f"downinter {CHECK_DOWNINTER_S}s rise {CHECK_RISE} fall {CHECK_FALL}"),
    ]
    lines += [f"    server {s.name} {_addr(s.host, s.port)} cookie {s.name}" for s in servers]
    return "\n".join(lines) + "\n"


def check(exe: str, cfg_path: str, timeout: float = 20.0, lang: str = "en") -> str | None:
    """``haproxy -c``: None when the config is valid, else HAProxy's own complaint (one line per problem)."""
    try:
        res = subprocess.run([exe, "-c", "-q", "-f", cfg_path], capture_output=True, text=True, timeout=timeout,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if res.returncode == 0:
        return None
    return (res.stderr or res.stdout).strip() or t("room.check_exit", lang, code=res.returncode)


def admin(stats_socket: str, command: str, timeout: float = 3.0) -> str:
    """One command on HAProxy's stats socket (``show stat``, ``show servers state``...), its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(stats_socket)
        s.sendall(command.strip().encode() + b"\n")
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def server_status(stats_socket: str) -> dict[str, str]:
    """``{server name: status}`` of the backend's servers ("UP", "DOWN", "UP 1/2", "MAINT"...)."""
    text = admin(stats_socket, "show stat").lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return {r["svname"]: r["status"] for r in rows
            if r.get("pxname") == BACKEND and r.get("svname") not in ("FRONTEND", "BACKEND")}
