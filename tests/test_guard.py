"""Storage shared fairly and a guarded teacher key (issue 19, items 4 and 5).

Weights (``cnnviz.runs.weights``): the real ``WeightStore`` on a real run store, with small caps
and small files: a student filling their share evicts only their own weights, whoever keeps the
most pays for the class cap, the teacher's pre-warm is never evicted, a stopped run's weights
count, a file over the share alone is refused, concurrent committers (one store connection each,
as workers) never over-evict; the Results view's line says both numbers.

The key (``cnnviz.runs.guard``, ``ui.sched``, the teacher's page): wrong keys wait longer per
session and per address (a fake clock), are refused unchecked before their time (the right key
too), logged without the guess, listed for the teacher; the signed cookie unlocks a new session,
a tampered or expired one does not; weak keys are named, the generated key is not.
"""

from __future__ import annotations

import logging
import os
import re
import threading

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.runs import guard as G
from cnnviz.runs.store import TEACHER, RunStore
from cnnviz.runs.weights import Held, WeightStore, plan_eviction
from cnnviz.status import Status

KEY = "Zr7-kQ2_vX9p-Lm4"  # strong: no warning in these tests
ALICE, BOB, CAROL = "alice" + "0" * 19, "bob" + "0" * 21, "carol" + "0" * 19


# --- weights ---------------------------------------------------------------------------------------
class Class:
    """A run store and its weights folder with small caps; ``keep`` commits a file as a worker does."""

    def __init__(self, folder, run=100, student=300, total=1000):
        self.store = RunStore(folder / "runs.sqlite")
        self.w = WeightStore(folder / "runs.weights", max_run_bytes=run, max_total_bytes=total,
                             max_student_bytes=student, runs=self.store)
        self.t = 1_000_000.0  # file times: strictly increasing, whatever the clock's resolution
        self.n = 0

    def keep(self, owner: str, size: int = 100, status: Status = Status.COMPLETED, rid: str | None = None) -> str:
        self.n += 1
        rid = rid or f"{owner[:5]}{self.n:04d}"
        if self.store.get(rid) is None:
            self.store.create(rid, "lenet", rid, {}, owner, status=status)
        tmp = self.w.staging(rid)
        tmp.write_bytes(b"w" * size)
        self.t += 10
        os.utime(tmp, (self.t, self.t))
        assert self.w.commit(rid) in ("kept", "too_big")
        return rid

    def kept(self) -> set[str]:
        return {p.stem for p in self.w.files()}


def test_a_student_filling_their_share_evicts_only_their_own(tmp_path):
    c = Class(tmp_path)
    bob = [c.keep(BOB), c.keep(BOB)]
    pre = c.keep(TEACHER)
    alice = [c.keep(ALICE, status=Status.STOPPED) for _ in range(12)]  # Start, Stop, again and again
    assert set(bob) <= c.kept() and pre in c.kept()  # the others' weights survive
    assert c.kept() & set(alice) == set(alice[-3:])  # her share (300) holds her 3 newest: her own oldest went
    u = c.w.usage(ALICE)
    assert (u.student_bytes, u.student_files, u.max_student_bytes) == (300, 3, 300)
    assert u.total_bytes == 600 and u.files == 6 and c.w.usage(BOB).student_bytes == 200
    assert c.w.usage(TEACHER).student_bytes == 0  # the teacher's runs are charged to nobody


def test_stopped_runs_count_like_any_other(tmp_path):
    """A stopped run's weights, committed by the worker's ``run_job``, count against its owner's share."""
    from cnnviz.runs.worker import run_job
    from cnnviz.train.events import EndEvent

    c = Class(tmp_path, student=150)
    old = c.keep(ALICE)

    def stopped(info, stop, ctx):
        ctx.weights_path.write_bytes(b"s" * 100)
        yield EndEvent(Status.STOPPED, "", {}, 1, 0.1, 0.1, None, None)

    c.store.create("stopped00001", "lenet", "s", {}, ALICE, kind="train")
    info = c.store.claim("test:1")
    assert run_job(c.store, info, c.w, source=stopped) == Status.STOPPED
    assert c.store.get("stopped00001").summary["weights"] == "kept"
    assert c.kept() == {"stopped00001"} and old not in c.kept()  # 100 + 100 > 150: her older one went
    assert c.w.usage(ALICE).student_bytes == 100


