"""The central system over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL."""
import hashlib
import json
import re
import threading

import pytest
import requests

from testkit.central import ADMIN_TOKEN, CITIZEN, KIOSK_ID, KIOSK_SECRET, sample_dossier

AUTH = (KIOSK_ID, KIOSK_SECRET)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def upload(url, files):
    for sha, data in files.items():
        r = requests.put(f"{url}/api/v1/attachments/{sha}", data=data, auth=AUTH)
        assert r.status_code in (200, 201), r.text


def submit(url, dossier):
    return requests.post(f"{url}/api/v1/dossiers", json=dossier, auth=AUTH)


def test_submit_creates_once_and_replay_returns_the_same_code(server):
    dossier, files = sample_dossier()
    upload(server.url, files)
    first = submit(server.url, dossier)
    assert first.status_code == 201
    a = first.json()
    assert a["result"] == "created"
    assert re.fullmatch(r"01\.00004-\d{6}-\d{4}", a["dossier_code"])
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", a["lookup_secret"])
    assert a["handling_unit"] == {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"}
    assert a["appointment_date"] > a["received_at"][:10]
    again = submit(server.url, dossier)
    assert again.status_code == 200
    assert again.json() == {**a, "result": "already"}
    assert server.central.count_dossiers() == 1


def test_codes_are_sequential_per_commune_and_day(server):
    codes = []
    for _ in range(3):
        d, f = sample_dossier(attachments=0)
        codes.append(submit(server.url, d).json()["dossier_code"])
    seqs = [int(c.rsplit("-", 1)[1]) for c in codes]
    assert seqs == [1, 2, 3]


def test_concurrent_replays_make_one_dossier(server):
    dossier, files = sample_dossier()
    upload(server.url, files)
    answers = []

    def go():
        r = submit(server.url, dossier)
        answers.append((r.status_code, r.json()["dossier_code"]))

    threads = [threading.Thread(target=go) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len({code for _, code in answers}) == 1
    assert sorted(s for s, _ in answers) == [200] * 7 + [201]
    assert server.central.count_dossiers() == 1


def test_missing_attachments_are_named_and_nothing_is_stored(server):
    dossier, files = sample_dossier(attachments=2)
    first_sha = next(iter(files))
    upload(server.url, {first_sha: files[first_sha]})
    r = submit(server.url, dossier)
    assert r.status_code == 409
    body = r.json()
    assert body["result"] == "missing_attachments"
    assert body["missing"] == [s for s in sorted(files) if s != first_sha]
    assert server.central.count_dossiers() == 0
    upload(server.url, files)
    assert submit(server.url, dossier).status_code == 201


def test_attachment_upload_checks_the_hash_and_is_idempotent(server):
    data = b"\xff\xd8 fake jpeg"
    sha = hashlib.sha256(data).hexdigest()
    assert requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data, auth=AUTH).status_code == 201
    again = requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data, auth=AUTH)
    assert again.status_code == 200 and again.json()["result"] == "already"
    bad = requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data + b"x", auth=AUTH)
    assert bad.status_code == 422 and bad.json()["error"] == "hash_mismatch"
    assert server.central.attachment(sha) == data


def test_routing_is_boundary_free_within_the_province_only(server):
    # another commune of Hà Nội: accepted and routed there
    d, _ = sample_dossier(attachments=0, commune_code="00097")
    r = submit(server.url, d)
    assert r.status_code == 201 and r.json()["handling_unit"]["name"] == "Phường Hồng Hà"
    assert r.json()["dossier_code"].startswith("01.00097-")
    # a commune of another province: refused with a Vietnamese message
    d, _ = sample_dossier(attachments=0, commune_code="26734", province_code="79")
    r = submit(server.url, d)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] in ("wrong_province", "unknown_unit")
    assert "xã, phường" in body["message_vi"].lower()
    # a code that does not exist
    d, _ = sample_dossier(attachments=0, commune_code="99999")
    r = submit(server.url, d)
    assert r.status_code == 422 and r.json()["error"] == "unknown_unit"


def test_wrong_province_commune_is_refused(server):
    from flows import units

    other = next(c for c in units.communes("79"))  # Hồ Chí Minh City
    d, _ = sample_dossier(attachments=0, commune_code=other.code, province_code="79")
    r = submit(server.url, d)
    assert r.status_code == 422 and r.json()["error"] == "wrong_province"


