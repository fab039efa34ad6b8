"""The Results view under a class: N students on one finished run's results, over real websockets.

Set-up, before any server starts: a temporary run store (``CNNVIZ_DB``) gets ONE finished real
run, LeNet's class-period recipe on ``CNNVIZ_DATA_DIR``'s Fashion-MNIST, trained by the CLI
(``python -m cnnviz train lenet --recipe class --dataset fashion-mnist --db STORE --json-lines``;
its "end" event names the run). Then, for each class size N (``--students 1,10,20,40``), N
students, each a ``testkit.wsclient.Student`` (one real Streamlit session over
``/_stcore/stream``, ForwardMsg cache included):

* arrive within ``--arrival`` s and open ``/training?run=<id>``: the run's curves, then its
  Results view on the confusion-matrix tab. "open" is timed to the first finished script run
  (socket opened included), and "kB/open" is what that run received;
* then make ``--changes`` (default 3) changes inside the Results view, 1–3 s apart, each picked
  at random among what the view offers: another tab of the view (``tr.res.tab``: confusion
  matrix, mistakes, feature maps, try your own) or, on the confusion tab, its counts/row-shares
  toggle (``tr.res.norm``). A change is timed from sending the rerun to its ``script_finished``.

The view's tabs are a stateful ``st.tabs`` (a block with a widget id, not an element):
``Student.tab_container`` reads it and ``Student.select_tab`` opens a tab as the frontend does,
a ``WidgetState`` with the tab's label, kept and sent again with every later rerun.

Both targets of ``bench_class`` (its server start-up is reused): ``single``, one ``streamlit
run app.py``; ``classroom``, ``python -m classroom`` with ``--replicas`` (default 2) behind
HAProxy, measured over the launcher's whole process tree. Before the first phase of a target,
one unmeasured session per replica opens the page and visits every tab (the run's figures and
trained model are then in that server's caches, as once a lesson is under way).

Per row: changes measured, p50/p95/max s per change and the p50 against the baseline (the
one-process server's 1-student change p50, measured first in the same run), the same for
opening the page, kB received per open and per change (medians), ForwardMsg cache references
(elements the client already held), errors (Exception elements, error boxes, failed opens,
timeouts), disconnects, the server's CPU (% of one core) and peak RSS, the CPU of everything
else on the machine during the phase (more than a few %: a busy machine). A second table splits
the changes by kind, first visit against later ones (what the ForwardMsg cache saves), and two
lines compare the bytes of a student's first change after opening with those of later ones.

Targets: 40 students through the classroom, a change p95 ≤ 1.0 s, opening the page p95 ≤ 3 s,
no error and no disconnect. ``--quick`` (N = 1 and 10, the single server only) is a smoke run
that checks only that nothing failed.

Run: ``.venv/bin/python bench/bench_results.py`` (about 3 minutes on 2 cores, the training run
and both servers' start-up included), or ``--quick`` (under a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_class import (  # noqa: E402
    CLK_TCK,
    Target,
    TreeMonitor,
    machine_busy_ticks,
    machine_line,
    pct,
    server_env,
    start_classroom,
    start_single,
    wait_quiet,
)

from testkit.procs import stop_group  # noqa: E402
from testkit.wsclient import Student, StudentError  # noqa: E402

from machine import usable_cores  # noqa: E402

PAGE = "training"
PREFIX = "tr.results"  # the training page's key prefix for its Results view (pages/training.py)
TAB_NAMES = ("confusion", "mistakes", "maps", "try")  # ui.results.view's tabs, in order, for a run with results
TRAIN_CMD = ("-m", "cnnviz", "train", "lenet", "--recipe", "class", "--dataset", "fashion-mnist", "--json-lines")
TARGET_CHANGE_P95_S = 1.0
TARGET_OPEN_P95_S = 3.0
TARGET_N = 40
ERRORS = ("exc", "box", "open", "timeout")  # what the errors column adds up, in its order


# --- the finished run ----------------------------------------------------------------------------
def train_run(db_dir: str, timeout: float) -> tuple[str, float, dict]:
    """Train LeNet's class recipe into the store the servers will read: (run id, seconds, end event)."""
    env = server_env(db_dir)
    cmd = [sys.executable, *TRAIN_CMD, "--db", env["CNNVIZ_DB"]]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bench_results: the training run took more than {timeout:g} s") from None
    finally:
        stop_group(proc, grace=2)  # ours, by its process group: a no-op once it has exited
    ends = [d for d in map(_json, out.splitlines()) if d.get("kind") == "end"]
    end = ends[-1] if ends else {}
    if proc.returncode != 0 or end.get("status") != "completed" or not end.get("run_id"):
        tail = " | ".join(err.strip().splitlines()[-3:])
        raise SystemExit(f"bench_results: training failed (exit {proc.returncode}, end {end.get('status')}): {tail}")
    return end["run_id"], time.perf_counter() - t0, end


