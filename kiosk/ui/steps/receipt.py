"""receipt on the kiosk: kiosk.ui.screens.submit.ReceiptScreen (as printed); then the rating and
goodbye end the visit."""
from __future__ import annotations

from kiosk.ui.steps import StepUI

STRINGS = {
    "receipt.title": ("Đã tiếp nhận hồ sơ", "Application received"),
    "receipt.code": ("Mã hồ sơ: {code}", "Application code: {code}"),
    "receipt.printed": ("Biên nhận đã được in. Xin nhận giấy ở khe máy in.",
                        "Your receipt has been printed. Please take it from the printer."),
    "receipt.provisional": (
        "Mạng đang gián đoạn: hồ sơ đã được lưu an toàn và sẽ tự động gửi khi có mạng. "
        "Xin giữ biên nhận tạm có mã {code}.",
        "The network is down: your application is stored safely and will be sent automatically. "
        "Keep the provisional receipt with code {code}.",
    ),
    "receipt.print_failed": ("Máy in đang gặp sự cố: {reason} Xin báo cán bộ để in lại biên nhận.",
                             "The printer has a problem: {reason} Ask the staff to reprint your receipt."),
    "receipt.finish": ("Hoàn tất", "Finish"),
}


def citizen(w, label: str) -> bool:
    out = w.app.session.outcome
    w.res.code, w.res.provisional, w.res.receipt_png = out.code, out.provisional, out.png_path
    w.shot(label)
    if not w.finish:
        return True
    w.tap("receipt.finish")
    w.d.wait_screen("rating")
    w.shot("rating")
    w.tap("rating.very")
    w.d.wait_screen("goodbye")
    w.shot("goodbye")
    return True


def clip(c) -> bool:
    c.tap("receipt.finish")
    c.d.wait_for(lambda: c.d.screen in ("rating", "goodbye"), 15, "the end of the visit")
    c.app.end_session()
    c.d.wait_screen("home")
    return True


UI = StepUI(
    "receipt", "step-receipt", "kiosk.ui.screens.submit:ReceiptScreen", STRINGS,
    hint_vi="Nhận biên nhận ở khe máy in và giữ lại để tra cứu hồ sơ. Xong thì bấm nút {button}.",
    button="receipt.finish", citizen=citizen, clip=clip,
)
