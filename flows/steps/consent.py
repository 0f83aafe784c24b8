"""consent: the citizen agrees to the processing of personal data (Decree 13/2023); the sha256 of
the exact text shown goes in the dossier. Third from last. Option ``text``: the text, default
:data:`DEFAULT_CONSENT`."""
from __future__ import annotations

import hashlib

from flows.steps import Messages, StepKind, options_lines

DEFAULT_CONSENT = {
    "vi": ("Tôi đồng ý để Trung tâm Phục vụ hành chính công và cơ quan có thẩm quyền xử lý dữ liệu cá nhân "
           "của tôi (thông tin trên thẻ căn cước, thông tin khai trong tờ khai và ảnh giấy tờ) chỉ để giải quyết "
           "thủ tục hành chính này, theo Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân. Dữ liệu không được "
           "dùng cho mục đích khác. Tôi có thể hỏi cán bộ một cửa về quyền của mình."),
    "en": ("I agree that the public service centre and the competent authority process my personal data "
           "(the data on my ID card, what I declare in this form and the photos of my papers) only to handle "
           "this administrative procedure, under Decree 13/2023/ND-CP on personal data protection. The data "
           "will not be used for anything else. I can ask the one-stop desk about my rights."),
}


def consent_text(step) -> dict:
    """The consent text a consent step shows ({vi, en})."""
    return step.options.get("text") or DEFAULT_CONSENT


def consent_sha256(step, language: str = "vi") -> str:
    """sha256 of the exact consent text shown, to record in the dossier."""
    return hashlib.sha256(consent_text(step)[language].encode("utf-8")).hexdigest()


def errors(engine, step) -> Messages:
    if not engine.consent or not engine.consent["given"]:
        return {"consent": ("Cần sự đồng ý xử lý dữ liệu cá nhân để nộp hồ sơ.",
                            "Consent to personal-data processing is needed to file the dossier.")}
    return {}


def sample(engine, step, choices) -> None:
    engine.set_consent(True, consent_sha256(step))


def preview(flow, step) -> list[str]:
    return ["", consent_text(step)["vi"]] + options_lines(flow, step)


KIND = StepKind("consent", errors=errors, sample=sample, preview=preview, slot=-3, can_hide=False, single=True)
