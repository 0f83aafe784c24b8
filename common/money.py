"""Amounts of money as a Vietnamese citizen reads them: the one fee formatter of the project, used
by the guide and review screens and by the printed receipt alike."""
from __future__ import annotations

from typing import Any


def group_thousands(value: Any, lang: str = "vi", at_least: int = 0) -> str | None:
    """50000000 → "50.000.000" (Vietnamese groups thousands with dots, English with commas);
    None for a non-integer value, or one below ``at_least`` (small numbers read fine as they are)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != int(number) or abs(number) < at_least:
        return None
    return f"{int(number):,}".replace(",", "." if lang == "vi" else ",")


def _note(fee: Any, lang: str) -> str:
    if isinstance(fee, dict):
        note = fee.get("note")
        if isinstance(note, dict):
            return note.get(lang) or note.get("vi") or ""
        return fee.get(f"note_{lang}") or fee.get("note_vi") or (note if isinstance(note, str) else "") or ""
    note = getattr(fee, "note", None)
    if isinstance(note, dict):
        return note.get(lang) or note.get("vi") or ""
    return note or ""


def fee_text(fee: Any, lang: str = "vi") -> str:
    """What a fee says to the citizen: the flow author's note when there is one (it explains
    per-page or conditional fees), else "Miễn phí" / "Free" for nothing, else the amount
    ("20.000 đồng", "20,000 VND"). ``fee``: a dossier's fee dict, the engine's ``fee()`` dict,
    a ``flows.model.Fee``, or None."""
    if fee is None:
        fee = {}
    note = _note(fee, lang)
    if note:
        return str(note)
    amount = (fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)) or 0
    if not amount:
        return "Miễn phí" if lang == "vi" else "Free"
    currency = (fee.get("currency") if isinstance(fee, dict) else getattr(fee, "currency", "VND")) or "VND"
    unit = ("đồng" if lang == "vi" else "VND") if currency == "VND" else str(currency)
    return f"{group_thousands(amount, lang)} {unit}"
