# Two commands do all the set-up on a fresh machine:
#   make run   — create a local 4-organisation consortium, start it, run the evidence demo
#   make test  — lint (ruff, mypy, layering) and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit e2e clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/yulian demo --dir .yulian/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

system-deps:
	scripts/system-deps.sh

test: lint system-deps
	$(BIN)/pytest -n 2 --dist loadfile -q

clean:
	rm -rf .yulian .pytest_cache .mypy_cache .ruff_cache
