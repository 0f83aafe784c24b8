"""Receipt layout data from the shared dossier document (``kiosk-dossier/1``) and the central
system's answer, so every caller fills the paper the same way. Pure: no I/O.

The QR payload is passed in (built by ``devices.qr.payloads.build_receipt_qr``), so this module
does not depend on the QR package.
"""
from __future__ import annotations

from typing import Any

from common.money import fee_text

from .errors import LayoutError


def format_fee(fee: dict[str, Any] | None) -> str:
    """The fee as the receipt prints it (Vietnamese): common.money.fee_text, the project's one formatter."""
    return fee_text(fee, "vi")


def _unit_name(unit: Any) -> str:
    if isinstance(unit, dict):
        return str(unit.get("name") or "")
    return str(unit or "")


def _documents(dossier: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for att in dossier.get("attachments") or []:
        name = att.get("name_vi") or att.get("document_id")
        if name and name not in seen:  # several pages of one document are one line on paper
            seen.append(name)
    return seen


def _get(d: dict[str, Any], *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            raise LayoutError(detail=f"dossier has no {'.'.join(path)}")
        cur = cur[key]
    return cur


def receipt_from_dossier(dossier: dict[str, Any], answer: dict[str, Any], *, centre_name: str, lookup_qr: str,
                         notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Data for the ``receipt`` layout. ``answer`` is the central system's JSON for
    ``POST /api/v1/dossiers`` (dossier_code, appointment_date, handling_unit)."""
    return {
        "centre_name": centre_name,
        "dossier_code": _get(answer, "dossier_code"),
        "procedure_name": _get(dossier, "procedure", "name_vi"),
        "procedure_code": _get(dossier, "procedure", "code"),
        "applicant_name": _get(dossier, "applicant", "full_name"),
        "applicant_id": _get(dossier, "applicant", "id_number"),
        "documents": _documents(dossier),
        "fee": format_fee(dossier.get("fee")),
        "received_at": _get(dossier, "created_at"),
        "appointment_date": _get(answer, "appointment_date"),
        "handling_unit": _unit_name(answer.get("handling_unit") or dossier.get("handling_unit")),
        "lookup_qr": lookup_qr,
        "notes": list(notes),
    }


def provisional_from_dossier(dossier: dict[str, Any], *, local_code: str, centre_name: str,
                             lookup_qr: str = "", notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Data for the ``provisional_receipt`` layout (central unreachable; the dossier waits in the outbox)."""
    return {
        "centre_name": centre_name,
        "local_code": local_code,
        "procedure_name": _get(dossier, "procedure", "name_vi"),
        "procedure_code": (dossier.get("procedure") or {}).get("code", ""),
        "applicant_name": _get(dossier, "applicant", "full_name"),
        "applicant_id": (dossier.get("applicant") or {}).get("id_number", ""),
        "documents": _documents(dossier),
        "fee": format_fee(dossier.get("fee")),
        "received_at": _get(dossier, "created_at"),
        "lookup_qr": lookup_qr,
        "notes": list(notes),
    }
