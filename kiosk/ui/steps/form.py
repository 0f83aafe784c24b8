"""form on the kiosk: kiosk.ui.screens.form.FormScreen, one widget per visible field. The scripted
citizen answers through the widgets (a paper's QR first where the step reads one, then pick-lists,
the offered phone, typing, calendar, address picker); the help-clip walk puts the sample answers
(flows.sample) straight into the engine."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _scan_papers(w) -> None:
    """A paper with a QR that fills this step (the Giấy chứng sinh): held to the scanner first, as
    the screen asks; on simulated devices through its "[Mô phỏng]" button, on real ones by the
    citizen's ``hands`` (``present_paper(citizen, paper)``) when they have that paper."""
    screen = w.app.sm.current_screen
    papers = getattr(screen, "scan_buttons", {})
    if not papers:
        return
    for paper, button in papers.items():
        before = screen.scan_message
        if w.hands is not None:
            if button is not None and button.get_root_window() is not None:
                raise RuntimeError("the form shows a simulation button with real devices")
            present = getattr(w.hands, "present_paper", None)
            if present is None:
                continue  # no such paper in these hands: the citizen types
            present(w, paper)
        else:
            w.d.tap_widget(button)
        w.d.wait_for(lambda: screen.scan_message != before and screen.scan_message[0], 15, f"the {paper} QR read")
        if screen.scan_message[1]:
            raise AssertionError(f"the {paper} QR was refused: {screen.scan_message[0]}")


def citizen(w, label: str) -> bool:
    step = w.engine.step
    _scan_papers(w)
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
