"""Debian's chromium, headless, through Debian's chromium-driver (Selenium): the real browser the
officers' console and the waiting-room display are tested in (tests marked ``browser``) and
`make demo` photographs.

No browser is downloaded: Selenium Manager is bypassed by naming /usr/bin/chromedriver, and the
binary is /usr/bin/chromium, both from scripts/apt-packages.txt."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def available() -> str | None:
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (Debian packages chromium and chromium-driver: make setup installs them)"
    return None


@contextmanager
def chromium(width: int = 1366, height: int = 900, lang: str = "vi-VN", autoplay: bool = False):
    """A headless chromium WebDriver; its profile is a temporary folder removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kiosk-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", f"--lang={lang}", f"--user-data-dir={profile}",
                "--no-first-run", "--disable-extensions", "--mute-audio"):
        opts.add_argument(arg)
    if autoplay:  # the waiting-room display plays its chime and spoken number without a click
        opts.add_argument("--autoplay-policy=no-user-gesture-required")
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
