"""Issue 19, the centre end to end in a real browser: a citizen files a dossier on the kiosk (the
real app, offscreen) and takes a number for the counter from the receipt; an officer logs in to the
console in Debian's chromium, calls the number; the waiting-room display (a second chromium, the
TV) shows it; the officer opens the ticket's dossier, marks it ready with a note; the citizen shows
the receipt's QR to the kiosk's lookup and reads "ready".

The central system is the kiosk's embedded one, over real HTTP. Screenshots (the console's queue,
inbox and dossier pages, the display) go to out/test-screens/centre/."""
from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from kiosk.tools.browser import available, chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "centre"

pytestmark = [pytest.mark.browser, pytest.mark.skipif(available() is not None, reason=str(available()))]


def _wait(predicate, timeout: float, what: str, pump=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pump is not None:
            pump()
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_ticket_called_shown_worked_and_looked_up(tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from central.console.accounts import Accounts
    from central.queue import Queue
    from devices.qr.payloads import build_receipt_qr
    from kiosk.tools.journeys import walk_procedure
    from testkit.kiosk_app import kiosk_app

    SHOTS.mkdir(parents=True, exist_ok=True)
    with kiosk_app(tmp_path_factory, SHOTS / "kiosk") as (app, d, cfg):
        server = app.central_server
        central, base = server.central, server.url
        centre = cfg["kiosk"]["commune_code"]
        Queue(central).add_counter(centre, "3", "Quầy 3", [])
        password = secrets.token_urlsafe(12)
        Accounts(central).add("canbo.quay3", password, "officer", centre, "Cán bộ quầy 3")

        # the citizen: a certified copy filed, then "a number to show the originals" on the receipt
        res = walk_procedure(d, "chung-thuc-ban-sao", shoot=False, finish=False)
        assert res.code and not res.provisional
        d.wait_screen("step-receipt", 20)
        d.tap("Lấy số thứ tự để nộp bản chính")
        ticket_screen = app.sm.get_screen("ticket")
        d.wait_for(lambda: ticket_screen.outcome is not None, 20, "the number")
        number = ticket_screen.outcome.number
        assert number and not ticket_screen.outcome.offline, ticket_screen.outcome
        # the first in line is told so ("Chưa có ai trước Quý khách · sắp đến lượt"), later ones how many
        from kiosk.services import ticket_wait_text

        assert d.has_text(number) and d.has_text(ticket_wait_text(ticket_screen.outcome))
        assert ticket_screen.outcome.people_ahead != 0 or d.has_text("Chưa có ai trước Quý khách · sắp đến lượt")
        d.screenshot("ticket-for-originals")
        d.tap("Hoàn tất")
        d.wait_screen("rating")
        d.tap("Rất hài lòng")  # through the outbox to central, about this procedure's field
        d.wait_screen("home", 30)
        from central.ratings import Ratings
        from common import clock

        today = clock.today().isoformat()
        _wait(lambda: Ratings(central).summary(centre, today, today)["total"]["count"] == 1, 20, "the rating at central")
        by_service = Ratings(central).summary(centre, today, today)["by_service"]
        assert [(r["service_id"], r["count"], r["satisfied"]) for r in by_service] == [("chung-thuc", 1, 1)], by_service

        with chromium(1920, 1080, autoplay=True) as tv, chromium(1366, 768) as officer:
            tv.get(f"{base}/display/{centre}")
            # the TV's clock says Vietnam's time, though this browser runs in UTC
            vn = [time.strftime("%H:%M", time.gmtime(time.time() + 7 * 3600 + d)) for d in (-60, 0, 60)]
            assert tv.find_element(By.ID, "clock").text.strip() in vn, vn

            officer.get(f"{base}/console/login")
            officer.find_element(By.NAME, "username").send_keys("canbo.quay3")
            officer.find_element(By.NAME, "password").send_keys(password)
            officer.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
            _wait(lambda: "/console/login" not in officer.current_url, 10, "the officer logged in")
            officer.get(f"{base}/console/counter/3")
            officer.save_screenshot(str(SHOTS / "console-counter-before.png"))
            officer.find_element(By.ID, "call-next").click()
            called_at = time.monotonic()
            _wait(lambda: officer.find_elements(By.ID, "current-number"), 10, "the called ticket on the counter page")
            assert officer.find_element(By.ID, "current-number").text.strip() == number
            # the TV shows it within a second of the call
            _wait(lambda: number in tv.find_element(By.TAG_NAME, "body").text, 1.0, "the number on the display")
            shown_after = time.monotonic() - called_at
            assert shown_after < 1.0
            tv.save_screenshot(str(SHOTS / "display.png"))
            officer.save_screenshot(str(SHOTS / "console-counter.png"))

            # the ticket carries the dossier: the officer opens it from the counter page
            link = officer.find_element(By.ID, "current-dossier")
            assert res.code in link.text or res.code in (link.get_attribute("href") or "")
            link.click()
            _wait(lambda: officer.find_elements(By.ID, "dossier-code"), 10, "the dossier page")
            assert officer.find_element(By.ID, "dossier-code").text.strip() == res.code
            officer.save_screenshot(str(SHOTS / "console-dossier.png"))
            for status, note in (("processing", ""), ("ready", "Mời ông/bà đến quầy 3 nhận bản sao.")):
                Select(officer.find_element(By.ID, "new-status")).select_by_value(status)
                if note:
                    officer.find_element(By.ID, "note").send_keys(note)
                officer.find_element(By.ID, "change-status").click()
                _wait(lambda s=status: officer.find_elements(By.ID, "dossier-status") and officer.find_element(
                    By.ID, "dossier-status").get_attribute("data-status") == s, 10, f"the status {status}")
            history = officer.find_element(By.ID, "history").text
            assert "Mời ông/bà đến quầy 3 nhận bản sao." in history and "canbo.quay3" in history, history
            officer.save_screenshot(str(SHOTS / "console-dossier-ready.png"))
            officer.get(f"{base}/console/inbox")
            assert res.code in officer.find_element(By.TAG_NAME, "body").text
            officer.save_screenshot(str(SHOTS / "console-inbox.png"))
            # back at the counter: the citizen was served
            officer.get(f"{base}/console/counter/3")
            officer.find_element(By.ID, "served").click()
            _wait(lambda: officer.find_elements(By.ID, "no-current"), 10, "the counter free again")

        # the citizen shows the receipt's QR at the kiosk's lookup: ready, with the officer's note
        with central.engine.connect() as conn:
            from sqlalchemy import select

            from central.db import dossiers

            secret = conn.execute(select(dossiers.c.lookup_secret).where(dossiers.c.dossier_code == res.code)).scalar_one()
        d.tap("Tra cứu hồ sơ")
        d.wait_screen("lookup")
        import datetime as dt

        app.services.scanner.inject(build_receipt_qr(res.code, secret, "2.000815", received_at=dt.datetime.now(),
                                                     appointment=dt.date.today()).encode())
        d.wait_for(lambda: d.has_text("Đã có kết quả, mời Quý khách đến nhận"), 20, "the status 'ready' on the kiosk")
        assert d.has_text("Mời ông/bà đến quầy 3 nhận bản sao.")
        d.screenshot("lookup-ready")
