# hostmeter: `make run` serves the panel with demo data, `make test` runs the whole suite.
VENV ?= .venv
HM := $(VENV)/bin/hostmeter
HOST ?= 127.0.0.1
PORT ?= 8000
PYTHON ?= python3

.PHONY: setup run test test-sqlite test-postgres bench lint format clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(HM) migrate --noinput -v0
	$(HM) collectstatic --noinput -v0
	$(HM) load_demo --if-empty
	$(HM) serve --host $(HOST) --port $(PORT)

test: setup
	scripts/test.sh

test-sqlite: setup
	scripts/test.sh sqlite

test-postgres: setup
	scripts/test.sh postgres

bench: setup
	scripts/bench.sh

lint: setup
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(HM) makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff check --fix
	$(VENV)/bin/ruff format

clean:
	rm -rf $(VENV) var
