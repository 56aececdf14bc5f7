# restscope: `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# the project's own modules are compiled to bytecode once, so a run does not recompile them
# (pip does this for installed packages; an editable install leaves ours as sources)
# the install also builds the C half of redaction (plugins/_jsonscan.c, see setup.py); without a
# compiler it is skipped and the pure-Python path does its work
$(STAMP): $(BIN)/python pyproject.toml setup.py plugins/_jsonscan.c
	$(BIN)/pip install --quiet -e .
	$(BIN)/python -m compileall -q observe plugins specs tapes
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,dask]'
	touch $@

install: $(STAMP)

demo: $(STAMP)
	@$(BIN)/restscope demo

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info plugins/_jsonscan*.so
