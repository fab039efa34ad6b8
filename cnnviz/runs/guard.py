"""The teacher key, guarded: wrong keys slowed down and recorded, an unlocked browser remembered
by a signed cookie, and a weak key the teacher chose reported at start.

Torch-free and Streamlit-free: the app's glue (``ui.sched``) passes the session and the client
address in; the classroom launcher calls ``weak_key`` before anything starts.

Slowing down (``KeyGuard.attempt``). Each wrong key counts against two subjects, the session
("s:<id>") and the client address ("a:<ip>"), kept in the run store's SQLite file (tables
``key_guard`` and ``key_failures``), so every replica of ``make classroom`` shares them. After a
subject's ``FREE`` first failures, its n-th further one makes it wait ``BASE_S·2^(n-1)`` seconds,
at most ``MAX_S`` (3 free, then 0.5 s, 1, 2, 4, 8, 16, 30, 30 ...: a teacher's typo costs
nothing, 300 guesses from one address take about two and a half hours). A subject quiet for
``FORGET_S`` starts again from zero; a right key clears the session's and the address's count.
An attempt before the later of the two subjects' "next allowed" time is refused WITHOUT
looking at the key (so a right key typed during the wait does not get in, and a guess there
reveals nothing); its wait is returned for the page to say. Nothing sleeps: the Streamlit script
returns at once. The check and the update are one IMMEDIATE transaction: three websockets
guessing at once are serialised, the second sees the first's failure.

Recording: each failure is logged (``logging``, WARNING: time, address, session prefix, and the
guess's length, never the guess) and kept a day in ``key_failures`` for the teacher's page
(``failures``).

The cookie (``sign``/``verify``): ``"<expiry>.<nonce>.<HMAC-SHA256 hex>"``, signed with a secret
derived from the key and a random salt stored once in the store (so changing the key invalidates
every cookie, and a cookie alone cannot be used to test guesses of the key offline). Valid for
``COOKIE_S`` (8 hours: a day of lessons); compared with ``hmac.compare_digest``.

Weak keys (``weak_key``): under 12 characters, a common word or password (a small built-in
list: no download), such a word with digits or symbols around it or in leetspeak
("P@ssw0rd1"), words of the list run together, a keyboard or alphabet run, or a single
lowercase word. The key the app or the launcher generates (``secrets.token_urlsafe(9)``, 72 bits)
passes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pathlib
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

FREE = 3  # failures of one subject before any wait
BASE_S = 0.5  # the first wait; doubled with each further failure
MAX_S = 30.0  # the longest wait between two tries
FORGET_S = 15 * 60.0  # a subject with no failure for this long starts again from zero
KEEP_S = 24 * 3600.0  # failures shown on the teacher's page
COOKIE_S = 8 * 3600.0  # an unlocked browser stays unlocked this long
MIN_LEN = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS key_guard (
    subject TEXT PRIMARY KEY, fails INTEGER NOT NULL, last REAL NOT NULL, next_ok REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS key_failures (
    at REAL NOT NULL, addr TEXT NOT NULL, session TEXT NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS key_failures_at ON key_failures (at);
CREATE TABLE IF NOT EXISTS key_secret (id INTEGER PRIMARY KEY CHECK (id = 1), salt TEXT NOT NULL);
"""


def wait_after(fails: int, base_s: float = BASE_S, max_s: float = MAX_S, free: int = FREE) -> float:
    """Seconds a subject waits after its ``fails``-th failure in a row (0 for the free ones)."""
    if fails <= free:
        return 0.0
    return min(max_s, base_s * 2.0 ** min(fails - free - 1, 30))


@dataclass(frozen=True)
class Verdict:
    """What became of one attempt."""

    ok: bool  # the right key: unlock
    checked: bool  # False: refused before its time, the key not even compared
    wait_s: float  # seconds until the next try is allowed (0: now)
    fails: int  # failures in a row now counted against the stricter of the two subjects


@dataclass(frozen=True)
class Failure:
    """One wrong key, as the teacher's page lists it."""

    at: float
    addr: str
    session: str  # a prefix of the session's id: enough to tell tabs apart
    length: int  # the guess's length; the guess itself is never kept


