"""Idempotency that cannot leak (issue 17): a dossier UUID belongs to the kiosk that sent it first
and to that content; attachments belong to the kiosks that uploaded them. No answer ever carries
another kiosk's dossier code or lookup secret, on SQLite and PostgreSQL (both intake paths)."""
import threading

import pytest
import requests
from sqlalchemy import text, update

from central.db import dossiers
from central.server import CentralServer
from central.service import Central
from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier

A = (KIOSK_ID, KIOSK_SECRET)
B_ID, B_SECRET = "KIOSK-HN-HONGHA-02", "kiosk-b-secret-5678"
C_ID, C_SECRET = "KIOSK-HCM-01", "kiosk-c-secret-9012"


@pytest.fixture
def kiosks(server):
    server.central.register_kiosk(B_ID, "01", "00097", B_SECRET)  # same province
    server.central.register_kiosk(C_ID, "79", "26734", C_SECRET)  # another province
    return server


def upload(url, files, auth):
    return [requests.put(f"{url}/api/v1/attachments/{sha}", data=data, auth=auth, timeout=30) for sha, data in files.items()]


def submit(url, dossier, auth):
    return requests.post(f"{url}/api/v1/dossiers", json=dossier, auth=auth, timeout=30)


def assert_no_leak(r, *answers):
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "uuid_conflict" and body["result"] == "rejected"
    assert "dossier_code" not in body and "lookup_secret" not in body
    for a in answers:
        assert a["dossier_code"] not in r.text and a["lookup_secret"] not in r.text


def test_same_kiosk_and_content_is_already_other_content_is_409(kiosks):
    url = kiosks.url
    d, files = sample_dossier()
    upload(url, files, A)
    first = submit(url, d, A).json()
    again = submit(url, dict(reversed(list(d.items()))), A)  # key order does not matter: the content does
    assert again.status_code == 200 and again.json() == {**first, "result": "already"}
    other, _ = sample_dossier(attachments=0, uid=d["uuid"])  # another citizen's dossier, the same uuid
    other["applicant"] = {**other["applicant"], "full_name": "Nguyễn Văn Bình"}
    assert_no_leak(submit(url, other, A), first)
    assert kiosks.central.count_dossiers() == 1


def test_another_kiosk_reusing_a_uuid_gets_409_without_code_or_secret(kiosks):
    url = kiosks.url
    d, files = sample_dossier(attachments=0)
    first = submit(url, d, A).json()
    # kiosk B sends A's exact document (kiosk_id and all), then its own with A's uuid
    assert submit(url, d, (B_ID, B_SECRET)).status_code == 422  # kiosk_mismatch comes first
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=d["uuid"])
    assert_no_leak(submit(url, mine, (B_ID, B_SECRET)), first)
    # a kiosk of another province: its routing would be refused, the uuid still says nothing
    theirs, _ = sample_dossier(C_ID, attachments=0, commune_code="26734", province_code="79", uid=d["uuid"])
    assert_no_leak(submit(url, theirs, (C_ID, C_SECRET)), first)
    assert kiosks.central.count_dossiers() == 1
    assert submit(url, d, A).json()["dossier_code"] == first["dossier_code"]  # A's replay still works


def test_concurrent_submissions_of_one_uuid_by_two_kiosks(kiosks):
    url = kiosks.url
    d, _ = sample_dossier(attachments=0)
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=d["uuid"])
    answers = []
    go = threading.Barrier(8)

    def send(doc, auth):
        go.wait()
        answers.append((auth[0], submit(url, doc, auth)))

    threads = [threading.Thread(target=send, args=(d, A) if i % 2 else (mine, (B_ID, B_SECRET))) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = {k for k, r in answers if r.status_code == 201}
    assert len(winners) == 1 and kiosks.central.count_dossiers() == 1
    stored = next(r.json() for k, r in answers if r.status_code == 201)
    for kiosk, r in answers:
        if kiosk in winners:
            assert r.status_code in (200, 201) and r.json()["dossier_code"] == stored["dossier_code"]
        else:
            assert_no_leak(r, stored)


def test_a_row_from_before_the_content_hash_is_judged_by_its_body(kiosks):
    url = kiosks.url
    d, _ = sample_dossier(attachments=0)
    first = submit(url, d, A).json()
    with kiosks.central.engine.begin() as conn:
        conn.execute(update(dossiers).values(content_sha256=None))
    assert submit(url, d, A).status_code == 200
    other = {**d, "processing_days": 7}
    assert_no_leak(submit(url, other, A), first)
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=d["uuid"])
    assert_no_leak(submit(url, mine, (B_ID, B_SECRET)), first)


def test_attachments_belong_to_the_kiosk_that_uploaded_them(kiosks):
    url = kiosks.url
    d, files = sample_dossier()
    assert [r.json()["result"] for r in upload(url, files, A)] == ["stored"]
    assert [r.json()["result"] for r in upload(url, files, A)] == ["already"]
    # kiosk B names A's attachment without uploading it: missing, as if central had never seen it
    mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097")
    mine["attachments"] = d["attachments"]
    r = submit(url, mine, (B_ID, B_SECRET))
    assert r.status_code == 409 and r.json()["result"] == "missing_attachments"
    assert r.json()["missing"] == sorted(files)
    # uploading the same bytes is "stored" for B (nothing tells B that A had them), then it passes
    assert [r.json()["result"] for r in upload(url, files, (B_ID, B_SECRET))] == ["stored"]
    assert submit(url, mine, (B_ID, B_SECRET)).status_code == 201
    assert submit(url, d, A).status_code == 201
    assert kiosks.central.attachment(next(iter(files))) == next(iter(files.values()))


def test_an_existing_database_opens_and_gets_the_new_columns(database):
    """A database made before issue 17 (no content hash, no attachment owners) still opens; its
    dossiers replay for their kiosk and are refused to others."""
    old = Central.open(database, fast_intake=False)
    old.ensure_kiosk(KIOSK_ID, "01", "00004", KIOSK_SECRET)
    d, _ = sample_dossier(attachments=0)
    from central.service import KioskIdentity

    _, first = old.submit(KioskIdentity(KIOSK_ID, "01", "00004"), d)
    with old.engine.begin() as conn:  # back to the old schema
        conn.execute(text("ALTER TABLE dossiers DROP COLUMN content_sha256"))
        conn.execute(text("DROP TABLE attachment_owners"))
    old.close()

    srv = CentralServer(Central.open(database), port=0).start()
    try:
        srv.central.register_kiosk(B_ID, "01", "00097", B_SECRET)
        assert submit(srv.url, d, A).json() == {**first, "result": "already"}
        mine, _ = sample_dossier(B_ID, attachments=0, commune_code="00097", uid=d["uuid"])
        assert_no_leak(submit(srv.url, mine, (B_ID, B_SECRET)), first)
        d2, files = sample_dossier()
        assert [r.status_code for r in upload(srv.url, files, A)] == [201]
        assert submit(srv.url, d2, A).status_code == 201
    finally:
        srv.stop()
