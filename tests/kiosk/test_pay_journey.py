"""Issue 22, done when: chứng thực bản sao for 2 pages through the real app (the demo config: payments
on, a test account) against the embedded central over HTTP; the scripted citizen pays through the
simulated bank (a signed gateway notification), and the receipt on screen and on paper says the
4.000 đồng were paid. Also: the VietQR code read back from a screenshot of the pay screen by the
project's QR pipeline; "Nộp tại quầy" gives a receipt that says to pay at the desk, and once an
officer records the payment at the counter the lookup says so; the status lookup shows the payment;
the consent screen says the amount before the citizen agrees; the whole of it by keypad with the
amount said in the speech mode.

One app for the module (Kivy has one window per process); screenshots under out/test-screens/pay/.
"""
from __future__ import annotations

import time

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
    from testkit.kiosk_app import back_home

    back_home(*kiosk[:2])
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
    pages = two_pages(d, seen)

    def observe(name, _d):
        pages(name, _d)
        if name == "step-submit" and "consent" not in seen:
            # the consent screen, before the citizen agrees: the amount in đồng, nothing filed yet
            seen["consent"] = (_screen_texts(d), app.session.outcome)

    res = walk_procedure(d, FLOW, finish=False, observe=observe)
    assert seen.get("pages") and app.session.engine.answers["pages"] == 2
    consent, filed = seen["consent"]
    assert filed is None, "the consent screen came after the dossier was filed"
    assert "Lệ phí phải nộp" in consent and "\n4.000 đồng\n" in f"\n{consent}\n", consent
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

    # the citizen pays at the desk and the officer records it (the console's form: central.payments):
    # the kiosk's payment answer and the lookup then say paid, at the desk, with the time
    from central.payments import Payments
    from kiosk.ui.screens.lookup import status_details

    Payments(app.central_server.central).record_counter(out.code, 4000, "AA/26E 0001234", by="lan")
    assert app.services.payment(out.code)["method"] == "counter"
    status = app.services.lookup(out.code, out.lookup_secret)
    assert status["payment"]["state"] == "paid" and status["payment"]["method"] == "counter"
    lines = status_details(status, out.code, "vi")
    assert any(line.startswith("Lệ phí: đã thanh toán 4.000 đồng tại quầy lúc ") for line in lines), lines
    assert any(line.startswith("Fee: 4,000 VND paid at the desk at ") for line in status_details(status, out.code, "en"))


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


def _citizen_on_pay_screen(monkeypatch, act):
    """Replace what the scripted citizen does on the pay screen (kiosk/ui/steps/submit.pay) with
    ``act(w, screen)``; the rest of the walk is the usual one."""
    import kiosk.ui.steps.submit as submit_step

    def pay(w, label):
        w.d.wait_for(lambda: w.d.screen == "pay", 10, "the pay screen")
        act(w, w.app.sm.current_screen)
        w.d.wait_for(lambda: w.d.screen != "pay", 60, "the receipt")

    monkeypatch.setattr(submit_step, "pay", pay)


def test_a_wrong_amount_is_flagged_and_sends_the_citizen_to_the_desk(at_home, monkeypatch):
    from kiosk.tools.journeys import walk_procedure
    from kiosk.ui.i18n import tr

    app, d, _ = at_home

    def act(w, screen):
        # the citizen's bank sent 3.000 đồng instead of 4.000: the simulated bank says so to central
        answer = app.services.sim_pay(screen.outcome.code, 3000)
        assert answer["status"] == 200 and answer["result"] == "flagged", answer
        w.d.wait_for(lambda: screen.state == "flagged", 15, "the flagged payment")
        w.d.pump(3)
        assert w.d.has_text(tr("pay.flagged", "vi")[:40])
        assert screen.sim_button is None  # nothing more to pay, not even in the demo
        w.d.screenshot("pay-flagged")
        w.tap("pay.counter", exact=True)

    _citizen_on_pay_screen(monkeypatch, act)
    walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    out = app.session.outcome
    assert out.payment["state"] == "flagged" and out.printed
    assert "Khoản đã chuyển cần cán bộ kiểm tra: xin hỏi tại quầy." in _screen_texts(d)
    assert "cần cán bộ kiểm tra" in out.receipt["payment"] and "Đã thanh toán" not in out.receipt["payment"]


