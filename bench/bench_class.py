"""The classroom benchmark: N students on the Architecture explorer at once, over real websockets.

Each student is a ``testkit.wsclient.Student``: one real Streamlit browser session over
``/_stcore/stream``, the same protocol the browser speaks (widget states, ForwardMsg cache,
cookies). For each class size N (``--students 1,10,20,40``):

* the N students arrive within ``--arrival`` s (uniform random start offsets);
* each opens the explorer at a random architecture, input side and BatchNorm setting through
  the page's URL (``/explorer?arch=…&side=…&bn=…``, the names and ranges of
  ``ui.schemas.explorer_schema``): that first load is its warm-up and is not a click
  (its time is the "connect p50" column);
* then makes ``--clicks`` changes (default 5), 1–3 s apart, each on a random widget among all
  the explorer offers that are enabled: architecture, input side, BatchNorm, residual,
  channels, batch, dropout, width divisor, activation, diagram detail, table view;
* a click is timed from sending the rerun to its ``script_finished``.

Per row: clicks measured, p50/p95/max seconds per click, the p50 against the 1-student p50
of the plain single-process server measured in the same run (the baseline; 1 student is
always measured first), connect p50, errors (Exception elements on the page, failed
connects, timeouts), disconnects, the server's CPU (utime+stime of the server process tree
over the phase, / wall: 100 % = one core busy) and peak RSS (sum of VmRSS over the tree), the
median kB a click receives, how many large elements the ForwardMsg cache answered
(``ref_hash`` messages: the client already held them), the load generator's own CPU (it
runs on the same cores) and the CPU of everything else on the machine during the phase
(the background training run, or anything else running: more than a few % means the row
was measured on a busy machine).

Targets (``--target``, default both):

* ``single``: one ``streamlit run app.py`` started here on a free loopback port;
* ``classroom``: ``python -m classroom --replicas K --port P --host 127.0.0.1`` (HAProxy in
  front of K replicas), measured over the launcher's whole process tree (HAProxy included).
  Skipped with a note when ``classroom/__main__.py`` is missing or never says "ready".

One warm-up session per replica opens the explorer before the first phase of a target, so
the first class does not pay Python's imports. Servers stay up across the phases of a
target (as during a lesson): the shared trace cache warms as phases go.
``--background-run`` keeps one CLI training run (LeNet, class preset, Fashion-MNIST) going
in a loop during each phase, as a teacher demonstrating training would.

Run: ``.venv/bin/python bench/bench_class.py`` (about 5–6 minutes on 2 cores), or e.g.
``.venv/bin/python bench/bench_class.py --target single --students 1,10,20``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cnnviz.supervisor import free_port  # noqa: E402
from testkit.procs import start_app, stop_group, wait_healthy  # noqa: E402
from testkit.wsclient import Student, StudentError  # noqa: E402

from machine import cpu_model, usable_cores  # noqa: E402

PAGE = "explorer"
SIDES = (28, 32, 48, 64, 96, 128, 160, 192, 224)  # the input sides a class tries first
CLK_TCK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 90.0
SAMPLE_S = 0.5




def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime+stime ticks) of a process, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("latin-1")
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="latin-1") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMonitor:
    """CPU ticks and RSS of a process tree, sampled every ``SAMPLE_S`` during a phase."""

    def __init__(self, root: int):
        self.root = root
        self.start_ticks: dict[int, int] = {}
        self.last_ticks: dict[int, int] = {}
        self.peak_rss_kib = 0
        self._task: asyncio.Task | None = None

    def _sample(self) -> None:
        rss = 0
        for pid in tree(self.root):
            st = _stat(pid)
            if st is None:
                continue
            self.last_ticks[pid] = st[1]
            self.start_ticks.setdefault(pid, 0 if self._task is not None else st[1])
            rss += rss_kib(pid)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_S)
            self._sample()

    def start(self) -> None:
        self._sample()  # processes alive now count from their current ticks
        self._t0 = time.perf_counter()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> tuple[float, float]:
        """(CPU % of one core over the phase, peak RSS MiB)."""
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._sample()
        wall = time.perf_counter() - self._t0
        ticks = sum(self.last_ticks[p] - self.start_ticks.get(p, 0) for p in self.last_ticks)
        return 100.0 * ticks / CLK_TCK / max(wall, 1e-9), self.peak_rss_kib / 1024


def machine_busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return sum(vals[:8]) - idle  # user nice system idle iowait irq softirq steal (guest is in user)


async def wait_quiet(limit_s: float, root: int, threshold_pct: float = 10.0, need_s: int = 3) -> str:
    """Wait (at most ``limit_s``) until the rest of the machine (all but the server tree) has
    used under ``threshold_pct`` of one core for ``need_s`` seconds in a row; a note if not."""
    if limit_s <= 0:
        return ""
    t_end, calm = time.monotonic() + limit_s, 0
    while time.monotonic() < t_end:
        b0, s0 = machine_busy_ticks(), sum(_stat(p)[1] for p in tree(root) if _stat(p))
        await asyncio.sleep(1.0)
        b1, s1 = machine_busy_ticks(), sum(_stat(p)[1] for p in tree(root) if _stat(p))
        other = 100.0 * ((b1 - b0) - (s1 - s0)) / CLK_TCK
        calm = calm + 1 if other < threshold_pct else 0
        if calm >= need_s:
            return ""
    return f"the machine was still busy after waiting {limit_s:.0f} s for it to calm down"


STREAMLIT_OPTS: dict[str, str] = {}  # --streamlit-opt: Streamlit config options for every server


def streamlit_env_var(key: str) -> str:
    """The environment variable Streamlit reads for config option ``key``."""
    from streamlit import config

    opts = config.get_config_options()
    if key not in opts:
        raise SystemExit(f"bench_class: unknown Streamlit option {key!r}")
    return opts[key].env_var


def server_env(db_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CNNVIZ_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    env["CNNVIZ_DB"] = os.path.join(db_dir, "runs.sqlite")
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in STREAMLIT_OPTS.items():  # the classroom's replicas inherit these
        env[streamlit_env_var(key)] = value
    return env






@dataclass
class Target:
    name: str
    base_url: str
    proc: subprocess.Popen
    replicas: int
    log_path: str


def start_single(db_dir: str) -> Target:
    port = free_port()
    log_path = os.path.join(db_dir, "single.log")
    proc = start_app(port, log_path, server_env(db_dir), [x for k, v in STREAMLIT_OPTS.items() for x in (f"--{k}", v)])
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, START_TIMEOUT_S, log_path)
    except Exception:
        stop_group(proc)
        raise
    return Target("single", f"http://127.0.0.1:{port}", proc, 1, log_path)


def start_classroom(db_dir: str, replicas: int) -> Target:
    """``python -m classroom``; waits for its "ready" line. Raises ``RuntimeError`` with a note."""
    if not (ROOT / "classroom" / "__main__.py").is_file():
        raise RuntimeError("classroom/__main__.py does not exist yet")
    env = server_env(db_dir)
    helptext = subprocess.run([sys.executable, "-m", "classroom", "--help"], check=False, cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60).stdout
    port = free_port()
    cmd = [sys.executable, "-m", "classroom", "--replicas", str(replicas), "--port", str(port)]
    if "--host" in helptext:
        cmd += ["--host", "127.0.0.1"]  # loopback only: the benchmark sends no traffic elsewhere
    log_path = os.path.join(db_dir, "classroom.log")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    ready = threading.Event()

    def pump() -> None:  # keep the pipe drained for as long as the launcher runs
        with open(log_path, "wb") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if b"ready" in line.lower():
                    ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S + 30 * replicas
    while not ready.is_set() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    if not ready.is_set():
        status = proc.poll()
        stop_group(proc)
        tail = pathlib.Path(log_path).read_text(errors="replace").strip().splitlines()[-3:]
        why = f"exited with status {status}" if status is not None else "never printed 'ready'"
        raise RuntimeError(f"python -m classroom {why}: " + " | ".join(tail))
    return Target("classroom", f"http://127.0.0.1:{port}", proc, replicas, log_path)


class BackgroundTraining:
    """One CLI training run at a time, restarted in a loop until stopped."""

    CMD = ("-m", "cnnviz", "train", "lenet", "--preset", "class", "--dataset", "fashion-mnist")

    def __init__(self, env: dict[str, str]):
        self.env, self.runs, self.failures = env, 0, 0
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._proc = subprocess.Popen([sys.executable, *self.CMD], cwd=ROOT, env=self.env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)
            try:
                rc = self._proc.wait(300)
            except subprocess.TimeoutExpired:
                stop_group(self._proc)
                rc = -1
            if self._stop.is_set():
                break
            self.runs += 1
            self.failures += rc != 0
            if rc != 0:
                time.sleep(1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._proc is not None:
            stop_group(self._proc, grace=5)
        self._thread.join(10)


# --- students -------------------------------------------------------------------------------
@dataclass
class Outcome:
    connect_s: float | None = None
    clicks: list[float] = field(default_factory=list)
    kb: list[float] = field(default_factory=list)
    sent_bytes: list[int] = field(default_factory=list)
    cache_hits: int = 0
    cacheable_seen: int = 0
    exceptions: int = 0
    failed_connect: bool = False
    timeouts: int = 0
    disconnected: bool = False
    note: str = ""


def initial_query(rng: random.Random, archs: tuple[str, ...]) -> str:
    arch = rng.choice(archs)
    q = {"arch": arch, "side": rng.choice(SIDES), "bn": rng.choice((0, 1))}
    return urllib.parse.urlencode(q)


def pick_change(rng: random.Random, s: Student) -> tuple[str, object]:
    """A random enabled explorer widget and a new value for it, as a student would pick."""
    cands = [w for w in s.widgets() if w.key and w.key.startswith(PAGE + ".") and not w.disabled
             and w.kind in ("selectbox", "slider", "toggle", "checkbox", "radio", "number_input", "select_slider")]
    if not cands:
        raise StudentError(f"no explorer widgets on the page (widgets: {s.widget_keys()})")
    w = rng.choice(cands)
    if w.kind in ("toggle", "checkbox"):
        return w.key, not w.value
    if w.kind in ("selectbox", "radio", "select_slider"):
        opts = [o for o in (w.options or []) if o != w.value] or list(w.options or [])
        return w.key, rng.choice(opts)
    if w.kind == "number_input":  # the batch size: what a class types
        opts = [b for b in (1, 2, 8, 16, 32, 64, 128) if b != w.value]
        return w.key, rng.choice(opts)
    if w.data_type == "FLOAT":  # dropout: 0.0 … 0.9 in steps
        n = round((w.max - w.min) / w.step)
        opts = [round(w.min + i * w.step, 6) for i in range(n + 1) if abs(w.min + i * w.step - (w.value or 0)) > 1e-9]
        return w.key, rng.choice(opts)
    # the input side: somewhere a student would drag it, never the same value
    lo, hi = max(int(w.min), 16), min(int(w.max), 256)
    value = w.value
    while value == w.value:
        value = rng.randint(lo, hi)
    return w.key, value


async def student(i: int, base_url: str, rng: random.Random, archs: tuple[str, ...], arrival: float,
                  clicks: int, gap: tuple[float, float], timeout: float, cache: bool = True) -> Outcome:
    out = Outcome()
    await asyncio.sleep(rng.uniform(0, arrival))
    s = Student(base_url, page=PAGE, query=initial_query(rng, archs), timeout=timeout, preflight=True, cache=cache)
    try:
        try:
            out.connect_s = await s.connect()
        except StudentError as e:
            out.failed_connect = True
            out.timeouts += str(e).startswith("timeout")
            out.disconnected = s.close_code is not None or "closed" in str(e)
            out.note = str(e)
            return out
        out.exceptions += len(s.last_run_exceptions)
        for _ in range(clicks):
            await asyncio.sleep(rng.uniform(*gap))
            try:
                key, value = pick_change(rng, s)
                t = await s.set_widget(key, value)
            except StudentError as e:
                out.note = str(e)
                if str(e).startswith("timeout"):
                    out.timeouts += 1
                if "closed" in str(e) or not s.connected:
                    out.disconnected = True
                    break
                continue
            out.clicks.append(t)
            out.kb.append(s.last_run_bytes / 1024)
            out.sent_bytes.append(s.last_sent_bytes)
            out.cache_hits += s.last_run_cache_hits
            out.exceptions += len(s.last_run_exceptions)
        return out
    finally:
        await s.close()


def pct(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


@dataclass
class Row:
    target: str
    students: int
    clicks: list[float]
    connects: list[float]
    exceptions: int
    failed_connects: int
    timeouts: int
    disconnects: int
    cpu_pct: float
    rss_mib: float
    kb: list[float]
    sent: list[int]
    cache_hits: int
    gen_cpu_pct: float
    other_cpu_pct: float
    wall: float
    phase_timed_out: bool
    training_runs: int | None
    notes: list[str]

    @property
    def errors(self) -> int:
        return self.exceptions + self.failed_connects + self.timeouts


async def warm_up(target: Target, archs: tuple[str, ...], timeout: float) -> None:
    """One session per replica opens the explorer and flips BatchNorm (not measured)."""
    for _ in range(max(target.replicas, 1)):
        s = Student(target.base_url, page=PAGE, query="arch=resnet18", timeout=timeout, preflight=True)
        try:
            await s.connect()
            await s.set_widget(f"{PAGE}.bn", not s.widget(f"{PAGE}.bn").value)
        finally:
            await s.close()


class PhaseClock:
    """One phase's wall time, this process's CPU (the load generator: the students run here) and
    the whole machine's busy time, from construction to ``stop()``; the CPU columns of a row."""

    def __init__(self) -> None:
        self.gen0, self.busy0, self.t0 = os.times(), machine_busy_ticks(), time.perf_counter()
        self.wall = self.gen_pct = self.machine_pct = 0.0

    def stop(self) -> None:
        self.wall = max(time.perf_counter() - self.t0, 1e-9)
        gen1, busy1 = os.times(), machine_busy_ticks()
        self.gen_pct = 100.0 * ((gen1.user - self.gen0.user) + (gen1.system - self.gen0.system)) / self.wall
        self.machine_pct = 100.0 * (busy1 - self.busy0) / CLK_TCK / self.wall

    def other_pct(self, server_pct: float) -> float:
        """The machine's busy time that was neither the server (``server_pct``) nor the load generator."""
        return max(0.0, self.machine_pct - server_pct - self.gen_pct)


