"""Issue 20 end to end in a real browser: a province admin edits the fee of "Cấp bản sao trích lục hộ
tịch" in the console (Debian's chromium), signs it with the PIN of their own token; a second admin
reviews the change and approves it with theirs; the pilot kiosk fetches the bundle with `kiosk flows
fetch` (the command its systemd timer runs, as a separate process), the kiosk app switches to it
between visits and its guide screen says the new fee; the first admin then reverts to the earlier
version (a change like any other: signed twice), and the kiosk says the old fee again.

Real parts: the central system over HTTP (the kiosk's embedded one), SoftHSM2 tokens holding each
admin's Ed25519 key (PKCS#11; the key never leaves the token), the kiosk app offscreen, the kiosk's
own fetch command; the kiosk asks for two signatures ([flows] min_signatures = 2). Screenshots of
every console page on the way go to out/test-screens/admin-console/ (the demo shows the same pages).
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.tools.browser import available, chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "admin-console"
FLOW = "trich-luc-ho-tich"
PINS = {"tinh.lan": "1111-lan", "tinh.hung": "2222-hung"}

pytestmark = [pytest.mark.browser, pytest.mark.skipif(available() is not None, reason=str(available()))]


def _wait(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def softhsm(tmp_path):
    from testkit.softhsm import SoftHSM

    hsm = SoftHSM(tmp_path / "hsm")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(hsm.conf)   # the central system signs in this process
    try:
        yield hsm
    finally:
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


def _element(browser, element_id: str):
    """The element, or None while the page that has it is not there yet (no exception mid-load)."""
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.ID, element_id)
    return found[0] if found else None


def _base_bundle(keys) -> bytes:
    """What the province runs before: every shipped flow, published by automation with two file keys."""
    from flows import bundles

    data = bundles.build_bundle(sorted((ROOT / "flows" / "definitions").glob("*.yaml")), ROOT / "media", bundle_id="tinh-goc")
    for key, role in zip(keys, ("submitted_by", "approved_by")):
        data = bundles.sign(data, key, name="Tự động", role=role)
    return data


def test_an_admin_edits_a_fee_a_second_approves_the_pilot_kiosk_shows_it_and_a_revert_brings_it_back(tmp_path_factory, softhsm):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from selenium.webdriver.common.by import By

    from central.console.accounts import Accounts
    from central.drafts import set_signing_key
    from flows import bundles
    from kiosk.tools.demo import demo_config, running_app
    from kiosk.tools.touch_robot import Driver
    from kiosk.ui.display import prepare_kivy_env
    from flows import units

    SHOTS.mkdir(parents=True, exist_ok=True)
    admin_keys = [base64.b64encode(softhsm.admin(f"token-{u}", pin)).decode() for u, pin in PINS.items()]
    file_keys = []
    for _ in range(2):
        pem, public = bundles.generate_key()
        file_keys.append((load_pem_private_key(pem, None), public))
    trusted = admin_keys + [pub for _k, pub in file_keys]

    # the kiosk: the demo's simulated devices, but flows only from bundles signed by two trusted keys
    prepare_kivy_env(tmp_path_factory.mktemp("kivy"), want_xvfb=False)
    folder = tmp_path_factory.mktemp("kiosk")
    cfg = demo_config(folder)
    toml = folder / "kiosk.toml"
    keys_toml = ", ".join(f'"{k}"' for k in trusted)
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[flows]\nbundle_dir = "var/flows"\n', f'[flows]\nbundle_dir = "var/flows"\ntrusted_keys = [{keys_toml}]\nmin_signatures = 2\n'),
        encoding="utf-8")
    from kiosk.config import load_config

    cfg = load_config(toml)
    assert cfg["flows"]["min_signatures"] == 2

    def kiosk_fetches() -> str:
        """`kiosk flows fetch` as the kiosk's timer runs it: its own process, its own credentials."""
        out = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(toml), "flows", "fetch"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, env={**os.environ, "KIVY_NO_ARGS": "1"})
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    with running_app(cfg) as app:
        d = Driver(app, SHOTS / "kiosk")
        d.wait_screen("home")
        server = app.central_server
        central, base = server.central, server.url
        assert central.min_signatures == 2 and set(central.trusted_keys) == set(trusted)
        kiosk_id = cfg["kiosk"]["id"]
        province = units.commune(cfg["kiosk"]["commune_code"]).province_code
        accounts = Accounts(central)
        password = "mat-khau-quan-tri-2026"
        accounts.add("tinh.lan", password, "admin", "", "Nguyễn Thị Lan", province_code=province)
        accounts.add("tinh.hung", password, "admin", "", "Trần Văn Hùng", province_code=province)
        for user in PINS:
            set_signing_key(central, user, f"token-{user}")
        assert central.publish_bundle(_base_bundle([k for k, _p in file_keys]), actor="cli")[0]

        def kiosk_runs(version: int) -> None:
            kiosk_fetches()
            app.end_session()   # between visits: the staged bundle becomes the one in use
            d.wait_screen("home")
            _wait(lambda: (f := app.services.registry.get(FLOW)) is not None and f.version == version, 10,
                  f"{FLOW} version {version} on the kiosk")

        def guide_fee() -> str:
            d.tap("Làm thủ tục hành chính")
            d.wait_screen("picker")
            d.tap("Cấp bản sao trích lục hộ tịch")
            d.wait_screen("step-guide")
            texts = [t for t in d.texts() if t.startswith("Lệ phí")]
            return texts[0] if texts else ""

        kiosk_runs(2)
        assert guide_fee() == "Lệ phí: 8.000 đồng mỗi bản"
        d.screenshot("guide-fee-before")

        with chromium(1366, 1000) as lan, chromium(1366, 1000) as hung:
            for browser, user in ((lan, "tinh.lan"), (hung, "tinh.hung")):
                browser.get(f"{base}/console/login")
                browser.find_element(By.ID, "username").send_keys(user)
                browser.find_element(By.ID, "password").send_keys(password)
                browser.find_element(By.ID, "login").click()
                _wait(lambda b=browser: "/console/login" not in b.current_url, 10, f"{user} logged in")

            # the pilot group: this kiosk tries changes first
            lan.get(f"{base}/console/procedures")
            lan.find_element(By.CSS_SELECTOR, f'tr[data-kiosk="{kiosk_id}"] form.pilot-toggle button').click()
            _wait(lambda: lan.find_elements(By.CSS_SELECTOR, f'tr[data-kiosk="{kiosk_id}"][data-pilot="1"]'), 10, "the pilot kiosk")
            lan.save_screenshot(str(SHOTS / "procedures.png"))

            # Lan drafts the new fee in the structured fields, gives the reason, signs with her PIN
            lan.get(f"{base}/console/procedures/{FLOW}")
            lan.save_screenshot(str(SHOTS / "procedure.png"))
            lan.find_element(By.ID, "edit-flow").click()
            _wait(lambda: lan.find_elements(By.ID, "fields-form"), 10, "the draft editor")
            for field, value in (("fee_rate", "10000"), ("fee_guide_vi", "10.000 đồng mỗi bản"), ("fee_guide_en", "10,000 VND a copy")):
                box = lan.find_element(By.CSS_SELECTOR, f'[name="{field}"]')
                box.clear()
                box.send_keys(value)
            lan.find_element(By.ID, "save-fields").click()
            _wait(lambda: (e := _element(lan, "diff")) is not None and "rate: 10000" in e.text, 10, "the diff with the new fee")
            lan.find_element(By.ID, "reason").send_keys("Lệ phí trích lục mới theo nghị quyết của HĐND tỉnh")
            lan.find_element(By.ID, "save-yaml").click()
            _wait(lambda: _element(lan, "draft-ok") is not None and (e := _element(lan, "submit-draft")) is not None
                  and e.is_enabled() and "nghị quyết" in (_element(lan, "draft-reason").text if _element(lan, "draft-reason") else ""),
                  10, "a draft ready to submit")
            lan.save_screenshot(str(SHOTS / "draft.png"))
            lan.execute_script("document.getElementById('changes').scrollIntoView()")
            lan.save_screenshot(str(SHOTS / "draft-diff-editor.png"))
            draft_url = lan.current_url
            lan.find_element(By.ID, "submit-pin").send_keys(PINS["tinh.lan"])
            lan.find_element(By.ID, "submit-draft").click()
            _wait(lambda: lan.find_elements(By.ID, "waiting"), 15, "the draft submitted")

            # Hùng reviews the diff and the reason, and approves with his own token
            hung.get(f"{base}/console/procedures")
            hung.find_element(By.CSS_SELECTOR, '#drafts tr[data-state="submitted"] a').click()
            _wait(lambda: hung.find_elements(By.ID, "approve-form"), 10, "the draft to approve")
            assert "rate: 10000" in hung.find_element(By.ID, "diff").text
            assert "nghị quyết" in hung.find_element(By.ID, "draft-reason").text
            hung.save_screenshot(str(SHOTS / "approve.png"))
            hung.find_element(By.ID, "approve-pin").send_keys(PINS["tinh.hung"])
            hung.find_element(By.ID, "approve-draft").click()
            _wait(lambda: hung.find_elements(By.ID, "published"), 15, "the change approved")
            new_bundle = hung.find_element(By.ID, "draft-bundle").text.strip()

            # the pilot kiosk: fetched in its own process, switched between visits, the new fee on its guide
            kiosk_runs(3)
            assert app.services.bundles.current().bundle_id == new_bundle
            installed = (app.services.bundles.current_dir() / "bundle.zip").read_bytes()
            signers = {(s["name"], s["role"]) for s in bundles.signatures_of(installed)}
            assert signers == {("Nguyễn Thị Lan", "submitted_by"), ("Trần Văn Hùng", "approved_by")}
            assert guide_fee() == "Lệ phí: 10.000 đồng mỗi bản"
            d.screenshot("guide-fee-after")
            hung.get(f"{base}/console/procedures")
            assert new_bundle in hung.find_element(By.ID, "pilot").text
            hung.save_screenshot(str(SHOTS / "pilot.png"))

            # Lan reverts to version 2: a draft with the old content, signed by both again
            lan.get(f"{base}/console/procedures/{FLOW}")
            lan.find_element(By.CSS_SELECTOR, 'form.revert[id="revert-tinh-goc"] button').click()
            _wait(lambda: lan.find_elements(By.ID, "submit-pin"), 10, "the revert draft")
            assert "rate: 8000" in lan.find_element(By.ID, "diff").text
            lan.find_element(By.ID, "submit-pin").send_keys(PINS["tinh.lan"])
            lan.find_element(By.ID, "submit-draft").click()
            _wait(lambda: lan.find_elements(By.ID, "waiting"), 15, "the revert submitted")
            assert lan.current_url != draft_url
            hung.get(lan.current_url)
            hung.find_element(By.ID, "approve-pin").send_keys(PINS["tinh.hung"])
            hung.find_element(By.ID, "approve-draft").click()
            _wait(lambda: hung.find_elements(By.ID, "published"), 15, "the revert approved")

        kiosk_runs(4)
        assert guide_fee() == "Lệ phí: 8.000 đồng mỗi bản"
        d.screenshot("guide-fee-reverted")
