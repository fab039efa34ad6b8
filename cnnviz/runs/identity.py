"""Who may start jobs: the class's members, its join code, the rate limit of new identities per
client address, and display names that are unique and never the teacher's.

An identity is a student id (``ui.sched``: a hash of the browser's cookie token). Its states:

* a **member** (``members`` row, ``removed = 0``): may start jobs (``Scheduler.submit``);
* **removed** (the teacher removed it): never acts again, and is never admitted again; the
  browser needs a new token (with a join code set: it must join again);
* a **visitor** (no row): may look at every page. In an *open* class (no join code) it is
  admitted by ``admit`` when it first starts something (the address's rate limit applies);
  with a join code, only by ``admit(..., code=...)`` with the right code. ``Scheduler.submit``
  refuses a visitor's job when a code is set (``NotMember``): the rule holds whatever the page
  does.

The join code: ``$CNNVIZ_JOIN_CODE`` when set (it wins), else the one the teacher generated on
the teacher's page (in the store's ``classroom`` table, so every replica sees it), else none.
Codes are compared after NFKC, without whitespace and case (a phone capitalises the first
letter), in constant time (``hmac.compare_digest``).

The rate limit: at most ``$CNNVIZ_MAX_NEW_IDS`` (default 3: a phone and a laptop, and one
spare) new identities *plus wrong join codes* per client address per ``WINDOW_S`` (10 minutes),
counted in the store's ``admissions`` table in the same transaction that admits, so replicas
agree. Once an address is at the limit even the right code waits for the window (a code
cannot be guessed faster than that). Loopback (the teacher's own machine, the test suite's
browsers) and an unknown address are exempt. The trade-off: a class behind one NAT shares one
address, so such a class needs a higher limit (3 × the class) and relies on the join code.

Display names are unique in the class by ``name_key`` (NFKC, casefold, spaces and punctuation
dropped, common Cyrillic/Greek look-alikes folded to Latin), and none may be the teacher's
name in either language or carry the badge marker of the run labels (``" · "``).
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
from dataclasses import dataclass

from cnnviz import settings
from cnnviz.errors import CnnvizError
from cnnviz.i18n import LANGS, t
from cnnviz.runs.store import TEACHER, RunStore
from cnnviz.safe import verbatim

WINDOW_S = 600.0  # the rate limit's window: new identities and wrong codes per address per 10 minutes
NAME_MAX = 32  # characters of a display name (the board's box cuts there too)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or off a projector
CODE_LEN = 6  # 31**6 ≈ 9·10^8 codes, at 3 guesses per address per 10 minutes
JOIN_CODE_KEY = "join_code"  # the classroom table's key of the teacher's code

MEMBER, REMOVED, VISITOR = "member", "removed", "visitor"
NEW, BAD_CODE = "new", "bad_code"  # what an admissions row counts

# the badge marker of the run labels ("LeNet · Teacher (ab12cd)") and what looks like it
BADGE_MARKS = ("·", "•", "∙", "⋅", "・", "‧", "●", "◦")
# look-alikes of Latin letters a name could hide "teacher" behind (NFKC leaves them as they are)
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ѕ": "s", "т": "t", "к": "k", "м": "m", "н": "h", "в": "b",
    "α": "a", "ε": "e", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ι": "i", "κ": "k", "η": "n",
    "ν": "v",
})
# the teacher's name and badge, in both languages, whatever the string table says today
_TEACHER_WORDS = ("teacher", "老师", "教师", "老師", "教師")


class NotMember(CnnvizError):
    """A browser that is not (or no longer) a member of the class tried to act."""


class TooManyIdentities(CnnvizError):
    """A client address past its share of new identities (or wrong codes) for now."""


class BadJoinCode(CnnvizError):
    """A join code that is not the class's."""


class NameRefused(CnnvizError):
    """A display name that is taken, the teacher's, or carries the badge marker."""


@dataclass(frozen=True)
class Member:
    """One identity as the teacher's page lists it."""

    student: str
    name: str
    created: float
    last_seen: float
    address: str
    removed: float  # 0: active


# --- names ------------------------------------------------------------------------------------
def clean_name(raw: str) -> str:
    """Printable characters only (no control or format characters), whitespace collapsed."""
    kept = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())


