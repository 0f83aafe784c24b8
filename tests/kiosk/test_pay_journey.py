"""Issue 22, done when: chứng thực bản sao for 2 pages through the real app (the demo config: payments
on, a test account) against the embedded central over HTTP; the scripted citizen pays through the
simulated bank (a signed gateway notification), and the receipt on screen and on paper says the
4.000 đồng were paid. Also: the VietQR code read back from a screenshot of the pay screen by the
project's QR pipeline; "Nộp tại quầy" gives a receipt that says to pay at the desk; the status lookup
shows the payment; the whole of it by keypad with the amount said in the speech mode.

One app for the module (Kivy has one window per process); screenshots under out/test-screens/pay/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens" / "pay"
FLOW = "chung-thuc-ban-sao"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    with kiosk_app(tmp_path_factory, ARTEFACTS) as kiosk:
        yield kiosk


@pytest.fixture
def at_home(kiosk):
    app, d, cfg = kiosk
    app.close_idle_warning()
    if d.screen != "home":
        app.end_session()
    d.wait_screen("home")
    return kiosk


def two_pages(d, seen: dict):
    """``observe`` for the walk: on the form with the flow's ``pages`` field, tap its "2" (the
    citizen's original has two pages), once; the scripted citizen answers the rest."""
    from kiosk.tools.journeys import _tap_in

    def observe(name, _d):
        screen = d.app.sm.current_screen
        widgets = getattr(screen, "widgets", {}) or {}
        if "pages" in widgets and not seen.get("pages"):
            _tap_in(d, widgets["pages"], "2")
            seen["pages"] = True

    return observe


def _screen_texts(d) -> str:
    from kivy.uix.label import Label

    return "\n".join(w.text for r in d._roots() for w in d._walk(r) if isinstance(w, Label) and w.text)


def _shot(d, suffix: str) -> Path:
    return next(p for p in reversed(d.shots) if p.stem.endswith(suffix))


def test_two_pages_paid_through_the_simulated_bank_and_the_receipt_says_so(at_home):
    import cv2

    from common.vietqr import parse_payload
    from devices.printer.layout import text_lines
    from devices.qr.pipeline import decode_frame
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    assert app.services.sim_bank and cfg["payments"]["enabled"]  # the demo config pays at the kiosk
    seen: dict = {}
    res = walk_procedure(d, FLOW, finish=False, observe=two_pages(d, seen))
    assert seen.get("pages") and app.session.engine.answers["pages"] == 2
    out = app.session.outcome
    assert not out.provisional and out.payment_due == 4000
    assert f"{FLOW}-nop-pay" in res.screens  # the pay screen came between submit and the receipt

    # the code on the screen, read back from its screenshot by the kiosk's own QR pipeline
    frame = cv2.imread(str(_shot(d, f"{FLOW}-nop-pay")))
    payloads = [r.text for r in decode_frame(frame, budget_ms=2000)]
    vietqr = [parse_payload(p) for p in payloads if p.startswith("000201")]
    assert vietqr, payloads
    qr = vietqr[0]
    assert str(qr.get("amount")) == "4000" and qr.get("bill") == out.code, qr

    # central says paid, and so do the screen and the paper (printed after the payment was known)
    assert out.payment["state"] == "paid" and out.payment["amount_paid"] == 4000
    assert app.services.payment(out.code)["state"] == "paid"
    assert d.screen == "step-receipt" and out.printed
    screen = _screen_texts(d)
    assert "Đã thanh toán lệ phí 4.000 đồng lúc" in screen, screen
    paper = "\n".join(text_lines("receipt", out.receipt))
    assert "Đã thanh toán lệ phí 4.000 đồng lúc" in paper and "Lệ phí phải nộp" not in paper
    assert out.png_path and Path(out.png_path).exists()

    # the status lookup shows it too (central's answer, as the lookup screen words it)
    from kiosk.ui.screens.lookup import status_details

    status = app.services.lookup(out.code, out.lookup_secret)
    assert status["payment"]["state"] == "paid"
    assert any(line.startswith("Lệ phí: đã thanh toán 4.000 đồng lúc") for line in status_details(status, out.code, "vi"))


def test_pay_at_the_desk_gives_a_receipt_that_says_not_paid(at_home):
    from devices.printer.layout import text_lines
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    secret = cfg["central"]["payment_gateway_secret"]
    cfg["central"]["payment_gateway_secret"] = ""  # no simulated bank: the citizen presses "Nộp tại quầy"
    try:
        walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    finally:
        cfg["central"]["payment_gateway_secret"] = secret
    out = app.session.outcome
    assert out.payment["state"] == "unpaid" and out.printed
    assert "Lệ phí phải nộp: 4.000 đồng. Chưa thanh toán: nộp tại quầy." in _screen_texts(d)
    assert "Chưa thanh toán: nộp tại quầy." in "\n".join(text_lines("receipt", out.receipt))
    status = app.services.lookup(out.code, out.lookup_secret)
    assert status["payment"]["state"] == "unpaid"


def test_the_pay_screen_by_keypad_says_the_amount(at_home):
    from kiosk.tools.journeys import walk_procedure_by_keys

    app, d, cfg = at_home
    res = walk_procedure_by_keys(app, FLOW, shots_dir=ARTEFACTS / "keypad", finish=False,
                                 observe=two_pages_keys(app, {}))
    assert res.keypad_only
    out = app.session.outcome
    assert out.payment["state"] == "paid"
    said = [t for s, t in res.spoken if s == "pay"]
    assert any("4.000 đồng" in t for t in said), said


def two_pages_keys(app, seen: dict):
    """``two_pages`` for the keypad walk: the driver is the walk's own (the current one)."""
    def observe(name, d):
        from kiosk.tools.journeys import _tap_in

        screen = app.sm.current_screen
        widgets = getattr(screen, "widgets", {}) or {}
        if "pages" in widgets and not seen.get("pages"):
            _tap_in(d, widgets["pages"], "2")
            seen["pages"] = True

    return observe
