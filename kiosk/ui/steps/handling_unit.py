"""handling_unit on the kiosk: kiosk.ui.screens.unit.UnitScreen (the default commune is chosen on entry)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


UI = StepUI(
    "handling_unit", "step-unit", "kiosk.ui.screens.unit:UnitScreen",
    # the help clip is shared by every province's kiosks: it names no province or city (the
    # screen's own hint does, "trong {area}", from [kiosk] province_code)
    hint_vi="Kiểm tra nơi giải quyết hồ sơ. Có thể tìm và chọn xã, phường khác. "
            "Xong thì bấm nút {button}.",
)
