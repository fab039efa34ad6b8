"""The scheduler's benchmark: a class of students on one worker pool, each figure against a
baseline measured in the same run.

One real pool (``python -m cnnviz pool --db STORE``, the command ``make classroom`` runs, its
plan from the cores or ``$CNNVIZ_WORKERS`` / ``$CNNVIZ_WORKER_THREADS``) serves a fresh
temporary store. Students are threads, each with its own student id, split between two
``Scheduler`` objects (two "replicas" on the one store); each presses Start with
``Scheduler.submit`` at the same moment (a barrier) and then polls its job every
``--poll`` s, as the page's fragment does, until it sees it finished. The jobs are the
LeNet class-period recipe (``recipe_config("lenet", "class")``) on ``$CNNVIZ_DATA_DIR``'s
Fashion-MNIST. First, one warm-up job per worker (the data into each worker's cache), then
``--solo`` runs one at a time: the solo time (submit → seen finished) of the baseline.

Sections (``--section``, default all):

* ``same``: N students press Start on the same preset at once. They share one job (its
  content key): time until all N see it finished, against the solo time. Target ≤ 2×.
* ``distinct``: N students start N different runs (the preset with seeds 1..N) at once.
  The time until all are finished against N × solo ÷ workers (the pool kept busy; the solo
  time is the mean of the solo runs). Target ≤ 1.3×. Also the ETA each student was shown
  right after pressing Start (``Scheduler.place(run).end_s``) against the truth (its finish
  − its submit): the fraction within ±30 % and the worst error.
* ``cores``: a lab job (``--lab KIND --lab-params JSON``, when that kind is registered) and
  a training run together, or two training runs when no lab kind is given: the worker
  processes' CPU (utime+stime deltas from /proc, all workers and the pool summed, over each
  ``--sample`` s window) never exceeds the cores (10 % tolerance for the sampling), and the
  heartbeat's workers × threads ≤ the cores; each worker's OS thread count is listed too
  (torch's pool threads plus Python's: not the measure, the ``--threads`` it was given is).

Every phase prints the pool's CPU (its processes, against the threads of its busy workers)
and the CPU the rest of the machine used meanwhile (anything not this bench nor its pool, in
% of one core): more than a few % means a busy machine, which slows a phase of many jobs
more than its one-job baseline. So each ratio is also printed scaled by the share of its
cores the pool got in the phase against the share the solo runs got ("at solo's CPU
share"): an estimate of the ratio on a quiet machine, next to the measured one, which alone
decides the verdict. Before each phase the bench waits up to ``--wait-quiet`` s for the
machine to calm down, and notes it when it did not.

Run: ``.venv/bin/python bench/bench_sched.py`` (about 5 minutes on 2 quiet cores: the 40
distinct runs are 40 × ~9 s ÷ 2 workers), or ``--quick`` (10 students, 2 solo runs: about
2 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cnnviz.runs.kinds import kinds  # noqa: E402
from cnnviz.runs.scheduler import Scheduler  # noqa: E402
from cnnviz.runs.store import RunStore  # noqa: E402
from cnnviz.settings import data_dir  # noqa: E402
from cnnviz.train.data import available  # noqa: E402
from cnnviz.train.recipes import recipe_config  # noqa: E402

from machine import cpu_model, table, usable_cores  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
ARCH = "lenet"
THREADS = [1]  # each worker's torch threads (the pool's plan), set once the pool is up


# --- /proc -------------------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime ticks), None when the process is gone."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/stat").read_text(encoding="latin-1")
    except OSError:
        return None
    f = raw[raw.rindex(")") + 2:].split()
    return int(f[1]), int(f[11]) + int(f[12])


def children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[0] == pid:
                out.append(int(name))
    return out


def os_threads(pid: int) -> int:
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_ticks() -> int:
    with open("/proc/stat", encoding="ascii") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    return sum(vals[:8]) - vals[3] - vals[4]


def _ticks(pids) -> int:
    return sum(st[1] for p in pids if (st := _stat(p)) is not None)


class Load:
    """Over a section, in % of one core: the pool's CPU (supervisor and workers), and the rest
    of the machine's (all but this process and the pool). The workers live throughout."""

    def __init__(self, pool_pid: int):
        self.pool_pid = pool_pid

    def _pool(self) -> int:
        return _ticks([self.pool_pid, *children(self.pool_pid)])

    def __enter__(self) -> Load:
        self.t0, self.b0 = time.perf_counter(), machine_busy_ticks()
        self.p0, self.m0 = self._pool(), _ticks([os.getpid()])
        return self

    def __exit__(self, *exc) -> None:
        self.wall = max(time.perf_counter() - self.t0, 1e-9)
        pool, me = self._pool() - self.p0, _ticks([os.getpid()]) - self.m0
        other = (machine_busy_ticks() - self.b0) - pool - me
        self.pool_pct = 100.0 * pool / CLK_TCK / self.wall
        self.other_pct = max(0.0, 100.0 * other / CLK_TCK / self.wall)


