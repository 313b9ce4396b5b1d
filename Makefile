# sscard: two commands on a fresh machine with Python >= 3.11.
#   make run   set up, migrate the SQLite database, seed demo data, serve on 127.0.0.1:8000
#   make test  set up with dev tools, then lint, type-check, check layering, run the suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed
TEST_WORKERS ?= auto
PYTEST_ARGS ?= -n $(TEST_WORKERS) --dist loadgroup

.PHONY: run test install install-dev lint typecheck layers pytest bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sscard needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@if pkg-config --exists libpcsclite; then \
	  $(BIN)/pip install --quiet -e ".[dev,card]" || { \
	    echo "note: pyscard did not build: installing without the 'card' extra, PC/SC tests will be skipped"; \
	    $(BIN)/pip install --quiet -e ".[dev]"; }; \
	else \
	  echo "note: libpcsclite not found (apt-get install swig libpcsclite-dev): installing without the 'card' extra, PC/SC tests will be skipped"; \
	  $(BIN)/pip install --quiet -e ".[dev]"; \
	fi
	@touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

run: install
	$(BIN)/sscard db upgrade
	$(BIN)/sscard demo seed
	$(BIN)/sscard serve

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

layers: install-dev
	$(BIN)/lint-imports

pytest: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck layers pytest

bench: install-dev
	$(BIN)/python bench/crypto.py
	$(BIN)/python bench/ecard_codes.py
	$(BIN)/python bench/registry_import.py --rows 100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
