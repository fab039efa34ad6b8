"""The estimates' benchmark: what the training form says before Start against the wall time of
the run, started as a student starts it, through a real pool, on a fresh store.

One real pool (``python -m cnnviz pool --db STORE``, its plan from the cores: 2 workers × 1
thread on 2 cores) serves a fresh temporary store, so it first measures the machine (the
"calibrate" job, ``cnnviz.runs.calibration``); its length is the first row. Then, one at a time
(the run alone on the pool, as the target says):

* ``class``: every architecture of the training page (``list_models()``) with its class-period
  recipe: the estimate a student's form shows (``Scheduler.train_estimate``, cold: from the
  calibration only), then ``submit`` as a student, and the run's wall time in its worker
  (start → end) and as the student saw it (submit → seen finished). Targets: the estimate within
  ±30 % of the run's wall time; the run ≤ 60 s alone.
* ``after``: for a few architectures (``--after``), the same recipe with another seed after one
  run: the estimate now comes from the finished run ("runs"); the error against this second run.
* ``book``: each family's book recipe for one epoch, on ``--book-subset`` training images (the
  book's full epoch on this CPU is many minutes per family): the estimate as the teacher's form
  shows it (a student's would be refused: longer than the class limit for some), against its
  wall time.

The baseline of each row is the estimate itself (the ratio actual ÷ estimate is printed). The
bench prints the machine's CPU use during each run, in % of one core: the run itself is about
100 % (one worker thread); more means a busy machine, which slows the run but not the
calibration measured earlier, so the error grows with the load.

Run: ``.venv/bin/python bench/bench_estimate.py`` (about 15 minutes on 2 quiet cores), or
``--archs lenet,resnet18 --no-book`` for a quick look. Needs Fashion-MNIST in ``$CNNVIZ_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import cpu_model, table, usable_cores  # noqa: E402

WAIT_S = 900.0  # the longest one run may take before the bench gives up on it


def _busy() -> tuple[float, float]:
    """(total, idle) jiffies of the machine (/proc/stat)."""
    with open("/proc/stat") as f:
        parts = [float(x) for x in f.readline().split()[1:]]
    return sum(parts), parts[3] + parts[4]


def _wait(sch, rid: str, limit: float = WAIT_S):
    info = sch.wait(rid, limit, poll=0.2)
    if info.live:
        raise SystemExit(f"run {rid} did not finish within {limit:.0f} s")
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archs", default="", help="comma-separated architectures (default: all of the training page's)")
    ap.add_argument("--after", default="lenet,resnet18,vgg11_small", help="architectures measured again after one run")
    ap.add_argument("--no-book", action="store_true", help="skip the book recipes")
    ap.add_argument("--no-class", action="store_true", help="skip the class-period recipes (and --after)")
    ap.add_argument("--book-subset", type=int, default=256, help="training images of each book-recipe epoch")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))  # the pool stops too

    import cnnviz.jobs  # noqa: F401 (registers the kinds)
    from cnnviz.models.registry import list_models
    from cnnviz.runs import calibration
    from cnnviz.runs.scheduler import Scheduler
    from cnnviz.runs.store import TEACHER
    from cnnviz.status import Status
    from cnnviz.train.recipes import BOOK, recipe_config

    archs = [a for a in args.archs.split(",") if a] or list_models()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cnnviz-bench-estimate-"))
    db = tmp / "runs.sqlite"
    log = open(tmp / "pool.log", "ab")  # noqa: SIM115
    pool = subprocess.Popen([sys.executable, "-m", "cnnviz", "pool", "--db", str(db)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    print(f"machine: {cpu_model()}, {usable_cores()} cores; data: {os.environ.get('CNNVIZ_DATA_DIR', '(default)')}")
    sch = Scheduler(db, pool="external")
    rows: list[list] = []
    verdicts: list[bool] = []
    try:
        t0 = time.monotonic()
        deadline = t0 + 300
        while time.monotonic() < deadline:
            jobs = sch.store.list(kinds=(calibration.KIND,))
            if jobs and jobs[0].status == Status.COMPLETED:
                break
            if jobs and not jobs[0].live:
                raise SystemExit(f"the calibration ended {jobs[0].status}: {jobs[0].text()}")
            time.sleep(0.5)
        else:
            raise SystemExit("no calibration within 300 s; see " + str(tmp / "pool.log"))
        cal = jobs[0]
        pool_info = sch.store.pool()
        print(f"pool: {pool_info.workers} worker(s) × {pool_info.threads} thread(s); "
              f"calibration: {cal.ended - cal.started:.1f} s in its worker ({len(sch.calibration())} points)\n")

        def one(arch: str, cfg, who: str, section: str, seed_note: str = "") -> None:
            est = sch.train_estimate(cfg.to_dict())
            tot0, idle0 = _busy()
            t_submit = time.monotonic()
            ticket = sch.submit("train", cfg.to_dict(), who, teacher=who == TEACHER)
            info = _wait(sch, ticket.run_id)
            seen = time.monotonic() - t_submit
            tot1, idle1 = _busy()
            machine = 100.0 * (1 - (idle1 - idle0) / max(1e-9, tot1 - tot0)) * usable_cores()
            wall = (info.ended or 0) - (info.started or 0)
            err = (est.seconds / wall - 1) if est and wall > 0 else None
            ok = err is not None and abs(err) <= 0.30
            verdicts.append(ok)
            under = "" if section != "class" else ("yes" if seen <= 60 else "NO")
            if section == "class":
                verdicts.append(seen <= 60)
            rows.append([section, arch + seed_note, est.source if est else "—",
                         f"{est.seconds:.1f}" if est else "—", f"{wall:.1f}", f"{seen:.1f}",
                         f"{wall / est.seconds:.2f}" if est else "—", f"{err:+.0%}" if err is not None else "—",
                         "ok" if ok else "MISS", under, f"{info.summary.get('test_acc', 0):.1%}",
                         str(info.status.value), f"{machine:.0f} %"])
            print("  ".join(map(str, rows[-1])), flush=True)

        for i, arch in enumerate(archs if not args.no_class else []):
            one(arch, recipe_config(arch, "class"), f"student{i:02d}" + "x" * 14, "class")
        for i, arch in enumerate(a for a in args.after.split(",") if a in archs and not args.no_class):
            one(arch, recipe_config(arch, "class", seed=7), f"again{i:02d}" + "y" * 16, "after", " (seed 7)")
        if not args.no_book:
            for r in BOOK.values():
                if args.archs and r.arch not in archs:
                    continue
                cfg = dataclasses.replace(r, subset=args.book_subset, test_subset=args.book_subset).config(epochs=1)
                one(r.arch, cfg, TEACHER, "book", f" 1 ep × {args.book_subset}")
    finally:
        sch.clear()
        sch.close()
        pool.terminate()
        try:
            pool.wait(30)
        except subprocess.TimeoutExpired:
            pool.kill()
        log.close()
    print()
    table(rows, ["section", "arch", "source", "estimate s", "run s", "seen s", "run/est", "error", "±30 %",
                 "≤ 60 s", "test acc", "status", "machine CPU"])
    n_ok = sum(verdicts)
    print(f"\n{n_ok} of {len(verdicts)} targets met")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
