"""What one explorer click costs the server, in CPU, over the real websocket path.

One student (``testkit.wsclient.Student``) on the explorer of a freshly started
``streamlit run app.py`` makes ``--clicks`` changes one after another, as in the classroom
benchmark (``bench_class.pick_change``: architecture, side, BatchNorm, channels...). For each
click the server's CPU time (``time.process_time_ns()`` inside the server: every thread,
those that already ended included, as the script runner's threads do) is read just before the
click is sent and again once the process has gone quiet after its ``script_finished``
(Streamlit's post-run garbage collection runs after the run's last message), minus the idle
server's own rate over the same window. The server answers those reads on a Unix socket from
a thread this benchmark adds (``PROBE``); the app itself is unchanged.

Two kinds of click:

* ``warm``: every configuration has been seen before (by this or another student): what most
  clicks of a class cost once a lesson is under way, since the traces, the figures and the
  tables are computed once per server;
* ``cold``: a configuration nobody asked for yet (a new input side each time): trace, figures.

Variants, one server each, in one run: ``default`` (the project's ``.streamlit/config.toml``),
and the same with ``runner.postScriptGC`` switched the other way, so that the setting is
decided on a measurement made in the same run. The baseline of the ratio column is the first
variant's warm median.

``--profile`` samples the first server with py-spy during its warm and cold clicks (``pip
install py-spy``) and splits its CPU into what runs it: the page script, building figures,
serialising them (plotly JSON), protobuf and hashing, the trace, the garbage collector, the
websocket/tornado layer.

Run: ``.venv/bin/python bench/bench_click.py`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import pathlib
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_class import pick_change, server_env  # noqa: E402

from cnnviz.supervisor import free_port  # noqa: E402
from testkit.procs import stop_group, wait_healthy  # noqa: E402
from testkit.wsclient import Student  # noqa: E402

from machine import cpu_model, usable_cores  # noqa: E402

TARGET_MS = 30.0  # median server CPU per explorer click (the target)
QUIET_S = 0.05  # the process counts as quiet after this long without a CPU tick
SETTLE_MAX_S = 3.0


# Runs the server as `python -m streamlit ...` would, plus one thread that answers each
# connection on the socket with the process's CPU time. /proc's per-thread counters lose the
# script runner's threads when they end, and its process counters tick at 10 ms.
PROBE = """
import os, socket, sys, threading, time
path = sys.argv.pop(1)
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(8)
def answer():
    while True:
        c, _ = srv.accept()
        with c:
            c.sendall(str(time.process_time_ns()).encode())
threading.Thread(target=answer, daemon=True, name="cpu-probe").start()
from streamlit.web.cli import main
sys.argv[0] = "streamlit"
main(prog_name="streamlit")
"""
_SOCKET: dict[int, str] = {}  # server pid -> its probe socket


def cpu_ns(pid: int) -> int:
    """The server's CPU time so far (all threads), in ns."""
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(_SOCKET[pid])
        return int(c.recv(64))


