"""PACE v2 with ECDH Generic Mapping (ICAO 9303 p11 §4.4), terminal side.

Passwords: the CAN (6 digits printed on the card) or the MRZ data. Supports the GM variants with
AES-128/192/256 on the curves of :data:`devices.idcard.ec.PARAMETER_IDS` (the Vietnamese card
advertises AES-CBC-CMAC-128 on brainpoolP256r1, parameterId 13).
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Callable

from devices.idcard import crypto, tlv
from devices.idcard.apdu import Command, SW_OK
from devices.idcard.ec import PARAMETER_IDS, Curve
from devices.idcard.errors import ParseError, SecureMessagingError, StatusError, UnsupportedCard, WrongKey
from devices.idcard.securityinfo import PACE_ECDH_GM
from devices.idcard.sm import SecureMessaging

PASSWORD_MRZ, PASSWORD_CAN = 1, 2


@dataclass(frozen=True)
class PacePassword:
    kind: int          # PASSWORD_MRZ or PASSWORD_CAN
    secret: bytes      # K = f(π): SHA-1 of the MRZ information, or the CAN's ASCII digits

    @classmethod
    def can(cls, can: str) -> "PacePassword":
        return cls(PASSWORD_CAN, can.encode("ascii"))

    @classmethod
    def mrz(cls, mrz_info: str) -> "PacePassword":
        return cls(PASSWORD_MRZ, hashlib.sha1(mrz_info.encode("ascii")).digest())


def random_scalar(curve: Curve, rng: Callable[[int], bytes]) -> int:
    while True:
        k = int.from_bytes(rng(curve.size), "big")
        if 0 < k < curve.n:
            return k


def public_key_do(oid: str, curve: Curve, point) -> bytes:
    return tlv.encode(0x7F49, [tlv.encode(0x06, tlv.encode_oid(oid)), tlv.encode(0x86, curve.encode(point))])


def auth_token(cipher: str, ks_mac: bytes, oid: str, curve: Curve, point) -> bytes:
    data = public_key_do(oid, curve, point)
    if cipher == "3DES":
        return crypto.retail_mac(ks_mac, crypto.pad(data))
    return crypto.aes_cmac(ks_mac, data)[:8]


def decrypt_nonce(cipher: str, k_pi: bytes, z: bytes) -> bytes:
    if cipher == "3DES":
        return crypto.des3_decrypt(k_pi, z)
    return crypto.aes_decrypt(k_pi, z)


def mse_set_at(oid: str, password: int, parameter_id: int | None) -> Command:
    data = tlv.encode(0x80, tlv.encode_oid(oid)) + tlv.encode(0x83, bytes([password]))
    if parameter_id is not None:
        data += tlv.encode(0x84, bytes([parameter_id]))
    return Command(0x00, 0x22, 0xC1, 0xA4, data)


def _ga(data: bytes, last: bool) -> Command:
    return Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv.encode(0x7C, data), 256)


def _dyn(resp: bytes, tag: int) -> bytes:
    try:
        outer = tlv.decode(resp)
        if outer.tag != 0x7C:
            raise ParseError(detail="not a dynamic authentication data object")
        inner = outer.find(tag)
    except ParseError as exc:
        raise SecureMessagingError(detail=f"PACE: garbled GENERAL AUTHENTICATE answer ({exc})") from None
    if inner is None:
        raise SecureMessagingError(detail=f"PACE: answer lacks tag {tag:02X}")
    return inner.value


def perform_pace(transmit: Callable[[Command], tuple[bytes, int]], password: PacePassword, oid: str,
                 parameter_id: int, rng: Callable[[int], bytes] = os.urandom,
                 send_parameter_id: bool = True) -> SecureMessaging:
    if oid not in PACE_ECDH_GM or parameter_id not in PARAMETER_IDS:
        raise UnsupportedCard(detail=f"PACE variant not supported: {oid} / parameter {parameter_id}")
    cipher, key_len = PACE_ECDH_GM[oid]
    curve = PARAMETER_IDS[parameter_id]

    _, sw = transmit(mse_set_at(oid, password.kind, parameter_id if send_parameter_id else None))
    if sw != SW_OK:
        raise UnsupportedCard(detail=f"MSE:Set AT refused (SW={sw:04X})")

    def step(data: bytes, last: bool, want: int) -> bytes:
        resp, sw = transmit(_ga(data, last))
        if sw != SW_OK:
            if sw in (0x6300, 0x6982) or sw & 0xFFF0 == 0x63C0:
                raise WrongKey(detail=f"PACE refused (SW={sw:04X})")
            raise StatusError(sw=sw, detail="GENERAL AUTHENTICATE")
        return _dyn(resp, want)

    k_pi = crypto.kdf(password.secret, crypto.PI, cipher, key_len)
    z = step(b"", False, 0x80)
    if len(z) % (8 if cipher == "3DES" else 16):
        raise SecureMessagingError(detail="PACE: encrypted nonce has a bad length")
    s = int.from_bytes(decrypt_nonce(cipher, k_pi, z), "big")

    sk_map = random_scalar(curve, rng)
    pk_map_ic = curve.decode(step(tlv.encode(0x81, curve.encode(curve.mul(sk_map, curve.g))), False, 0x82))
    h = curve.mul(sk_map, pk_map_ic)
    g_hat = curve.add(curve.mul(s, curve.g), h)
    if g_hat is None:
        raise SecureMessagingError(detail="PACE: mapped generator is the point at infinity")

    sk_eph = random_scalar(curve, rng)
    pk_eph = curve.mul(sk_eph, g_hat)
    pk_eph_ic = curve.decode(step(tlv.encode(0x83, curve.encode(pk_eph)), False, 0x84))
    if pk_eph_ic == pk_eph:
        raise SecureMessagingError(detail="PACE: chip echoed the terminal's key")
    shared = curve.mul(sk_eph, pk_eph_ic)
    if shared is None:
        raise SecureMessagingError(detail="PACE: shared secret is the point at infinity")
    k = shared[0].to_bytes(curve.size, "big")
    ks_enc = crypto.kdf(k, crypto.ENC, cipher, key_len)
    ks_mac = crypto.kdf(k, crypto.MAC, cipher, key_len)

    t_ifd = auth_token(cipher, ks_mac, oid, curve, pk_eph_ic)
    t_ic = step(tlv.encode(0x85, t_ifd), True, 0x86)
    if not hmac.compare_digest(t_ic, auth_token(cipher, ks_mac, oid, curve, pk_eph)):
        raise SecureMessagingError(detail="PACE: chip's authentication token does not match")
    return SecureMessaging(ks_enc, ks_mac, 0, cipher)
