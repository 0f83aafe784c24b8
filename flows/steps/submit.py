"""submit: one screen to agree and file. It shows a short summary of the dossier and the consent
text, and its one button, "Tôi đồng ý và nộp hồ sơ", records the consent and files the dossier
(issue #18: consent and submit used to be two screens, and the second one was empty). Second
from last, right after the review; it may be left only when every step walked may, and when the
citizen has agreed.

The consent is to the processing of personal data under the Law on Personal Data Protection
No. 91/2025/QH15 (in force since 1 January 2026; implementing Decree 356/2025/NĐ-CP, which replaced
Decree 13/2023/NĐ-CP); the sha256 of the exact text shown, in the language shown, goes in the
dossier (``consent.text_sha256``: the text version the citizen saw). Option ``consent``: the
text, default :data:`DEFAULT_CONSENT`, which says what the Law's Article 9 asks consent to rest
on: which data, for what, who processes it, the citizen's rights (docs/privacy.md)."""
from __future__ import annotations

import hashlib

from flows.steps import Messages, StepKind, options_lines

DEFAULT_CONSENT = {
    "vi": ("Tôi đồng ý để Trung tâm Phục vụ hành chính công và cơ quan giải quyết hồ sơ thu thập và dùng "
           "thông tin cá nhân của tôi: thông tin trên thẻ căn cước, những gì tôi khai và ảnh giấy tờ tôi chụp "
           "(có thể có thông tin nhạy cảm như dân tộc hay ảnh giấy tờ tùy thân). Thông tin chỉ dùng để giải "
           "quyết thủ tục này, không dùng vào việc khác, theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 và "
           "Nghị định 356/2025/NĐ-CP. Ki-ốt chỉ giữ hồ sơ đến khi gửi xong, rồi xóa. Tôi có quyền xem, sửa, "
           "yêu cầu xóa thông tin của mình hoặc rút lại sự đồng ý: xin hỏi cán bộ ở quầy."),
    "en": ("I agree that the public service centre and the authority that handles my dossier collect and use "
           "my personal data: the data on my ID card, what I declare and the photos of my papers (this may "
           "include sensitive data, such as my ethnicity or a photo of an identity paper). The data is used "
           "only to handle this procedure and for nothing else, under the Law on Personal Data Protection "
           "No. 91/2025/QH15 and Decree 356/2025/ND-CP. The kiosk keeps my dossier only until it has been "
           "sent, then deletes it. I may see or correct my data, ask for it to be deleted, or withdraw my "
           "consent: please ask the officer at the counter."),
}


def consent_text(step) -> dict:
    """The consent text a submit step shows ({vi, en})."""
    return step.options.get("consent") or DEFAULT_CONSENT


def consent_sha256(step, language: str = "vi") -> str:
    """sha256 of the exact consent text shown, to record in the dossier."""
    return hashlib.sha256(consent_text(step)[language].encode("utf-8")).hexdigest()


def errors(engine, step) -> Messages:
    out: Messages = {}
    for s in engine.history:
        if s.kind != "submit":
            out.update(engine.error_details(s))
    if not engine.consent or not engine.consent["given"]:
        out["consent"] = ("Cần sự đồng ý xử lý dữ liệu cá nhân để nộp hồ sơ.",
                          "Consent to personal-data processing is needed to file the dossier.")
    return out


def sample(engine, step, choices) -> None:
    engine.set_consent(True, consent_sha256(step))


def preview(flow, step) -> list[str]:
    return ["", "consent: " + consent_text(step)["vi"]] + options_lines(flow, step)


KIND = StepKind("submit", errors=errors, sample=sample, preview=preview, slot=-2, can_hide=False, single=True)
