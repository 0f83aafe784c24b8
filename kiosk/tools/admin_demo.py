"""The province admins' console, walked in Debian's chromium: two admins, each with a key inside a
token of their own, change a procedure's fee with four eyes and send it to a pilot kiosk (issue 20).

One walk for two users: `make demo` photographs it (``photograph``), and the browser test
(tests/kiosk/test_admin_console_browser.py) drives the same steps between its checks on the kiosk.

The tokens are a throwaway SoftHSM2 in the given folder with PINs drawn at random, and the province's
starting bundle is signed by two throwaway file keys: all of them are trusted by the embedded central
system of a simulated demo (``enrol`` adds them to ``central.trusted_keys`` in memory) or of a test
(which writes them into its kiosk's configuration); no real configuration holds them.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

AUTHOR, APPROVER = "tinh.lan", "tinh.hung"
NAMES = {AUTHOR: "Nguyễn Thị Lan", APPROVER: "Trần Văn Hùng"}
BASE_BUNDLE = "tinh-goc"


@dataclass
class Admins:
    password: str
    pins: dict[str, str]
    token_keys: list[str]            # the admins' public keys (base64), made inside their tokens
    file_keys: list = field(default_factory=list)   # (private key, public b64): the starting bundle's signers
    base_url: str = ""

    @property
    def public_keys(self) -> list[str]:
        return self.token_keys + [pub for _key, pub in self.file_keys]


def make_keys(folder: Path) -> Admins:
    """The tokens (a SoftHSM2 in ``folder``, one token and key per admin, random PINs) and the two
    file keys of the starting bundle. SOFTHSM2_CONF is set in this process: the embedded central
    system signs here. Nothing needs the central system yet: a test writes these keys into the
    kiosk's configuration before it starts."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from flows import bundles
    from kiosk.tools.softhsm import SoftHSM

    hsm = SoftHSM(Path(folder))
    os.environ["SOFTHSM2_CONF"] = str(hsm.conf)
    pins = {u: secrets.token_hex(4) for u in (AUTHOR, APPROVER)}
    tokens = [base64.b64encode(hsm.admin(f"token-{u}", pin)).decode() for u, pin in pins.items()]
    files = []
    for _ in range(2):
        pem, public = bundles.generate_key()
        files.append((load_pem_private_key(pem, None), public))
    return Admins(secrets.token_urlsafe(12), pins, tokens, files)


def enrol(server, admins: Admins, province: str, flows_dir: Path, media_dir: Path | None = None) -> None:
    """The two admin accounts of ``province`` with their token keys, and the starting bundle (every
    flow in ``flows_dir``, signed by the two file keys) published for every kiosk. Keys the central
    system does not trust yet are added to it in memory (the simulated demo's; a test configures them)."""
    from central.console.accounts import Accounts
    from central.drafts import set_signing_key
    from central.service import CentralError
    from flows import bundles

    central = server.central
    admins.base_url = server.url
    central.trusted_keys = list(central.trusted_keys) + [k for k in admins.public_keys if k not in central.trusted_keys]
    accounts = Accounts(central)
    for user in admins.pins:
        try:
            accounts.add(user, admins.password, "admin", "", NAMES[user], province_code=province)
        except CentralError:   # an earlier run of the same data folder
            accounts.set_password(user, admins.password)
            accounts.unlock(user)
        set_signing_key(central, user, f"token-{user}")
    data = bundles.build_bundle(sorted(Path(flows_dir).glob("*.yaml")), media_dir, bundle_id=BASE_BUNDLE)
    for (key, _pub), role in zip(admins.file_keys, ("submitted_by", "approved_by")):
        data = bundles.sign(data, key, name="Tự động (khởi tạo)", role=role)
    central.publish_bundle(data, actor="demo")


# --- steps in the browser ------------------------------------------------------------------------
def wait(predicate, timeout: float, what: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return
        except StaleElementReferenceException:
            pass     # the page was replaced between finding an element and reading it: look again
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def element(browser, element_id: str):
    """The element, or None while the page that has it is not there yet (no exception mid-load)."""
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.ID, element_id)
    return found[0] if found else None


