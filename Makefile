# Uppföljning – two commands do all set-up on a fresh machine:
#   make run    create the environment, migrate, seed demo data, serve on http://127.0.0.1:8000
#   make test   create the environment and run every check and test
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export FEEDBACK_DATABASE_URL ?= sqlite+aiosqlite:///./feedback.db
export FEEDBACK_SMS_GATEWAY ?= fake
export FEEDBACK_DEV_TOOLS ?= 1
AXE_VERSION := 4.10.2

.PHONY: help run test lint unit e2e-deps migrate seed serve worker bench clean

help:
	@echo "make run   – set up everything and serve the app with demo data on http://127.0.0.1:8000"
	@echo "make test  – set up everything and run lint, import contracts and all tests"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

# Debian's Chromium (no browser download), and axe-core vendored from the npm registry.
e2e-deps: tests/e2e/vendor/axe.min.js
	@command -v chromium >/dev/null 2>&1 || ( \
	  echo "installing Debian chromium for browser tests"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null )

tests/e2e/vendor/axe.min.js:
	mkdir -p tests/e2e/vendor
	cd tests/e2e/vendor && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js && mv package/axe.min.js axe.min.js && \
	  rm -rf package axe-core-$(AXE_VERSION).tgz

migrate: $(VENV)/.synced
	$(RUN) feedback migrate

seed: migrate
	$(RUN) feedback seed-demo

run: seed
	@echo "Uppföljning on http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(RUN) feedback serve --host 127.0.0.1 --port 8000 --with-worker

worker: $(VENV)/.synced
	$(RUN) feedback worker

lint: $(VENV)/.synced
	$(RUN) ruff check feedback surveys nlp notifications migrations tests benchmarks
	$(RUN) ruff format --check feedback surveys nlp notifications tests benchmarks
	$(RUN) lint-imports
	$(RUN) mypy

test: $(VENV)/.synced e2e-deps lint
	$(RUN) pytest

bench: $(VENV)/.synced
	for script in benchmarks/*.py; do echo "== $$script"; $(RUN) python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache feedback.db feedback.db-wal feedback.db-shm var
