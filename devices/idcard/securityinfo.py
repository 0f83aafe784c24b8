"""SecurityInfos of EF.CardAccess and DG14 (ICAO 9303 p11 §9.2): which PACE, CA and AA the chip offers."""
from __future__ import annotations

from dataclasses import dataclass

from devices.idcard import tlv
from devices.idcard.errors import ParseError

ID_PACE = "0.4.0.127.0.7.2.2.4"
PACE_ECDH_GM = {  # OID → (cipher, key length)
    ID_PACE + ".2.1": ("3DES", 16),
    ID_PACE + ".2.2": ("AES", 16),
    ID_PACE + ".2.3": ("AES", 24),
    ID_PACE + ".2.4": ("AES", 32),
}
ID_CA = "0.4.0.127.0.7.2.2.3"
ID_PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
ID_AA = "2.23.136.1.1.5"
ECDSA_PLAIN_SHA = {  # BSI TR-03111 plain ECDSA signature OIDs → hash name
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


@dataclass(frozen=True)
class SecurityInfo:
    protocol: str
    version: int | None = None
    parameter_id: int | None = None
    raw: bytes = b""

    @property
    def supported_pace(self) -> bool:
        return self.protocol in PACE_ECDH_GM and self.version == 2


def parse_security_infos(data: bytes) -> list[SecurityInfo]:
    """Parse a SET OF SecurityInfo; unknown entries are kept with their OID only."""
    top = tlv.decode(data) if data[:1] != b"\x6E" else tlv.decode(data).parse()[0]
    if top.tag != 0x31:
        raise ParseError(detail="SecurityInfos: expected a SET")
    out = []
    for item in top.parse():
        if item.tag != 0x30:
            raise ParseError(detail="SecurityInfo: expected a SEQUENCE")
        parts = item.parse()
        if not parts or parts[0].tag != 0x06:
            raise ParseError(detail="SecurityInfo: missing protocol OID")
        oid = tlv.decode_oid(parts[0].value)
        version = param = None
        if len(parts) > 1 and parts[1].tag == 0x02:
            version = tlv.decode_int(parts[1].value)
        if len(parts) > 2 and parts[2].tag == 0x02:
            param = tlv.decode_int(parts[2].value)
        if oid == ID_AA and len(parts) > 2 and parts[2].tag == 0x06:
            # ActiveAuthenticationInfo: the third element is the signature algorithm OID
            out.append(SecurityInfo(oid, version, None, item.raw + b""))
            out.append(SecurityInfo("aa-signature:" + tlv.decode_oid(parts[2].value), version))
            continue
        out.append(SecurityInfo(oid, version, param, item.raw))
    return out


def encode_pace_info(oid: str, parameter_id: int) -> bytes:
    return tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(oid)), tlv.encode(0x02, b"\x02"),
                             tlv.encode(0x02, tlv.encode_int(parameter_id))])


def aa_hash(infos: list[SecurityInfo]) -> str | None:
    for i in infos:
        if i.protocol.startswith("aa-signature:"):
            return ECDSA_PLAIN_SHA.get(i.protocol.split(":", 1)[1])
    return None
