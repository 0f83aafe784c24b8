"""Pure helpers for the identifiers central hands out: dossier codes, lookup secrets, kiosk secrets.

Dossier code format: ``<province 2d>.<commune 5d>-<YYMMDD>-<seq 4d>``, e.g. ``01.00004-261123-0007``:
the handling commune (statistics-office codes), the day it was received (Vietnam time) and a
per-commune-per-day sequence. Readable over the phone, unique by construction, and it tells the
staff at a glance which commune's desk owns it. The sequence widens past 9999 instead of wrapping.
"""
from __future__ import annotations

import re
import secrets
from datetime import date

from common.secret_hash import hash_secret, verify_secret

# No 0/O, 1/I/L: a citizen reads the secret off paper and types it on a phone.
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOKUP_SECRET_LENGTH = 10

DOSSIER_CODE_RX = re.compile(r"(\d{2})\.(\d{5})-(\d{6})-(\d{4,})")


def dossier_code(province_code: str, commune_code: str, day: date, seq: int) -> str:
    return f"{province_code}.{commune_code}-{day:%y%m%d}-{seq:04d}"


def counter_key(province_code: str, commune_code: str, day: date) -> str:
    return f"{province_code}.{commune_code}-{day:%y%m%d}"


def new_lookup_secret(length: int = LOOKUP_SECRET_LENGTH) -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def normalise_secret(text: str) -> str:
    """What the citizen typed → the canonical form (case and separators do not matter)."""
    return re.sub(r"[\s-]", "", text or "").upper()


def new_kiosk_secret() -> str:
    return secrets.token_urlsafe(24)


_KIOSK_ITER = 60_000


def hash_kiosk_secret(secret: str, *, salt: bytes | None = None, iterations: int = _KIOSK_ITER) -> str:
    return hash_secret(secret, iterations=iterations, salt=salt)


def verify_kiosk_secret(secret: str, stored: str) -> bool:
    return verify_secret(secret, stored)
