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

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows import bundles
from kiosk.tools.browser import available, chromium

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "admin-console"
FLOW = "trich-luc-ho-tich"

pytestmark = [pytest.mark.browser, pytest.mark.skipif(available() is not None, reason=str(available()))]


def test_an_admin_edits_a_fee_a_second_approves_the_pilot_kiosk_shows_it_and_a_revert_brings_it_back(tmp_path_factory):
    from central.console.accounts import Accounts
    from flows import units
    from kiosk.config import load_config
    from kiosk.tools import admin_demo as walk
    from kiosk.tools.demo import demo_config, running_app
    from kiosk.tools.touch_robot import Driver
    from kiosk.ui.display import prepare_kivy_env

    SHOTS.mkdir(parents=True, exist_ok=True)
    prepare_kivy_env(tmp_path_factory.mktemp("kivy"), want_xvfb=False)
    folder = tmp_path_factory.mktemp("kiosk")
    demo_config(folder)
    toml = folder / "kiosk.toml"

    def shot(browser, name: str) -> None:
        browser.save_screenshot(str(SHOTS / f"{name}.png"))

    def kiosk_fetches() -> None:
        """`kiosk flows fetch` as the kiosk's timer runs it: its own process, its own credentials."""
        out = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(toml), "flows", "fetch"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, env={**os.environ, "KIVY_NO_ARGS": "1"})
        assert out.returncode == 0, out.stdout + out.stderr

    old_conf = os.environ.get("SOFTHSM2_CONF")
    admins = walk.make_keys(tmp_path_factory.mktemp("hsm"))
    # the kiosk (and its embedded central system) trusts exactly these keys and asks for two of them
    keys = ", ".join(f'"{k}"' for k in admins.public_keys)
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[flows]\nbundle_dir = "var/flows"\n', f'[flows]\nbundle_dir = "var/flows"\ntrusted_keys = [{keys}]\nmin_signatures = 2\n'),
        encoding="utf-8")
    cfg = load_config(toml)
    try:
        with running_app(cfg) as app:
            d = Driver(app, SHOTS / "kiosk")
            d.wait_screen("home")
            server = app.central_server
            assert server.central.min_signatures == 2 and set(server.central.trusted_keys) == set(admins.public_keys)
            walk.enrol(server, admins, units.commune(cfg["kiosk"]["commune_code"]).province_code,
                       ROOT / "flows" / "definitions", ROOT / "media")
            assert Accounts(server.central).get(walk.APPROVER)["role"] == "admin"

            def kiosk_runs(version: int) -> None:
                kiosk_fetches()
                app.end_session()   # between visits: the staged bundle becomes the one in use
                d.wait_screen("home")
                walk.wait(lambda: (f := app.services.registry.get(FLOW)) is not None and f.version == version, 10,
                          f"{FLOW} version {version} on the kiosk")

            def guide_fee() -> str:
                d.tap("Làm thủ tục hành chính")
                d.wait_screen("picker")
                d.tap("Cấp bản sao trích lục hộ tịch")
                d.wait_screen("step-guide")
                return next((t for t in d.texts() if t.startswith("Lệ phí")), "")

            kiosk_runs(2)
            assert guide_fee() == "Lệ phí: 8.000 đồng mỗi bản"
            d.screenshot("guide-fee-before")

            with chromium(1366, 1000) as lan, chromium(1366, 1000) as hung:
                walk.login(lan, admins, walk.AUTHOR)
                walk.login(hung, admins, walk.APPROVER)
                walk.add_pilot(lan, admins, cfg["kiosk"]["id"])
                url = walk.draft_fee(lan, admins, FLOW, {"fee_rate": "10000", "fee_guide_vi": "10.000 đồng mỗi bản",
                                                         "fee_guide_en": "10,000 VND a copy"},
                                     "Lệ phí trích lục mới theo nghị quyết của HĐND tỉnh", shots=shot)
                # the approver sees what changed and why before signing
                hung.get(url)
                diff = walk.element(hung, "diff").text
                assert "rate: 10000" in diff and "rate: 8000" in diff
                assert "nghị quyết" in walk.element(hung, "draft-reason").text
                new_bundle = walk.approve(hung, admins, url, shots=shot)

                # the pilot kiosk: fetched in its own process, switched between visits, the new fee on its guide
                kiosk_runs(3)
                assert app.services.bundles.current().bundle_id == new_bundle
                installed = (app.services.bundles.current_dir() / "bundle.zip").read_bytes()
                signers = {(s["name"], s["role"]) for s in bundles.signatures_of(installed)}
                assert signers == {("Nguyễn Thị Lan", "submitted_by"), ("Trần Văn Hùng", "approved_by")}
                assert guide_fee() == "Lệ phí: 10.000 đồng mỗi bản"
                d.screenshot("guide-fee-after")
                hung.get(f"{admins.base_url}/console/procedures")
                assert new_bundle in walk.element(hung, "pilot").text
                shot(hung, "pilot")

                # Lan reverts to version 2: a draft with the old content, signed by both again
                revert_url = walk.draft_revert(lan, admins, FLOW, walk.BASE_BUNDLE)
                assert revert_url != url
                assert "rate: 8000" in walk.element(lan, "diff").text
                walk.approve(hung, admins, revert_url)

            kiosk_runs(4)
            assert guide_fee() == "Lệ phí: 8.000 đồng mỗi bản"
            d.screenshot("guide-fee-reverted")
    finally:
        if old_conf is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old_conf
