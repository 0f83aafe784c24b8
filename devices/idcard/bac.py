"""Basic Access Control (ICAO 9303 p11 §4.3): 3DES mutual authentication from the MRZ data."""
from __future__ import annotations

import hashlib
import hmac
import os
from typing import Callable

from devices.idcard import crypto
from devices.idcard.apdu import SW_OK, Command, get_challenge
from devices.idcard.errors import SecureMessagingError, StatusError, UnsupportedCard, WrongKey
from devices.idcard.sm import SecureMessaging


def bac_keys(mrz_info: str) -> tuple[bytes, bytes]:
    seed = hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]
    return crypto.kdf(seed, crypto.ENC), crypto.kdf(seed, crypto.MAC)


def mutual_auth_data(k_enc: bytes, k_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes) -> bytes:
    e_ifd = crypto.des3_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    return e_ifd + crypto.retail_mac(k_mac, crypto.pad(e_ifd))


def session_from_response(k_enc: bytes, k_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes,
                          resp: bytes) -> SecureMessaging:
    if len(resp) != 40:
        raise SecureMessagingError(detail="MUTUAL AUTHENTICATE answer has the wrong length")
    e_ic, m_ic = resp[:32], resp[32:]
    if not hmac.compare_digest(crypto.retail_mac(k_mac, crypto.pad(e_ic)), m_ic):
        raise SecureMessagingError(detail="MUTUAL AUTHENTICATE answer MAC does not match")
    plain = crypto.des3_decrypt(k_enc, e_ic)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise SecureMessagingError(detail="MUTUAL AUTHENTICATE answer carries the wrong nonces")
    k_ic = plain[16:32]
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic))
    ssc = int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")
    return SecureMessaging(crypto.kdf(seed, crypto.ENC), crypto.kdf(seed, crypto.MAC), ssc, "3DES")


def perform_bac(transmit: Callable[[Command], tuple[bytes, int]], mrz_info: str,
                rng: Callable[[int], bytes] = os.urandom) -> SecureMessaging:
    """Run BAC over ``transmit`` (plain APDUs) and return the secure-messaging session."""
    k_enc, k_mac = bac_keys(mrz_info)
    data, sw = transmit(get_challenge())
    if sw != SW_OK or len(data) != 8:
        raise UnsupportedCard(detail=f"GET CHALLENGE refused (SW={sw:04X})") if sw != SW_OK else \
            SecureMessagingError(detail="GET CHALLENGE answer has the wrong length")
    rnd_ic = data
    rnd_ifd, k_ifd = rng(8), rng(16)
    cmd_data = mutual_auth_data(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd)
    resp, sw = transmit(Command(0x00, 0x82, 0x00, 0x00, cmd_data, 40))
    if sw in (0x6300, 0x6982) or sw & 0xFFF0 == 0x63C0:
        raise WrongKey(detail=f"BAC refused (SW={sw:04X})")
    if sw != SW_OK:
        raise StatusError(sw=sw, detail="MUTUAL AUTHENTICATE")
    return session_from_response(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd, resp)
