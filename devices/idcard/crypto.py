"""Symmetric primitives of ICAO 9303 p11: key derivation, 3DES/AES, retail MAC, CMAC, padding.

Pure functions over bytes. 3DES lives in ``cryptography.hazmat.decrepit`` since cryptography 43.
"""
from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - cryptography < 43
    TripleDES = algorithms.TripleDES  # type: ignore[attr-defined]

ENC, MAC, PI = 1, 2, 3


def pad(data: bytes, block: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2."""
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    i = data.rfind(b"\x80")
    if i < 0 or any(data[i + 1:]):
        raise ValueError("bad ISO 9797-1 padding")
    return data[:i]


def adjust_parity(key: bytes) -> bytes:
    return bytes((b & 0xFE) | ((bin(b >> 1).count("1") + 1) & 1) for b in key)


def kdf(secret: bytes, counter: int, cipher: str = "3DES", key_len: int = 16) -> bytes:
    """KDF of ICAO 9303 p11 §9.7.1: hash(secret || counter32)."""
    c = counter.to_bytes(4, "big")
    if cipher == "3DES":
        return adjust_parity(hashlib.sha1(secret + c).digest()[:16])
    if key_len == 16:
        return hashlib.sha1(secret + c).digest()[:16]
    return hashlib.sha256(secret + c).digest()[:key_len]


def _des3(key: bytes):
    return TripleDES(key + key[:8] if len(key) == 16 else key)


def des3_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    e = Cipher(_des3(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def des3_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    d = Cipher(_des3(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, final 3DES), over already padded data."""
    ka, kb = key[:8], key[8:16]
    e = Cipher(TripleDES(ka * 3), modes.CBC(b"\x00" * 8)).encryptor()
    h = (e.update(data) + e.finalize())[-8:]
    h = Cipher(TripleDES(kb * 3), modes.ECB()).decryptor().update(h)
    return Cipher(TripleDES(ka * 3), modes.ECB()).encryptor().update(h)


def aes_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def aes_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def aes_ecb(key: bytes, block: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()
