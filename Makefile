# The two commands of the README: `make demo` and `make test`. Each creates .venv and installs
# what it needs on a machine that has only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint dev install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The demo's pseudonym secret (levels.md): `daam demo` creates it, mode 0600, when it is missing.
demo: $(STAMP)
	DAAM_SECRET_FILE=$${DAAM_SECRET_FILE:-$(CURDIR)/data/daam.secret} $(BIN)/daam demo

# Two test processes for the two cores the suite is sized for (one process: 14 minutes, one core idle);
# a file's tests stay in one process, so its module fixtures (a loaded warehouse) are built once.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(BIN)/pytest -q -m 'not slow' $(XDIST)

test-all: $(STAMP)
	$(BIN)/pytest -q $(XDIST)

lint: $(STAMP)
	$(BIN)/ruff check .

# `make bench SCALE=province|region|nation` (bench/README.md): the floor, then every daam step, timed;
# writes bench/results/$(SCALE).json and the README's table. BENCH_ARGS passes more (e.g. --landing PATH).
SCALE ?= province
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --scale $(SCALE) $(BENCH_ARGS)

dev: $(STAMP)
	mkdir -p .dagster_home && cp pipelines/dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home DAAM_SECRET_FILE=$${DAAM_SECRET_FILE:-$(CURDIR)/data/daam.secret} $(BIN)/dg dev

clean:
	rm -rf $(VENV) data .dagster_home
