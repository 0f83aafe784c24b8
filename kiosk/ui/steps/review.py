"""review on the kiosk: kiosk.ui.screens.review.ReviewScreen, one section per step walked, each
with a "Sửa" button that opens the step and comes back here after "Tiếp tục"; the scripted
citizen reads, then continues."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


UI = StepUI(
    "review", "step-review", "kiosk.ui.screens.review:ReviewScreen",
    hint_vi="Kiểm tra lại các thông tin. Phần nào chưa đúng, bấm nút Sửa của phần đó; sửa xong bấm Tiếp tục "
            "để quay lại đây. Đúng hết rồi thì bấm nút {button}.",
)
