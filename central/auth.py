"""Who is calling, decided from the request's headers (and TLS certificate) alone.

- ``parse_basic``: the kiosk's HTTP Basic credentials, or None for a missing or malformed header
  (the caller answers every such case with the same documented 401 refusal body).
- ``AuthLimiter``: failed credential checks per client address and per kiosk id, with an
  exponential back-off once a few are used up (429 + ``Retry-After``). Only failures count: a
  kiosk sending with its right secret is never slowed down, and each refused guess costs the
  server a PBKDF2 run that the back-off rations.
- ``certificate_names``: the names a TLS client certificate vouches for (its subject's common
  names and its DNS subjectAltNames), which under mutual TLS must include the kiosk id.

Failures are counted for every kiosk id alike, known or not, so the back-off does not tell
which ids exist (nor does the time a refusal takes: ``Central.authenticate`` verifies an unknown
id against a dummy hash).
"""
from __future__ import annotations

import base64
import binascii
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

KIOSK_ID_RX = re.compile(r"[A-Za-z0-9._-]{3,64}")  # as [kiosk].id and the dossier's kiosk_id
MAX_SECRET_CHARS = 512


def parse_basic(authorization: str | None) -> tuple[str, str] | None:
    """(kiosk id, secret) from an ``Authorization: Basic …`` header, or None when the header is
    missing, of another scheme or malformed (bad base64, no colon, an id that no kiosk can have)."""
    if not authorization:
        return None
    scheme, _, param = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not param.strip():
        return None
    try:
        raw = base64.b64decode(param.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # what HTTP clients (requests) send for a non-ASCII secret
    kiosk_id, sep, secret = text.partition(":")
    if not sep or not KIOSK_ID_RX.fullmatch(kiosk_id) or not secret or len(secret) > MAX_SECRET_CHARS:
        return None
    return kiosk_id, secret


def parse_bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_SECRET_CHARS:
        return None
    return token


@dataclass
class _Strikes:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class AuthLimiter:
    """Failed authentications per key (``("addr", ip)``, ``("kiosk", id)``).

    The first ``free`` failures of a key cost nothing; each one after that blocks the key for
    ``base_s · 2^(n - free - 1)`` seconds, at most ``cap_s``. A key with no failure for
    ``forget_s`` starts over. At most ``max_keys`` keys are remembered (the oldest go first), so a
    flood of made-up ids cannot grow the table without bound.
    """

    def __init__(self, *, free: int, base_s: float = 1.0, cap_s: float = 300.0, forget_s: float = 900.0,
                 max_keys: int = 100_000, monotonic: Callable[[], float] = time.monotonic):
        self.free, self.base_s, self.cap_s, self.forget_s = free, base_s, cap_s, forget_s
        self.max_keys, self.monotonic = max_keys, monotonic
        self._keys: dict[Any, _Strikes] = {}
        self._lock = threading.Lock()

    def retry_after(self, key) -> int:
        """Whole seconds until ``key`` may try again (0: now)."""
        now = self.monotonic()
        with self._lock:
            s = self._keys.get(key)
            if s is None or s.blocked_until <= now:
                return 0
            return max(1, math.ceil(s.blocked_until - now))

    def failed(self, key) -> None:
        now = self.monotonic()
        with self._lock:
            s = self._keys.pop(key, None) or _Strikes()
            if now - s.last > self.forget_s:
                s.failures = 0
            s.failures += 1
            s.last = now
            over = s.failures - self.free
            if over > 0:
                s.blocked_until = now + min(self.cap_s, self.base_s * 2 ** min(over - 1, 32))
            self._keys[key] = s  # re-inserted: dict order is oldest failure first
            while len(self._keys) > self.max_keys:
                self._keys.pop(next(iter(self._keys)))

    def succeeded(self, key) -> None:
        with self._lock:
            self._keys.pop(key, None)


def certificate_names(peercert: dict | None) -> set[str]:
    """The subject common names and DNS subjectAltNames of ``ssl.SSLSocket.getpeercert()``."""
    if not peercert:
        return set()
    names = {value for rdn in peercert.get("subject", ()) for key, value in rdn if key == "commonName"}
    names |= {value for kind, value in peercert.get("subjectAltName", ()) if kind == "DNS"}
    return names


def certificate_names_kiosk(names: set[str], kiosk_id: str) -> bool:
    """True when the certificate vouches for ``kiosk_id``: a common name equal to it, or a DNS
    name equal to it without regard to case (DNS names are case-insensitive)."""
    return kiosk_id in names or kiosk_id.lower() in {n.lower() for n in names}
