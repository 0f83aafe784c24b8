"""Four-eyes signing (issue 20): two admins, each with an Ed25519 key made inside their own PKCS#11
token (a real SoftHSM2, no fakes), sign one bundle; a kiosk asking for two distinct trusted keys
accepts it and refuses one signature, the same key twice, an untrusted or relabelled extra
signature; the private keys cannot be read even by the process that signs with them."""
from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from flows_testdata import DEFINITIONS

from common.pkcs11_signer import TokenError, open_key
from flows import bundles
from flows.bundles import BundleError, BundleStore, add_signature, build_bundle, key_id, verify_bundle
from kiosk.tools.softhsm import SoftHSM

FLOWS = sorted(DEFINITIONS.glob("*.yaml"))[:2]
LAN, MINH = ("admin-lan", "314159"), ("admin-minh", "271828")


@pytest.fixture
def hsm(tmp_path, monkeypatch):
    h = SoftHSM(tmp_path / "softhsm")
    monkeypatch.setenv(*h.env_item)  # SoftHSM reads its configuration when the library initialises
    return h


@pytest.fixture
def admins(hsm):
    """Two admins' tokens, one key each: {token label: base64 public key}."""
    return {label: base64.b64encode(hsm.admin(label, pin)).decode() for label, pin in (LAN, MINH)}


def unsigned(hour=1, bundle_id=None):
    return build_bundle(FLOWS, created_at=datetime(2026, 12, 4, hour, tzinfo=timezone.utc), bundle_id=bundle_id)


def token_sign(data, hsm, admin, name, role):
    label, pin = admin
    with open_key(hsm.lib, label, "flows", pin) as key:
        return add_signature(data, key.public_key, key.sign, name=name, role=role)


def entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(ents):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in ents.items():
            zf.writestr(n, b)
    return buf.getvalue()


def file_key():
    pem, pub = bundles.generate_key()
    return serialization.load_pem_private_key(pem, None), pub


