"""Pure parsers for the QR payloads the kiosk understands; no I/O, no logging.

* the citizen ID card (CCCD) QR — 2021 layout
  ``ID12|oldCMND9|Họ tên|DDMMYYYY|Nam/Nữ|Địa chỉ|DDMMYYYY`` (old ID may be empty) and, defensively,
  the 2024 card whose layout is not confirmed: we split on ``|``, validate the 12-digit ID and every
  date we rely on, and never assume a field count;
* our own receipt QR ``KIOSKVN2|code|secret|procedure|YYYY-MM-DDTHH:MM|YYYY-MM-DD``: what the
  lookup needs and nothing personal (anyone who photographs a receipt reads its QR). Receipts
  printed before it carried the applicant's ID number (``KIOSKVN1|…|applicant_id|…``): still read,
  and the number is dropped at once;
* the procedure QR ``kiosk://flow/<flow_id>`` printed on leaflets and posters.

Every failure is a :class:`PayloadError` (a ``ValueError``) with a plain Vietnamese message for the
citizen and an English one for the technician. Messages never repeat the payload: it is personal.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from common.errors import BilingualError

__all__ = [
    "PayloadError", "CccdQr", "ReceiptQr", "ProcedureQr",
    "parse_cccd", "build_receipt_qr", "parse_receipt", "parse_procedure", "parse_any", "as_text",
]

RECEIPT_PREFIX = "KIOSKVN2"
LEGACY_RECEIPT_PREFIX = "KIOSKVN1"   # held the applicant's ID number: read, never written
_MAX_LEN = 2048  # a version-40 QR holds < 3 kB; anything longer is not one of ours


class PayloadError(BilingualError, ValueError):
    """A QR payload we cannot use. ``code`` is stable for programs; messages are for people."""


_NOT_CCCD = dict(code="not_cccd", en="this is not the QR code of a Vietnamese citizen ID card",
                 vi="Mã QR này không phải mã QR trên thẻ căn cước. Vui lòng đưa mã QR ở mặt thẻ căn cước.")


def as_text(payload) -> str:
    """Payload → NFC text. ``payload``: text; bytes, which must be UTF-8 (anything else would show
    citizens garbled letters); or a decoded code (``devices.qr.Decoded``), whose ``text`` is set
    only when its character set is certain (``devices.qr.charset``), so a Shift_JIS or GB2312 code
    is read in its own charset and a code of unknown charset is refused."""
    if hasattr(payload, "text") and hasattr(payload, "data"):
        if payload.text is None:
            raise PayloadError(code="unknown_charset", en="the QR code's character set is not certain: it has no text",
                               vi="Không đọc được nội dung mã QR này.")
        payload = payload.text
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError(code="not_utf8", en="the QR payload is not valid UTF-8 text",
                               vi="Không đọc được nội dung mã QR. Vui lòng thử lại.") from None
    if not isinstance(payload, str):
        raise PayloadError(code="not_text", en="the QR payload must be text or bytes", vi="Không đọc được nội dung mã QR.")
    text = unicodedata.normalize("NFC", payload.lstrip("\ufeff")).strip("\r\n\t ")
    if not text:
        raise PayloadError(code="empty", en="the QR payload is empty", vi="Mã QR không có nội dung. Vui lòng thử lại.")
    if len(text) > _MAX_LEN:
        raise PayloadError(code="too_long", en="the QR payload is too long", vi="Mã QR không hợp lệ.")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise PayloadError(code="control_chars", en="the QR payload holds control characters",
                           vi="Mã QR không hợp lệ. Vui lòng thử lại.")
    return text


# --- CCCD ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CccdQr:
    """What the ID card's QR tells us. ``layout`` is "2021" or "2024" (best effort, see module doc)."""

    id_number: str
    old_id_number: str | None
    full_name: str
    date_of_birth: date
    sex: str                      # "Nam" | "Nữ"
    residence: str
    issue_date: date | None
    layout: str
    fields: tuple[str, ...] = field(repr=False, default=())  # every raw field, for later use

    def __repr__(self) -> str:  # never print personal data by accident (logs, tracebacks)
        return f"CccdQr(layout={self.layout!r}, fields={len(self.fields)})"

    __str__ = __repr__


_ID_RX = re.compile(r"\d{12}")
_OLD_ID_RX = re.compile(r"\d{9}")
_DATE_RX = re.compile(r"\d{8}")
_SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}


def _ddmmyyyy(value: str, what_en: str, what_vi: str) -> date:
    if not _DATE_RX.fullmatch(value):
        raise PayloadError(code="bad_date", en=f"the {what_en} in the ID card QR is not a date (DDMMYYYY)",
                           vi=f"{what_vi} trong mã QR thẻ căn cước không hợp lệ.")
    try:
        d = date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError:
        raise PayloadError(code="bad_date", en=f"the {what_en} in the ID card QR is not a real date",
                           vi=f"{what_vi} trong mã QR thẻ căn cước không hợp lệ.") from None
    if not 1900 <= d.year <= 2100:
        raise PayloadError(code="bad_date", en=f"the {what_en} in the ID card QR is out of range",
                           vi=f"{what_vi} trong mã QR thẻ căn cước không hợp lệ.")
    return d


