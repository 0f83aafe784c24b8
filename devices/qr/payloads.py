"""Pure parsers for the QR payloads the kiosk understands; no I/O, no logging.

* the citizen ID card (CCCD) QR — 2021 layout
  ``ID12|oldCMND9|Họ tên|DDMMYYYY|Nam/Nữ|Địa chỉ|DDMMYYYY`` (old ID may be empty) and, defensively,
  the 2024 card whose layout is not confirmed: we split on ``|``, validate the 12-digit ID and every
  date we rely on, and never assume a field count;
* our own receipt QR ``KIOSKVN2|code|secret|procedure|YYYY-MM-DDTHH:MM|YYYY-MM-DD``: what the
  lookup needs and nothing personal (anyone who photographs a receipt reads its QR). Receipts
  printed before it carried the applicant's ID number (``KIOSKVN1|…|applicant_id|…``): still read,
  and the number is dropped at once;
* the procedure QR ``kiosk://flow/<flow_id>`` printed on leaflets and posters;
* the Giấy chứng sinh (hospital birth certificate) record, see :func:`parse_birth_certificate`:
  what a QR on a real certificate holds is NOT published (see there); we read only the one
  documented electronic form of the certificate's data and otherwise the citizen types.

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
    "PayloadError", "CccdQr", "ReceiptQr", "ProcedureQr", "BirthCertificateQr",
    "parse_cccd", "build_receipt_qr", "parse_receipt", "parse_procedure", "parse_any", "as_text",
    "parse_birth_certificate", "build_birth_certificate_qr",
]

RECEIPT_PREFIX = "KIOSKVN2"
LEGACY_RECEIPT_PREFIX = "KIOSKVN1"   # held the applicant's ID number: read, never written
_MAX_LEN = 2048  # a version-40 QR holds < 3 kB; anything longer is not one of ours


class PayloadError(BilingualError, ValueError):
    """A QR payload we cannot use. ``code`` is stable for programs; messages are for people."""


_NOT_CCCD = dict(code="not_cccd", en="this is not the QR code of a Vietnamese citizen ID card",
                 vi="Mã QR này không phải mã QR trên thẻ căn cước. Vui lòng đưa mã QR ở mặt thẻ căn cước.")


def as_text(payload, multiline: bool = False) -> str:
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
    # an XML record may be laid out on several lines: line breaks and tabs are text there
    allowed = "\n\r\t" if multiline else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
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


# --- Giấy chứng sinh (hospital birth certificate) ---------------------------------------------
# What we could and could not find (searched 2027: Bộ Y tế circulars, the "liên thông khai sinh"
# service, hospital-software sources):
#
# * The paper form (Thông tư 17/2012/TT-BYT, mẫu of Thông tư 27/2019/TT-BYT; Thông tư
#   22/2025/TT-BYT, mẫu số 01 from 1 October 2025) is a printed form with the mother, the father,
#   the child's sex, weight, date and hour of birth, the place, and "Dự định đặt tên con" (the
#   intended name). No published text we found defines a QR code on it, nor what one would hold.
#   Hospitals that print a QR today print their own (often a link to their portal): NOT PUBLISHED,
#   so not guessed at here.
# * What IS published is the electronic record of the same certificate that every hospital sends
#   to the social-insurance gateway (the "giấy chứng sinh điện tử" the liên thông khai sinh uses):
#   Quyết định 130/QĐ-BYT (2023), amended by Quyết định 4750/QĐ-BYT, bảng 9 "Chỉ tiêu dữ liệu
#   giấy chứng sinh" (XML9): root CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH > DSACH_GIAYCHUNGSINH >
#   DU_LIEU_GIAY_CHUNG_SINH, with HO_TEN_CON (intended name, may be empty), GIOI_TINH_CON
#   (1 Nam, 2 Nữ, 3 chưa xác định), NGAY_SINH_CON (yyyymmddHHMM), HO_TEN_NND / NGAYSINH_NND
#   (yyyymmdd) / SO_CCCD_NND (the mother), NOI_SINH_CON, SO, QUYEN_SO, NGAY_CT (yyyymmdd).
#
# So the kiosk reads exactly that record when a QR carries it (one DU_LIEU_GIAY_CHUNG_SINH, with or
# without its two wrappers) and nothing else: any other payload gets a plain "please type it"
# answer, and the citizen types the child's data as before. Only the fields the form needs are
# kept; the record's other fields (insurance numbers, staff names) are ignored, never stored.

_GCS_ROOT, _GCS_LIST, _GCS_RECORD = "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DSACH_GIAYCHUNGSINH", "DU_LIEU_GIAY_CHUNG_SINH"
_GCS_SEX = {"1": "nam", "2": "nu", "3": None}

_NOT_GCS = dict(code="not_birth_certificate",
                en="this QR code does not hold a birth certificate record (QĐ 130/QĐ-BYT, XML9); type the child's data",
                vi="Máy không đọc được thông tin trẻ từ mã QR này. Quý khách vui lòng nhập thông tin của trẻ trên màn hình.")


def _bad_gcs(what_en: str, what_vi: str) -> PayloadError:
    return PayloadError(code="bad_birth_certificate", en=f"the birth certificate QR has an invalid {what_en}",
                        vi=f"{what_vi} trong mã QR của Giấy chứng sinh không hợp lệ. "
                           "Xin Quý khách kiểm tra lại hoặc nhập trên màn hình.")


@dataclass(frozen=True)
class BirthCertificateQr:
    """What a birth certificate record gives the khai sinh form. ``sex`` is "nam", "nu" or None
    (chưa xác định); names are "" when the record leaves them empty (the intended name is optional)."""

    full_name: str                # HO_TEN_CON, the intended name ("" when not chosen yet)
    surname: str                  # its first word (họ)
    given_names: str              # the rest (chữ đệm và tên)
    birth_date: date
    birth_time: str | None        # "HH:MM"
    sex: str | None
    mother_full_name: str
    mother_birth_date: date | None
    mother_id_number: str | None
    birth_place: str              # NOI_SINH_CON: the facility and its place
    certificate_number: str       # SO / QUYEN_SO as printed
    book_number: str
    issue_date: date | None

    def __repr__(self) -> str:  # personal data never lands in a log or a traceback by accident
        return f"BirthCertificateQr(named={bool(self.full_name)}, sex_known={self.sex is not None})"

    __str__ = __repr__

    @property
    def birth_date_iso(self) -> str:
        return self.birth_date.isoformat()


_NAME_RX = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")


def _gcs_name(value: str, what_en: str, what_vi: str) -> str:
    value = " ".join(value.split())
    if value and (len(value) > 100 or not _NAME_RX.fullmatch(value)):
        raise _bad_gcs(what_en, what_vi)
    return value


def _gcs_date(value: str, what_en: str, what_vi: str, with_time: bool = False) -> tuple[date, str | None]:
    """yyyymmdd, or yyyymmddHHMM where ``with_time`` (the standard's NGAY_SINH_CON)."""
    value = value.strip()
    if not (re.fullmatch(r"\d{8}", value) or (with_time and re.fullmatch(r"\d{12}", value))):
        raise _bad_gcs(what_en, what_vi)
    try:
        d = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        hhmm = None
        if len(value) == 12:
            hh, mm = int(value[8:10]), int(value[10:12])
            if hh > 23 or mm > 59:
                raise ValueError
            hhmm = f"{hh:02d}:{mm:02d}"
    except ValueError:
        raise _bad_gcs(what_en, what_vi) from None
    if not 1900 <= d.year <= 2100:
        raise _bad_gcs(what_en, what_vi)
    return d, hhmm


def parse_birth_certificate(payload) -> BirthCertificateQr:
    """A birth certificate record (QĐ 130/QĐ-BYT bảng 9, XML9; see the notes above) → the child's
    name, date of birth and sex, and the mother's name, date of birth and ID number to check it
    against the form. Refuses everything else with a :class:`PayloadError` that tells the citizen
    to type; never raises anything else, whatever the bytes."""
    import xml.etree.ElementTree as ET

    text = as_text(payload, multiline=True)
    if not text.startswith("<") or _GCS_RECORD not in text:
        raise PayloadError(**_NOT_GCS)
    # no document type, no entities: nothing in a scanned code may make the parser fetch or expand
    # (CDATA sections are fine: some hospital systems write every field in one)
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.I):
        raise PayloadError(code="bad_birth_certificate", en="the birth certificate QR holds a DTD or entity declarations",
                           vi="Mã QR của Giấy chứng sinh không hợp lệ. Quý khách vui lòng nhập trên màn hình.")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)  # the declaration names an encoding we already decoded
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError):
        raise PayloadError(code="bad_birth_certificate", en="the birth certificate QR is not well-formed XML",
                           vi="Mã QR của Giấy chứng sinh bị hỏng hoặc không đầy đủ. Quý khách vui lòng quét lại hoặc nhập trên màn hình.") from None
    if root.tag == _GCS_RECORD:
        records = [root]
    elif root.tag in (_GCS_ROOT, _GCS_LIST):
        records = root.findall(f".//{_GCS_RECORD}")
    else:
        raise PayloadError(**_NOT_GCS)
    if len(records) != 1:
        # several children (twins) on one record list: which one is this paper? Let the citizen say.
        raise PayloadError(code="several_children", en=f"the birth certificate QR holds {len(records)} records, not one",
                           vi="Mã QR này có thông tin của nhiều trẻ. Quý khách vui lòng nhập thông tin của trẻ trên màn hình.")
    rec = records[0]

    def get(tag: str) -> str:
        el = rec.find(tag)
        if el is not None and len(el):
            raise _bad_gcs(tag, "Thông tin")  # a field with child elements is not the standard's
        return (el.text or "").strip() if el is not None else ""

    full = _gcs_name(get("HO_TEN_CON"), "child's name", "Họ tên của trẻ")
    sex_code = get("GIOI_TINH_CON")
    if sex_code not in _GCS_SEX:
        raise _bad_gcs("child's sex (GIOI_TINH_CON)", "Giới tính của trẻ")
    born_s = get("NGAY_SINH_CON")
    if not born_s:
        raise _bad_gcs("date of birth (NGAY_SINH_CON)", "Ngày sinh của trẻ")
    born, at = _gcs_date(born_s, "date of birth (NGAY_SINH_CON)", "Ngày sinh của trẻ", with_time=True)
    mother = _gcs_name(get("HO_TEN_NND"), "mother's name", "Họ tên của mẹ")
    mother_birth = _gcs_date(get("NGAYSINH_NND"), "mother's date of birth", "Ngày sinh của mẹ")[0] if get("NGAYSINH_NND") else None
    mother_id = get("SO_CCCD_NND") or None
    if mother_id is not None and not (_ID_RX.fullmatch(mother_id) or _OLD_ID_RX.fullmatch(mother_id)):
        mother_id = None  # the standard allows a passport number here: not ours to check, not kept
    issued = _gcs_date(get("NGAY_CT"), "issue date (NGAY_CT)", "Ngày cấp")[0] if get("NGAY_CT") else None
    if issued is not None and issued < born:
        raise _bad_gcs("issue date (before the birth)", "Ngày cấp")
    if mother_birth is not None and mother_birth >= born:
        raise _bad_gcs("mother's date of birth (after the child's)", "Ngày sinh của mẹ")
    place = " ".join(get("NOI_SINH_CON").split())[:300]
    surname, _, given = full.partition(" ")
    return BirthCertificateQr(full, surname, given, born, at, _GCS_SEX[sex_code], mother, mother_birth, mother_id,
                              place, get("SO")[:50], get("QUYEN_SO")[:50], issued)


def build_birth_certificate_qr(record: dict[str, str]) -> str:
    """The XML9 record for ``record`` (tag → text), in its two wrappers: the simulated hospital's
    code (devices.qr.samples) and the tests. Escapes the text; checks the result with the parser."""
    from xml.sax.saxutils import escape

    inner = "".join(f"<{tag}>{escape(str(value))}</{tag}>" for tag, value in record.items())
    text = f"<{_GCS_ROOT}><{_GCS_LIST}><{_GCS_RECORD}>{inner}</{_GCS_RECORD}></{_GCS_LIST}></{_GCS_ROOT}>"
    parse_birth_certificate(text)
    return text


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
