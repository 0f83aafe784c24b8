"""`kiosk flows keygen/pubkey/sign --pkcs11` and `sign --key` as real processes against a real
SoftHSM2: two admins' keys made inside their tokens, each PIN typed on standard input (never an
argument), signatures added one after the other; `kiosk flows verify` and `stage` honour
[flows].min_signatures; a real kiosk's configuration with fewer than 2 is named by `config check`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.bundles import key_id
from kiosk.tools.softhsm import SoftHSM

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "flows" / "definitions"


@pytest.fixture
def hsm(tmp_path):
    return SoftHSM(tmp_path / "softhsm")


def kiosk(hsm, *args, pin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          input=None if pin is None else pin + "\n", env={**os.environ, **hsm.env})


def config(tmp_path, keys, min_signatures) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"[flows]\ntrusted_keys = {json.dumps(keys)}\nmin_signatures = {min_signatures}\n"
                    f'bundle_dir = "{tmp_path / "kiosk-bundles"}"\n', encoding="utf-8")
    return str(path)


def test_two_admins_sign_with_their_tokens_and_verify_honours_min_signatures(hsm, tmp_path):
    hsm.init_token("admin-lan", "314159")
    hsm.init_token("admin-minh", "271828")
    keys = {}
    for token, pin in (("admin-lan", "314159"), ("admin-minh", "271828")):
        out = kiosk(hsm, "flows", "keygen", "--pkcs11", "--token", token, "--key-label", "flows", pin=pin)
        assert out.returncode == 0, out.stderr
        keys[token] = out.stdout.strip()
        assert "cannot be exported" in out.stderr
        # the public key is read back without a PIN, in the trusted_keys form
        out = kiosk(hsm, "flows", "pubkey", "--pkcs11", "--token", token, "--key-label", "flows")
        assert out.stdout.strip() == keys[token] and f"key id {key_id(keys[token])}" in out.stderr
    two = config(tmp_path, list(keys.values()), 2)
    bundle = tmp_path / "flows.zip"
    assert kiosk(hsm, "--config", two, "flows", "bundle", str(FLOWS / "khai-sinh.yaml"), "--out", str(bundle)).returncode == 0

    out = kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--token", "admin-lan", "--key-label", "flows",
                "--as", "Nguyễn Thị Lan", "--role", "submitted_by", pin="314159")
    assert out.returncode == 0, out.stderr
    assert f"with key {key_id(keys['admin-lan'])}" in out.stdout
    out = kiosk(hsm, "--config", two, "flows", "verify", str(bundle))
    assert out.returncode == 1
    assert "Gói quy trình cần chữ ký của 2 người quản trị khác nhau" in out.stderr and "1 did" in out.stderr
    out = kiosk(hsm, "--config", two, "flows", "stage", str(bundle))
    assert out.returncode == 1 and "not enough signatures" in out.stderr
    assert kiosk(hsm, "--config", two, "flows", "verify", str(bundle), "--min-signatures", "1").returncode == 0

    out = kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--token", "admin-minh", "--key-label", "flows",
                "--as", "Trần Văn Minh", "--role", "approved_by", pin="271828")
    assert out.returncode == 0, out.stderr
    assert "Nguyễn Thị Lan (submitted_by" in out.stdout and "Trần Văn Minh (approved_by" in out.stdout
    out = kiosk(hsm, "--config", two, "flows", "verify", str(bundle))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert [(s["name"], s["role"], s["key_id"]) for s in info["signers"]] == [
        ("Nguyễn Thị Lan", "submitted_by", key_id(keys["admin-lan"])),
        ("Trần Văn Minh", "approved_by", key_id(keys["admin-minh"]))]
    assert kiosk(hsm, "--config", two, "flows", "stage", str(bundle)).returncode == 0


def test_wrong_pin_missing_options_and_a_key_file_that_adds_its_signature(hsm, tmp_path):
    hsm.init_token("admin-lan", "314159")
    assert kiosk(hsm, "flows", "keygen", "--pkcs11", "--token", "admin-lan", "--key-label", "flows",
                 pin="314159").returncode == 0
    bundle = tmp_path / "flows.zip"
    assert kiosk(hsm, "flows", "bundle", str(FLOWS / "khai-sinh.yaml"), "--out", str(bundle)).returncode == 0
    before = bundle.read_bytes()
    out = kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--token", "admin-lan", "--key-label", "flows",
                "--as", "Nguyễn Thị Lan", pin="000000")
    assert out.returncode == 1
    assert "Mã PIN của thẻ khóa không đúng" in out.stderr and "wrong PIN for token 'admin-lan'" in out.stderr
    assert bundle.read_bytes() == before  # nothing written
    out = kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--token", "admin-lan", "--key-label", "flows", pin="314159")
    assert out.returncode == 1 and "--as NAME" in out.stderr
    out = kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--as", "X", pin="314159")
    assert out.returncode == 1 and "--token" in out.stderr
    out = kiosk(hsm, "flows", "sign", str(bundle), "--pin", "314159")
    assert out.returncode == 2  # there is no PIN argument at all

    # token signature, then a key file (automation) adds its own; the same file again is refused
    assert kiosk(hsm, "flows", "sign", str(bundle), "--pkcs11", "--token", "admin-lan", "--key-label", "flows",
                 "--as", "Nguyễn Thị Lan", "--role", "submitted_by", pin="314159").returncode == 0
    key = tmp_path / "ci.key"
    ci_pub = kiosk(hsm, "flows", "keygen", "--out", str(key)).stdout.strip()
    out = kiosk(hsm, "flows", "sign", str(bundle), "--key", str(key), "--as", "CI", "--role", "approved_by")
    assert out.returncode == 0, out.stderr
    out = kiosk(hsm, "flows", "sign", str(bundle), "--key", str(key))
    assert out.returncode == 1 and "already signed" in out.stderr and "người quản trị khác" in out.stderr
    token_pub = kiosk(hsm, "flows", "pubkey", "--pkcs11", "--token", "admin-lan", "--key-label", "flows").stdout.strip()
    out = kiosk(hsm, "flows", "verify", str(bundle), "--trusted-key", token_pub, "--trusted-key", ci_pub,
                "--min-signatures", "2")
    assert out.returncode == 0, out.stderr
    assert [s["name"] for s in json.loads(out.stdout)["signers"]] == ["Nguyễn Thị Lan", "CI"]


def test_the_kiosk_services_store_asks_for_the_configured_signatures(tmp_path):
    from flows.bundles import BundleError
    from kiosk.config import load_config
    from kiosk.services import KioskServices
    from testkit.pki import signed_bundle

    pub = signed_bundle(tmp_path / "elsewhere", ["khai-sinh"])  # one signature, by a key we then trust
    data = next((tmp_path / "elsewhere" / "bundles").glob("*/bundle.zip")).read_bytes()
    cfg = load_config(Path(config(tmp_path, [pub], 2)))
    services = KioskServices(cfg)
    services._load_flows()
    assert services.bundles.min_signatures == 2
    with pytest.raises(BundleError) as exc:
        services.bundles.stage(data)
    assert exc.value.code == "not_enough_signatures"


def test_a_real_kiosk_with_fewer_than_two_signatures_is_named_by_config_check(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "kiosk"))
    try:
        from test_deployment import fixed_example
    finally:
        sys.path.remove(str(ROOT / "tests" / "kiosk"))
    path = fixed_example(tmp_path, **{"min_signatures = 2": "min_signatures = 1"})
    out = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "config", "check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    found = {p["key"]: p for p in json.loads(out.stdout)["problems"]}
    assert list(found) == ["flows.min_signatures"]
    assert "một người trình, một người khác duyệt" in found["flows.min_signatures"]["vi"]
