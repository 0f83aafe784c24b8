"""face_check on the kiosk: kiosk.ui.screens.face_check.FaceCheckScreen (the live face against the
chip photo, with a blink-and-turn challenge; or a member of staff's PIN). The scripted citizen puts
the simulated card holder in front of the simulated camera (the "[Mô phỏng] Chủ thẻ" button, which
exists only on the simulated camera), presses "Bắt đầu" and waits for the match; with real devices,
where no face stands before the camera, it takes the staff path ("Nhờ cán bộ xác nhận", then the
kiosk PIN its ``hands`` know)."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def _outcome(app):
    from flows.steps.face_check import outcome

    return outcome(app.session.engine) if app.session.engine is not None else None


def staff_confirms(d, app, pin: str) -> None:
    """The staff path with the kiosk PIN a technician's ``hands`` know: "Nhờ cán bộ xác nhận", the
    help-call panel closed by the member of staff, "Dùng mã PIN của ki-ốt" (the officer's one-time
    code needs someone at the console), the PIN."""
    from kiosk.ui.i18n import tr

    d.tap(tr("face.ask_staff", app.lang), exact=True)
    d.wait_for(lambda: app.sm.current_screen.state == "staff", 10, "the staff PIN pad")
    close_help_panel(d, app)
    if app.sm.current_screen.staff_mode != "pin":
        d.tap(tr("face.use_pin", app.lang), exact=True)
    d.type_keys(pin)
    d.tap_widget(d.find_key(tr("kb.done", app.lang)))
    d.wait_for(lambda: _outcome(app) == "fallback_staff", 10, "the staff confirmation")


def close_help_panel(d, app) -> None:
    """Close the "Gọi cán bộ hỗ trợ" panel the staff path opened (the call stays)."""
    from kiosk.ui.widgets import help_call

    panel = getattr(help_call, "_panel", None)
    if panel is not None and panel.is_open:
        panel.close()
        d.pump(5)


def citizen(w, label: str) -> bool:
    from kiosk.ui.i18n import tr

    app = w.app
    if _outcome(app) not in ("passed", "fallback_staff"):
        w.shot(label)
        cam = app.services.camera
        if w.hands is not None or not hasattr(cam, "show_face"):
            pin = getattr(w.hands, "staff_pin", None)
            if pin is None:
                raise RuntimeError("the face step with real devices needs the staff PIN (hands.staff_pin)")
            staff_confirms(w.d, app, pin)
        else:
            w.tap("face.sim_holder", exact=True)
            w.d.tap(tr("face.start", app.lang), exact=True)
            screen = app.sm.current_screen
            w.d.wait_for(lambda: _outcome(app) == "passed" or screen.state in ("result", "staff"), 60,
                         "the face check")
            if _outcome(app) != "passed":
                raise RuntimeError(f"the simulated card holder's face check did not pass: {screen.message!r}")
    w.res.face_match = _outcome(app) or ""
    w.shot(label + "-done")
    w.tap("nav.next")
    return False


def clip(c) -> bool:
    from kiosk.ui.i18n import tr

    app = c.app
    if _outcome(app) not in ("passed", "fallback_staff"):
        cam = app.services.camera
        if hasattr(cam, "show_face"):
            cam.show_face("card_holder")
        c.d.tap(tr("face.start", app.lang), exact=True)
        c.d.wait_for(lambda: _outcome(app) == "passed" or app.sm.current_screen.state in ("result", "staff"), 60,
                     "the face check")
    return False


UI = StepUI(
    "face_check", "step-face_check", "kiosk.ui.screens.face_check:FaceCheckScreen",
    hint_vi="Bấm nút {button}, đứng trước màn hình và nhìn vào camera, trong khung hình bầu dục. Làm theo lời "
            "nhắc: chớp mắt, rồi quay đầu sang bên được nhắc. Máy so khuôn mặt với ảnh trong thẻ căn cước và "
            "không lưu lại ảnh chụp. Không làm được thì bấm Nhờ cán bộ xác nhận.",
    button="face.start", citizen=citizen, clip=clip,
)
