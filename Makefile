# Tidings developer tasks. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8080
export TIDINGS_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.DEFAULT_GOAL := help
.PHONY: help install run web test test-sqlite test-postgres test-web lint format bench migration clean

help: ## List every task
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Tidings needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Tidings with its test tools

# The web app is built when missing or older than any of its sources (scripts/build_web.sh picks Node).
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json \
	web/package-lock.json web/vite.config.ts web/tsconfig.json

web/dist/index.html: $(WEB_SOURCES)
	VENV_BIN=$(BIN) scripts/build_web.sh

web: $(STAMP) web/dist/index.html ## Build the web app (web/dist) when missing or stale

run: $(STAMP) web ## Serve on SQLite (./tidings.db), printing the account's keys, the web app's sign-in and the URL (make run PORT=8091)
	$(BIN)/tidings serve --port $(PORT) --default-account

test: $(STAMP) web test-web ## The web app's unit tests, then the whole suite on SQLite and on PostgreSQL (both at once; each one's output when it ends)
	@echo "running the suite on SQLite and on PostgreSQL at the same time; each prints when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-web: $(STAMP) ## The web app's component and state tests (Vitest)
	VENV_BIN=$(BIN) scripts/build_web.sh test

test-sqlite: $(STAMP) web ## Run the suite on SQLite
	TIDINGS_TEST_DB=sqlite $(BIN)/pytest

test-postgres: $(STAMP) web ## Run the suite on PostgreSQL (TIDINGS_TEST_POSTGRES_URL)
	@if $(BIN)/python -c "import psycopg,sys; from sqlalchemy.engine import make_url; \
	  u=make_url('$(TIDINGS_TEST_POSTGRES_URL)').set(drivername='postgresql'); \
	  psycopg.connect(u.render_as_string(hide_password=False), connect_timeout=3).close()" 2>/dev/null; then \
	  TIDINGS_TEST_DB=postgres $(BIN)/pytest; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable at $(TIDINGS_TEST_POSTGRES_URL)"; exit 1; \
	else echo "PostgreSQL is not reachable at $(TIDINGS_TEST_POSTGRES_URL): skipping the PostgreSQL run"; fi

lint: $(STAMP) ## ruff (lint and format check), mypy and the import contract (.importlinter)
	$(BIN)/ruff check tidings tests bench scripts
	$(BIN)/ruff format --check tidings tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix tidings tests bench scripts
	$(BIN)/ruff format tidings tests bench scripts

bench: $(STAMP) ## Run the benchmarks against PostgreSQL (see docs/BENCHMARKS.md)
	@for script in $(filter-out bench/_% bench/profile_%,$(wildcard bench/*.py)); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

migration: $(STAMP) ## New migration from the models: make migration m="what it does"
	TIDINGS_DATABASE_URL=sqlite:///./.migration-scratch.db $(BIN)/tidings db upgrade
	TIDINGS_DATABASE_URL=sqlite:///./.migration-scratch.db $(BIN)/alembic revision --autogenerate -m "$(m)"
	rm -f .migration-scratch.db*

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis web/node_modules web/dist
