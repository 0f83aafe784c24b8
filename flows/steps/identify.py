"""identify: the applicant, from the chip card, its QR or typed. Always the second step."""
from __future__ import annotations

import re

from flows.steps import Messages, StepKind


def errors(engine, step) -> Messages:
    a = engine.applicant or {}
    if not a.get("id_number"):
        return {"applicant": ("Vui lòng đặt thẻ căn cước lên đầu đọc, quét mã QR trên thẻ hoặc nhập thông tin.",
                              "Place your ID card on the reader, scan its QR code or type your details.")}
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