def _json(line: str) -> dict:
    try:
        d = json.loads(line)
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


# --- one student ------------------------------------------------------------------------------------
def view_tabs(s: Student) -> tuple[list[str], int]:
    """The Results view's tabs as the client holds them: (labels, open tab index); a
    ``StudentError`` when the page has no Results view."""
    view = s.tab_container(f"{PREFIX}.tab")
    return view.labels, view.index


def tab_name(labels: list[str], i: int) -> str:
    return TAB_NAMES[i] if len(labels) == len(TAB_NAMES) else labels[i]


@dataclass
class Change:
    kind: str       # "tab → mistakes", "row shares", "counts"
    first: bool     # the first time this student's page showed it: its figures came in full
    index: int      # 0: the student's first change after opening the page
    seconds: float
    kb: float
    refs: int       # ForwardMsg cache references in the answer


@dataclass
class Outcome:
    open_s: float | None = None
    open_kb: float | None = None
    changes: list[Change] = field(default_factory=list)
    # counts of ERRORS: Exception elements, error boxes, a failed open, timeouts; and "disconnect" (0 or 1)
    errs: collections.Counter = field(default_factory=collections.Counter)
    note: str = ""

    def count(self, s: Student) -> None:
        """The errors of the run just finished: Exception elements and error boxes on the page."""
        self.errs["exc"] += len(s.last_run_exceptions)
        self.errs["box"] += sum(fmt == "ERROR" for fmt, _ in s.alerts())

    def failed(self, s: Student, e: StudentError) -> bool:
        """Record a failed call; True when the session is gone."""
        self.note = str(e)
        self.errs["timeout"] += str(e).startswith("timeout")
        if "closed" in str(e) or not s.connected:
            self.errs["disconnect"] = 1
        return bool(self.errs["disconnect"])


class Session:
    """A student on the training page of the run, holding the Results view's tab as a browser does."""

    def __init__(self, base_url: str, rid: str, timeout: float):
        self.s = Student(base_url, page=PAGE, query=f"run={rid}", timeout=timeout, preflight=True)
        self.seen: set[str] = set()
        self.done = 0  # changes made

    async def open(self) -> float:
        t = await self.s.connect()
        labels, i = view_tabs(self.s)
        self.seen = {f"tab → {tab_name(labels, i)}", "counts"}
        return t

    def options(self, tabs: set[str] | None) -> list[tuple[str, object]]:
        """What the view offers now: another tab (by label), or the counts/row-shares toggle."""
        labels, now = view_tabs(self.s)
        opts: list[tuple[str, object]] = [("tab", label) for i, label in enumerate(labels)
                                          if i != now and (tabs is None or tab_name(labels, i) in tabs)]
        norm = next((w for w in self.s.widgets() if w.key == f"{PREFIX}.norm" and not w.disabled), None)
        if norm is not None:
            opts.append(("norm", not norm.value))
        return opts

    async def change(self, what: str, value: object) -> Change:
        s = self.s
        if what == "tab":  # the Student sends the chosen tab again with every later rerun, as the frontend does
            labels, _ = view_tabs(s)
            kind = f"tab → {tab_name(labels, labels.index(str(value)))}"
            t = await s.select_tab(f"{PREFIX}.tab", str(value))
        else:
            kind = "row shares" if value else "counts"
            t = await s.set_widget(f"{PREFIX}.norm", value)
        first = kind not in self.seen
        self.seen.add(kind)
        self.done += 1
        return Change(kind, first, self.done - 1, t, s.last_run_bytes / 1024, s.last_run_cache_hits)


