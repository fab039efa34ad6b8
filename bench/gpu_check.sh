#!/usr/bin/env bash
# cnnviz on a lent CUDA machine (issue #24): one prepared script, ≤ 6 minutes, results in OUTDIR.
#
#   bench/gpu_check.sh OUTDIR [--cpu-dry-run] [--data-dir DIR] [--wheels DIR] [--only SECTION] [--deadline S]
#   make gpu-check OUT=OUTDIR [ARGS=--cpu-dry-run]
#
# What it does: writes `nvidia-smi` to OUTDIR/nvidia-smi.txt, picks a Python that imports torch
# ($CNNVIZ_GPU_PYTHON, else .venv/bin/python, else python3), then runs bench/gpu_check.py: six
# sections, each in its own process with its own time budget (env, cuda-tests, jobs, bench, live,
# suite; see that file's docstring), PASS/FAIL lines on the console, and OUTDIR/summary.md,
# OUTDIR/summary.json, OUTDIR/sections/*.json, OUTDIR/logs/*.log. Exit status 0 when every section
# passed. --cpu-dry-run runs it all on the CPU with tiny step counts: run it here first, so that
# the GPU's minutes go to measuring.
#
# The lent machine has its own Python 3.12 with torch 2.11 + CUDA and no internet: only what is
# carried in the repository copy. Packages that may be missing there (pytest for the CUDA tests,
# numpy for the labs, torchvision to read the Fashion-MNIST files, pillow for torchvision) come
# from a folder of wheels (--wheels DIR or $CNNVIZ_WHEELS); gpu_check.py installs, offline and
# with --no-deps, those whose module does not import, into a temporary folder put on PYTHONPATH.
# Prepare it here, in an ignored folder (.whl/ is git-ignored), for CPython 3.12 on manylinux:
#
#   P="--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
#      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
#   pip download $P -d .whl/gpu-cp312 pytest pytest-timeout          # with their dependencies (pure Python)
#   pip download $P --no-deps -d .whl/gpu-cp312 numpy pillow torchvision==0.26.0   # 0.26 goes with torch 2.11
#
# (torchvision with --no-deps: its own dependency is the machine's torch.) The data: the small
# Fashion-MNIST stand-in is not there unless carried; copy it into ./data (git-ignored) and pass
# --data-dir data. Without it every run uses the engine's synthetic set, and the summary says so.
#
#   mkdir -p data && cp -r ../shared/data/FashionMNIST data/
#   # then, on the device, carrying [".whl/gpu-cp312", "data"]:
#   bash bench/gpu_check.sh "$OUT/gpu-check" --data-dir data --wheels .whl/gpu-cp312
set -u
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: bench/gpu_check.sh OUTDIR [--cpu-dry-run] [--data-dir DIR] [--wheels DIR] [--only SECTION]" >&2
  exit 2
fi
OUTDIR=$1
shift
mkdir -p "$OUTDIR/logs"

PY=${CNNVIZ_GPU_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in .venv/bin/python python3 python; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' >/dev/null 2>&1; then PY=$cand; break; fi
  done
fi
if [ -z "$PY" ]; then
  echo "FAIL  no Python that imports torch (set CNNVIZ_GPU_PYTHON)" | tee "$OUTDIR/logs/python.log"
  exit 1
fi
echo "python: $(command -v "$PY") ($("$PY" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1))"

if command -v nvidia-smi >/dev/null 2>&1; then
  timeout 20 nvidia-smi > "$OUTDIR/nvidia-smi.txt" 2>&1
  timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv \
    >> "$OUTDIR/nvidia-smi.txt" 2>&1
  head -n 12 "$OUTDIR/nvidia-smi.txt"
else
  echo "nvidia-smi: not found" | tee "$OUTDIR/nvidia-smi-missing.txt"
fi

# the Python part keeps to its own deadline (330 s by default); this is a last resort
timeout -k 5 350 "$PY" bench/gpu_check.py "$OUTDIR" "$@"
