"""review on the kiosk: kiosk.ui.screens.review.ReviewScreen; the scripted citizen reads, then continues."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


UI = StepUI(
    "review", "step-review", "kiosk.ui.screens.review:ReviewScreen",
    hint_vi="Kiểm tra lại các thông tin. Muốn sửa, bấm nút Quay lại. Đúng rồi thì bấm nút {button}.",
)
