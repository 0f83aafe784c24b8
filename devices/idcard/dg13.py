"""DG13 of the Vietnamese chip ID card: personal data by field number.

Layout seen in the field (NghiaLio/NFC_CCCD_Reader, ZeroPass/dmrtd, a Swift DataGroup13 parser
whose byte prefixes come from a real card — docs/idcard.md "Vietnamese card profiles"):
``6D { 30 { INTEGER 1, OID 1.0.10646.1.0.8, SET { 30 { INTEGER n, value… } … } } }``. Values are
UTF8String, or PrintableString for the ASCII ones (1 ID, 3 birth date, 11 issue date, 15 old ID,
16); field 13 holds the father's and the mother's name each in a SEQUENCE of its own, 14 the
spouse's the same way (only the INTEGER for a single person). Field 16 holds 16 characters whose
meaning is not published. We parse by field number, never by offset, accept missing fields, and
report fields whose bytes are not decodable text as unreadable instead of guessing. Pure;
malformed bytes raise :class:`ParseError`.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from devices.idcard import tlv
from devices.idcard.errors import ParseError

STRING_TAGS = {0x0C, 0x13, 0x16, 0x14, 0x1A, 0x1E, 0x04}

FIELD_NAMES = {
    1: "id_number", 2: "full_name", 3: "date_of_birth", 4: "sex", 5: "nationality", 6: "ethnicity",
    7: "religion", 8: "home_town", 9: "residence", 10: "identifying_marks", 11: "issue_date",
    12: "expiry_date", 13: "parents", 14: "spouse_name", 15: "old_id_number", 16: "field_16",
}


@dataclass
class DG13:
    values: dict[int, list[str]] = field(default_factory=dict)   # field number → text values
    unreadable: set[int] = field(default_factory=set)

    def get(self, n: int, index: int = 0) -> str | None:
        vals = self.values.get(n) or []
        return vals[index] if index < len(vals) else None


def _text(node: tlv.TLV) -> str | None:
    raw = node.value
    if node.tag == 0x1E:
        try:
            s = raw.decode("utf-16-be")
        except UnicodeDecodeError:
            return None
    else:
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in s):
        return None
    return unicodedata.normalize("NFC", s).strip()


def _strings(node: tlv.TLV, depth: int = 0) -> tuple[list[str], bool]:
    """All text values under ``node`` in order, and whether an undecodable one was met."""
    out, bad = [], False
    if depth > 8:
        raise ParseError(detail="DG13: nesting too deep")
    for c in node.parse():
        if c.tag in STRING_TAGS:
            s = _text(c)
            if s is None:
                bad = True
            elif s:
                out.append(s)
        elif c.tag == 0x02:
            continue
        elif c.constructed:
            more, b = _strings(c, depth + 1)
            out += more
            bad = bad or b
    return out, bad


def _is_field(node: tlv.TLV) -> bool:
    kids = node.parse()
    return (node.tag == 0x30 and len(kids) >= 1 and kids[0].tag == 0x02 and len(kids[0].value) <= 2
            and not any(k.tag in (0x06, 0x31) for k in kids[1:]))


def parse_dg13(data: bytes) -> DG13:
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ParseError(detail="DG13: empty")
    top, _ = tlv.decode_one(bytes(data), 0)
    if top.tag != 0x6D:
        raise ParseError(detail=f"DG13: expected tag 6D, got {top.tag:X}")
    result = DG13()

    def walk(node: tlv.TLV, depth: int) -> None:
        if depth > 6:
            raise ParseError(detail="DG13: nesting too deep")
        for c in node.parse():
            if not c.constructed:
                continue
            if _is_field(c):
                n = tlv.decode_int(c.parse()[0].value)
                if not 1 <= n <= 64:
                    continue
                values, bad = _strings(tlv.TLV(c.tag, c.value))
                if values:
                    result.values.setdefault(n, []).extend(values)
                elif bad:
                    result.unreadable.add(n)
            else:
                walk(c, depth + 1)

    walk(top, 0)
    if not result.values and not result.unreadable:
        raise ParseError(detail="DG13: no fields")
    return result


PRINTABLE_FIELDS = frozenset({1, 3, 11, 15, 16})   # PrintableString on the cards; the others UTF8String


def build_dg13(fields: dict[int, object]) -> bytes:
    """Encode DG13 the way the cards do (virtual card). A value may be str, bytes (raw, unreadable),
    a list of str (field 13: father, mother; 14: the spouse; each name in a SEQUENCE of its own,
    an empty list: the field with only its number) or None (field left out)."""
    items = []
    for n, v in sorted(fields.items()):
        if v is None:
            continue
        parts = [tlv.encode(0x02, tlv.encode_int(n))]
        if isinstance(v, bytes):
            parts.append(tlv.encode(0x04, v))
        elif isinstance(v, (list, tuple)):
            parts += [tlv.encode(0x30, tlv.encode(0x0C, s.encode("utf-8"))) for s in v]
        else:
            text = str(v)
            printable = n in PRINTABLE_FIELDS and all(c.isascii() and (c.isalnum() or c in " '()+,-./:=?") for c in text)
            parts.append(tlv.encode(0x13 if printable else 0x0C, text.encode("utf-8")))
        items.append(tlv.encode(0x30, parts))
    body = tlv.encode(0x30, [tlv.encode(0x02, b"\x01"), tlv.encode(0x06, tlv.encode_oid("1.0.10646.1.0.8")),
                             tlv.encode(0x31, items)])
    return tlv.encode(0x6D, body)
