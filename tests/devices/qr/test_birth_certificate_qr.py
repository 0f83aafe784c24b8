"""The Giấy chứng sinh record (QĐ 130/QĐ-BYT bảng 9, XML9): what the khai sinh form takes from it,
and every garbled or foreign payload refused with a bilingual message, never a crash."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from common.errors import user_message
from devices.qr.payloads import (
    BirthCertificateQr, PayloadError, build_birth_certificate_qr, parse_birth_certificate,
)
from devices.qr.samples import SIM_CHILD, sim_birth_certificate_qr

RECORD = {
    "MA_LK": "BV01-2027-000123", "HO_TEN_NND": "Trần Thị Ngọc Ánh", "NGAYSINH_NND": "19850512",
    "SO_CCCD_NND": "001185012345", "HO_TEN_CHA": "Lê Minh Tuấn", "HO_TEN_CON": "Lê Minh Khôi",
    "GIOI_TINH_CON": "1", "SO_CON": "1", "CAN_NANG_CON": "3200", "NGAY_SINH_CON": "202702190830",
    "NOI_SINH_CON": "Bệnh viện Phụ sản Hà Nội", "SO": "1234", "QUYEN_SO": "05", "NGAY_CT": "20270221",
}


def xml(record=RECORD, wrap=True):
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in record.items())
    rec = f"<DU_LIEU_GIAY_CHUNG_SINH>{inner}</DU_LIEU_GIAY_CHUNG_SINH>"
    return (f"<CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH><DSACH_GIAYCHUNGSINH>{rec}</DSACH_GIAYCHUNGSINH>"
            f"</CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH>") if wrap else rec


def test_the_standard_record_gives_the_childs_name_birth_and_sex():
    q = parse_birth_certificate(xml())
    assert isinstance(q, BirthCertificateQr)
    assert (q.full_name, q.surname, q.given_names) == ("Lê Minh Khôi", "Lê", "Minh Khôi")
    assert q.birth_date == date(2027, 2, 19) and q.birth_time == "08:30" and q.birth_date_iso == "2027-02-19"
    assert q.sex == "nam"
    assert (q.mother_full_name, q.mother_birth_date, q.mother_id_number) == ("Trần Thị Ngọc Ánh", date(1985, 5, 12), "001185012345")
    assert q.issue_date == date(2027, 2, 21) and q.certificate_number == "1234" and q.book_number == "05"
    # nothing personal in repr/str: they end up in logs and tracebacks
    assert "Khôi" not in repr(q) and "001185012345" not in str(q) and "Ánh" not in repr(q)


@pytest.mark.parametrize("code,sex", [("1", "nam"), ("2", "nu"), ("3", None)])
def test_sex_codes_of_the_standard(code, sex):
    assert parse_birth_certificate(xml({**RECORD, "GIOI_TINH_CON": code})).sex == sex


def test_bare_record_declaration_lines_cdata_and_bytes_are_read():
    assert parse_birth_certificate(xml(wrap=False)).surname == "Lê"
    laid_out = '<?xml version="1.0" encoding="utf-8"?>\n' + xml().replace("><", ">\n  <")
    assert parse_birth_certificate(laid_out).given_names == "Minh Khôi"
    cdata = xml({**RECORD, "HO_TEN_CON": "<![CDATA[Lê Minh Khôi]]>"})
    assert parse_birth_certificate(cdata.encode("utf-8")).full_name == "Lê Minh Khôi"


def test_no_intended_name_yet_still_gives_birth_date_and_sex():
    q = parse_birth_certificate(xml({**RECORD, "HO_TEN_CON": ""}))
    assert (q.full_name, q.surname, q.given_names) == ("", "", "")
    assert q.birth_date == date(2027, 2, 19) and q.sex == "nam"


def test_a_date_of_birth_without_the_hour_is_read():
    q = parse_birth_certificate(xml({**RECORD, "NGAY_SINH_CON": "20270219"}))
    assert q.birth_date == date(2027, 2, 19) and q.birth_time is None


def test_builder_escapes_and_round_trips():
    text = build_birth_certificate_qr({**RECORD, "NOI_SINH_CON": "Bệnh viện A & B <Hà Nội>"})
    assert parse_birth_certificate(text).birth_place == "Bệnh viện A & B <Hà Nội>"


def test_the_simulated_hospitals_certificate_is_ten_days_old_on_any_day():
    for today in (date(2027, 3, 1), date(2028, 1, 1), date(2028, 2, 29), date(2027, 1, 3)):
        q = parse_birth_certificate(sim_birth_certificate_qr(today))
        assert (today - q.birth_date).days == SIM_CHILD["days_old"]
        assert q.issue_date <= today and q.full_name == SIM_CHILD["full_name"] and q.sex == SIM_CHILD["sex"]


def _refused(payload, code=None):
    with pytest.raises(PayloadError) as e:
        parse_birth_certificate(payload)
    exc = e.value
    vi, en = user_message(exc, "vi"), user_message(exc, "en")
    assert vi and en and vi != en
    assert "Lê Minh Khôi" not in vi + en + str(exc)  # the message never repeats the payload
    if code:
        assert exc.code == code, exc.code
    return exc


@pytest.mark.parametrize("payload,code", [
    ("https://benhvien.example.vn/gcs/123456", "not_birth_certificate"),       # a hospital's own link
    ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|Hà Nội|15062023", "not_birth_certificate"),  # an ID card
    ("<GIAY_RA_VIEN><HO_TEN>X</HO_TEN></GIAY_RA_VIEN>", "not_birth_certificate"),
    ("<TONG_HOP><DU_LIEU_GIAY_CHUNG_SINH/></TONG_HOP>", "not_birth_certificate"),
    (xml()[:-40], "bad_birth_certificate"),                                     # cut short
    (xml().replace("</HO_TEN_CON>", ""), "bad_birth_certificate"),              # not well-formed
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml(), "bad_birth_certificate"),     # entities: never expanded
    (xml({**RECORD, "GIOI_TINH_CON": "Nam"}), "bad_birth_certificate"),
    (xml({**RECORD, "GIOI_TINH_CON": ""}), "bad_birth_certificate"),
    (xml({**RECORD, "NGAY_SINH_CON": ""}), "bad_birth_certificate"),
    (xml({**RECORD, "NGAY_SINH_CON": "20271302"}), "bad_birth_certificate"),    # month 13
    (xml({**RECORD, "NGAY_SINH_CON": "202702192561"}), "bad_birth_certificate"),  # 25:61
    (xml({**RECORD, "NGAY_SINH_CON": "19/02/2027"}), "bad_birth_certificate"),
    (xml({**RECORD, "NGAY_SINH_CON": "18000219"}), "bad_birth_certificate"),
    (xml({**RECORD, "NGAY_CT": "20270101"}), "bad_birth_certificate"),          # issued before the birth
    (xml({**RECORD, "NGAYSINH_NND": "20280101"}), "bad_birth_certificate"),     # mother born after the child
    (xml({**RECORD, "HO_TEN_CON": "Lê Minh 2"}), "bad_birth_certificate"),
    (xml({**RECORD, "HO_TEN_CON": "<b>Lê</b>"}), "bad_birth_certificate"),
    (xml() + xml(), "bad_birth_certificate"),                                   # two documents
    (xml(wrap=False).join(["<DSACH_GIAYCHUNGSINH>", ""]) + xml(wrap=False) + "</DSACH_GIAYCHUNGSINH>", "several_children"),
    ("", "empty"),
    (b"\xff\xfe<DU_LIEU_GIAY_CHUNG_SINH>", "not_utf8"),
    ("<DU_LIEU_GIAY_CHUNG_SINH>\x00</DU_LIEU_GIAY_CHUNG_SINH>", "control_chars"),
    ("<DU_LIEU_GIAY_CHUNG_SINH>" + "a" * 5000, "too_long"),
])
def test_garbled_or_foreign_payloads_get_a_plain_bilingual_answer(payload, code):
    _refused(payload, code)


def test_a_passport_number_for_the_mother_is_not_kept_as_an_id():
    assert parse_birth_certificate(xml({**RECORD, "SO_CCCD_NND": "C1234567"})).mother_id_number is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400),
                 st.text(max_size=60).map(lambda t: xml({**RECORD, "HO_TEN_CON": t})),
                 st.text(max_size=20).map(lambda t: xml({**RECORD, "NGAY_SINH_CON": t}))))
def test_no_payload_crashes_the_parser(payload):
    try:
        parse_birth_certificate(payload)
    except PayloadError as exc:
        assert user_message(exc, "vi") and user_message(exc, "en")
