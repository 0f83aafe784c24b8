"""receipt on the kiosk: kiosk.ui.screens.submit.ReceiptScreen (as printed); then the rating and
goodbye end the visit."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


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
    "receipt", "step-receipt", "kiosk.ui.screens.submit:ReceiptScreen",
    hint_vi="Nhận biên nhận ở khe máy in và giữ lại để tra cứu hồ sơ. Xong thì bấm nút {button}.",
    button="receipt.finish", citizen=citizen, clip=clip,
)
