"""The Vietnamese card profiles of the virtual card (docs/idcard.md, "Vietnamese card profiles"):
the 12-digit CCCD with chip (2021), the 2024 căn cước card and the 60+ card without expiry, each
read through the reader and every field checked; the DG13 bytes against the layout public
readers of real cards expect."""
from __future__ import annotations

from datetime import date

import pytest

from devices.idcard import AccessKey, open_reader, tlv
from devices.idcard.apdu import select_aid, select_ef
from devices.idcard.dg13 import parse_dg13
from devices.idcard.lds import parse_com, parse_dg1
from devices.idcard.pace import PacePassword, perform_pace
from devices.idcard.passive import parse_sod
from devices.idcard.session import ChipSession
from devices.idcard.transport import VirtualCardTransport
from devices.idcard.vcard.datasets import DATASETS, build_files

from _idcard_helpers import TRUST, VPCD_READER, make_rng

PROFILES = ("cccd2021", "cancuoc2024", "cccd60plus")

# every Person field, written out (not derived from the data sets: a changed data set must fail here)
EXPECTED = {
    "cccd2021": {
        "id_number": "036092004815", "full_name": "Vũ Đức Thắng", "date_of_birth": date(1992, 11, 3),
        "sex": "Nam", "nationality": "Việt Nam", "ethnicity": "Kinh", "religion": "Công giáo",
        "home_town": "Xã Hải Minh, Huyện Hải Hậu, Tỉnh Nam Định",
        "residence": "Tổ 5, Phường Lộc Hạ, Thành phố Nam Định, Tỉnh Nam Định",
        "identifying_marks": "Sẹo chấm C:2cm dưới sau cánh mũi phải",
        "issue_date": date(2021, 7, 9), "expiry_date": date(2032, 11, 3), "no_expiry": False,   # 40th birthday
        "father_name": "Vũ Văn Lộc", "mother_name": "Trần Thị Nhung", "spouse_name": "Đỗ Thị Hồng Nhung",
        "old_id_number": "163215487", "missing": [], "unreadable": [],
    },
    "cancuoc2024": {
        "id_number": "079304011223", "full_name": "Huỳnh Ngọc Bảo Trân", "date_of_birth": date(2004, 2, 29),
        "sex": "Nữ", "nationality": "Việt Nam", "ethnicity": "Kinh", "religion": "Không",
        "home_town": "Xã Tân Phú Đông, Thành phố Sa Đéc, Tỉnh Đồng Tháp",
        "residence": "Số 41/7 đường Trần Hưng Đạo, Phường Cầu Ông Lãnh, Quận 1, Thành phố Hồ Chí Minh",
        "identifying_marks": "Nốt ruồi C:0,5cm trên trước đuôi mày trái",
        # 25th birthday of a 29 February child in a common year: 28 February (mrz.vn_expiry)
        "issue_date": date(2024, 9, 16), "expiry_date": date(2029, 2, 28), "no_expiry": False,
        "father_name": "Huỳnh Văn Bảo", "mother_name": "Lâm Thị Ngọc Hân", "spouse_name": None,
        "old_id_number": None, "missing": ["spouse_name", "old_id_number"], "unreadable": [],
    },
    "cccd60plus": {
        "id_number": "001058003307", "full_name": "Đặng Văn Khải", "date_of_birth": date(1958, 4, 1),
        "sex": "Nam", "nationality": "Việt Nam", "ethnicity": "Kinh", "religion": "Phật giáo",
        "home_town": "Xã Ninh Hiệp, Huyện Gia Lâm, Thành phố Hà Nội",
        "residence": "Số 18 ngõ 95 phố Chùa Bộc, Phường Trung Liệt, Quận Đống Đa, Thành phố Hà Nội",
        "identifying_marks": "Sẹo chấm C:1cm trên sau đầu mày phải",
        "issue_date": date(2022, 10, 20), "expiry_date": None, "no_expiry": True,
        "father_name": "Đặng Văn Nhân", "mother_name": "Nguyễn Thị Tý", "spouse_name": "Lưu Thị Mận",
        "old_id_number": "010668412", "missing": [], "unreadable": [],
    },
}
FIELD_16 = {"cccd2021": "3F9A01C47D2B8E05", "cancuoc2024": "A04C7719E2D05B63", "cccd60plus": "5D13E8F0A6C29B74"}
MRZ_NAMES = {"cccd2021": ("VU", "DUC THANG"), "cancuoc2024": ("HUYNH", "NGOC BAO TRAN"),
             "cccd60plus": ("DANG", "VAN KHAI")}


