# Two commands matter: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KIOSK := $(VENV)/bin/kiosk
CONFIG ?= config/kiosk.toml
PYTEST_ARGS ?=
# the suite on both cores (pytest-xdist); one pcscd for both workers and one test at a time on its
# virtual reader (tests/conftest.py). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
PYTEST_PAR = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS))
LOCK_ARGS ?=
PYTHON ?= python3
VENV_LATEST ?= .venv-latest
# pip as scripts/setup.sh runs it: PyPI only, no pip.conf, local wheel folders or extra indexes
PIP_PYPI := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_NO_INDEX -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
# name and version per line, names normalised, from requirement or `pip freeze` lines
NAME_VERSION := sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*\)==\([^ ;\\]*\).*/\1 \2/p' \
	| awk '{n = tolower($$1); gsub(/[-_.]+/, "-", n); print n, $$2}' | LC_ALL=C sort -u

.PHONY: setup run test test-latest lock demo bench clean help

help:
	@echo "make run    - start the embedded central system and the kiosk on simulated devices"
	@echo "make test   - run the whole test suite (locked versions; PYTEST_ARGS=... passes options to pytest)"
	@echo "make demo   - walk citizen journeys headless, write screenshots and receipts"
	@echo "make bench  - run benchmarks and rewrite BENCHMARKS.md"
	@echo "make setup  - install Debian packages, the venv and the locked packages (idempotent;"
	@echo "              EXTRAS=kiosk or EXTRAS=central for one machine's part, see scripts/setup.sh)"
	@echo "make lock   - rewrite requirements/*.txt (exact versions + hashes) from pyproject.toml;"
	@echo "              LOCK_ARGS=--upgrade for the newest versions the ranges allow (scripts/lock.sh)"
	@echo "make test-latest - the suite against the newest versions the ranges allow, unlocked, in $(VENV_LATEST)"

setup:
	@scripts/setup.sh

run: setup
	$(KIOSK) --config $(CONFIG) run --embedded-central

# Under `faketime` (`faketime '2027-03-01 08:00:00' make test`), the faked instant goes to the
# project's clock (KIOSK_NOW, common/clock.py) and pytest runs without libfaketime: its interception
# of thread waits and of clock_nanosleep makes Python 3.11 hang or fail sleeps with EINVAL, whether or
# not it fakes the monotonic clock. Every date the project computes then follows the faked day.
test: setup
	@if [[ "$${LD_PRELOAD:-}" == *faketime* ]]; then \
	  now=$$(date --iso-8601=seconds); \
	  echo "make test: under faketime: the project's clock starts at $$now (KIOSK_NOW), pytest runs on the real clocks"; \
	  env -u LD_PRELOAD -u FAKETIME -u FAKETIME_DONT_FAKE_MONOTONIC KIOSK_NOW="$$now" $(PY) -m pytest $(PYTEST_PAR) $(PYTEST_ARGS); \
	else \
	  $(PY) -m pytest $(PYTEST_PAR) $(PYTEST_ARGS); \
	fi

lock:
	@scripts/lock.sh $(LOCK_ARGS)

# Upstream releases show up here, as a deliberate upgrade, instead of in `make test` on main:
# the newest versions pyproject.toml allows, in a venv of their own, then the differences from the
# lock, then the suite. If it passes, `make lock LOCK_ARGS=--upgrade` takes them.
test-latest: setup
	@set -eo pipefail; \
	if [[ ! -x $(VENV_LATEST)/bin/python ]]; then \
	  echo "test-latest: creating $(VENV_LATEST)"; $(PYTHON) -m venv $(VENV_LATEST); \
	fi; \
	echo '*' >$(VENV_LATEST)/.gitignore; \
	cert=$${PIP_CERT:-$$($(VENV_LATEST)/bin/python -m pip config get global.cert 2>/dev/null || true)}; \
	echo "test-latest: installing the newest versions into $(VENV_LATEST) (log: $(VENV_LATEST)/pip.log)"; \
	if ! $(PIP_PYPI) $${cert:+PIP_CERT=$$cert} PATH="$(abspath $(VENV_LATEST))/bin:$$PATH" \
	     $(VENV_LATEST)/bin/python -m pip install --upgrade --upgrade-strategy eager \
	     --index-url https://pypi.org/simple pip setuptools wheel swig -e '.[kiosk,central,dev]' \
	     >$(VENV_LATEST)/pip.log 2>&1; then \
	  echo "test-latest: pip install failed; its output follows" >&2; cat $(VENV_LATEST)/pip.log >&2; exit 1; \
	fi; \
	echo "test-latest: versions that differ from requirements/dev.txt + build.txt (locked -> installed):"; \
	LC_ALL=C join -a1 -a2 -e '(none)' -o 0,1.2,2.2 \
	  <(cat requirements/build.txt requirements/dev.txt | $(NAME_VERSION)) \
	  <($(VENV_LATEST)/bin/python -m pip freeze --all --exclude-editable | $(NAME_VERSION)) \
	| awk '$$2 != $$3 {printf "  %-28s %-16s -> %s\n", $$1, $$2, $$3; n++} END {if (!n) print "  none"}'
	$(VENV_LATEST)/bin/python -m pytest $(PYTEST_ARGS)

demo: setup
	$(KIOSK) --config $(CONFIG) demo

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf var out .pytest_cache