def test_after_wait_s_the_screen_says_to_finish_and_pay_at_the_desk(at_home, monkeypatch):
    from kiosk.tools.journeys import walk_procedure
    from kiosk.ui.i18n import tr

    app, d, cfg = at_home

    def act(w, screen):
        assert not w.d.has_text(tr("pay.wait_over", "vi")[:30])
        screen.started -= float(cfg["payments"]["wait_s"])  # the citizen has stood there wait_s already
        w.d.wait_for(lambda: w.d.has_text(tr("pay.wait_over", "vi")[:30]), 3 * cfg["payments"]["poll_s"] + 5,
                     "the plain words after wait_s")
        w.d.screenshot("pay-wait-over")
        w.tap("pay.counter", exact=True)

    _citizen_on_pay_screen(monkeypatch, act)
    walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    out = app.session.outcome
    assert out.payment["state"] == "unpaid" and out.printed


def test_paying_on_the_phone_is_not_interrupted_by_the_idle_warning(at_home, monkeypatch):
    """The citizen looks at their phone, not the kiosk: the pay screen holds off "are you still
    there?" until after wait_s, when the screen itself says to pay at the counter."""
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    k = cfg["kiosk"]

    def act(w, screen):
        timeout, warning = app.idle_limits()
        assert timeout == cfg["payments"]["wait_s"] + warning > k["idle_timeout_s"]
        # longer without a touch than the usual timeout: no warning, no wipe
        app.session.last_activity = time.monotonic() - k["idle_timeout_s"] - 5
        w.d.pump(3)
        time.sleep(1.2)  # the idle tick runs every second
        w.d.pump(3)
        assert app.idle_modal is None and w.d.screen == "pay"
        w.tap("pay.counter", exact=True)

    _citizen_on_pay_screen(monkeypatch, act)
    walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    assert app.idle_limits()[0] == k["idle_timeout_s"]  # back to the usual once the pay screen is left


def test_an_idle_wipe_on_the_pay_screen_still_prints_the_receipt_once(at_home, monkeypatch):
    from kiosk.tools.journeys import walk_procedure

    app, d, _ = at_home
    kept = {}

    class Left(Exception):
        """The citizen walked away: the scripted walk ends here."""

    def act(w, screen):
        kept["outcome"] = screen.outcome
        app.end_session()  # what the idle timeout does
        w.d.wait_screen("home")
        raise Left

    _citizen_on_pay_screen(monkeypatch, act)
    failed_shots = set(ARTEFACTS.glob("*FAILED*.png"))
    # the walk ends with the expected exception: no "FAILED-…" screenshot of it (walk_procedure
    # takes one of any exception when the driver has a shots folder)
    shots_dir, d.shots_dir = d.shots_dir, None
    try:
        with pytest.raises(Left):
            walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    finally:
        d.shots_dir = shots_dir
    assert set(ARTEFACTS.glob("*FAILED*.png")) == failed_shots
    out = kept["outcome"]
    d.wait_for(lambda: out.printed, 15, "the receipt printed after the wipe")
    assert out.payment["state"] == "unpaid" and out.png_path
    assert app.services.finish_receipt(out, {"state": "paid"}).payment["state"] == "unpaid"  # once only


def test_the_pay_screen_passes_the_screen_audit_in_every_variant(at_home, monkeypatch):
    """kiosk.tools.screen_audit on the real pay screen, in Vietnamese and English, normal and ×2
    text, normal and high contrast: nothing clipped, text and edges contrasted enough, controls
    big and far enough apart, the help-call button and the speech key there."""
    from kiosk.tools.journeys import walk_procedure
    from kiosk.tools.screen_audit import audit_variants

    app, d, _ = at_home
    found = {}

    def act(w, screen):
        found["findings"], found["stats"] = audit_variants(w.d, "pay", shots_dir=ARTEFACTS / "audit", label="pay")
        assert screen.state == "waiting" and screen._png  # the audit saw the screen with its code
        w.tap("pay.sim")

    _citizen_on_pay_screen(monkeypatch, act)
    walk_procedure(d, FLOW, finish=False, shoot=False, observe=two_pages(d, {}))
    assert len(found["stats"]) >= 4, found["stats"].keys()
    assert not found["findings"], "\n".join(f"{f.lang}/{f.theme}/{'large' if f.large_text else 'normal'} {f.kind}: "
                                            f"{f.text[:60]!r} {f.detail}" for f in found["findings"])
