# tap-auth0 developer tasks. Everything installs itself on first use and is cached
# by stamp files, so repeated runs are fast.
#
#   make venv      tap venv (.venv): pip install -e '.[dev]'
#   make meltano   Meltano venv (.venv-meltano) + `meltano install` (plugins in .meltano/)
#   make lint      ruff check + ruff format --check
#   make format    ruff format + ruff check --fix
#   make test      lint, then pytest: unit, sandbox and end-to-end (Meltano) tests
#   make demo      sandbox -> tap-auth0 -> Meltano -> DuckDB, full + incremental run
#   make bench     scripts/bench.py
#   make settings-docs  rewrite meltano.yml settings, the README table and plugin/ from --about
#   make clean     remove venvs, Meltano plugins/state, outputs and caches

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MELTANO_VERSION := 4.4.1
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
LINT_PATHS := tap_auth0 sandbox tests scripts
PYTEST_ARGS ?=

VENV_STAMP := $(VENV)/.installed
MELTANO_VENV_STAMP := $(MELTANO_VENV)/.installed-$(MELTANO_VERSION)
PLUGINS_STAMP := .meltano/.plugins-installed

# Meltano must not phone home (CI and the sandbox have no network beyond package registries).
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Meltano 4 installs plugins with uv: trust the system CA store (as pip does here).
export UV_SYSTEM_CERTS ?= 1

.PHONY: help venv meltano lint format test demo bench clean settings-docs

help:
	@sed -n '3,13p' Makefile | sed 's/^# \{0,1\}//'

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml sandbox/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ./sandbox -e '.[dev]'
	touch $@

$(MELTANO_VENV_STAMP):
	test -x $(MELTANO_VENV)/bin/python || $(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/pip install --quiet 'meltano==$(MELTANO_VERSION)'
	rm -f $(MELTANO_VENV)/.installed-*
	touch $@

# Plugins (tap-auth0 editable, target-jsonl, target-duckdb, target-postgres) are
# installed by Meltano into .meltano/<type>/<name>/venv.
$(PLUGINS_STAMP): $(MELTANO_VENV_STAMP) meltano.yml pyproject.toml
	$(MELTANO) install
	touch $@

meltano: $(PLUGINS_STAMP)

lint: venv
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

format: venv
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)

test: lint meltano
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv meltano
	$(PY) scripts/demo.py

settings-docs: venv
	$(PY) scripts/settings_docs.py

# Byte-compiled first, as an installed wheel is (an editable install under
# PYTHONDONTWRITEBYTECODE would compile the tap's modules on every start).
bench: venv
	$(PY) -m compileall -q tap_auth0 sandbox/auth0_sandbox
	$(PY) scripts/bench.py $(ARGS)

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano output .pytest_cache .ruff_cache
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
