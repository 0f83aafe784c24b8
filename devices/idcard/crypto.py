"""Primitives of ICAO 9303 p11: key derivation, 3DES/AES, retail MAC, CMAC, padding, and the ISO/IEC
9796-2 message recovery of RSA active authentication.

Pure functions over bytes. 3DES lives in ``cryptography.hazmat.decrepit`` since cryptography 43.
"""
from __future__ import annotations

import hashlib
import hmac

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


# --- ISO/IEC 9796-2 digital signature scheme 1 (RSA active authentication, ICAO 9303 p11 §6.1) ------
ISO9796_TRAILER_HASHES = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}


def iso9796_2_decode(f: bytes) -> tuple[bytes, bytes, str]:
    """Split a recovered message representative F = 6A || M1 || H || trailer into (M1, H, hash name).

    Partial message recovery only (header 6A: the challenge is the non-recoverable part M2); trailer
    BC (SHA-1, implicit) or hash identifier + CC (ISO/IEC 10118-3: 33 SHA-1, 34 SHA-256, 35 SHA-512,
    36 SHA-384, 38 SHA-224). Leading zero bytes (the representative is one bit shorter than the
    modulus) are not part of F. Raises ValueError when F is not of that form.
    """
    f = f.lstrip(b"\x00")
    if len(f) < 3 or f[0] != 0x6A:
        raise ValueError("ISO 9796-2: header is not 6A (partial recovery)")
    if f[-1] == 0xBC:
        name, t = "sha1", 1
    elif f[-1] == 0xCC and f[-2] in ISO9796_TRAILER_HASHES:
        name, t = ISO9796_TRAILER_HASHES[f[-2]], 2
    else:
        raise ValueError("ISO 9796-2: unknown trailer")
    size = hashlib.new(name).digest_size
    if len(f) < 1 + size + t:
        raise ValueError("ISO 9796-2: representative too short for its hash")
    return f[1:len(f) - t - size], f[len(f) - t - size:len(f) - t], name


def iso9796_2_verify(n: int, e: int, signature: bytes, m2: bytes) -> str:
    """Verify an ISO/IEC 9796-2 scheme 1 signature with partial recovery of ``m2`` (the challenge) under
    the RSA key (n, e); return the hash name, raise ValueError when it does not verify."""
    s = int.from_bytes(signature, "big")
    if not 0 < s < n:
        raise ValueError("ISO 9796-2: signature out of range")
    f = pow(s, e, n).to_bytes((n.bit_length() + 7) // 8, "big")
    m1, digest, name = iso9796_2_decode(f)
    if not hmac.compare_digest(hashlib.new(name, m1 + m2).digest(), digest):
        raise ValueError("ISO 9796-2: the recovered hash does not match")
    return name

