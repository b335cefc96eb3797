# Pixelsmith: `make run` serves on :1349 with the embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# PYTHONWARNINGS: no setuptools banner about editable installs in the build's output.
PIP := PYTHONWARNINGS=ignore $(PY) -m pip --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?= -n auto  # one test process per core (pytest-xdist)

.PHONY: install run test lint format bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip

$(STAMP): pyproject.toml requirements-nodeps.txt | $(PY)
	@echo "Installing Python dependencies into $(VENV) (the first time takes a few minutes)..."
	$(PIP) install -e ".[cpu]"
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev-nodeps.txt
	@echo "Installing the development tools (pytest, ruff, mypy...)..."
	$(PIP) install -e ".[cpu,dev]"
	$(PIP) install --no-deps -r requirements-dev-nodeps.txt
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	-$(PY) manage.py models install --shipped  # a failure leaves those AI tools at 503
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec scripts/serve.sh

test: $(DEV_STAMP)
	scripts/ensure_chromium.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apps config tools bench
	$(VENV)/bin/lint-imports --no-cache

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# `make bench QUICK=1`: every benchmark's short run (a few minutes in all).
BENCH_QUICK := $(if $(QUICK),--quick,)
bench: $(DEV_STAMP)
	$(PY) bench/ui.py $(BENCH_QUICK)
	$(PY) bench/resize.py $(BENCH_QUICK)
	$(PY) bench/http_compare.py $(BENCH_QUICK)
	$(PY) bench/request_cost.py $(BENCH_QUICK)
	$(PY) bench/batch.py $(BENCH_QUICK)
	$(PY) bench/batch_memory.py $(BENCH_QUICK)
	$(PY) bench/tools.py $(BENCH_QUICK)
	$(PY) bench/library.py $(BENCH_QUICK)
	$(PY) bench/ai.py $(BENCH_QUICK)
	$(PY) bench/ai_tools.py $(BENCH_QUICK)
	$(PY) bench/responsive.py $(BENCH_QUICK)
	$(PY) bench/pdf_pages.py $(BENCH_QUICK)
	$(PY) bench/video.py $(BENCH_QUICK)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
