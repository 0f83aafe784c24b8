#!/usr/bin/env bash
# Idempotent setup: Debian packages that are missing, a venv, the project in editable mode.
# Fast when everything is already there, so `make run` / `make test` call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

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
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  # pip and setuptools talk a lot even when all is well (index locations this machine's pip.conf
  # names, build-backend notices): keep it in a log and show it only when the install fails.
  log="$VENV/setup-pip.log"
  echo "setup: installing Python packages into $VENV (first time takes a few minutes; log: $log)"
  if ! { "$VENV/bin/pip" install --upgrade pip \
         && "$VENV/bin/pip" install -e '.[dev]'; } >"$log" 2>&1; then
    echo "setup: pip install failed; its output follows" >&2
    cat "$log" >&2
    exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
