"""Help calls ("Gọi cán bộ hỗ trợ", issue 18) over real HTTP, on SQLite and PostgreSQL: a kiosk
creates, reads and cancels its own calls; staff list the open ones and acknowledge them once."""
import threading
import uuid as uuidlib
from datetime import timedelta

import pytest
import requests

from testkit.central import ADMIN_TOKEN, KIOSK_ID, KIOSK_SECRET, PERSONAL_STRINGS

AUTH = (KIOSK_ID, KIOSK_SECRET)
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OTHER = ("KIOSK-HN-HOANKIEM-02", "other-kiosk-secret-5678")


def call_body(**over) -> dict:
    body = {"uuid": str(uuidlib.uuid4()), "flow_id": "khai-sinh", "step_id": "nguoi-yeu-cau",
            "step_title": "Người đi đăng ký", "screen": "step-form", "language": "vi", "waiting_s": 125}
    body.update(over)
    return body


def create(url, body, auth=AUTH):
    return requests.post(f"{url}/api/v1/help-calls", json=body, auth=auth, timeout=10)


def open_calls(url, **params):
    r = requests.get(f"{url}/api/v1/help-calls", params=params, headers=STAFF, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["calls"]


def ack(url, uid, by="Chị Lan, quầy 2"):
    return requests.post(f"{url}/api/v1/help-calls/{uid}/ack", json={"by": by}, headers=STAFF, timeout=10)


def test_create_is_idempotent_and_staff_see_the_call_with_its_waiting_time(server, clock):
    clock.freeze(clock.now())
    body = call_body()
    first = create(server.url, body)
    assert first.status_code == 201, first.text
    a = first.json()
    assert a["result"] == "created" and a["state"] == "open" and a["uuid"] == body["uuid"]
    again = create(server.url, body)
    assert again.status_code == 200 and again.json() == {**a, "result": "already"}
    clock.advance(timedelta(seconds=40))
    calls = open_calls(server.url)
    assert len(calls) == 1
    c = calls[0]
    assert (c["kiosk_id"], c["commune_code"], c["flow_id"], c["step_id"], c["step_title"], c["language"]) == \
        (KIOSK_ID, "00004", "khai-sinh", "nguoi-yeu-cau", "Người đi đăng ký", "vi")
    assert c["since_call_s"] == 40 and c["waiting_s"] == 125 + 40
    # the commune filter: this kiosk stands in 00004
    assert open_calls(server.url, commune="00004") and open_calls(server.url, commune="00007") == []


def test_the_same_uuid_with_other_content_or_from_another_kiosk_is_409(server):
    server.central.register_kiosk(OTHER[0], "01", "00007", OTHER[1])
    body = call_body()
    assert create(server.url, body).status_code == 201
    changed = create(server.url, {**body, "waiting_s": 1})
    assert changed.status_code == 409 and changed.json()["error"] == "uuid_conflict"
    stolen = create(server.url, body, auth=OTHER)
    assert stolen.status_code == 409 and stolen.json()["error"] == "uuid_conflict"
    assert "khai-sinh" not in stolen.text  # nothing of the other kiosk's call


def test_a_kiosk_reads_and_cancels_only_its_own_calls(server):
    server.central.register_kiosk(OTHER[0], "01", "00007", OTHER[1])
    body = call_body()
    create(server.url, body)
    url = f"{server.url}/api/v1/help-calls/{body['uuid']}"
    mine = requests.get(url, auth=AUTH, timeout=10)
    assert mine.status_code == 200 and mine.json()["state"] == "open" and mine.json()["acknowledged_at"] is None
    for method, path in (("GET", ""), ("POST", "/cancel")):
        r = requests.request(method, url + path, auth=OTHER, timeout=10)
        assert r.status_code == 404 and r.json()["error"] == "not_found", (method, path)
    assert requests.get(url, auth=AUTH, timeout=10).json()["state"] == "open"  # the other kiosk changed nothing
    unknown = requests.get(f"{server.url}/api/v1/help-calls/{uuidlib.uuid4()}", auth=AUTH, timeout=10)
    assert unknown.status_code == 404


def test_acknowledge_once_then_409_and_the_kiosk_sees_it(server):
    body = call_body()
    create(server.url, body)
    first = ack(server.url, body["uuid"])
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "accepted" and first.json()["acknowledged_by"] == "Chị Lan, quầy 2"
    state = requests.get(f"{server.url}/api/v1/help-calls/{body['uuid']}", auth=AUTH, timeout=10).json()
    assert state["state"] == "acknowledged" and state["acknowledged_at"]
    assert "acknowledged_by" not in state  # a staff member's name is not shown on a public screen
    twice = ack(server.url, body["uuid"], by="Anh Minh")
    assert twice.status_code == 409
    t = twice.json()
    assert t["error"] == "already_acknowledged" and "Chị Lan, quầy 2" in t["message_vi"] and "Chị Lan" in t["message_en"]
    assert open_calls(server.url) == []
    assert [c["uuid"] for c in open_calls(server.url, state="acknowledged")] == [body["uuid"]]


def test_a_cancelled_call_cannot_be_acknowledged(server):
    body = call_body()
    create(server.url, body)
    url = f"{server.url}/api/v1/help-calls/{body['uuid']}/cancel"
    first = requests.post(url, auth=AUTH, timeout=10)
    assert first.status_code == 200 and first.json()["result"] == "accepted" and first.json()["state"] == "cancelled"
    assert requests.post(url, auth=AUTH, timeout=10).json()["result"] == "already"
    refused = ack(server.url, body["uuid"])
    assert refused.status_code == 409 and refused.json()["error"] == "cancelled"
    assert "hủy" in refused.json()["message_vi"]
    assert open_calls(server.url) == []


def test_two_staff_acknowledging_at_once_one_wins(server):
    body = call_body()
    create(server.url, body)
    statuses = []

    def go(who):
        statuses.append(ack(server.url, body["uuid"], by=who).status_code)

    threads = [threading.Thread(target=go, args=(f"Cán bộ {i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 5


def test_open_calls_are_listed_newest_first(server, clock):
    clock.freeze(clock.now())
    uids = []
    for _ in range(3):
        b = call_body()
        uids.append(b["uuid"])
        create(server.url, b)
        clock.advance(timedelta(seconds=5))
    assert [c["uuid"] for c in open_calls(server.url)] == uids[::-1]


def test_a_call_kept_offline_counts_from_when_the_citizen_asked(server, clock):
    clock.freeze(clock.now())
    asked = clock.now() - timedelta(minutes=4)
    body = call_body(called_at=asked.isoformat(timespec="seconds"), waiting_s=60)
    assert create(server.url, body).status_code == 201
    c = open_calls(server.url)[0]
    assert c["since_call_s"] == 240 and c["waiting_s"] == 300
    # a kiosk clock an hour ahead is not believed: counted from central's own time
    ahead = call_body(called_at=(clock.now() + timedelta(hours=1)).isoformat(timespec="seconds"))
    create(server.url, ahead)
    c = [c for c in open_calls(server.url) if c["uuid"] == ahead["uuid"]][0]
    assert c["since_call_s"] == 0


HOSTILE = [
    ("a name", {"full_name": "Trần Thị Ngọc Ánh"}),
    ("an ID number", {"id_number": "001185012345"}),
    ("a number as text", {"waiting_s": "125"}),
    ("a negative wait", {"waiting_s": -1}),
    ("a boolean wait", {"waiting_s": True}),
    ("a huge wait", {"waiting_s": 10**30}),
    ("an uppercase uuid", {"uuid": str(uuidlib.uuid4()).upper()}),
    ("a bad uuid", {"uuid": "../../etc/passwd"}),
    ("a language", {"language": "fr"}),
    ("a screen", {"screen": "<script>"}),
    ("a step id", {"step_id": "a" * 500}),
    ("a long title", {"step_title": "x" * 201}),
    ("a title object", {"step_title": {"vi": "x"}}),
    ("a bad time", {"called_at": "2026-13-45T99:99:99+07:00"}),
    ("a time without a date", {"called_at": "08:15"}),
]


@pytest.mark.parametrize("label,change", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_are_4xx_and_not_echoed(server, label, change):
    r = create(server.url, call_body(**change))
    assert r.status_code == 422, (label, r.status_code, r.text)
    assert r.json()["result"] == "rejected"
    for s in PERSONAL_STRINGS:
        assert s not in r.text


@pytest.mark.parametrize("raw", [b"", b"[]", b"null", b"\xff\xfe", b'{"uuid": "\\ud800"}', b'{"step_title": "a\\u0000b"}',
                                 b"[" * 10_000, b'{"a":' * 50 + b"1" + b"}" * 50])
def test_malformed_bodies_are_422(server, raw):
    r = requests.post(f"{server.url}/api/v1/help-calls", data=raw, auth=AUTH,
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 422, r.text


def test_an_oversized_call_is_413_and_auth_comes_first(server):
    big = call_body(step_title="x" * 20_000)
    r = create(server.url, big)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert create(server.url, call_body(), auth=(KIOSK_ID, "wrong-secret-xyz")).status_code == 401
    assert requests.get(f"{server.url}/api/v1/help-calls", timeout=10).status_code == 401  # staff token needed
    assert requests.get(f"{server.url}/api/v1/help-calls", headers={"Authorization": "Bearer " + "x" * 30},
                        timeout=10).status_code == 401
    # a kiosk's credentials are not a staff token
    assert requests.get(f"{server.url}/api/v1/help-calls", auth=AUTH, timeout=10).status_code == 401


def test_hostile_acknowledgements_and_queries(server):
    body = call_body()
    create(server.url, body)
    for bad in ({}, {"by": ""}, {"by": "   "}, {"by": "x" * 101}, {"by": 5}, {"by": "a", "note": "b"}):
        r = requests.post(f"{server.url}/api/v1/help-calls/{body['uuid']}/ack", json=bad, headers=STAFF, timeout=10)
        assert r.status_code == 422, (bad, r.text)
    assert ack(server.url, str(uuidlib.uuid4())).status_code == 404
    assert ack(server.url, "not-a-uuid").status_code == 422
    for params in ({"commune": "x"}, {"state": "closed"}, {"limit": 0}, {"limit": "lots"}):
        r = requests.get(f"{server.url}/api/v1/help-calls", params=params, headers=STAFF, timeout=10)
        assert r.status_code == 422, (params, r.text)
    # still open after all that
    assert [c["uuid"] for c in open_calls(server.url)] == [body["uuid"]]
