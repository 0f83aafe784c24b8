"""identify on the kiosk: kiosk.ui.screens.identify.IdentifyScreen (chip card, its QR, the CAN;
without a chip card the VNeID app's QR or typing). The scripted citizen holds the sample card's QR
to the simulated scanner (the small "[Mô phỏng]" button, which exists only on simulated devices), or,
on real devices, does what its ``hands`` do (kiosk.tools.journeys.walk_procedure)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _sim_button_shown(app) -> bool:
    screen = app.sm.current_screen
    button = getattr(screen, "sim_button", None)
    return button is not None and button.get_root_window() is not None


def citizen(w, label: str) -> bool:
    app = w.app
    if not app.session.applicant:
        w.shot(label)
        if w.hands is not None:
            # real devices: a simulation control would be a lie to a citizen (and a way round the card)
            if _sim_button_shown(app):
                raise RuntimeError("the identify screen shows the simulation button with real devices")
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
    hint_vi="Bước 1: đưa mã QR trên thẻ căn cước vào máy quét mã. Bước 2: đặt thẻ lên đầu đọc thẻ và giữ yên "
            "cho đến khi đọc xong. Máy quét không đọc được mã QR thì nhập 6 số cuối của số định danh. "
            "Không có thẻ gắn chip: đưa mã QR trong ứng dụng VNeID, hoặc nhập tay.",
    button=None, citizen=citizen, clip=clip,
)
