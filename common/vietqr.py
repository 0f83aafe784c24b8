"""The NAPAS VietQR payload: the text inside the QR code a citizen's bank app scans to pay a fee.

VietQR is EMVCo's merchant-presented QR (MPM) with NAPAS's account template: a chain of
ID (2 digits) + length (2 digits) + value objects, closed by a CRC-16/CCITT-FALSE of everything
before the CRC's value. Field by field, as NAPAS's VietQR specification (v1.0, September 2021,
§6.1.3 "chuyển nhanh đến tài khoản") lays them out:

    00 "01"            payload format indicator
    01 "12"            point of initiation: dynamic (a code for one payment, its amount set)
    38 …               consumer-to-merchant account information:
        00 "A000000727"    NAPAS's AID
        01 …               beneficiary organisation: 00 bank BIN (6 digits), 01 account number
        02 "QRIBFTTA"      service: NAPAS 247 fast transfer to an account
    53 "704"           currency: Vietnamese đồng
    54 amount          whole đồng, no separators, at most 13 digits
    58 "VN"            country
    59, 60             merchant name and city (optional; NAPAS's own example leaves them out)
    62 …               additional data: 01 bill number, 08 purpose of the transfer
    63 CRC             4 uppercase hex digits

Pure and without I/O (``common`` imports nothing of the project): the kiosk draws the code, the
central system and the tests read it back with ``parse_payload``.
"""
from __future__ import annotations

import re

from common.errors import BilingualError

NAPAS_AID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY = "VN"
MAX_AMOUNT_DIGITS = 13
MAX_BILL_CHARS = 25  # the additional data's bill number and purpose (EMVCo: up to 25 each)
MAX_ACCOUNT_CHARS = 19
MAX_NAME_CHARS = 25  # EMVCo 59
MAX_CITY_CHARS = 15  # EMVCo 60

_BIN_RX = re.compile(r"[0-9]{6}")
_ACCOUNT_RX = re.compile(r"[0-9A-Za-z]{1,19}")
# printable ASCII: bank apps show anything else as "?" or refuse the code; Vietnamese is written
# without diacritics here ("Le phi chung thuc"), as on every bank transfer
_ASCII_RX = re.compile(r"[\x20-\x7e]*")


class VietQRError(BilingualError, ValueError):
    """A value that cannot go into a VietQR code, or a payload that is not one. Messages name the
    field, never its value (a payload may carry an account number)."""

    code = "vietqr"


def _bad(field: str, en: str, vi: str) -> VietQRError:
    return VietQRError(en=f"{field}: {en}", vi=vi, code=f"bad_{field}")


def crc16(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) as 4
    uppercase hex digits: "123456789" → "29B1"."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    if not 1 <= len(value) <= 99:
        raise VietQRError(en=f"field {tag}: 1 to 99 characters", vi="Dữ liệu mã QR quá dài.", code="bad_length")
    return f"{tag}{len(value):02d}{value}"


def _ascii(value: object, field: str, limit: int, vi_name: str) -> str:
    if not isinstance(value, str):
        raise _bad(field, "must be text", f"{vi_name} phải là chữ.")
    if len(value) > limit:
        raise _bad(field, f"at most {limit} characters", f"{vi_name} dài quá {limit} ký tự.")
    if not _ASCII_RX.fullmatch(value):
        raise _bad(field, "ASCII letters, digits and punctuation only (no diacritics)",
                   f"{vi_name} chỉ được dùng chữ không dấu, chữ số và dấu câu.")
    return value


