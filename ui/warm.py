"""The app's side of the warm-up (``classroom.warm``): which session is it, and its marker.

A server is warmed by one real session per page before its class arrives; the session says so
in the ``classroom.warm.HEADER`` request header. That is believed only of a connection straight
from this machine (``ui.sched.client_address`` is "": a loopback peer with no ``X-Forwarded-For``),
never of one through the classroom's proxy (HAProxy adds that header) or from another machine,
so a student cannot pass for the warm-up. The warm-up session then

* is not recorded as a student "seen" (``ui.sched.student``): the teacher's list is the class;
* leaves one line per page in the server's log, ``cnnviz warm-up: <page> (<lang>) ran in pid N``,
  printed after the page's script ran: the marker that tells the tests the replica itself did
  the work before the launcher said ready.
"""

from __future__ import annotations

import os

import streamlit as st

from classroom.warm import HEADER


def is_warmup() -> bool:
    """This session is the warm-up's (see the module docstring)."""
    try:
        said = st.context.headers.get(HEADER)
    except Exception:  # no browser context (a bare script run, AppTest)
        return False
    if said != "1":
        return False
    from ui.sched import client_address

    return client_address() == ""


def mark(page: str, lang: str) -> None:
    """After ``page`` ran (``app.py``): the warm-up's line in the server's log."""
    if is_warmup():
        print(f"cnnviz warm-up: {page or 'home'} ({lang}) ran in pid {os.getpid()}", flush=True)
