# voronka — two commands: `make demo` (sets up .venv from the lock and runs the demo), `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output

.PHONY: demo test venv dev lint bench clean

# Runtime environment from requirements.lock; re-installed only when the lock changes.
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -r requirements.lock
	$(BIN)/python -m pip install -qq --no-deps -e .
	touch $@

# Test environment: the runtime lock plus the test tools (pytest, PySpark, Playwright …).
$(BIN)/.installed-dev: requirements-dev.lock $(BIN)/.installed
	$(BIN)/python -m pip install -qq -r requirements-dev.lock
	touch $@

venv: $(BIN)/.installed
dev: $(BIN)/.installed-dev

demo: $(BIN)/.installed
	$(BIN)/voronka demo $(DEMO_DIR)

# The whole suite in two worker processes (pytest-xdist; the scheduler is in tests/conftest.py:
# all Spark tests on one worker, every other module whole on one worker). Under 15 minutes on a
# 2-core machine; more workers on a bigger one: `make test WORKERS=4`.
WORKERS ?= 2
test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope --durations=30

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
