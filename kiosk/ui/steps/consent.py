"""consent on the kiosk: kiosk.ui.screens.review.ConsentScreen (the text, "I agree", continue)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def citizen(w, label: str) -> bool:
    w.tap("consent.agree")
    w.shot(label)
    w.tap("nav.next")
    return False


def clip(c) -> bool:
    c.tap("consent.agree")
    return False


UI = StepUI(
    "consent", "step-consent", "kiosk.ui.screens.review:ConsentScreen",
    hint_vi="Đọc nội dung, rồi bấm nút {button} để cho phép xử lý dữ liệu cá nhân của hồ sơ.",
    button="consent.agree", citizen=citizen, clip=clip,
)
