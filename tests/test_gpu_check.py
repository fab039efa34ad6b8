"""The GPU check's CPU dry run (``bench/gpu_check.sh OUTDIR --cpu-dry-run``): every section runs here on
the CPU with tiny step counts and passes, and the summary files are written, so that a lent GPU's
minutes go to measuring, not to debugging the script."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

SECTIONS = ["env", "cuda-tests", "jobs", "bench", "live", "suite"]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_gpu_check_dry_run_passes_every_section(tmp_path):
    out = tmp_path / "gpu-check"
    env = dict(os.environ, CNNVIZ_GPU_PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), str(out), "--cpu-dry-run"], cwd=ROOT,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-6000:]

    summary = json.loads((out / "summary.json").read_text())
    assert summary["dry_run"] and summary["passed"]
    assert [s["name"] for s in summary["sections"]] == SECTIONS
    for s in summary["sections"]:
        failed = [c for c in s["checks"] if not c["ok"]]
        assert s["status"] == "PASS" and s["checks"] and not failed, (s["name"], s.get("reason"), failed)
        assert (out / "sections" / f"{s['name']}.json").is_file() and (out / "logs" / f"{s['name']}.log").is_file()
        assert all(t["ok"] is None for t in s["targets"])  # no target is judged on the CPU
    assert summary["wall_s"] < summary["deadline_s"]

    md = (out / "summary.md").read_text()
    assert md.startswith("# cnnviz GPU check: CPU dry run")
    for title in ("## Targets", "## Throughput (examples/s)", "## bf16 against fp32", "## Live path", "## Checks"):
        assert title in md
    assert all(f"### {name}: PASS" in md for name in SECTIONS)
    assert "FAIL" not in md

    sections = {s["name"]: s for s in summary["sections"]}
    bench = sections["bench"]["metrics"]["bench"]
    assert {(r["precision"], r["channels_last"]) for r in bench["rows"]} == {
        ("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)}  # every combination measured
    live = sections["live"]["metrics"]
    assert {m["log_every"] for m in live.values()} == {1, 4}
    assert all(m["events"] > m["step_events"] > 0 for m in live.values())