async def student(base_url: str, rid: str, rng: random.Random, args) -> Outcome:
    out = Outcome()
    await asyncio.sleep(rng.uniform(0, args.arrival))
    sess = Session(base_url, rid, args.change_timeout)
    try:
        try:
            out.open_s = await sess.open()
        except StudentError as e:
            out.errs["open"] = 1
            out.failed(sess.s, e)
            return out
        out.open_kb = sess.s.last_run_bytes / 1024
        out.count(sess.s)
        for _ in range(args.changes):
            await asyncio.sleep(rng.uniform(*args.gap))
            try:
                opts = sess.options(args.tabs)
                if not opts:
                    out.note = "nothing to change in the Results view"
                    break
                out.changes.append(await sess.change(*rng.choice(opts)))
            except StudentError as e:
                if out.failed(sess.s, e):
                    break
                continue
            out.count(sess.s)
        return out
    finally:
        await sess.s.close()


async def warm_up(target: Target, rid: str, timeout: float) -> str:
    """One unmeasured session per replica opens the page and visits every tab; a note if it failed."""
    for _ in range(max(target.replicas, 1)):
        sess = Session(target.base_url, rid, timeout)
        try:
            await sess.open()
            for what, label in [o for o in sess.options(None) if o[0] == "tab"]:
                await sess.change(what, label)
        except StudentError as e:
            return f"warm-up failed: {e}"
        finally:
            await sess.s.close()
    return ""


# --- a class ------------------------------------------------------------------------------------------
@dataclass
class Row:
    target: str
    students: int
    outs: list[Outcome]
    cpu_pct: float
    rss_mib: float
    other_cpu_pct: float
    wall: float
    timed_out: bool
    notes: list[str]

    @property
    def changes(self) -> list[Change]:
        return [c for o in self.outs for c in o.changes]

    @property
    def times(self) -> list[float]:
        return [c.seconds for c in self.changes]

    @property
    def opens(self) -> list[float]:
        return [o.open_s for o in self.outs if o.open_s is not None]

    def total(self, name: str) -> int:
        return sum(o.errs[name] for o in self.outs)

    @property
    def errors(self) -> int:
        return sum(self.total(k) for k in ERRORS)


async def phase(target: Target, n: int, rid: str, args) -> Row:
    rng = random.Random(f"{args.seed}-{target.name}-{n}")
    tasks = [asyncio.create_task(student(target.base_url, rid, random.Random(rng.random()), args))
             for _ in range(n)]
    mon = TreeMonitor(target.proc.pid)
    mon.start()
    busy0, load0, t0 = machine_busy_ticks(), os.times(), time.perf_counter()
    try:  # every call of a student has its own timeout; this bounds the whole class too
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), args.phase_timeout)
        timed_out = False
    except TimeoutError:
        timed_out = True  # gather cancelled what was left
    wall = time.perf_counter() - t0
    busy1, load1 = machine_busy_ticks(), os.times()
    cpu, rss = await mon.stop()
    outs, notes = [], []
    for t in tasks:
        if t.cancelled():
            outs.append(Outcome(errs=collections.Counter(timeout=1), note="phase timeout"))
        elif t.exception() is not None:
            notes.append(f"student crashed: {type(t.exception()).__name__}: {t.exception()}")
            outs.append(Outcome(errs=collections.Counter(open=1)))
        else:
            outs.append(t.result())
    notes += sorted({o.note for o in outs if o.note})[:3]
    load_gen = (load1.user - load0.user) + (load1.system - load0.system)  # seconds of this process's CPU
    machine = (busy1 - busy0) / CLK_TCK
    other = max(0.0, 100.0 * (machine - load_gen) / max(wall, 1e-9) - cpu)
    return Row(target.name, n, outs, cpu, rss, other, wall, timed_out, notes)


async def run_target(name: str, rid: str, args, db_dir: str, rows: list[Row]) -> None:
    t0 = time.perf_counter()
    target = start_single(db_dir) if name == "single" else start_classroom(db_dir, args.replicas)
    try:
        print(f"[{name}] up at {target.base_url} in {time.perf_counter() - t0:.1f} s (pid {target.proc.pid})",
              flush=True)
        warm_note = await warm_up(target, rid, args.change_timeout)
        for n in args.sizes:
            busy_note = await wait_quiet(args.wait_quiet, target.proc.pid)
            row = await phase(target, n, rid, args)
            row.notes[:0] = [x for x in (warm_note, busy_note) if x]
            warm_note = ""
            rows.append(row)
            print(f"[{name}] {n} students: open p95 {pct(row.opens, 95):.3f} s, {len(row.times)} changes, "
                  f"p50 {pct(row.times, 50):.3f} s, p95 {pct(row.times, 95):.3f} s, errors {row.errors}, "
                  f"{row.wall:.0f} s", flush=True)
            await asyncio.sleep(2.0)  # let the previous class's sessions close
    finally:
        stop_group(target.proc)


