"""submit on the kiosk: kiosk.ui.screens.submit.SubmitScreen, one screen to agree and file (a
short summary, the consent text, and "Tôi đồng ý và nộp hồ sơ" bottom-right: outbox first, then
the central system); both walks press that button and wait for the next screen (the receipt)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _submitted(d) -> None:
    d.wait_for(lambda: d.screen != UI.screen, 60, "the receipt")


def citizen(w, label: str) -> bool:
    w.shot(label)
    w.tap("submit.agree", exact=True)
    _submitted(w.d)
    return False


def clip(c) -> bool:
    c.tap("submit.agree", exact=True)
    _submitted(c.d)
    return True


UI = StepUI(
    "submit", "step-submit", "kiosk.ui.screens.submit:SubmitScreen",
    hint_vi="Xem lại tóm tắt hồ sơ và đọc nội dung đồng ý cho dùng thông tin cá nhân. Đồng ý thì bấm nút "
            "{button}. Nếu không đồng ý, Quý khách vẫn có thể nộp hồ sơ tại quầy.",
    button="submit.agree", citizen=citizen, clip=clip,
)
