"""form on the kiosk: kiosk.ui.screens.form.FormScreen, one widget per visible field. The scripted
citizen answers through the widgets (typing, calendar, address picker); the help-clip walk puts
the sample answers (flows.sample) straight into the engine."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def citizen(w, label: str) -> bool:
    step = w.engine.step
    w.fill_form()
    w.shot(label)
    w.tap("nav.next")
    if w.engine.step is step and w.d.screen == UI.screen:
        raise AssertionError(f"form step {step.id} refused: {w.engine.errors()}")
    return False


def clip(c) -> bool:
    from flows.sample import fill_step

    fill_step(c.engine, c.choices or {})  # typing is not what the clip shows
    c.app.show_step()
    c.d.pump(3)
    return False


UI = StepUI(
    "form", "step-form", "kiosk.ui.screens.form:FormScreen",
    hint_vi="Chạm vào từng ô để trả lời. Bàn phím trên màn hình gõ được tiếng Việt. Xong thì bấm nút {button}.",
    citizen=citizen, clip=clip,
)
