"""identify: the applicant, from the chip card, a QR (the VNeID e-ID's, or a card's whose chip cannot be read)
or typed. Always the second step."""
from __future__ import annotations

import re

from flows.steps import Messages, StepKind


def errors(engine, step) -> Messages:
    a = engine.applicant or {}
    if not a.get("id_number"):
        # the screen's order: the card's QR first (the chip opens only with it), then the card
        return {"applicant": ("Vui lòng đưa mã QR trên thẻ căn cước vào máy quét rồi đặt thẻ lên đầu đọc thẻ, "
                              "hoặc dùng mã QR trong ứng dụng VNeID, hoặc nhập thông tin.",
                              "Hold your ID card's QR code to the scanner, then lay the card on the reader; "
                              "or use the QR code in the VNeID app, or type your details.")}
    if not re.fullmatch(r"\d{12}|\d{9}", str(a["id_number"])):
        return {"applicant": ("Số định danh cá nhân phải gồm 12 chữ số.", "The personal ID number must be 12 digits.")}
    if not str(a.get("full_name") or "").strip():
        return {"applicant": ("Vui lòng nhập họ, chữ đệm và tên.", "Please give your full name.")}
    return {}


def sample(engine, step, choices) -> None:
    """The simulated citizen's chip card (flows.sample.SIM_CITIZEN)."""
    if engine.applicant is None:
        from flows.sample import SIM_AUTH, SIM_CITIZEN

        engine.set_applicant(SIM_CITIZEN, "chip", SIM_AUTH)


KIND = StepKind("identify", errors=errors, sample=sample, slot=1, can_hide=False, single=True)
