# Two commands do all the set-up on a fresh machine:
#   make run   — create (once) a local 4-organisation consortium in .yulian/network, start it,
#                run the evidence demo; Ctrl-C stops the nodes it started
#   make test  — lints (ruff, ruff format, mypy), the system packages the tests need
#                (scripts/system-deps.sh), then the whole test suite
# While working: make unit (every test that starts no node process), make e2e (those that do).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NETWORK := .yulian/network
PYTEST := $(BIN)/pytest -n 2 --dist loadfile -q

.PHONY: run test lint unit e2e clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/yulian demo --network $(NETWORK)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

system-deps:
	scripts/system-deps.sh

test: lint system-deps
	$(PYTEST)

unit: $(STAMP) system-deps
	$(PYTEST) -m 'not e2e'

e2e: $(STAMP) system-deps
	$(PYTEST) -m e2e

clean:
	rm -rf .yulian .pytest_cache .mypy_cache .ruff_cache
