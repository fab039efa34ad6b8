"""The first minute of a lesson: 40 students arrive within 2 s at a classroom that has just said
"ready" (issue #20, part 5: a warm start).

For each target, in this order (``--targets``, default both):

* ``warm``: ``python -m classroom`` as the teacher starts it (``CNNVIZ_WARM=on``: ready only
  once each replica has loaded home, explorer, training and board in one real session);
* ``cold``: the same with ``CNNVIZ_WARM=off``, the baseline: ready as soon as the replicas
  answer their health checks and HAProxy reaches them, which is what ready meant before;

each on a fresh run store and a free loopback port (``--host 127.0.0.1``; ``bench_class.
start_classroom``), with the README's default replica count (``$REPLICAS``, else the CPU count).
The launcher's time from start to its ready line is recorded. Then, at once:

* ``--students`` websocket students (``testkit.wsclient.Student``, a real browser session over
  ``/_stcore/stream``, through HAProxy) arrive at uniform random offsets within ``--arrival``
  seconds, student i on the i-th page of ``--pages`` in turn (home, explorer, training, board:
  the default views the warm-up loads; a class given one URL is ``--pages home``); first page =
  from the connect (health preflight, socket, first run) to the run's ``script_finished``;
* after ``--gap`` seconds each makes one change and waits for its run: the explorer's
  BatchNorm switch, the board's "only mine", the language switch on home and training (a
  training-form change would time the in-page estimate of issue #20's part 1, not this).

Per target: first page p50 / p95 / max, clicks p50 / p95 / max, errors, the launcher tree's
CPU and peak RSS over the phase, the load generator's CPU and everything else on the machine
(``bench_class.PhaseClock``; the machine is shared: "other CPU %" says how busy it was), and
first-page p95 per page. Then the cold / warm ratios and the targets (first page p95 ≤ 1.5 s,
clicks p95 ≤ 1 s). Every wait is bounded (``--timeout`` per load or click, ``--phase-timeout``
per phase); only the processes started here are stopped, by their group.

Run: ``.venv/bin/python bench/bench_warm.py`` (about 2–3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_class import (  # noqa: E402
    PhaseClock,
    Target,
    TreeMonitor,
    machine_line,
    pct,
    settle,
    start_classroom,
    wait_quiet,
)

from testkit.procs import stop_group  # noqa: E402
from testkit.wsclient import Student, StudentError  # noqa: E402

from machine import usable_cores  # noqa: E402

FIRST_TARGET_S = 1.5  # issue #20: first page p95 at a just-ready classroom
CLICK_TARGET_S = 1.0
PAGE_NAMES = {"home": "", "explorer": "explorer", "training": "training", "board": "board"}
# one change per page: (widget key, new value or None for "flip the toggle"); the language
# selectbox takes its option's label
ZH = "简体中文"
CLICKS: dict[str, tuple[str, object]] = {
    "": ("lang", ZH), "explorer": ("explorer.bn", None), "training": ("lang", ZH),
    "board": ("board.only_mine", None),
}


@dataclass
class Visit:
    page: str
    first_s: float | None = None
    click_s: float | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Result:
    target: str
    ready_s: float
    visits: list[Visit]
    cpu_pct: float
    rss_mib: float
    gen_pct: float
    other_pct: float
    wall: float
    timed_out: bool
    note: str = ""

    def firsts(self, page: str | None = None) -> list[float]:
        return [v.first_s for v in self.visits if v.first_s is not None and (page is None or v.page == page)]

    def clicks(self) -> list[float]:
        return [v.click_s for v in self.visits if v.click_s is not None]

    def errors(self) -> int:
        return sum(bool(v.errors) for v in self.visits)


async def student(i: int, base: str, page: str, rng: random.Random, args) -> Visit:
    v = Visit(page)
    await asyncio.sleep(rng.uniform(0, args.arrival))
    s = Student(base, page=page, timeout=args.timeout, preflight=True)
    try:
        try:
            v.first_s = await s.connect()
        except StudentError as e:
            v.errors.append(f"first page: {e}")
            return v
        v.errors += s.last_run_exceptions
        await asyncio.sleep(rng.uniform(*args.gap))
        key, value = CLICKS[page]
        if key not in s.widget_keys():  # seen on a cold server: a first visitor's /training ran without app.py
            v.errors.append(f"click {key}: no such widget on {page or 'home'} (the page ran without app.py's sidebar)")
            return v
        try:
            if value is None:
                value = not s.widget(key).value
            v.click_s = await s.set_widget(key, value)
            v.errors += s.last_run_exceptions
        except StudentError as e:
            v.errors.append(f"click {key}: {e}")
        return v
    finally:
        await s.close()


async def phase(target: Target, args) -> tuple[list[Visit], float, float, PhaseClock, bool]:
    rng = random.Random(args.seed)
    rngs = [random.Random(rng.random()) for _ in range(args.students)]
    pages = [args.pages[i % len(args.pages)] for i in range(args.students)]
    mon = TreeMonitor(target.proc.pid)
    mon.start()
    clock = PhaseClock()
    tasks = [asyncio.create_task(student(i, target.base_url, pages[i], rngs[i], args)) for i in range(args.students)]
    done, pending = await settle(tasks, args.phase_timeout)
    clock.stop()
    cpu, rss = await mon.stop()
    visits = []
    for t, page in zip(tasks, pages):
        if t in done and not t.cancelled() and t.exception() is None:
            visits.append(t.result())
        else:
            why = "phase timeout" if t not in done or t.cancelled() else f"crashed: {t.exception()!r}"
            visits.append(Visit(page, errors=[why]))
    return visits, cpu, rss, clock, bool(pending)


async def run_target(name: str, args) -> Result:
    os.environ["CNNVIZ_WARM"] = "on" if name == "warm" else "off"  # the launcher's children inherit it
    with tempfile.TemporaryDirectory(prefix=f"cnnviz-bench-warm-{name}-") as db_dir:  # a fresh store each
        t0 = time.perf_counter()
        target = start_classroom(db_dir, args.replicas)
        ready_s = time.perf_counter() - t0
        try:
            print(f"[{name}] ready at {target.base_url} after {ready_s:.1f} s (launcher pid {target.proc.pid}, "
                  f"{args.replicas} replicas)", flush=True)
            note = await wait_quiet(args.wait_quiet, target.proc.pid) if args.wait_quiet > 0 else ""
            load = os.getloadavg()
            visits, cpu, rss, clock, timed_out = await phase(target, args)
        finally:
            stop_group(target.proc)
            log = pathlib.Path(target.log_path).read_text(errors="replace")
        warm_lines = [ln.split("classroom: ", 1)[-1] for ln in log.splitlines()
                      if "warmed in" in ln or "not fully warmed" in ln or "no warm-up" in ln]
        for ln in warm_lines:
            print(f"[{name}]   launcher: {ln}", flush=True)
    r = Result(name, ready_s, visits, cpu, rss, clock.gen_pct, clock.other_pct(cpu), clock.wall, timed_out,
               note=(note + "; " if note else "") + f"load average before the phase {load[0]:.2f}")
    print(f"[{name}] first page p95 {pct(r.firsts(), 95):.3f} s, clicks p95 {pct(r.clicks(), 95):.3f} s, "
          f"errors {r.errors()}", flush=True)
    return r


def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"  # NaN: nothing measured


def report(results: list[Result], args) -> None:
    print()
    pages = ", ".join(p or "home" for p in args.pages)
    print(f"students {args.students} arriving within {args.arrival:g} s · pages {pages} (in turn)"
          f" · one change each {args.gap[0]:g}–{args.gap[1]:g} s later · {args.replicas} replicas · "
          f"seed {args.seed}")
    print(f"CPU columns: % of one core (this machine has {usable_cores()} usable); 'other' = the machine's busy time "
          "minus the classroom's tree and the load generator")
    head = ["target", "ready after s", "first p50 s", "first p95 s", "first max s", "click p50 s", "click p95 s",
            "click max s", "errors", "classroom CPU %", "peak RSS MiB", "load-gen CPU %", "other CPU %", "wall s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        f, c = r.firsts(), r.clicks()
        print("| " + " | ".join([
            r.target, f"{r.ready_s:.1f}", fmt(pct(f, 50)), fmt(pct(f, 95)), fmt(max(f) if f else float("nan")),
            fmt(pct(c, 50)), fmt(pct(c, 95)), fmt(max(c) if c else float("nan")), str(r.errors()),
            f"{r.cpu_pct:.0f}", f"{r.rss_mib:.0f}", f"{r.gen_pct:.0f}", f"{r.other_pct:.0f}",
            f"{r.wall:.1f}" + (" (phase timeout)" if r.timed_out else "")]) + " |")
    print()
    print("first page p95 by page (s): " + "; ".join(
        f"{r.target}: " + ", ".join(f"{p or 'home'} {fmt(pct(r.firsts(p), 95))}" for p in args.pages) for r in results))
    by = {r.target: r for r in results}
    if "warm" in by and "cold" in by:
        w, c = by["warm"], by["cold"]
        ratios = []
        for label, q in (("p50", 50), ("p95", 95), ("max", 100)):
            cw, ww = pct(c.firsts(), q), pct(w.firsts(), q)
            ratios.append(f"{label} {cw / ww:.1f}×" if ww > 0 else f"{label} –")
        print("first page, cold / warm: " + ", ".join(ratios)
              + f" · ready later by {w.ready_s - c.ready_s:.1f} s (the warm-up)")
    if "warm" in by:
        w = by["warm"]
        fp95, cp95 = pct(w.firsts(), 95), pct(w.clicks(), 95)
        print(f"targets (warm): first page p95 {fmt(fp95)} s ≤ {FIRST_TARGET_S} s: "
              f"{'met' if fp95 <= FIRST_TARGET_S else 'NOT met'}; clicks p95 {fmt(cp95)} s ≤ {CLICK_TARGET_S} s: "
              f"{'met' if cp95 <= CLICK_TARGET_S else 'NOT met'}")
    for r in results:
        errs = sorted({e[:160] for v in r.visits for e in v.errors})
        print(f"note {r.target}: {r.note}" + (f"; errors: {' | '.join(errs[:3])}" if errs else ""))
        if r.firsts():
            print(f"note {r.target}: first page mean {statistics.mean(r.firsts()):.3f} s "
                  f"over {len(r.firsts())} students")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default="warm,cold", help="comma list of warm, cold (default both, in this order)")
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--arrival", type=float, default=2.0, help="students arrive within this many seconds")
    p.add_argument("--pages", default="home,explorer,training,board",
                   help="first pages, dealt to the students in turn (home, explorer, training, board)")
    default_k = os.environ.get("REPLICAS", "").strip()
    p.add_argument("--replicas", type=int, default=int(default_k) if default_k.isdigit() else (os.cpu_count() or 1),
                   help="replicas (default as `make classroom`: $REPLICAS, else the CPU count)")
    p.add_argument("--gap", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                   help="seconds between a student's first page and its change (uniform)")
    p.add_argument("--timeout", type=float, default=60.0, help="per first page and per click, seconds")
    p.add_argument("--phase-timeout", type=float, default=180.0, help="per target's phase, seconds")
    p.add_argument("--wait-quiet", type=float, default=20.0, metavar="S",
                   help="after ready, wait up to S s for the rest of the machine to be quiet (0: not at all); "
                        "a warm classroom is itself quiet by then, a cold one too (nothing was loaded)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    a.targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    if not a.targets or any(t not in ("warm", "cold") for t in a.targets):
        p.error("--targets: warm and/or cold")
    try:
        a.pages = [PAGE_NAMES[x.strip()] for x in a.pages.split(",") if x.strip()]
    except KeyError as e:
        p.error(f"--pages: unknown page {e} (home, explorer, training, board)")
    if not a.pages or not 1 <= a.students <= 200 or a.replicas < 1:
        p.error("need at least one page, 1..200 students and a replica")
    a.gap = (min(a.gap), max(a.gap))
    return a


async def main_async(args) -> int:
    print(machine_line())
    results = []
    for name in args.targets:
        try:
            results.append(await run_target(name, args))
        except RuntimeError as e:  # the classroom never said ready: named, the other target still runs
            print(f"[{name}] skipped: {e}", flush=True)
    report(results, args)
    return 0 if results else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
