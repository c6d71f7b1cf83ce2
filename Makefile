# tap-auth0 developer tasks. Everything installs itself on first use and is cached by
# stamp files, so repeated runs are fast. `make help` lists the targets (from their `##`).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The dev environment, pinned for every Python the tap supports (`make lock` rewrites it).
LOCK := requirements-dev.lock
UV_VERSION := 0.13.9
MELTANO_VERSION := 4.4.1
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
LINT_PATHS := tap_auth0 sandbox tests scripts
PYTEST_ARGS ?=
# Other Pythons `make test-pythons` runs the unit and integration tests on (3.11 is $(PYTHON)).
EXTRA_PYTHONS ?= 3.10 3.13
COMPAT_TESTS := tests/unit tests/integration $(wildcard tests/test_*.py)
# What `make test-newest-sdk` runs: the pin test, the SDK's standard tap tests (a sync of
# every stream) and a sync through the console script.
INSTALLED_TAP_TESTS := tests/integration/test_installed_tap.py
NEWEST_SDK_VENV := .venv-newest-sdk
NEWEST_SDK_TESTS := tests/unit/test_sdk_hooks.py tests/integration/test_sdk_standard.py \
	$(INSTALLED_TAP_TESTS)
WHEEL_VENV := .venv-wheel

VENV_STAMP := $(VENV)/.installed
MELTANO_VENV_STAMP := $(MELTANO_VENV)/.installed-$(MELTANO_VERSION)
PLUGINS_STAMP := .meltano/.plugins-installed

# Meltano must not phone home (CI and the sandbox have no network beyond package registries).
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Meltano 4 installs plugins with uv: trust the system CA store (as pip does here).
export UV_SYSTEM_CERTS ?= 1

.PHONY: help venv meltano lint format typecheck pre-commit test test-fast test-pythons \
	test-newest-sdk test-wheel demo bench clean settings-docs lock

help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# $(call from_lock,VENV): the locked dev environment, then the tap and the sandbox editable
# (--no-deps: nothing resolved beyond the lock; `pip check` fails if the lock misses one).
define from_lock
	$(1)/bin/python -m pip install --quiet -r $(LOCK)
	$(1)/bin/python -m pip install --quiet --no-deps -e ./sandbox -e .
	$(1)/bin/python -m pip check
endef

venv: $(VENV_STAMP) ## tap venv (.venv) from requirements-dev.lock, tap and sandbox editable

$(VENV_STAMP): $(LOCK) pyproject.toml sandbox/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(call from_lock,$(VENV))
	touch $@

# .venv-py3.10, .venv-py3.13: the same locked environment on another Python
# (VENV_PYTHON: its interpreter, found by `test-pythons`).
VENV_PYTHON ?= python$*
.venv-py%/.installed: $(LOCK) pyproject.toml sandbox/pyproject.toml
	rm -rf .venv-py$*
	$(VENV_PYTHON) -m venv .venv-py$*
	$(call from_lock,.venv-py$*)
	touch $@

# Not from `venv`: that one fails (pip check) on a dependency the lock does not have yet.
# The dev extra's sandbox is a path in this checkout: `from_lock` installs it, the lock
# leaves it out (it would pin this machine's path).
lock: ## rewrite requirements-dev.lock from pyproject.toml (newest allowed versions)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.10 \
		--no-emit-package tap-auth0-sandbox --quiet -o $(LOCK)

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

meltano: $(PLUGINS_STAMP) ## Meltano venv (.venv-meltano) + `meltano install` (plugins in .meltano/)

lint: venv ## ruff check + ruff format --check
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

format: venv ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)

typecheck: venv ## mypy on tap_auth0 (settings in pyproject.toml)
	$(VENV)/bin/mypy

pre-commit: venv ## every pre-commit hook on every file (hooks install from PyPI)
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

# Meltano first (a unit test checks the plugin definition against its schema), then the unit
# tests (test-fast: a broken unit fails in under a minute), then the rest.
test: lint typecheck meltano test-fast ## lint, typecheck, unit tests, then sandbox, integration, end-to-end
	$(PY) -m pytest --ignore=tests/unit $(PYTEST_ARGS)

test-fast: venv ## unit tests only (no Meltano, no sandbox), well under a minute
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

# pythonX.Y on PATH if it runs (a pyenv shim runs only for the active version), else the
# newest pyenv build of X.Y.
test-pythons: ## unit + integration tests on Python 3.10 and 3.13 (one not installed: skipped)
	@set -e; for v in $(EXTRA_PYTHONS); do \
		py=""; \
		for c in python$$v $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v.*/bin/python$$v \
				2>/dev/null | sort -V -r); do \
			if $$c -c '' >/dev/null 2>&1; then py=$$c; break; fi; \
		done; \
		if [ -z "$$py" ]; then \
			echo "test-pythons: SKIPPED Python $$v: no python$$v on PATH or in pyenv"; continue; \
		fi; \
		$(MAKE) --no-print-directory .venv-py$$v/.installed VENV_PYTHON=$$py; \
		echo "test-pythons: $$(.venv-py$$v/bin/python --version)"; \
		.venv-py$$v/bin/python -m pytest -q $(COMPAT_TESTS) $(PYTEST_ARGS); \
	done

test-newest-sdk: ## pin test + syncs on the newest singer-sdk the pin allows (fresh, not the lock)
	test -x $(NEWEST_SDK_VENV)/bin/python || $(PYTHON) -m venv $(NEWEST_SDK_VENV)
	$(NEWEST_SDK_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager \
		-e '.[dev]'
	@echo "test-newest-sdk: singer-sdk $$($(NEWEST_SDK_VENV)/bin/python -m pip show singer-sdk \
		| sed -n 's/^Version: //p') (the lock has $$(sed -n 's/^singer-sdk==//p' $(LOCK)))"
	$(NEWEST_SDK_VENV)/bin/python -m pytest -q $(NEWEST_SDK_TESTS) $(PYTEST_ARGS)

# What users get from `pip_url`: a wheel, not an editable install, resolved by pip.
test-wheel: venv ## build the wheel, install it in a fresh venv, sync the sandbox with its tap-auth0
	rm -rf dist $(WHEEL_VENV)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet dist/*.whl
	TAP_AUTH0_TEST_WHEEL_VENV=$(WHEEL_VENV) $(PY) -m pytest -q $(INSTALLED_TAP_TESTS) $(PYTEST_ARGS)

demo: venv meltano ## sandbox -> tap-auth0 -> Meltano -> DuckDB, full + incremental run
	$(PY) scripts/demo.py

settings-docs: venv ## rewrite the settings in meltano.yml, README, docs/settings.md, plugin/ from --about
	$(PY) scripts/settings_docs.py

# Byte-compiled first, as an installed wheel is (an editable install under
# PYTHONDONTWRITEBYTECODE would compile the tap's modules on every start).
bench: venv ## scripts/bench.py (ARGS=... passes options)
	$(PY) -m compileall -q tap_auth0 sandbox/auth0_sandbox
	$(PY) scripts/bench.py $(ARGS)

clean: ## remove venvs, Meltano plugins/state, outputs and caches
	rm -rf $(VENV) $(MELTANO_VENV) .venv-py* $(NEWEST_SDK_VENV) $(WHEEL_VENV) dist \
		.meltano output .pytest_cache .ruff_cache .mypy_cache
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