def test_invalid_dossier_is_refused_without_echoing_personal_data(server):
    d, _ = sample_dossier(attachments=0)
    d["uuid"] = "not-a-uuid"
    r = submit(server.url, d)
    assert r.status_code == 422
    assert CITIZEN["full_name"] not in r.text and CITIZEN["id_number"] not in r.text
    assert r.json()["message_vi"]
    r = requests.post(f"{server.url}/api/v1/dossiers", json={"schema": "x"}, auth=AUTH)
    assert r.status_code == 422 and r.json()["result"] == "rejected"


def test_kiosk_auth(server):
    d, _ = sample_dossier(attachments=0)
    r = requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=(KIOSK_ID, "wrong-secret"))
    assert r.status_code == 401 and r.json()["result"] == "unauthorized"
    assert requests.post(f"{server.url}/api/v1/dossiers", json=d).status_code == 401
    r = requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=("NO-SUCH-KIOSK", KIOSK_SECRET))
    assert r.status_code == 401
    assert server.central.count_dossiers() == 0


def test_registered_kiosk_secret_is_stored_hashed(server):
    secret = server.central.register_kiosk("KIOSK-HN-HONGHA-02", "01", "00097")
    assert len(secret) >= 24
    rows = server.central.list_kiosks()
    assert all(secret not in json.dumps(k) for k in rows)
    from sqlalchemy import select

    from central.db import kiosks

    with server.central.engine.connect() as conn:
        stored = conn.execute(select(kiosks.c.secret_hash).where(kiosks.c.kiosk_id == "KIOSK-HN-HONGHA-02")).scalar()
    assert secret not in stored and stored.startswith("pbkdf2_sha256$")
    d, _ = sample_dossier("KIOSK-HN-HONGHA-02", attachments=0)
    assert requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=("KIOSK-HN-HONGHA-02", secret)).status_code == 201


