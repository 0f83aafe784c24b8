"""A kiosk with real devices never runs with what the repository makes public (issue #16):
placeholders, the demo secret, the public PIN, no flow-signing key, plain HTTP, a card trust store
that is empty or trusts the repository's test CSCA. The simulated demo stays one command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import hash_pin, load_config
from kiosk.deployment import problems, simulated
from testkit import pki

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "examples" / "real-hardware.toml"


def kiosk(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def fixed_example(tmp_path: Path, **changes) -> Path:
    """The shipped example with every placeholder replaced as a province would."""
    trust = pki.csca(tmp_path / "csca")
    publics = pki.four_eyes_bundle(tmp_path / "flows", ["khai-sinh"])  # min_signatures = 2 in the example
    text = EXAMPLE.read_text(encoding="utf-8")
    repl = {
        'id = "KIOSK-XX-CHANGE-ME-01"': 'id = "KIOSK-HN-BADINH-02"',
        'kiosk_secret = "CHANGE-ME-kiosk-secret"': 'kiosk_secret = "s3cr3t-from-the-province-7c1d"',
        'trusted_keys = []': f'trusted_keys = {json.dumps(publics)}',
        'pin_hash = "pbkdf2_sha256$200000$a2lvc2stZGVtby1zYWx0$kVc/wdtAm3QgKU8Lp0qL9W4/yU30+eI+ffXEcLBNDvA="':
            f'pin_hash = "{hash_pin("918273")}"',
        'trust_store = "/etc/kiosk/csca"': f'trust_store = "{trust}"',
        'port = "/dev/serial/by-id/usb-CHANGE-ME-if00"': 'port = "/dev/serial/by-id/usb-Newland_NLS-if00"',
        'bundle_dir = "/var/lib/kiosk/flows"': f'bundle_dir = "{tmp_path / "flows"}"',
    }
    repl.update(changes)
    for old, new in repl.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_is_refused_naming_each_placeholder():
    out = kiosk("--config", str(EXAMPLE), "config", "check")
    assert out.returncode == 1
    keys = {p["key"] for p in json.loads(out.stdout)["problems"]}
    assert keys == {"kiosk.id", "central.kiosk_secret", "devices.qr.port", "maintenance.pin_hash",
                    "flows.trusted_keys", "devices.idcard.trust_store"}
    assert "246810" in out.stderr and "CHANGE-ME" in out.stderr
    assert "cần sửa trước khi ki-ốt phục vụ người dân" in out.stderr


def test_with_real_secrets_and_a_real_trust_store_the_check_passes(tmp_path):
    out = kiosk("--config", str(fixed_example(tmp_path)), "config", "check")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["problems"] == []


def test_kiosk_run_refuses_to_start_on_an_unfit_configuration(tmp_path):
    out = kiosk("--config", str(EXAMPLE), "run", "--no-xvfb")
    assert out.returncode == 2
    assert "not starting" in out.stderr and "maintenance.pin_hash" in out.stderr


def test_the_simulated_demo_needs_nothing(tmp_path):
    cfg = load_config(None)
    assert simulated(cfg) and problems(cfg) == []
    assert kiosk("config", "check").returncode == 0


@pytest.mark.parametrize("change, key", [
    ({'url = "https://dichvucong.example.gov.vn"': 'url = "http://dichvucong.example.gov.vn"'}, "central.url"),
    ({'kiosk_secret = "CHANGE-ME-kiosk-secret"': 'kiosk_secret = "demo-kiosk-secret-change-me"'}, "central.kiosk_secret"),
    ({'trust_store = "/etc/kiosk/csca"': f'trust_store = "{ROOT / "config" / "csca"}"'}, "devices.idcard.trust_store"),
])
def test_each_public_or_unsafe_value_is_named(tmp_path, change, key):
    cfg = load_config(fixed_example(tmp_path, **change))
    assert [p.key for p in problems(cfg)] == [key]


def test_a_kiosk_never_holds_the_bank_gateway_secret_nor_pays_into_the_demo_account(tmp_path):
    """Issue 22: the gateway's HMAC secret declares dossiers paid, so it lives on the central system
    only; and the demo's receiving account is nobody's."""
    from kiosk.deployment import DEMO_PAYMENT_ACCOUNT

    path = fixed_example(tmp_path)
    text = path.read_text(encoding="utf-8").replace("[central]\n", "[central]\npayment_gateway_secret = \"x-0123456789abcdef\"\n", 1)
    text += f'\n[payments]\nenabled = true\nbank_bin = "{DEMO_PAYMENT_ACCOUNT[0]}"\naccount = "{DEMO_PAYMENT_ACCOUNT[1]}"\n'
    path.write_text(text, encoding="utf-8")
    assert sorted(p.key for p in problems(load_config(path))) == ["central.payment_gateway_secret", "payments.account"]
    path.write_text(text.replace(f'account = "{DEMO_PAYMENT_ACCOUNT[1]}"', 'account = "1903555777001"')
                    .replace('payment_gateway_secret = "x-0123456789abcdef"', 'payment_gateway_secret = ""'), encoding="utf-8")
    assert problems(load_config(path)) == []


def test_plain_http_is_only_for_the_embedded_central_on_this_machine(tmp_path):
    path = fixed_example(tmp_path, **{'url = "https://dichvucong.example.gov.vn"': 'url = "http://127.0.0.1:8780"',
                                      'embedded = false': 'embedded = true'})
    assert problems(load_config(path)) == []


def test_a_trust_store_is_refused_for_a_test_name_or_a_key_from_the_repository(tmp_path):
    from devices.idcard.trust import trust_store_problems

    assert trust_store_problems(pki.csca(tmp_path / "real")) == []
    named = trust_store_problems(pki.csca(tmp_path / "named", cn="TEST CSCA Viet Nam"))
    assert len(named) == 1 and "'test'" in named[0][0]
    shipped = trust_store_problems(ROOT / "config" / "csca")
    assert "private key is published in the repository" in shipped[0][0]
    empty = trust_store_problems(tmp_path / "nothing-here")
    assert "holds no certificate" in empty[0][0] and "không có chứng thư nào" in empty[0][1]


def test_without_a_verified_bundle_a_real_kiosk_is_out_of_service_never_the_plain_folder(tmp_path):
    from kiosk.services import KioskServices

    path = fixed_example(tmp_path)
    text = path.read_text(encoding="utf-8").replace(f'bundle_dir = "{tmp_path / "flows"}"',
                                                     f'bundle_dir = "{tmp_path / "no-bundle"}"')
    text = text.replace('data_dir = "/var/lib/kiosk"', f'data_dir = "{tmp_path / "data"}"')
    path.write_text(text, encoding="utf-8")
    services = KioskServices(load_config(path))
    registry = services._load_flows()
    assert registry.flows == []
    assert services.out_of_service.code == "no_bundle"
    assert "Ki-ốt đang bảo trì" in services.out_of_service.message_vi

    # the updater installs a signed bundle: the kiosk serves exactly it
    cfg = load_config(path)
    services = KioskServices(cfg)
    public = cfg["flows"]["trusted_keys"][0]
    assert public  # the bundle fixed_example signed is not in no-bundle/: sign one there with the same trust
    pki_public = pki.signed_bundle(tmp_path / "no-bundle", ["khai-sinh", "tam-tru"])
    cfg["flows"]["trusted_keys"] = [pki_public]
    registry = services._load_flows()
    assert sorted(f.id for f in registry.flows) == ["khai-sinh", "tam-tru"] and services.out_of_service is None


def test_a_broken_quirks_file_is_named_by_config_check(tmp_path):
    bad = tmp_path / "quirks.yaml"
    bad.write_text("readers:\n  - name: x\n    read_chunk: lots\n", encoding="utf-8")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[devices.idcard]\nquirks_file = "{bad}"\n', encoding="utf-8")
    out = kiosk("--config", str(cfg), "config", "check")
    assert out.returncode == 1
    (problem,) = json.loads(out.stdout)["problems"]
    assert problem["key"] == "devices.idcard.quirks_file" and "quirks.yaml" in problem["en"]
