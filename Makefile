# Two commands set everything up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.venv-stamp
RUN_STAMP := $(VENV)/.run-stamp
# The full install (dev tools and every extra); `make test`, `lint`, `bench` and `fuzz` need it.
STAMP := $(VENV)/.installed-stamp
DB ?= ivcdb.sqlite

.PHONY: run test lint bench fuzz clean

$(VENV_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $(VENV_STAMP)

# Each install has its own stamp, so `make test` after `make run` still adds the dev tools.
# An editable install leaves ivcdb's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
# set they would be compiled again at every start: compile them once here.
$(RUN_STAMP): pyproject.toml $(VENV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[plot,synthesis]'
	$(BIN)/python -m compileall -q ivcdb
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(VENV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,all]'
	$(BIN)/python -m compileall -q ivcdb
	touch $(STAMP)

## Build ./ivcdb.sqlite from data/ and show the evidence summary.
run: $(RUN_STAMP)
	$(BIN)/ivcdb build --db $(DB)
	@mkdir -p docs/img
	$(BIN)/ivcdb plot outcome overall_survival_5y overall_survival_10y --db $(DB) \
		--output docs/img/survival.png
	$(BIN)/ivcdb plot forest overall_survival_5y --db $(DB) --output docs/img/forest-5y.png

## Run the whole test suite (SQLite always; PostgreSQL when IVCDB_TEST_POSTGRES_URL is set).
test: $(STAMP)
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy
	$(BIN)/pytest

## Type-check and lint.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Benchmarks (see BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## Fuzz the loaders for 10 minutes; longer property runs: IVCDB_HYPOTHESIS_EXAMPLES=500 make test.
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz_loader.py --seconds 600

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm .pytest_cache .mypy_cache .ruff_cache
