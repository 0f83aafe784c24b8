"""Amounts of money as a Vietnamese citizen reads them: the one fee formatter of the project, used
by the guide and review screens and by the printed receipt alike; and the one rule of what may be
paid by transfer (``payable_amount``), used by the kiosk's pay screen and by the central system
when a bank notification comes in."""
from __future__ import annotations

import math
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


def _unconfirmed(fee: Any) -> bool:
    """The flow marks the fee ``unconfirmed: true``: nobody has checked it against the circular in force."""
    flag = fee.get("unconfirmed") if isinstance(fee, dict) else getattr(fee, "unconfirmed", False)
    return flag is True


# an amount nobody has confirmed yet: said as an estimate, and paid at the counter (docs/flows.md)
_ESTIMATE = {"vi": "khoảng {text} — cán bộ sẽ xác nhận, nộp tại quầy",
             "en": "about {text} — the staff will confirm it; pay at the desk"}


def _estimate(text: str, fee: Any, lang: str) -> str:
    """"15.000 đồng" of an unconfirmed fee → "khoảng 15.000 đồng — cán bộ sẽ xác nhận, nộp tại
    quầy"; anything but an amount ("Miễn phí", a note in words, a guide's rule) is left as it is."""
    if not _unconfirmed(fee) or not text[:1].isdigit():
        return text
    return _ESTIMATE["en" if lang == "en" else "vi"].format(text=text)


def _note_stands_for_amount(fee: Any) -> bool:
    """The flow author's note says something else than the amount would ("Số tiền do tỉnh quy
    định…"): the note, not the amount, is what the citizen is told. A note that says just the
    amount ("Miễn phí" for 0) does not count."""
    note = _note(fee, "vi")
    if not note:
        return False
    amount = fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)
    return _without_label(str(note)) != fee_text({"amount": amount}, "vi")


def payable_amount(fee: Any) -> int:
    """The amount (whole đồng) a citizen may pay for ``fee`` by transfer, without an officer: the
    fee's ``amount`` when it is a known, confirmed amount; 0 when it is free, when the flow's note
    stands for the amount (set by the province, told at the counter), or when the fee is marked
    ``unconfirmed``. 0 means "paid at the counter": the kiosk shows no QR code, and the central
    system flags any transfer for it for an officer.

    ``fee``: a dossier's fee dict, the engine's ``fee()`` dict, or a ``flows.model.Fee``."""
    if fee is None or _note_stands_for_amount(fee) or _unconfirmed(fee):
        return 0
    amount = fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
        return 0
    if amount != int(amount) or amount <= 0:
        return 0
    return int(amount)


def told_at_counter(fee: Any) -> bool:
    """The amount of ``fee`` is not known to the kiosk (the note stands for it, or it is an
    unconfirmed amount): the officer at the counter tells it. A free fee is not."""
    if fee is None:
        return False
    if _note_stands_for_amount(fee):
        return True
    amount = fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)
    return _unconfirmed(fee) and isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount > 0


def fee_text(fee: Any, lang: str = "vi") -> str:
    """What a fee says to the citizen, without the word "Lệ phí" (the caller puts it in front):
    the amount when it is known ("Miễn phí" / "Free", "15.000 đồng" / "15,000 VND"), so the guide,
    the review and the receipt say the same amount. The flow author's ``note`` replaces the
    amount only where the amount is not known (set by the province, told at the counter).

    ``fee``: a dossier's fee dict or the engine's ``fee()`` dict (the answers have set the amount),
    a ``flows.model.Fee`` (the guide, before any answer: its ``guide_text`` when the fee depends
    on the answers, e.g. "2.000 đồng mỗi trang"), or None.

    An amount of a fee marked ``unconfirmed`` is said as an estimate paid at the counter:
    "khoảng 15.000 đồng — cán bộ sẽ xác nhận, nộp tại quầy" (``payable_amount`` is 0 for it)."""
    if fee is None:
        fee = {}
    if not isinstance(fee, dict):
        guide = _text(getattr(fee, "guide_text", None), lang)
        if guide:
            # the rule before any answer ("8.000 đồng mỗi bản"): the amount of this visit, once the
            # answers set it, is the one said as an estimate
            return _without_label(guide)
    note = _note(fee, lang)
    if note:
        return _without_label(str(note))
    amount = (fee.get("amount") if isinstance(fee, dict) else getattr(fee, "amount", 0)) or 0
    if not amount:
        return "Miễn phí" if lang == "vi" else "Free"
    currency = (fee.get("currency") if isinstance(fee, dict) else getattr(fee, "currency", "VND")) or "VND"
    unit = ("đồng" if lang == "vi" else "VND") if currency == "VND" else str(currency)
    return _estimate(f"{group_thousands(amount, lang)} {unit}", fee, lang)
