"""handling_unit on the kiosk: kiosk.ui.screens.unit.UnitScreen (the default commune is chosen on entry)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI

STRINGS = {
    "unit.title": ("Nơi giải quyết hồ sơ", "Where your application is handled"),
    "unit.hint": ("Quý khách có thể nộp tại đây cho bất kỳ xã, phường nào trong tỉnh.",
                  "You may file here for any commune of the province."),
    "unit.search": ("Tìm xã, phường", "Search communes"),
    "unit.chosen": ("Đã chọn: {name}", "Chosen: {name}"),
}

UI = StepUI(
    "handling_unit", "step-unit", "kiosk.ui.screens.unit:UnitScreen", STRINGS,
    hint_vi="Kiểm tra nơi giải quyết hồ sơ. Có thể tìm và chọn xã, phường khác trong tỉnh. "
            "Xong thì bấm nút {button}.",
)