async def settle(tasks: list[asyncio.Task], timeout: float) -> tuple[set[asyncio.Task], set[asyncio.Task]]:
    """Wait for a phase's student tasks up to ``timeout`` s; cancel the late ones (and give them
    15 s to unwind). (done, pending), as ``asyncio.wait`` returns them."""
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=15)
    return done, pending


async def phase(target: Target, n: int, args, archs: tuple[str, ...], bg_env: dict[str, str] | None) -> Row:
    rng = random.Random(f"{args.seed}-{n}")
    rngs = [random.Random(rng.random()) for _ in range(n)]
    mon = TreeMonitor(target.proc.pid)
    bg = BackgroundTraining(bg_env) if bg_env is not None else None
    if bg:
        bg.start()
        await asyncio.sleep(1.0)  # the run is under way when the class arrives
    mon.start()
    clock = PhaseClock()
    tasks = [asyncio.create_task(student(i, target.base_url, rngs[i], archs, args.arrival, args.clicks,
                                         args.gap, args.click_timeout, not args.no_cache)) for i in range(n)]
    done, pending = await settle(tasks, args.phase_timeout)
    clock.stop()
    cpu, rss = await mon.stop()
    if bg:
        bg.stop()
    outs: list[Outcome] = []
    notes: list[str] = []
    for t in tasks:
        if t in done and not t.cancelled() and t.exception() is None:
            outs.append(t.result())
        elif t in done and not t.cancelled():
            notes.append(f"student crashed: {type(t.exception()).__name__}: {t.exception()}")
            outs.append(Outcome(failed_connect=True))
        else:
            outs.append(Outcome(timeouts=1, note="phase timeout"))
    notes += sorted({o.note for o in outs if o.note})[:3]
    gen_cpu, wall = clock.gen_pct, clock.wall
    other_cpu = clock.other_pct(cpu)  # background training run included
    return Row(
        target=target.name, students=n,
        clicks=[c for o in outs for c in o.clicks], connects=[o.connect_s for o in outs if o.connect_s is not None],
        exceptions=sum(o.exceptions for o in outs), failed_connects=sum(o.failed_connect for o in outs),
        timeouts=sum(o.timeouts for o in outs), disconnects=sum(o.disconnected for o in outs),
        cpu_pct=cpu, rss_mib=rss, kb=[k for o in outs for k in o.kb], sent=[b for o in outs for b in o.sent_bytes],
        cache_hits=sum(o.cache_hits for o in outs), gen_cpu_pct=gen_cpu, other_cpu_pct=other_cpu, wall=wall,
        phase_timed_out=bool(pending), training_runs=(bg.runs if bg else None), notes=notes)


