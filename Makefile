# Every target does its own set-up: a fresh machine needs nothing but python3.11, Java 17 and Maven.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint unit integration slow kafka-up kafka-down kafka-jars bench chaos schemas clean \
	ops-tools smoke load stress acceptance

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

kafka-jars: $(STAMP)
	$(BIN)/fraudstream broker fetch

## The main job: start a local broker, run the end-to-end demo, stop the broker.
demo: $(STAMP) kafka-jars
	$(BIN)/fraudstream demo

## The test command: quality gates, then every suite against a real broker (slow suites bounded).
test: $(STAMP) kafka-jars ops-tools lint
	$(BIN)/pytest $(PYTEST_ARGS)

## promtool, prometheus and docker-compose for the ops checks: installed with apt-get when
## missing and run as root (about 40 s, once); elsewhere it says why (see ops/tools/install.sh).
ops-tools:
	./ops/tools/install.sh

lint: $(STAMP)
	$(BIN)/ruff check schemas models stream tests
	$(BIN)/ruff format --check schemas models stream tests
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP) kafka-jars
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

## The seed's test kinds, each on its own (all of them also run, bounded, in `make test`).
## FRAUD_TEST_SCALE=full runs minutes of traffic instead of seconds (tests/support/scale.py).
smoke: $(STAMP) kafka-jars
	$(BIN)/pytest -m smoke $(PYTEST_ARGS)

load: $(STAMP) kafka-jars
	$(BIN)/pytest -m load -s $(PYTEST_ARGS)

stress: $(STAMP) kafka-jars
	$(BIN)/pytest -m stress -s $(PYTEST_ARGS)

acceptance: $(STAMP) kafka-jars
	$(BIN)/pytest -m acceptance $(PYTEST_ARGS)

kafka-up: $(STAMP) kafka-jars
	$(BIN)/fraudstream broker up

kafka-down: $(STAMP)
	$(BIN)/fraudstream broker down

schemas: $(STAMP)
	$(BIN)/fraudstream schemas export

bench: $(STAMP) kafka-jars
	$(BIN)/python -m tests.load.bench_stream

chaos: $(STAMP) kafka-jars
	$(BIN)/fraudstream chaos

clean:
	rm -rf $(VENV) .cache var .pytest_cache .mypy_cache .ruff_cache
