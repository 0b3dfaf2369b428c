# Concerto developer entry point. Quick start: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
CONCERTO := $(VENV)/bin/concerto
VENDOR := src/concerto/static/vendor/nhsuk
HTMX := src/concerto/static/vendor/htmx
VEGA := src/concerto/static/vendor/vega
# Never let uv try to download a Python: this machine has 3.13 under pyenv (.python-version).
export UV_PYTHON_DOWNLOADS := never
# PostgreSQL used for the second test pass (CI sets it; set it yourself to run that pass locally).
TEST_DATABASE_URL ?= $(DATABASE_URL)

.PHONY: help setup demo serve test test-sqlite test-postgres check fix bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	@echo "==> Installing uv $(UV_VERSION) into $(TOOLS)/"
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	@echo "==> Installing Python dependencies (locked in uv.lock)"
	$(UV) sync --frozen
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> Installing front-end packages (locked in package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/.built: node_modules/.package-lock.json
	@echo "==> Copying NHS.UK frontend, htmx and Vega into static files"
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css* $(VENDOR)/
	cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js* $(VENDOR)/
	cp -r node_modules/nhsuk-frontend/dist/nhsuk/assets $(VENDOR)/assets
	rm -rf $(HTMX) && mkdir -p $(HTMX)
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)/
	rm -rf $(VEGA) && mkdir -p $(VEGA)
	cp node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
	   node_modules/vega-embed/build/vega-embed.min.js $(VEGA)/
	@# The CSP-safe expression interpreter is an ES module importing vega-util: ship both, import path made relative.
	mkdir -p $(VEGA)/vega-util && cp node_modules/vega-util/build/*.js $(VEGA)/vega-util/
	sed "s#from 'vega-util'#from './vega-util/index.js'#" node_modules/vega-interpreter/build/vega-interpreter.js \
	   > $(VEGA)/vega-interpreter.js
	@touch $@

setup: $(VENV)/.synced $(VENDOR)/.built  ## Install everything (idempotent)

demo: setup  ## Set up, load the demo ICB (first run only), print log-ins, serve http://127.0.0.1:8000
	DEBUG=true $(CONCERTO) migrate --no-input -v 0
	DEBUG=true $(CONCERTO) demo
	DEBUG=true $(CONCERTO) runserver 127.0.0.1:8000

serve: setup  ## Serve without reloading demo data
	DEBUG=true $(CONCERTO) runserver 127.0.0.1:8000

test: setup  ## The whole suite: SQLite, then PostgreSQL when TEST_DATABASE_URL/DATABASE_URL is set (CI sets it)
	$(MAKE) --no-print-directory test-sqlite
ifneq ($(strip $(TEST_DATABASE_URL)),)
	$(MAKE) --no-print-directory test-postgres
else
	@if [ "$$CI" = "true" ]; then echo "CI needs DATABASE_URL for the PostgreSQL pass" >&2; exit 1; fi
	@echo "==> PostgreSQL pass skipped: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/concerto to run it"
endif

# When the PostgreSQL pass follows, the SQLite pass leaves the PostgreSQL-only tests to it.
SQLITE_MARKERS := $(if $(strip $(TEST_DATABASE_URL)),-m "not postgres",)

test-sqlite: setup
	@echo "==> Test suite on SQLite"
	env -u DATABASE_URL $(VENV)/bin/pytest $(SQLITE_MARKERS) $(PYTEST_ARGS)

test-postgres: setup
	@echo "==> Test suite on PostgreSQL ($(TEST_DATABASE_URL)); browser and Spark tests ran in the SQLite pass"
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -m "not functional and not spark" $(PYTEST_ARGS)

check: setup  ## Lint (ruff) and type check (mypy)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	DEBUG=true $(VENV)/bin/mypy src

fix: setup  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

bench: setup  ## Benchmarks: print figures and ratios (the recall bench builds a 909,091-patient database once; the API bench reuses it)
	$(PY) bench/synth_bench.py
	$(PY) bench/recall_bench.py
	$(PY) bench/indicators_bench.py
	$(PY) bench/api_bench.py

clean:  ## Remove the environment and local data (keeps nothing)
	rm -rf $(VENV) $(TOOLS) node_modules $(VENDOR) $(HTMX) $(VEGA) data