# --- report -----------------------------------------------------------------------------------------
def md(head: list[str] | tuple[str, ...], rows: list[list[str]]) -> None:
    """A markdown table, as bench_class prints its own."""
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def _med(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "–"


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}×" if base and value == value else "–"  # value == value: not NaN


COLUMNS = ("target", "students", "changes", "p50 s", "p95 s", "max s", "p50 / baseline", "open p50 s", "open p95 s",
           "open max s", "open p50 / baseline", "kB/open", "kB/change", "cache refs",
           "errors (exc/box/open/timeout)", "disconnects", "server CPU %", "peak RSS MiB", "other CPU %", "wall s")


def fmt_row(r: Row, base: float | None, base_open: float | None) -> list[str]:
    t, o = r.times, r.opens
    nan = float("nan")
    return [r.target, str(r.students), str(len(t)), f"{pct(t, 50):.3f}", f"{pct(t, 95):.3f}",
            f"{max(t, default=nan):.3f}", _ratio(pct(t, 50), base),
            f"{pct(o, 50):.3f}", f"{pct(o, 95):.3f}", f"{max(o, default=nan):.3f}",
            _ratio(pct(o, 50), base_open), _med([x.open_kb for x in r.outs if x.open_kb is not None]),
            _med([c.kb for c in r.changes]), str(sum(c.refs for c in r.changes)),
            f"{r.errors} ({'/'.join(str(r.total(k)) for k in ERRORS)})", str(r.total("disconnect")),
            f"{r.cpu_pct:.0f}", f"{r.rss_mib:.0f}", f"{r.other_cpu_pct:.0f}",
            f"{r.wall:.1f}" + (" (phase timeout)" if r.timed_out else "")]


def print_report(rows: list[Row], quick: bool) -> bool:
    """The tables; True when the targets (or, for --quick, the smoke checks) hold."""
    base_row = next((r for r in rows if r.target == "single" and r.students == 1), None) or (rows or [None])[0]
    base = pct(base_row.times, 50) if base_row and base_row.times else None
    base_open = pct(base_row.opens, 50) if base_row and base_row.opens else None
    print()
    print(f"baseline: 1-student change p50 of target {base_row.target if base_row else '?'} in this run = "
          + (f"{base:.3f} s" if base else "not measured")
          + (f"; its open p50 = {base_open:.3f} s" if base_open else ""))
    print(f"CPU columns: % of one core (this machine has {usable_cores()} usable); 'other' = machine busy "
          "time minus server and load generator")
    md(COLUMNS, [fmt_row(r, base, base_open) for r in rows])
    kinds: dict[str, list[Change]] = {}
    for c in (c for r in rows for c in r.changes):
        kinds.setdefault(c.kind, []).append(c)
    if kinds:
        print("\nby kind of change, all rows together (the times mix class sizes; the bytes do not depend on them):")
        md(("change", "count", "p50 s", "p95 s", "kB first visit", "kB later", "cache refs per change"),
           [[k, str(len(cs)), f"{pct([c.seconds for c in cs], 50):.3f}", f"{pct([c.seconds for c in cs], 95):.3f}",
             _med([c.kb for c in cs if c.first]), _med([c.kb for c in cs if not c.first]),
             _med([float(c.refs) for c in cs])] for k, cs in sorted(kinds.items())])
        # the first rerun of a session redraws a page laid out as its first run was not (e.g. an
        # element only that run drew): every element below has a new delta path, so a new hash
        for label, cs in (("a first change after opening", [c for r in rows for c in r.changes if c.index == 0]),
                          ("a later change", [c for r in rows for c in r.changes if c.index > 0])):
            if cs:
                print(f"{label}: median {_med([c.kb for c in cs])} kB received, "
                      f"{_med([float(c.refs) for c in cs])} cache refs ({len(cs)} changes)")
    for r in rows:
        if r.notes:
            print(f"note {r.target} N={r.students}: " + "; ".join(r.notes))
    return check_targets(rows, quick)


