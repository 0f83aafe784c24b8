"""Which text a QR code's bytes hold, when that is certain — and ``None`` when it is not.

A QR code carries bytes. Which characters they stand for is certain only when the code says so or
when the bytes can hardly be anything else; a guess turns a Vietnamese name read in the wrong
character set into other letters ("Hu廙軟h"), which is worse than no text at all. So:

* **an ECI segment** declares the character set of the bytes after it (ISO/IEC 18004 §7.4.3; the
  bytes before the first ECI are ISO-8859-1, the standard's default). Each segment is decoded
  strictly with its charset (:data:`ECI_CODECS`, the table zxing-cpp's ``ECI.cpp`` uses); a byte the
  charset does not define, an ECI we do not know, or the binary ECI 899 gives no text. zxing-cpp
  itself puts U+FFFD in the text for such bytes: we withhold the text instead.
* **Hanzi mode** (GB/T 18284) declares GB2312. Kanji mode declares Shift_JIS, but zxing-cpp's
  Python API cannot tell it apart from byte mode, so Kanji-mode bytes go through the byte rules below.
* **bytes without an ECI** (byte mode): UTF-8 when they are valid UTF-8 (what every current encoder
  writes, and what the kiosk's own codes are). Otherwise Shift_JIS — the other charset QR encoders
  commonly write without an ECI — only when zxing-cpp's own test says Shift_JIS with certainty
  (``GuessTextEncoding`` in zxing-cpp's ``core/src/Content.cpp``: every byte allowed in Shift_JIS
  and a run of at least 3 double-byte or 3 half-width katakana characters) **and** one byte lies
  in 0x80–0x9F, which no ISO-8859 text, no GB2312 (EUC-CN) and no EUC-KR text holds. Without that
  byte the same bytes also read as Latin-1, and often as GB2312 ("中文" in GB2312 is 4 valid
  Shift_JIS katakana, which zxing-cpp's guess returns): no text. Raw GB2312 bytes without an ECI
  are never certain for the same reason: every one of them is also Latin-1 text.

Only zxing-cpp tells whether a code has an ECI; zbar (which applies the ECIs it knows and silently
drops the others) and OpenCV do not, so their bytes get text only when they are valid UTF-8
(:func:`utf8_text`).
"""
from __future__ import annotations

__all__ = ["ECI_CODECS", "utf8_text", "bytes_text", "sjis_evidence", "parse_bytes_eci", "eci_text", "hanzi_text"]

#: ECI assignment number → Python codec, as zxing-cpp maps them (core/src/ECI.cpp); 899 (binary) and
#: any number not listed have no text
ECI_CODECS = {
    0: "cp437", 1: "latin-1", 2: "cp437", 3: "latin-1",
    **{n: f"iso8859-{n - 2}" for n in range(4, 14)},        # 4..13 → ISO-8859-2..11
    **{n: f"iso8859-{n - 2}" for n in range(15, 19)},       # 15..18 → ISO-8859-13..16 (no ISO-8859-12)
    20: "shift_jis", 21: "cp1250", 22: "cp1251", 23: "cp1252", 24: "cp1256", 25: "utf-16-be",
    26: "utf-8", 27: "ascii", 28: "big5", 29: "gb2312", 30: "euc_kr", 31: "gbk", 32: "gb18030",
    33: "utf-16-le", 34: "utf-32-be", 35: "utf-32-le", 170: "ascii",
}