def _check_id(id_number: str, birth: date, sex: str) -> None:
    """The 12-digit number encodes the province, the century+sex digit and the birth year
    (Circular 59/2021/TT-BCA): a mismatch means a misread or a forged code."""
    province = int(id_number[:3])
    if not 1 <= province <= 96:
        raise PayloadError(code="bad_id", en="the ID number in the QR has an unknown province code",
                           vi="Số định danh trong mã QR không hợp lệ.")
    digit = int(id_number[3])
    century = 1900 + 100 * (digit // 2)
    female = digit % 2 == 1
    if century + int(id_number[4:6]) != birth.year or female != (sex == "Nữ"):
        raise PayloadError(code="id_mismatch", en="the ID number in the QR does not match the date of birth or sex",
                           vi="Số định danh không khớp với ngày sinh hoặc giới tính trong mã QR.")


def _check_name(name: str) -> str:
    if not name or any(ch.isdigit() for ch in name) or len(name) > 100:
        raise PayloadError(code="bad_name", en="the name in the ID card QR is missing or not a name",
                           vi="Họ tên trong mã QR thẻ căn cước không hợp lệ.")
    return name


def _sex(value: str) -> str:
    sex = _SEXES.get(value.casefold())
    if sex is None:
        raise PayloadError(code="bad_sex", en="the sex in the ID card QR is neither Nam nor Nữ",
                           vi="Giới tính trong mã QR thẻ căn cước không hợp lệ.")
    return sex


def _check_old_id(old: str) -> None:
    if old and not _OLD_ID_RX.fullmatch(old) and not _ID_RX.fullmatch(old):
        raise PayloadError(code="bad_old_id", en="the old ID number in the QR is neither 9 nor 12 digits",
                           vi="Số chứng minh nhân dân cũ trong mã QR không hợp lệ.")


def _parse_2021(parts: list[str]) -> CccdQr:
    id_number, old, name, birth_s, sex_s, residence, issue_s = parts
    _check_old_id(old)
    _check_name(name)
    birth = _ddmmyyyy(birth_s, "date of birth", "Ngày sinh")
    sex = _sex(sex_s)
    if not residence:
        raise PayloadError(code="bad_address", en="the address in the ID card QR is empty",
                           vi="Địa chỉ trong mã QR thẻ căn cước bị thiếu.")
    _check_id(id_number, birth, sex)
    issue = _ddmmyyyy(issue_s, "issue date", "Ngày cấp")
    return CccdQr(id_number, old or None, name, birth, sex, residence, issue, "2021", tuple(parts))


def _parse_other(parts: list[str]) -> CccdQr:
    """Any other field count (the 2024 card, unconfirmed): find each field by what it looks like,
    in order, instead of by position; validate everything we return."""
    id_number = parts[0]
    rest = parts[1:]
    old = next((p for p in rest[:2] if _OLD_ID_RX.fullmatch(p)), "")
    dates: list[tuple[int, date]] = []
    for i, p in enumerate(rest):
        if _DATE_RX.fullmatch(p):
            try:
                dates.append((i, _ddmmyyyy(p, "date", "Ngày tháng")))
            except PayloadError:
                continue  # an 8-digit field that is no date; the birth date is checked below
    sex_at = next((i for i, p in enumerate(rest) if p.casefold() in _SEXES), None)
    name_at = next((i for i, p in enumerate(rest) if p and p.casefold() not in _SEXES
                    and re.fullmatch(r"[^\W\d_]+(?: [^\W\d_]+)+", p)), None)
    if not dates or sex_at is None or name_at is None:
        raise PayloadError(**_NOT_CCCD)
    name = _check_name(rest[name_at])
    birth_at, birth = dates[0]
    sex = _sex(rest[sex_at])
    _check_id(id_number, birth, sex)
    # the address: the first longer text after the sex field (it holds commas or several words)
    taken = {name_at, sex_at, *(i for i, _ in dates)}
    residence = next((p for i, p in enumerate(rest) if i > sex_at and i not in taken
                      and ("," in p or len(p.split()) >= 3)), "")
    issue = next((d for i, d in dates[1:] if d >= birth), None)
    return CccdQr(id_number, old or None, name, birth, sex, residence, issue, "2024", tuple(parts))


def parse_cccd(payload: bytes | str) -> CccdQr:
    """The ID card QR. Seven fields: the 2021 layout, by position. Any other count (the 2024 card,
    whose layout is not confirmed): fields are recognised by their shape (see ``_parse_other``);
    ``residence`` may then be "" and ``issue_date`` None. The ID must agree with birth year and sex."""
    text = as_text(payload)
    parts = [unicodedata.normalize("NFC", p).strip() for p in text.split("|")]
    if len(parts) < 4 or not _ID_RX.fullmatch(parts[0]):
        raise PayloadError(**_NOT_CCCD)
    result = _parse_2021(parts) if len(parts) == 7 else _parse_other(parts)
    if result.issue_date is not None and result.issue_date < result.date_of_birth:
        raise PayloadError(code="bad_date", en="the issue date in the ID card QR is before the date of birth",
                           vi="Ngày cấp trong mã QR thẻ căn cước không hợp lệ.")
    return result


# --- receipt ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiptQr:
    dossier_code: str
    lookup_secret: str            # "" on a provisional receipt (central was unreachable)
    procedure_code: str
    received_at: datetime         # local time, minute precision, naive
    appointment: date

    @property
    def provisional(self) -> bool:
        return not self.lookup_secret

    def __repr__(self) -> str:
        return f"ReceiptQr(dossier_code={self.dossier_code!r}, provisional={self.provisional})"


_CODE_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SECRET_RX = re.compile(r"[A-Za-z0-9_-]{0,128}")
_PROC_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")

_BAD_RECEIPT = dict(code="not_receipt", en="this is not a receipt QR code of this kiosk system",
                    vi="Mã QR này không phải mã trên phiếu hẹn của trung tâm. Vui lòng đưa mã QR trên phiếu hẹn.")


def build_receipt_qr(dossier_code: str, lookup_secret: str, procedure_code: str,
                     received_at: datetime, appointment: date) -> str:
    """The receipt payload; raises PayloadError (as the parser would) for a field it cannot hold."""
    text = "|".join([RECEIPT_PREFIX, dossier_code, lookup_secret or "", procedure_code,
                     received_at.strftime("%Y-%m-%dT%H:%M"), appointment.strftime("%Y-%m-%d")])
    parse_receipt(text)  # one definition of "valid", shared by both directions
    return text


def parse_receipt(payload: bytes | str) -> ReceiptQr:
    text = as_text(payload)
    parts = text.split("|")
    if parts[0] not in (RECEIPT_PREFIX, LEGACY_RECEIPT_PREFIX):
        raise PayloadError(**_BAD_RECEIPT)
    want = 6 if parts[0] == RECEIPT_PREFIX else 7
    if len(parts) != want:
        raise PayloadError(code="bad_receipt", en=f"a receipt QR has {want} fields, this one has {len(parts)}",
                           vi="Mã QR trên phiếu hẹn bị hỏng hoặc không đầy đủ.")
    if want == 7:  # an old receipt: check the ID number's form, then forget it
        applicant = parts.pop(4)
    else:
        applicant = None
    _, code, secret, proc, received, appointment = parts
    bad = lambda what: PayloadError(code="bad_receipt", en=f"the receipt QR has an invalid {what}",  # noqa: E731
                                    vi="Mã QR trên phiếu hẹn bị hỏng hoặc không đầy đủ.")
    if not _CODE_RX.fullmatch(code):
        raise bad("dossier code")
    if not _SECRET_RX.fullmatch(secret):
        raise bad("lookup secret")
    if not _PROC_RX.fullmatch(proc):
        raise bad("procedure code")
    if applicant is not None and not _ID_RX.fullmatch(applicant):
        raise bad("applicant ID")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", received):
            raise ValueError
        received_at = datetime.strptime(received, "%Y-%m-%dT%H:%M")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", appointment):
            raise ValueError
        appt = date.fromisoformat(appointment)
    except ValueError:
        raise bad("date") from None
    if appt < received_at.date():
        raise bad("appointment date (before the receipt date)")
    return ReceiptQr(code, secret, proc, received_at, appt)


# --- procedure -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcedureQr:
    flow_id: str


_FLOW_RX = re.compile(r"kiosk://flow/([a-z0-9][a-z0-9_-]{0,63})/?")


def parse_procedure(payload: bytes | str) -> ProcedureQr:
    text = as_text(payload)
    m = _FLOW_RX.fullmatch(text)
    if m is None:
        raise PayloadError(code="not_procedure", en="this is not a procedure QR code (kiosk://flow/<id>)",
                           vi="Mã QR này không mở được thủ tục nào trên máy. Vui lòng chọn thủ tục trên màn hình.")
    return ProcedureQr(m.group(1))


def parse_any(payload: bytes | str) -> CccdQr | ReceiptQr | ProcedureQr:
    """Whichever of our three payloads this is; the error of the most likely kind otherwise."""
    text = as_text(payload)
    if text.startswith((RECEIPT_PREFIX + "|", LEGACY_RECEIPT_PREFIX + "|")):
        return parse_receipt(text)
    if text.lower().startswith("kiosk://"):
        return parse_procedure(text)
    if _ID_RX.fullmatch(text.split("|", 1)[0]):
        return parse_cccd(text)
    raise PayloadError(code="unknown", en="this QR code is not one the kiosk understands",
                       vi="Máy không dùng được mã QR này. Vui lòng đưa mã QR trên thẻ căn cước, phiếu hẹn hoặc tờ hướng dẫn.")
