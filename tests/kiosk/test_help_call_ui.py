"""The "Gọi cán bộ hỗ trợ" panel in the real Kivy app (headless, simulated devices) against the real
central system over HTTP: staff acknowledge through the HTTP endpoint and the citizen sees "Cán bộ
đang đến"; "Đóng" keeps the call; "Hủy gọi" cancels it; offline the call is kept and arrives later;
the English screen speaks English. Screenshots under out/test-screens/help-call/.

One app for the module (Kivy has one window per process); each test starts from home.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from testkit.central import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "help-call"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    # a short idle timeout: a citizen waiting for staff must not be wiped by it
    with kiosk_app(tmp_path_factory, SHOTS, extra="[kiosk]\nidle_timeout_s = 40\nidle_warning_s = 20\n") as (app, d, cfg):
        app.central_server.central.admin_token = ADMIN_TOKEN  # the staff API, as a centre would configure it
        yield app, d, cfg


@pytest.fixture
def at_home(kiosk):
    from testkit.kiosk_app import back_home

    back_home(*kiosk[:2])  # end_session forgets the visit's help call too
    return kiosk


def staff_calls(app, state="open"):
    r = requests.get(f"{app.central_server.url}/api/v1/help-calls", params={"state": state}, headers=STAFF, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["calls"]


def panel():
    from kivy.core.window import Window

    from kiosk.ui.widgets.help_call import HelpCallPanel

    found = [w for w in Window.children if isinstance(w, HelpCallPanel)]
    return found[0] if found else None


def not_blank(png: Path) -> None:
    img = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    assert img.std() > 20 and len(np.unique((img // 16).astype(np.uint8))) > 4, png.name


def into_a_procedure(d):
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    d.tap("Đăng ký khai sinh")


def test_staff_acknowledge_over_http_and_the_citizen_sees_cancel_bo_dang_den(at_home):
    from kiosk.ui.widgets.help_call import current_call, open_help_call

    app, d, _ = at_home
    into_a_procedure(d)
    screen = d.screen
    open_help_call()
    assert d.has_text("Gọi cán bộ hỗ trợ") and d.has_text("Đang gọi cán bộ…")
    d.wait_for(lambda: current_call() is not None and current_call().state == "sent", 15, "the call reaching central")
    [seen] = staff_calls(app)
    assert seen["uuid"] == current_call().uuid and seen["flow_id"] == "khai-sinh" and seen["screen"] == screen
    assert seen["language"] == "vi" and seen["kiosk_id"] == app.cfg["kiosk"]["id"]
    d.screenshot("help-call-sent")
    r = requests.post(f"{app.central_server.url}/api/v1/help-calls/{seen['uuid']}/ack", json={"by": "Quầy 2"},
                      headers=STAFF, timeout=10)
    assert r.status_code == 200, r.text
    d.wait_for(lambda: d.has_text("Cán bộ đang đến"), 15, "Cán bộ đang đến")
    d.wait_for(lambda: any(t.startswith("Đã chờ") for t in d.texts()), 5, "the time waited")
    shot = d.screenshot("help-call-acknowledged")
    not_blank(shot)
    p = panel()
    assert isinstance(p.speech_text, str) and "Cán bộ đang đến" in p.speech_text and "Hủy gọi" in p.speech_text
    for label in ("Hủy gọi", "Đóng"):
        b = d.find_button(label, exact=True)
        assert b.height >= 72 and b.width >= 72, label
    from kiosk.ui.widgets.help_call import waited_text

    assert waited_text(65, "vi") == "Đã chờ 1 phút 05 giây" and waited_text(65, "en") == "Waiting for 1 min 05 s"
    assert waited_text(9, "vi") == "Đã chờ 9 giây"
    # the time waited moves every second, on the Kivy clock (the polling never blocks it)
    before = p.waited.text
    d.wait_for(lambda: p.waited.text != before, 5, "the time waited to move")
    d.tap("Hủy gọi", exact=True)
    d.wait_for(lambda: panel() is None, 5, "the panel to close")
    d.wait_for(lambda: bool(staff_calls(app, "cancelled")), 15, "the cancellation at central")


def test_close_keeps_the_call_and_reopening_shows_the_same_call(at_home):
    from kiosk.ui.widgets.help_call import current_call, open_help_call

    app, d, _ = at_home
    open_help_call()
    d.wait_for(lambda: current_call() is not None and current_call().state == "sent", 15, "the call reaching central")
    first = current_call().uuid
    d.tap("Đóng", exact=True)
    d.wait_for(lambda: panel() is None, 5, "the panel to close")
    assert d.screen == "home"
    open_help_call()
    assert current_call().uuid == first
    d.wait_for(lambda: d.has_text("Lời gọi đã được gửi đến cán bộ"), 5, "the same call's state")
    assert [c["uuid"] for c in staff_calls(app)] == [first]  # one call, not two
    # the visit ends: the call still waiting is cancelled, and the next visitor starts afresh
    from kiosk.ui.widgets.help_call import forget_help_call

    forget_help_call()
    app.end_session()
    d.wait_for(lambda: not staff_calls(app), 15, "the call cancelled with the visit")
    assert current_call() is None


def test_a_citizen_waiting_for_staff_is_not_wiped_by_the_idle_timeout(at_home):
    from kiosk.ui.widgets.help_call import current_call, open_help_call

    app, d, _ = at_home
    into_a_procedure(d)
    open_help_call()
    d.wait_for(lambda: current_call() is not None, 15, "the call")
    step = d.screen
    app.session.last_activity -= 25  # no touch for 25 s of a 40 s timeout: past its warning (at 20 s)
    # the panel's clock keeps the visit awake every half second: a warning the jump may have
    # raised before that goes again, and 16 s later (past the 40 s) nothing was wiped
    d.wait_for(lambda: app.session.idle_seconds() < 5 and app.idle_modal is None, 10, "the visit kept awake")
    deadline = time.monotonic() + 16
    while time.monotonic() < deadline:
        d.pump(2)
        assert app.idle_modal is None and d.screen == step and panel() is not None
    assert app.session.engine is not None and current_call().active


def test_offline_the_call_is_kept_said_plainly_and_arrives_when_central_is_back(at_home):
    from central.server import run_in_thread
    from kiosk.ui.widgets.help_call import current_call, open_help_call

    app, d, cfg = at_home
    # the previous visit's call is cancelled through the outbox when that visit ends: let the
    # cancellation reach central first, or it waits offline too and its call is still open below
    d.wait_for(lambda: not staff_calls(app), 15, "the previous visit's call cancelled")
    app.central_server.stop()
    try:
        open_help_call()
        d.wait_for(lambda: current_call() is not None, 20, "the call kept")
        assert current_call().state == "queued_offline"
        d.wait_for(lambda: d.has_text("Mạng đang chậm nên cán bộ có thể chưa thấy ngay"), 5, "the offline words")
        assert d.has_text("Đã ghi lại yêu cầu") and d.has_text("quầy hướng dẫn")
        not_blank(d.screenshot("help-call-offline"))
    finally:
        app.central_server = run_in_thread(cfg)
        app.central_server.central.admin_token = ADMIN_TOKEN
    # nobody touches anything: the sync worker's probe notices central and sends the call
    d.wait_for(lambda: current_call().uuid in {c["uuid"] for c in staff_calls(app)}, 30, "the kept call to arrive")
    assert [c["uuid"] for c in staff_calls(app)] == [current_call().uuid]
    d.wait_for(lambda: d.has_text("Lời gọi đã được gửi đến cán bộ"), 10, "the panel to say it was sent")


def test_the_english_screen_speaks_english(at_home):
    from kiosk.ui.widgets.help_call import current_call, open_help_call

    app, d, _ = at_home
    d.tap("English")
    open_help_call()
    assert d.has_text("Call staff for help") and d.has_text("Calling a staff member…")
    d.wait_for(lambda: current_call() is not None and current_call().state == "sent", 15, "the call")
    assert staff_calls(app)[0]["language"] == "en"
    requests.post(f"{app.central_server.url}/api/v1/help-calls/{current_call().uuid}/ack", json={"by": "Desk 2"},
                  headers=STAFF, timeout=10)
    d.wait_for(lambda: d.has_text("A staff member is coming"), 15, "A staff member is coming")
    assert d.find_button("Cancel the call") and d.find_button("Close", exact=True)
    assert "A staff member is coming" in panel().speech_text
    not_blank(d.screenshot("help-call-acknowledged-en"))
    d.tap("Close", exact=True)
    d.tap("Tiếng Việt")