def name_key(name: str) -> str:
    """What two names must not share: NFKC (full-width → ASCII), casefold, look-alikes folded,
    then letters, digits and marks only (spaces, punctuation and symbols dropped)."""
    s = unicodedata.normalize("NFKC", name).casefold()
    s = unicodedata.normalize("NFKC", s).translate(_CONFUSABLES)
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LNM")


def protected_keys() -> frozenset[str]:
    """The keys of the teacher's name and badge in every language of the string table."""
    words = set(_TEACHER_WORDS)
    for key in ("teacher.title", "nav.teacher"):
        words.update(t(key, lang) for lang in LANGS)
    return frozenset(name_key(w) for w in words)


def check_name(name: str) -> None:
    """``NameRefused`` for a name nobody may take: the teacher's, or one with the badge marker."""
    shown = unicodedata.normalize("NFKC", name)
    for mark in BADGE_MARKS:
        if mark in name or mark in shown:
            raise NameRefused("ident.name.marker", mark=mark)
    if name_key(name) in protected_keys():
        raise NameRefused("ident.name.teacher", name=verbatim(name))
    if len(name) > NAME_MAX:
        raise NameRefused("ident.name.long", n=NAME_MAX)


# --- codes and addresses -------------------------------------------------------------------------
def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


def _code_norm(code: str) -> bytes:
    return "".join(unicodedata.normalize("NFKC", code).split()).casefold().encode()


def codes_match(given: str, code: str) -> bool:
    """Constant-time comparison, after NFKC and without whitespace or case."""
    return bool(code) and hmac.compare_digest(_code_norm(given), _code_norm(code))


def rate_limited(address: str | None) -> bool:
    """Whether new identities from ``address`` count: every known address does, loopback ones
    included (behind ``make classroom``'s HAProxy every browser on the server's own machine
    arrives as 127.0.0.1, and a student with a shell there is still a student); an unknown one
    ("" or None) does not: a browser connected straight to a replica from this machine (the
    teacher's own, ``ui.sched.client_address``), or no browser at all (a script, a test)."""
    return bool(address and address.strip())


