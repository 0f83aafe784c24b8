"""handling_unit on the kiosk: kiosk.ui.screens.unit.UnitScreen (the default commune is chosen on entry)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


UI = StepUI(
    "handling_unit", "step-unit", "kiosk.ui.screens.unit:UnitScreen",
    hint_vi="Kiểm tra nơi giải quyết hồ sơ. Có thể tìm và chọn xã, phường khác trong tỉnh. "
            "Xong thì bấm nút {button}.",
)
