#!/usr/bin/env bash
# Make the lock files in requirements/ from pyproject.toml: exact versions with --hash lines that
# plain `pip install --require-hashes -r FILE` installs (scripts/setup.sh does), for CPython 3.11 on
# Linux x86_64 (Debian 12: glibc 2.36), resolved against PyPI only.
#
#   make lock                                  # or scripts/lock.sh: keep the pins that pyproject
#                                              # still allows, add and drop what it changed
#   make lock LOCK_ARGS=--upgrade              # newest versions the ranges allow (a deliberate upgrade;
#                                              # `make test-latest` shows what that would bring)
#   make lock LOCK_ARGS="-P fastapi -P starlette"   # upgrade only these
#
# Files (commit all of them together with pyproject.toml):
#   requirements/build.txt    pip, setuptools, wheel (pyproject's [build-system]) and swig: what the
#                             project and pyscard's sdist (no Linux wheel) build with, without isolation
#   requirements/dev.txt      base + kiosk + central + dev extras: what `make test` and CI install
#   requirements/kiosk.txt    base + kiosk extra: a kiosk machine
#   requirements/central.txt  base + central extra: a central system server
# kiosk.txt and central.txt are constrained to dev.txt's versions, and dev.txt to build.txt's, so
# every machine runs the very versions CI tested.
#
# uv, pinned and hash-checked below, goes into a throwaway venv under /tmp (never .venv). uv does not
# read pip.conf, so this machine's local find-links and extra indexes don't leak into the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
INDEX_URL="https://pypi.org/simple"
TARGET=(--python-version 3.11 --python-platform x86_64-manylinux_2_36)
UV_PIN='uv==0.13.9
    --hash=sha256:d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19
    --hash=sha256:5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe
    --hash=sha256:ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375'
# Build requirements of locked packages that ship no wheel for the target (pip builds them from the
# sdist with --no-build-isolation, so their build tools must be locked too). pyscard: setuptools, swig.
SDIST_BUILD_REQUIRES=(swig)

tmp=$(mktemp -d /tmp/kiosk-lock.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p requirements

echo "lock: installing ${UV_PIN%%$'\n'*} into a throwaway venv"
"$PYTHON" -m venv "$tmp/venv"
printf '%s\n' "$UV_PIN" | sed 's/$/ \\/; $s/ \\$//' >"$tmp/uv.txt"
# pip.conf may name the CA bundle of a TLS-inspecting proxy: keep it when config files are ignored
if [[ -z "${PIP_CERT:-}" ]]; then
  cert=$("$tmp/venv/bin/python" -m pip config get global.cert 2>/dev/null || true)
  if [[ -n "$cert" ]]; then export PIP_CERT="$cert"; fi
fi
if ! env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
     "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
     --index-url "$INDEX_URL" -r "$tmp/uv.txt" >"$tmp/pip.log" 2>&1; then
  cat "$tmp/pip.log" >&2
  exit 1
fi
uv=("$tmp/venv/bin/uv" --no-config)
export UV_NO_PROGRESS=1

# name==version lines of a lock file, to constrain the next one
pins() { sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*==[^ ;\\]*\).*/\1/p' "$1" >"$2"; }

compile() {  # compile OUT [uv pip compile arguments...]
  local out=$1
  shift
  echo "lock: $out"
  "${uv[@]}" pip compile --quiet --generate-hashes "${TARGET[@]}" \
    --default-index "$INDEX_URL" --custom-compile-command "make lock" -o "$out" "$@"
}

# build.txt: pip + pyproject's [build-system] requires + sdist build tools
"$PYTHON" - "$tmp/build.in" "${SDIST_BUILD_REQUIRES[@]}" <<'EOF'
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    requires = tomllib.load(f)["build-system"]["requires"]
with open(sys.argv[1], "w") as f:
    f.write("\n".join(["pip", *requires, *sys.argv[2:]]) + "\n")
EOF
compile requirements/build.txt "$tmp/build.in" "$@"
pins requirements/build.txt "$tmp/build-pins.txt"

compile requirements/dev.txt pyproject.toml --extra kiosk --extra central --extra dev \
  -c "$tmp/build-pins.txt" "$@"
pins requirements/dev.txt "$tmp/dev-pins.txt"
cat "$tmp/build-pins.txt" >>"$tmp/dev-pins.txt"

compile requirements/kiosk.txt pyproject.toml --extra kiosk -c "$tmp/dev-pins.txt"
compile requirements/central.txt pyproject.toml --extra central -c "$tmp/dev-pins.txt"

# the inputs above live in a random /tmp folder: name what they stand for in the "# via" notes
sed -i -e "s|-r $tmp/build.in|scripts/lock.sh (pip, [build-system] requires, sdist build tools)|" \
  -e "s|$tmp/build-pins.txt|requirements/build.txt|" -e "s|$tmp/dev-pins.txt|requirements/dev.txt|" \
  requirements/*.txt
echo "lock: done; review with: git diff --stat requirements/"