# --- the class ------------------------------------------------------------------------------------
class Identities:
    """The class's identities in one run store (see the module docstring). Thread-safe: every
    read-then-write is one IMMEDIATE transaction of the store."""

    def __init__(self, store: RunStore):
        self.store = store

    # the join code
    def join_code(self) -> str:
        """The code in force: the environment's, else the teacher's, else "" (an open class)."""
        return settings.join_code() or self.stored_code()

    def code_from_env(self) -> bool:
        return bool(settings.join_code())

    def stored_code(self) -> str:
        rows = self.store.read("SELECT value FROM classroom WHERE key=?", (JOIN_CODE_KEY,))
        return rows[0][0] if rows else ""

    def set_join_code(self, code: str) -> None:
        """Store the teacher's code ("" opens the class); ``$CNNVIZ_JOIN_CODE`` still wins."""
        with self.store.write() as conn:
            if code:
                conn.execute("INSERT INTO classroom (key, value) VALUES (?, ?) ON CONFLICT(key) "
                             "DO UPDATE SET value=excluded.value", (JOIN_CODE_KEY, code.strip()))
            else:
                conn.execute("DELETE FROM classroom WHERE key=?", (JOIN_CODE_KEY,))

    # membership
    def state(self, student: str) -> str:
        """``MEMBER``, ``REMOVED`` or ``VISITOR``; the teacher's own requests are a member's."""
        if student == TEACHER:
            return MEMBER
        rows = self.store.read("SELECT removed FROM members WHERE student=?", (student,))
        if not rows:
            return VISITOR
        return REMOVED if rows[0][0] else MEMBER

    def may_start(self, student: str) -> None:
        """``NotMember`` unless ``student`` may start a job now: a member, or a visitor of an open
        class (the CLI's and the tests' direct submits; the app admits before it submits)."""
        state = self.state(student)
        if state == REMOVED:
            raise NotMember("ident.removed")
        if state == VISITOR and self.join_code():
            raise NotMember("ident.need_code")

    def admit(self, student: str, address: str | None, code: str | None = None, *,
              now: float | None = None) -> None:
        """Make ``student`` a member, or raise: ``NotMember`` (removed), ``TooManyIdentities``
        (``address`` at its limit), ``BadJoinCode`` (a code is set and ``code`` is not it; it
        counts toward the limit). A member already: nothing to do."""
        now = time.time() if now is None else now
        want = self.join_code()
        counted = rate_limited(address)
        addr = (address or "").strip()
        limit = settings.max_new_ids()
        wrong = False
        with self.store.write() as conn:  # an exception rolls back: a wrong code leaves, then raises
            row = conn.execute("SELECT removed FROM members WHERE student=?", (student,)).fetchone()
            if row is not None:
                if row[0]:
                    raise NotMember("ident.removed")
                return
            if counted:
                conn.execute("DELETE FROM admissions WHERE at<?", (now - WINDOW_S,))  # the table stays small
                n = conn.execute("SELECT COUNT(*) FROM admissions WHERE address=? AND at>=?",
                                 (addr, now - WINDOW_S)).fetchone()[0]
                if n >= limit:
                    raise TooManyIdentities("ident.too_many", n=limit, minutes=int(WINDOW_S // 60))
            if want and not codes_match(code or "", want):
                if counted:
                    conn.execute("INSERT INTO admissions (address, at, what) VALUES (?,?,?)", (addr, now, BAD_CODE))
                wrong = True
            else:
                conn.execute("INSERT INTO members (student, created, address) VALUES (?,?,?)", (student, now, addr))
                if counted:
                    conn.execute("INSERT INTO admissions (address, at, what) VALUES (?,?,?)", (addr, now, NEW))
        if wrong:  # after the commit: the wrong code's row counts toward the limit
            raise BadJoinCode("ident.bad_code")

    def admit_teacher(self, student: str) -> None:
        """The unlocked teacher's own browser: a member without code or limit (not if removed)."""
        with self.store.write() as conn:
            conn.execute("INSERT OR IGNORE INTO members (student, created) VALUES (?, ?)", (student, time.time()))

    def remove(self, student: str, *, forget_name: bool = False) -> None:
        """Mark ``student`` removed (a tombstone: its token never acts again). ``forget_name``:
        its display name is freed too (its runs were deleted; nothing shows it any more)."""
        with self.store.write() as conn:
            now = time.time()
            conn.execute("INSERT INTO members (student, created, removed) VALUES (?, ?, ?) "
                         "ON CONFLICT(student) DO UPDATE SET removed=excluded.removed", (student, now, now))
            if forget_name:
                conn.execute("UPDATE students SET name='' WHERE student=?", (student,))

    def members(self) -> list[Member]:
        """Every identity the class knows: members (active and removed) and anyone who asked for a
        job before identities existed, newest first. Never the teacher's pre-warm id."""
        rows = self.store.read(
            "SELECT i.student, COALESCE(s.name, ''), COALESCE(m.created, 0), COALESCE(s.last_seen, 0), "
            "COALESCE(m.address, ''), COALESCE(m.removed, 0) FROM "
            "(SELECT student FROM members UNION SELECT student FROM requests) i "
            "LEFT JOIN members m ON m.student=i.student LEFT JOIN students s ON s.student=i.student "
            "WHERE i.student != ? ORDER BY COALESCE(m.created, 0) DESC", (TEACHER,))
        return [Member(*r) for r in rows]

    # names
    def set_name(self, student: str, raw: str) -> str:
        """Set ``student``'s display name (cleaned; "" clears it) and return it, or ``NameRefused``
        (taken, the teacher's, the badge marker, too long) / ``NotMember``."""
        self.may_start(student)
        name = clean_name(raw)
        if name:
            check_name(name)
        key = name_key(name)
        with self.store.write() as conn:
            if name:
                for (theirs,) in conn.execute("SELECT name FROM students WHERE name != '' AND student != ?",
                                              (student,)):
                    if name_key(theirs) == key:
                        raise NameRefused("ident.name.taken", name=verbatim(name))
            conn.execute("INSERT INTO students (student, name, last_seen) VALUES (?, ?, ?) ON CONFLICT(student) "
                         "DO UPDATE SET name=excluded.name, last_seen=excluded.last_seen", (student, name, time.time()))
        return name


__all__ = ["BadJoinCode", "Identities", "Member", "NameRefused", "NotMember", "TooManyIdentities", "check_name",
           "clean_name", "codes_match", "name_key", "new_join_code", "rate_limited"]
