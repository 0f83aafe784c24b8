"""Sealed blobs: AES-256-GCM under a key derived for one purpose. Pure.

What the kiosk keeps on disk for a while besides the outbox (print jobs waiting for a reprint)
holds names and ID numbers, so it is sealed with a key derived from the outbox key (HKDF-SHA256,
one ``purpose`` per use, so no two uses share a key): a stolen disk gives nothing without the key,
which is sealed to the machine (kiosk.outbox_key). ``aad`` binds a blob to its name, so a sealed
job cannot be swapped for another under a different file name.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KSEAL1\n"


def derive(key: bytes, purpose: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"vn-kiosk/" + purpose.encode()).derive(key)


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


class Sealer:
    def __init__(self, master_key: bytes, purpose: str):
        self.purpose = purpose
        self._aead = AESGCM(derive(master_key, purpose))

    def seal(self, data: bytes, aad: str) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, aad.encode())

    def open(self, blob: bytes, aad: str) -> bytes:
        """The data; ValueError when ``blob`` is not sealed, or not by this key and name."""
        if not is_sealed(blob):
            raise ValueError("not a sealed blob")
        body = blob[len(MAGIC):]
        try:
            return self._aead.decrypt(body[:12], body[12:], aad.encode())
        except InvalidTag:
            raise ValueError("sealed with another key, or altered") from None
