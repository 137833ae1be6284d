# The two commands a newcomer needs: `make run` and `make test`. Only Python is required.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run PORT=8001 HOST=0.0.0.0`
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck install bench clean simulate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/chargeledger serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# The seeded simulation in memory: `make simulate SEEDS=2000` (seeds 0-1999), `make simulate SEED=17`.
simulate: $(STAMP)
	SIMULATION_SEEDS=$(SEEDS) SIMULATION_SEED=$(SEED) $(BIN)/pytest tests/simulation -q -k in_memory

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
