"""The simulated centre behind the demo kiosk: counters and console accounts in the embedded central
system, and `make demo`'s photographs of the officers' console and the waiting-room display.

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
    officer_password: str
    supervisor_password: str
    admin_password: str

    def banner(self) -> str:
        return (f"kiosk: officers' console {self.console_url}  ({OFFICER} / {self.officer_password};"
                f" supervisor {SUPERVISOR} / {self.supervisor_password}; province admin {ADMIN} /"
                f" {self.admin_password}: drawn for this run only)\n"
                f"kiosk: waiting-room display {self.display_url}")


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
    return DemoCentre(centre, f"{server.url}/console/", f"{server.url}/display/{centre}",
                      passwords["officer"], passwords["supervisor"], passwords["admin"])


def photograph(server, demo: DemoCentre, out: Path) -> list[str]:
    """The console's pages (counter with a called number, inbox, a dossier, help calls, ratings; the
    province admin's fleet, intake and procedures) and the TV display, in Debian's chromium; returns
    the PNG names written (none without chromium)."""
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

    with chromium(1920, 1080) as tv, chromium(1366, 900) as officer:
        tv.get(demo.display_url)
        login(officer, OFFICER, demo.officer_password)
        shot(officer, "console-home")
        officer.get(f"{base}/console/counter/1")
        if officer.find_elements(By.ID, "call-next"):
            officer.find_element(By.ID, "call-next").click()
        shot(officer, "console-counter")
        shot(tv, "display")
        officer.get(f"{base}/console/inbox")
        shot(officer, "console-inbox")
        links = officer.find_elements(By.CSS_SELECTOR, "#inbox a[href*='/console/dossiers/']")
        if links:
            links[0].click()
            shot(officer, "console-dossier")
        officer.get(f"{base}/console/help-calls")
        shot(officer, "console-help-calls")
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