class KeyGuard:
    """Attempts at the teacher key, in the run store file ``db`` (see the module docstring).
    Thread-safe; one per process and store is enough."""

    def __init__(self, db: pathlib.Path | str, *, free: int = FREE, base_s: float = BASE_S, max_s: float = MAX_S,
                 forget_s: float = FORGET_S, clock: Callable[[], float] = time.time):
        self.path = pathlib.Path(db)
        self.free, self.base_s, self.max_s, self.forget_s, self.clock = free, base_s, max_s, forget_s, clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30.0, isolation_level=None)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _tx(self):
        return _Immediate(self._conn)

    def _state(self, subject: str, now: float) -> tuple[int, float]:
        """(failures in a row, next allowed time) of ``subject``; forgotten after ``forget_s`` of quiet."""
        row = self._conn.execute("SELECT fails, last, next_ok FROM key_guard WHERE subject=?", (subject,)).fetchone()
        if row is None or now - row[1] >= self.forget_s:
            return 0, 0.0
        return int(row[0]), float(row[2])

    def wait_s(self, session: str, addr: str) -> float:
        """Seconds before this session, from this address, may try again (0: now)."""
        now = self.clock()
        with self._lock:
            nxt = max(self._state(_s(session), now)[1], self._state(_a(addr), now)[1])
        return max(0.0, nxt - now)

    def attempt(self, given: str, key: str, session: str, addr: str) -> Verdict:
        """One try of ``given`` against ``key`` by ``session`` from ``addr``: refused unchecked
        before its time; else compared in constant time, a failure counted, recorded and logged."""
        now = self.clock()
        subjects = (_s(session), _a(addr))
        with self._lock, self._tx():
            states = [self._state(s, now) for s in subjects]
            nxt = max(n for _, n in states)
            if now < nxt:
                return Verdict(False, False, nxt - now, max(f for f, _ in states))
            ok = hmac.compare_digest(given.encode(), key.encode())
            if ok:
                self._conn.executemany("DELETE FROM key_guard WHERE subject=?", [(s,) for s in subjects])
                return Verdict(True, True, 0.0, 0)
            waits = []
            for s, (fails, _) in zip(subjects, states):
                fails += 1
                wait = wait_after(fails, self.base_s, self.max_s, self.free)
                waits.append((wait, fails))
                self._conn.execute("INSERT INTO key_guard (subject, fails, last, next_ok) VALUES (?,?,?,?) "
                                   "ON CONFLICT(subject) DO UPDATE SET fails=excluded.fails, last=excluded.last, "
                                   "next_ok=excluded.next_ok", (s, fails, now, now + wait))
            self._conn.execute("INSERT INTO key_failures (at, addr, session, length) VALUES (?,?,?,?)",
                               (now, addr, session[:8], len(given)))
            self._conn.execute("DELETE FROM key_failures WHERE at < ?", (now - KEEP_S,))
        wait, fails = max(waits)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        log.warning("wrong teacher key at %s from %s (session %s, %d characters typed): %d in a row, "
                    "next try in %.1f s", when, addr or "?", session[:8], len(given), fails, wait)
        return Verdict(False, True, wait, fails)

    def failures(self, since_s: float = KEEP_S, limit: int = 50) -> list[Failure]:
        """The wrong keys of the last ``since_s`` seconds, newest first."""
        with self._lock:
            rows = self._conn.execute("SELECT at, addr, session, length FROM key_failures WHERE at >= ? "
                                      "ORDER BY at DESC LIMIT ?", (self.clock() - since_s, limit)).fetchall()
        return [Failure(*r) for r in rows]

    # --- the signed cookie ----------------------------------------------------------------------
    def _secret(self, key: str) -> bytes:
        with self._lock, self._tx():
            row = self._conn.execute("SELECT salt FROM key_secret WHERE id=1").fetchone()
            if row is None:
                salt = secrets.token_hex(32)
                self._conn.execute("INSERT INTO key_secret (id, salt) VALUES (1, ?)", (salt,))
            else:
                salt = row[0]
        return hmac.new(bytes.fromhex(salt), b"cnnviz teacher cookie\0" + key.encode(), hashlib.sha256).digest()

    def sign(self, key: str, ttl_s: float = COOKIE_S) -> str:
        """A cookie value that ``verify`` accepts for ``ttl_s`` seconds, while the key stays ``key``."""
        body = f"{int(self.clock() + ttl_s)}.{secrets.token_hex(8)}"
        return f"{body}.{hmac.new(self._secret(key), body.encode(), hashlib.sha256).hexdigest()}"

    def verify(self, key: str, cookie: str | None) -> float | None:
        """The cookie's expiry time when it is ours, unexpired and signed for ``key``; else None."""
        if not key or not isinstance(cookie, str) or not _COOKIE_RE.match(cookie):
            return None
        expiry, nonce, sig = cookie.split(".")
        want = hmac.new(self._secret(key), f"{expiry}.{nonce}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig) or int(expiry) <= self.clock():
            return None
        return float(expiry)


_COOKIE_RE = re.compile(r"^[0-9]{1,12}\.[0-9a-f]{16}\.[0-9a-f]{64}$")


def _s(session: str) -> str:
    return "s:" + session


def _a(addr: str) -> str:
    return "a:" + (addr or "local")


class _Immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an error): the write lock across processes."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


