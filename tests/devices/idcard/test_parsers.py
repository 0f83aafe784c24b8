"""Pure parsers: TLV, APDU, MRZ (with the Vietnamese rules), DG13, LDS files; property tests."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from devices.idcard import apdu, lds, tlv
from devices.idcard.dg13 import build_dg13, parse_dg13
from devices.idcard.errors import CardError, ParseError
from devices.idcard.mrz import build_td1, check_digit, key_seed_info, parse_td1, vn_expiry
from devices.idcard.passive import parse_sod
from devices.idcard.securityinfo import parse_security_infos

SAMPLE = "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nUNG<<HOANG<HIEP<<<<<<<<<<<<<<<"


# --- TLV ------------------------------------------------------------------------------------------
def test_tlv_long_form_and_multibyte_tags_roundtrip():
    value = bytes(300)
    enc = tlv.encode(0x5F1F, value)
    assert enc[:5] == bytes.fromhex("5F1F82012C")
    t = tlv.decode(enc)
    assert (t.tag, t.value, t.raw) == (0x5F1F, value, enc)
    nested = tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), tlv.encode(0x7F2E, b"x" * 200)])
    assert tlv.decode(nested).find(0x7F2E).value == b"x" * 200
    assert tlv.header_length(enc) == (5, 305)


@pytest.mark.parametrize("bad", [b"", b"\x30", b"\x30\x05ab", b"\x1f", b"\x30\x85\x00\x00\x00\x00\x01", b"\x30\x80"])
def test_tlv_malformed_is_a_parse_error(bad):
    with pytest.raises(ParseError):
        tlv.decode(bad)


def test_oid_roundtrip():
    for oid in ("0.4.0.127.0.7.2.2.4.2.2", "2.23.136.1.1.5", "1.2.840.113549.1.7.2"):
        assert tlv.decode_oid(tlv.encode_oid(oid)) == oid


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_tlv_arbitrary_bytes_only_raise_parse_error(data):
    try:
        for t in tlv.decode_all(data):
            if t.constructed:
                t.parse()
    except ParseError:
        pass


@given(st.integers(0, 0x7FFF_FFFF).filter(lambda n: n < 2**24), st.sampled_from([0x04, 0x5F1F, 0x7F61, 0x30]))
@settings(max_examples=50, deadline=None)
def test_tlv_lengths_roundtrip(n, tag):
    header = tlv.encode_tag(tag) + tlv.encode_length(n)
    assert tlv.header_length(header + b"") == (len(header), len(header) + n)


# --- APDU -----------------------------------------------------------------------------------------
def test_select_has_no_le_and_never_selects_mf():
    assert apdu.select_ef(0x011C).to_bytes() == bytes.fromhex("00A4020C02011C")
    assert apdu.select_aid().to_bytes() == bytes.fromhex("00A4040C07A0000002471001")


def test_extended_and_short_apdus_parse_back():
    for cmd in (apdu.read_binary(0, 65536), apdu.read_binary(5, 224), apdu.read_binary(0, 256),
                apdu.Command(0, 0x88, 0, 0, bytes(300), 65536), apdu.Command(0, 0xA4, 2, 0xC, b"\x01\x1e")):
        assert apdu.parse_command(cmd.to_bytes()) == cmd
    assert apdu.read_binary(0, 65536).to_bytes() == bytes.fromhex("00B00000000000")
    assert apdu.read_binary(0x1234, 256).to_bytes() == bytes.fromhex("00B0123400")


# --- MRZ ------------------------------------------------------------------------------------------
def test_public_vietnamese_sample_mrz_verifies():
    m = parse_td1(SAMPLE)
    assert m.valid and m.document_number == "093047064" and m.id_number == "001093047064"
    assert m.date_of_birth == date(1993, 1, 5) and m.date_of_expiry == date(2033, 1, 5)
    assert m.full_name == "UNG HOANG HIEP" and m.sex == "M"


def test_bad_check_digit_is_reported():
    bad = SAMPLE.replace("IDVNM0930470641", "IDVNM0930470642", 1)
    m = parse_td1(bad)
    assert not m.checks["document_number"] and not m.valid


@pytest.mark.parametrize("birth,issued,expiry", [
    (date(1985, 5, 12), date(2023, 6, 15), date(2045, 5, 12)),   # within 2 years before 40 → 60
    (date(1985, 5, 12), date(2021, 4, 1), date(2025, 5, 12)),    # more than 2 years before 40 → 40
    (date(2000, 3, 3), date(2021, 3, 1), date(2025, 3, 3)),      # → 25
    (date(2000, 3, 3), date(2023, 4, 1), date(2040, 3, 3)),      # within 2 years before 25 → 40
    (date(2010, 1, 1), date(2022, 6, 1), date(2035, 1, 1)),      # within 2 years before 14 → 25
    (date(2012, 7, 1), date(2019, 7, 1), date(2026, 7, 1)),      # a child's card → 14
    (date(1966, 2, 1), date(2024, 3, 1), None),                  # within 2 years before 60 → no expiry
    (date(1955, 7, 7), date(2021, 5, 10), None),                 # issued after 60
    (date(1988, 2, 29), date(2010, 1, 1), date(2013, 2, 28)),    # 29 Feb birthday, 25th in a common year
])
def test_vietnamese_expiry_rule(birth, issued, expiry):
    assert vn_expiry(birth, issued) == expiry


def test_built_td1_is_valid_and_bac_seed_uses_last_nine_digits():
    text = build_td1(id_number="001185012345", birth=date(1985, 5, 12), sex="F", expiry=date(2045, 5, 12),
                     surname="TRAN", given="THI NGOC ANH")
    m = parse_td1(text)
    assert m.valid and m.document_number == "185012345" and m.id_number == "001185012345"
    assert key_seed_info("185012345", date(1985, 5, 12), date(2045, 5, 12)) == \
        "185012345" + check_digit("185012345") + "850512" + check_digit("850512") + "450512" + check_digit("450512")


@given(st.one_of(st.binary(max_size=120), st.text(max_size=120),
                 st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=90, max_size=90)))
@settings(max_examples=300, deadline=None)
def test_mrz_arbitrary_input_only_raises_parse_error(data):
    try:
        parse_td1(data)
    except ParseError:
        pass


# --- DG13 -----------------------------------------------------------------------------------------
def test_dg13_by_field_number_nested_parents_missing_and_unreadable():
    raw = build_dg13({1: "001185012345", 2: "Tra\u0302\u0300n Thi\u0323 Ngo\u0323c A\u0301nh",  # decomposed (NFD)
                      13: ["Trần Văn Bình", "Lê Thị Hoa"], 9: b"\xfe\x01\x99", 12: "Không thời hạn"})
    d = parse_dg13(raw)
    assert d.get(2) == "Trần Thị Ngọc Ánh"            # NFC-normalised
    assert (d.get(13, 0), d.get(13, 1)) == ("Trần Văn Bình", "Lê Thị Hoa")
    assert 9 in d.unreadable and d.get(7) is None


def test_dg13_parents_in_one_sequence_or_each_in_its_own_read_the_same():
    """The cards put father and mother each in a SEQUENCE (docs/idcard.md); a single SEQUENCE
    holding both, as other readers' fixtures build it, gives the same names."""
    own = build_dg13({13: ["Trần Văn Bình", "Lê Thị Hoa"], 14: []})
    field = tlv.encode(0x30, [tlv.encode(0x02, b"\x0d"), tlv.encode(0x30, [tlv.encode(0x0C, "Trần Văn Bình".encode()),
                                                                          tlv.encode(0x0C, "Lê Thị Hoa".encode())])])
    shared = tlv.encode(0x6D, tlv.encode(0x30, [tlv.encode(0x02, b"\x01"), tlv.encode(0x06, tlv.encode_oid("1.0.10646.1.0.8")),
                                                tlv.encode(0x31, field)]))
    for raw in (own, shared):
        d = parse_dg13(raw)
        assert (d.get(13, 0), d.get(13, 1)) == ("Trần Văn Bình", "Lê Thị Hoa") and d.get(14) is None
        assert not d.unreadable


