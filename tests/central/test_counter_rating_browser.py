"""The rating tablet at a counter in a real browser (Debian's chromium, headless, a 1280×800 tablet):
the officer calls and serves a ticket in the console, the tablet at that counter asks "Quý khách có
hài lòng không?" within 1 s, a tap on "Hài lòng" stores the rating, the tablet thanks and goes back to
idle, and the supervisor's ratings page has it under that counter's name. Screenshot for `make demo`
and the docs: out/test-screens/centre/rate-counter.png."""
import time
import uuid as uuidlib
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from central.console.accounts import Accounts
from central.queue import Queue
from central.ratings import Ratings
from central.service import KioskIdentity
from kiosk.tools import browser
from testkit.central import KIOSK_ID, start_central, wait_until

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "centre"
CENTRE = "00004"
KIOSK = KioskIdentity(KIOSK_ID, "01", CENTRE)
PASSWORD = "mat-khau-quay-2-2026"


@pytest.fixture
def srv(tmp_path):
    reason = browser.available()
    assert reason is None, reason
    s = start_central(str(tmp_path / "central.sqlite3"))
    yield s
    s.stop()


def login(driver, base: str, username: str) -> None:
    driver.get(f"{base}/console/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    assert wait_until(lambda: "/console/login" not in driver.current_url, 10), driver.current_url


def test_a_served_ticket_is_rated_on_the_counters_tablet(srv):
    base = srv.url
    q = Queue(srv.central)
    q.add_counter(CENTRE, "1", "Quầy 1", [])
    q.add_counter(CENTRE, "2", "Quầy 2 — Hộ tịch", [])
    accounts = Accounts(srv.central)
    accounts.add("canbo.quay2", PASSWORD, "officer", CENTRE, "Nguyễn Thị Lan")
    accounts.add("lanhdao", PASSWORD, "supervisor", CENTRE, "Trần Văn Hùng")
    ticket = q.take_ticket(KIOSK, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    with browser.chromium(1280, 800) as tablet, browser.chromium(1366, 900) as officer:
        tablet.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        tablet.get(f"{base}/rate/{CENTRE}/2")
        assert wait_until(lambda: tablet.execute_script("return !!window.rateLog"), 10)
        assert tablet.find_element(By.ID, "idle").is_displayed()
        assert "Cảm ơn Quý khách đã đến" in tablet.find_element(By.ID, "idle").text
        assert not tablet.find_element(By.ID, "question").is_displayed()

        login(officer, base, "canbo.quay2")
        officer.get(f"{base}/console/counter/2")
        officer.find_element(By.ID, "call-next").click()
        assert wait_until(lambda: officer.find_elements(By.ID, "current-number"), 10)
        assert officer.find_element(By.ID, "current-number").text.strip() == ticket["number"]
        time.sleep(0.5)  # a call is not a serve: the tablet still waits
        assert tablet.find_element(By.ID, "idle").is_displayed()
        served_ms = time.time() * 1000  # before the click: the serve is committed during it
        officer.find_element(By.ID, "served").click()
        asked = wait_until(lambda: tablet.execute_script(
            "var a = window.rateLog.asked; return a.length ? a[a.length - 1] : null;"), 5)
        assert asked and asked["number"] == ticket["number"], asked
        # measured from before the click (form post, serve, redirect): an upper bound of serve → question
        print("served (click) → question on the tablet (ms):", round(asked["at"] - served_ms))
        assert asked["at"] - served_ms < 1000
        question = tablet.find_element(By.ID, "question")
        assert question.is_displayed()
        assert ("Quý khách vừa được phục vụ tại Quầy 2 — Hộ tịch. Quý khách có hài lòng không?"
                in " ".join(question.text.split()))
        buttons = [b.text.split("\n") for b in tablet.find_elements(By.CSS_SELECTOR, "#rate-form button.level")]
        assert buttons == [["Rất hài lòng", "Very satisfied"], ["Hài lòng", "Satisfied"], ["Bình thường", "Neutral"],
                           ["Chưa hài lòng", "Not satisfied"]], buttons
        SHOTS.mkdir(parents=True, exist_ok=True)
        tablet.save_screenshot(str(SHOTS / "rate-counter.png"))

        tablet.find_element(By.ID, "level-good").click()
        assert wait_until(lambda: tablet.find_element(By.ID, "thanks").is_displayed(), 5)
        assert "Cảm ơn Quý khách!" in tablet.find_element(By.ID, "thanks").text
        sent = tablet.execute_script("return window.rateLog.sent")
        assert [(s["ticket_id"], s["level"], s["status"]) for s in sent] == [(ticket["id"], "good", 201)], sent
        assert wait_until(lambda: tablet.find_element(By.ID, "idle").is_displayed(), 8)  # back to idle after the thanks

        s = Ratings(srv.central).summary(CENTRE, ticket["day"], ticket["day"])
        assert [(c["counter"], c["counter_name"], c["levels"]["good"]) for c in s["by_counter"]] == [("2", "Quầy 2 — Hộ tịch", 1)]
        assert [(r["service_id"], r["service_name"]) for r in s["by_service"]] == [("ho-tich", "Hộ tịch")]

        officer.find_element(By.ID, "logout").click()
        login(officer, base, "lanhdao")
        officer.get(f"{base}/console/ratings")
        by_counter = officer.find_element(By.ID, "ratings-by_counter").text
        assert "Quầy 2 — Hộ tịch (quầy 2) 1 100%" in by_counter, by_counter
        assert "Tại ki-ốt" not in by_counter