def login(browser, admins: Admins, user: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{admins.base_url}/console/login")
    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(admins.password)
    browser.find_element(By.ID, "login").click()
    wait(lambda: "/console/login" not in browser.current_url, 10, f"{user} logged in")


def add_pilot(browser, admins: Admins, kiosk_id: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{admins.base_url}/console/procedures")
    if not browser.find_elements(By.CSS_SELECTOR, f'tr[data-kiosk="{kiosk_id}"][data-pilot="1"]'):
        browser.find_element(By.CSS_SELECTOR, f'tr[data-kiosk="{kiosk_id}"] form.pilot-toggle button').click()
        wait(lambda: browser.find_elements(By.CSS_SELECTOR, f'tr[data-kiosk="{kiosk_id}"][data-pilot="1"]'), 10,
             "the pilot kiosk")


def draft_fee(browser, admins: Admins, flow_id: str, values: dict[str, str], reason: str, shots=None) -> str:
    """The author opens a draft of ``flow_id``, writes ``values`` into its fields, the reason, and
    signs it with the PIN of their token; returns the draft's URL. ``shots(browser, name)`` photographs."""
    from selenium.webdriver.common.by import By

    browser.get(f"{admins.base_url}/console/procedures/{flow_id}")
    if shots:
        shots(browser, "admin-procedure")
    browser.find_element(By.ID, "edit-flow").click()
    wait(lambda: element(browser, "fields-form") is not None, 10, "the draft editor")
    for name, value in values.items():
        box = browser.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
        box.clear()
        box.send_keys(value)
    browser.find_element(By.ID, "save-fields").click()
    wait(lambda: (e := element(browser, "diff")) is not None and all(v.replace(".", "") in e.text.replace(".", "")
                                                                        for v in values.values()), 10, "the diff")
    browser.find_element(By.ID, "reason").send_keys(reason)
    browser.find_element(By.ID, "save-yaml").click()
    wait(lambda: element(browser, "draft-ok") is not None and (e := element(browser, "submit-draft")) is not None
         and e.is_enabled() and reason in (element(browser, "draft-reason").text if element(browser, "draft-reason") else ""),
         10, "a draft ready to submit")
    if shots:
        shots(browser, "admin-draft")
        browser.execute_script("document.getElementById('changes').scrollIntoView()")
        shots(browser, "admin-draft-diff")
    return submit(browser, admins, AUTHOR)


def _clips_state(browser) -> str | None:
    # read in one script call: the page reloads itself while clips are made, so a found element can go stale
    return browser.execute_script("var e = document.getElementById('help-clips'); return e ? e.dataset.state : null;")


def make_clips(browser, timeout: float = 180) -> None:
    """On the draft page: ask for the new help clips of the changed steps, as the page offers, and
    wait until they are made (the page reloads itself while they are)."""
    from selenium.webdriver.common.by import By

    url = browser.current_url
    if _clips_state(browser) in (None, "unchanged", "done", "unavailable"):
        return
    if element(browser, "clips-form") is not None:
        browser.find_element(By.CSS_SELECTOR, "#clips-form button").click()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        browser.get(url)
        if _clips_state(browser) in ("done", "unavailable", "failed"):
            return
        time.sleep(2)
    raise AssertionError(f"the help clips were not made in {timeout} s")


def submit(browser, admins: Admins, user: str) -> str:
    from selenium.webdriver.common.by import By

    make_clips(browser)
    url = browser.current_url
    browser.find_element(By.ID, "submit-pin").send_keys(admins.pins[user])
    browser.find_element(By.ID, "submit-draft").click()
    wait(lambda: element(browser, "waiting") is not None, 15, "the draft submitted")
    return url


def approve(browser, admins: Admins, draft_url: str, shots=None) -> str:
    """The second admin reads the change and approves it with their token; returns the bundle id."""
    from selenium.webdriver.common.by import By

    browser.get(draft_url)
    wait(lambda: element(browser, "approve-form") is not None, 10, "the draft to approve")
    if shots:
        shots(browser, "admin-approve")
    browser.find_element(By.ID, "approve-pin").send_keys(admins.pins[APPROVER])
    browser.find_element(By.ID, "approve-draft").click()
    wait(lambda: element(browser, "published") is not None, 15, "the change approved")
    return browser.find_element(By.ID, "draft-bundle").text.strip()


def draft_revert(browser, admins: Admins, flow_id: str, to_bundle: str) -> str:
    """The author drafts "back to the version in ``to_bundle``" and signs it; returns the draft's URL."""
    from selenium.webdriver.common.by import By

    browser.get(f"{admins.base_url}/console/procedures/{flow_id}")
    browser.find_element(By.CSS_SELECTOR, f'form.revert[id="revert-{to_bundle}"] button').click()
    wait(lambda: element(browser, "submit-pin") is not None, 10, "the revert draft")
    return submit(browser, admins, AUTHOR)


def photograph(server, cfg, out: Path) -> list[str]:
    """`make demo`: the admin pages of a fee change with four eyes, to the demo kiosk as pilot;
    returns the PNG names written (none without chromium)."""
    from kiosk.tools.browser import available

    why = available()
    if why:
        log.warning("no admin console screenshots: %s", why)
        return []
    from flows import units

    out.mkdir(parents=True, exist_ok=True)
    names: list[str] = []

    def shot(browser, name: str) -> None:
        browser.save_screenshot(str(out / f"{name}.png"))
        names.append(f"{name}.png")

    province = units.commune(cfg["kiosk"]["commune_code"]).province_code
    # the throwaway tokens live in a temporary folder, gone with the walk (nothing of them in out/)
    tokens = Path(tempfile.mkdtemp(prefix="demo-softhsm-"))
    before = os.environ.get("SOFTHSM2_CONF")
    try:
        admins = make_keys(tokens)
        enrol(server, admins, province, Path(cfg["paths"]["flows_dir"]))
        _walk(admins, cfg, shot)
    finally:
        shutil.rmtree(tokens, ignore_errors=True)
        if before is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = before
    return names


def _walk(admins: Admins, cfg, shot) -> None:
    from kiosk.tools.browser import chromium

    with chromium(1366, 1000) as lan, chromium(1366, 1000) as hung:
        login(lan, admins, AUTHOR)
        login(hung, admins, APPROVER)
        add_pilot(lan, admins, cfg["kiosk"]["id"])
        url = draft_fee(lan, admins, "trich-luc-ho-tich", {"fee_rate": "10000", "fee_guide_vi": "10.000 đồng mỗi bản",
                                                            "fee_guide_en": "10,000 VND a copy"},
                        "Lệ phí trích lục mới theo nghị quyết của HĐND tỉnh", shots=shot)
        approve(hung, admins, url, shots=shot)
        hung.get(f"{admins.base_url}/console/procedures")
        shot(hung, "admin-procedures-pilot")
