# The README's two commands: `make run` (the app) and `make test` (the suite). Each does its
# own set-up on a fresh machine: a virtual environment from requirements*.txt, and for the
# tests Debian's Chromium (never a browser download: `playwright install` is not used).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint setup setup-dev browser bench

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.app-installed
setup-dev: $(VENV)/.dev-installed

# Debian's chromium for the end-to-end test; needs root (CI and these machines are root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package (sudo apt-get install chromium) for the browser test"; fi; }

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# The import graph (import-linter: layers, no Streamlit in cnnviz, no cycles) and ruff first:
# a broken rule fails in seconds, before the suite's minute.
lint: setup-dev
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

test: setup-dev browser lint
	$(PY) -m pytest

bench: setup-dev
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