# --- report ---------------------------------------------------------------------------------
COLUMNS = ("target", "students", "clicks", "p50 s", "p95 s", "max s", "p50 / 1-student p50", "connect p50 s",
           "errors (exc/conn/timeout)", "disconnects", "server CPU %", "CPU ms/run", "peak RSS MiB", "kB/click",
           "cache refs",
           "load-gen CPU %", "other CPU %", "wall s")


def fmt_row(r: Row, base: float | None) -> list[str]:
    p50 = pct(r.clicks, 50)
    ratio = f"{p50 / base:.2f}×" if base and r.clicks else "–"
    return [r.target, str(r.students), str(len(r.clicks)), f"{p50:.3f}", f"{pct(r.clicks, 95):.3f}",
            f"{max(r.clicks) if r.clicks else float('nan'):.3f}", ratio, f"{pct(r.connects, 50):.3f}",
            f"{r.errors} ({r.exceptions}/{r.failed_connects}/{r.timeouts})", str(r.disconnects),
            # server CPU per script run (clicks and first page loads alike): the cost of one run, whole class
            f"{r.cpu_pct:.0f}", f"{10 * r.cpu_pct * r.wall / max(len(r.clicks) + len(r.connects), 1):.0f}",
            f"{r.rss_mib:.0f}", f"{statistics.median(r.kb) if r.kb else 0:.1f}",
            str(r.cache_hits), f"{r.gen_cpu_pct:.0f}", f"{r.other_cpu_pct:.0f}",
            f"{r.wall:.1f}" + (" (phase timeout)" if r.phase_timed_out else "")]