def check_amount(amount: object) -> int:
    """A fee as the code carries it: a whole number of đồng, more than 0, at most 13 digits."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise _bad("amount", "a whole number of dong", "Số tiền phải là số nguyên (đồng).")
    if amount <= 0 or len(str(amount)) > MAX_AMOUNT_DIGITS:
        raise _bad("amount", f"more than 0 and at most {MAX_AMOUNT_DIGITS} digits",
                   f"Số tiền phải lớn hơn 0 và không quá {MAX_AMOUNT_DIGITS} chữ số.")
    return amount


def build_payload(bank_bin: str, account: str, amount: int, bill: str, purpose: str = "", merchant_name: str = "",
                  merchant_city: str = "") -> str:
    """The payload of a dynamic VietQR code that pays ``amount`` đồng into ``account`` at the bank
    ``bank_bin``, carrying ``bill`` (the dossier code: the one payment reference of a dossier) as
    the bill number and ``purpose`` as the transfer's purpose (what the payer's app shows).
    Raises ``VietQRError`` (a ValueError) for a value the code cannot carry."""
    if not isinstance(bank_bin, str) or not _BIN_RX.fullmatch(bank_bin):
        raise _bad("bank_bin", "6 digits (the bank's NAPAS BIN, e.g. 970415)",
                   "Mã ngân hàng (BIN) phải gồm 6 chữ số.")
    if not isinstance(account, str) or not _ACCOUNT_RX.fullmatch(account):
        raise _bad("account", f"1 to {MAX_ACCOUNT_CHARS} letters or digits",
                   f"Số tài khoản phải gồm 1 đến {MAX_ACCOUNT_CHARS} chữ số hoặc chữ cái.")
    amount = check_amount(amount)
    bill = _ascii(bill, "bill", MAX_BILL_CHARS, "Mã thanh toán")
    purpose = _ascii(purpose, "purpose", MAX_BILL_CHARS, "Nội dung chuyển khoản")
    merchant_name = _ascii(merchant_name, "merchant_name", MAX_NAME_CHARS, "Tên đơn vị nhận")
    merchant_city = _ascii(merchant_city, "merchant_city", MAX_CITY_CHARS, "Tỉnh/thành của đơn vị nhận")
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    account_info = _tlv("00", NAPAS_AID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TO_ACCOUNT)
    out = _tlv("00", "01") + _tlv("01", "12") + _tlv("38", account_info)
    out += _tlv("53", CURRENCY_VND) + _tlv("54", str(amount)) + _tlv("58", COUNTRY)
    if merchant_name:
        out += _tlv("59", merchant_name)
    if merchant_city:
        out += _tlv("60", merchant_city)
    extra = (_tlv("01", bill) if bill else "") + (_tlv("08", purpose) if purpose else "")
    if extra:
        out += _tlv("62", extra)
    out += "6304"
    return out + crc16(out.encode("ascii"))


def _objects(text: str, where: str) -> dict[str, str]:
    """ID → value of one level of ID/length/value objects; a malformed chain raises."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        head = text[i:i + 4]
        if len(head) < 4 or not head.isdigit():
            raise VietQRError(en=f"{where}: malformed object at character {i}", vi="Mã QR không đúng định dạng VietQR.",
                              code="malformed")
        tag, length = head[:2], int(head[2:])
        value = text[i + 4:i + 4 + length]
        if length == 0 or len(value) != length:
            raise VietQRError(en=f"{where}: object {tag} is cut short", vi="Mã QR không đúng định dạng VietQR.",
                              code="malformed")
        if tag in out:
            raise VietQRError(en=f"{where}: object {tag} twice", vi="Mã QR không đúng định dạng VietQR.", code="malformed")
        out[tag] = value
        i += 4 + length
    return out


def parse_payload(text: str) -> dict:
    """Read a VietQR payload back: checks the CRC and the NAPAS template, and returns
    ``{"initiation": "dynamic"|"static", "bank_bin", "account", "service", "currency", "amount"
    (int or None), "country", "bill", "purpose", "merchant_name", "merchant_city", "crc"}``.
    Raises ``VietQRError`` (a ValueError) with a plain message otherwise."""
    if not isinstance(text, str) or not text.isascii():
        raise VietQRError(en="not a VietQR payload (ASCII text)", vi="Mã QR không phải mã VietQR.", code="malformed")
    if len(text) < 8 or text[-8:-4] != "6304":
        raise VietQRError(en="no CRC (object 63) at the end", vi="Mã QR không phải mã VietQR.", code="malformed")
    if crc16(text[:-4].encode("ascii")) != text[-4:].upper():
        raise VietQRError(en="the CRC does not match: the code is damaged or was changed",
                          vi="Mã QR bị hỏng hoặc đã bị sửa (sai mã kiểm tra).", code="bad_crc")
    root = _objects(text, "payload")
    if root.get("00") != "01":
        raise VietQRError(en="payload format indicator (00) is not 01", vi="Mã QR không phải mã VietQR.", code="malformed")
    info = _objects(root.get("38", ""), "38")
    if info.get("00") != NAPAS_AID:
        raise VietQRError(en="no NAPAS account information (38 with A000000727)", vi="Mã QR không phải mã VietQR.",
                          code="not_napas")
    beneficiary = _objects(info.get("01", ""), "38.01")
    extra = _objects(root.get("62", ""), "62")
    amount = root.get("54")
    if amount is not None and not amount.isdigit():  # EMVCo allows "12.50"; đồng have no decimals
        raise VietQRError(en="amount (54) is not a whole number of dong", vi="Số tiền trong mã QR không hợp lệ.",
                          code="bad_amount")
    return {
        "initiation": {"11": "static", "12": "dynamic"}.get(root.get("01", ""), root.get("01", "")),
        "bank_bin": beneficiary.get("00", ""), "account": beneficiary.get("01", ""), "service": info.get("02", ""),
        "currency": root.get("53", ""), "amount": int(amount) if amount is not None else None, "country": root.get("58", ""),
        "bill": extra.get("01", ""), "purpose": extra.get("08", ""),
        "merchant_name": root.get("59", ""), "merchant_city": root.get("60", ""), "crc": text[-4:],
    }
