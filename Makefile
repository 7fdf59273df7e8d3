# Ojime's commands. Each one creates the virtual environment in .venv and
# installs what is missing first, so a fresh clone needs only Python 3.11+.
#
#   make run                 start the whole system (Ctrl-C stops it)
#   make test                run the tests; make test ARGS="-m smoke" passes pytest options
#   make lint                ruff check, ruff format --check, strict mypy
#   make migrate             bring every service's schema up to date
#   make bench               run every benchmark under bench/ and print its ratios

# The first interpreter that runs and is recent enough; PYTHON=... overrides.
PYTHON ?= $(shell for candidate in python3 python3.13 python3.12 python3.11; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$candidate; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt whenever pyproject.toml changes, so dependencies follow it.
INSTALLED := $(VENV)/.installed
ARGS ?=

.PHONY: install run test lint migrate bench

install: $(INSTALLED)

$(BIN)/python:
	@[ -n "$(PYTHON)" ] || { echo "Ojime needs Python 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	@touch $@

run: $(INSTALLED)
	$(BIN)/ojime run

test: $(INSTALLED)
	$(BIN)/pytest $(ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

migrate: $(INSTALLED)
	$(BIN)/ojime migrate

# bench/__main__.py, when there is one, knows which modules are benchmarks and
# which are their helpers; otherwise every bench/*.py is a benchmark script.
bench: $(INSTALLED)
	@if [ -f bench/__main__.py ]; then \
		$(BIN)/python -m bench; \
	else \
		found=0; for script in bench/*.py; do \
			[ -f "$$script" ] || continue; \
			found=1; echo "== $$script"; \
			$(BIN)/python "$$script" || exit 1; \
		done; \
		[ "$$found" = 1 ] || echo "no benchmarks under bench/"; \
	fi
