"""Receipt layout data from the shared dossier document (``kiosk-dossier/1``) and the central
system's answer, so every caller fills the paper the same way. Pure: no I/O.

The QR payload is passed in (built by ``devices.qr.payloads.build_receipt_qr``), so this module
does not depend on the QR package.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from common import clock
from common.money import fee_text

from .errors import LayoutError

# When a centre opens its counters, unless the kiosk says otherwise (``[kiosk] office_opens``):
# Vietnamese public offices open at 8 o'clock on a working day.
DEFAULT_OPENS = "08:00"


def format_fee(fee: dict[str, Any] | None) -> str:
    """The fee as the receipt prints it (Vietnamese): common.money.fee_text, the project's one formatter."""
    return fee_text(fee, "vi")


def _unit_name(unit: Any) -> str:
    if isinstance(unit, dict):
        return str(unit.get("name") or "")
    return str(unit or "")


ORIGINAL_AT_COUNTER = "{name} (bản chính, đưa cán bộ xem tại quầy)"


def _documents(dossier: dict[str, Any], originals: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The receipt's "Thành phần hồ sơ": each paper photographed at the kiosk, then each original
    the citizen brings to the counter that was not photographed (chứng thực bản sao: the photo is
    optional, the original is the dossier). Empty: the layout's "nothing" line."""
    seen: list[str] = []
    for att in dossier.get("attachments") or []:
        name = att.get("name_vi") or att.get("document_id")
        if name and name not in seen:  # several pages of one document are one line on paper
            seen.append(name)
    return seen + [ORIGINAL_AT_COUNTER.format(name=o) for o in originals if o not in seen]


def _get(d: dict[str, Any], *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            raise LayoutError(detail=f"dossier has no {'.'.join(path)}")
        cur = cur[key]
    return cur


def _local(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise LayoutError(detail="created_at is not a date and time")
    return value.astimezone(clock.VN_TZ).replace(tzinfo=None) if value.tzinfo else value


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise LayoutError(detail="appointment_date is not a date") from None


def come_back_at(received: Any, appointment: Any, opens: str | None = None) -> datetime:
    """When the citizen should come back for the result (local time, whole minutes): the
    appointment date (``flows.calendar.appointment_date``, which already moved a dossier received
    after the flow's cut-off to the next working day) at the hour the counters open; on the day
    of filing itself (a same-day procedure received before the cut-off), from the moment of filing
    (but not before opening)."""
    received, day = _local(received), _day(appointment)
    try:
        hh, mm = (int(x) for x in str(opens or DEFAULT_OPENS).split(":"))
        start = time(hh, mm)
    except ValueError:
        raise LayoutError(detail="office_opens must be HH:MM") from None
    at = datetime.combine(day, start)
    if day == received.date():
        at = max(at, received.replace(second=0, microsecond=0))
    return at


def payment_text(payment: dict[str, Any] | None, fee: dict[str, Any] | None) -> str:
    """The fee line of the receipt once the kiosk knows how it was paid (issue 22), Vietnamese:
    "Đã thanh toán lệ phí 4.000 đồng lúc 09:12." or "Lệ phí phải nộp: 4.000 đồng. Chưa thanh toán:
    nộp tại quầy."; "" when nothing was to be paid at the kiosk (the receipt then says the fee as
    it always did). ``payment`` is central's object (state, amount_due, amount_paid, paid_at);
    ``{"state": "unpaid"}`` when central could not be asked."""
    if not payment:
        return ""
    state = payment.get("state")
    if state == "paid":
        paid = payment.get("amount_paid") or payment.get("amount_due") or (fee or {}).get("amount")
        at = payment.get("paid_at")
        when = ""
        if at:
            try:
                when = f" lúc {_local(at):%H:%M}"
            except LayoutError:
                when = ""
        return f"Đã thanh toán lệ phí {fee_text({'amount': paid}, 'vi')}{when}."
    due = format_fee(fee) if fee else fee_text({"amount": payment.get("amount_due") or 0}, "vi")
    if state == "flagged":
        # a paid amount that differs from the fee: an officer sorts it out, the citizen pays nothing twice
        return f"Lệ phí phải nộp: {due}. Khoản đã chuyển cần cán bộ kiểm tra: xin hỏi tại quầy."
    return f"Lệ phí phải nộp: {due}. Chưa thanh toán: nộp tại quầy."


def receipt_from_dossier(dossier: dict[str, Any], answer: dict[str, Any], *, centre_name: str, lookup_qr: str,
                         notes: list[str] | tuple[str, ...] = (), originals: list[str] | tuple[str, ...] = (),
                         counter: str = "", opens: str | None = None,
                         payment: dict[str, Any] | None = None) -> dict[str, Any]:
    """Data for the ``receipt`` layout. ``answer`` is the central system's JSON for
    ``POST /api/v1/dossiers`` (dossier_code, lookup_secret, appointment_date, handling_unit).

    The "Việc cần làm" block (what to do next) reads: the fee, ``come_back_at`` (from the
    appointment and ``opens``, the centre's opening hour), ``counter`` (the counter that returns
    results; empty: the layout's general wording), ``originals`` (names of the papers whose
    original the citizen must bring: the flow's, see ``flows.steps.receipt.originals_to_bring``)
    and the lookup secret the lookup screen asks for. ``payment``: the fee paid at the kiosk, or
    not (``payment_text``); None where the kiosk took no payment."""
    return {
        "centre_name": centre_name,
        "dossier_code": _get(answer, "dossier_code"),
        "procedure_name": _get(dossier, "procedure", "name_vi"),
        "procedure_code": _get(dossier, "procedure", "code"),
        "applicant_name": _get(dossier, "applicant", "full_name"),
        "applicant_id": _get(dossier, "applicant", "id_number"),
        "documents": _documents(dossier, originals),
        "fee": format_fee(dossier.get("fee")),
        "payment": payment_text(payment, dossier.get("fee")),
        "received_at": _get(dossier, "created_at"),
        "appointment_date": _get(answer, "appointment_date"),
        "handling_unit": _unit_name(answer.get("handling_unit") or dossier.get("handling_unit")),
        "lookup_qr": lookup_qr,
        "lookup_secret": str(answer.get("lookup_secret") or ""),
        "come_back_at": come_back_at(_get(dossier, "created_at"), _get(answer, "appointment_date"), opens),
        "counter": counter,
        "originals": list(originals),
        "notes": list(notes),
    }


def provisional_from_dossier(dossier: dict[str, Any], *, local_code: str, centre_name: str,
                             lookup_qr: str = "", notes: list[str] | tuple[str, ...] = (),
                             originals: list[str] | tuple[str, ...] = (), counter: str = "",
                             lookup_secret: str = "") -> dict[str, Any]:
    """Data for the ``provisional_receipt`` layout (central unreachable; the dossier waits in the
    outbox): no appointment yet. ``lookup_secret``: the key the kiosk made for the local code
    (central finds the dossier by both once it is sent); without one (an older outbox row) the
    "Việc cần làm" sends the citizen to the counter instead."""
    return {
        "centre_name": centre_name,
        "local_code": local_code,
        "procedure_name": _get(dossier, "procedure", "name_vi"),
        "procedure_code": (dossier.get("procedure") or {}).get("code", ""),
        "applicant_name": _get(dossier, "applicant", "full_name"),
        "applicant_id": (dossier.get("applicant") or {}).get("id_number", ""),
        "documents": _documents(dossier),  # "Giấy tờ đã chụp": the photos only
        "fee": format_fee(dossier.get("fee")),
        "received_at": _get(dossier, "created_at"),
        "lookup_qr": lookup_qr,
        "lookup_secret": lookup_secret,
        "counter": counter,
        "originals": list(originals),
        "notes": list(notes),
    }
