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

bench: $(DEV_STAMP)
	$(PY) bench/ui.py
	$(PY) bench/resize.py
	$(PY) bench/batch.py
	$(PY) bench/tools.py
	$(PY) bench/library.py
	$(PY) bench/ai.py
	$(PY) bench/ai_tools.py
	$(PY) bench/pdf_pages.py
	$(PY) bench/video.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