def test_status_lookup_and_staff_transitions(server):
    d, _ = sample_dossier(attachments=0)
    a = submit(server.url, d).json()
    url = f"{server.url}/api/v1/dossiers/{a['dossier_code']}"
    s = requests.get(url, params={"secret": a["lookup_secret"].lower()}).json()
    assert s["status"] == "received" and s["result"] == "ok"
    assert CITIZEN["full_name"] not in json.dumps(s, ensure_ascii=False)
    wrong = requests.get(url, params={"secret": "AAAAAAAAAA"})
    unknown = requests.get(f"{server.url}/api/v1/dossiers/01.00004-000000-9999", params={"secret": a["lookup_secret"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()  # no oracle: same answer for a wrong secret and an unknown code

    move = lambda status, headers=ADMIN: requests.post(f"{url}/status", json={"status": status}, headers=headers)  # noqa: E731
    assert move("processing", {}).status_code == 401
    assert move("processing", {"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
    assert move("processing").json()["status"] == "processing"
    assert move("processing").status_code == 409
    assert move("done").json()["status"] == "done"
    assert move("returned").status_code == 409
    s = requests.get(url, params={"secret": a["lookup_secret"]}).json()
    assert s["status"] == "done"
    assert [e["status"] for e in s["history"]] == ["received", "processing", "done"]


def test_received_cannot_jump_to_done(server):
    d, _ = sample_dossier(attachments=0)
    a = submit(server.url, d).json()
    r = requests.post(f"{server.url}/api/v1/dossiers/{a['dossier_code']}/status", json={"status": "done"}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"] == "bad_transition"


def test_heartbeat_is_stored_and_listed_for_admins(server):
    from common.health import Health, State

    beat = {"devices": {"printer": Health(State.NEEDS_ATTENTION, "paper low", "load paper").as_dict()},
            "outbox": {"pending": 2}, "versions": {"kiosk": "0.1.0"}}
    r = requests.post(f"{server.url}/api/v1/kiosks/{KIOSK_ID}/heartbeat", json=beat, auth=AUTH)
    assert r.status_code == 200 and r.json()["result"] == "accepted"
    other = requests.post(f"{server.url}/api/v1/kiosks/SOMEONE-ELSE/heartbeat", json=beat, auth=AUTH)
    assert other.status_code == 403 and other.json()["error"] == "wrong_kiosk"
    assert requests.get(f"{server.url}/api/v1/kiosks").status_code == 401
    listed = requests.get(f"{server.url}/api/v1/kiosks", headers=ADMIN).json()["kiosks"]
    mine = next(k for k in listed if k["kiosk_id"] == KIOSK_ID)
    assert mine["last_heartbeat"]["devices"]["printer"]["state"] == "needs_attention"
    assert mine["last_heartbeat"]["outbox"] == {"pending": 2}


def test_flows_index_and_bundle_etag(server):
    assert requests.get(f"{server.url}/api/v1/flows").json() == {"result": "ok", "bundle_id": None, "sha256": None, "flows": []}
    manifest = json.dumps({"format": 1, "bundle_id": "b-2026-11-23", "created_at": "2026-11-23T00:00:00Z",
                           "flows": [{"id": "khai-sinh", "version": 3, "sha256": "a" * 64, "path": "flows/khai-sinh.yaml"}],
                           "media": []}).encode()
    data = b"PK fake zip bytes for the ETag test"
    # stored directly: signature checking is flows.bundles' job and is tested with real bundles below
    server.central.store_bundle(data, manifest, "b-2026-11-23")
    index = requests.get(f"{server.url}/api/v1/flows").json()
    assert index["bundle_id"] == "b-2026-11-23"
    assert index["flows"] == [{"id": "khai-sinh", "version": 3, "sha256": "a" * 64}]
    r = requests.get(f"{server.url}/api/v1/flows/bundles/b-2026-11-23")
    assert r.status_code == 200 and r.content == data
    assert r.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    r2 = requests.get(f"{server.url}/api/v1/flows/bundles/b-2026-11-23", headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304 and r2.content == b""
    assert requests.get(f"{server.url}/api/v1/flows/bundles/nope").status_code == 404


def test_publishing_a_bundle_needs_the_admin_token(server):
    r = requests.post(f"{server.url}/api/v1/flows/bundles", data=b"PK..", headers={"Content-Type": "application/zip"})
    assert r.status_code == 401
    r = requests.post(f"{server.url}/api/v1/flows/bundles", data=b"not a bundle", headers={**ADMIN, "Content-Type": "application/zip"})
    assert r.status_code in (422, 503)  # refused either way: bad bundle, or no verifier installed
    assert requests.get(f"{server.url}/api/v1/flows").json()["bundle_id"] is None


def test_openapi_document_is_committed_and_not_served_unless_configured(server):
    from pathlib import Path

    from central.app import create_app, openapi_text

    committed = Path(__file__).resolve().parents[2] / "central" / "openapi.json"
    generated = json.loads(openapi_text(create_app(server.central)))
    assert json.loads(committed.read_text(encoding="utf-8")) == generated, "run `kiosk central openapi --write`"
    for path in ("/api/v1/dossiers", "/api/v1/attachments/{sha256}", "/api/v1/dossiers/{code}", "/api/v1/flows",
                 "/api/v1/flows/bundles/{bundle_id}", "/api/v1/flows/bundles", "/api/v1/kiosks/{kiosk_id}/heartbeat"):
        assert path in generated["paths"]
    # off by default; never the interactive pages, which load their scripts from a CDN
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        r = requests.get(f"{server.url}{path}")
        assert r.status_code == 404 and r.json()["result"] == "rejected", path


def test_a_signed_bundle_is_published_verified_and_served(database, tmp_path):
    bundles = pytest.importorskip("flows.bundles")
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from testkit.central import start_central

    pem, public = bundles.generate_key()
    key = load_pem_private_key(pem, None)
    flows_dir = Path(__file__).resolve().parents[2] / "flows" / "definitions"
    data = bundles.sign(bundles.build_bundle(sorted(flows_dir.glob("*.yaml"))[:2], bundle_id="test-bundle-1"), key)
    srv = start_central(database)
    srv.central.trusted_keys = [public]
    try:
        headers = {**ADMIN, "Content-Type": "application/zip"}
        r = requests.post(f"{srv.url}/api/v1/flows/bundles", data=data, headers=headers)
        assert r.status_code == 201, r.text
        assert requests.post(f"{srv.url}/api/v1/flows/bundles", data=data, headers=headers).json()["result"] == "already"
        index = requests.get(f"{srv.url}/api/v1/flows").json()
        assert index["bundle_id"] == "test-bundle-1" and len(index["flows"]) == 2
        assert all(len(f["sha256"]) == 64 for f in index["flows"])
        assert requests.get(f"{srv.url}/api/v1/flows/bundles/test-bundle-1").content == data
        # signed by a key central does not trust: refused, the current bundle stays
        other_pem, _ = bundles.generate_key()
        forged = bundles.sign(bundles.build_bundle(sorted(flows_dir.glob("*.yaml"))[:1], bundle_id="forged"),
                              load_pem_private_key(other_pem, None))
        r = requests.post(f"{srv.url}/api/v1/flows/bundles", data=forged, headers=headers)
        assert r.status_code == 422 and r.json()["error"] == "bad_bundle"
        assert requests.get(f"{srv.url}/api/v1/flows").json()["bundle_id"] == "test-bundle-1"
    finally:
        srv.stop()
