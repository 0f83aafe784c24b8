"""Chip authentication v1 with ECDH (ICAO 9303 p11 §6.2): the chip proves it holds the private key
whose public half is in DG14 (hash-protected by the SOD), so a copied chip without that key fails.

After the key agreement both sides restart secure messaging with keys from the new shared secret
(SSC 0); the proof is that the chip's next protected answer verifies under them.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.idcard import tlv
from devices.idcard.apdu import Command
from devices.idcard.ec import BRAINPOOL_P256R1, BRAINPOOL_P384R1, NIST_P256, Curve
from devices.idcard.errors import ParseError

ID_CA_ECDH = "0.4.0.127.0.7.2.2.3.2"
CA_ECDH = {ID_CA_ECDH + ".1": ("3DES", 16), ID_CA_ECDH + ".2": ("AES", 16),
           ID_CA_ECDH + ".3": ("AES", 24), ID_CA_ECDH + ".4": ("AES", 32)}
ID_PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
NAMED_CURVES = {"1.3.36.3.3.2.8.1.1.7": BRAINPOOL_P256R1, "1.3.36.3.3.2.8.1.1.11": BRAINPOOL_P384R1,
                "1.2.840.10045.3.1.7": NIST_P256}
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
    if params.tag == 0x30:   # explicit domain parameters: identify the curve by its prime
        field_id = params.parse()[1].parse()
        p = tlv.decode_int(field_id[1].value)
        for c in NAMED_CURVES.values():
            if c.p == p:
                return c
        raise ParseError(detail="CA: explicit domain parameters of an unknown curve")
    raise ParseError(detail="CA: unsupported domain parameters")


def parse_ca_key(dg14_value: bytes) -> ChipAuthKey | None:
    """The ECDH chip-authentication key of a DG14 SecurityInfos set, or None when there is none."""
    top = tlv.decode(dg14_value)
    protocol, key = None, None
    for item in top.parse():
        parts = item.parse()
        if not parts or parts[0].tag != 0x06:
            continue
        oid = tlv.decode_oid(parts[0].value)
        if oid in CA_ECDH and protocol is None:
            protocol = oid
        elif oid == ID_PK_ECDH and len(parts) >= 2 and key is None:
            spki = parts[1].parse()
            alg = spki[0].parse()
            if tlv.decode_oid(alg[0].value) != OID_EC_PUBLIC_KEY or len(alg) < 2:
                raise ParseError(detail="CA: public key is not an EC key")
            curve = _curve_from_params(alg[1])
            bits = spki[1].value
            if spki[1].tag != 0x03 or not bits or bits[0] != 0:
                raise ParseError(detail="CA: malformed public key bit string")
            key_id = tlv.decode_int(parts[2].value) if len(parts) > 2 and parts[2].tag == 0x02 else None
            key = (curve, curve.decode(bits[1:]), key_id)
    if protocol is None or key is None:
        return None
    return ChipAuthKey(protocol, key[0], key[1], key[2])


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
    key_ref = tlv.encode(0x84, tlv.encode_int(key.key_id)) if key.key_id is not None else b""
    if CA_ECDH[key.protocol][0] == "3DES":
        return [Command(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, ephemeral_public) + key_ref)]
    return [Command(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, tlv.encode_oid(key.protocol)) + key_ref),
            Command(0x00, 0x86, 0x00, 0x00, tlv.encode(0x7C, tlv.encode(0x80, ephemeral_public)), 256)]
