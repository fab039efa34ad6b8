"""The app's side of the scheduler: the process-wide ``Scheduler``, who the student is, and
whether this session is the teacher's.

* ``scheduler()``: one ``cnnviz.runs.scheduler.Scheduler`` per server process and store
  (``st.cache_resource``; thread-safe). With ``streamlit run app.py`` alone it starts the
  worker pool itself; under ``make classroom`` the launcher runs one pool for all replicas
  (``CNNVIZ_POOL=external``).
* ``student()``: each browser is a student, identified by an unguessable token
  (``secrets.token_urlsafe``, 192 bits) kept in a cookie, so it survives a reload and a
  restarted server, and is never part of a URL (a shared link carries no identity). The
  cookie is read with ``st.context.cookies``; a browser without one gets a fresh token, which
  a one-line script (``st.sidebar.html``, drawn by ``keep_cookie`` on every run of that
  session) stores in the cookie. The store only ever sees a hash of it.
* ``member()`` / ``join_gate()``: who may start jobs (``cnnviz.runs.identity``). A session whose
  identity is not a member yet is admitted at its first start in an open class (rate-limited
  per ``client_address()``), or by the join form of ``join_gate`` when the class has a join
  code; a removed identity's session gets a fresh token when it joins again. The unlocked
  teacher's browser is always a member.
* ``teacher_key()`` / ``is_teacher()``: the key is ``$CNNVIZ_TEACHER_KEY``, else one generated
  when the server process starts and printed in its console (the classroom launcher generates
  one for all replicas and passes it in that variable); a key the teacher chose that is weak
  (``cnnviz.runs.guard.weak_key``) gets a WARNING in the console at start. A session becomes the
  teacher's by typing it on the teacher's page (``check_teacher_key``: through the store's
  ``KeyGuard``, which makes wrong keys wait longer and longer, per session and per client
  address, and records them), or by bringing the signed cookie ``cnnviz_teacher`` an unlock set
  in this browser (8 hours; set by a one-line script, as the student's; ``Lock`` deletes it).
  The client address (``client_address``) is the connection's peer, or behind the classroom's
  HAProxy on this machine (a loopback peer) the last ``X-Forwarded-For`` entry, the one HAProxy
  added (a client's own header comes before it).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import math
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator

import streamlit as st

from cnnviz import settings
from cnnviz.errors import CnnvizError
from cnnviz.i18n import t
from cnnviz.jobs import KINDS
from cnnviz.runs.guard import COOKIE_S, KeyGuard, Verdict, weak_key
from cnnviz.runs.scheduler import Scheduler
from cnnviz.settings import db_path
from ui.warm import is_warmup

COOKIE = "cnnviz_student"
_NEW_TOKEN = "_student_token_new"  # session state: the token was made here, not read from a cookie
TOKEN_KEY = "_student_token"  # session state: this session's raw token
TEACHER_KEY = "_teacher"  # session state: True once the key was typed (or a valid cookie brought)
TEACHER_COOKIE = "cnnviz_teacher"
_TEACHER_UNTIL = "_teacher_until"  # session state: the cookie's expiry, when it unlocked this session
_TEACHER_SET = "_teacher_cookie"  # session state: the cookie value to give the browser ("" : delete it)
_TEACHER_LOCKED = "_teacher_locked"  # session state: locked here; the cookie this session came with is ignored
_GUARD_SESSION = "_guard_session"  # session state: this session's id for the key guard
_JOINED = "_ident_joined"  # session state: the join form just admitted this session
TOUCH_EVERY_S = 15.0  # how often a session's "last seen" is written
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


@st.cache_resource(show_spinner=False)
def _scheduler(db: str) -> Scheduler:
    assert KINDS, "cnnviz.jobs registers every job kind this scheduler submits"
    return Scheduler(db)


def scheduler() -> Scheduler:
    """The process-wide scheduler of the current store (``$CNNVIZ_DB`` or the data folder's).
    Every page that reads it heals the pool: a stale heartbeat starts a new one (``Scheduler.heal``:
    one look every couple of seconds per process, shared by every session; nothing when it beats)."""
    sch = _scheduler(str(db_path()))
    sch.heal()
    return sch


@contextlib.contextmanager
def store_guard() -> Iterator[None]:
    """Around a page (``app.py``) and inside its polling fragments (``ui.board.poll``,
    ``ui.jobs.live``, whose errors Streamlit would show itself): a store that broke after it was
    opened (overwritten, truncated: ``sqlite3.DatabaseError``), cannot be opened (``StoreError``)
    or stays locked by another program past SQLite's wait shows its one message, in the reader's
    language, and the page stops there; the app and the pages that need no store stay up. A broken
    store's cached objects are dropped, so the first page view after the teacher mends it (or
    points ``CNNVIZ_DB`` elsewhere) opens it afresh."""
    from cnnviz.runs.busy import is_busy
    from cnnviz.runs.store import StoreError
    from ui.common import show_error

    try:
        yield
    except (StoreError, sqlite3.DatabaseError) as err:
        if is_busy(err):
            shown: CnnvizError = StoreError("store.busy", error=str(err.__cause__ or err))
        elif isinstance(err, StoreError):
            shown = err  # it names the file and the cause already
        else:
            # the words of a store that cannot be opened (``RunStore``): the same, whichever page or
            # session meets it first and whether its cached connection or a new one reads it
            shown = StoreError("train.runs.store_error", error=f"{db_path()}: {err}")
            forget_store()
        logging.getLogger("cnnviz.store").warning("a page stopped on the run store: %s", err)
        show_error(shown)
        st.stop()


def forget_store() -> None:
    """Drop this process's scheduler and key guard (their connections read a broken file): the
    next page view opens the store again, or says once more why it cannot."""
    _scheduler.clear()
    _key_guard.clear()


def page_scheduler() -> tuple[Scheduler, str]:
    """(the scheduler, this browser's student id) for a page that needs them; when the store
    cannot be opened (unwritable, not a database), the page shows that one message and stops,
    and the app stays alive."""
    from cnnviz.errors import CnnvizError
    from cnnviz.runs.scheduler import RunError
    from ui.common import show_error

    try:
        return scheduler(), student()
    except (CnnvizError, OSError) as err:
        show_error(err if isinstance(err, CnnvizError) else RunError("train.runs.store_error", error=str(err)))
        st.stop()
        raise  # st.stop() ends the script run; never reached


def _token() -> str:
    """This session's token: from the browser's cookie, or (none, or a forged/garbled one) a new one."""
    token = st.session_state.get(TOKEN_KEY)
    if token is None:
        try:
            token = st.context.cookies.get(COOKIE)
        except Exception:  # no browser context (a bare script run)
            token = None
        if not isinstance(token, str) or not _TOKEN_RE.match(token):
            token = secrets.token_urlsafe(24)
            st.session_state[_NEW_TOKEN] = True  # keep_cookie() gives it to the browser
        st.session_state[TOKEN_KEY] = token
    return token


def keep_cookie() -> None:
    """Called by app.py on every run, at one place in the sidebar: a session whose browser brought
    no valid cookie gets the script that sets it, on every run of the session. Drawn on its first
    run only, that element would shift every element after it on the next run, and Streamlit,
    whose browser cache knows elements by their place, would then send the whole page again
    (measured by bench/bench_results.py: ~98 kB on each student's first click)."""
    token = _token()
    if st.session_state.get(_NEW_TOKEN):
        _remember(token)


def student() -> str:
    """This browser's student id: a hash of its cookie token (see the module docstring)."""
    token = _token()
    sid = hashlib.sha256(token.encode()).hexdigest()[:24]
    last = st.session_state.get("_student_seen", 0.0)
    if time.time() - last > TOUCH_EVERY_S and not is_warmup():  # the warm-up is nobody
        st.session_state["_student_seen"] = time.time()
        try:
            scheduler().store.touch(sid)
        except Exception:  # a broken store is reported by the page that needs it
            pass
    return sid


def _identities():
    return scheduler().identities


def may_start() -> CnnvizError | None:
    """None when this session may start a job now (a member; or a visitor of an open class, who
    is admitted at its first start), else why not (``NotMember``: removed, or no code yet)."""
    from cnnviz.runs.identity import MEMBER, REMOVED, NotMember

    sid = student()
    ids = _identities()
    state = ids.state(sid)
    if state == MEMBER:
        return None
    if is_teacher():  # the unlocked teacher's browser: a member without code or limit
        ids.admit_teacher(sid)
        return None
    if state == REMOVED:
        return NotMember("ident.removed")
    return NotMember("ident.need_code") if ids.join_code() else None


def member() -> str:
    """This browser's student id, a member of the class: in an open class a visitor is admitted
    here, at its first start (``TooManyIdentities`` past its address's share); ``NotMember``
    otherwise (the scheduler refuses it anyway)."""
    why = may_start()
    if why is not None:
        raise why
    sid = student()
    _identities().admit(sid, client_address())
    return sid


def join(code: str | None) -> None:
    """Join the class with ``code`` (None: an open class). A removed identity joins under a new
    token (its old one never acts again); raises the identity errors."""
    from cnnviz.runs.identity import REMOVED

    ids = _identities()
    if ids.state(student()) == REMOVED:
        st.session_state[TOKEN_KEY] = secrets.token_urlsafe(24)
        st.session_state[_NEW_TOKEN] = True  # keep_cookie() gives the browser the new one
    ids.admit(student(), client_address(), code)


def join_gate(key: str) -> bool:
    """Whether this session may start jobs; if not, the reason and the join form (a code box when
    the class has a code, else one button: a removed browser joining again). A page draws it
    where a student would start something and disables its Start buttons when False."""
    from ui.common import show_error, tr

    why = may_start()
    if why is None:
        return True
    st.info(why.render(_lang()), icon=":material/group_add:")
    needs_code = bool(_identities().join_code())
    with st.form(f"{key}.join_form", border=False):
        c = st.columns([3, 1], vertical_alignment="bottom")
        given = c[0].text_input(tr("ident.join.code"), help=tr("ident.join.code.help"), key=f"{key}.join_code",
                                max_chars=64) if needs_code else None
        go = c[1 if needs_code else 0].form_submit_button(tr("ident.join.go" if needs_code else "ident.join.again"),
                                                         type="primary", icon=":material/login:")
    if go:
        try:
            join((given or "") if needs_code else None)
        except CnnvizError as err:
            show_error(err)
            return False
        st.session_state[_JOINED] = True
        st.rerun()
    return False


def joined_note() -> None:
    """The one-time "you joined" after the join form's rerun."""
    from ui.common import tr

    if st.session_state.pop(_JOINED, False):
        st.success(tr("ident.joined"), icon=":material/how_to_reg:")


def _lang() -> str:
    from ui.common import lang

    return lang()


def _remember(token: str) -> None:
    # a year; Strict: never sent by another site's request; the value is URL-safe base64
    script = f"document.cookie = '{COOKIE}={token}; path=/; max-age=31536000; SameSite=Strict';"
    st.sidebar.html(f"<script>{script}</script>", unsafe_allow_javascript=True, width="content")


def student_label(sid: str, names: dict[str, str], lang: str, me: str | None = None) -> str:
    """How a student appears on the boards: their chosen name, else a short code; "you" marked."""
    from cnnviz.runs.store import TEACHER

    if sid == TEACHER:
        return t("teacher.title", lang)
    base = names.get(sid) or t("student.anon", lang, code=sid[:4])
    return f"{base} ({t('board.you', lang)})" if me and sid == me else base


log = logging.getLogger("cnnviz.teacher")


@st.cache_resource(show_spinner=False)
def teacher_key() -> str:
    """``$CNNVIZ_TEACHER_KEY`` (a WARNING in the console when it is weak), else a key generated
    once for this server process and printed."""
    key = settings.teacher_key()
    if not key:
        key = secrets.token_urlsafe(9)
        print(t("teacher.key_printed", "en", key=key), flush=True)
        print(t("teacher.key_printed", "zh", key=key), flush=True)
    else:
        warn_weak_key(key)
    return key


def warn_weak_key(key: str) -> str | None:
    """Log a WARNING (both languages) when ``key`` is weak; the reason, or None."""
    from cnnviz.runs.guard import MIN_LEN

    why = weak_key(key)
    if why is not None:
        for lang in ("en", "zh"):
            log.warning(t("guard.weak_key", lang, why=t(f"guard.weak.{why}", lang, n=MIN_LEN), n=MIN_LEN))
    return why


@st.cache_resource(show_spinner=False)
def _key_guard(db: str) -> KeyGuard:
    return KeyGuard(db)


def key_guard() -> KeyGuard:
    """The process-wide guard of the teacher key, in the current store (shared by every replica)."""
    return _key_guard(str(db_path()))


def request_cookie(name: str) -> str | None:
    """The cookie ``name`` the browser sent when this session connected (None outside a browser)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser context (a bare script run)
        return None
    return value if isinstance(value, str) else None


def client_address() -> str:
    """Who is asking, for the key guard and the new-identity limit (see the module docstring):
    the peer's address, or behind a proxy on this machine (HAProxy, ``option forwardfor``) the
    last ``X-Forwarded-For`` entry, loopback or not; "" for a browser connected straight from
    this machine (the teacher's own) or none at all (a test), which the identity limit exempts."""
    try:
        peer = st.context.ip_address  # None for a loopback peer
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except Exception:
        return ""
    peer = _unmapped(peer) if isinstance(peer, str) else None
    if peer:
        return peer[:64]  # a direct connection: its own X-Forwarded-For could say anything
    if isinstance(forwarded, list) and forwarded and isinstance(forwarded[-1], str):
        return forwarded[-1].split(",")[-1].strip()[:64]
    return ""  # this machine, or no browser context (AppTest's client is a stand-in)


def _unmapped(peer: str) -> str | None:
    """``peer`` as an IPv4 address when it is one mapped into IPv6 (``streamlit run`` listens on
    ``::``, so this machine's 127.0.0.1 arrives as ``::ffff:127.0.0.1``); None for a loopback
    address, which Streamlit itself reports as None only in its plain forms."""
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return None if addr.is_loopback else str(addr)


def guard_session() -> str:
    """This session's id for the key guard (random, never shown whole)."""
    sid = st.session_state.get(_GUARD_SESSION)
    if sid is None:
        sid = st.session_state[_GUARD_SESSION] = secrets.token_hex(8)
    return sid


def key_wait_s() -> float:
    """Seconds before this session, from this address, may try a key again (0: now)."""
    return key_guard().wait_s(guard_session(), client_address())


def check_teacher_key(given: str) -> Verdict:
    """One try of the teacher key through the guard. Right: this session is the teacher's, and
    the browser gets a signed cookie (``keep_teacher_cookie``). An empty box is no try (nothing
    is counted) unless the session must wait anyway."""
    given = given.strip()
    if not given:
        wait = key_wait_s()
        return Verdict(False, wait == 0, wait, 0)
    verdict = key_guard().attempt(given, teacher_key(), guard_session(), client_address())
    if verdict.ok:
        st.session_state[TEACHER_KEY] = True
        st.session_state.pop(_TEACHER_LOCKED, None)
        st.session_state.pop(_TEACHER_UNTIL, None)
        st.session_state[_TEACHER_SET] = key_guard().sign(teacher_key())
    return verdict


def is_teacher() -> bool:
    """This session typed the key, or came with a valid, unexpired teacher cookie (and did not lock)."""
    if st.session_state.get(TEACHER_KEY):
        until = st.session_state.get(_TEACHER_UNTIL)
        if until is None or time.time() < until:
            return True
        st.session_state.pop(TEACHER_KEY, None)  # the cookie that unlocked this session has expired
        st.session_state.pop(_TEACHER_UNTIL, None)
        return False
    if st.session_state.get(_TEACHER_LOCKED):
        return False
    cookie = request_cookie(TEACHER_COOKIE)
    if not cookie:
        return False
    until = key_guard().verify(teacher_key(), cookie)
    if until is None:
        return False
    st.session_state[TEACHER_KEY] = True
    st.session_state[_TEACHER_UNTIL] = until
    return True


def lock_teacher() -> None:
    """This session is no longer the teacher's, and the browser's teacher cookie is deleted."""
    st.session_state.pop(TEACHER_KEY, None)
    st.session_state.pop(_TEACHER_UNTIL, None)
    st.session_state[_TEACHER_LOCKED] = True
    st.session_state[_TEACHER_SET] = ""


def keep_teacher_cookie() -> None:
    """Drawn by the teacher's page on every run: gives the browser the cookie an unlock signed
    (or deletes it after ``Lock``), with the same kind of one-line script as the student's.
    Strict: never sent by another site's request; the value is digits, hex and dots."""
    value = st.session_state.get(_TEACHER_SET)
    if value is None:
        return
    age = int(COOKIE_S) if value else 0
    script = f"document.cookie = '{TEACHER_COOKIE}={value}; path=/; max-age={age}; SameSite=Strict';"
    st.sidebar.html(f"<script>{script}</script>", unsafe_allow_javascript=True, width="content")


def wait_text(seconds: float) -> int:
    """A wait as the page says it: whole seconds, rounded up (never 0 while one is due)."""
    return max(1, math.ceil(seconds))