def check_targets(rows: list[Row], quick: bool) -> bool:
    print()
    row = next((r for r in rows if r.target == "classroom" and r.students == TARGET_N), None)
    if row is None:
        print(f"targets (classroom, {TARGET_N} students): not measured in this run"
              + (" (--quick: smoke checks only)" if quick else ""))
        bad = [f"{r.target} N={r.students}" for r in rows if r.errors or r.total("disconnect") or r.timed_out]
        ok = bool(rows) and not bad
        print("smoke: " + ("every row without error or disconnect" if ok else
                           "FAILED: " + (", ".join(bad) or "nothing measured")))
        return ok
    checks = [
        (f"change p95, {TARGET_N} students via the classroom", pct(row.times, 95), f"≤ {TARGET_CHANGE_P95_S:g} s",
         bool(row.times) and pct(row.times, 95) <= TARGET_CHANGE_P95_S),
        (f"open p95, {TARGET_N} students via the classroom", pct(row.opens, 95), f"≤ {TARGET_OPEN_P95_S:g} s",
         len(row.opens) == row.students and pct(row.opens, 95) <= TARGET_OPEN_P95_S),
        ("errors + disconnects", float(row.errors + row.total("disconnect")), "0",
         row.errors + row.total("disconnect") == 0 and not row.timed_out),
    ]
    md(("target", "measured", "limit", "result"),
       [[name, f"{v:.3f}" if "p95" in name else f"{v:.0f}", limit, "met" if ok else "MISSED"]
        for name, v, limit, ok in checks])
    return all(ok for *_, ok in checks)


# --- main -------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1 and 10 students, the single server only")
    p.add_argument("--target", default=None, help="comma list of single, classroom (default both)")
    p.add_argument("--students", default=None,
                   help="class sizes, comma list (default 1,10,20,40; 1 is always measured)")
    p.add_argument("--replicas", type=int, default=2, help="classroom replicas (default 2, as `make classroom` here)")
    p.add_argument("--changes", type=int, default=3, help="changes per student after opening the page")
    p.add_argument("--arrival", type=float, default=2.0, help="students arrive within this many seconds")
    p.add_argument("--gap", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                   help="seconds between a student's changes (uniform)")
    p.add_argument("--tabs", default=None,
                   help=f"comma list of the view's tabs a change may open (of {', '.join(TAB_NAMES)}; default all)")
    p.add_argument("--change-timeout", type=float, default=60.0, help="per change (and per open), seconds")
    p.add_argument("--phase-timeout", type=float, default=240.0, help="per class size, seconds")
    p.add_argument("--train-timeout", type=float, default=600.0, help="for the training run, seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                   help="before each phase, wait up to S s until nothing else on the machine uses the CPU")
    a = p.parse_args(argv)
    a.targets = [t.strip() for t in (a.target or ("single" if a.quick else "single,classroom")).split(",") if t.strip()]
    if bad := [t for t in a.targets if t not in ("single", "classroom")]:
        p.error(f"unknown target(s): {', '.join(bad)}")
    sizes = {int(x) for x in (a.students or ("1,10" if a.quick else "1,10,20,40")).split(",") if x.strip()}
    a.sizes = sorted(sizes | {1})
    if any(n < 1 or n > 200 for n in a.sizes):
        p.error("class sizes must be within 1..200")
    if not 0 <= a.changes <= 50:
        p.error("--changes must be within 0..50")
    a.tabs = {t.strip() for t in a.tabs.split(",") if t.strip()} if a.tabs else None
    if a.tabs and (bad := a.tabs - set(TAB_NAMES)):
        p.error(f"unknown tab(s): {', '.join(sorted(bad))}")
    a.gap = (min(a.gap), max(a.gap))
    return a


async def main_async(args) -> int:
    print(machine_line())
    print(f"students {args.sizes} · {args.changes} changes each in the Results view, {args.gap[0]:g}–{args.gap[1]:g} s "
          f"apart · arrival within {args.arrival:g} s · targets {', '.join(args.targets)} · seed {args.seed}"
          + (" · --quick" if args.quick else ""), flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-results-") as db_dir:
        rid, secs, end = train_run(db_dir, args.train_timeout)
        print(f"run {rid}: LeNet, class recipe, Fashion-MNIST, {end.get('step')} steps, test accuracy "
              f"{end.get('test_acc', float('nan')):.1%}, trained in {secs:.1f} s (before any server)", flush=True)
        for name in args.targets:
            try:
                await run_target(name, rid, args, db_dir, rows)
            except RuntimeError as e:
                print(f"[{name}] skipped: {e}", flush=True)
    ok = print_report(rows, args.quick)
    return 0 if rows and (ok or not args.quick) else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