def wait_quiet(limit_s: float, pool_pid: int, threshold_pct: float = 25.0, need_s: int = 3) -> str:
    """Wait (at most ``limit_s``) until the rest of the machine used under ``threshold_pct`` of one
    core for ``need_s`` seconds in a row; a note when it never did."""
    t_end, calm = time.monotonic() + limit_s, 0
    while time.monotonic() < t_end:
        with Load(pool_pid) as load:
            time.sleep(1.0)
        calm = calm + 1 if load.other_pct < threshold_pct else 0
        if calm >= need_s:
            return ""
    return f"the rest of the machine still used ≥ {threshold_pct:.0f} % of a core after {limit_s:.0f} s of waiting"


# --- the pool and the students ---------------------------------------------------------------------
def start_pool(db: pathlib.Path) -> subprocess.Popen:
    from testkit.calibration import seed

    seed(db)  # the pool's own calibration would hold a worker for a minute first (bench_estimate measures it)
    log = open(str(db) + ".pool.log", "ab")  # noqa: SIM115
    try:
        return subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db), "--exit-with-parent"],
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def wait_workers(db: pathlib.Path, proc: subprocess.Popen, timeout: float = 90) -> tuple[int, int]:
    """Until the pool beats and all its workers are exec'd; its (workers, threads)."""
    store = RunStore(db)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            row = store.pool()
            if row is not None and row.pid == proc.pid and row.alive():
                kids = [k for k in children(proc.pid) if b"--worker" in pathlib.Path(f"/proc/{k}/cmdline").read_bytes()]
                if len(kids) == row.workers:
                    return row.workers, row.threads
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        store.close()
    log = pathlib.Path(str(db) + ".pool.log").read_text()[-2000:]
    raise SystemExit(f"bench_sched: the pool did not come up: {log}")


def preset(seed: int | None = None, **changes) -> dict:
    cfg = recipe_config(ARCH, "class", **({"seed": seed} if seed is not None else {}), **changes)
    return cfg.to_dict()


@dataclass
class Seen:
    """One student's view of one press of Start."""

    student: str
    run_id: str = ""
    attached: bool = False
    submit_wall: float = 0.0  # time.time() at submit (the store's clock)
    submit: float = 0.0  # perf_counter
    seen: float = 0.0  # perf_counter when the student's poll saw it finished
    eta_s: float | None = None  # Place.end_s right after submitting
    status: str = ""
    ended: float = 0.0  # the store's end time of the job
    errors: list[str] = field(default_factory=list)