async def settle(pid: int) -> int:
    """Wait until the server has not run for ``QUIET_S`` (bounded); its CPU time then."""
    deadline = time.monotonic() + SETTLE_MAX_S
    last = cpu_ns(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(QUIET_S)
        now = cpu_ns(pid)
        if now - last < 2_000_000:  # under 2 ms in 50 ms: only the event loop's idle ticks
            return now
        last = now
    return last


async def idle_rate(pid: int, seconds: float = 2.0) -> float:
    """The idle server's own CPU, ns per s (tornado's timers, the file watcher if any)."""
    a, t0 = cpu_ns(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_ns(pid) - a) / (time.monotonic() - t0)


async def clicks(base: str, pid: int, n: int, rng: random.Random, cold: bool, walk: list) -> list[float]:
    """CPU ms of ``n`` clicks. Warm clicks replay ``walk`` from the same start, so every state they
    reach is one the server has drawn before; cold ones set a new input side each time."""
    s = Student(base, page="explorer", query="arch=resnet18", timeout=60)
    await s.connect()
    await settle(pid)
    idle = await idle_rate(pid, 1.0)
    out = []
    try:
        used_sides = set()
        for _ in range(n):
            if cold:
                side = rng.randint(40, 250)
                while side in used_sides:
                    side = rng.randint(40, 250)
                used_sides.add(side)
                key, value = "explorer.side", side
            else:
                key, value = walk[len(out) % len(walk)]
            before, t0 = cpu_ns(pid), time.monotonic()
            await s.set_widget(key, value)
            after = await settle(pid)
            out.append((after - before - idle * (time.monotonic() - t0)) / 1e6)
            if s.exceptions:
                raise RuntimeError(f"the page raised: {s.exceptions[-1][:200]}")
    finally:
        await s.close()
    return out


async def learn_walk(base: str, rng: random.Random, n: int) -> list[tuple[str, object]]:
    """``n`` random changes as a student makes them, applied once from the start the warm clicks
    use: afterwards every state of the walk is in the server's caches (as for the students who
    follow the first one to a configuration)."""
    s = Student(base, page="explorer", query="arch=resnet18", timeout=60)
    await s.connect()
    walk = []
    try:
        for _ in range(n):
            key, value = pick_change(rng, s)
            await s.set_widget(key, value)
            walk.append((key, value))
    finally:
        await s.close()
    return walk


def profile_breakdown(raw: str) -> list[tuple[str, float]]:
    """Share of samples per category, from py-spy's collapsed stacks (``frame;frame;... count``)."""
    cats = collections.Counter()
    total = 0
    rules = (  # first match wins, from the leaf's point of view
        ("garbage collector (post-run gc.collect)", ("gc_collect", "_post_script_gc", "collect (gc)", "gc.collect")),
        ("trace (cnnviz.inspect, torchinfo)", ("cnnviz/inspect/", "torchinfo/")),
        ("structure diagram (cnnviz.viz.diagram)", ("cnnviz/viz/diagram/",)),
        ("building figures (cnnviz.viz, plotly validation)",
         ("cnnviz/viz/", "plotly/basedatatypes", "plotly/graph_objs")),
        ("serialising figures (plotly to_json / to_dict)", ("plotly/io/_json", "to_dict (plotly", "plotly/io")),
        ("protobuf and message hashing", ("SerializeToString", "forward_msg_cache", "google/protobuf", "calc_hash")),
        ("websocket, tornado, asyncio", ("tornado/", "asyncio/", "browser_websocket_handler")),
        ("page script (pages/, ui/, widgets)", ("pages/", "/ui/", "streamlit/elements", "streamlit/runtime/state")),
        ("other Streamlit runtime", ("streamlit/",)),
    )
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        leaf = stack.split(";")[-1]
        if "(idle)" in stack or "wait (threading.py)" in leaf or "select (selectors.py)" in leaf:
            continue  # sleeping threads
        total += k
        for name, marks in rules:
            if any(m in stack for m in marks):
                cats[name] += k
                break
        else:
            cats["other"] += k
    return [(name, 100.0 * v / total) for name, v in cats.most_common()] if total else []


async def measure(variant: str, opts: dict[str, str], args, rng_seed: int, tmp: str,
                  profile: bool) -> tuple[dict[str, list[float]], list[tuple[str, float]] | None]:
    port = free_port()
    log = os.path.join(tmp, f"{variant}.log")
    extra = [x for k, v in opts.items() for x in (f"--{k}", v)]
    sock = os.path.join(tmp, f"{variant}.cpu")
    cmd = [sys.executable, "-c", PROBE, sock, "run", "app.py", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env(tmp), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    _SOCKET[proc.pid] = sock
    base = f"http://127.0.0.1:{port}"
    spy = None
    try:
        wait_healthy(base, proc, 90, log)
        rng = random.Random(rng_seed)
        walk = await learn_walk(base, rng, args.clicks)
        result = {}
        if profile:
            raw_path = os.path.join(tmp, "profile.txt")
            spy = subprocess.Popen([shutil.which("py-spy") or "py-spy", "record", "--pid", str(proc.pid),
                                    "--rate", "200", "--format", "raw", "--output", raw_path, "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            await asyncio.sleep(1.0)
        result["warm"] = await clicks(base, proc.pid, args.clicks, rng, False, walk)
        result["cold"] = await clicks(base, proc.pid, args.cold_clicks, rng, True, walk)
        breakdown = None
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C, not on SIGTERM
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(20)
            stop_group(spy, grace=5)
            spy = None
            try:
                breakdown = profile_breakdown(pathlib.Path(raw_path).read_text())
            except OSError:
                breakdown = []
        return result, breakdown
    finally:
        if spy is not None:
            stop_group(spy, grace=5)
        stop_group(proc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clicks", type=int, default=40, help="warm clicks per variant")
    ap.add_argument("--cold-clicks", type=int, default=12, help="cold clicks per variant")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="py-spy breakdown of the default server's warm clicks")
    args = ap.parse_args(argv)
    if args.profile and not shutil.which("py-spy"):
        print("--profile needs py-spy (pip install py-spy)", file=sys.stderr)
        return 2
    from streamlit import config as st_config

    st_config.get_config_options(force_reparse=True, options_from_flags={})
    current = bool(st_config.get_option("runner.postScriptGC"))
    variants = [("default", {}), (f"postScriptGC={'false' if current else 'true'}",
                                   {"runner.postScriptGC": "false" if current else "true"})]
    print(f"# explorer: server CPU per click, one student over the websocket\n\n{cpu_model()}, "
          f"{usable_cores()} cores, Python {sys.version.split()[0]}; this project's config has "
          f"runner.postScriptGC={str(current).lower()}\n")
    rows, breakdown, base = [], None, None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, opts) in enumerate(variants):
            res, bd = asyncio.run(measure(name, opts, args, args.seed, tmp, args.profile and i == 0))
            breakdown = breakdown or bd
            for kind in ("warm", "cold"):
                v = res[kind]
                med = statistics.median(v)
                base = base or med
                p90 = sorted(v)[int(0.9 * (len(v) - 1))]
                rows.append((name, kind, len(v), med, p90, max(v), med / base))
    head = ("server", "clicks", "n", "median ms", "p90 ms", "max ms", "median / default warm")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, kind, n, med, p90, mx, ratio in rows:
        print(f"| {name} | {kind} | {n} | {med:.1f} | {p90:.1f} | {mx:.1f} | {ratio:.2f}× |")
    warm_default = rows[0][3]
    print(f"\ntarget: median warm click ≤ {TARGET_MS:.0f} ms of server CPU with the project's config: "
          f"{'PASS' if warm_default <= TARGET_MS else 'FAIL'} ({warm_default:.1f} ms)")
    if breakdown:
        print(f"\n## where the {variants[0][0]} server's clicks spend their CPU (py-spy samples, warm and cold)\n")
        print("| part | share |\n|---|---|")
        for name, share in breakdown:
            print(f"| {name} | {share:.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
