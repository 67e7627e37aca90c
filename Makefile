# Two set-up commands: `make demo` and `make test`. Both create .venv/ and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: demo test lint bench serve clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mymedic demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check shared functions tests scripts
	$(BIN)/ruff format --check shared functions tests scripts
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	@$(BIN)/python scripts/bench.py

serve: $(STAMP)
	$(BIN)/mymedic serve

clean:
	rm -rf $(VENV) $(OUT) var .mypy_cache .ruff_cache .pytest_cache
