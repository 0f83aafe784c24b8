# Two commands matter: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KIOSK := $(VENV)/bin/kiosk
CONFIG ?= config/kiosk.toml
PYTEST_ARGS ?=

.PHONY: setup run test demo bench clean help

help:
	@echo "make run    - start the embedded central system and the kiosk on simulated devices"
	@echo "make test   - run the whole test suite"
	@echo "make demo   - walk citizen journeys headless, write screenshots and receipts"
	@echo "make bench  - run benchmarks and rewrite BENCHMARKS.md"
	@echo "make setup  - install Debian packages, the venv and the project (idempotent)"

setup:
	@scripts/setup.sh

run: setup
	$(KIOSK) --config $(CONFIG) run --embedded-central

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	$(KIOSK) --config $(CONFIG) demo

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf var out .pytest_cache
