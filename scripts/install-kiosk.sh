#!/usr/bin/env bash
# Install (or update) the kiosk on a Debian 12 machine: packages, the `kiosk` user, the app in
# /opt/kiosk, config in /etc/kiosk, data in /var/lib/kiosk, systemd units, PAM/polkit/udev files.
# Idempotent: run it again after copying a new release; it never overwrites /etc/kiosk/kiosk.toml
# nor anything under /var/lib/kiosk. See docs/technician-guide.md.
#
#   sudo scripts/install-kiosk.sh              # install / update
#   scripts/install-kiosk.sh --dry-run         # print every action, change nothing (no root needed)
#   scripts/install-kiosk.sh --destdir DIR     # write the files under DIR, print the system commands
#                                              # (packaging and tests; no root needed)
# The outbox key is sealed to this machine with systemd-creds (TPM2 when there is one, else the
# host key), never by --dry-run or --destdir: a key sealed elsewhere would open nothing here.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX=/opt/kiosk
DRY=0
DESTDIR=""
APT=1
START=0
CREDS_KEY=auto     # systemd-creds --with-key: auto = TPM2 (+ host key) when the kiosk has a TPM, else the host key
TPM2_PCRS=""       # none by default: see kiosk/outbox_key.py DEFAULT_TPM2_PCRS and docs/technician-guide.md

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF

options:
  --dry-run        print the actions without doing them
  --destdir DIR    install files under DIR instead of /; system commands are only printed
  --src DIR        kiosk source tree to install (default: $SRC)
  --no-apt         do not install Debian packages (already done, or offline)
  --start          (re)start the kiosk services at the end
  --creds-key K    what seals the outbox key: auto (default), host, tpm2, host+tpm2
  --tpm2-pcrs L    also bind it to these TPM2 PCRs, e.g. 7 (default: none)
  -h, --help       this help
EOF
}

while (($#)); do
  case "$1" in
    --dry-run) DRY=1 ;;
    --destdir) DESTDIR="$(realpath -m "$2")"; shift ;;
    --src) SRC="$(realpath "$2")"; shift ;;
    --no-apt) APT=0 ;;
    --start) START=1 ;;
    --creds-key)
      case "${2:-}" in auto|host|tpm2|host+tpm2) CREDS_KEY="$2" ;;
        *) echo "install-kiosk: --creds-key takes auto, host, tpm2 or host+tpm2" >&2; exit 2 ;; esac
      shift ;;
    --tpm2-pcrs) TPM2_PCRS="${2:-}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-kiosk: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# Debian packages the kiosk needs at run time, plus what pyscard needs to build.
PACKAGES=(
  pcscd libccid pcsc-tools                      # card readers (CCID driver, pcsc_scan)
  cage xwayland                                 # the locked-down full-screen session
  python3 python3-venv python3-dev build-essential swig libpcsclite-dev
  libzbar0 libusb-1.0-0 v4l-utils               # QR decoding, USB printers, camera tools
  libmtdev1 libgl1-mesa-dri libegl-mesa0 libegl1 libgbm1
  fonts-dejavu-core ffmpeg espeak-ng
  polkitd
  libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0  # TPM2 for systemd-creds (without them it seals with the host key only)
)
KIOSK_GROUPS=(video input render dialout lp plugdev)

# --- how actions run ------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
quote() { local out=() a; for a in "$@"; do out+=("$(printf '%q' "$a")"); done; printf '%s' "${out[*]}"; }
# A system command: done for real only in a normal install.
sys() {
  if ((DRY)) || [[ -n "$DESTDIR" ]]; then say "+ $(quote "$@")"; else "$@"; fi
}
# A file operation: done under DESTDIR too (paths are given without DESTDIR).
file_op() {
  if ((DRY)); then say "+ $(quote "$@")"; else "$@"; fi
}
owner() {  # install(1) ownership flags: only on a real system, where the kiosk user exists
  if [[ -n "$DESTDIR" ]] || ((DRY)); then return; fi
  printf -- '-o %s -g %s' "$1" "$2"
}
D() { printf '%s%s' "$DESTDIR" "$1"; }

# --- checks -----------------------------------------------------------------------------------
if ((!DRY)) && [[ -z "$DESTDIR" ]] && [[ $(id -u) -ne 0 ]]; then
  echo "install-kiosk: run as root (sudo), or use --dry-run / --destdir" >&2
  exit 1
fi
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091  # a system file, read at run time
  . /etc/os-release
  if [[ "${ID:-}" != debian || "${VERSION_ID:-}" != 12 ]]; then
    say "install-kiosk: warning: made for Debian 12, this is ${PRETTY_NAME:-unknown}"
  fi
fi
for f in systemd/kiosk.service systemd/kiosk-sync.service systemd/kiosk-flows-update.service \
         systemd/kiosk-flows-update.timer systemd/kiosk-session.py systemd/pam-kiosk systemd/60-kiosk-pcscd.rules \
         systemd/70-kiosk-devices.rules config/examples/real-hardware.toml pyproject.toml; do
  [[ -f "$SRC/$f" ]] || { echo "install-kiosk: $SRC/$f missing: is --src a kiosk source tree?" >&2; exit 1; }
