"""guide on the kiosk: kiosk.ui.screens.guide.GuideScreen; the scripted citizen reads, then continues."""
from __future__ import annotations

from kiosk.ui.steps import StepUI

STRINGS = {
    "guide.due_if_now": ("Nếu nộp hồ sơ bây giờ, ngày hẹn trả kết quả là", "If you file now, the result is due on"),
}

UI = StepUI(
    "guide", "step-guide", "kiosk.ui.screens.guide:GuideScreen", STRINGS,
    hint_vi="Đọc kỹ hướng dẫn, rồi bấm nút {button}.",
)
