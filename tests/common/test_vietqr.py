"""common.vietqr: the VietQR payload byte for byte against published examples, its CRC, and the
values it refuses."""
from __future__ import annotations

import pytest

from common import vietqr
from common.vietqr import VietQRError, build_payload, crc16, parse_payload

# NAPAS's own example of a dynamic code paying 180,000 đ to an account, with a bill number and a
# purpose: "Quy định kỹ thuật mã QR hiển thị cho dịch vụ chuyển nhanh NAPAS247 (VietQR)", NAPAS,
# version 1.0, September 2021, §6.1.3, pp. 31–32 (bank BIN 970403, account 0011012345678, bill
# "NPS6869", purpose "thanh toan don hang"). The same string, CRC 2E2E, is the compliance vector
# of several public implementations (a TypeScript "vietqr" library cites it as the NAPAS IBFT
# v1.5.2 example; a PHP one and a Go one test against it).
NAPAS_EXAMPLE = ("00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
                 "62340107NPS68690819thanh toan don hang63042E2E")
# vietqr.io's published "API tạo mã QR" example (https://www.vietqr.io/danh-sach-api/link-tao-ma-nhanh/api-tao-ma-qr/):
# 79,000 đ to 113366668888 at 970415, purpose "Ung Ho Quy Vac Xin", no bill number
VIETQR_IO_EXAMPLE = ("00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA53037045405790005802VN"
                     "62220818Ung Ho Quy Vac Xin63043ACF")
# github.com/subiz/vietqr README: 120,000 đ to 0011001932418 at 970415, purpose "ung ho lu lut"
SUBIZ_EXAMPLE = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN"
                 "62170813ung ho lu lut6304C15C")


def test_napas_specification_example_byte_for_byte():
    assert build_payload("970403", "0011012345678", 180000, "NPS6869", "thanh toan don hang") == NAPAS_EXAMPLE


def test_other_published_examples_byte_for_byte():
    assert build_payload("970415", "113366668888", 79000, "", "Ung Ho Quy Vac Xin") == VIETQR_IO_EXAMPLE
    assert build_payload("970415", "0011001932418", 120000, "", "ung ho lu lut") == SUBIZ_EXAMPLE


def test_crc16_ccitt_false_check_values():
    # the catalogue check value of CRC-16/CCITT-FALSE, and the empty input (the initial value)
    assert crc16(b"123456789") == "29B1"
    assert crc16(b"") == "FFFF"
    assert crc16(NAPAS_EXAMPLE[:-4].encode()) == "2E2E"
    assert crc16(b"\x00") == "E1F0"  # zero-padded uppercase hex


def test_parse_reads_the_napas_example():
    got = parse_payload(NAPAS_EXAMPLE)
    assert got == {"initiation": "dynamic", "bank_bin": "970403", "account": "0011012345678", "service": "QRIBFTTA",
                   "currency": "704", "amount": 180000, "country": "VN", "bill": "NPS6869",
                   "purpose": "thanh toan don hang", "merchant_name": "", "merchant_city": "", "crc": "2E2E"}


def test_round_trip_with_a_dossier_code_and_merchant():
    code = "01.00004-261204-0007"
    text = build_payload("970415", "113366668888", 4000, code, "HS " + code, "UBND PHUONG BA DINH", "HA NOI")
    got = parse_payload(text)
    assert (got["bill"], got["purpose"], got["amount"]) == (code, "HS " + code, 4000)
    assert (got["merchant_name"], got["merchant_city"]) == ("UBND PHUONG BA DINH", "HA NOI")
    # the order of the root objects is the specification's: 59/60 after 58, 62 before the CRC
    assert text.index("5802VN") < text.index("5919UBND") < text.index("6006HA NOI") < text.index("6251") < text.index("6304")


def test_parse_refuses_a_changed_code():
    changed = NAPAS_EXAMPLE.replace("180000", "980000")
    with pytest.raises(VietQRError) as err:
        parse_payload(changed)
    assert err.value.code == "bad_crc" and "sai mã kiểm tra" in err.value.message_vi
    with pytest.raises(ValueError):  # what the contract promises callers
        parse_payload(NAPAS_EXAMPLE[:-8])
    for junk in ("", "6304", "hello world 6304ABCD", "Trần 6304FFFF", None, 12):
        with pytest.raises(ValueError):
            parse_payload(junk)


def test_parse_refuses_a_valid_crc_over_a_broken_template():
    body = "000201010212" + "3810" + "0010A00000" + "6304"  # 38 cut short; CRC computed over it anyway
    with pytest.raises(VietQRError) as err:
        parse_payload(body + crc16(body.encode()))
    assert err.value.code == "malformed"
    not_napas = "000201010212" + "38140010A000000999" + "6304"
    with pytest.raises(VietQRError) as err:
        parse_payload(not_napas + crc16(not_napas.encode()))
    assert err.value.code == "not_napas"


@pytest.mark.parametrize("amount", [0, -1, 10 ** 13, 1.5, "4000", True, None])
def test_amounts_are_whole_dong_above_zero_at_most_13_digits(amount):
    with pytest.raises(VietQRError) as err:
        build_payload("970415", "113366668888", amount, "X")
    assert err.value.code == "bad_amount"


def test_largest_amount():
    text = build_payload("970415", "113366668888", 10 ** 13 - 1, "X")
    assert parse_payload(text)["amount"] == 9_999_999_999_999


@pytest.mark.parametrize("bill", ["A" * 26, "Trần", "01.00004\n", "phí"])
def test_bill_is_at_most_25_ascii_characters(bill):
    with pytest.raises(VietQRError) as err:
        build_payload("970415", "113366668888", 4000, bill)
    assert err.value.code == "bad_bill"
    assert bill not in str(err.value)  # messages name the field, never the value


def test_bill_of_exactly_25_characters_and_no_bill():
    assert parse_payload(build_payload("970415", "1", 1, "B" * 25))["bill"] == "B" * 25
    text = build_payload("970415", "1", 1, "")
    assert "62" not in parse_payload(text)["bill"] and "6304" in text and parse_payload(text)["purpose"] == ""


@pytest.mark.parametrize("bank_bin,account,field", [
    ("97041", "1", "bank_bin"), ("97041A", "1", "bank_bin"), (970415, "1", "bank_bin"),
    ("970415", "", "account"), ("970415", "1" * 20, "account"), ("970415", "12 34", "account"),
])
def test_bank_and_account_checked(bank_bin, account, field):
    with pytest.raises(VietQRError) as err:
        build_payload(bank_bin, account, 1000, "X")
    assert err.value.code == f"bad_{field}"


def test_purpose_and_merchant_fields_checked():
    with pytest.raises(VietQRError):
        build_payload("970415", "1", 1, "X", purpose="p" * 26)
    with pytest.raises(VietQRError):
        build_payload("970415", "1", 1, "X", merchant_name="Ủy ban")
    with pytest.raises(VietQRError):
        build_payload("970415", "1", 1, "X", merchant_city="C" * (vietqr.MAX_CITY_CHARS + 1))
