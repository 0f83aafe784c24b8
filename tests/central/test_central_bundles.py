"""Bundles only move forward at the central system too (issue 17): an older signed bundle is
refused on publish; going back is an explicit rollback with a reason, kept in the audit trail."""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from testkit.central import ADMIN_TOKEN, start_central

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FLOWS = Path(__file__).resolve().parents[2] / "flows" / "definitions"


def manifest(bundle_id, created_at, versions):
    return json.dumps({"format": 1, "bundle_id": bundle_id, "created_at": created_at, "media": [],
                       "flows": [{"id": f, "version": v, "sha256": f"{v:064x}", "path": f"flows/{f}.yaml"}
                                 for f, v in versions.items()]}).encode()


def current(url):
    return requests.get(f"{url}/api/v1/flows", timeout=30).json()["bundle_id"]


def test_an_older_bundle_is_refused_and_a_rollback_is_explicit_and_recorded(server):
    c, url = server.central, server.url
    assert c.store_bundle(b"b1", manifest("b1", "2026-11-01T00:00:00Z", {"khai-sinh": 1}), "b1", actor="test")[0]
    assert c.store_bundle(b"b2", manifest("b2", "2026-11-20T00:00:00Z", {"khai-sinh": 2}), "b2")[0]
    from central.service import CentralError

    with pytest.raises(CentralError) as exc:  # made before the current bundle
        c.store_bundle(b"b0", manifest("b0", "2026-10-01T00:00:00Z", {"khai-sinh": 3}), "b0")
    assert exc.value.status == 409 and exc.value.code == "bundle_older"
    with pytest.raises(CentralError) as exc:  # newer, but takes a flow back to an older version
        c.store_bundle(b"b3", manifest("b3", "2026-11-30T00:00:00Z", {"khai-sinh": 1}), "b3")
    assert exc.value.code == "bundle_older" and "version 1 after version 2" in exc.value.message_en
    assert current(url) == "b2"

    rollback = lambda bid, body, headers=ADMIN: requests.post(f"{url}/api/v1/flows/bundles/{bid}/rollback",  # noqa: E731
                                                               json=body, headers=headers, timeout=30)
    assert rollback("b1", {"reason": "x"}, {}).status_code == 401
    assert rollback("b1", {}).status_code == 422
    assert rollback("b1", {"reason": "   "}).json()["error"] == "invalid_request"
    assert rollback("nope", {"reason": "x"}).status_code == 404
    r = rollback("b1", {"reason": "b2 hỏng mẫu tờ khai khai sinh"})
    assert r.status_code == 200 and r.json()["result"] == "accepted" and r.json()["previous_bundle_id"] == "b2"
    assert current(url) == "b1"
    assert rollback("b1", {"reason": "again"}).json()["result"] == "already"
    # publishing b2 again is "already" and does not undo the rollback
    assert c.store_bundle(b"b2", manifest("b2", "2026-11-20T00:00:00Z", {"khai-sinh": 2}), "b2")[1]["result"] == "already"
    assert current(url) == "b1"
    history = requests.get(f"{url}/api/v1/flows/history", headers=ADMIN, timeout=30).json()["events"]
    assert [(e["action"], e["bundle_id"], e["previous_bundle_id"]) for e in history] == [
        ("publish", "b1", None), ("publish", "b2", "b1"), ("rollback", "b1", "b2")]
    assert history[2]["reason"] == "b2 hỏng mẫu tờ khai khai sinh" and history[2]["actor"] == "admin API from 127.0.0.1"
    assert requests.get(f"{url}/api/v1/flows/history", timeout=30).status_code == 401


def test_publishing_an_older_signed_bundle_is_409_over_http(database):
    bundles = pytest.importorskip("flows.bundles")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem, public = bundles.generate_key()
    key = load_pem_private_key(pem, None)
    paths = sorted(FLOWS.glob("*.yaml"))[:1]

    def signed(bundle_id, day):
        return bundles.sign(bundles.build_bundle(paths, bundle_id=bundle_id, created_at=datetime(2026, 11, day, tzinfo=timezone.utc)), key)

    srv = start_central(database)
    srv.central.trusted_keys = [public]
    try:
        headers = {**ADMIN, "Content-Type": "application/zip"}
        publish = lambda data: requests.post(f"{srv.url}/api/v1/flows/bundles", data=data, headers=headers, timeout=60)  # noqa: E731
        old, new = signed("bundle-old", 1), signed("bundle-new", 20)
        assert publish(new).status_code == 201
        r = publish(old)
        assert r.status_code == 409 and r.json()["error"] == "bundle_older" and r.json()["message_vi"]
        assert current(srv.url) == "bundle-new"
        assert publish(new).json()["result"] == "already"
    finally:
        srv.stop()
