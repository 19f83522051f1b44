# Two commands: `make run` and `make test`. Each creates .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt check install install-dev demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/photochanger migrate
	$(BIN)/photochanger info --host $(HOST) --port $(PORT)
	$(BIN)/photochanger serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/photochanger demo --url http://$(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: lint
	scripts/system-deps.sh
	scripts/with-postgres.sh $(BIN)/pytest -q -n 2

bench: install-dev
	$(BIN)/python bench/local_model.py
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .data .mypy_cache .ruff_cache .pytest_cache
