"""Chip authentication v1 with ECDH (ICAO 9303 p11 §6.2): the chip proves it holds the private key
whose public half is in DG14 (hash-protected by the SOD), so a copied chip without that key fails.

After the key agreement both sides restart secure messaging with keys from the new shared secret
(SSC 0); the proof is that the chip's next protected answer verifies under them.

The DG14 key may name its curve or spell out its domain parameters (several passports do, for
brainpoolP256r1 and P-256): explicit parameters equal to a named curve's are that curve, others are
used as given (the arithmetic in :mod:`devices.idcard.ec` works on any prime curve). A DG14 with a
ChipAuthenticationPublicKeyInfo but no ChipAuthenticationInfo is CA version 1 with 3DES
(BSI TR-03110-3 §A.1.1.2: the info is optional for version 1, and then 3DES is assumed).
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.idcard import tlv
from devices.idcard.apdu import Command
from devices.idcard.ec import NAMED_CURVES, Curve, curve_from_explicit, decode_point
from devices.idcard.errors import ParseError

ID_CA_ECDH = "0.4.0.127.0.7.2.2.3.2"
CA_ECDH = {ID_CA_ECDH + ".1": ("3DES", 16), ID_CA_ECDH + ".2": ("AES", 16),
           ID_CA_ECDH + ".3": ("AES", 24), ID_CA_ECDH + ".4": ("AES", 32)}
ID_PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
CURVE_OIDS = {c.name: oid for oid, c in NAMED_CURVES.items()}


@dataclass(frozen=True)
class ChipAuthKey:
    protocol: str            # the ChipAuthenticationInfo OID (cipher and key length)
    curve: Curve
    point: tuple[int, int]
    key_id: int | None


def _curve_from_params(params: tlv.TLV) -> Curve:
    if params.tag == 0x06:
        oid = tlv.decode_oid(params.value)
        if oid not in NAMED_CURVES:
            raise ParseError(detail=f"CA: unsupported named curve {oid}")
        return NAMED_CURVES[oid]
    if params.tag == 0x30:   # explicit ECParameters (SEC 1 / X9.62): version, fieldID, curve, base, order[, cofactor]
        parts = params.parse()
        field_id = parts[1].parse()
        if tlv.decode_oid(field_id[0].value) != "1.2.840.10045.1.1":
            raise ParseError(detail="CA: EC key over a field that is not a prime field")
        p = tlv.decode_int(field_id[1].value)
        if len(parts) < 5:   # curve, base or order left out: only the prime says which named curve
            named = [c for c in NAMED_CURVES.values() if c.p == p]
            if len(named) != 1:
                raise ParseError(detail="CA: explicit domain parameters of an unknown curve")
            return named[0]
        ab = parts[2].parse()
        a, b = int.from_bytes(ab[0].value, "big"), int.from_bytes(ab[1].value, "big")
        n = tlv.decode_int(parts[4].value)
        probe = Curve("explicit", p, a % p, b % p, 0, 0, n)
        gx, gy = decode_point(probe, parts[3].value)
        return curve_from_explicit(p, a, b, gx, gy, n)
    raise ParseError(detail="CA: unsupported domain parameters")


def parse_ca_key(dg14_value: bytes) -> ChipAuthKey | None:
    """The ECDH chip-authentication key of a DG14 SecurityInfos set, or None when there is none.

    Malformed bytes raise :class:`ParseError` only."""
    try:
        return _parse_ca_key(dg14_value)
    except ParseError:
        raise
    except (IndexError, ValueError, TypeError, KeyError, ArithmeticError) as exc:
        raise ParseError(detail=f"CA: malformed DG14 ({type(exc).__name__})") from None


def _parse_ca_key(dg14_value: bytes) -> ChipAuthKey | None:
    top = tlv.decode(dg14_value)
    infos: list[tuple[str, int | None]] = []          # ChipAuthenticationInfo: (protocol, key id)
    keys: list[tuple[Curve, tuple[int, int], int | None]] = []
    for item in top.parse():
        if item.tag != 0x30:
            continue
        parts = item.parse()
        if not parts or parts[0].tag != 0x06:
            continue
        oid = tlv.decode_oid(parts[0].value)
        if oid in CA_ECDH:
            key_id = tlv.decode_int(parts[2].value) if len(parts) > 2 and parts[2].tag == 0x02 else None
            infos.append((oid, key_id))
        elif oid == ID_PK_ECDH and len(parts) >= 2:
            spki = parts[1].parse()
            alg = spki[0].parse()
            if tlv.decode_oid(alg[0].value) != OID_EC_PUBLIC_KEY or len(alg) < 2:
                raise ParseError(detail="CA: public key is not an EC key")
            curve = _curve_from_params(alg[1])
            bits = spki[1].value
            if spki[1].tag != 0x03 or not bits or bits[0] != 0:
                raise ParseError(detail="CA: malformed public key bit string")
            key_id = tlv.decode_int(parts[2].value) if len(parts) > 2 and parts[2].tag == 0x02 else None
            keys.append((curve, decode_point(curve, bits[1:]), key_id))
    if not keys:
        return None
    if not infos:   # CA v1 without ChipAuthenticationInfo: 3DES (TR-03110-3 A.1.1.2)
        curve, point, key_id = keys[0]
        return ChipAuthKey(ID_CA_ECDH + ".1", curve, point, key_id)
    for protocol, info_id in infos:
        for curve, point, key_id in keys:
            if info_id is None or key_id is None or info_id == key_id:
                return ChipAuthKey(protocol, curve, point, info_id if info_id is not None else key_id)
    return None


def encode_ca_infos(curve: Curve, point, protocol: str = ID_CA_ECDH + ".2") -> list[bytes]:
    """ChipAuthenticationInfo + ChipAuthenticationPublicKeyInfo (virtual card's DG14)."""
    spki = tlv.encode(0x30, [
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_EC_PUBLIC_KEY)),
                          tlv.encode(0x06, tlv.encode_oid(CURVE_OIDS[curve.name]))]),
        tlv.encode(0x03, b"\x00" + curve.encode(point)),
    ])
    return [tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(protocol)), tlv.encode(0x02, b"\x01")]),
            tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(ID_PK_ECDH)), spki])]


def ca_commands(key: ChipAuthKey, ephemeral_public: bytes) -> list[Command]:
    """The APDUs that hand the terminal's ephemeral key to the chip (3DES: MSE:Set KAT; AES: MSE:Set AT + GA)."""
    # the key reference is the keyId's unsigned octets (195 → 84 01 C3: what chips accept, e.g. German passports)
    key_ref = (tlv.encode(0x84, key.key_id.to_bytes(max(1, (key.key_id.bit_length() + 7) // 8), "big"))
               if key.key_id is not None and key.key_id >= 0 else b"")
    if CA_ECDH[key.protocol][0] == "3DES":
        return [Command(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, ephemeral_public) + key_ref)]
    return [Command(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, tlv.encode_oid(key.protocol)) + key_ref),
            Command(0x00, 0x86, 0x00, 0x00, tlv.encode(0x7C, tlv.encode(0x80, ephemeral_public)), 256)]
