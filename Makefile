# The only thing a newcomer runs: every target creates .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# A second venv with every runtime dependency at its pyproject floor (make test-lowest).
LOWEST     := .venv-lowest
LOWEST_BIN := $(LOWEST)/bin

.PHONY: demo test test-fast test-lowest lint bench notebook sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench,clients]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,notebooks]'
	touch $@

$(LOWEST_BIN)/python:
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST_BIN)/python -m pip install -q --upgrade pip

# The dev extras (test tools, dask, notebooks' kernel) resolve freely around the pinned floors.
$(LOWEST)/.installed: pyproject.toml .ci/lowest_constraints.py | $(LOWEST_BIN)/python
	$(LOWEST_BIN)/python .ci/lowest_constraints.py -o $(LOWEST)/constraints.txt
	$(LOWEST_BIN)/python -m pip install -q -e '.[dev]' -c $(LOWEST)/constraints.txt
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
	$(MAKE) test-lowest

# The unit tier without its processes and sleeps (the `slow` and `wallclock` markers): no lint.
test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest tests/unit -m "not slow and not wallclock" -q -p no:cacheprovider

# The unit tier on the lowest versions pyproject allows: its floors are true.
test-lowest: $(LOWEST)/.installed
	$(LOWEST_BIN)/pytest tests/unit -m "not slow and not wallclock" -q -x -p no:cacheprovider

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py

notebook: $(VENV)/.installed-notebooks
	$(BIN)/jupyter lab notebooks/

sample: $(VENV)/.installed
	$(BIN)/python data/make_sample.py

clean:
	rm -rf $(VENV) $(LOWEST) demo-output .pytest_cache .mypy_cache .ruff_cache