def test_dg13_long_form_lengths_and_printable_string():
    long_addr = "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội " * 4
    item = tlv.encode(0x30, [tlv.encode(0x02, b"\x09"), tlv.encode(0x0C, long_addr.encode())])
    item2 = tlv.encode(0x30, [tlv.encode(0x02, b"\x01"), tlv.encode(0x13, b"001185012345")])
    raw = tlv.encode(0x6D, tlv.encode(0x30, [tlv.encode(0x02, b"\x01"), tlv.encode(0x06, tlv.encode_oid("1.0.10646.1.0.8")),
                                              tlv.encode(0x31, [item2, item])]))
    assert raw[1] == 0x82
    d = parse_dg13(raw)
    assert d.get(9) == long_addr.strip() and d.get(1) == "001185012345"


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_dg13_arbitrary_bytes_only_raise_parse_error(data):
    for blob in (data, b"\x6D" + tlv.encode_length(len(data)) + data):
        try:
            parse_dg13(blob)
        except ParseError:
            pass


@given(st.dictionaries(st.integers(1, 16), st.one_of(st.text(max_size=40), st.binary(max_size=20),
                                                      st.lists(st.text(min_size=1, max_size=20), max_size=3)),
                       max_size=16))
@settings(max_examples=150, deadline=None)
def test_dg13_builder_roundtrip(fields):
    raw = build_dg13(fields)
    try:
        d = parse_dg13(raw)
    except ParseError:
        return  # nothing readable in it
    for n, v in fields.items():
        if isinstance(v, str) and v.strip() and all(c.isprintable() for c in v):
            import unicodedata
            assert d.get(n) == unicodedata.normalize("NFC", v).strip()


