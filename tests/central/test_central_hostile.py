"""No 500 from input (issue 17): the hand-made cases that once answered 500 (or an undocumented
shape), each now a documented 4xx with the refusal body, on SQLite and PostgreSQL. A kiosk's
queue must never meet a 5xx for a dossier that can never be taken."""
import base64
import json

import pytest
import requests

from testkit.central import ADMIN_TOKEN, CITIZEN, KIOSK_ID, KIOSK_SECRET, sample_dossier

AUTH = (KIOSK_ID, KIOSK_SECRET)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Content-Type": "application/json"}


def refusal(r, status, error=None):
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) >= {"result", "error", "message_vi", "message_en"}, body
    if error:
        assert body["error"] == error, body
    assert CITIZEN["full_name"] not in r.text and CITIZEN["id_number"] not in r.text
    return body


def post_dossier(url, raw: bytes | str, **kw):
    return requests.post(f"{url}/api/v1/dossiers", data=raw, auth=AUTH, headers=JSON, timeout=30, **kw)


def raw_dossier(**changes) -> str:
    d, _ = sample_dossier(attachments=0)
    d.update(changes)
    return json.dumps(d, ensure_ascii=False)


def test_a_procedure_that_is_not_an_object_is_422(server):
    for procedure in ("x", [1, 2], None, 7):
        refusal(post_dossier(server.url, raw_dossier(procedure=procedure).encode()), 422, "invalid_dossier")


def test_lone_surrogates_are_422_in_a_dossier_a_heartbeat_and_an_admin_note(server):
    d, _ = sample_dossier(attachments=0)
    a = requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=AUTH, timeout=30).json()
    text = json.dumps(sample_dossier(attachments=0)[0], ensure_ascii=True)
    refusal(post_dossier(server.url, text.replace('"Tr', '"\\ud800Tr', 1)), 422, "invalid_json")  # a value
    refusal(post_dossier(server.url, text.replace('"child_full_name"', '"\\udfffx"', 1)), 422, "invalid_json")  # a key
    refusal(requests.post(f"{server.url}/api/v1/kiosks/{KIOSK_ID}/heartbeat", data='{"versions": {"kiosk": "\\ud800"}}',
                          auth=AUTH, headers=JSON, timeout=30), 422, "invalid_json")
    refusal(requests.post(f"{server.url}/api/v1/dossiers/{a['dossier_code']}/status",
                          data='{"status": "processing", "note": "\\ud800"}', headers={**ADMIN, **JSON}, timeout=30),
            422, "invalid_json")
    # the CLI hands over undecodable argument bytes as surrogates: refused there too, nothing stored
    from central.service import CentralError

    with pytest.raises(CentralError) as exc:
        server.central.set_status(a["dossier_code"], "processing", "gi\udce1o")
    assert exc.value.status == 422
    assert server.central.status(a["dossier_code"], a["lookup_secret"])["status"] == "received"


def test_nul_characters_are_422_postgresql_text_cannot_hold_them(server):
    d, _ = sample_dossier(attachments=0)
    d["applicant"]["full_name"] = "Trần\x00Ánh"
    refusal(requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=AUTH, timeout=30), 422, "invalid_json")
    refusal(requests.post(f"{server.url}/api/v1/kiosks/{KIOSK_ID}/heartbeat", json={"outbox": {"a\x00": 1}}, auth=AUTH,
                          timeout=30), 422, "invalid_json")
    # in a path, a query or the credentials: refused before any query reaches the database
    refusal(requests.get(f"{server.url}/api/v1/dossiers/01.00004-261123-0001%00", params={"secret": "A\x00"}, timeout=30), 422)
    refusal(requests.get(f"{server.url}/api/v1/flows/bundles/b%00", timeout=30), 422)
    refusal(requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=("KIOSK\x00", "x" * 12), timeout=30), 401)
    assert server.central.count_dossiers() == 0


