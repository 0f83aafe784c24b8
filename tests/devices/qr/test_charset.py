"""QR text in other character sets: the text when the charset is certain (an ECI, Hanzi mode, UTF-8,
Shift_JIS bytes that can be nothing else), the bytes without text otherwise, never a wrong text.

The codes are made with segno, which writes ECI segments, Kanji and Hanzi mode as the standard says."""
from __future__ import annotations

import io

import numpy as np
import pytest
import segno
from PIL import Image

from devices.qr import decode_frame
from devices.qr.charset import bytes_text, eci_text, parse_bytes_eci, sjis_evidence
from devices.qr.engines import make_engine
from devices.qr.payloads import PayloadError, as_text, parse_cccd

SIM_QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
          "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")
JAPANESE = "日本語のテキスト"     # Shift_JIS: kanji, hiragana, katakana
CHINESE = "中文字符"              # GB2312: D6D0 CEC4 D7D6 B7FB, every byte ≥ 0xA1


def _image(code: segno.QRCode) -> np.ndarray:
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=6, border=4)
    return np.array(Image.open(io.BytesIO(buf.getvalue())).convert("L"))


def _one(engine: str, code: segno.QRCode):
    got = decode_frame(_image(code)) if engine == "pipeline" else make_engine(engine).decode(_image(code))
    assert len(got) == 1, got
    return got[0]


# --- text when the character set is certain ---------------------------------------------------
@pytest.mark.parametrize("engine", ["zxing", "pipeline"])
@pytest.mark.parametrize("text", [JAPANESE, "日本"])
def test_eci_shift_jis(engine, text):
    """An ECI 20 segment declares Shift_JIS; "日本" alone (2 characters) is too short for the byte
    rule, so its text comes from the ECI."""
    code = segno.make_qr(text, encoding="shift_jis", eci=True, mode="byte")
    d = _one(engine, code)
    assert d.data == text.encode("shift_jis") and d.text == text
    if text == "日本":
        assert d.charset == "ECI 20 (shift_jis)"


@pytest.mark.parametrize("engine", ["zxing", "pipeline"])
def test_raw_shift_jis_bytes_without_eci(engine):
    """Byte mode, no ECI, bytes that are valid Shift_JIS and not UTF-8, with zxing-cpp's certain
    evidence (≥ 3 double-byte characters in a row) and lead bytes in 0x80–0x9F."""
    d = _one(engine, segno.make_qr(JAPANESE.encode("shift_jis"), mode="byte"))
    assert d.text == JAPANESE and d.charset == "shift_jis" and d.data == JAPANESE.encode("shift_jis")


def test_kanji_mode():
    d = _one("zxing", segno.make_qr("日本語", mode="kanji"))
    assert d.text == "日本語" and d.data == "日本語".encode("shift_jis")


@pytest.mark.parametrize("engine", ["zxing", "pipeline"])
def test_gb2312_in_hanzi_mode_and_with_an_eci(engine):
    hanzi = _one(engine, segno.make_qr(CHINESE, mode="hanzi"))
    assert hanzi.text == CHINESE and hanzi.charset == "gb2312 (Hanzi mode)"
    eci = _one(engine, segno.make_qr(CHINESE, encoding="gbk", eci=True, mode="byte"))  # segno writes ECI 29
    assert eci.text == CHINESE and eci.charset == "ECI 29 (gb2312)"
    assert hanzi.data == eci.data == CHINESE.encode("gb2312")


def test_the_eci_wins_over_bytes_that_look_like_utf8():
    """An ECI 3 (Latin-1) code whose bytes C3 A9 happen to be valid UTF-8 ("é") reads "Ã©", as declared."""
    d = _one("zxing", segno.make_qr("Ã©", encoding="iso8859-1", eci=True, mode="byte"))
    assert d.data == b"\xc3\xa9" and d.text == "Ã©" and d.charset == "ECI 3 (latin-1)"


@pytest.mark.parametrize("engine", ["zxing", "zbar-binary", "opencv", "pipeline"])
@pytest.mark.parametrize("eci", [False, True])
def test_utf8_vietnamese_unchanged(engine, eci):
    d = _one(engine, segno.make_qr(SIM_QR, encoding="utf-8", eci=eci, mode="byte"))
    assert d.text == SIM_QR and d.data == SIM_QR.encode("utf-8") and d.charset == "utf-8"
    assert parse_cccd(d).full_name == "Trần Thị Ngọc Ánh"


# --- bytes without text when it is not certain ------------------------------------------------
@pytest.mark.parametrize("engine", ["zxing", "zbar-binary", "opencv", "pipeline"])
def test_bytes_valid_in_no_charset_give_no_text(engine):
    raw = b"\xff\xfe\x80abc\xc3"  # not UTF-8, not Shift_JIS, not GB2312; only Latin-1 "ÿþ\x80abcÃ"
    d = _one(engine, segno.make_qr(raw, mode="byte"))
    assert d.data == raw and d.text is None and d.charset == ""
    with pytest.raises(PayloadError) as ei:
        as_text(d)
    assert ei.value.code == "unknown_charset"


