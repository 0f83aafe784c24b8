"""LDS files of an eMRTD (ICAO 9303 p10): EF.COM, DG1 (MRZ), DG2 (face image), DG14, DG15.

Pure parsers; malformed bytes raise :class:`ParseError`.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.idcard import tlv
from devices.idcard.errors import ParseError
from devices.idcard.mrz import MRZ, parse_td1
from devices.idcard.securityinfo import SecurityInfo, parse_security_infos

# LDS tag of each data group (EF.COM lists these)
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9, 0x6A: 10,
           0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}
TAG_OF_DG = {v: k for k, v in DG_TAGS.items()}


def _outer(data: bytes, tag: int, what: str) -> tlv.TLV:
    t, _ = tlv.decode_one(data, 0)
    if t.tag != tag:
        raise ParseError(detail=f"{what}: expected tag {tag:02X}, got {t.tag:02X}")
    return t


@dataclass(frozen=True)
class Com:
    lds_version: str
    unicode_version: str
    data_groups: tuple[int, ...]


def parse_com(data: bytes) -> Com:
    t = _outer(data, 0x60, "EF.COM")
    lds = t.find(0x5F01)
    uni = t.find(0x5F36)
    tags = t.find(0x5C)
    if tags is None:
        raise ParseError(detail="EF.COM: no tag list")
    dgs = tuple(DG_TAGS[b] for b in tags.value if b in DG_TAGS)
    return Com(lds.value.decode("ascii", "replace") if lds else "",
               uni.value.decode("ascii", "replace") if uni else "", dgs)


def build_com(dgs: list[int]) -> bytes:
    return tlv.encode(0x60, [tlv.encode(0x5F01, b"0107"), tlv.encode(0x5F36, b"040000"),
                             tlv.encode(0x5C, bytes(TAG_OF_DG[d] for d in dgs))])


def parse_dg1(data: bytes) -> MRZ:
    t = _outer(data, 0x61, "DG1")
    mrz = t.find(0x5F1F)
    if mrz is None:
        raise ParseError(detail="DG1: no MRZ")
    return parse_td1(mrz.value)


def build_dg1(mrz_text: str) -> bytes:
    return tlv.encode(0x61, tlv.encode(0x5F1F, "".join(mrz_text.split()).encode("ascii")))


@dataclass(frozen=True)
class FaceImage:
    data: bytes
    mime: str   # image/jpeg or image/jp2


_JP2_SIG = b"\x00\x00\x00\x0CjP  \r\n\x87\n"


def _find_image(block: bytes) -> FaceImage | None:
    candidates = []
    for sig, mime in ((b"\xFF\xD8\xFF", "image/jpeg"), (_JP2_SIG, "image/jp2"), (b"\xFF\x4F\xFF\x51", "image/jp2")):
        i = block.find(sig)
        if i >= 0:
            candidates.append((i, mime))
    if not candidates:
        return None
    i, mime = min(candidates)
    return FaceImage(block[i:], mime)


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image of DG2 (biometric data block 5F2E or 7F2E, ISO 19794-5 container)."""
    t = _outer(data, 0x75, "DG2")

    def walk(node: tlv.TLV):
        for c in node.parse():
            if c.tag in (0x5F2E, 0x7F2E):
                img = _find_image(c.value)
                if img:
                    return img
            elif c.constructed:
                found = walk(c)
                if found:
                    return found
        return None

    img = walk(t)
    if img is None:
        raise ParseError(detail="DG2: no JPEG or JPEG 2000 image found")
    return img


def build_dg2(jpeg: bytes, width: int, height: int) -> bytes:
    """DG2 with one ISO/IEC 19794-5 face record holding ``jpeg`` (virtual card)."""
    facial_info = (20).to_bytes(4, "big") + (0).to_bytes(2, "big") + b"\x00" * 14
    image_info = bytes([1, 1]) + width.to_bytes(2, "big") + height.to_bytes(2, "big") + bytes([1, 0]) + bytes(4)
    record = facial_info + image_info + jpeg
    header = b"FAC\x00" + b"010\x00" + (14 + len(record)).to_bytes(4, "big") + (1).to_bytes(2, "big")
    bdb = header + record
    bht = tlv.encode(0xA1, [tlv.encode(0x80, b"\x01\x01"), tlv.encode(0x87, b"\x01\x01"), tlv.encode(0x88, b"\x00\x08")])
    return tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"),
                                                  tlv.encode(0x7F60, [bht, tlv.encode(0x5F2E, bdb)])]))


def parse_dg14(data: bytes) -> list[SecurityInfo]:
    t = _outer(data, 0x6E, "DG14")
    return parse_security_infos(t.value)


def parse_dg15(data: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of the active-authentication key."""
    t = _outer(data, 0x6F, "DG15")
    inner, _ = tlv.decode_one(t.value, 0)
    if inner.tag != 0x30:
        raise ParseError(detail="DG15: expected a SubjectPublicKeyInfo")
    return inner.raw
