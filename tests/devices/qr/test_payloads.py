"""Payload parsers: the simulated citizen's QR, receipts, procedure links, and garbage."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import given, settings, strategies as st

from devices.qr.payloads import (
    CccdQr, PayloadError, ProcedureQr, ReceiptQr, build_receipt_qr, parse_any, parse_cccd,
    parse_procedure, parse_receipt,
)

SIM_QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
          "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")


def test_cccd_2021_layout():
    q = parse_cccd(SIM_QR)
    assert q.layout == "2021"
    assert q.id_number == "001185012345" and q.old_id_number == "012345678"
    assert q.full_name == "Trần Thị Ngọc Ánh"
    assert q.date_of_birth == date(1985, 5, 12) and q.issue_date == date(2023, 6, 15)
    assert q.sex == "Nữ"
    assert q.residence.startswith("Số 12 ngõ 34")
    assert "Trần" not in repr(q) and "001185012345" not in str(q)


def test_cccd_from_bytes_and_decomposed_text_is_nfc():
    nfd = unicodedata.normalize("NFD", SIM_QR)
    assert nfd != SIM_QR
    assert parse_cccd(nfd.encode()).full_name == "Trần Thị Ngọc Ánh"


def test_cccd_empty_old_id():
    q = parse_cccd(SIM_QR.replace("|012345678|", "||"))
    assert q.old_id_number is None


def test_cccd_2024_more_fields():
    text = "001185012345||Trần Thị Ngọc Ánh|12051985|Nữ|Phường Ba Đình, Thành phố Hà Nội|X|01072024|extra"
    q = parse_cccd(text)
    assert q.layout == "2024" and q.issue_date == date(2024, 7, 1) and len(q.fields) == 9


def test_cccd_2024_other_order_found_by_shape():
    text = ("001185012345|Trần Thị Ngọc Ánh|Nữ|12051985|Kinh|"
            "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023|12052045")
    q = parse_cccd(text)
    assert (q.layout, q.full_name, q.sex, q.date_of_birth) == ("2024", "Trần Thị Ngọc Ánh", "Nữ", date(1985, 5, 12))
    assert q.residence.startswith("Số 12") and q.issue_date == date(2023, 6, 15) and q.old_id_number is None


@pytest.mark.parametrize("text,code", [
    ("001185012345|Trần Thị Ngọc Ánh|Nam|12051985|Hà Nội, Việt Nam", "id_mismatch"),
    ("001185012345|Trần Thị Ngọc Ánh|Nữ|Hà Nội, Việt Nam|x", "not_cccd"),
    ("001185012345|12051985|Nữ|Hà Nội, Việt Nam|x", "not_cccd"),
])
def test_cccd_2024_errors(text, code):
    with pytest.raises(PayloadError) as ei:
        parse_cccd(text)
    assert ei.value.code == code


def test_cccd_2024_fewer_fields_no_issue_date():
    q = parse_cccd("001185012345||Trần Thị Ngọc Ánh|12051985|Nữ|Hà Nội")
    assert q.layout == "2024" and q.issue_date is None


@pytest.mark.parametrize("text,code", [
    ("00118501234|012345678|A B|12051985|Nữ|x|15062023", "not_cccd"),
    ("001185012345|0123|A B|12051985|Nữ|x|15062023", "bad_old_id"),
    ("001185012345|012345678|A B|31021985|Nữ|x|15062023", "bad_date"),
    ("001185012345|012345678|A B|12051985|Khác|x|15062023", "bad_sex"),
    ("001185012345|012345678|A B|12051986|Nữ|x|15062023", "id_mismatch"),
    ("001185012345|012345678|A B|12051985|Nam|x|15062023", "id_mismatch"),
    ("001185012345|012345678|A B|12051985|Nữ|x|15061980", "bad_date"),
    ("999185012345|012345678|A B|12051985|Nữ|x|15062023", "bad_id"),
    ("001185012345|012345678||12051985|Nữ|x|15062023", "bad_name"),
    (b"\xff\xfe001185012345", "not_utf8"),
    ("", "empty"),
])
def test_cccd_errors(text, code):
    with pytest.raises(PayloadError) as ei:
        parse_cccd(text)
    assert ei.value.code == code
    assert ei.value.message_vi and ei.value.message_en
    assert "012345678" not in ei.value.message_en + ei.value.message_vi


def test_receipt_roundtrip_and_provisional():
    args = ("HS-2026-000123", "k3Y_s3cret", "1.001193", datetime(2026, 11, 23, 8, 15), date(2026, 11, 26))
    text = build_receipt_qr(*args)
    assert text == "KIOSKVN2|HS-2026-000123|k3Y_s3cret|1.001193|2026-11-23T08:15|2026-11-26"
    r = parse_receipt(text)
    assert r == ReceiptQr(*args) and not r.provisional
    assert parse_receipt(build_receipt_qr(args[0], "", *args[2:])).provisional


def test_a_receipt_qr_holds_nothing_personal_and_old_receipts_still_read():
    """Anyone who photographs a receipt reads its QR: the code and the lookup secret, no ID number."""
    text = build_receipt_qr("HS-2026-000123", "k3Y_s3cret", "1.001193", datetime(2026, 11, 23, 8, 15),
                            date(2026, 11, 26))
    assert not any(part.isdigit() and len(part) in (9, 12) for part in text.split("|"))
    old = parse_receipt("KIOSKVN1|HS-2026-000123|k3Y_s3cret|1.001193|001185012345|2026-11-23T08:15|2026-11-26")
    assert old == parse_receipt(text) and "001185012345" not in repr(old) + str(vars(old))


@pytest.mark.parametrize("text", [
    "KIOSKVN3|A|b|1.1|2026-11-23T08:15|2026-11-26",
    "KIOSKVN2|A|b|1.1|001185012345|2026-11-23T08:15|2026-11-26",
    "KIOSKVN2|A|b|1.1|2026-11-23T08:15",
    "KIOSKVN1|A|b|1.1|001185012345|2026-11-23T08:15",
    "KIOSKVN1|A|b c|1.1|001185012345|2026-11-23T08:15|2026-11-26",
    "KIOSKVN1|A|b|1.1|00118501234|2026-11-23T08:15|2026-11-26",
    "KIOSKVN1|A|b|1.1|001185012345|2026-11-23 08:15|2026-11-26",
    "KIOSKVN1|A|b|1.1|001185012345|2026-11-23T08:15|2026-11-20",
    "KIOSKVN1|A|b|1.1|001185012345|2026-02-30T08:15|2026-03-26",
])
def test_receipt_errors(text):
    with pytest.raises(PayloadError):
        parse_receipt(text)


def test_build_receipt_refuses_a_pipe():
    with pytest.raises(PayloadError):
        build_receipt_qr("A|B", "", "1.1", datetime(2026, 1, 1), date(2026, 1, 2))


def test_procedure():
    assert parse_procedure("kiosk://flow/khai-sinh") == ProcedureQr("khai-sinh")
    assert parse_procedure(" kiosk://flow/khai-sinh/\r\n").flow_id == "khai-sinh"
    for bad in ("kiosk://flow/", "http://flow/khai-sinh", "kiosk://flow/../etc", "kiosk://flow/Khai Sinh"):
        with pytest.raises(PayloadError) as ei:
            parse_procedure(bad)
        assert ei.value.code == "not_procedure"


def test_parse_any_dispatches():
    assert isinstance(parse_any(SIM_QR), CccdQr)
    assert isinstance(parse_any("kiosk://flow/khai-sinh"), ProcedureQr)
    assert isinstance(parse_any("KIOSKVN1|A|b|1.1|001185012345|2026-11-23T08:15|2026-11-26"), ReceiptQr)
    with pytest.raises(PayloadError) as ei:
        parse_any("https://example.com")
    assert ei.value.code == "unknown"


_pipe_heavy = st.lists(st.one_of(st.text(max_size=20), st.from_regex(r"\d{8,12}", fullmatch=True),
                                 st.sampled_from(["Nam", "Nữ", "", "KIOSKVN1", "kiosk://flow/x"])),
                       max_size=10).map("|".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), _pipe_heavy))
def test_garbage_only_raises_payload_error(data):
    for parser in (parse_cccd, parse_receipt, parse_procedure, parse_any):
        try:
            parser(data)
        except PayloadError as exc:
            assert exc.message_vi and exc.message_en
