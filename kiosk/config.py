"""Kiosk configuration: TOML defaults plus an optional override file, validated at start.

The defaults live in ``config/kiosk.toml``. An override (``--config FILE`` or ``KIOSK_CONFIG``)
only needs the keys it changes. Every key is described in ``SCHEMA``; an unknown key or a bad
value raises :class:`ConfigError` naming the key and what is expected, so a technician fixes
the file instead of reading a traceback.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from common.secret_hash import hash_secret, verify_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "kiosk.toml"


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds a bad value."""


@dataclass(frozen=True)
class Key:
    kind: str  # str | int | float | bool | path | list[str] | choice
    expected: str
    check: Callable[[Any], bool] | None = None
    choices: tuple[str, ...] = ()


def _str(expected="a string", pattern: str | None = None) -> Key:
    rx = re.compile(pattern) if pattern else None
    return Key("str", expected, (lambda v: bool(rx.fullmatch(v))) if rx else None)


def _int(lo: int, hi: int) -> Key:
    return Key("int", f"a whole number from {lo} to {hi}", lambda v: lo <= v <= hi)


def _float(lo: float, hi: float) -> Key:
    return Key("float", f"a number from {lo} to {hi}", lambda v: lo <= v <= hi)


def _choice(*choices: str) -> Key:
    return Key("choice", "one of " + ", ".join(repr(c) for c in choices), choices=choices)


_PATH = Key("path", "a file or folder path (relative to the config file), or empty")
_URL = _str("an http:// or https:// URL", r"https?://[^\s/]+(:\d+)?(/\S*)?")

SCHEMA: dict[str, dict[str, Key]] = {
    "kiosk": {
        "id": _str("3–64 letters, digits, '.', '_' or '-'", r"[A-Za-z0-9._-]{3,64}"),
        "province_code": _str("the 2-digit province code of the statistics office", r"\d{2}"),
        "province": _str("the province name"),
        "commune_code": _str("the 5-digit commune code of the statistics office", r"\d{5}"),
        "commune": _str("the commune name"),
        "centre_name": _str("the public service centre's name"),
        "language": _choice("vi", "en"),
        "idle_timeout_s": _int(10, 3600),
        "idle_warning_s": _int(5, 120),
    },
    "paths": {"data_dir": _PATH, "flows_dir": _PATH, "media_dir": _PATH},
    "logging": {"level": _choice("DEBUG", "INFO", "WARNING", "ERROR"), "file": _PATH},
    "central": {
        "url": _URL,
        "embedded": Key("bool", "true or false"),
        "kiosk_secret": _str("the kiosk's shared secret (at least 8 characters)", r".{8,}"),
        "ca_file": _PATH,
        "client_cert": _PATH,
        "client_key": _PATH,
        "timeout_s": _float(0.5, 120),
        "database": _str("a SQLite file path or a postgresql:// URL"),
        "admin_token": _str("empty (admin HTTP API off) or a token of at least 16 characters", r"(.{16,})?"),
        "pg_fast_intake": Key("bool", "true or false"),
    },
    "outbox": {
        "path": _PATH,
        "key_file": _PATH,
        "key_source": _choice("file", "keyring"),
        "keyring_service": _str("the keyring item's service name (letters, digits, '.', '_', '-')", r"[A-Za-z0-9._-]{1,64}"),
        "keyring_user": _str("the keyring item's user name (letters, digits, '.', '_', '-')", r"[A-Za-z0-9._-]{1,64}"),
        "keyring_timeout_s": _float(0.5, 120),
        "retry_base_s": _float(0.01, 3600),
        "retry_max_s": _float(0.01, 86400),
        "submit_wait_s": _float(0, 120),
    },
    "flows": {
        "trusted_keys": Key("list[str]", "a list of base64 Ed25519 public keys"),
        "bundle_dir": _PATH,
    },
    "maintenance": {
        "pin_hash": _str("a PIN hash made by `kiosk config hash-pin`", r"pbkdf2_sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+"),
    },
    "devices.idcard": {
        "backend": _choice("pcsc", "sim"),
        "reader": _str(),
        "dataset": _str(),
        "trust_store": _PATH,
        "timeout_s": _float(1, 300),
    },
    "devices.qr": {
        "backend": _choice("serial", "camera", "sim"),
        "port": _str(),
        "baudrate": _int(1200, 921600),
        "terminator": _str("a line terminator such as \"\\r\" or \"\\r\\n\"", r"[\r\n\t]{1,2}"),
    },
    "devices.camera": {
        "backend": _choice("opencv", "file", "sim"),
        "source": _str(),
        "width": _int(160, 7680),
        "height": _int(120, 4320),
        "fps": _int(1, 120),
    },
    "devices.printer": {
        "backend": _choice("usb", "serial", "network", "file", "sim"),
        "profile": _choice("58mm", "80mm"),
        "host": _str(),
        "port": _int(1, 65535),
        "device": _str(),
        "baudrate": _int(1200, 921600),
        "usb_vendor": _int(0, 0xFFFF),
        "usb_product": _int(0, 0xFFFF),
        "out_dir": _PATH,
        "spool_dir": _PATH,
        "timeout_s": _float(0.2, 60),
        "sim_paper": _choice("ok", "near_end", "out"),
        "sim_cover_open": Key("bool", "true or false"),
    },
}


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
    where = f"{file}: {section}.{key} = {value!r}"
    bad = ConfigError(f"{where}: expected {spec.expected}")
    if spec.kind in ("str", "choice", "path"):
        if not isinstance(value, str):
            raise bad
        if spec.kind == "choice" and value not in spec.choices:
            raise bad
        if spec.kind == "path":
            return str((base / value).resolve()) if value else ""
    elif spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        value = float(value)
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
    elif spec.kind == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad
        value = list(value)
    if spec.check is not None and not spec.check(value):
        raise bad
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
    merged: dict[str, dict[str, Any]] = {}
    _apply(merged, defaults, required=True)
    sources = [defaults]
    chosen = path or os.environ.get("KIOSK_CONFIG") or None
    if chosen and Path(chosen).resolve() != defaults.resolve():
        _apply(merged, Path(chosen), required=False)
        sources.append(Path(chosen))
    if merged["kiosk"]["idle_warning_s"] >= merged["kiosk"]["idle_timeout_s"]:
        raise ConfigError(
            f"{sources[-1]}: kiosk.idle_warning_s must be shorter than kiosk.idle_timeout_s"
        )
    return Config(merged, sources)


# --- technician PIN -------------------------------------------------------------------------
_PIN_ITERATIONS = 200_000


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = _PIN_ITERATIONS) -> str:
    if not re.fullmatch(r"\d{4,12}", pin):
        raise ValueError("the PIN must be 4 to 12 digits")
    return hash_secret(pin, iterations=iterations, salt=salt)


def verify_pin(pin: str, stored: str) -> bool:
    return verify_secret(pin, stored)