@pytest.mark.parametrize("path", ["/api/v1/dossiers", f"/api/v1/kiosks/{KIOSK_ID}/heartbeat", "status"])
def test_json_nested_100000_levels_is_refused(server, path):
    from central import limits

    url, headers, auth = f"{server.url}{path}", {**JSON}, AUTH
    if path == "status":
        a = requests.post(f"{server.url}/api/v1/dossiers", json=sample_dossier(attachments=0)[0], auth=AUTH, timeout=30).json()
        url, headers, auth = f"{server.url}/api/v1/dossiers/{a['dossier_code']}/status", {**ADMIN, **JSON}, None
    send = lambda levels: requests.post(url, data="[" * levels + "]" * levels, auth=auth, headers=headers, timeout=30)  # noqa: E731
    # 100,000 levels: 200,000 bytes, over the heartbeat's and the staff call's limits (413), under the dossier's
    limit = limits.body_limit("POST", path if path != "status" else "/api/v1/dossiers/x/status")
    refusal(send(100_000), 413 if 200_000 > limit else 422)
    # as deep as fits in each limit: refused by depth, the parser's recursion never reached
    refusal(send(limit // 2), 422, "invalid_json")
    # 33 levels inside a valid-looking dossier: refused by depth, not by the schema's first complaint
    nested = raw_dossier(answers={"x": "PLACEHOLDER"}).replace('"PLACEHOLDER"', "[" * 33 + "]" * 33)
    refusal(post_dossier(server.url, nested.encode()), 422, "invalid_json")


def test_bodies_that_are_not_utf8_json_are_422(server):
    for raw in (b'{"schema": "kiosk-dossier/1", "x": "\xe9"}', "{}".encode("utf-16"), b"\xff\xfe{}", b"not json", b"",
                b"\xef\xbb\xbf{}"):
        refusal(post_dossier(server.url, raw), 422, "invalid_json")
        refusal(requests.post(f"{server.url}/api/v1/kiosks/{KIOSK_ID}/heartbeat", data=raw, auth=AUTH, headers=JSON, timeout=30),
                422, "invalid_json")


def test_values_the_dossier_schema_lets_through_but_central_cannot_take_are_422(server):
    for change in ({"uuid": "-" * 36}, {"uuid": "0b8a" + "-" * 28}, {"processing_days": 10 ** 12},
                   {"processing_days": 366}):
        body = refusal(post_dossier(server.url, raw_dossier(**change).encode()), 422, "invalid_dossier")
        assert body["fields"] == list(change)
    # a created_at with no Vietnam time (year 1 at +14:00) counts from central's time instead
    r = post_dossier(server.url, raw_dossier(created_at="0001-01-01T00:00:00+14:00").encode())
    assert r.status_code == 201, r.text


def test_a_dossier_over_its_size_limit_is_413(server):
    from central import limits

    big = raw_dossier(answers={"note": "x" * limits.MAX_DOSSIER_BYTES})
    body = refusal(post_dossier(server.url, big.encode()), 413, "too_large")
    assert body["limit"] == limits.MAX_DOSSIER_BYTES
    # the same with chunked encoding (no Content-Length to refuse it by): counted while read
    chunks = (big.encode()[i:i + 65536] for i in range(0, len(big.encode()), 65536))
    refusal(requests.post(f"{server.url}/api/v1/dossiers", data=chunks, auth=AUTH, headers=JSON, timeout=30), 413, "too_large")
    assert server.central.count_dossiers() == 0


MALFORMED_BASIC = [
    "Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic", "Basic  ", "Basic " + base64.b64encode(b":x").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Bearer abc", "Digest x=1", "basic " + "A" * 5000,
    "Basic " + base64.b64encode(KIOSK_ID.encode() + b":" + b"s" * 600).decode(),
]


def test_every_malformed_basic_header_gets_the_documented_refusal(server):
    for header in MALFORMED_BASIC:
        for method, path in (("post", "/api/v1/dossiers"), ("post", f"/api/v1/kiosks/{KIOSK_ID}/heartbeat"),
                             ("put", "/api/v1/attachments/" + "0" * 64)):
            r = getattr(requests, method)(f"{server.url}{path}", json={}, headers={"Authorization": header}, timeout=30)
            assert refusal(r, 401, "unauthorized")["result"] == "unauthorized", header
            assert r.headers["WWW-Authenticate"] == "Basic"


def test_the_kiosk_client_reads_a_malformed_header_refusal_as_a_credentials_error(server):
    from kiosk.client import AuthError, CentralClient

    client = CentralClient(server.url, KIOSK_ID, KIOSK_SECRET, timeout=10)
    client._session.auth = None
    client._session.headers["Authorization"] = "Basic !!!"  # what a broken proxy or a bad secret file could send
    with pytest.raises(AuthError) as exc:
        client.heartbeat({"devices": {}})
    assert exc.value.status == 401 and exc.value.code == "unauthorized"


def test_every_401_and_403_and_fastapi_own_errors_have_the_refusal_body(server):
    d, _ = sample_dossier(attachments=0)
    url = server.url
    refusal(requests.post(f"{url}/api/v1/dossiers", json=d, timeout=30), 401)
    refusal(requests.post(f"{url}/api/v1/dossiers", json=d, auth=("NO-SUCH-KIOSK", KIOSK_SECRET), timeout=30), 401)
    refusal(requests.post(f"{url}/api/v1/dossiers", json=d, auth=(KIOSK_ID, "wrong-secret"), timeout=30), 401)
    refusal(requests.get(f"{url}/api/v1/kiosks", timeout=30), 401)
    refusal(requests.get(f"{url}/api/v1/kiosks", headers={"Authorization": "Bearer "}, timeout=30), 401)
    refusal(requests.get(f"{url}/api/v1/kiosks", headers={"Authorization": "Bearer wrong-token-wrong-token"}, timeout=30), 401)
    refusal(requests.post(f"{url}/api/v1/kiosks/SOMEONE-ELSE/heartbeat", json={}, auth=AUTH, timeout=30), 403, "wrong_kiosk")
    refusal(requests.get(f"{url}/api/v1/no-such-thing", timeout=30), 404, "not_found")
    refusal(requests.delete(f"{url}/api/v1/dossiers", timeout=30), 405, "method_not_allowed")
    refusal(requests.get(f"{url}/api/v1/dossiers/01.00004-261123-0001", timeout=30), 422, "invalid_request")  # no secret
    refusal(requests.put(f"{url}/api/v1/attachments/NOT-A-HASH", data=b"x", auth=AUTH, timeout=30), 422)


def test_a_bad_dossier_between_good_ones_does_not_hold_them_back(server):
    """The queue symptom of the issue: every dossier gets its own final answer, none a 5xx."""
    answers = []
    for i in range(3):
        good, _ = sample_dossier(attachments=0)
        answers.append(requests.post(f"{server.url}/api/v1/dossiers", json=good, auth=AUTH, timeout=30).status_code)
        answers.append(post_dossier(server.url, raw_dossier(procedure="x")).status_code)
    assert answers == [201, 422] * 3
    assert server.central.count_dossiers() == 3
