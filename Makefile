# Two commands for newcomers: `make run` serves the API, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint install clean bench screenshots

run: $(VENV)/.installed
	$(BIN)/timebank serve

# Tests run in $(TEST_PROCESSES) processes, each taking the next test as it finishes one.
TEST_PROCESSES ?= 2

test: $(VENV)/.installed lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal

# The quick lane while working: lint, then every test but those marked slow (crash, fuzz,
# benchmark smoke, multi-process and full-demo tests). `make test` still runs everything.
test-fast: $(VENV)/.installed lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal -m "not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Benchmarks (BENCHMARKS.md): `make bench`, or `make bench BENCH_ARGS=--full`.
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || echo "wrk not found (apt-get install wrk): the Python load generator is used"
	$(BIN)/python -m bench $(BENCH_ARGS)

# The README's screenshots of the pages, in Chinese, taken by the browser tests.
screenshots: $(VENV)/.installed
	TIMEBANK_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/web/test_browser.py

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