@pytest.mark.parametrize("engine", ["zxing", "zbar-binary", "opencv", "pipeline"])
def test_raw_gb2312_bytes_without_eci_give_no_text(engine):
    """Without an ECI, GB2312 bytes are equally valid Latin-1 (and here 8 Shift_JIS katakana):
    zxing-cpp's own text for them is a wrong one, which is why we keep only the bytes."""
    import zxingcpp

    img = _image(segno.make_qr(CHINESE.encode("gb2312"), mode="byte"))
    assert zxingcpp.read_barcodes(img)[0].text == "ÖÐÎÄ×Ö·û"  # what trusting the reader would show
    d = _one(engine, segno.make_qr(CHINESE.encode("gb2312"), mode="byte"))
    assert d.data == CHINESE.encode("gb2312") and d.text is None


def test_half_width_katakana_alone_is_not_certain():
    """ﾃﾞｻﾞｲﾝ (bytes C3 DE BB DE B2 DD) is also Latin-1 "ÃÞ»Þ²Ý" and GB2312 "棉晦草" (3 hanzi):
    zxing-cpp guesses Shift_JIS; we keep the bytes."""
    raw = "ﾃﾞｻﾞｲﾝQR".encode("shift_jis")
    assert sjis_evidence(raw) and raw.decode("gb2312")
    assert bytes_text(raw) is None
    assert _one("zxing", segno.make_qr(raw, mode="byte")).text is None


def test_zbar_and_opencv_give_text_for_utf8_only():
    """zbar and OpenCV do not say whether a code has an ECI: raw Shift_JIS from them stays bytes."""
    code = segno.make_qr(JAPANESE.encode("shift_jis"), mode="byte")
    for engine in ("zbar-binary", "opencv"):
        d = _one(engine, code)
        assert d.data == JAPANESE.encode("shift_jis") and d.text is None


# --- the rules, byte by byte ------------------------------------------------------------------
def test_bytes_eci_parsing():
    # zxing-cpp's bytesECI: "]Q2", then each block's designator; a backslash in the data is doubled
    has_eci, blocks = parse_bytes_eci(b"]Q2\\000020\x93\xfa\\\\x\\000026\xc3\xa9")
    assert has_eci and blocks == [(20, b"\x93\xfa\\x"), (26, b"\xc3\xa9")]
    assert eci_text(blocks) == ("日\\xé", "ECI 20 (shift_jis),26 (utf-8)")
    assert parse_bytes_eci(b"]Q1\\abc") == (False, [(-1, b"\\abc")])
    assert eci_text([(899, b"abc")]) is None          # binary: no text
    assert eci_text([(26, b"\xff")]) is None          # not what the ECI declares: no text (zxing-cpp shows U+FFFD)
    assert eci_text([(999, b"abc")]) is None          # an ECI nobody knows
    with pytest.raises(ValueError):
        parse_bytes_eci(b"]Q2abc")                    # data before the first designator


def test_shift_jis_needs_zxings_evidence_and_a_byte_no_latin_text_has():
    assert bytes_text(JAPANESE.encode("shift_jis")) == (JAPANESE, "shift_jis")
    assert bytes_text("日本".encode("shift_jis")) is None            # 2 characters: not certain without ECI
    assert bytes_text("“ab”c".encode("cp1252")) is None              # Windows quotes: no run of 3
    assert bytes_text("Thủy".encode("utf-8")) == ("Thủy", "utf-8")
    assert bytes_text(b"\xe9t\xe9") is None                          # Latin-1 "été": a guess, not certain


def test_camera_scanner_hands_on_certain_text_as_utf8(tmp_path):
    """A scanner read is UTF-8 text, as from a serial scanner: a Shift_JIS code comes out as the
    UTF-8 of its text; a code whose charset is not certain is never handed on."""
    from devices.qr import open_scanner

    sjis, unknown = tmp_path / "sjis.png", tmp_path / "unknown.png"
    Image.fromarray(_image(segno.make_qr(JAPANESE.encode("shift_jis"), mode="byte"))).save(sjis)
    Image.fromarray(_image(segno.make_qr(CHINESE.encode("gb2312"), mode="byte"))).save(unknown)
    for path, expected in ((sjis, JAPANESE.encode("utf-8")), (unknown, None)):
        scanner = open_scanner({"backend": "camera"}, camera={"backend": "file", "source": str(path)})
        scanner.open()
        try:
            assert scanner.read(timeout=1.0) == expected
        finally:
            scanner.close()
