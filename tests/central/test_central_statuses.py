"""Dossier statuses the officers set (issue 19: received → processing → needs_papers → ready →
returned, with "done" kept for old rows) with who set them, and the provisional receipt's TAM code,
found by central once the kiosk delivered the dossier, on SQLite and PostgreSQL, on both intake
paths (the SQLAlchemy one and pg_intake's function)."""
import pytest
import requests
from sqlalchemy import select

from central.db import audit_log, status_events
from central.service import TRANSITIONS, CentralError
from testkit.central import ADMIN_TOKEN, KIOSK_ID, KIOSK_SECRET, sample_dossier

AUTH = (KIOSK_ID, KIOSK_SECRET)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def submit(url, dossier):
    r = requests.post(f"{url}/api/v1/dossiers", json=dossier, auth=AUTH, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_officers_path_with_notes_and_who(server):
    a = submit(server.url, sample_dossier(attachments=0)[0])
    code, central = a["dossier_code"], server.central
    central.set_status(code, "processing", by="officer.lan")
    central.set_status(code, "needs_papers", "Cần bổ sung bản sao giấy chứng sinh.", by="officer.lan")
    central.set_status(code, "processing", "Đã nhận đủ giấy tờ.", by="officer.lan")
    central.set_status(code, "ready", by="officer.minh")
    with pytest.raises(CentralError) as bad:
        central.set_status(code, "processing", by="officer.minh")  # ready goes only to returned
    assert bad.value.status == 409 and bad.value.code == "bad_transition"
    s = requests.get(f"{server.url}/api/v1/dossiers/{code}", params={"secret": a["lookup_secret"]}).json()
    assert s["status"] == "ready"
    assert [(e["status"], e["note"]) for e in s["history"]] == [
        ("received", ""), ("processing", ""), ("needs_papers", "Cần bổ sung bản sao giấy chứng sinh."),
        ("processing", "Đã nhận đủ giấy tờ."), ("ready", "")]
    assert "officer" not in str(s)  # the citizen's lookup never names the officer
    with central.engine.connect() as conn:
        actors = list(conn.execute(select(status_events.c.actor).order_by(status_events.c.id)).scalars())
    assert actors == ["", "officer.lan", "officer.lan", "officer.lan", "officer.minh"]
    # the staff API records itself as the actor, and the new statuses pass its schema
    r = requests.post(f"{server.url}/api/v1/dossiers/{code}/status", json={"status": "returned", "note": "Đã trả"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    with central.engine.connect() as conn:
        assert conn.execute(select(status_events.c.actor).order_by(status_events.c.id.desc())).scalars().first() == "admin API"
        # every change is in the audit log the supervisors read, whichever way it came (issue 19)
        audit = conn.execute(select(audit_log.c.username, audit_log.c.target, audit_log.c.detail, audit_log.c.commune_code)
                             .where(audit_log.c.action == "dossier_status").order_by(audit_log.c.id)).all()
    assert [(u, d) for u, _t, d, _c in audit] == [
        ("officer.lan", "received -> processing"), ("officer.lan", "processing -> needs_papers"),
        ("officer.lan", "needs_papers -> processing"), ("officer.minh", "processing -> ready"),
        ("admin API", "ready -> returned")]
    assert {t for _u, t, _d, _c in audit} == {code} and {c for *_x, c in audit} == {"00004"}


def test_done_is_still_accepted_and_terminal_for_old_clients(server):
    a = submit(server.url, sample_dossier(attachments=0)[0])
    server.central.set_status(a["dossier_code"], "processing")
    assert server.central.set_status(a["dossier_code"], "done")["status"] == "done"
    assert TRANSITIONS["done"] == set() and "ready" in TRANSITIONS["needs_papers"]
    assert server.central.status(a["dossier_code"], a["lookup_secret"])["status"] == "done"


def test_an_overlong_actor_is_refused_not_stored(server):
    a = submit(server.url, sample_dossier(attachments=0)[0])
    with pytest.raises(CentralError) as bad:
        server.central.set_status(a["dossier_code"], "processing", by="x" * 201)
    assert bad.value.status == 422


def test_a_provisional_code_finds_the_delivered_dossier(server):
    d, _ = sample_dossier(attachments=0)
    d["provisional"] = {"code": "TAM-BADINH01-0007", "lookup_secret": "ABCDEFGH23"}
    a = submit(server.url, d)
    url = f"{server.url}/api/v1/dossiers/TAM-BADINH01-0007"
    s = requests.get(url, params={"secret": "abcd-efgh23"})  # typed as on paper: case and dashes do not matter
    assert s.status_code == 200, s.text
    assert s.json()["dossier_code"] == a["dossier_code"] and s.json()["provisional_code"] == "TAM-BADINH01-0007"
    assert s.json()["status"] == "received"
    # the real secret does not open the TAM code, nor the TAM secret the real code: each its own pair
    assert requests.get(url, params={"secret": a["lookup_secret"]}).status_code == 404
    assert requests.get(f"{server.url}/api/v1/dossiers/{a['dossier_code']}", params={"secret": "ABCDEFGH23"}).status_code == 404
    # a second kiosk outbox with the same local code (a reinstalled outbox counts from 1 again): the secret decides
    d2, _ = sample_dossier(attachments=0)
    d2["provisional"] = {"code": "TAM-BADINH01-0007", "lookup_secret": "ZZZZZZZZ22"}
    b = submit(server.url, d2)
    assert requests.get(url, params={"secret": "ZZZZZZZZ22"}).json()["dossier_code"] == b["dossier_code"]
    assert requests.get(url, params={"secret": "ABCDEFGH23"}).json()["dossier_code"] == a["dossier_code"]
    # a real code's lookup says there was no provisional code
    assert requests.get(f"{server.url}/api/v1/dossiers/{a['dossier_code']}",
                        params={"secret": a["lookup_secret"]}).json()["provisional_code"] == "TAM-BADINH01-0007"


def test_a_malformed_provisional_block_is_refused(server):
    d, _ = sample_dossier(attachments=0)
    d["provisional"] = {"code": "TAM-x'; DROP TABLE dossiers--", "lookup_secret": "ABCDEFGH23"}
    r = requests.post(f"{server.url}/api/v1/dossiers", json=d, auth=AUTH, timeout=30)
    assert r.status_code == 422 and r.json()["error"] == "invalid_dossier"
    assert "provisional.code" in str(r.json()["fields"]) or "provisional" in str(r.json()["fields"])
    bad_code = requests.get(f"{server.url}/api/v1/dossiers/TAM-bad code", params={"secret": "x"})
    assert bad_code.status_code in (404, 422) and bad_code.json()["result"] != "ok"
