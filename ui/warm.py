"""The app's side of the warm-up (``classroom.warm``): which session is it, and its marker.

A server is warmed by one real session per page before its class arrives; the session says so
in the ``classroom.warm.HEADER`` request header. That is believed only of a connection straight
from this machine (a loopback peer with no ``X-Forwarded-For``), never of one through the
classroom's proxy (HAProxy adds that header) or from another machine, so a student cannot pass
for the warm-up (a browser cannot add a header to its websocket either). The warm-up session then

* is not recorded as a student "seen" (``ui.sched.student``): the teacher's list is the class;
* leaves one line per page in the server's log, ``cnnviz warm-up: <page> (<lang>) ran in pid N``,
  printed after the page's script ran: the marker that tells the tests the replica itself did
  the work before the launcher said ready.
"""

from __future__ import annotations

import ipaddress
import os

import streamlit as st

from classroom.warm import HEADER


def is_warmup() -> bool:
    """This session is the warm-up's (see the module docstring)."""
    try:
        said = st.context.headers.get(HEADER)
        peer = st.context.ip_address  # None for 127.0.0.1 and ::1
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except Exception:  # no browser context (a bare script run, AppTest)
        return False
    return said == "1" and not forwarded and (peer is None or _loopback(peer))


def _loopback(peer: str) -> bool:
    """A loopback address, IPv4-mapped ones included: ``streamlit run`` without an address listens
    on ``::``, where a connection to 127.0.0.1 comes from ``::ffff:127.0.0.1``."""
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


def mark(page: str, lang: str) -> None:
    """After ``page`` ran (``app.py``): the warm-up's line in the server's log."""
    if is_warmup():
        print(f"cnnviz warm-up: {page or 'home'} ({lang}) ran in pid {os.getpid()}", flush=True)
