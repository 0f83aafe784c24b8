#!/usr/bin/env bash
# Idempotent setup: Debian packages that are missing, a venv, the locked Python packages, the project
# in editable mode. Fast when everything is already there, so `make run` / `make test` call it every time.
#
# Python packages come only from the lock files in requirements/ (made from pyproject.toml by
# `make lock`, see scripts/lock.sh): exact versions, every file checked against its --hash, so a
# fresh machine gets exactly what CI tested. Nothing is upgraded from the index unpinned.
#
# Variables:
#   EXTRAS=dev        which lock to install: dev (default: kiosk + central + test tools, what
#                     `make test` and CI use), kiosk (a kiosk machine) or central (a central system
#                     server, without Kivy, OpenCV or pyscard)
#   LOCK=FILE         the lock file itself, instead of EXTRAS, e.g.
#                       LOCK=requirements/central.txt scripts/setup.sh
#                       EXTRAS=kiosk VENV=/opt/kiosk/venv scripts/setup.sh
#   VENV=.venv        the venv (made when missing)
#   PYTHON=python3    the interpreter that makes it (3.11: the locks are made for it)
#   INDEX_URL=https://pypi.org/simple   where packages come from; a PyPI mirror works too, as every
#                     file is hash-checked. pip.conf files and PIP_*INDEX*/PIP_FIND_LINKS variables are
#                     ignored here, so local wheel folders or indexes can't slip in a different build.
# Switching to a smaller lock installs into the same venv and removes nothing: for an exact set,
# start from a new venv (rm -rf .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${EXTRAS:-dev}"
LOCK="${LOCK:-requirements/$EXTRAS.txt}"
INDEX_URL="${INDEX_URL:-https://pypi.org/simple}"
BUILD_LOCK=requirements/build.txt
for f in "$BUILD_LOCK" "$LOCK"; do
  if [[ ! -f "$f" ]]; then
    echo "setup: no lock file $f (EXTRAS is dev, kiosk or central; LOCK names a file in requirements/)" >&2
    exit 2
  fi
done

mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | sed '/^\s*$/d')
missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then missing+=(python3-venv); fi
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp /tmp/kiosk-setup-apt.XXXXXX)
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
    echo "setup: apt-get failed; its output follows" >&2
    cat "$aptlog" >&2
    exit 1
  fi
  rm -f "$aptlog"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# The stamp names what was installed: the locks and pyproject.toml (entry points, package list).
stamp="$VENV/.installed-$(cat pyproject.toml "$BUILD_LOCK" "$LOCK" | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  # pip and setuptools talk a lot even when all is well (build-backend notices, compiler output):
  # keep it in a log and show it only when the install fails.
  log="$VENV/setup-pip.log"
  echo "setup: installing $LOCK into $VENV (first time takes a few minutes; log: $log)"
  # pip.conf may name the CA bundle of a TLS-inspecting proxy: keep it when config files are ignored.
  if [[ -z "${PIP_CERT:-}" ]]; then
    cert=$("$VENV/bin/python" -m pip config get global.cert 2>/dev/null || true)
    if [[ -n "$cert" ]]; then export PIP_CERT="$cert"; fi
  fi
  venv_bin=$(cd "$VENV/bin" && pwd)
  pip() {
    # PIP_CONFIG_FILE=/dev/null: pip reads no config file at all; the unset variables are the ones
    # that would add or swap package sources. $VENV/bin first on PATH: sdists (pyscard) build with
    # the locked swig.
    env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_NO_INDEX -u PIP_CONSTRAINT \
        -u PIP_NO_BINARY -u PIP_ONLY_BINARY -u PIP_PREFER_BINARY -u PIP_PRE \
        PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PATH="$venv_bin:$PATH" \
        "$VENV/bin/python" -m pip "$@"
  }
  if ! { pip install --require-hashes --index-url "$INDEX_URL" -r "$BUILD_LOCK" \
         && pip install --require-hashes --no-build-isolation --index-url "$INDEX_URL" -r "$LOCK" \
         && pip install --no-deps --no-build-isolation --no-index -e .; } >"$log" 2>&1; then
    echo "setup: pip install failed; its output follows" >&2
    cat "$log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
