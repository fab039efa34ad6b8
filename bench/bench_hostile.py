"""A hostile student during a class: N students on the explorer through ``make classroom`` while
one more browser sends the hostile corpus (issue 19), over real websockets.

The server is ``python -m classroom --replicas K --port P --host 127.0.0.1`` (HAProxy in front of
K replicas: ``bench_class.start_classroom``), with a strong teacher key of this run and one
finished training run seeded before it starts (a CLI run of LeNet on the synthetic set, 1 epoch:
its Results view has the "try your own" upload and drawing canvas).

Two phases, in this order, on the same server:

* **baseline**: the N students alone. Each is ``testkit.wsclient.Student`` on the explorer
  (``bench_class``'s students: a random architecture/side/BatchNorm in the URL, then
  ``--clicks`` changes 1–3 s apart on random enabled widgets, ``bench_class.pick_change``);
* **hostile**: the same N students (same seeds) while the hostile browser works through the
  corpus below, ``--rounds`` times, bounded by ``--hostile-timeout`` s; here the students keep
  clicking until it is done (at least ``--clicks``, at most 6 × ``--clicks`` changes each).

At the end of each student's visit, one plain rerun must give back the same widget values and
URL it had (its state was not lost), with no exception on the page.

The hostile corpus (``hostile()``), each item one action of one browser at a time:

* uploads through the real upload path (``Student.upload``: file URLs over the socket, an HTTP
  PUT through HAProxy, the uploader's state) to the feature-map lab (``fm.upload``) and the
  seeded run's "try your own" (``tr.results.try_up``): a 65,536 × 256 PNG, a PNG header claiming
  100,000 × 100,000, a truncated PNG, random bytes named .png, a GIF named .png, and one over
  the upload size (refused by Streamlit's HTTP handler: 413);
* forged drawings on the canvas (``Student.set_component``: the component's JSON state): a
  6,000 × 6,000 PNG data URL, a GIF data URL, something that is not a data URL;
* markup: every page opened with markdown/HTML payloads in its URL parameters (``run=<img
  src=x>`` on /training), and a display name with ``<a href=...>`` saved through the board's
  name box;
* wrong teacher keys typed into the teacher page's form (``--guesses``): each answer is either
  "checked" (the key was compared: an error) or "refused to wait" (the guard's wait: a warning);
* fresh-cookie browsers (``--fresh``, new sessions with no cookie) pressing Start on the training
  page (distinct seeds, so no two attach to one run): how many got a run queued.

An action counts as "refused with a clear message" when the page shows an error or warning box
(or the HTTP upload was refused with 413) and no exception; "tracebacks" counts Exception
elements on any page the hostile browser saw (must be 0). Markup counts how often a payload
came back inside HTML the page lets through raw (``st.html``/``unsafe_allow_html``: must be 0).

Server memory: the sum of VmRSS over the launcher's process tree (HAProxy, replicas, pool),
sampled every 0.5 s (``bench_class.TreeMonitor``): its peak over the 5 s before the hostile
phase, and its peak during it. Targets: p95 ≤ 1 s per click with no error or disconnect for the
students, growth ≤ 300 MB, 0 tracebacks, nothing lost.

Run: ``.venv/bin/python bench/bench_hostile.py`` (40 students, a few minutes on 2 cores) or
``--quick`` (10 students, one shorter round: under 2 minutes). Traffic goes only to 127.0.0.1; the
processes it ends are the ones it started (by process group).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import pathlib
import random
import re
import secrets
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_class import (  # noqa: E402
    Outcome,
    PhaseClock,
    TreeMonitor,
    initial_query,
    machine_line,
    pct,
    pick_change,
    rss_kib,
    server_env,
    settle,
    start_classroom,
    tree,
)

from cnnviz.i18n import t  # noqa: E402
from testkit.procs import stop_group  # noqa: E402
from testkit.wsclient import Student, StudentError  # noqa: E402

from machine import usable_cores  # noqa: E402

PAGE = "explorer"
RESULTS = "tr.results"  # the Results view's key prefix on the training page
P95_TARGET_S = 1.0
GROWTH_TARGET_MB = 300.0


def en(key: str, **params) -> str:
    return t(key, "en", **params)


# --- the corpus ------------------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(w: int, h: int, channels: int, row) -> bytes:
    """An 8-bit PNG (grey: 1 channel, RGBA: 4) encoded row by row (a huge one is never held decoded)."""
    z = zlib.compressobj(6)
    idat = b"".join(z.compress(b"\x00" + row(y)) for y in range(h)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 4: 6}[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _header_only(w: int, h: int) -> bytes:
    """A well-formed PNG whose header claims ``w`` × ``h`` with a tiny IDAT (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = _chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + idat + _chunk(b"IEND", b"")


def _gif() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "GIF")
    return buf.getvalue()


