"""The waiting-room display in a real browser (Debian's chromium, headless, 1920×1080 like the TV): a
counter calls a number and the page shows it within 1 s, then plays the chime and the spoken
number; without the autoplay permission the page asks for one click. Screenshot for `make demo`:
out/test-screens/centre/display.png."""
import time
import uuid as uuidlib
from pathlib import Path

import pytest

from central.queue import Queue
from central.service import KioskIdentity
from kiosk.tools import browser
from testkit.central import KIOSK_ID, start_central, wait_until

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "centre"
CENTRE = "00004"
KIOSK = KioskIdentity(KIOSK_ID, "01", CENTRE)


@pytest.fixture
def srv(tmp_path, monkeypatch):
    reason = browser.available()
    assert reason is None, reason
    monkeypatch.setenv("CENTRAL_SPEECH_CACHE", str(tmp_path / "speech"))
    s = start_central(str(tmp_path / "central.sqlite3"))
    yield s
    s.stop()


def test_a_call_appears_on_the_display_within_a_second_and_is_announced(srv):
    q = Queue(srv.central)
    for counter in ("1", "2", "3"):
        q.add_counter(CENTRE, counter, f"Quầy {counter}", [])
    for _ in range(6):
        q.take_ticket(KIOSK, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    # two numbers called before the page opens: the list under "Các số vừa gọi"
    for counter in ("1", "2"):
        t = q.call_next(CENTRE, counter, by="can-bo")
        q.finish(CENTRE, t["id"], "served", by="can-bo")
    with browser.chromium(1920, 1080, autoplay=True) as driver:
        # the TV's whole 1920×1080 (headless chromium's window keeps some of it for its own frame)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        driver.get(f"{srv.url}/display/{CENTRE}")
        assert wait_until(lambda: driver.execute_script("return !!window.displayLog"), 10)
        assert driver.find_element("id", "now-number").text == "A002"
        assert not driver.find_element("id", "sound").is_displayed()  # sound allowed: no notice
        time.sleep(0.3)  # the page's first long-poll is waiting at the server
        latencies, called = [], None
        for counter in ("3", "1"):
            if called is not None:  # counter 1 finished A001 above; counter 3 now serves A003
                q.finish(CENTRE, called["id"], "served", by="can-bo")
            called = q.call_next(CENTRE, counter, by="can-bo")
            made_ms = time.time() * 1000
            shown = wait_until(lambda: driver.execute_script(
                "var s = window.displayLog.shown; return s.length ? s[s.length - 1] : null;")
                if driver.find_element("id", "now-number").text == called["number"] else None, 5)
            assert shown and shown["number"] == called["number"], shown
            latencies.append(shown["at"] - made_ms)
            assert driver.find_element("id", "now-counter").text == f"Quầy {counter}"
            time.sleep(0.4)
        print("call → shown on the display (ms):", [round(x) for x in latencies])
        assert max(latencies) < 1000, latencies
        # the earlier calls moved down into the list
        assert [e.text.split("\n")[0] for e in driver.find_elements("css selector", "#recent li .n")][:3] == ["A003", "A002", "A001"]
        # the chime, then the spoken number, for each call
        played = wait_until(lambda: len(driver.execute_script("return window.displayLog.played")) >= 4 and
                            driver.execute_script("return window.displayLog.played"), 20)
        urls = [p["url"].split(srv.url)[-1] for p in played]
        assert urls[0] == "/display/static/chime.wav" and urls[1].startswith(f"/display/{CENTRE}/speech/"), urls
        assert urls[2] == "/display/static/chime.wav" and urls[3].startswith(f"/display/{CENTRE}/speech/"), urls
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / "display.png"))
        # nothing personal and no service name on the screen: numbers and counters only
        assert "Hộ tịch" not in driver.find_element("tag name", "body").text


def test_without_autoplay_the_page_asks_for_one_click(srv):
    Queue(srv.central).add_counter(CENTRE, "1", "Quầy 1", [])
    with browser.chromium(1920, 1080, autoplay=False) as driver:
        driver.get(f"{srv.url}/display/{CENTRE}")
        assert wait_until(lambda: driver.execute_script("return !!window.displayLog"), 10)
        notice = driver.find_element("id", "sound")
        assert notice.is_displayed() and "Bấm vào màn hình để bật âm thanh" in notice.text
        driver.find_element("tag name", "body").click()
        assert wait_until(lambda: not notice.is_displayed(), 3)