done
say "install-kiosk: installing from $SRC${DESTDIR:+ into $DESTDIR}$( ((DRY)) && printf ' (dry run)')"

# --- 1. packages ------------------------------------------------------------------------------
if ((APT)); then
  say "== Debian packages"
  sys env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sys env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi

# --- 2. the kiosk user ------------------------------------------------------------------------
say "== user kiosk"
if [[ -n "$DESTDIR" ]] || ((DRY)) || ! getent passwd kiosk >/dev/null; then
  sys useradd --system --user-group --home-dir /var/lib/kiosk --no-create-home \
      --shell /usr/sbin/nologin --comment "Public service kiosk" kiosk
fi
for g in "${KIOSK_GROUPS[@]}"; do
  if [[ -n "$DESTDIR" ]] || ((DRY)) || getent group "$g" >/dev/null; then
    sys usermod -aG "$g" kiosk
  fi
done

# --- 3. the app -------------------------------------------------------------------------------
say "== app in $PREFIX"
file_op install -d -m 0755 "$(D "$PREFIX")"
# A fresh copy next to the old one, then a swap: files removed from a release do not linger.
copy_app() {
  rm -rf "$1.new" && mkdir -p "$1.new"
  tar -C "$SRC" --exclude=.git --exclude=.venv --exclude=./var --exclude=__pycache__ \
      --exclude=.pytest_cache --exclude='*.egg-info' -cf - . | tar -C "$1.new" -xf -
  rm -rf "$1.old"
  if [[ -d "$1" ]]; then mv "$1" "$1.old"; fi
  mv "$1.new" "$1" && rm -rf "$1.old"
}
file_op copy_app "$(D "$PREFIX/app")"
# Editable install: the defaults (config/kiosk.toml), flow definitions and media stay in
# /opt/kiosk/app where the code finds them; the venv only holds the dependencies.
if [[ -n "$DESTDIR" ]] || ((DRY)) || [[ ! -x "$PREFIX/venv/bin/python" ]]; then
  sys python3 -m venv "$PREFIX/venv"
fi
# Exactly the versions CI tested, each file checked against its hash (requirements/, made by
# `make lock`): the build tools first, then the kiosk's part (no FastAPI or PostgreSQL driver), built
# without isolation so pyscard compiles with the locked setuptools and swig, then the app itself.
sys "$PREFIX/venv/bin/pip" install --quiet --require-hashes -r "$PREFIX/app/requirements/build.txt"
sys env PATH="$PREFIX/venv/bin:$PATH" "$PREFIX/venv/bin/pip" install --quiet --require-hashes --no-build-isolation \
    -r "$PREFIX/app/requirements/kiosk.txt"
sys "$PREFIX/venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$PREFIX/app"

# --- 4. config and data -----------------------------------------------------------------------
say "== config /etc/kiosk, data /var/lib/kiosk, logs /var/log/kiosk"
# shellcheck disable=SC2046  # owner() prints nothing or two flags
file_op install -d -m 0750 $(owner root kiosk) "$(D /etc/kiosk)" "$(D /etc/kiosk/csca)"
if [[ -e "$(D /etc/kiosk/kiosk.toml)" ]]; then
  say "   /etc/kiosk/kiosk.toml exists: kept as it is"
else
  # shellcheck disable=SC2046
  file_op install -m 0640 $(owner root kiosk) "$SRC/config/examples/real-hardware.toml" "$(D /etc/kiosk/kiosk.toml)"
  NEW_CONFIG=1
  # A new kiosk reads its outbox key from the sealed credential (section 4b); an existing config
  # keeps its key_source until the technician switches it (the key is sealed for it all the same).
  if ((DRY)); then
    say "+ set [outbox] key_source = \"credential\" in /etc/kiosk/kiosk.toml"
  else
    python3 - "$(D /etc/kiosk/kiosk.toml)" <<'PY'
import re, sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
line = 'key_source = "credential"       # the key sealed to this machine (systemd-creds; the units load it)\n'
section, at, replaced = None, None, False
for i, text in enumerate(lines):
    head = re.match(r"\s*\[([^\]]+)\]", text)
    if head:
        section = head.group(1).strip()
        if section == "outbox":
            at = i + 1
    elif section == "outbox" and re.match(r"\s*key_source\s*=", text):
        lines[i], replaced = line, True
    elif section == "outbox" and re.match(r"\s*key_file\s*=", text):
        at = i + 1
if not replaced:
    lines[at:at] = [line] if at is not None else ["\n[outbox]\n", line]
open(path, "w", encoding="utf-8").writelines(lines)
PY
  fi
