"""Kiosk configuration: TOML defaults plus an optional override file, validated at start.

The defaults live in ``config/kiosk.toml``. An override (``--config FILE`` or ``KIOSK_CONFIG``)
only needs the keys it changes. Every key is described in ``SCHEMA``; an unknown key or a bad
value raises :class:`ConfigError` naming the key and what is expected, so a technician fixes
the file instead of reading a traceback.

``SCHEMA`` is the kiosk's own sections plus one section per device kind, each declared by its
package (``devices/<kind>/config.py``: keys, checks and a default for every key, read by the same
drivers), so what ``kiosk config check`` accepts and what the drivers read cannot drift apart. A
device key that ``config/kiosk.toml`` leaves out takes its package's default.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import devices.camera.config as CAMERA
import devices.idcard.config as IDCARD
import devices.printer.config as PRINTER
import devices.qr.config as QR
from common.config_keys import BOOL, PATH, URL, Key, Section, choice, integer, number, str_list, text
from common.secret_hash import hash_secret, verify_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "kiosk.toml"


# [central].database is a SQLite path or a URL; as a path it resolves like every PATH key, from
# the file that names it (_coerce), never from the directory the command happens to run in.
DATABASE = text("a SQLite file path (relative to the config file) or a postgresql:// URL")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds a bad value."""


# The kiosk's own sections; each device package owns its section (keys, checks, defaults) in
# devices/<kind>/config.py, next to the driver that reads it, and is taken here as it is.
KIOSK_SECTIONS: dict[str, dict[str, Key]] = {
    "kiosk": {
        "id": text("3–64 letters, digits, '.', '_' or '-'", r"[A-Za-z0-9._-]{3,64}"),
        "province_code": text("the 2-digit province code of the statistics office", r"\d{2}"),
        "province": text("the province name"),
        "commune_code": text("the 5-digit commune code of the statistics office", r"\d{5}"),
        "commune": text("the commune name"),
        "centre_name": text("the public service centre's name"),
        "language": choice("vi", "en"),
        "idle_timeout_s": integer(10, 3600),
        # WCAG 2.2.1: the citizen is warned at least 20 s before the wipe, with time to extend
        "idle_warning_s": integer(20, 120),
        # the identify screen's pictures and words of where this kiosk model's devices are
        # (kiosk.deployment.device_picture; a picture missing from the folder: the shipped drawing)
        "device_pictures": PATH,
        "reader_place": text("where the card reader is, in Vietnamese (e.g. \"bên phải, dưới màn hình\")", r".{1,80}"),
        "reader_place_en": text("where the card reader is, in English (e.g. \"on the right, below the screen\")", r".{1,80}"),
        "scanner_place": text("where the QR scanner is, in Vietnamese (e.g. \"bên trái, dưới màn hình\")", r".{1,80}"),
        "scanner_place_en": text("where the QR scanner is, in English (e.g. \"on the left, below the screen\")", r".{1,80}"),
        # the receipt's "Việc cần làm" block: where and from what hour the citizen comes back
        "result_counter": text("the counter that returns results, printed on the receipt (e.g. \"Quầy số 3\"); "
                               "empty: 'quầy tiếp nhận và trả kết quả'", r".{0,80}"),
        "office_opens": text("the hour the counters open, HH:MM (e.g. \"08:00\")", r"([01]\d|2[0-3]):[0-5]\d"),
    },
    "paths": {"data_dir": PATH, "flows_dir": PATH, "media_dir": PATH},
    "logging": {"level": choice("DEBUG", "INFO", "WARNING", "ERROR"), "file": PATH},
    "central": {
        "url": URL,
        "embedded": BOOL,
        "kiosk_secret": text("the kiosk's shared secret (at least 8 characters)", r".{8,}"),
        "ca_file": PATH,
        "client_cert": PATH,
        "client_key": PATH,
        "timeout_s": number(0.5, 120),
        "database": DATABASE,
        "admin_token": text("empty (admin HTTP API off) or a token of at least 16 characters", r"(.{16,})?"),
        "pg_fast_intake": BOOL,
        "public_openapi": BOOL,
        # the embedded central's bank-gateway secret (central [payments] gateway_secret): only the
        # simulated demo sets it, so its simulated bank can sign the notifications central checks
        "payment_gateway_secret": text("empty (payment notifications off) or at least 16 characters", r"(.{16,})?"),
        # the PKCS#11 library with the province admins' flow-signing keys (the console signs with it)
        "pkcs11_lib": PATH,
    },
    "outbox": {
        "path": PATH,
        "key_file": PATH,
        "key_source": choice("file", "keyring", "credential"),
        "keyring_service": text("the keyring item's service name (letters, digits, '.', '_', '-')", r"[A-Za-z0-9._-]{1,64}"),
        "keyring_user": text("the keyring item's user name (letters, digits, '.', '_', '-')", r"[A-Za-z0-9._-]{1,64}"),
        "keyring_timeout_s": number(0.5, 120),
        "retry_base_s": number(0.01, 3600),
        "retry_max_s": number(0.01, 86400),
        "probe_interval_s": number(0, 300),
        "submit_wait_s": number(0, 120),
    },
    "flows": {
        "trusted_keys": str_list("a list of base64 Ed25519 public keys"),
        # four eyes: how many DISTINCT trusted keys must have signed a bundle (flows.bundles.verify_bundle)
        "min_signatures": integer(1, 10),
        "bundle_dir": PATH,
    },
    # keypad navigation and the speech mode (kiosk/ui/access.py; docs/touchscreen.md): which key
    # names do what (Kivy's key names: "down", "tab", "numpad8", "f2", "shift+tab", or the
    # character itself: "*", "#"), the speech's pace and loudness, and how much longer a
    # speech-mode visit may stay idle
    "accessibility": {
        **{f"keys_{action}": str_list("a list of key names (e.g. [\"down\", \"numpad8\"])") for action in (
            "next", "previous", "activate", "back", "speech", "repeat", "stop", "slower", "faster",
            "volume_down", "volume_up", "hear_value", "delete", "done")},
        "speech_on_keypad": BOOL,
        "speech_rate": integer(80, 260),
        "speech_rate_min": integer(60, 260),
        "speech_rate_max": integer(80, 320),
        "speech_rate_step": integer(5, 60),
        "speech_volume": number(0.05, 1.0),
        "volume_step": number(0.05, 0.5),
        "timeout_multiplier": number(1.0, 10.0),
    },
    # paying the fee at the kiosk with a VietQR code (issue 22): the centre's receiving account, and
    # how long the pay screen waits for central to confirm before it offers to pay at the counter
    "payments": {
        "enabled": BOOL,
        "bank_bin": text("the receiving bank's 6-digit NAPAS BIN (e.g. \"970436\")", r"(\d{6})?"),
        "account": text("the centre's account number (digits and letters, at most 19)", r"([0-9A-Za-z]{1,19})?"),
        "account_name": text("the account holder as the bank shows it (e.g. \"TRUNG TAM PVHCC BA DINH\")", r".{0,70}"),
        "wait_s": integer(30, 1800),
        "poll_s": number(0.5, 30),
    },
    "maintenance": {
        "pin_hash": text("a PIN hash made by `kiosk config hash-pin`", r"pbkdf2_sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+"),
    },
}

