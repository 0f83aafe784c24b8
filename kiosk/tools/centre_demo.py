"""The simulated centre behind the demo kiosk: counters and console accounts in the embedded central
system, and `make demo`'s photographs of the officers' console, the waiting-room display and the
rating tablet at counter 1.

Only for the simulated demo (`make run`, `make demo`): the passwords are drawn fresh on every start
and printed once on the terminal that started it; nothing is shipped and no real deployment runs this
(``kiosk run`` calls it only when ``kiosk.deployment.simulated``)."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

COUNTERS = (("1", "Quầy 1"), ("2", "Quầy 2"), ("3", "Quầy 3"), ("4", "Quầy 4"))
OFFICER, SUPERVISOR, ADMIN = "canbo.demo", "lanhdao.demo", "tinh.demo"


@dataclass
class DemoCentre:
    centre: str
    console_url: str
    display_url: str
    rate_url: str
    officer_password: str
    supervisor_password: str
    admin_password: str

    def banner(self) -> str:
        return (f"kiosk: officers' console {self.console_url}  ({OFFICER} / {self.officer_password};"
                f" supervisor {SUPERVISOR} / {self.supervisor_password}; province admin {ADMIN} /"
                f" {self.admin_password}: drawn for this run only)\n"
                f"kiosk: waiting-room display {self.display_url}\n"
                f"kiosk: rating tablet of counter 1 {self.rate_url}")


def seed(server, cfg) -> DemoCentre:
    """Four counters and three accounts (an officer and a supervisor of the kiosk's commune, an admin
    of its province) with new random passwords; an account left by an earlier run gets the new
    password and is unlocked."""
    from central.console.accounts import Accounts
    from central.queue import Queue
    from central.service import CentralError

    central = server.central
    centre = cfg["kiosk"]["commune_code"]
    queue = Queue(central)
    have = {c["counter"] for c in queue.counters(centre)}
    for counter, name in COUNTERS:
        if counter not in have:
            queue.add_counter(centre, counter, name, [])
    accounts = Accounts(central)
    passwords = {}
    province = cfg["kiosk"]["province_code"]
    for username, role, shown in ((OFFICER, "officer", "Cán bộ một cửa (demo)"),
                                  (SUPERVISOR, "supervisor", "Lãnh đạo trung tâm (demo)"),
                                  (ADMIN, "admin", "Quản trị của tỉnh (demo)")):
        password = secrets.token_urlsafe(12)
        try:
            if role == "admin":
                accounts.add(username, password, role, "", shown, province_code=province)
            else:
                accounts.add(username, password, role, centre, shown)
        except CentralError:  # there from an earlier run of the same data folder
            accounts.set_password(username, password)
            accounts.unlock(username)
        passwords[role] = password
    return DemoCentre(centre, f"{server.url}/console/", f"{server.url}/display/{centre}", f"{server.url}/rate/{centre}/1",
                      passwords["officer"], passwords["supervisor"], passwords["admin"])


def photograph(server, demo: DemoCentre, out: Path) -> list[str]:
    """The console's pages (counter with a called number, inbox, a dossier, help calls, ratings; the
    province admin's fleet, intake and procedures), the TV display and counter 1's rating tablet
    asking about the ticket just served there (then rated "Hài lòng", so the ratings page has a
    counter row), in Debian's chromium; returns the PNG names written (none without chromium)."""
    from kiosk.tools.browser import available, chromium

    why = available()
    if why:
        log.warning("no console screenshots: %s", why)
        return []
    from selenium.webdriver.common.by import By

    out.mkdir(parents=True, exist_ok=True)
    base = server.url
    shots: list[str] = []

    def shot(driver, name: str) -> None:
        driver.save_screenshot(str(out / f"{name}.png"))
        shots.append(f"{name}.png")

    def login(driver, username: str, password: str) -> None:
        driver.get(f"{base}/console/login")
        driver.find_element(By.NAME, "username").send_keys(username)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.ID, "login").click()

    # the TV plays sound without a click (a real display's kiosk-mode browser is set up so: docs/centre.md),
    # so its picture shows the numbers, not the "click to turn the sound on" banner
    with chromium(1920, 1080, autoplay=True) as tv, chromium(1366, 900) as officer, chromium(1280, 800) as tablet:
        tv.get(demo.display_url)
        tablet.get(demo.rate_url)
        login(officer, OFFICER, demo.officer_password)
        shot(officer, "console-home")
        officer.get(f"{base}/console/counter/1")
        if officer.find_elements(By.ID, "call-next"):
            officer.find_element(By.ID, "call-next").click()
        shot(officer, "console-counter")
        called = officer.find_elements(By.ID, "current-number")
        number = called[0].text.strip() if called else ""
        if number and not _wait(lambda: tv.find_element(By.ID, "now-number").text.strip() == number, 3):
            log.warning("the display did not show %s within 3 s", number)
        shot(tv, "display")
        if not officer.find_elements(By.ID, "served"):  # nobody was waiting: a number for the tablet's picture
            _take_ticket(server, demo.centre)
            officer.get(f"{base}/console/counter/1")
            if officer.find_elements(By.ID, "call-next"):
                officer.find_element(By.ID, "call-next").click()
        if officer.find_elements(By.ID, "served"):
            officer.find_element(By.ID, "served").click()
            if _wait(lambda: tablet.find_element(By.ID, "question").is_displayed(), 3):
                shot(tablet, "rate-counter")
                tablet.find_element(By.ID, "level-good").click()
                _wait(lambda: tablet.find_element(By.ID, "thanks").is_displayed(), 3)
            else:
                log.warning("the rating tablet did not ask about the served ticket")
        officer.get(f"{base}/console/inbox")
        shot(officer, "console-inbox")
        links = officer.find_elements(By.CSS_SELECTOR, "#inbox a[href*='/console/dossiers/']")
        if links:
            links[0].click()
            shot(officer, "console-dossier")
        uid = _help_call(server, demo.centre)        # a citizen at the face check asks for a person
        officer.get(f"{base}/console/help-calls")
        shot(officer, "console-help-calls")
        if uid and officer.find_elements(By.ID, f"ack-{uid}"):
            officer.find_element(By.ID, f"ack-{uid}").click()   # "Tôi đến ngay": the one-time code
            shot(officer, "console-help-call-code")
        officer.find_element(By.ID, "logout").click()
        login(officer, SUPERVISOR, demo.supervisor_password)
        officer.get(f"{base}/console/ratings")
        shot(officer, "console-ratings")
        officer.find_element(By.ID, "logout").click()
        login(officer, ADMIN, demo.admin_password)  # the province's admin: its kiosks and intake
        for page in ("fleet", "intake", "procedures"):
            officer.get(f"{base}/console/{page}")
            shot(officer, f"console-{page}")
    return shots


