"""identify on the kiosk: kiosk.ui.screens.identify.IdentifyScreen (chip card, its QR, the CAN or
typed). The scripted citizen holds the sample card's QR to the simulated scanner."""
from __future__ import annotations

from kiosk.ui.steps import StepUI

STRINGS = {
    "identify.title": ("Xác thực bằng thẻ căn cước", "Identify with your ID card"),
    "identify.place": ("Đặt thẻ căn cước lên đầu đọc và giữ yên trong khi đọc.",
                       "Place your ID card on the reader and keep it still."),
    "identify.qr": ("Đưa mã QR ở mặt thẻ vào máy quét", "Hold the QR code on your card to the scanner"),
    "identify.can": ("Nhập 6 số cuối số định danh", "Type the last 6 digits of your ID number"),
    "identify.manual": ("Tôi không có thẻ gắn chip: nhập tay", "No chip card: type my details"),
    "identify.reading": ("Đang đọc thẻ, xin giữ yên thẻ…", "Reading the card, keep it still…"),
    "identify.done": ("Đã đọc thẻ của: {name}", "Card read: {name}"),
    "identify.sim": ("[Mô phỏng] Quét mã QR của thẻ mẫu", "[Simulation] Scan the sample card's QR"),
    "identify.read": ("Đọc thẻ", "Read card"),
    "identify.verified": ("Dữ liệu trên thẻ đã được xác thực chữ ký số.", "The card's data is digitally verified."),
    "identify.unverified": ("Chưa xác thực được chữ ký số của thẻ; cán bộ sẽ đối chiếu khi tiếp nhận.",
                            "The card's signature could not be checked; staff will verify it."),
    "identify.checks_failed": ("Dữ liệu trên thẻ không xác thực được. Vui lòng gặp cán bộ tại quầy.",
                               "The card data could not be verified. Please see the staff at the desk."),
    "identify.missing": ("Thẻ không có các thông tin: {fields}. Quý khách sẽ nhập ở bước sau.",
                         "The card lacks: {fields}. You will type them later."),
}


def citizen(w, label: str) -> bool:
    app = w.app
    if not app.session.applicant:
        w.shot(label)
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
    "identify", "step-identify", "kiosk.ui.screens.identify:IdentifyScreen", STRINGS,
    hint_vi="Đặt thẻ căn cước gắn chip lên đầu đọc và giữ yên cho đến khi đọc xong. "
            "Nếu không đọc được thẻ, có thể đưa mã QR trên thẻ vào máy quét, hoặc nhập tay.",
    button=None, citizen=citizen, clip=clip,
)
