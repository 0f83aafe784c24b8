"""submit on the kiosk: kiosk.ui.screens.submit.SubmitScreen, one screen to agree and file (a
short summary, the consent text, and "Tôi đồng ý và nộp hồ sơ" bottom-right: outbox first, then
the central system); both walks press that button and wait for the next screen (the receipt, or
first the pay screen when the fee is paid at the kiosk: kiosk.ui.screens.pay, walked here since it
is no step of its own)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _submitted(d) -> None:
    d.wait_for(lambda: d.screen != UI.screen, 60, "the receipt")


def _receipt(d) -> None:
    d.wait_for(lambda: d.screen != "pay", 60, "the receipt after the payment")


def pay(w, label: str) -> None:
    """The pay screen (kiosk/ui/screens/pay.py: no step of its own, it follows the submit when the
    fee is paid at the kiosk): the citizen looks at the amount and the code, then pays — in the
    simulated demo with the simulated bank's button, as a bank app would — or, where no bank can be
    simulated, chooses to pay at the desk. Either way the receipt follows."""
    w.shot(label + "-pay")
    if w.app.services.sim_bank:
        w.tap("pay.sim")
    else:
        w.tap("pay.counter", exact=True)
    _receipt(w.d)


def citizen(w, label: str) -> bool:
    w.shot(label)
    w.tap("submit.agree", exact=True)
    _submitted(w.d)
    if w.d.screen == "pay":
        pay(w, label)
    return False


def clip(c) -> bool:
    c.tap("submit.agree", exact=True)
    _submitted(c.d)
    if c.d.screen == "pay":  # the help clips film the procedure, not the payment: pay at the desk
        c.tap("pay.counter", exact=True)
        _receipt(c.d)
    return True


UI = StepUI(
    "submit", "step-submit", "kiosk.ui.screens.submit:SubmitScreen",
    hint_vi="Xem lại tóm tắt hồ sơ và đọc nội dung đồng ý cho dùng thông tin cá nhân. Đồng ý thì bấm nút "
            "{button}. Nếu không đồng ý, Quý khách vẫn có thể nộp hồ sơ tại quầy.",
    button="submit.agree", citizen=citizen, clip=clip,
)