def test_past_the_class_cap_whoever_keeps_most_pays_never_the_teacher(tmp_path):
    c = Class(tmp_path, student=300, total=500)
    pre = [c.keep(TEACHER), c.keep(TEACHER)]
    bob = [c.keep(BOB), c.keep(BOB)]
    carol = c.keep(CAROL)
    assert c.kept() == {*pre, *bob, carol}  # 500: full
    alice = c.keep(ALICE)  # 600 > 500: Bob keeps the most (200), his oldest goes
    assert c.kept() == {*pre, bob[1], carol, alice}
    alice2 = c.keep(ALICE)  # Alice 200 now keeps the most (new file counted): her own older one goes
    assert c.kept() == {*pre, bob[1], carol, alice2}


def test_the_teachers_prewarm_attached_to_a_students_run_is_protected(tmp_path):
    """The pre-warm attaches to a student's identical run: that run is the teacher's too."""
    c = Class(tmp_path, student=300, total=300)
    c.store.create("shared000001", "lenet", "x", {}, BOB, status=Status.COMPLETED, key="k1")
    got, attached, _ = c.store.attach_or_create("other0000001", "k1", TEACHER, arch="lenet", label="x", config={},
                                                kind="train")
    assert attached and got == "shared000001"
    c.keep(BOB, rid="shared000001")
    c.keep(TEACHER)
    c.keep(TEACHER)
    assert "shared000001" in c.kept()
    mine = c.keep(ALICE)  # only the teacher's are left: hers is not kept (the page says "evicted")
    assert mine not in c.kept() and len(c.kept()) == 3


def test_a_run_over_the_share_alone_is_refused_and_evicts_nobody(tmp_path):
    c = Class(tmp_path, run=1000, student=150, total=1000)
    own, bob = c.keep(ALICE), c.keep(BOB)
    rid = "big000000001"
    c.store.create(rid, "lenet", rid, {}, ALICE, status=Status.COMPLETED)
    c.w.staging(rid).write_bytes(b"x" * 200)
    assert c.w.commit(rid) == "too_big"
    assert c.kept() == {own, bob} and not list(c.w.folder.glob(".*.tmp"))
    c.store.create("pre000000001", "lenet", "p", {}, TEACHER, status=Status.COMPLETED)
    c.w.staging("pre000000001").write_bytes(b"x" * 200)  # the teacher has no share: only the per-run cap
    assert c.w.commit("pre000000001") == "kept"


def test_plan_eviction_orders_unknown_then_over_share_then_most():
    held = [Held("gone1", None, 50, 1.0), Held("b1", "bob", 100, 2.0), Held("b2", "bob", 100, 3.0),
            Held("c1", "carol", 250, 4.0), Held("t1", TEACHER, 400, 0.5, teacher=True)]
    # no new file, class cap 600 of 900: the unknown one, then Carol (over her 200 share), then Bob's oldest
    gone, keep = plan_eviction(held, None, max_total=600, max_student=200)
    assert gone == ["gone1", "c1"] and keep
    gone, _ = plan_eviction(held, None, max_total=500, max_student=200)
    assert gone == ["gone1", "c1", "b1"]
    gone, keep = plan_eviction(held, Held("a1", "alice", 100, 9.0), max_total=300, max_student=200)
    assert "t1" not in gone and not keep  # only the teacher's left: the new one goes


def test_concurrent_workers_never_over_evict(tmp_path):
    """Eight committers, each with its own store connection (as worker processes have), commit
    at once: the class cap holds and exactly the overflow is evicted."""
    base = Class(tmp_path, run=100, student=1000, total=500)
    for i in range(8):
        base.store.create(f"conc{i:08d}", "lenet", "c", {}, f"s{i}" + "0" * 22, status=Status.COMPLETED)
        base.w.staging(f"conc{i:08d}").write_bytes(b"c" * 100)
    barrier = threading.Barrier(8)
    outcomes = []

    def worker(i: int) -> None:
        store = RunStore(base.store.path)
        w = WeightStore(base.w.folder, max_run_bytes=100, max_total_bytes=500, max_student_bytes=1000, runs=store)
        barrier.wait()
        outcomes.append(w.commit(f"conc{i:08d}"))
        store.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes == ["kept"] * 8
    assert len(base.kept()) == 5 and base.w.usage().total_bytes == 500  # 3 evicted, not more


