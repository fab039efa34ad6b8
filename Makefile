# The README's three commands: `make run` (the app, one process), `make classroom` (a class:
# K replicas behind HAProxy) and `make test` (the suite). Each does its own set-up on a fresh
# machine: a virtual environment from requirements*.txt, Debian's haproxy for the classroom
# and its test, Debian's Chromium for the tests (never a browser download: `playwright
# install` is not used).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# REPLICAS empty: one replica per CPU core (docs/classroom.md)
REPLICAS ?=

.PHONY: run classroom test test-fast lint setup setup-dev browser haproxy bench

# a venv whose creation was cut short (no pip in it) is made again, not reused
$(VENV)/.app-installed: requirements.txt
	$(PY) -m pip --version >/dev/null 2>&1 || python3 -m venv --clear $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# the test environment includes the optional Ray executor, so CI exercises it for real
$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt requirements-ray.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -r requirements-ray.txt
	touch $@

setup: $(VENV)/.app-installed
setup-dev: $(VENV)/.dev-installed

# Debian's chromium for the end-to-end test; needs root (CI and these machines are root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package (sudo apt-get install chromium) for the browser test"; fi; }

# Debian's haproxy for `make classroom` and its test; needs root (CI and these machines are root).
haproxy:
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	  else echo "haproxy missing: sudo apt-get install haproxy (Debian 12 ships 2.6), then make classroom again"; exit 1; fi; }

# One process: `streamlit run app.py`, as a teacher would type it. Beside it, `classroom.warm`
# waits for it to answer, loads its default pages once in one real session (so the first student
# does not wait for torch's imports and the shared figures) and prints the ready line; it ends
# by itself (CNNVIZ_WARM=off: it does nothing). `make run` without warm-up: CNNVIZ_WARM=off make run.
run: setup
	$(PY) -m classroom.warm --wait 120 http://127.0.0.1:$(PORT) & \
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# A class: K replicas of the same app behind HAProxy on one port; Ctrl-C stops everything.
classroom: setup haproxy
	PORT=$(PORT) REPLICAS=$(REPLICAS) $(PY) -m classroom

# The import graph (import-linter: layers, no Streamlit in cnnviz, no cycles) and ruff first:
# a broken rule fails in seconds, before the suite's minute.
lint: setup-dev
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/ruff check .

# Every core: pytest-xdist workers (-n auto: one per core; TEST_WORKERS=0 runs in one process),
# one run store per worker (tests/conftest.py); the tests sharing a server, pool or cluster stay
# together on one worker, in order (--dist loadgroup, pyproject.toml; groups: tests/conftest.py).
# Bytecode is cached (PYTHONDONTWRITEBYTECODE unset, as some shells set it): the suite starts
# dozens of Python processes (xdist workers, pools, servers), and without the cache each one
# compiles cnnviz and pytest rewrites every test module again (about 5 s of CPU per worker).
TEST_WORKERS ?= auto
FAST := not slow and not browser and not cluster
# -p no:cacheprovider: measured here, the fast tier took 80 s of CPU without pytest's cache plugin
# and 99-108 s with it (the cause not yet known); `--lf` and friends need a plain `pytest` call.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n $(TEST_WORKERS) -p no:cacheprovider

# `make test` is `make lint` and the suite, with mypy beside the suite rather than before it: on a
# fresh clone (no .mypy_cache) mypy takes minutes of one core, and the suite leaves about a third of
# the two cores idle (its tests wait on servers, pools and browsers). The import contracts and ruff
# still go first (seconds); mypy's report is printed after the suite's, and either failing fails.
test: setup-dev browser haproxy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	@mkdir -p artifacts; $(VENV)/bin/mypy > artifacts/mypy.log 2>&1 & mypy=$$!; \
	$(PYTEST); rc=$$?; \
	wait $$mypy; mrc=$$?; echo "--- mypy (run beside the suite) ---"; cat artifacts/mypy.log; \
	[ $$rc = 0 ] && [ $$mrc = 0 ]

# The quick loop: everything but the slow, browser and cluster tests (pyproject.toml's markers).
# None of them shares a server, pool or cluster, so they are dealt out one by one (--dist load):
# grouped, the single-test groups left a worker idle and tore module fixtures down between tests.
test-fast: setup-dev
	$(PYTEST) -m "$(FAST)" --dist load

bench: setup-dev
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The GPU check of issue #24 (bench/gpu_check.sh): ≤ 6 min on a CUDA machine, results in OUT;
# `make gpu-check ARGS=--cpu-dry-run` runs it here on the CPU. No set-up: a lent machine has its own Python.
.PHONY: gpu-check
OUT ?= artifacts/gpu-check
gpu-check:
	bash bench/gpu_check.sh $(OUT) $(ARGS)
