# The only thing a newcomer runs: every target creates .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast lint bench notebook sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,notebooks]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/replay demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check replay tests benchmarks
	$(BIN)/ruff format --check replay tests benchmarks
	$(BIN)/mypy

test: $(VENV)/.installed-dev lint
	$(BIN)/coverage run -m pytest
	@echo "coverage of replay/ (lines and branches): $$($(BIN)/coverage report --format=total)%"

# The unit tier without its processes and sleeps (the `slow` and `wallclock` markers): no lint.
test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest tests/unit -m "not slow and not wallclock" -q -p no:cacheprovider

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py

notebook: $(VENV)/.installed-notebooks
	$(BIN)/jupyter lab notebooks/

sample: $(VENV)/.installed
	$(BIN)/python data/make_sample.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