def print_table(rows: list[Row]) -> None:
    base = next((pct(r.clicks, 50) for r in rows if r.target == "single" and r.students == 1 and r.clicks), None)
    base_from = "single"
    if base is None:
        base = next((pct(r.clicks, 50) for r in rows if r.students == 1 and r.clicks), None)
        base_from = rows[0].target if rows else "?"
    print()
    print(f"baseline: 1-student p50 of target {base_from} in this run = "
          + (f"{base:.3f} s" if base else "not measured"))
    print(f"CPU columns: % of one core (this machine has {usable_cores()} usable); 'other' = machine busy "
          "time minus server and load generator")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        print("| " + " | ".join(fmt_row(r, base)) + " |")
    sent = [b for r in rows for b in r.sent]
    if sent:
        print(f"\na click sends {min(sent)}–{max(sent)} bytes (median {statistics.median(sent):.0f}): the rerun "
              "BackMsg with every widget's state, the query string and the cached-message hashes.")
    for r in rows:
        extra = []
        if r.training_runs is not None:
            extra.append(f"a CLI training run ran in a loop throughout; {r.training_runs} finished in the phase")
        extra += r.notes
        if extra:
            print(f"note {r.target} N={r.students}: " + "; ".join(extra))


def machine_line() -> str:
    import streamlit

    return (f"machine: {platform.node()} · {platform.system()} {platform.release()} · {cpu_model()} · "
            f"{os.cpu_count()} cores (usable {usable_cores()}) · python {platform.python_version()} · "
            f"streamlit {streamlit.__version__}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="single,classroom",
                   help="comma list of single, classroom (default both)")
    p.add_argument("--students", default="1,10,20,40", help="class sizes, comma list (1 is always measured)")
    p.add_argument("--replicas", type=int, default=max(2, usable_cores()),
                   help="classroom replicas (default: the usable cores, at least 2)")
    p.add_argument("--clicks", type=int, default=5, help="changes per student after the first load")
    p.add_argument("--arrival", type=float, default=2.0, help="students arrive within this many seconds")
    p.add_argument("--gap", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                   help="seconds between a student's changes (uniform)")
    p.add_argument("--click-timeout", type=float, default=60.0, help="per click (and per first load), seconds")
    p.add_argument("--phase-timeout", type=float, default=240.0, help="per class size, seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--background-run", action="store_true", help="a CLI training run in a loop during each phase")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                   help="before each phase, wait up to S s until nothing else on the machine uses the CPU "
                        "(for shared machines; the 'other CPU %%' column shows what ran anyway)")
    p.add_argument("--streamlit-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="a Streamlit config option for the servers, e.g. runner.postScriptGC=false "
                        "(a flag for single, an environment variable for the classroom replicas)")
    p.add_argument("--no-cache", action="store_true",
                   help="students keep no ForwardMsg cache (send no cached_message_hashes): what caching saves")
    a = p.parse_args(argv)
    a.targets = [t.strip() for t in a.target.split(",") if t.strip()]
    bad = [t for t in a.targets if t not in ("single", "classroom")]
    if bad:
        p.error(f"unknown target(s): {', '.join(bad)}")
    sizes = sorted({int(x) for x in a.students.split(",") if x.strip()} | {1})
    if any(n < 1 or n > 200 for n in sizes):
        p.error("class sizes must be within 1..200")
    a.sizes = sizes
    a.gap = (min(a.gap), max(a.gap))
    for opt in a.streamlit_opt:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            p.error(f"--streamlit-opt needs KEY=VALUE, got {opt!r}")
        STREAMLIT_OPTS[key.strip()] = value.strip()
        streamlit_env_var(key.strip())  # fail now on a typo
    return a


