"""submit on the kiosk: kiosk.ui.screens.submit.SubmitScreen (outbox first, then the central
system); both walks press the button and wait for the next screen (the receipt)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _submitted(d) -> None:
    d.wait_for(lambda: d.screen != UI.screen, 60, "the receipt")


def citizen(w, label: str) -> bool:
    w.shot(label)
    w.tap("submit.button", exact=False)
    _submitted(w.d)
    return False


def clip(c) -> bool:
    c.tap("submit.button", exact=False)
    _submitted(c.d)
    return True


UI = StepUI(
    "submit", "step-submit", "kiosk.ui.screens.submit:SubmitScreen",
    hint_vi="Bấm nút {button} và chờ trong giây lát.",
    button="submit.button", citizen=citizen, clip=clip,
)
