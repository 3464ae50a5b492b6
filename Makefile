# Every target installs what it needs into a local virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: test book lint clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,book]"
	touch $(INSTALLED)

## test: lint, format check and the test suite
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## book: execute every chapter in quick mode and build the HTML book into _build/html
book: $(INSTALLED)
	$(BIN)/python -m slt.book

clean:
	rm -rf _build .pytest_cache .ruff_cache