def press_start(scheds: list[Scheduler], jobs: list[tuple[str, dict]], poll: float, timeout: float) -> list[Seen]:
    """Every (student, params) presses Start at the same moment, from its own thread, and polls
    its job until it is no longer queued or running."""
    barrier = threading.Barrier(len(jobs))
    out = [Seen(s) for s, _ in jobs]

    def student(i: int) -> None:
        sch = scheds[i % len(scheds)]
        me = out[i]
        try:
            barrier.wait(timeout)
            me.submit_wall, me.submit = time.time(), time.perf_counter()
            t = sch.submit("train", jobs[i][1], me.student)
            me.run_id, me.attached = t.run_id, t.attached
            me.eta_s = sch.place(t.run_id).end_s
            deadline = me.submit + timeout
            while time.perf_counter() < deadline:
                info = sch.get(t.run_id)
                if not info.live:
                    me.seen, me.status, me.ended = time.perf_counter(), info.status, info.ended or 0.0
                    return
                time.sleep(poll)
            me.errors.append("timeout")
        except Exception as err:  # noqa: BLE001 (reported in the table)
            me.errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(len(jobs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout + 30)
    return out


def span(seen: list[Seen]) -> float:
    return max(s.seen for s in seen) - min(s.submit for s in seen)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# --- the sections ---------------------------------------------------------------------------------------
def solo_runs(scheds, n: int, poll: float, timeout: float, pool_pid: int) -> tuple[list[float], Load]:
    times = []
    with Load(pool_pid) as load:
        for i in range(n):
            (s,) = press_start(scheds, [(f"solo-{i}", preset(seed=1000 + i))], poll, timeout)
            if s.errors or s.status != "completed":
                raise SystemExit(f"bench_sched: solo run {i} ended {s.status or s.errors}")
            times.append(s.seen - s.submit)
            print(f"solo run {i + 1}/{n}: {times[-1]:.2f} s (submit → seen finished)", flush=True)
    return times, load


def cpu(load: Load, of: int) -> str:
    """The pool's CPU over a phase against what it could use (``of`` threads busy at most)."""
    return f"{load.pool_pct:.0f} % of {100 * of} %"


SOLO_SHARE = [1.0]  # the share of its one busy worker's threads the pool got during the solo runs


def adjusted(ratio: float, load: Load, of: int) -> str:
    """``ratio`` as if this phase had got the CPU share the solo runs got: on a busy machine the
    pool gets less than its cores, which slows a phase and not its baseline alike. An estimate,
    printed next to the measured ratio, never instead of it."""
    share = load.pool_pct / (100.0 * of)
    return f"{ratio * share / SOLO_SHARE[0]:.2f}×"


def section_same(scheds, n, solo, poll, timeout, load_pid) -> list:
    with Load(load_pid) as load:
        seen = press_start(scheds, [(f"same-{i}", preset()) for i in range(n)], poll, timeout)
    errors = sum(bool(s.errors) for s in seen)
    jobs = len({s.run_id for s in seen if s.run_id})
    t = span(seen)
    ratio = t / solo
    print(f"same preset: {n} students, {jobs} job(s), all saw it finished after {t:.2f} s "
          f"({ratio:.2f}× solo), errors {errors}", flush=True)
    return [f"{n} students, same preset", f"{jobs} job", f"{t:.2f} s", f"solo {solo:.2f} s", f"{ratio:.2f}×",
            "≤ 2×", verdict(ratio <= 2 and not errors and jobs == 1), adjusted(ratio, load, THREADS[0]),
            cpu(load, THREADS[0]),
            f"{load.other_pct:.0f} %", errors]


def section_distinct(scheds, n, solo, workers, poll, timeout, load_pid) -> tuple[list, list]:
    with Load(load_pid) as load:
        seen = press_start(scheds, [(f"distinct-{i}", preset(seed=1 + i)) for i in range(n)], poll, timeout)
    errors = sum(bool(s.errors) or s.status != "completed" for s in seen)
    jobs = len({s.run_id for s in seen if s.run_id})
    t = span(seen)
    ideal = n * solo / workers
    ratio = t / ideal
    errs = []
    for s in seen:
        if s.eta_s is not None and s.ended:
            truth = s.ended - s.submit_wall
            errs.append((s.eta_s - truth) / truth)
    within = sum(abs(e) <= 0.30 for e in errs) / max(1, len(errs))
    worst = max(errs, key=abs) if errs else float("nan")
    print(f"distinct runs: {n} students, {jobs} jobs, all finished after {t:.1f} s ({ratio:.2f}× of "
          f"{n} × {solo:.2f} s ÷ {workers}); ETA within ±30 %: {within:.0%}, worst {worst:+.0%}", flush=True)
    row = [f"{n} students, {n} runs", f"{jobs} jobs", f"{t:.1f} s", f"{n}×solo÷{workers} = {ideal:.1f} s",
           f"{ratio:.2f}×", "≤ 1.3×", verdict(ratio <= 1.3 and not errors),
           adjusted(ratio, load, workers * THREADS[0]), cpu(load, workers * THREADS[0]),
           f"{load.other_pct:.0f} %", errors]
    eta = [f"{n} ETAs shown at Start", f"{within:.0%} within ±30 %", f"worst {worst:+.0%}",
           f"median |err| {statistics.median(abs(e) for e in errs):.0%}" if errs else "-"]
    return row, eta


def section_cores(scheds, pool_pid, workers, threads, lab, lab_params, sample_s, poll, timeout) -> tuple[list, str]:
    cores = usable_cores()
    sch = scheds[0]
    note = ""
    if lab and lab in kinds():
        a = sch.submit(lab, lab_params, "cores-lab").run_id
        what = f"{lab} lab job + a training run"
    else:
        a = sch.submit("train", preset(seed=5000, epochs=40), "cores-a").run_id
        what = "two training runs"
        note = (f"lab kind {lab!r} is not registered in this tree: two training runs instead" if lab
                else "no lab kind given (--lab): two training runs")
    b = sch.submit("train", preset(seed=5001, epochs=40), "cores-b").run_id
    samples, thr = [], {}
    last = {p: st[1] for p in [pool_pid, *children(pool_pid)] if (st := _stat(p)) is not None}
    t_last = time.perf_counter()
    both = False
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        time.sleep(sample_s)
        now = time.perf_counter()
        cur = {p: st[1] for p in [pool_pid, *children(pool_pid)] if (st := _stat(p)) is not None}
        live = [sch.get(r).status for r in (a, b)]
        running = sum(s == "running" for s in live)
        if running == 2:
            both = True
            delta = sum(cur[p] - last.get(p, cur[p]) for p in cur)
            samples.append(100.0 * delta / CLK_TCK / (now - t_last))
            for p in cur:
                if p != pool_pid:
                    thr[p] = max(thr.get(p, 0), os_threads(p))
        last, t_last = cur, now
        if not any(s in ("queued", "running") for s in live):
            break
    if not both:
        return [what, "never both running", "-", "-", "-", "-", "MISSED"], note
    peak, mean = max(samples), statistics.mean(samples)
    ok = peak <= 100 * cores * 1.10 and workers * threads <= cores
    row = [what, f"{len(samples)} × {sample_s:g} s", f"mean {mean:.0f} %, peak {peak:.0f} %", f"{100 * cores} %",
           f"{workers}×{threads} ≤ {cores}", " ".join(str(v) for v in sorted(thr.values())), verdict(ok)]
    return row, note


# --- main ----------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--section", default="same,distinct,cores", help="comma list of same, distinct, cores")
    p.add_argument("--students", type=int, default=40, help="class size (default 40)")
    p.add_argument("--solo", type=int, default=3, help="solo runs measured first (default 3)")
    p.add_argument("--poll", type=float, default=0.2, help="each student's poll period, s (default 0.2)")
    p.add_argument("--sample", type=float, default=0.5, help="CPU sampling window of the cores section, s")
    p.add_argument("--lab", default="gradflow", help="the lab kind of the cores section (default gradflow)")
    p.add_argument("--lab-params", default="{}", help="its parameters, JSON (default {})")
    p.add_argument("--timeout", type=float, default=600, help="longest wait for any job, s")
    p.add_argument("--wait-quiet", type=float, default=30, help="before each phase, wait up to this many s for "
                   "the rest of the machine to calm down (default 30; 0: never)")
    p.add_argument("--quick", action="store_true", help="10 students, 2 solo runs")
    a = p.parse_args(argv)
    a.sections = [s.strip() for s in a.section.split(",") if s.strip()]
    if a.quick:
        a.students, a.solo = min(a.students, 10), min(a.solo, 2)
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if not available("fashion-mnist"):
        print("bench_sched: Fashion-MNIST is not in the data folder (set CNNVIZ_DATA_DIR)", file=sys.stderr)
        return 1
    import cnnviz.jobs  # noqa: F401  (every job kind, registered for this benchmark's own submissions)

    load1 = os.getloadavg()[0]
    print(f"machine: {platform.node()} · {cpu_model()} · {os.cpu_count()} cores (usable {usable_cores()}) · "
          f"python {platform.python_version()} · load average {load1:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-sched-") as tmp:
        db = pathlib.Path(tmp) / "runs.sqlite"
        pool = start_pool(db)
        try:
            workers, threads = wait_workers(db, pool)
            THREADS[0] = threads
            scheds = [Scheduler(db, pool="external", max_live=1) for _ in range(2)]
            print(f"pool: {workers} worker(s) × {threads} thread(s); jobs: {ARCH} class recipe on "
                  f"{data_dir()}/fashion-mnist ({json.dumps({k: preset()[k] for k in ('epochs', 'batch_size')})}, "
                  f"subset {preset()['data']['subset']}); {a.students} students on 2 schedulers; poll {a.poll:g} s",
                  flush=True)
            warm = press_start(scheds, [(f"warm-{i}", preset(seed=9000 + i, epochs=1)) for i in range(workers)],
                               a.poll, a.timeout)
            print(f"warm-up: {workers} job(s), {span(warm):.1f} s", flush=True)
            notes = []

            def quiet(phase: str) -> None:
                if a.wait_quiet > 0 and (note := wait_quiet(a.wait_quiet, pool.pid)):
                    notes.append(f"{phase}: {note}")

            quiet("solo")
            solos, solo_load = solo_runs(scheds, a.solo, a.poll, a.timeout, pool.pid)
            solo = statistics.mean(solos)
            SOLO_SHARE[0] = max(1e-3, solo_load.pool_pct / (100.0 * threads))
            rows, eta, cores_row = [[f"{len(solos)} solo run(s), one at a time", f"{len(solos)} jobs",
                                     f"mean {solo:.2f} s", "-", "1.00×", "-", "", "1.00×", cpu(solo_load, threads),
                                     f"{solo_load.other_pct:.0f} %", 0]], None, None
            if "same" in a.sections:
                quiet("same")
                rows.append(section_same(scheds, a.students, solo, a.poll, a.timeout, pool.pid))
            if "distinct" in a.sections:
                quiet("distinct")
                row, eta = section_distinct(scheds, a.students, solo, workers, a.poll, a.timeout, pool.pid)
                rows.append(row)
            if "cores" in a.sections:
                quiet("cores")
                cores_row, note = section_cores(scheds, pool.pid, workers, threads, a.lab, json.loads(a.lab_params),
                                                a.sample, a.poll, a.timeout)
                if note:
                    notes.append(note)
            for s in scheds:
                s.close()
        finally:
            pool.terminate()
            try:
                pool.wait(20)
            except subprocess.TimeoutExpired:
                pool.kill()
    print(f"\n## one pool for a class (solo baseline: mean of {len(solos)} runs = {solo:.2f} s; "
          f"each {', '.join(f'{x:.2f}' for x in solos)} s)\n")
    if rows:
        table(rows, ["case", "jobs", "all finished", "baseline", "ratio", "target", "", "at solo's CPU share",
                     "pool CPU", "other CPU", "errors"])
    if eta:
        print()
        table([eta], ["ETA vs truth", "within", "worst", "median"])
    if cores_row:
        print()
        table([cores_row], ["together", "samples", "workers' CPU", "cores", "plan", "OS threads", ""])
    for n in notes:
        print("note " + n)
    print(f"load average {os.getloadavg()[0]:.2f} at the end (started at {load1:.2f}). pool CPU: the pool's "
          "processes during the phase against workers × threads busy; other CPU: the rest of the machine, "
          "% of one core (a busy machine slows every row, the solo baseline included); at solo's CPU share: the "
          "ratio scaled by the share of its busy cores the pool got in the phase against the solo runs' (an "
          "estimate of the ratio on a quiet machine; the verdict is the measured ratio's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
