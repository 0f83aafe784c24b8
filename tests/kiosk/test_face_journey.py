"""The face check in the real Kivy app (issue 21), headless, on the simulated card and camera: a
face that is not the card holder's is refused, a printed photo of the card holder is refused, three
failed tries bring the staff path, and the staff PIN lets the citizen through — with the outcome,
never an image, in the dossier's applicant authentication.

The simulated camera's faces are made from public-domain photos (devices/face/photos/README.md);
the "printed photo" is the card holder's photo, untouched, on a sheet that sways and turns in
perspective — it matches the card (it is her photo) but never blinks or turns its head, so it is
refused by the liveness challenge, not by the match. The card holder's own pass is walked by
tests/kiosk/test_ui_journeys.py (khai sinh) and make demo.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens"

pytestmark = pytest.mark.skipif(not __import__("devices.face", fromlist=["available"]).available(),
                                reason="dlib or face-recognition-models not installed")


ADMIN_TOKEN = "face-journey-staff-token-0123456789"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    with kiosk_app(tmp_path_factory, ARTEFACTS) as kiosk:
        kiosk[0].central_server.central.admin_token = ADMIN_TOKEN   # the staff API, as a centre configures it
        yield kiosk


def _acknowledge(app, by: str) -> str:
    """A member of staff says "on my way" through the staff API; returns their one-time code."""
    import requests

    from kiosk.ui.widgets import help_call

    d_call = help_call.current_call()
    assert d_call is not None
    url = f"{app.central_server.url}/api/v1/help-calls/{d_call.uuid}/ack"
    r = requests.post(url, json={"by": by}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert r.status_code == 200, r.text
    code = r.json()["confirm_code"]
    assert len(code) == 6 and code.isdigit()
    return code


def _type(d, app, digits: str) -> None:
    from kiosk.ui.i18n import tr

    d.type_keys(digits)
    d.tap_widget(d.find_key(tr("kb.done", app.lang)))


def _to_face_step(app, d):
    from kiosk.ui.i18n import tr
    from testkit.kiosk_app import back_home

    back_home(app, d)
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    d.tap("Đăng ký khai sinh")
    d.wait_screen("step-guide")
    d.tap(tr("nav.next", app.lang))
    d.wait_screen("step-identify")
    d.tap(tr("identify.sim", app.lang), exact=True)
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    assert app.session.card.photo_jpeg, "the identify step of khai sinh reads the chip photo (DG2)"
    d.tap(tr("nav.next", app.lang))
    d.wait_screen("step-face_check")
    return app.sm.current_screen


def _try(app, d, screen, who: str) -> None:
    from kiosk.ui.i18n import tr

    d.tap(tr({"card_holder": "face.sim_holder", "stranger": "face.sim_stranger", "printed": "face.sim_printed"}[who],
             app.lang), exact=True)
    d.tap(tr("face.start" if screen.state == "intro" else "face.try_again", app.lang), exact=True)
    assert screen.state == "running"
    d.wait_for(lambda: screen.state != "running", 30, f"the face check of {who}")


def test_stranger_and_printed_photo_refused_then_staff_confirms(kiosk, monkeypatch):
    from flows.steps.face_check import outcome
    from kiosk.ui.i18n import tr
    from kiosk.ui.screens import face_check as screen_module
    from kiosk.ui.steps.face_check import close_help_panel

    app, d, _cfg = kiosk
    screen = _to_face_step(app, d)
    engine = app.session.engine
    d.screenshot("face-check-intro")

    _try(app, d, screen, "stranger")
    assert screen.state == "result" and screen.tries == 1 and outcome(engine) == "failed"
    assert screen.message == tr("face.no_match", app.lang)
    face = engine.applicant["authentication"]["face"]
    assert face["distance"] > face["threshold"] and face["liveness"] == "not_checked"
    d.screenshot("face-check-no-match")
    assert not app.next_step() and d.screen == "step-face_check"       # a refused face cannot go on

    full = screen_module.PHASE_TIMEOUT_S
    monkeypatch.setattr(screen_module, "PHASE_TIMEOUT_S", 3.0)   # a still photo times out sooner than 8 s
    _try(app, d, screen, "printed")
    monkeypatch.setattr(screen_module, "PHASE_TIMEOUT_S", full)
    assert screen.state == "result" and screen.tries == 2 and outcome(engine) == "failed"
    assert screen.message == tr("face.not_live", app.lang)
    face = engine.applicant["authentication"]["face"]
    # the printed photo IS the card holder's photo: the match passes, the liveness does not
    assert face["distance"] <= face["threshold"] and face["liveness"] == "failed"
    d.screenshot("face-check-printed-photo")

    _try(app, d, screen, "stranger")                 # the third failure: staff are called by themselves
    assert screen.state == "staff" and screen.tries == 3
    from kiosk.ui.widgets import help_call

    assert help_call.current_call() is not None, "the staff path opens the help call"
    close_help_panel(d, app)
    d.wait_for(lambda: help_call.current_call().state == "sent", 15, "the help call reaching central")
    # the officer acknowledges at the counter PC and takes the one-time code to the kiosk
    code = _acknowledge(app, "Cán bộ Lan, quầy 2")
    d.screenshot("face-check-staff")
    wrong = "000000" if code != "000000" else "111111"
    _type(d, app, wrong)
    d.wait_for(lambda: "Còn 4 lần thử" in screen.msg.text, 10, "the wrong code refused by central")
    assert screen.state == "staff" and outcome(engine) == "failed"
    _type(d, app, code)
    d.wait_for(lambda: outcome(engine) == "fallback_staff", 10, "the staff confirmation")
    auth = engine.applicant["authentication"]
    # the dossier names who confirmed: the account the code was given to (here the staff API's "by")
    assert auth["face"]["confirmed_by"] == "officer:Cán bộ Lan, quầy 2" and auth["face"]["tries"] == 3
    # the code is spent: typed again (another visit, the same call) it is refused
    from kiosk.client import Rejected

    with pytest.raises(Rejected):
        app.services.client.confirm_help_call(help_call.current_call().uuid, code)
    assert "jpeg" not in json.dumps(auth).lower()
    d.screenshot("face-check-staff-confirmed")
    d.tap(tr("nav.next", app.lang))
    d.wait_screen("step-form")


def test_card_holder_passes_and_the_citizen_may_ask_staff_at_once(kiosk):
    from flows.steps.face_check import outcome
    from kiosk.ui.i18n import tr

    app, d, _cfg = kiosk
    screen = _to_face_step(app, d)
    _try(app, d, screen, "card_holder")
    assert screen.state == "done" and outcome(app.session.engine) == "passed", screen.message
    face = app.session.engine.applicant["authentication"]["face"]
    assert face["liveness"] == "passed" and face["distance"] < face["threshold"] and face["tries"] == 1
    d.screenshot("face-check-passed")
    # a new visit: the staff button works before any try, and the frames are gone with the screen
    screen = _to_face_step(app, d)
    assert screen.state == "intro" and screen.tries == 0
    d.tap(tr("face.ask_staff", app.lang), exact=True)
    assert screen.state == "staff"
    d.pump(5)
    assert screen._latest is None and screen._worker is None


def test_without_the_network_staff_confirm_with_the_kiosk_pin(kiosk):
    """No code can be checked without central: the officer switches to the kiosk PIN (back-off and
    lock-out of kiosk.pin_guard), and the dossier says only that the PIN was used."""
    from flows.steps.face_check import outcome
    from kiosk.ui.i18n import tr
    from kiosk.ui.steps.face_check import close_help_panel

    app, d, _cfg = kiosk
    screen = _to_face_step(app, d)
    d.tap(tr("face.ask_staff", app.lang), exact=True)
    assert screen.state == "staff" and screen.staff_mode == "code"
    close_help_panel(d, app)
    d.tap(tr("face.use_pin", app.lang), exact=True)
    assert screen.staff_mode == "pin"
    d.screenshot("face-check-staff-pin")
    _type(d, app, "111111")
    assert screen.state == "staff" and screen.msg.text == tr("maint.wrong", app.lang)
    _type(d, app, "246810")                             # the demo kiosk's staff PIN (config/kiosk.toml)
    d.wait_for(lambda: outcome(app.session.engine) == "fallback_staff", 10, "the staff confirmation")
    assert app.session.engine.applicant["authentication"]["face"]["confirmed_by"] == "staff_pin"


def test_a_code_typed_while_central_is_unreachable_offers_the_pin(kiosk, monkeypatch):
    """The network goes after the call reached central: the code cannot be checked, so the screen
    says so and turns to the kiosk PIN itself (the client really connects to a closed port)."""
    from kiosk.ui.i18n import tr
    from kiosk.ui.steps.face_check import close_help_panel
    from kiosk.ui.widgets import help_call

    app, d, _cfg = kiosk
    screen = _to_face_step(app, d)
    d.tap(tr("face.ask_staff", app.lang), exact=True)
    close_help_panel(d, app)
    d.wait_for(lambda: help_call.current_call().state == "sent", 15, "the help call reaching central")
    code = _acknowledge(app, "Quầy 3")
    monkeypatch.setattr(app.services.client, "url", "http://127.0.0.1:9")   # nothing listens on the discard port
    _type(d, app, code)
    d.wait_for(lambda: screen.staff_mode == "pin", 30, "the PIN offered")
    assert "mã PIN" in screen.message and screen.state == "staff"
