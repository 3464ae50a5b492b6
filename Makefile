# Every target installs what it needs into a local virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install test book clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,book]"
	touch $(INSTALLED)

## install: the virtual environment with the package and its tools
install: $(INSTALLED)

## test: lint, format check and the test suite
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## book: execute every chapter (experiment figures from the committed records) and build the HTML book into _build/html
book: $(INSTALLED)
	$(BIN)/python tools/build_book.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