# --- other LDS files ------------------------------------------------------------------------------
def test_com_dg1_dg2_roundtrip():
    assert lds.parse_com(lds.build_com([1, 2, 13, 14, 15])).data_groups == (1, 2, 13, 14, 15)
    assert lds.parse_dg1(lds.build_dg1(SAMPLE)).document_number == "093047064"
    from devices.idcard.vcard.datasets import face_jpeg
    jpeg = face_jpeg("x")
    face = lds.parse_dg2(lds.build_dg2(jpeg, 240, 320))
    assert face.mime == "image/jpeg" and face.data == jpeg
    import io
    from PIL import Image
    assert Image.open(io.BytesIO(face.data)).size == (240, 320)


def test_card_access_parsing():
    raw = bytes.fromhex("31143012060A04007F0007020204020202010202010D")
    infos = parse_security_infos(raw)
    assert infos[0].protocol == "0.4.0.127.0.7.2.2.4.2.2" and infos[0].parameter_id == 13 and infos[0].supported_pace


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_other_parsers_only_raise_typed_errors(data):
    for fn in (lds.parse_com, lds.parse_dg1, lds.parse_dg2, lds.parse_dg15, parse_security_infos):
        try:
            fn(data)
        except (ParseError, CardError):
            pass
    try:
        parse_sod(data)
    except (ParseError, IndexError):
        pass


def test_ca_key_from_dg14_named_and_explicit_parameters():
    from devices.idcard.chipauth import ID_PK_ECDH, encode_ca_infos, parse_ca_key
    from devices.idcard.ec import BRAINPOOL_P256R1 as BP
    pt = BP.mul(12345, BP.g)
    key = parse_ca_key(tlv.encode(0x31, encode_ca_infos(BP, pt)))
    assert key.curve is BP and key.point == pt and key.protocol.endswith(".2.2")
    explicit = tlv.encode(0x30, [tlv.encode(0x02, b"\x01"),
                                 tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid("1.2.840.10045.1.1")),
                                                   tlv.encode(0x02, tlv.encode_int(BP.p))])])
    spki = tlv.encode(0x30, [tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid("1.2.840.10045.2.1")), explicit]),
                             tlv.encode(0x03, b"\x00" + BP.encode(pt))])
    infos = [encode_ca_infos(BP, pt)[0], tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(ID_PK_ECDH)), spki,
                                                          tlv.encode(0x02, b"\x07")])]
    key = parse_ca_key(tlv.encode(0x31, infos))
    assert key.curve is BP and key.key_id == 7
    assert parse_ca_key(tlv.encode(0x31, infos[:1])) is None
