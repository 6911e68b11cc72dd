# One entry point. `make run` starts everything with embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ERP_DATA_DIR ?= $(CURDIR)/data

# Test workers (pytest-xdist): the suite waits on HTTP, Redis and child processes more than it
# computes, so more workers than this machine's two cores pay off. Each worker has its own data
# folder, Redis database and sandbox (tests/isolation.py).
TEST_WORKERS ?= 4
# Where the suite keeps its files (each worker a subfolder); two runs at once need two of these.
TEST_DATA_DIR ?= $(CURDIR)/data/test
# Tests that start processes (system), drive chromium (browser), fuzz (fuzz), walk a whole
# table of cases (matrix) or time themselves with the machine to themselves (exclusive: every
# other worker waits meanwhile) are left out of test-fast, the edit loop; `make test` (what CI
# runs) runs everything.
FAST_MARKERS := not system and not browser and not fuzz and not matrix and not exclusive
TEST_ENV := ERP_DATA_DIR=$(TEST_DATA_DIR)
# The suite starts many Python processes (a worker each, manage.py children) that import the
# project and its tests; without cached bytecode each compiles them again (7 s of CPU a worker).
# Where the environment asks for no bytecode in the source tree, tests keep theirs under data/.
ifneq ($(PYTHONDONTWRITEBYTECODE),)
TEST_ENV += PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/data/pycache
endif

.PHONY: run test test-fast install lint format check stop clean bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The demo syncs every 2 minutes (production default: 30) and the sandbox changes 1% of the
# demo shop's offers every minute, so the change log fills while you watch.
run: export SYNC_INTERVAL_MINUTES ?= 2
run: install
	$(BIN)/python manage.py migrate --noinput
	test -f $(ERP_DATA_DIR)/sandbox.sqlite3 || $(BIN)/python -m sandbox seed --db $(ERP_DATA_DIR)/sandbox.sqlite3 --seller b2b-demo001 --count 300
	$(BIN)/honcho start -f Procfile

test: install
	$(TEST_ENV) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal \
	  --durations=25 $(PYTEST_ARGS)

test-fast: install
	$(TEST_ENV) HYPOTHESIS_PROFILE=dev $(BIN)/python -m pytest \
	  -n $(TEST_WORKERS) --dist worksteal -m "$(FAST_MARKERS)" -q $(PYTEST_ARGS)

# Every benchmark (bench/), about 15 minutes; writes bench/RESULTS.md. PostgreSQL parts run when
# BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench) answers.
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Every embedded Redis of this checkout: the app's and each test worker's.
stop:
	-$(BIN)/python -m erp1688.embedded_redis stop $(ERP_DATA_DIR) $(CURDIR)/data/test $(CURDIR)/data/test/gw*

clean: stop
	rm -rf data
