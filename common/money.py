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


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return value.get(lang) or value.get("vi") or ""
    return value if isinstance(value, str) else ""


def _note(fee: Any, lang: str) -> str:
    if isinstance(fee, dict):
        note = fee.get("note")
        if isinstance(note, dict):
            return _text(note, lang)
        return fee.get(f"note_{lang}") or fee.get("note_vi") or (note if isinstance(note, str) else "") or ""
    return _text(getattr(fee, "note", None), lang)


_LABELS = ("lệ phí", "phí", "fee")


def _without_label(text: str) -> str:
    """"Lệ phí 15.000 đồng" → "15.000 đồng": every caller writes "Lệ phí: " in front, and a note
    that says it again read "Lệ phí: Lệ phí 15.000 đồng" (the loader refuses such notes in new
    flows; dossiers already waiting in an outbox may still carry one)."""
    folded = text.casefold()
    for word in _LABELS:
        if folded.startswith(word) and len(text) > len(word) and not text[len(word)].isalpha():
            rest = text[len(word):].lstrip(" :–-")
            return rest[:1].upper() + rest[1:] if rest and not rest[0].isdigit() else rest
    return text


def fee_text(fee: Any, lang: str = "vi") -> str:
    """What a fee says to the citizen, without the word "Lệ phí" (the caller puts it in front):
    the amount when it is known ("Miễn phí" / "Free", "15.000 đồng" / "15,000 VND"), so the guide,
    the review and the receipt say the same amount. The flow author's ``note`` replaces the
    amount only where the amount is not known (set by the province, told at the counter).

    ``fee``: a dossier's fee dict or the engine's ``fee()`` dict (the answers have set the amount),
    a ``flows.model.Fee`` (the guide, before any answer: its ``guide_text`` when the fee depends
    on the answers, e.g. "2.000 đồng mỗi trang"), or None."""
    if fee is None:
        fee = {}
    if not isinstance(fee, dict):
        guide = _text(getattr(fee, "guide_text", None), lang)
        if guide:
            return _without_label(guide)
    note = _note(fee, lang)
    if note:
        return _without_label(str(note))
    amount = (fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)) or 0
    if not amount:
        return "Miễn phí" if lang == "vi" else "Free"
    currency = (fee.get("currency") if isinstance(fee, dict) else getattr(fee, "currency", "VND")) or "VND"
    unit = ("đồng" if lang == "vi" else "VND") if currency == "VND" else str(currency)
    return f"{group_thousands(amount, lang)} {unit}"
