"""identify on the kiosk: kiosk.ui.screens.identify.IdentifyScreen (chip card, its QR, the CAN or
typed). The scripted citizen holds the sample card's QR to the simulated scanner, or, on real
devices, does what its ``hands`` do (kiosk.tools.journeys.walk_procedure)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def citizen(w, label: str) -> bool:
    app = w.app
    if not app.session.applicant:
        w.shot(label)
        if w.hands is not None:
            w.hands.present_card(w)
        else:
            w.tap("identify.sim", exact=True)
        w.d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
        w.chip_read()
    w.shot(label + "-done")
    w.tap("nav.next")
    return False


def clip(c) -> bool:
    if not c.app.session.applicant:
        c.tap("identify.sim")
        c.d.wait_for(lambda: bool(c.app.session.applicant), 30, "the chip read")
    return False


UI = StepUI(
    "identify", "step-identify", "kiosk.ui.screens.identify:IdentifyScreen",
    hint_vi="Đặt thẻ căn cước gắn chip lên đầu đọc và giữ yên cho đến khi đọc xong. "
            "Nếu không đọc được thẻ, có thể đưa mã QR trên thẻ vào máy quét, hoặc nhập tay.",
    button=None, citizen=citizen, clip=clip,
)