def utf8_text(data: bytes) -> tuple[str, str] | None:
    """``(text, "utf-8")`` when ``data`` is valid UTF-8, else None."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return None


def sjis_evidence(data: bytes) -> bool:
    """zxing-cpp's certain Shift_JIS (``GuessTextEncoding``'s first Shift_JIS answer): every byte is
    allowed in Shift_JIS and there is a run of ≥ 3 double-byte or ≥ 3 half-width katakana characters."""
    left = katakana = double = max_katakana = max_double = 0
    for b in data:
        if left:
            if b < 0x40 or b == 0x7F or b > 0xFC:
                return False
            left -= 1
        elif b in (0x80, 0xA0) or b > 0xEF or (b < 0x20 and b not in (0x0A, 0x0D)):
            return False  # zxing-cpp takes control characters as a sign of binary content
        elif 0xA0 < b < 0xE0:  # half-width katakana, one byte
            katakana, double = katakana + 1, 0
            max_katakana = max(max_katakana, katakana)
        elif b > 0x7F:  # the lead byte of a double-byte character
            left = 1
            katakana, double = 0, double + 1
            max_double = max(max_double, double)
        else:
            katakana = double = 0
    return not left and (max_katakana >= 3 or max_double >= 3)


def bytes_text(data: bytes) -> tuple[str, str] | None:
    """The text of bytes known to carry no ECI (see the module doc): ``(text, charset)`` or None."""
    got = utf8_text(data)
    if got is not None:
        return got
    if sjis_evidence(data) and any(0x80 <= b <= 0x9F for b in data):
        try:
            return data.decode("shift_jis"), "shift_jis"
        except UnicodeDecodeError:  # a code point JIS X 0208 does not assign
            return None
    return None


def parse_bytes_eci(raw: bytes) -> tuple[bool, list[tuple[int, bytes]]]:
    """zxing-cpp's ``bytesECI()`` (what ``TextMode.HexECI`` shows in hex) → (has ECI, blocks).

    It starts with the symbology identifier, ``]Q2``/``]Q4``/``]Q6`` when the code holds an ECI
    (``Barcode.symbology_identifier`` does not say so); then, with an ECI, every block starts with
    its ECI designator ``\\dddddd`` and a backslash in the data is doubled. Without ECI: one block,
    ECI -1, the bytes as they are."""
    if len(raw) < 3 or raw[:1] != b"]":
        raise ValueError("not a zxing-cpp bytesECI string")
    has_eci = raw[2:3] in (b"2", b"4", b"6")
    body = raw[3:]
    if not has_eci:
        return False, [(-1, body)]
    blocks: list[tuple[int, bytearray]] = []
    i = 0
    while i < len(body):
        if body[i] == 0x5C:  # backslash
            if body[i + 1:i + 2] == b"\\":
                if not blocks:
                    raise ValueError("data before the first ECI designator")
                blocks[-1][1].append(0x5C)
                i += 2
                continue
            digits = body[i + 1:i + 7]
            if len(digits) != 6 or not digits.isdigit():
                raise ValueError("bad ECI designator")
            blocks.append((int(digits), bytearray()))
            i += 7
            continue
        if not blocks:
            raise ValueError("data before the first ECI designator")
        blocks[-1][1].append(body[i])
        i += 1
    return True, [(eci, bytes(b)) for eci, b in blocks]


def eci_text(blocks: list[tuple[int, bytes]]) -> tuple[str, str] | None:
    """Each block decoded strictly with its ECI's charset; None when any block cannot be."""
    parts, used = [], []
    for eci, data in blocks:
        codec = ECI_CODECS.get(eci)
        if codec is None:
            return None
        try:
            parts.append(data.decode(codec))
        except UnicodeDecodeError:
            return None
        if not used or used[-1] != eci:
            used.append(eci)
    return "".join(parts), "ECI " + ",".join(f"{e} ({ECI_CODECS[e]})" for e in used)


def hanzi_text(data: bytes, zxing_text: str | None) -> tuple[str, str] | None:
    """zxing-cpp's text when it is the GB2312 reading of ``data``: without an ECI, zxing-cpp reads
    bytes as GB2312 only when the code is in Hanzi mode (its guess never answers a Chinese charset),
    so the mode, not a guess, made that text."""
    if not zxing_text or data.isascii():
        return None
    try:
        gb = data.decode("gb18030")  # zxing-cpp decodes Hanzi mode with GB18030, a superset of GB2312
    except UnicodeDecodeError:
        return None
    return (gb, "gb2312 (Hanzi mode)") if gb == zxing_text else None