def test_two_admins_tokens_sign_and_a_kiosk_asking_for_two_accepts(hsm, admins, tmp_path):
    data = token_sign(unsigned(), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
    data = token_sign(data, hsm, MINH, "Trần Văn Minh", "approved_by")
    store = BundleStore(tmp_path / "kiosk", list(admins.values()), min_signatures=2)
    info = store.stage(data)
    assert store.activate_pending().bundle_id == info.bundle_id
    assert [(s["name"], s["role"], s["key_id"]) for s in info.signers] == [
        ("Nguyễn Thị Lan", "submitted_by", key_id(admins["admin-lan"])),
        ("Trần Văn Minh", "approved_by", key_id(admins["admin-minh"]))]
    assert info.not_counted == [] and info.signed_by == admins["admin-lan"]
    assert all(s["signed_at"].endswith("+07:00") for s in info.signers)
    # the signed metadata is in the bundle itself, for the audit
    doc = json.loads(entries(data)["signatures.json"])
    assert [s["key_id"] for s in doc["signatures"]] == [key_id(k) for k in admins.values()]
    assert store.status()["min_signatures"] == 2
    assert sorted(f.id for f in store.registry().flows) == sorted(p.stem for p in FLOWS)


def test_one_admins_signature_is_refused_by_a_kiosk_asking_for_two(hsm, admins, tmp_path):
    data = token_sign(unsigned(), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
    store = BundleStore(tmp_path / "kiosk", list(admins.values()), min_signatures=2)
    with pytest.raises(BundleError) as exc:
        store.stage(data)
    e = exc.value
    assert e.code == "not_enough_signatures"
    assert e.message_vi == (f"Gói quy trình cần chữ ký của 2 người quản trị khác nhau (khóa tin cậy khác nhau), mới có 1: "
                            f"Nguyễn Thị Lan (người trình, khóa {key_id(admins['admin-lan'])}).")
    assert "2 different trusted keys must sign this bundle, 1 did: Nguyễn Thị Lan (submitted_by" in e.message_en
    assert store.status()["pending"] is None and store.current() is None
    # a kiosk that asks for one takes it
    assert BundleStore(tmp_path / "other", list(admins.values())).stage(data).signers[0]["name"] == "Nguyễn Thị Lan"


def test_the_same_key_twice_counts_once(hsm, admins):
    data = token_sign(unsigned(), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
    with pytest.raises(BundleError) as exc:  # the signing tool says so at once
        token_sign(data, hsm, LAN, "Nguyễn Thị Lan", "approved_by")
    assert exc.value.code == "already_signed" and "người quản trị khác" in exc.value.message_vi
    # a bundle carrying the same valid signature twice (copied by hand) is still one signature
    ents = entries(data)
    doc = json.loads(ents["signatures.json"])
    doc["signatures"].append(dict(doc["signatures"][0]))
    ents["signatures.json"] = json.dumps(doc).encode()
    twice = rezip(ents)
    with pytest.raises(BundleError, match="1 did") as exc:
        verify_bundle(twice, list(admins.values()), min_signatures=2)
    assert "cùng một khóa ký lần nữa, chỉ tính một lần" in exc.value.message_vi
    info = verify_bundle(twice, list(admins.values()))
    assert len(info.signers) == 1 and [x["reason"] for x in info.not_counted] == ["duplicate"]


def test_an_untrusted_or_relabelled_extra_signature_does_not_help(hsm, admins):
    other, other_pub = file_key()
    data = token_sign(unsigned(), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
    data = bundles.sign(data, other, name="Người lạ", role="approved_by")
    with pytest.raises(BundleError) as exc:
        verify_bundle(data, list(admins.values()), min_signatures=2)
    assert f"khóa {key_id(other_pub)} (khóa không được tin cậy)" in exc.value.message_vi
    info = verify_bundle(data, list(admins.values()))
    assert info.not_counted == [{"key_id": key_id(other_pub), "name": "Người lạ", "reason": "untrusted"}]

    # Minh's real signature, then someone renames the approver: his signature no longer matches
    data = token_sign(unsigned(), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
    data = token_sign(data, hsm, MINH, "Trần Văn Minh", "approved_by")
    ents = entries(data)
    doc = json.loads(ents["signatures.json"])
    doc["signatures"][1]["name"] = "Lê Văn Khác"
    ents["signatures.json"] = json.dumps(doc, ensure_ascii=False).encode()
    with pytest.raises(BundleError, match="1 did") as exc:
        verify_bundle(rezip(ents), list(admins.values()), min_signatures=2)
    assert "chữ ký không khớp với nội dung" in exc.value.message_vi
    # …and a changed manifest breaks both
    ents = entries(data)
    ents["manifest.json"] = ents["manifest.json"].replace(b'"format": 1', b'"format": 1 ')
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(rezip(ents), list(admins.values()))


def test_a_wrong_pin_is_a_clear_refusal(hsm, admins):
    with pytest.raises(TokenError) as exc:
        token_sign(unsigned(), hsm, (LAN[0], "000000"), "Nguyễn Thị Lan", "submitted_by")
    assert exc.value.code == "pin_incorrect"
    assert exc.value.message_vi.startswith("Mã PIN của thẻ khóa không đúng")
    assert "wrong PIN for token 'admin-lan'" in exc.value.message_en
    with pytest.raises(TokenError) as exc:
        token_sign(unsigned(), hsm, ("no-such-token", "000000"), "X", "submitted_by")
    assert exc.value.code == "no_token"


def test_no_private_key_is_readable_by_the_process_that_signs(hsm, admins):
    """Done when (issue 20): 'No private signing key is readable by the central system's process
    (a test tries)'. Logged in with the right PIN, this very process asks the token for the key."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass

    label, pin = LAN
    with open_key(hsm.lib, label, "flows", pin) as key:
        assert key.protection == {"sensitive": True, "extractable": False, "always_sensitive": True,
                                  "never_extractable": True}
        data = add_signature(unsigned(), key.public_key, key.sign, name="Nguyễn Thị Lan", role="submitted_by")
    assert verify_bundle(data, [admins[label]]).signers[0]["name"] == "Nguyễn Thị Lan"

    lib = pkcs11.lib(hsm.lib)
    with lib.get_token(token_label=label).open(user_pin=pin, rw=True) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC_EDWARDS, label="flows")
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            private[Attribute.VALUE]
        wrapper = session.generate_key(KeyType.AES, 256, label="wrap", capabilities=pkcs11.MechanismFlag.WRAP
                                       | pkcs11.MechanismFlag.UNWRAP | pkcs11.MechanismFlag.ENCRYPT)
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            wrapper.wrap_key(private, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)
        with pytest.raises(pkcs11.exceptions.PKCS11Error):  # and it cannot be made exportable afterwards
            private[Attribute.EXTRACTABLE] = True
        assert private[Attribute.EXTRACTABLE] is False


def test_a_key_the_token_would_let_out_is_not_used(hsm):
    hsm.admin("admin-careless", "123123", exportable=True)
    with pytest.raises(TokenError) as exc:
        token_sign(unsigned(), hsm, ("admin-careless", "123123"), "Ai đó", "submitted_by")
    assert exc.value.code == "key_exportable" and "sao chép" in exc.value.message_vi


def test_old_single_signature_bundles_still_load_where_one_is_enough(tmp_path):
    key, pub = file_key()
    ents = entries(unsigned())
    ents["manifest.sig"] = base64.b64encode(key.sign(ents["manifest.json"])) + b"\n"  # the first format
    old = rezip(ents)
    info = BundleStore(tmp_path / "kiosk", [pub]).stage(old)
    assert info.signers == [{"key_id": key_id(pub), "public_key": pub, "name": "", "role": "", "signed_at": None}]
    with pytest.raises(BundleError, match="1 did"):
        BundleStore(tmp_path / "strict", [pub], min_signatures=2).stage(old)
    # a second admin adds a signature: the old one still counts, with the new one that makes two
    other, other_pub = file_key()
    both = bundles.sign(old, other, name="Trần Văn Minh", role="approved_by")
    assert len(verify_bundle(both, [pub, other_pub], min_signatures=2).signers) == 2


def test_min_signatures_must_be_a_positive_integer():
    key, pub = file_key()
    data = bundles.sign(unsigned(), key)
    for bad in (0, -1, True, "2"):
        with pytest.raises(ValueError):
            verify_bundle(data, [pub], min_signatures=bad)


def test_central_publish_counts_distinct_trusted_signatures(hsm, admins, tmp_path):
    from testkit.central import ADMIN_TOKEN, start_central

    srv = start_central(str(tmp_path / "central.sqlite3"))
    srv.central.trusted_keys = list(admins.values())
    srv.central.min_signatures = 2
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/zip"}
    try:
        one = token_sign(unsigned(bundle_id="four-eyes-1"), hsm, LAN, "Nguyễn Thị Lan", "submitted_by")
        r = requests.post(f"{srv.url}/api/v1/flows/bundles", data=one, headers=headers, timeout=60)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "bad_bundle", body
        assert "cần chữ ký của 2 người quản trị" in body["message_vi"] and "1 did" in body["message_en"]
        two = token_sign(one, hsm, MINH, "Trần Văn Minh", "approved_by")
        r = requests.post(f"{srv.url}/api/v1/flows/bundles", data=two, headers=headers, timeout=60)
        assert r.status_code == 201 and r.json()["bundle_id"] == "four-eyes-1"
        # the audit trail names both admins and their keys
        history = requests.get(f"{srv.url}/api/v1/flows/history", headers=headers, timeout=10).json()["events"]
        assert [(s["name"], s["role"]) for s in history[-1]["signers"]] == [
            ("Nguyễn Thị Lan", "submitted_by"), ("Trần Văn Minh", "approved_by")]
        assert all(len(s["key_id"]) == 16 for s in history[-1]["signers"])
    finally:
        srv.stop()


@pytest.mark.parametrize("blob, needle", [
    (b"[" * 30000 + b"]" * 30000, "not JSON"),
    (b'{"format": 1, "signatures": {}}', "must be"),
    (json.dumps({"format": 1, "signatures": [{}] * 21}).encode(), "at most 20"),
    (b" " * (64 * 1024 + 1), "at most 65536"),
])
def test_hostile_signatures_files_are_refused_plainly(blob, needle):
    key, pub = file_key()
    ents = entries(bundles.sign(unsigned(), key))
    ents["signatures.json"] = blob
    with pytest.raises(BundleError, match=needle):
        verify_bundle(rezip(ents), [pub])


def test_malformed_entries_never_count():
    key, pub = file_key()
    ents = entries(bundles.sign(unsigned(), key, name="Lan", role="submitted_by"))
    doc = json.loads(ents["signatures.json"])
    good = doc["signatures"][0]
    doc["signatures"] = ["x", {**good, "key_id": 7}, {**good, "role": "owner"}, {**good, "signature": "%%%"}, good]
    ents["signatures.json"] = json.dumps(doc).encode()
    info = verify_bundle(rezip(ents), [pub])
    assert [s["name"] for s in info.signers] == ["Lan"]
    assert [x["reason"] for x in info.not_counted] == ["malformed", "malformed", "malformed", "broken"]