def _drawing_6000() -> bytes:
    black = b"\x00\x00\x00\xff" * 6000
    stroke = b"\x00\x00\x00\xff" * 2900 + b"\xff" * 800 + b"\x00\x00\x00\xff" * 2900
    return _png(6000, 6000, 4, lambda y: stroke if 1000 <= y < 5000 else black)


def upload_corpus(quick: bool) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, MIME type): what a hostile student uploads."""
    wide = _png(65536, 256, 1, lambda y, row=bytes(65536): row)
    trunc = _png(64, 64, 1, lambda y: bytes(random.Random(y).randrange(256) for _ in range(64)))
    items = [("wide_65536x256.png", wide, "image/png"),
             ("header_100000x100000.png", _header_only(100_000, 100_000), "image/png"),
             ("truncated.png", trunc[: len(trunc) // 2], "image/png"),
             ("random.png", random.Random(1).randbytes(4000), "image/png"),
             ("really_a_gif.png", _gif(), "image/png")]
    if not quick:
        items.append(("over_the_limit.png", b"\x89PNG\r\n\x1a\n" + bytes(6 * 2**20), "image/png"))
    return items


def drawing_corpus() -> list[tuple[str, str]]:
    """(name, what the canvas's state says the drawing is)."""
    url = "data:image/png;base64,"
    return [("drawing_6000x6000", url + base64.b64encode(_drawing_6000()).decode("ascii")),
            ("drawing_gif", "data:image/gif;base64," + base64.b64encode(_gif()).decode("ascii")),
            ("drawing_not_a_url", "javascript:alert(1)")]


MARKUP = {  # URL parameters a hostile link carries, on every page
    "arch": "<img src=x onerror=alert(1)>", "run": "<img src=x>", "side": "**99**<script>alert(1)</script>",
    "dataset": "[click](javascript:alert(1))", "img": "<b>1</b>", "weights": "run", "lang": "<i>zh</i>",
}
NAME = '<a href="javascript:alert(1)">teacher</a>'
# the payloads' own text (the app's cookie script, a legitimate <script> in st.html, is not one of them)
RAW_MARKERS = ("<img src=x", "alert(1)", "<b>1</b>", "<i>zh</i>", 'href="javascript')


# --- the hostile browser ---------------------------------------------------------------------------
@dataclass
class Tally:
    sent: int = 0
    refused: int = 0        # an error/warning box (or HTTP 413), no exception
    accepted: int = 0       # taken without a message (a valid input, or a page that ignores a param)
    tracebacks: int = 0
    failures: int = 0       # the action itself failed (timeout, closed socket, missing widget)
    notes: list[str] = field(default_factory=list)


@dataclass
class Hostile:
    tallies: dict[str, Tally] = field(default_factory=dict)
    keys_checked: int = 0
    keys_refused_wait: int = 0
    keys_unlocked: int = 0
    fresh_queued: int = 0
    fresh_refused: int = 0
    fresh_tried: int = 0
    raw_markup: int = 0
    wall: float = 0.0
    timed_out: bool = False
    queued_runs: list[str] = field(default_factory=list)

    def tally(self, what: str) -> Tally:
        return self.tallies.setdefault(what, Tally())

    @property
    def tracebacks(self) -> int:
        return sum(x.tracebacks for x in self.tallies.values())


def _alerts(s: Student) -> list[tuple[str, str]]:
    return [(f, b) for f, b in s.alerts() if f in ("ERROR", "WARNING")]


def _raw_markup(s: Student) -> int:
    """Payloads that came back inside HTML the page renders raw."""
    n = 0
    for m in s.elements("markdown"):
        if m.allow_html and any(x in m.body for x in RAW_MARKERS):
            n += 1
    for h in s.elements("html"):
        if any(x in h.body for x in RAW_MARKERS):
            n += 1
    return n


async def _act(h: Hostile, what: str, s: Student, action, ok_is_refusal: bool = False) -> None:
    """One hostile action on ``s``: counted as sent, then refused / accepted / failed, tracebacks."""
    tl = h.tally(what)
    tl.sent += 1
    before = len(s.exceptions)
    try:
        await action()
    except StudentError as e:
        if s.last_upload_status == 413 and "HTTP 413" in str(e):
            tl.refused += 1
            return
        tl.failures += 1
        tl.notes.append(str(e)[:120])
        return
    finally:
        tl.tracebacks += len(s.exceptions) - before
    if _alerts(s) or ok_is_refusal:
        tl.refused += 1
    else:
        tl.accepted += 1


def _option(s: Student, key: str, label: str) -> str:
    opts = s.widget(key).options or []
    return next(o for o in opts if o.casefold() == label.casefold() or label.casefold() in o.casefold())


async def _uploads_lab(h: Hostile, base: str, files, timeout: float) -> None:
    s = Student(base, page="featuremaps", timeout=timeout, preflight=True)
    try:
        await s.connect()
        await s.set_widget("featuremaps.src", _option(s, "featuremaps.src", en("lab.fm.source.upload")))
        for name, data, mime in files:
            await _act(h, "upload: feature-map lab", s,
                       lambda n=name, d=data, m=mime: s.upload("fm.upload", n, d, m))
    finally:
        await s.close()


async def _results_page(base: str, rid: str, src: str, timeout: float) -> Student:
    """The seeded run's Results view on /training, "Try your own" open, source ``src``."""
    s = Student(base, page="training", query=f"run={rid}", timeout=timeout, preflight=True)
    await s.connect()
    await s.select_tab(f"{RESULTS}.tab", en("resv.tab.try"))
    await s.set_widget(f"{RESULTS}.try_src", _option(s, f"{RESULTS}.try_src", en(f"resv.try.source.{src}")))
    return s


async def _uploads_results(h: Hostile, base: str, rid: str, files, timeout: float) -> None:
    s = await _results_page(base, rid, "upload", timeout)
    try:
        for name, data, mime in files:
            await _act(h, "upload: try your own", s,
                       lambda n=name, d=data, m=mime: s.upload(f"{RESULTS}.try_up", n, d, m))
    finally:
        await s.close()


async def _drawings(h: Hostile, base: str, rid: str, timeout: float) -> None:
    s = await _results_page(base, rid, "draw", timeout)
    try:
        for _name, url in drawing_corpus():
            value = {"drawing": {"raw": {"objects": [], "background": "#000000"}, "data": url}, "backgroundFit": None}
            await _act(h, "forged drawing", s, lambda v=value: s.set_component(f"{RESULTS}.canvas", v))
    finally:
        await s.close()


async def _markup(h: Hostile, base: str, timeout: float) -> None:
    probe = Student(base, timeout=timeout, preflight=True)
    try:
        await probe.connect()
        pages = [p["url_pathname"] for p in probe.app_pages if not p["is_default"]] + [""]
    finally:
        await probe.close()
    query = urllib.parse.urlencode(MARKUP)
    for page in pages:
        s = Student(base, page=page, query=query, timeout=timeout, preflight=True)
        tl = h.tally("markup: URL params")
        tl.sent += 1
        try:
            await s.connect()
            tl.tracebacks += len(s.exceptions)
            h.raw_markup += _raw_markup(s)
            if _alerts(s):
                tl.refused += 1
            else:
                tl.accepted += 1
        except StudentError as e:
            tl.failures += 1
            tl.notes.append(f"/{page}: {str(e)[:100]}")
        finally:
            await s.close()
    s = Student(base, page="board", timeout=timeout, preflight=True)
    try:
        await s.connect()

        async def save_name() -> None:
            await s.set_widget("board.name", NAME, rerun=False)
            save = next(w for w in s.widgets() if w.kind == "button" and w.label == en("board.name.save"))
            await s.click(save.id)

        await _act(h, "markup: display name", s, save_name)
        h.raw_markup += _raw_markup(s)
    finally:
        await s.close()


async def _key_guesses(h: Hostile, base: str, n: int, timeout: float) -> None:
    s = Student(base, page="teacher", timeout=timeout, preflight=True)
    tl = h.tally("wrong teacher keys")
    try:
        await s.connect()
        unlock = next(w for w in s.widgets() if w.kind == "button" and w.label == en("teacher.unlock"))
        for i in range(n):
            tl.sent += 1
            before = len(s.exceptions)
            try:
                await s.set_widget("teacher.key_in", f"guess-{i:04d}-{secrets.token_hex(4)}", rerun=False)
                await s.click(unlock.id)
            except StudentError as e:
                tl.failures += 1
                tl.notes.append(str(e)[:120])
                break
            tl.tracebacks += len(s.exceptions) - before
            kinds = {f for f, _ in _alerts(s)}
            if "teacher.key_in" not in s.widget_keys():
                h.keys_unlocked += 1  # a wrong key got in: must never happen
            elif "ERROR" in kinds:
                h.keys_checked += 1
                tl.refused += 1
            elif "WARNING" in kinds:
                h.keys_refused_wait += 1
                tl.refused += 1
            else:
                tl.accepted += 1
    finally:
        await s.close()


async def _fresh_starts(h: Hostile, base: str, n: int, timeout: float) -> None:
    tl = h.tally("fresh-cookie Start")
    for i in range(n):
        q = urllib.parse.urlencode({"arch": "lenet", "dataset": "synthetic", "epochs": 1, "subset": 256,
                                    "seed": 1000 + i})
        s = Student(base, page="training", query=q, timeout=timeout, preflight=True)  # no cookie: a new identity
        tl.sent += 1
        h.fresh_tried += 1
        try:
            await s.connect()
            before = len(s.exceptions)
            start = next((w for w in s.widgets() if w.kind == "button" and w.label == en("train.start")), None)
            if start is None or start.disabled:
                h.fresh_refused += 1
                tl.refused += 1
                continue
            await s.click(start.id)
            tl.tracebacks += len(s.exceptions) - before
            rid = dict(urllib.parse.parse_qsl(s.query)).get("run")
            if rid:
                h.fresh_queued += 1
                h.queued_runs.append(rid)
                tl.accepted += 1
            elif _alerts(s):
                h.fresh_refused += 1
                tl.refused += 1
            else:
                tl.accepted += 1
                tl.notes.append("Start gave neither a run nor a message")
        except StudentError as e:
            tl.failures += 1
            tl.notes.append(str(e)[:120])
        finally:
            await s.close()


async def hostile(base: str, rid: str | None, args) -> Hostile:
    """The whole corpus, ``args.rounds`` times, within ``args.hostile_timeout`` s."""
    h = Hostile()
    files = upload_corpus(args.quick)
    t0 = time.perf_counter()

    async def rounds() -> None:
        for _ in range(args.rounds):
            steps = [lambda: _uploads_lab(h, base, files, args.click_timeout)]
            if rid:
                steps += [lambda: _uploads_results(h, base, rid, files, args.click_timeout),
                          lambda: _drawings(h, base, rid, args.click_timeout)]
            steps += [lambda: _markup(h, base, args.click_timeout),
                      lambda: _key_guesses(h, base, args.guesses, args.click_timeout),
                      lambda: _fresh_starts(h, base, args.fresh, args.click_timeout)]
            for step in steps:
                try:
                    await step()
                except (StudentError, StopIteration) as e:  # a page that did not show what a step needs
                    h.tally("setup").failures += 1
                    h.tally("setup").notes.append(f"{type(e).__name__}: {str(e)[:160]}")

    try:
        await asyncio.wait_for(rounds(), args.hostile_timeout)
    except TimeoutError:
        h.timed_out = True
    h.wall = time.perf_counter() - t0
    return h


# --- the normal students ---------------------------------------------------------------------------
@dataclass
class Kept(Outcome):
    lost: int = 0  # 1 when the final rerun did not give back the student's widgets and URL


async def student(base: str, rng: random.Random, archs, args, stop: asyncio.Event | None) -> Kept:
    """bench_class's explorer student; with ``stop``, clicks on until it is set (bounded); then one
    plain rerun must give back the same widget values and URL."""
    out = Kept()
    await asyncio.sleep(rng.uniform(0, args.arrival))
    s = Student(base, page=PAGE, query=initial_query(rng, archs), timeout=args.click_timeout, preflight=True)
    try:
        try:
            out.connect_s = await s.connect()
        except StudentError as e:
            out.failed_connect, out.note = True, str(e)
            out.timeouts += str(e).startswith("timeout")
            out.disconnected = s.close_code is not None or "closed" in str(e)
            return out
        out.exceptions += len(s.last_run_exceptions)
        most = args.clicks * (6 if stop is not None else 1)
        for i in range(most):
            if i >= args.clicks and (stop is None or stop.is_set()):
                break
            await asyncio.sleep(rng.uniform(*args.gap))
            try:
                key, value = pick_change(rng, s)
                out.clicks.append(await s.set_widget(key, value))
            except StudentError as e:
                out.note = str(e)
                out.timeouts += str(e).startswith("timeout")
                if "closed" in str(e) or not s.connected:
                    out.disconnected = True
                    return out
                continue
            out.kb.append(s.last_run_bytes / 1024)
            out.exceptions += len(s.last_run_exceptions)
        before = ({w.key: w.value for w in s.widgets() if w.key}, s.query)
        try:
            await s.rerun()
        except StudentError as e:
            out.note, out.lost = str(e), 1
            out.disconnected = "closed" in str(e) or not s.connected
            return out
        after = ({w.key: w.value for w in s.widgets() if w.key}, s.query)
        out.exceptions += len(s.last_run_exceptions)
        out.lost = int(before != after)
        return out
    finally:
        await s.close()


@dataclass
class Phase:
    name: str
    n: int
    outs: list[Kept]
    rss_before_mib: float
    rss_peak_mib: float
    cpu_pct: float
    gen_cpu_pct: float
    other_cpu_pct: float
    wall: float
    hostile: Hostile | None = None
    parts_before: dict[str, int] = field(default_factory=dict)  # RSS KiB by kind of process
    parts_peak: dict[str, int] = field(default_factory=dict)

    @property
    def clicks(self) -> list[float]:
        return [c for o in self.outs for c in o.clicks]

    @property
    def errors(self) -> int:
        return sum(o.exceptions + o.failed_connect + o.timeouts for o in self.outs)

    @property
    def disconnects(self) -> int:
        return sum(o.disconnected for o in self.outs)

    @property
    def lost(self) -> int:
        return sum(o.lost for o in self.outs)


def _label(pid: int) -> str:
    """What a process of the classroom's tree is: haproxy, a replica (streamlit), the launcher, a
    pool process (python -m ...), or a multiprocessing child (a pool worker)."""
    try:
        argv = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    args = [a.decode(errors="replace") for a in argv if a]
    text = " ".join(args)
    if not args:
        return "other"
    if "haproxy" in os.path.basename(args[0]):
        return "haproxy"
    if "streamlit" in text:
        return "replicas"
    if "multiprocessing" in text:
        return "pool workers"
    if "-m" in args and args.index("-m") + 1 < len(args):
        mod = args[args.index("-m") + 1]
        if mod == "cnnviz" and "pool" in args:
            return "pool"  # python -m cnnviz pool: the training runs (in its threads or workers)
        return "launcher" if mod == "classroom" else mod
    return os.path.basename(args[0])


class LabelledMonitor(TreeMonitor):
    """``TreeMonitor`` that also keeps, for its peak sample, the RSS of each kind of process."""

    def __init__(self, root: int):
        super().__init__(root)
        self.peak_parts: dict[str, int] = {}

    def _sample(self) -> None:
        parts: dict[str, int] = {}
        for pid in tree(self.root):
            parts[_label(pid)] = parts.get(_label(pid), 0) + rss_kib(pid)
        before = self.peak_rss_kib
        super()._sample()
        if self.peak_rss_kib > before or not self.peak_parts:
            self.peak_parts = parts


def parts_mib(parts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v)


async def rss_level(root: int, seconds: float) -> tuple[float, dict[str, int]]:
    """Peak tree RSS (MiB) over ``seconds``, and its parts: the level a phase starts from."""
    mon = LabelledMonitor(root)
    mon.start()
    await asyncio.sleep(seconds)
    return (await mon.stop())[1], mon.peak_parts


async def phase(name: str, base: str, root: int, archs, args, rid: str | None, with_hostile: bool) -> Phase:
    rng = random.Random(f"{args.seed}-{args.students}")
    rngs = [random.Random(rng.random()) for _ in range(args.students)]
    level, level_parts = await rss_level(root, 5.0)
    mon = LabelledMonitor(root)
    mon.start()
    clock = PhaseClock()
    stop = asyncio.Event() if with_hostile else None
    tasks = [asyncio.create_task(student(base, r, archs, args, stop)) for r in rngs]
    h = None
    if with_hostile:
        h = await hostile(base, rid, args)
        stop.set()
    done, _ = await settle(tasks, args.phase_timeout)
    clock.stop()
    cpu, peak = await mon.stop()
    outs = []
    for task in tasks:
        if task in done and not task.cancelled() and task.exception() is None:
            outs.append(task.result())
        else:
            outs.append(Kept(timeouts=1, note="phase timeout or crash"))
    return Phase(name, args.students, outs, level, peak, cpu, clock.gen_pct, clock.other_pct(cpu), clock.wall, h,
                 level_parts, mon.peak_parts)


# --- setup and report -------------------------------------------------------------------------------
def seed_run(env: dict[str, str]) -> tuple[str | None, str]:
    """One finished run with kept weights in the class's store (before the server starts)."""
    cmd = [sys.executable, "-m", "cnnviz", "train", "lenet", "--dataset", "synthetic", "--epochs", "1",
           "--subset", "512", "--test-subset", "256"]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    m = re.search(r"recorded as run ([0-9a-f]+)", p.stdout + p.stderr)
    return (m.group(1), "") if m else (None, f"seeding a run failed (status {p.returncode}): {p.stderr[-200:]}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(base: Phase, hp: Phase, rid: str | None, weights_ok: bool | None) -> None:
    h = hp.hostile
    assert h is not None
    cols = ("phase", "students", "clicks", "p50 s", "p95 s", "max s", "p95 / baseline p95", "errors", "disconnects",
            "state lost", "RSS before MiB", "RSS peak MiB", "growth MiB", "server CPU %", "load-gen CPU %",
            "other CPU %", "wall s")
    print()
    print(f"CPU columns: % of one core (this machine has {usable_cores()} usable); 'other' = machine busy time "
          "minus server and load generator (other agents, the pool's training runs are in 'server')")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    b95 = pct(base.clicks, 95)
    for p in (base, hp):
        c = p.clicks
        ratio = f"{pct(c, 95) / b95:.2f}×" if c and b95 == b95 and b95 > 0 else "–"
        print("| " + " | ".join([
            p.name, str(p.n), str(len(c)), f"{pct(c, 50):.3f}", f"{pct(c, 95):.3f}",
            f"{max(c) if c else float('nan'):.3f}", ratio if p is hp else "1.00×", str(p.errors),
            str(p.disconnects), str(p.lost), f"{p.rss_before_mib:.0f}", f"{p.rss_peak_mib:.0f}",
            f"{p.rss_peak_mib - p.rss_before_mib:+.0f}", f"{p.cpu_pct:.0f}", f"{p.gen_cpu_pct:.0f}",
            f"{p.other_cpu_pct:.0f}", f"{p.wall:.1f}"]) + " |")
    for p in (base, hp):
        print(f"RSS MiB by process, {p.name}: before ({parts_mib(p.parts_before)}); "
              f"at the peak ({parts_mib(p.parts_peak)})")
    print()
    print("| hostile action | sent | refused with a message | accepted | tracebacks | failed |")
    print("|---|---|---|---|---|---|")
    for what, tl in h.tallies.items():
        print(f"| {what} | {tl.sent} | {tl.refused} | {tl.accepted} | {tl.tracebacks} | {tl.failures} |")
    tot = lambda f: sum(getattr(x, f) for x in h.tallies.values())  # noqa: E731
    print(f"| **all** | {tot('sent')} | {tot('refused')} | {tot('accepted')} | {tot('tracebacks')} | "
          f"{tot('failures')} |")
    print()
    print(f"teacher keys: {h.keys_checked} checked, {h.keys_refused_wait} refused to wait (the guard), "
          f"{h.keys_unlocked} unlocked")
    print(f"fresh-cookie Start: {h.fresh_tried} tried, {h.fresh_queued} got a run queued, {h.fresh_refused} refused")
    print(f"markup: {h.raw_markup} payloads came back in raw HTML")
    print(f"hostile browser: {h.wall:.1f} s" + (" (stopped at --hostile-timeout)" if h.timed_out else ""))
    for what, tl in h.tallies.items():
        for note in sorted(set(tl.notes))[:3]:
            print(f"note {what}: {note}")
    growth = hp.rss_peak_mib - hp.rss_before_mib
    p95 = pct(hp.clicks, 95)
    print()
    print(f"target p95 ≤ {P95_TARGET_S:g} s with the hostile browser: {p95:.3f} s → {verdict(p95 <= P95_TARGET_S)}")
    print(f"target no error or disconnect: {hp.errors} errors, {hp.disconnects} disconnects → "
          f"{verdict(hp.errors == 0 and hp.disconnects == 0)}")
    print(f"target RSS growth ≤ {GROWTH_TARGET_MB:g} MB: {growth * 1.048576:+.0f} MB → "
          f"{verdict(growth * 1.048576 <= GROWTH_TARGET_MB)}")
    web = {k: v for k, v in hp.parts_peak.items() if k not in ("pool", "pool workers")}
    web0 = {k: v for k, v in hp.parts_before.items() if k not in ("pool", "pool workers")}
    web_growth = (sum(web.values()) - sum(web0.values())) / 1024
    print(f"  of which the web tier (replicas, HAProxy, launcher; the pool's training runs left out): "
          f"{web_growth * 1.048576:+.0f} MB → {verdict(web_growth * 1.048576 <= GROWTH_TARGET_MB)}")
    print(f"target 0 tracebacks: {h.tracebacks} → {verdict(h.tracebacks == 0)}")
    lost_ok = hp.lost == 0 and weights_ok is not False
    print(f"target nothing lost: {hp.lost} students' state changed on a plain rerun; seeded run {rid or '–'} "
          f"weights {'kept' if weights_ok else 'GONE' if weights_ok is False else 'not checked'} → "
          f"{verdict(lost_ok)}")
    print(f"target wrong keys never unlock: {h.keys_unlocked} → {verdict(h.keys_unlocked == 0)}")
    print(f"target no raw markup: {h.raw_markup} → {verdict(h.raw_markup == 0)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10 students, one short round (under 2 minutes)")
    p.add_argument("--students", type=int, default=None, help="normal students (default 40, --quick 10)")
    p.add_argument("--replicas", type=int, default=max(2, usable_cores()), help="classroom replicas")
    p.add_argument("--clicks", type=int, default=None, help="changes per student, at least (default 5, --quick 3)")
    p.add_argument("--arrival", type=float, default=2.0, help="students arrive within this many seconds")
    p.add_argument("--gap", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    p.add_argument("--rounds", type=int, default=None, help="passes over the hostile corpus (default 2, --quick 1)")
    p.add_argument("--guesses", type=int, default=None, help="wrong teacher keys per round (default 30, --quick 8)")
    p.add_argument("--fresh", type=int, default=None, help="fresh-cookie Start presses a round (default 6, --quick 4)")
    p.add_argument("--click-timeout", type=float, default=60.0)
    p.add_argument("--hostile-timeout", type=float, default=None, help="the hostile browser's time limit, s")
    p.add_argument("--phase-timeout", type=float, default=300.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    q = a.quick
    a.students = a.students or (10 if q else 40)
    a.clicks = a.clicks or (3 if q else 5)
    a.rounds = a.rounds or (1 if q else 2)
    a.guesses = a.guesses if a.guesses is not None else (8 if q else 30)
    a.fresh = a.fresh if a.fresh is not None else (4 if q else 6)
    a.hostile_timeout = a.hostile_timeout or (60.0 if q else 240.0)
    if not 1 <= a.students <= 200:
        p.error("--students must be within 1..200")
    a.gap = (min(a.gap), max(a.gap))
    return a


async def main_async(args) -> int:
    from ui import schemas

    archs = schemas.explorer_schema().field("arch").choices
    print(machine_line())
    print(f"{args.students} students · ≥{args.clicks} changes each, {args.gap[0]:g}–{args.gap[1]:g} s apart · "
          f"{args.replicas} replicas · hostile: {args.rounds} round(s), {args.guesses} key guesses and "
          f"{args.fresh} fresh-cookie starts per round · seed {args.seed}", flush=True)
    os.environ["CNNVIZ_TEACHER_KEY"] = secrets.token_urlsafe(18)  # this run's; every replica inherits it
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-hostile-") as db_dir:
        t0 = time.perf_counter()
        rid, why = seed_run(server_env(db_dir))
        print(f"seeded run: {rid or why} ({time.perf_counter() - t0:.1f} s)", flush=True)
        try:
            target = start_classroom(db_dir, args.replicas)
        except RuntimeError as e:
            print(f"classroom: skipped ({e})")
            return 1
        try:
            print(f"[classroom] up at {target.base_url} (pid {target.proc.pid}) in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            for _ in range(args.replicas):  # warm every replica: the first class does not pay the imports
                s = Student(target.base_url, page=PAGE, query="arch=resnet18", timeout=args.click_timeout,
                            preflight=True)
                try:
                    await s.connect()
                finally:
                    await s.close()
            base = await phase("baseline", target.base_url, target.proc.pid, archs, args, rid, False)
            print(f"[baseline] {len(base.clicks)} clicks, p95 {pct(base.clicks, 95):.3f} s, "
                  f"errors {base.errors}, {base.wall:.0f} s", flush=True)
            await asyncio.sleep(2.0)
            hp = await phase("with a hostile student", target.base_url, target.proc.pid, archs, args, rid, True)
            print(f"[hostile] {len(hp.clicks)} clicks, p95 {pct(hp.clicks, 95):.3f} s, errors {hp.errors}, "
                  f"{hp.wall:.0f} s", flush=True)
            weights_ok = (pathlib.Path(db_dir) / "runs.weights" / f"{rid}.pt").is_file() if rid else None
        finally:
            stop_group(target.proc)
    report(base, hp, rid, weights_ok)
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