#: the device sections, each declared by its package
DEVICE_SECTIONS: tuple[Section, ...] = (IDCARD.SECTION, QR.SECTION, CAMERA.SECTION, PRINTER.SECTION)

SCHEMA: dict[str, dict[str, Key]] = {**KIOSK_SECTIONS, **{d.name: dict(d.keys) for d in DEVICE_SECTIONS}}

#: [kiosk] keys a file need not set: the shipped drawings (media/devices/) and where they show the
#: devices, the counter that returns results and the hour the counters open
KIOSK_DEFAULTS: dict[str, Any] = {
    "device_pictures": "",
    "reader_place": "bên phải, dưới màn hình",
    "reader_place_en": "on the right, below the screen",
    "scanner_place": "bên trái, dưới màn hình",
    "scanner_place_en": "on the left, below the screen",
    "result_counter": "",
    "office_opens": "08:00",
}

#: defaults of keys a file need not set (the device sections', and KIOSK_DEFAULTS); every other key
#: must be in config/kiosk.toml
DEFAULTS: dict[str, dict[str, Any]] = {"kiosk": dict(KIOSK_DEFAULTS), **{d.name: dict(d.defaults) for d in DEVICE_SECTIONS}}


class Config:
    """Validated configuration: ``cfg["devices.printer"]["backend"]`` or ``cfg.section("kiosk")``."""

    def __init__(self, data: dict[str, dict[str, Any]], sources: list[Path]):
        self._data = data
        self.sources = sources

    def section(self, name: str) -> dict[str, Any]:
        return dict(self._data[name])

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self._data[name]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._data.items()}

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The configuration with secrets removed, for support bundles and `config check`."""
        out = self.as_dict()
        for section, values in out.items():
            for key in values:
                if any(w in key for w in ("secret", "pin_hash", "password", "key_file", "client_key", "token")):
                    values[key] = "<redacted>" if values[key] else ""
        db = out["central"].get("database", "")
        out["central"]["database"] = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:<redacted>@", str(db))
        return out


def _flatten(raw: dict[str, Any], file: Path) -> dict[str, dict[str, Any]]:
    """TOML tables → {"devices.printer": {...}}; anything that is not a known section is an error."""
    out: dict[str, dict[str, Any]] = {}

    def walk(prefix: str, table: dict[str, Any]):
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if name in SCHEMA:
                if not isinstance(value, dict):
                    raise ConfigError(f"{file}: [{name}] must be a table of keys")
                out[name] = dict(value)
                # a known section may also hold sub-sections ([devices] holds [devices.qr] …)
            elif isinstance(value, dict) and any(s.startswith(name + ".") for s in SCHEMA):
                walk(name, value)
            else:
                known = sorted(s for s in SCHEMA if "." not in s or s.startswith(prefix))
                raise ConfigError(f"{file}: unknown section or key '{name}'; expected one of: {', '.join(known)}")

    walk("", raw)
    return out


def _coerce(section: str, key: str, value: Any, spec: Key, base: Path, file: Path) -> Any:
    try:
        value = spec.validate(value)
    except ValueError:
        raise ConfigError(f"{file}: {section}.{key} = {value!r}: expected {spec.expected}") from None
    if spec.kind == "path":
        return str((base / value).resolve()) if value else ""
    if spec is DATABASE and value and "://" not in value:
        return str((base / Path(value).expanduser()).resolve())  # "~" as central.db.database_url allows it
    return value


def _read(file: Path) -> dict[str, Any]:
    try:
        with open(file, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None


def _apply(merged: dict[str, dict[str, Any]], file: Path, required: bool) -> None:
    base = file.resolve().parent
    for section, values in _flatten(_read(file), file).items():
        for key, value in values.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                raise ConfigError(
                    f"{file}: unknown key '{section}.{key}'; expected one of: "
                    + ", ".join(sorted(SCHEMA[section]))
                )
            merged.setdefault(section, {})[key] = _coerce(section, key, value, spec, base, file)
    if required:
        for section, keys in SCHEMA.items():
            for key, spec in keys.items():
                if key not in merged.get(section, {}):
                    raise ConfigError(f"{file}: missing key '{section}.{key}' ({spec.expected})")


def load_config(path: str | os.PathLike | None = None, *, defaults: Path = DEFAULT_CONFIG) -> Config:
    """Defaults, then the override named by ``path`` or ``$KIOSK_CONFIG`` (if any)."""
    merged: dict[str, dict[str, Any]] = {name: dict(values) for name, values in DEFAULTS.items()}
    _apply(merged, defaults, required=True)
    sources = [defaults]
    chosen = path or os.environ.get("KIOSK_CONFIG") or None
    if chosen and Path(chosen).resolve() != defaults.resolve():
        _apply(merged, Path(chosen), required=False)
        sources.append(Path(chosen))
    # the card reader's APDU log lives in the data folder, where `kiosk diag bundle` looks, unless
    # a file names another folder (devices know no data folder: the kiosk's config hands it over)
    if not merged["devices.idcard"].get("apdu_log_dir"):
        merged["devices.idcard"]["apdu_log_dir"] = str(Path(merged["paths"]["data_dir"]) / "apdu")
    a = merged["accessibility"]
    if not a["speech_rate_min"] <= a["speech_rate"] <= a["speech_rate_max"]:
        raise ConfigError(f"{sources[-1]}: accessibility.speech_rate must lie between speech_rate_min and speech_rate_max")
    if merged["kiosk"]["idle_warning_s"] >= merged["kiosk"]["idle_timeout_s"]:
        raise ConfigError(
            f"{sources[-1]}: kiosk.idle_warning_s must be shorter than kiosk.idle_timeout_s"
        )
    p = merged["payments"]
    if p["enabled"] and not (p["bank_bin"] and p["account"]):
        raise ConfigError(f"{sources[-1]}: payments.enabled needs payments.bank_bin and payments.account "
                          "(the account the VietQR code pays into)")
    return Config(merged, sources)


# --- technician PIN -------------------------------------------------------------------------
_PIN_ITERATIONS = 200_000


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = _PIN_ITERATIONS) -> str:
    if not re.fullmatch(r"\d{4,12}", pin):
        raise ValueError("the PIN must be 4 to 12 digits")
    return hash_secret(pin, iterations=iterations, salt=salt)


def verify_pin(pin: str, stored: str) -> bool:
    return verify_secret(pin, stored)