fi
if [[ -d "$SRC/config/csca" ]]; then
  for cert in "$SRC"/config/csca/*; do
    [[ -f "$cert" && ! -e "$(D /etc/kiosk/csca)/$(basename "$cert")" ]] || continue
    # shellcheck disable=SC2046
    file_op install -m 0644 $(owner root kiosk) "$cert" "$(D /etc/kiosk/csca)/"
  done
fi
# shellcheck disable=SC2046
file_op install -d -m 0750 $(owner kiosk kiosk) "$(D /var/lib/kiosk)" "$(D /var/log/kiosk)"

# --- 4b. the outbox key, sealed to this machine -------------------------------------------------
# systemd-creds encrypts it with the TPM2 and/or the host key (/var/lib/systemd/credential.secret);
# kiosk.service and kiosk-sync.service get it decrypted through LoadCredentialEncrypted=. A plain
# key file of an older install is sealed as it is (its waiting dossiers stay readable) and removed
# once the config reads the credential. Idempotent; it never replaces a key the outbox needs.
say "== outbox key sealed to this machine (/etc/credstore.encrypted/kiosk-outbox-key)"
if ! sys "$PREFIX/venv/bin/python" -m kiosk.outbox_key seal --config /etc/kiosk/kiosk.toml \
     --with-key "$CREDS_KEY" --tpm2-pcrs "$TPM2_PCRS"; then
  SEAL_FAILED=1
  say "   install-kiosk: the outbox key could not be sealed (the reason is above); the rest is installed."
fi

# --- 5. systemd units, PAM, polkit, udev ------------------------------------------------------
say "== systemd units, PAM, polkit and udev rules"
file_op install -d -m 0755 "$(D /etc/systemd/system)" "$(D /etc/pam.d)" "$(D /etc/polkit-1/rules.d)" "$(D /etc/udev/rules.d)"
for unit in kiosk.service kiosk-sync.service kiosk-flows-update.service kiosk-flows-update.timer; do
  file_op install -m 0644 "$SRC/systemd/$unit" "$(D /etc/systemd/system/$unit)"
done
file_op install -m 0644 "$SRC/systemd/pam-kiosk" "$(D /etc/pam.d/kiosk)"
file_op install -m 0644 "$SRC/systemd/60-kiosk-pcscd.rules" "$(D /etc/polkit-1/rules.d/60-kiosk-pcscd.rules)"
# The printer's USB IDs from the config become one more udev line (many ESC/POS printers use a
# vendor class, not the printer class the generic rule matches).
udev_rules="$(cat "$SRC/systemd/70-kiosk-devices.rules")"
config_file="$(D /etc/kiosk/kiosk.toml)"
[[ -e "$config_file" ]] || config_file="$SRC/config/examples/real-hardware.toml"
ids="$(python3 - "$config_file" <<'PY' || true
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb")).get("devices", {}).get("printer", {})
if p.get("backend") == "usb" and p.get("usb_vendor") and p.get("usb_product"):
    print(f"{p['usb_vendor']:04x} {p['usb_product']:04x}")
PY
)"
if [[ -n "$ids" ]]; then
  read -r vid pid <<<"$ids"
  udev_rules+=$'\n'"SUBSYSTEM==\"usb\", ATTR{idVendor}==\"$vid\", ATTR{idProduct}==\"$pid\", GROUP=\"kiosk\", MODE=\"0660\""
fi
if ((DRY)); then
  say "+ write /etc/udev/rules.d/70-kiosk-devices.rules${ids:+ (with printer $ids)}"
else
  printf '%s\n' "$udev_rules" > "$(D /etc/udev/rules.d/70-kiosk-devices.rules)"
  chmod 0644 "$(D /etc/udev/rules.d/70-kiosk-devices.rules)"
fi

# --- 6. enable ----------------------------------------------------------------------------------
say "== enable services"
sys systemctl daemon-reload
sys udevadm control --reload-rules
sys udevadm trigger --subsystem-match=usb --subsystem-match=tty --subsystem-match=video4linux
sys systemctl enable pcscd.socket kiosk.service kiosk-sync.service kiosk-flows-update.timer
sys systemctl set-default graphical.target
if ((START)); then
  sys systemctl restart pcscd.socket kiosk-sync.service kiosk.service
  sys systemctl start kiosk-flows-update.timer
fi

say ""
say "install-kiosk: done."
if [[ -n "${NEW_CONFIG:-}" ]]; then
  say "  1. Edit /etc/kiosk/kiosk.toml: every line marked CHANGE (kiosk id, central url and secret, devices, PIN)."
else
  say "  1. /etc/kiosk/kiosk.toml was kept; compare with $PREFIX/app/config/examples/real-hardware.toml for new keys."
fi
say "  2. Check: sudo -u kiosk KIOSK_CONFIG=/etc/kiosk/kiosk.toml $PREFIX/venv/bin/kiosk diag"
say "  3. Start: sudo systemctl restart kiosk-sync kiosk   (or reboot)"
say "  4. Back up the outbox key off this machine (docs/technician-guide.md, 'The outbox key')."
if [[ -n "${SEAL_FAILED:-}" ]]; then
  say "install-kiosk: FAILED to seal the outbox key: read the message above (docs/technician-guide.md, 'The outbox key')."
  exit 1
fi