def sim(name):
    return open_reader({"backend": "sim", "dataset": name, "trust_store": TRUST})


def qr_of(name):
    c = DATASETS[name].citizen
    return f"{c.id_number}|{c.old_id}|{c.full_name}|{c.birth:%d%m%Y}|{c.sex}|{c.residence}|{c.issued:%d%m%Y}"


def check_person(person, name):
    got = {k: getattr(person, k) for k in EXPECTED[name]}
    assert got == EXPECTED[name]


def check_mrz(mrz, name):
    e = EXPECTED[name]
    assert mrz.valid and mrz.checks["id_number"]
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("ID", "VNM", "VNM")
    assert mrz.document_number == e["id_number"][-9:] and mrz.id_number == e["id_number"]
    assert mrz.date_of_birth == e["date_of_birth"] and mrz.date_of_expiry == e["expiry_date"]
    assert mrz.sex == {"Nam": "M", "Nữ": "F"}[e["sex"]] and mrz.names == MRZ_NAMES[name]
    assert mrz.optional1 == e["id_number"] + "<<" + mrz.lines[0][-1]      # <ID><<<check digit> as on real cards


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("key", ["can", "qr", "mrz"])
def test_profile_read_gives_every_field(name, key):
    c = DATASETS[name].citizen
    access = {"can": lambda: AccessKey.from_can(c.id_number[-6:]),         # CAN: the ID's last 6 digits
              "qr": lambda: AccessKey.from_qr(qr_of(name)),
              "mrz": lambda: AccessKey.from_mrz(c.id_number, c.birth, c.expiry)}[key]()
    r = sim(name).read(access, groups=("DG1", "DG2", "DG13"))
    assert r.access_control == "PACE"
    assert r.verified and r.clone_check.status == "ok"
    assert {k: v.status for k, v in r.checks.items()} == dict.fromkeys(
        ("hashes", "signature", "chain", "validity", "active_authentication", "chip_authentication",
         "mrz_check_digits", "consistency"), "ok")
    check_person(r.person, name)
    check_mrz(r.mrz, name)
    assert r.photo_mime == "image/jpeg" and r.stats["face_image"]["conformant"]
    assert r.stats["face_image"]["encoding"] == "ISO/IEC 19794-5"
    assert r.groups == ["DG1", "DG2", "DG13", "DG14", "DG15"]


@pytest.mark.parametrize("name", PROFILES)
def test_profile_files_list_dg3_which_the_chip_refuses_without_eac(name):
    """DG1, DG2, DG3, DG13, DG14, DG15 as a Vietnamese card lists them (AndyQ/NFCPassportReader#214);
    SELECT DG3 under BAC/PACE answers 6982 (newlogic/smartscanner-core#148)."""
    files = build_files(name).files
    assert parse_com(files[0x011E]).data_groups == (1, 2, 3, 13, 14, 15)
    assert sorted(parse_sod(files[0x011D]).dg_hashes) == [1, 2, 3, 13, 14, 15]
    t = VirtualCardTransport(name)
    t.connect()
    s = ChipSession(t)
    s.sm = perform_pace(s.plain, PacePassword.can(DATASETS[name].citizen.id_number[-6:]),
                        "0.4.0.127.0.7.2.2.4.2.2", 13, make_rng(name))
    assert s.exchange(select_aid()).ok
    assert s.exchange(select_ef(0x0103)).sw == 0x6982
    assert s.exchange(select_ef(0x010D)).ok


def _fields(raw: bytes) -> dict[int, bytes]:
    top = tlv.decode_one(raw, 0)[0]
    body = top.find(0x30)
    assert body.parse()[0].value == b"\x01" and tlv.decode_oid(body.find(0x06).value) == "1.0.10646.1.0.8"
    return {tlv.decode_int(f.parse()[0].value): f.raw for f in body.find(0x31).parse()}


