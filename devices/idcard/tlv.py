"""BER-TLV encoding and decoding (ISO 7816-4 / X.690), multi-byte tags, long-form lengths.

Pure: bytes in, values out. Malformed input raises :class:`ParseError`, never IndexError.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from devices.idcard.errors import ParseError


@dataclass
class TLV:
    tag: int
    value: bytes
    raw: bytes = b""            # the whole encoding as read (tag + length + value)
    children: list["TLV"] | None = field(default=None, repr=False)

    @property
    def constructed(self) -> bool:
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    def parse(self) -> list["TLV"]:
        if self.children is None:
            self.children = decode_all(self.value)
        return self.children

    def find(self, tag: int) -> "TLV | None":
        for c in self.parse():
            if c.tag == tag:
                return c
        return None

def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError(detail="TLV: missing tag")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        for _ in range(4):
            if pos >= len(data):
                raise ParseError(detail="TLV: truncated multi-byte tag")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
        else:
            raise ParseError(detail="TLV: tag too long")
    return tag, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise ParseError(detail="TLV: missing length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    n = first & 0x7F
    if n == 0 or n > 4:
        raise ParseError(detail="TLV: unsupported length form")
    if pos + n > len(data):
        raise ParseError(detail="TLV: truncated length")
    return int.from_bytes(data[pos:pos + n], "big"), pos + n


def decode_one(data: bytes, pos: int = 0) -> tuple[TLV, int]:
    start = pos
    tag, pos = read_tag(data, pos)
    length, pos = read_length(data, pos)
    end = pos + length
    if end > len(data):
        raise ParseError(detail=f"TLV: value of tag {tag:X} truncated ({length} > {len(data) - pos})")
    return TLV(tag, bytes(data[pos:end]), bytes(data[start:end])), end


def decode(data: bytes) -> TLV:
    """Exactly one TLV (trailing bytes are an error)."""
    tlv, end = decode_one(data, 0)
    if end != len(data):
        raise ParseError(detail="TLV: trailing bytes")
    return tlv


def decode_all(data: bytes) -> list[TLV]:
    out, pos = [], 0
    while pos < len(data):
        tlv, pos = decode_one(data, pos)
        out.append(tlv)
    return out


def header_length(data: bytes) -> tuple[int, int]:
    """(header size, total size) of the TLV at the start of ``data`` (used to size file reads)."""
    _, pos = read_tag(data, 0)
    length, pos = read_length(data, pos)
    return pos, pos + length


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes | list | tuple = b"") -> bytes:
    if isinstance(value, (list, tuple)):
        value = b"".join(value)
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)


def decode_oid(value: bytes) -> str:
    """OBJECT IDENTIFIER contents (without tag/length) → dotted string."""
    if not value:
        raise ParseError(detail="OID: empty")
    parts, n = [], 0
    for b in value:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(n)
            n = 0
    if value[-1] & 0x80:
        raise ParseError(detail="OID: truncated")
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])


def encode_oid(dotted: str) -> bytes:
    """Dotted string → OBJECT IDENTIFIER contents (without tag/length)."""
    nums = [int(x) for x in dotted.split(".")]
    out = bytearray()
    for i, n in enumerate([nums[0] * 40 + nums[1]] + nums[2:]):
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def decode_int(value: bytes) -> int:
    if not value:
        raise ParseError(detail="INTEGER: empty")
    return int.from_bytes(value, "big", signed=True)


def encode_int(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)