async def run_target(name: str, args, archs, db_dir: str, rows: list[Row]) -> None:
    t0 = time.perf_counter()
    target = start_single(db_dir) if name == "single" else start_classroom(db_dir, args.replicas)
    try:
        print(f"[{name}] up at {target.base_url} in {time.perf_counter() - t0:.1f} s (pid {target.proc.pid})",
              flush=True)
        await warm_up(target, archs, args.click_timeout)
        bg_env = server_env(db_dir) if args.background_run else None
        for n in args.sizes:
            busy_note = await wait_quiet(args.wait_quiet, target.proc.pid)
            row = await phase(target, n, args, archs, bg_env)
            if busy_note:
                row.notes.insert(0, busy_note)
            rows.append(row)
            print(f"[{name}] {n} students: {len(row.clicks)} clicks, p50 {pct(row.clicks, 50):.3f} s, "
                  f"p95 {pct(row.clicks, 95):.3f} s, errors {row.errors}, {row.wall:.0f} s", flush=True)
            await asyncio.sleep(2.0)  # let the previous class's sessions close
    finally:
        stop_group(target.proc)


async def main_async(args) -> int:
    from ui import schemas  # the explorer's valid architecture names

    archs = schemas.explorer_schema().field("arch").choices
    print(machine_line())
    print(f"students {args.sizes} · {args.clicks} changes each, {args.gap[0]:g}–{args.gap[1]:g} s apart · "
          f"arrival within {args.arrival:g} s · seed {args.seed} · click timeout {args.click_timeout:g} s"
          + (" · background training run" if args.background_run else "")
          + (" · no ForwardMsg cache" if args.no_cache else "")
          + "".join(f" · {k}={v}" for k, v in STREAMLIT_OPTS.items()), flush=True)
    rows: list[Row] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-class-") as db_dir:
        for name in args.targets:
            try:
                await run_target(name, args, archs, db_dir, rows)
            except RuntimeError as e:
                skipped.append(f"{name}: skipped ({e})")
                print(f"[{name}] skipped: {e}", flush=True)
    print_table(rows)
    for s in skipped:
        print("note " + s)
    return 0 if rows else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
