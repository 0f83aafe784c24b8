"""guide on the kiosk: kiosk.ui.screens.guide.GuideScreen; the scripted citizen reads, then continues."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


UI = StepUI(
    "guide", "step-guide", "kiosk.ui.screens.guide:GuideScreen",
    hint_vi="Đọc kỹ hướng dẫn, rồi bấm nút {button}.",
)
