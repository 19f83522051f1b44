# Two commands: `make run` and `make test`. Each creates .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt check install install-dev demo bench clean fuzz soak

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

# tests/fuzz and tests/hostile at length: schemathesis with many cases per operation
# and hypothesis with many raw upload bodies, on SQLite and PostgreSQL, a fresh seed
# each run (`make test` runs both small, with a fixed seed).
FUZZ_EXAMPLES ?= 250
HOSTILE_EXAMPLES ?= 2000
fuzz: install-dev
	scripts/with-postgres.sh env PHOTOCHANGER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		PHOTOCHANGER_FUZZ_DATABASES=sqlite,postgresql \
		PHOTOCHANGER_HOSTILE_EXAMPLES=$(HOSTILE_EXAMPLES) \
		$(BIN)/pytest -q -n 2 tests/fuzz tests/hostile/test_hostile_fuzz.py

bench: install-dev
	$(BIN)/python bench/local_model.py
	$(BIN)/python bench/ingest.py

# bench/soak.py: ten minutes of mixed valid and hostile load (SOAK_ARGS="--minutes 1").
soak: install-dev
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .data .mypy_cache .ruff_cache .pytest_cache .hypothesis
