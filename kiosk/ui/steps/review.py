"""review on the kiosk: kiosk.ui.screens.review.ReviewScreen; the scripted citizen reads, then continues."""
from __future__ import annotations

from kiosk.ui.steps import StepUI

STRINGS = {
    "review.title": ("Kiểm tra lại thông tin", "Check your details"),
    "review.applicant": ("Người nộp hồ sơ", "Applicant"),
    "review.documents": ("Giấy tờ", "Documents"),
    "review.unit": ("Nơi giải quyết", "Handled by"),
    "review.fee": ("Lệ phí", "Fee"),
    "review.appointment": ("Ngày hẹn trả kết quả (dự kiến)", "Expected result date"),
}

UI = StepUI(
    "review", "step-review", "kiosk.ui.screens.review:ReviewScreen", STRINGS,
    hint_vi="Kiểm tra lại các thông tin. Muốn sửa, bấm nút Quay lại. Đúng rồi thì bấm nút {button}.",
)