def _first_kiosk(server, centre: str):
    """The centre's first registered kiosk (a KioskIdentity), or None: the demo acts as its citizen."""
    from sqlalchemy import select

    from central.db import kiosks
    from central.service import KioskIdentity

    with server.central.engine.connect() as conn:
        row = conn.execute(select(kiosks.c.kiosk_id, kiosks.c.province_code).where(kiosks.c.commune_code == centre).limit(1)).first()
    return None if row is None else KioskIdentity(row.kiosk_id, row.province_code, centre)


def _take_ticket(server, centre: str) -> None:
    """A ticket from the centre's first kiosk, as if a citizen took one (Hộ tịch)."""
    import uuid

    from central.queue import Queue

    kiosk = _first_kiosk(server, centre)
    if kiosk is not None:
        Queue(server.central).take_ticket(kiosk, str(uuid.uuid4()), "ho-tich", "Hộ tịch")


def _help_call(server, centre: str) -> str:
    """An open help call from the centre's first kiosk, made where the face check sends the citizen."""
    import uuid

    kiosk = _first_kiosk(server, centre)
    if kiosk is None:
        return ""
    uid = str(uuid.uuid4())
    server.central.create_help_call(kiosk, {
        "uuid": uid, "flow_id": "khai-sinh", "step_id": "khuon-mat", "step_title": "Xác nhận khuôn mặt",
        "screen": "step-face_check", "language": "vi", "waiting_s": 245, "called_at": ""})
    return uid


def _wait(check, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())