@pytest.mark.parametrize("name", PROFILES)
def test_dg13_bytes_have_the_layout_of_real_cards(name):
    """The byte prefixes a Swift reader of real Vietnamese cards matches field by field (a
    DataGroup13 parser of an NFCPassportReader-derived eID SDK; docs/idcard.md): PrintableString
    for the ID, the dates of birth and issue, the old ID and field 16; UTF8String for the rest;
    father and mother each in a SEQUENCE; a single person's field 14 with its number only."""
    raw = build_files(name).files[0x010D]
    f = _fields(raw)
    e = EXPECTED[name]
    assert f[1][:7] == bytes([0x30, 0x11, 0x02, 0x01, 0x01, 0x13, 0x0C])
    assert f[3][:7] == bytes([0x30, 0x0F, 0x02, 0x01, 0x03, 0x13, 0x0A])
    assert f[4][:7] == bytes([0x30, 0x08, 0x02, 0x01, 0x04, 0x0C, 0x03]) if e["sex"] == "Nam" else \
        f[4][:7] == bytes([0x30, 0x09, 0x02, 0x01, 0x04, 0x0C, 0x04])
    assert f[5][:7] == bytes([0x30, 0x0F, 0x02, 0x01, 0x05, 0x0C, 0x0A])              # "Việt Nam"
    assert f[11][:7] == bytes([0x30, 0x0F, 0x02, 0x01, 0x0B, 0x13, 0x0A])
    assert f[12][5] == 0x0C                                                           # UTF8String: "Không thời hạn" fits
    assert f[16][:7] == bytes([0x30, 0x15, 0x02, 0x01, 0x10, 0x13, 0x10])
    for n in (2, 6, 7, 8, 9, 10):
        assert f[n][5] == 0x0C, n
    parents = tlv.decode(f[13]).parse()
    assert [p.tag for p in parents] == [0x02, 0x30, 0x30]
    assert [p.parse()[0].tag for p in parents[1:]] == [0x0C, 0x0C]
    if e["spouse_name"] is None:
        assert f[14] == bytes([0x30, 0x03, 0x02, 0x01, 0x0E])
    else:
        assert [p.tag for p in tlv.decode(f[14]).parse()] == [0x02, 0x30]
    if e["old_id_number"]:
        assert f[15][:7] == bytes([0x30, 0x0E, 0x02, 0x01, 0x0F, 0x13, 0x09])
    else:
        assert 15 not in f
    d = parse_dg13(raw)
    assert d.get(16) == FIELD_16[name] and not d.unreadable
    assert d.get(12) == ("Không thời hạn" if e["no_expiry"] else e["expiry_date"].strftime("%d/%m/%Y"))


def test_60plus_card_key_from_its_qr_uses_the_no_expiry_mrz():
    c = DATASETS["cccd60plus"].citizen
    assert c.expiry is None
    mrz = parse_dg1(build_files("cccd60plus").files[0x0101])
    assert mrz.lines[1][8:15] == "<<<<<<0" and mrz.date_of_expiry is None
    key = AccessKey.from_qr(qr_of("cccd60plus"))
    assert key.mrz_info.endswith("<<<<<<0") and key.mrz_info == build_files("cccd60plus").mrz_info_key


@pytest.mark.pcscd
def test_the_2024_card_through_pcscd_and_vpcd(vpcd_card):
    vpcd_card("cancuoc2024")
    reader = open_reader({"backend": "pcsc", "reader": VPCD_READER, "trust_store": TRUST})
    try:
        r = reader.read(AccessKey.from_qr(qr_of("cancuoc2024")), groups=("DG1", "DG2", "DG13"))
    finally:
        reader.close()
    assert r.access_control == "PACE" and r.verified
    check_person(r.person, "cancuoc2024")
    check_mrz(r.mrz, "cancuoc2024")
    assert r.photo_jpeg[:3] == b"\xff\xd8\xff" and r.stats["face_image"]["conformant"]