def test_the_results_line_says_the_students_share_and_the_class(tmp_path, monkeypatch):
    """The Results view's weights line (``ui.results.weights_line``) in a session whose student
    keeps 200 bytes of a 300-byte share, the class 400 of 1000."""
    import hashlib

    from ui import sched

    token = "guard-test-token-000000001"
    me = hashlib.sha256(token.encode()).hexdigest()[:24]
    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("CNNVIZ_POOL", "none")
    monkeypatch.setenv("CNNVIZ_WEIGHTS_MAX_MB", "2")
    monkeypatch.setenv("CNNVIZ_WEIGHTS_STUDENT_MB", "1")
    sched._scheduler.clear()
    sch = sched.scheduler()
    mb = 1 << 20
    for rid, owner, size in (("mine00000001", me, mb // 2), ("mine00000002", me, mb // 4),
                             ("theirs000001", BOB, mb // 2)):
        sch.store.create(rid, "lenet", rid, {}, owner, status=Status.COMPLETED)
        sch.weights.staging(rid).write_bytes(b"w" * size)
        assert sch.weights.commit(rid) == "kept"

    def app():
        from cnnviz.runs.store import RunStore as Store
        from ui.results import weights_line
        from ui.sched import db_path

        info = Store(db_path()).get("mine00000002")
        weights_line(info, "kept")

    at = AppTest.from_function(app, default_timeout=60)
    at.session_state["_student_token"] = token
    at.run()
    assert not at.exception, at.exception
    line = at.caption[0].value
    assert "Your saved networks: 768 KiB of 1.0 MiB; the class: 1.2 MiB of 2.0 MiB" in line, line
    at.session_state["lang"] = "zh"  # as the language selector leaves it
    at.run()
    assert "768 KiB / 1.0 MiB" in at.caption[0].value and "全班：1.2 MiB / 2.0 MiB" in at.caption[0].value
    sched._scheduler.clear()


def test_the_student_share_defaults_to_a_fifth_of_the_class_cap_and_at_least_a_run(monkeypatch):
    from cnnviz import settings

    monkeypatch.delenv("CNNVIZ_WEIGHTS_STUDENT_MB", raising=False)
    monkeypatch.delenv("CNNVIZ_WEIGHTS_MAX_RUN_MB", raising=False)
    monkeypatch.setenv("CNNVIZ_WEIGHTS_MAX_MB", "2048")
    assert settings.student_weights_cap() == 2048 * settings.MB // 5
    monkeypatch.setenv("CNNVIZ_WEIGHTS_MAX_MB", "500")
    assert settings.student_weights_cap() == 256 * settings.MB  # one run's cap: a student can keep a run
    monkeypatch.setenv("CNNVIZ_WEIGHTS_STUDENT_MB", "64")
    assert settings.student_weights_cap() == 64 * settings.MB


# --- the key: the guard ------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guard(tmp_path):
    clock = Clock()
    g = G.KeyGuard(tmp_path / "runs.sqlite", clock=clock)
    g.clock_obj = clock
    yield g
    g.close()


def test_fifty_wrong_keys_wait_longer_and_longer_and_the_right_one_waits_too(guard, caplog):
    clock = guard.clock_obj
    waits = []
    with caplog.at_level(logging.WARNING, logger="cnnviz.runs.guard"):
        for i in range(50):
            v = guard.attempt(f"guess{i:03d}", KEY, "sess1", "10.0.0.7")
            assert v.checked and not v.ok
            waits.append(v.wait_s)
            if v.wait_s:
                early = guard.attempt(KEY, KEY, "sess1", "10.0.0.7")  # the right key, before its time
                assert not early.ok and not early.checked and early.wait_s == pytest.approx(v.wait_s)
                clock.now += v.wait_s / 2
                assert guard.wait_s("sess1", "10.0.0.7") == pytest.approx(v.wait_s / 2)
                clock.now += v.wait_s / 2
    assert waits[:10] == [0, 0, 0, 0.5, 1, 2, 4, 8, 16, 30] and set(waits[10:]) == {30}
    assert sum(waits) > 20 * 60  # fifty guesses take over twenty minutes
    records = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(records) == 50 and all("10.0.0.7" in r.getMessage() for r in records)
    assert not any("guess" in r.getMessage() for r in records)  # never the guess
    assert "8 characters typed" in records[0].getMessage()
    fails = guard.failures()
    assert len(fails) == 50 and fails[0].at >= fails[-1].at and {f.length for f in fails} == {8}
    assert fails[0].addr == "10.0.0.7" and fails[0].session == "sess1"
    ok = guard.attempt(KEY, KEY, "sess1", "10.0.0.7")  # after the wait: in
    assert ok.ok and ok.checked and guard.wait_s("sess1", "10.0.0.7") == 0


def test_the_wait_is_per_session_and_per_address(guard):
    for i in range(6):
        guard.attempt(f"nope{i}", KEY, "sess1", "10.0.0.7")
        guard.clock_obj.now += 60
    guard.attempt("nope", KEY, "sess1", "10.0.0.7")  # 7th in a row: 4 s
    assert guard.wait_s("sess2", "10.0.0.7") == 4  # a fresh tab (fresh cookies) from the same address
    assert guard.wait_s("sess1", "10.0.0.8") == 4  # the same tab from another address
    assert guard.wait_s("sess2", "10.0.0.8") == 0  # someone else entirely
    v = guard.attempt(KEY, KEY, "sess2", "10.0.0.7")
    assert not v.checked and v.wait_s == 4
    guard.clock_obj.now += G.FORGET_S  # quiet long enough: forgotten
    assert guard.wait_s("sess1", "10.0.0.7") == 0
    assert guard.attempt("again", KEY, "sess1", "10.0.0.7").wait_s == 0  # counts from one again


def test_three_websockets_guessing_at_once_are_serialised(tmp_path):
    """Three replicas' guards (own connections) guessing together: after the free failures and
    one more, every further guess is refused unchecked."""
    guards = [G.KeyGuard(tmp_path / "runs.sqlite", base_s=600) for _ in range(3)]
    checked = []
    barrier = threading.Barrier(3)

    def guess(g: G.KeyGuard, n: int) -> None:
        barrier.wait()
        for i in range(30):
            v = g.attempt(f"w{n}-{i}", KEY, f"ws{n}", "10.0.0.9")
            checked.append(v.checked)

    threads = [threading.Thread(target=guess, args=(g, n)) for n, g in enumerate(guards)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert checked.count(True) == G.FREE + 1 and len(checked) == 90
    for g in guards:
        g.close()


def test_the_signed_cookie(guard):
    cookie = guard.sign(KEY)
    assert guard.verify(KEY, cookie) == pytest.approx(guard.clock_obj.now + G.COOKIE_S, abs=1)
    expiry, nonce, sig = cookie.split(".")
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert guard.verify(KEY, f"{expiry}.{nonce}.{flipped}") is None  # tampered signature
    assert guard.verify(KEY, f"{int(expiry) + 3600}.{nonce}.{sig}") is None  # a later expiry, same signature
    assert guard.verify(KEY + "x", cookie) is None  # the key changed: every cookie is void
    assert guard.verify(KEY, "garbage") is None and guard.verify(KEY, None) is None
    guard.clock_obj.now += G.COOKIE_S + 1
    assert guard.verify(KEY, cookie) is None  # expired
    other = G.KeyGuard(guard.path.with_name("other.sqlite"))  # another store: another salt
    assert other.verify(KEY, guard.sign(KEY)) is None
    other.close()


@pytest.mark.parametrize("key, why", [("password123", "word"), ("teacher", "common"), ("classroom", "common"),
                                      ("Classroom2024!", "word"), ("P@ssw0rd1", "word"), ("xK9-vQ2", "short"),
                                      ("teacherpassword", "word"), ("qwertyuiop123", "pattern"),
                                      ("aaaaaaaaaaaaaaaa", "pattern"), ("laoshi123456", "word")])
def test_weak_keys_are_named(key, why):
    assert G.weak_key(key) == why


def test_strong_and_generated_keys_are_not_weak():
    assert G.weak_key(KEY) is None and G.weak_key("correct-horse-battery-staple") is None
    # keys shaped like the generated ones (secrets.token_urlsafe(9): 12 URL-safe characters), from
    # a seeded generator: about 1 in 100,000 random keys is 12 lowercase letters, a third of them
    # vowels, which the "one pronounceable word" rule flags (the generated key is never checked)
    import random
    import string

    rng = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "-_"
    assert [k for k in ("".join(rng.choice(alphabet) for _ in range(12)) for _ in range(2000)) if G.weak_key(k)] == []


def test_a_weak_key_is_warned_at_start(monkeypatch, caplog):
    from ui import sched

    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", "password123")
    sched.teacher_key.clear()
    with caplog.at_level(logging.WARNING, logger="cnnviz.teacher"):
        assert sched.teacher_key() == "password123"
    text = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "CNNVIZ_TEACHER_KEY is weak (a common word with digits or symbols added)" in text and "太弱" in text
    caplog.clear()
    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY)
    sched.teacher_key.clear()
    with caplog.at_level(logging.WARNING, logger="cnnviz.teacher"):
        sched.teacher_key()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    sched.teacher_key.clear()


def test_the_classroom_launcher_warns_of_a_weak_key():
    import pathlib

    src = (pathlib.Path(__file__).resolve().parents[1] / "classroom" / "launcher.py").read_text()
    assert "weak_key(self.teacher_key)" in src  # said right after "teacher key: the one in $CNNVIZ_TEACHER_KEY"


def test_no_page_or_doc_puts_the_key_in_a_url():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    files = [root / "README.md", *(root / "docs").glob("*.md"), *(root / "pages").glob("*.py"),
             *(root / "ui").glob("*.py"), root / "app.py"]
    found = [f"{p.name}: {m.group(0)}" for p in files if p.is_file()
             for m in re.finditer(r"[?&](teacher_?key|key)=", p.read_text(encoding="utf-8"))]
    assert not found, found


# --- the key: the teacher's page -----------------------------------------------------------------------
@pytest.fixture
def page_env(tmp_path, monkeypatch):
    """The teacher's page on a fresh store without a pool, the key set, its caches fresh; the
    session's address and cookie as a test says (AppTest cannot send headers or cookies)."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("CNNVIZ_POOL", "none")
    monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY)
    env = {"addr": "10.1.2.3", "cookie": None}
    guard = G.KeyGuard(tmp_path / "runs.sqlite", base_s=60, max_s=600)  # waits long enough to outlast a page run
    monkeypatch.setattr(sched, "key_guard", lambda: guard)
    monkeypatch.setattr(sched, "client_address", lambda: env["addr"])
    monkeypatch.setattr(sched, "request_cookie", lambda name: env["cookie"] if name == sched.TEACHER_COOKIE else None)
    for cache in (sched._scheduler, sched.teacher_key, sched._key_guard):
        cache.clear()
    yield env
    guard.close()
    for cache in (sched._scheduler, sched.teacher_key, sched._key_guard):
        cache.clear()


def teacher_page(lang: str | None = None) -> AppTest:
    at = AppTest.from_file("../pages/teacher.py", default_timeout=120)
    at.session_state["_student_token"] = "guard-teacher-token-0000001"
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def try_key(at: AppTest, key: str, label: str = "Unlock") -> str:
    at.text_input(key="teacher.key_in").input(key)
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return " ".join(str(e.value) for kind in ("error", "warning", "success") for e in at.get(kind))


def locked(at: AppTest) -> bool:
    return [b.label for b in at.button] in (["Unlock"], ["解锁"])


def test_the_page_says_how_long_to_wait_in_both_languages(page_env):
    at = teacher_page()
    for i in range(3):
        assert "That is not the teacher key" in try_key(at, f"wrong{i}") and locked(at)
    said = try_key(at, "wrong3")
    assert "After 4 wrong keys in a row, the next try is allowed in 60 s" in said and locked(at)
    said = try_key(at, KEY)  # the right key, too early: not even checked
    assert re.search(r"wait (59|60) s, then try again \(the key was not checked\)", said) and locked(at)
    zh = teacher_page("zh")  # a new tab from the same address: the address waits too
    assert re.search(r"请等待 (59|60) 秒后再试", " ".join(w.value for w in zh.warning)) and locked(zh)
    page_env["addr"] = "10.1.2.4"  # that tab from elsewhere: the tab itself still waits
    assert "the key was not checked" in try_key(at, KEY) and locked(at)


def test_the_cookie_unlocks_a_new_session_until_locked(page_env, monkeypatch):
    at = teacher_page()
    assert "this browser is the teacher's for 8 hours" in try_key(at, KEY) and not locked(at)
    cookie = at.session_state["_teacher_cookie"]  # the page drew the script that stores it; a new tab brings it
    page_env["cookie"] = cookie
    again = teacher_page()
    assert not locked(again) and any(b.label == "Lock" for b in again.button)
    expander = [e for e in again.expander if "Wrong teacher keys" in e.label]
    assert len(expander) == 1 and expander[0].label == "Wrong teacher keys (0)"
    next(b for b in again.button if b.label == "Lock").click().run()
    assert locked(again) and again.session_state["_teacher_cookie"] == ""  # the cookie deleted in the browser
    again.run()
    assert locked(again)  # the cookie this session came with no longer counts here


@pytest.mark.parametrize("spoil", ["tamper", "expire", "rekey"])
def test_a_bad_cookie_leaves_the_page_locked(page_env, monkeypatch, spoil):
    from ui import sched

    cookie = sched.key_guard().sign(KEY, ttl_s=-1 if spoil == "expire" else G.COOKIE_S)
    if spoil == "tamper":
        cookie = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    if spoil == "rekey":
        monkeypatch.setenv("CNNVIZ_TEACHER_KEY", KEY + "-new")
        sched.teacher_key.clear()
    page_env["cookie"] = cookie
    assert locked(teacher_page())


def test_the_unlocked_page_lists_the_wrong_keys(page_env):
    at = teacher_page()
    try_key(at, "not-the-key")
    page_env["addr"] = ""  # from this machine (no proxy, loopback)
    try_key(teacher_page(), "also-wrong!")
    try_key(at, KEY)
    exp = [e for e in at.expander if "Wrong teacher keys" in e.label]
    assert exp and exp[0].label == "Wrong teacher keys (2)"
    table = [d.value for d in at.dataframe if "characters typed" in d.value.columns]
    assert len(table) == 1
    rows = table[0]
    assert list(rows["address"]) == ["this computer", "10.1.2.3"] and list(rows["characters typed"]) == [11, 11]
    assert "not-the-key" not in " ".join(str(v) for v in rows.values.ravel())


def test_client_address_prefers_the_peer_and_trusts_only_the_proxys_entry(monkeypatch):
    """``ui.sched.client_address``: a direct peer is itself; behind HAProxy on this machine
    (a loopback peer), the last X-Forwarded-For entry, the one HAProxy appended."""
    import streamlit as st

    from ui import sched

    class Headers:
        def __init__(self, values):
            self.values = values

        def get_all(self, key):
            return self.values if key.lower() == "x-forwarded-for" else []

    class Ctx:
        def __init__(self, ip, xff):
            self.ip_address, self.headers = ip, Headers(xff)

    for ip, xff, want in (("192.168.1.20", ["6.6.6.6"], "192.168.1.20"),
                          (None, ["6.6.6.6, 192.168.1.21"], "192.168.1.21"),
                          (None, ["6.6.6.6", "192.168.1.22"], "192.168.1.22"), (None, [], ""),
                          # `streamlit run` listens on "::": IPv4 peers arrive mapped into IPv6
                          ("::ffff:192.168.1.23", [], "192.168.1.23"), ("::ffff:127.0.0.1", [], ""),
                          ("::1", ["192.168.1.24"], "192.168.1.24")):
        monkeypatch.setattr(st, "context", Ctx(ip, xff))
        assert sched.client_address() == want
