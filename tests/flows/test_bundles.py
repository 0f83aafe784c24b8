"""Signed bundles: build, sign, verify; the kiosk store's stage / activate / rollback; every
hostile bundle refused with the running bundle untouched; pick-up from a real central server."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from flows_testdata import DEFINITIONS

from flows import bundles
from flows.bundles import BundleError, BundleStore, build_bundle, sign, verify_bundle

FLOWS = sorted(DEFINITIONS.glob("*.yaml"))


def _key():
    pem, pub = bundles.generate_key()
    return serialization.load_pem_private_key(pem, None), pub


KEY, PUB = _key()
OTHER_KEY, OTHER_PUB = _key()


def _t(hour):
    return datetime(2026, 11, 23, hour, 0, tzinfo=timezone.utc)


def signed(paths=FLOWS, media=None, hour=1, key=KEY, **kw):
    return sign(build_bundle(paths, media, created_at=_t(hour), **kw), key, signed_at=_t(hour))


def entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(ents):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in ents.items():
            zf.writestr(n, b)
    return buf.getvalue()


def resign(ents, key=KEY):
    ents = dict(ents)
    ents["manifest.sig"] = base64.b64encode(key.sign(ents["manifest.json"]))
    return rezip(ents)


def shipped_version(flow="khai-sinh") -> int:
    src = (DEFINITIONS / f"{flow}.yaml").read_text(encoding="utf-8")
    return int(re.search(r"^version: (\d+)$", src, re.M).group(1))


SHIPPED = shipped_version()


def bumped(tmp_path, flow="khai-sinh", version=SHIPPED + 1, extra=""):
    """A copy of a shipped flow with another version (and optionally other content)."""
    src = (DEFINITIONS / f"{flow}.yaml").read_text(encoding="utf-8")
    text = src.replace(f"\nversion: {shipped_version(flow)}\n", f"\nversion: {version}\n") + extra
    p = tmp_path / f"v{version}{len(extra)}" / f"{flow}.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_build_sign_verify_with_media(tmp_path):
    media = tmp_path / "media"
    (media / "help" / "khai-sinh").mkdir(parents=True)
    (media / "help" / "khai-sinh" / "huong-dan.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    data = signed(media=media)
    info = verify_bundle(data, [OTHER_PUB, PUB])
    assert info.signed_by == PUB
    assert len(info.flows) == len(FLOWS)
    assert [m["path"] for m in info.media] == ["media/help/khai-sinh/huong-dan.mp4"]
    assert "media/help/khai-sinh/huong-dan.vtt" in info.missing_media  # optional until generated
    # the same inputs make the same bytes (so re-publishing is idempotent)
    assert signed(media=media) == data


def test_build_refuses_a_bad_flow(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: kiosk-flow/1\nid: x\n", encoding="utf-8")
    with pytest.raises(BundleError, match="bad.yaml"):
        build_bundle([bad, *FLOWS])


def test_bad_signature():
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(signed(key=OTHER_KEY), [PUB])


def test_no_trusted_keys():
    with pytest.raises(BundleError, match="no trusted keys"):
        verify_bundle(signed(), [])


def test_tampered_flow_file():
    ents = entries(signed())
    ents["flows/khai-sinh.yaml"] = ents["flows/khai-sinh.yaml"].replace(b"amount: 0", b"amount: 9")
    with pytest.raises(BundleError, match="changed after signing"):
        verify_bundle(rezip(ents), [PUB])


def test_tampered_manifest():
    ents = entries(signed())
    m = json.loads(ents["manifest.json"])
    m["flows"][0]["version"] = 99
    ents["manifest.json"] = json.dumps(m).encode()
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(rezip(ents), [PUB])


def test_unlisted_file_refused():
    ents = entries(signed())
    ents["flows/extra.yaml"] = b"x: 1\n"
    with pytest.raises(BundleError, match="does not list"):
        verify_bundle(rezip(ents), [PUB])


@pytest.mark.parametrize("name", ["../evil.yaml", "/etc/passwd", "flows/../../x", "media\\x.mp4"])
def test_unsafe_names_refused(name):
    ents = entries(signed())
    ents[name] = b"x"
    with pytest.raises(BundleError, match="unsafe file name"):
        verify_bundle(rezip(ents), [PUB])


def test_zip_bomb_refused():
    ents = entries(signed())
    ents["media/help/khai-sinh/huong-dan.mp4"] = bytes(20 * 1024 * 1024)
    with pytest.raises(BundleError, match="zip bomb"):
        verify_bundle(rezip(ents), [PUB])


def test_not_a_zip():
    with pytest.raises(BundleError, match="not a zip"):
        verify_bundle(b"PK\x03\x04 garbage", [PUB])


def test_signed_but_invalid_flow_refused():
    ents = entries(signed())
    bad = ents["flows/khai-sinh.yaml"].replace(b"kind: submit", b"kind: payment")
    ents["flows/khai-sinh.yaml"] = bad
    m = json.loads(ents["manifest.json"])
    for f in m["flows"]:
        if f["id"] == "khai-sinh":
            f["sha256"] = hashlib.sha256(bad).hexdigest()
    ents["manifest.json"] = json.dumps(m).encode()
    with pytest.raises(BundleError, match="not a valid flow.*payment"):
        verify_bundle(resign(ents), [PUB])


def test_signed_media_traversal_refused():
    ents = entries(signed())
    m = json.loads(ents["manifest.json"])
    m["media"] = [{"path": "media/../../etc/x", "sha256": "0" * 64, "size": 1}]
    ents["manifest.json"] = json.dumps(m).encode()
    with pytest.raises(BundleError, match="unsafe media path"):
        verify_bundle(resign(ents), [PUB])


def test_same_id_and_version_with_other_content_refused(tmp_path):
    v1 = verify_bundle(signed(), [PUB])
    known = {(f["id"], f["version"]): f["sha256"] for f in v1.flows}
    changed = bumped(tmp_path, version=SHIPPED, extra="# changed\n")
    with pytest.raises(BundleError, match="already published with other content"):
        verify_bundle(signed([changed]), [PUB], known)


# --- the kiosk store ----------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    return BundleStore(tmp_path / "bundles", [PUB])


def _running(store):
    return (store.status()["current"] or {}).get("bundle_id")


def test_stage_activate_rollback(store, tmp_path):
    assert store.current() is None and store.activate_pending() is None
    b1 = signed(hour=1)
    i1 = store.stage(b1)
    assert store.current() is None  # staged is not running
    assert store.activate_pending().bundle_id == i1.bundle_id
    assert store.registry().get("khai-sinh").version == SHIPPED
    v2 = bumped(tmp_path, version=SHIPPED + 1, extra="# v2\n")
    others = [p for p in FLOWS if p.name != "khai-sinh.yaml"]
    i2 = store.stage(signed([v2, *others], hour=2))
    assert _running(store) == i1.bundle_id
    store.activate_pending()
    assert store.registry().get("khai-sinh").version == SHIPPED + 1
    st = store.status()
    assert st["current"]["bundle_id"] == i2.bundle_id and st["previous"]["bundle_id"] == i1.bundle_id
    assert store.rollback().bundle_id == i1.bundle_id
    assert store.registry().get("khai-sinh").version == SHIPPED
    with pytest.raises(BundleError, match="no previous bundle"):
        store.rollback()
    # the rolled-back bundle is not picked up again by itself
    with pytest.raises(BundleError, match="rolled back"):
        store.stage(signed([v2, *others], hour=2))
    store.stage(signed([v2, *others], hour=2), force=True)
    assert store.activate_pending().bundle_id == i2.bundle_id


def test_hostile_bundles_leave_the_running_bundle_untouched(store, tmp_path):
    i1 = store.stage(signed(hour=5))
    store.activate_pending()
    before = store.status()
    files_before = sorted(p.relative_to(store.dir) for p in store.dir.rglob("*") if "state.json" not in p.name)
    ents = entries(signed(hour=6))
    ents["flows/khai-sinh.yaml"] += b"# tampered\n"
    hostile = [
        signed(hour=6, key=OTHER_KEY),                         # bad signature
        rezip(ents),                                          # tampered file
        signed(hour=4),                                       # older bundle: replay
        signed([bumped(tmp_path, version=1, extra="# x\n")], hour=7),  # same id+version, other content
        b"not a zip",
    ]
    for data in hostile:
        with pytest.raises(BundleError):
            store.stage(data)
        assert store.status() == before
        assert _running(store) == i1.bundle_id
    files_after = sorted(p.relative_to(store.dir) for p in store.dir.rglob("*") if "state.json" not in p.name)
    assert files_after == files_before
    assert len(store.registry().flows) == len(FLOWS)


def test_older_flow_version_replay_refused(store, tmp_path):
    store.stage(signed([bumped(tmp_path, version=SHIPPED + 2)], hour=1))
    store.activate_pending()
    with pytest.raises(BundleError, match=f"older than version {SHIPPED + 2}"):
        store.stage(signed([bumped(tmp_path, version=SHIPPED + 1)], hour=2))


def test_files_changed_on_disk_are_refused(store):
    store.stage(signed(hour=1))
    store.activate_pending()
    f = store.current_dir() / "flows" / "khai-sinh.yaml"
    f.write_bytes(f.read_bytes() + b"# edited on the kiosk\n")
    reg = store.registry()
    assert reg.get("khai-sinh") is None and reg.get("khai-tu") is not None
    assert "changed on disk" in str(reg.errors[0])


def test_a_running_engine_keeps_its_flow_across_a_switch(store, tmp_path):
    from datetime import date

    import flows

    store.stage(signed(hour=1))
    store.activate_pending()
    flow = store.registry().get("khai-sinh")
    engine = flows.FlowEngine(flow, today=date(2026, 11, 23))
    store.stage(signed([bumped(tmp_path, version=SHIPPED + 1, extra="# v2\n")], hour=2))
    store.activate_pending()
    assert engine.flow.version == SHIPPED and engine.flow is flow
    assert store.registry().get("khai-sinh").version == SHIPPED + 1


# --- through a real central system --------------------------------------------------------

def test_publish_to_central_and_pick_up(tmp_path):
    import requests

    from central.server import run_in_thread
    from testkit.central import ADMIN_TOKEN, free_port
    from flows.update import fetch_and_stage
    from kiosk.client import CentralClient

    config = {
        "central": {"url": "http://127.0.0.1:0", "database": str(tmp_path / "c.sqlite3"),
                    "kiosk_secret": "test-kiosk-secret-1234", "admin_token": ADMIN_TOKEN},
        "kiosk": {"id": "KIOSK-HN-BADINH-01", "province_code": "01", "commune_code": "00004"},
        "flows": {"trusted_keys": [PUB]},
    }
    server = run_in_thread(config, port=free_port())
    try:
        url = server.url
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/zip"}
        store = BundleStore(tmp_path / "kiosk", [PUB])
        client = CentralClient(url, "KIOSK-HN-BADINH-01", "test-kiosk-secret-1234")
        with requests.Session() as http:
            assert fetch_and_stage(client, store) is None  # nothing published yet
            r = http.post(f"{url}/api/v1/flows/bundles", data=signed(hour=1), headers=admin, timeout=30)
            assert r.status_code == 201 and r.json()["result"] == "created"
            r = http.post(f"{url}/api/v1/flows/bundles", data=signed(hour=1, key=OTHER_KEY), headers=admin, timeout=30)
            assert r.status_code == 422  # the central system refuses a forged bundle too
            info = fetch_and_stage(client, store)
            assert info is not None and _running(store) is None
            assert store.activate_pending().bundle_id == info.bundle_id
            assert fetch_and_stage(client, store) is None  # already running
            v2 = signed([bumped(tmp_path, version=SHIPPED + 1, extra="# v2\n")], hour=2)
            assert http.post(f"{url}/api/v1/flows/bundles", data=v2, headers=admin, timeout=30).status_code == 201
            info2 = fetch_and_stage(client, store)
            store.activate_pending()
            assert _running(store) == info2.bundle_id and store.registry().get("khai-sinh").version == SHIPPED + 1
            assert store.rollback().bundle_id == info.bundle_id
            assert fetch_and_stage(client, store) is None  # a rolled-back bundle stays rolled back
    finally:
        server.stop()


def _hand_made(flow_bytes: bytes, flow_id="khai-sinh", version=1, key=KEY, hour=9) -> bytes:
    """A bundle signed by a trusted key around a flow file that build_bundle would refuse: what a
    compromised or careless admin machine could publish."""
    m = {"format": 1, "bundle_id": f"hand-{hour}", "created_at": f"2026-11-23T{hour:02d}:00:00Z",
         "flows": [{"id": flow_id, "version": version, "sha256": hashlib.sha256(flow_bytes).hexdigest(),
                    "path": f"flows/{flow_id}.yaml"}], "media": []}
    return resign({"manifest.json": json.dumps(m).encode(), f"flows/{flow_id}.yaml": flow_bytes}, key)


KS = (DEFINITIONS / "khai-sinh.yaml").read_bytes()


@pytest.mark.parametrize("name, flow_bytes, needle", [
    ("unknown step kind", KS.replace(b"kind: review", b"kind: payment"), "payment"),
    ("missing key", KS.replace(b"procedure_code:", b"procedure_kode:"), "procedure_code"),
    ("skip_to cycle", KS.replace(b"  - id: tre\n    kind: form\n",
                                 b"  - id: tre\n    kind: form\n    skip_to: [{if: \"copies > 1\", to: cha-me}]\n"), "cycle"),
    ("bad condition", KS.replace(b"visible_if: \"has_father == true\"", b"visible_if: \"has_father = = true\"", 1), "bad condition"),
    ("media traversal", KS.replace(b"  - id: tre\n    kind: form\n",
                                   b"  - id: tre\n    kind: form\n    help: {video: media/help/khai-sinh/../../../../etc/shadow}\n"), "media path"),
    ("deep nesting", KS + b"x: " + b"[" * 40 + b"]" * 40 + b"\n", "nested more than"),
    ("huge file", KS + b"# " + b"x" * 300_000 + b"\n", "at most 262144 bytes"),
])
def test_hostile_definitions_in_a_signed_bundle(store, name, flow_bytes, needle):
    first = store.stage(signed(hour=1))
    store.activate_pending()
    before = store.status()
    with pytest.raises(BundleError, match="not a valid flow") as info:
        store.stage(_hand_made(flow_bytes, hour=9))
    assert needle in str(info.value), str(info.value)
    assert store.status() == before and _running(store) == first.bundle_id
    assert not (store.dir / "bundles" / "hand-9").exists()


def test_every_single_byte_flip_is_refused_cleanly():
    """Damage anywhere (transfer, disk) gives a BundleError, never another exception."""
    data = signed(paths=[DEFINITIONS / "khai-tu.yaml"])
    step = max(1, len(data) // 300)
    for i in range(0, len(data), step):
        broken = bytearray(data)
        broken[i] ^= 0x41
        try:
            verify_bundle(bytes(broken), [PUB])
        except BundleError:
            continue
        # a flip in bytes that nothing reads (zip comment, padding) may leave the bundle intact
        assert entries(bytes(broken)) == entries(data)


def test_a_zip_version_it_cannot_read_is_a_bundle_error():
    """The byte-flip sweep found it only on some signatures (ECDSA's vary): one flipped byte in the
    central directory's "version needed to extract" (20 → 85, i.e. 8.5) made zipfile raise
    NotImplementedError, which escaped verify_bundle instead of a BundleError."""
    data = bytearray(signed(paths=[DEFINITIONS / "khai-tu.yaml"]))
    cd = data.find(b"PK\x01\x02")          # the first central directory record
    assert cd > 0
    data[cd + 6] = 85                        # its "version needed to extract"
    with pytest.raises(BundleError):
        verify_bundle(bytes(data), [PUB])


def test_concurrent_stage_and_activate_keep_state_consistent(store, tmp_path):
    """The kiosk's sync thread stages while the UI thread activates between sessions."""
    import threading

    versions = [signed([bumped(tmp_path, version=v, extra=f"# v{v}\n")], hour=v) for v in range(1, 6)]
    errors = []

    def stager():
        for data in versions:
            try:
                store.stage(data)
            except BundleError as exc:  # a bundle overtaken by a newer one may be refused as a replay
                if "replay" not in str(exc) and "older" not in str(exc):
                    errors.append(exc)

    def activator():
        for _ in range(30):
            try:
                store.activate_pending()
            except BundleError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=stager), threading.Thread(target=activator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.activate_pending()
    assert errors == []
    st = store.status()
    assert st["current"] is not None and st["pending"] is None
    assert store.registry().get("khai-sinh").version == 5
    # nothing left over but the current and previous bundles
    kept = {p.name for p in (store.dir / "bundles").iterdir()}
    assert kept <= {st["current"]["bundle_id"], (st["previous"] or {}).get("bundle_id")}