# --- weak keys -------------------------------------------------------------------------------------
# Common passwords (the top of the public leak lists) and the words a class would guess first:
# the school, the lesson, this app and its networks, in English and pinyin.
COMMON = frozenset("""
password passw0rd passwort motdepasse qwerty qwertz azerty letmein welcome admin administrator root
login changeme default guest test testing secret master shadow dragon monkey football baseball soccer
iloveyou sunshine princess superman batman trustno1 hello hellothere computer internet abc abcd
michael jennifer charlie freedom whatever starwars pokemon minecraft mustang access flower summer
winter spring autumn ninja jordan killer hunter ranger buster thomas tigger robert daniel
teacher teachers classroom class school student students lesson lessons course homework exam
professor university college campus library science math maths computer physics chemistry
cnnviz streamlit python pytorch torch tensor keras tensorflow
alexnet resnet vgg googlenet inception lenet nin batchnorm mnist fashion imagenet cifar
deep learning deeplearning neural network networks convolution convolutional machine ai
model models train training dive into book
mima woaini laoshi jiaoshi xuesheng ketang xuexiao shangke zhongguo beijing shanghai nihao
""".split())
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_AROUND = "0123456789!#%^&*()-_=+.,?~ "  # what people add around a word
_RUNS = ("0123456789" * 4, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2,
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm", "9876543210" * 4, "zyxwvutsrqponmlkjihgfedcba" * 2)


def _words_only(core: str, most: int = 3) -> bool:
    """``core`` is one to ``most`` words of ``COMMON`` run together ("teacherpassword")."""
    best = [0] + [most + 1] * len(core)  # best[i]: fewest words that make core[:i]
    for i in range(1, len(core) + 1):
        for j in range(max(0, i - 20), i):
            if best[j] < most and core[j:i] in COMMON:
                best[i] = min(best[i], best[j] + 1)
    return best[-1] <= most


def weak_key(key: str) -> str | None:
    """Why ``key`` is weak ("common", "word", "pattern", "short"), or None for a strong one."""
    low = key.strip().lower()
    if low in COMMON or low.translate(_LEET) in COMMON:
        return "common"
    # a word (or a few run together) with digits or symbols around it, or in leetspeak ("P@ssw0rd1")
    core = low.strip(_AROUND).translate(_LEET)
    if core.isalpha() and core.isascii() and _words_only(core):
        return "word"
    if len(set(low)) <= 3 or any(low in run or (len(core) >= 4 and core in run) for run in _RUNS):
        return "pattern"
    if len(low) < MIN_LEN:
        return "short"
    if re.fullmatch(r"[a-z]{12,15}", key.strip()) and sum(c in "aeiouy" for c in low) >= len(low) / 3:
        return "word"  # one lowercase word, pronounceable: a dictionary word the list lacks
    return None
