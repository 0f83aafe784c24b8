"""The officers' console at work (issue 19), on SQLite and PostgreSQL: the dossier inbox and page
of the officer's own commune only (another commune's dossier is 404 like an unknown one), status
changes with a note that the kiosk's lookup API shows and the audit log and history keep, the
attachments behind the same right, help calls acknowledged from the console, the counter page
driving the centre's queue, and the pages only supervisors see."""
import re
import uuid as uuidlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.db import audit_log
from central.queue import Queue
from central.service import Central, KioskIdentity
from testkit.central import CITIZEN, sample_dossier
from testkit.console import console_app

ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-lan-2026"
BADINH = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
NGOCHA = KioskIdentity("KIOSK-HN-NGOCHA-01", "01", "00008")


class Console:
    def __init__(self, app):
        self.http = TestClient(app, base_url=ORIGIN, follow_redirects=False)

    def csrf_of(self, path: str) -> str:
        r = self.http.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)

    def login(self, username: str):
        token = self.csrf_of("/console/login")
        r = self.http.post("/console/login", data={"csrf": token, "username": username, "password": PASSWORD},
                           headers={"Origin": ORIGIN})
        assert r.status_code == 303, r.text[:300]
        return self

    def post(self, path: str, data: dict, *, csrf_from: str = "/console/"):
        return self.http.post(path, data={"csrf": self.csrf_of(csrf_from), **data}, headers={"Origin": ORIGIN})


@pytest.fixture
def central(database):
    c = Central.open(database)
    for k in (BADINH, NGOCHA):
        c.register_kiosk(k.kiosk_id, k.province_code, k.commune_code, "secret-" + k.kiosk_id)
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"),
                      ("hung", "supervisor", "00004", "Trần Văn Hùng"),
                      ("mai", "officer", "00008", "Lê Thị Mai"))
    return app


def file_dossier(central, kiosk: KioskIdentity, **kw) -> tuple[dict, dict, dict]:
    body, files = sample_dossier(kiosk.kiosk_id, commune_code=kiosk.commune_code, **kw)
    for sha, data in files.items():
        central.put_attachment(sha, data, kiosk.kiosk_id)
    _created, answer = central.submit(kiosk, body)
    return body, files, answer


def audit(central, action: str) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.action == action)
                                              .order_by(audit_log.c.id)).mappings()]


def test_another_communes_dossier_and_its_attachments_are_404_like_an_unknown_code(app, central):
    _body, files, mine = file_dossier(central, BADINH)
    sha = next(iter(files))
    mai = Console(app).login("mai")  # an officer of Ngọc Hà
    unknown = mai.http.get("/console/dossiers/01.00004-261204-9999")
    assert unknown.status_code == 404
    theirs = mai.http.get(f"/console/dossiers/{mine['dossier_code']}")
    assert theirs.status_code == 404 and theirs.text == unknown.text  # nothing says it exists
    assert CITIZEN["full_name"] not in theirs.text
    assert mai.http.get(f"/console/dossiers/{mine['dossier_code']}/attachments/{sha}").status_code == 404
    moved = mai.post(f"/console/dossiers/{mine['dossier_code']}/status", {"status": "processing", "note": "x"})
    assert moved.status_code == 404
    assert central.status(mine["dossier_code"], mine["lookup_secret"])["status"] == "received"
    assert mine["dossier_code"] not in mai.http.get("/console/inbox").text
    lan = Console(app).login("lan")
    page = lan.http.get(f"/console/dossiers/{mine['dossier_code']}")
    assert page.status_code == 200 and CITIZEN["full_name"] in page.text and CITIZEN["id_number"] in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_status_change_shows_in_the_kiosk_lookup_the_history_and_the_audit_log(app, central):
    _body, _files, d = file_dossier(central, BADINH)
    code = d["dossier_code"]
    lan = Console(app).login("lan")
    page = lan.http.get(f"/console/dossiers/{code}")
    assert 'id="status-form"' in page.text and 'value="processing"' in page.text
    note = "Hồ sơ đang được cán bộ tư pháp xem xét."
    r = lan.post(f"/console/dossiers/{code}/status", {"status": "processing", "note": note}, csrf_from=f"/console/dossiers/{code}")
    assert r.status_code == 303 and r.headers["location"] == f"/console/dossiers/{code}"
    lookup = TestClient(app).get(f"/api/v1/dossiers/{code}", params={"secret": d["lookup_secret"]})
    assert lookup.status_code == 200
    assert lookup.json()["status"] == "processing" and lookup.json()["history"][-1]["note"] == note
    page = lan.http.get(f"/console/dossiers/{code}")
    history = page.text[page.text.index('id="history"'):]
    assert note in history and ">lan<" in history  # who changed it
    assert 'data-status="processing"' in page.text
    changes = audit(central, "dossier_status")
    assert [(a["username"], a["commune_code"], a["target"], a["detail"]) for a in changes] == \
        [("lan", "00004", code, "received -> processing")]
    # a transition the rules refuse is a clear page, and nothing changes
    back = lan.post(f"/console/dossiers/{code}/status", {"status": "received", "note": ""}, csrf_from=f"/console/dossiers/{code}")
    assert back.status_code in (409, 422) and back.headers["content-type"].startswith("text/html")
    assert central.status(code, d["lookup_secret"])["status"] == "processing"
    # the supervisor's audit page shows it; an officer may not see that page
    hung = Console(app).login("hung")
    log = hung.http.get("/console/audit")
    assert log.status_code == 200 and "dossier_status" in log.text and code in log.text
    assert lan.http.get("/console/audit").status_code == 403
    assert "dossier_status" not in Console(app).login("mai").http.get("/console/").text


def test_attachments_open_inline_with_their_type_only_for_the_right_officer(app, central):
    body, files, d = file_dossier(central, BADINH, attachments=2)
    sha, data = next(iter(files.items()))
    lan = Console(app).login("lan")
    page = lan.http.get(f"/console/dossiers/{d['dossier_code']}")
    link = f"/console/dossiers/{d['dossier_code']}/attachments/{sha}"
    assert link in page.text
    r = lan.http.get(link)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    # bytes central holds but this dossier does not list: 404 (no dossier opens another's files)
    _b2, files2, _d2 = file_dossier(central, BADINH)
    other_sha = next(iter(files2))
    assert lan.http.get(f"/console/dossiers/{d['dossier_code']}/attachments/{other_sha}").status_code == 404
    # no session: the login page, never the bytes
    anonymous = TestClient(app, base_url=ORIGIN, follow_redirects=False).get(link)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    # the public API has no such path
    assert TestClient(app).get(f"/api/v1/attachments/{sha}").status_code in (401, 404, 405)


def test_the_inbox_lists_the_communes_dossiers_newest_first_with_filters_and_pages(app, central):
    codes = [file_dossier(central, BADINH, attachments=0)[2]["dossier_code"] for _ in range(27)]
    theirs = file_dossier(central, NGOCHA, attachments=0)[2]["dossier_code"]
    central.set_status(codes[3], "processing", "", by="lan")
    lan = Console(app).login("lan")
    first = lan.http.get("/console/inbox")
    listed = re.findall(r'class="dossier-link" href="/console/dossiers/([^"]+)"', first.text)
    assert listed == codes[::-1][:25] and theirs not in first.text
    assert 'id="total">27<' in first.text and 'id="next-page"' in first.text
    second = lan.http.get("/console/inbox", params={"page": 2})
    assert re.findall(r'class="dossier-link" href="/console/dossiers/([^"]+)"', second.text) == codes[::-1][25:]
    processing = lan.http.get("/console/inbox", params={"status": "processing"})
    assert re.findall(r'class="dossier-link" href="/console/dossiers/([^"]+)"', processing.text) == [codes[3]]
    assert lan.http.get("/console/inbox", params={"procedure": "9.999999"}).text.count("dossier-link") == 0
    assert lan.http.get("/console/inbox", params={"procedure": "1.001193"}).text.count("dossier-link") == 25
    by_code = lan.http.get("/console/inbox", params={"code": codes[5]})
    assert re.findall(r'class="dossier-link" href="/console/dossiers/([^"]+)"', by_code.text) == [codes[5]]
    # the provisional code of an offline slip finds the delivered dossier (the citizen brings the slip)
    body, _files = sample_dossier(BADINH.kiosk_id, commune_code=BADINH.commune_code, attachments=0)
    body["provisional"] = {"code": "TAM-BADINH01-0042", "lookup_secret": "ABCDEFGH23"}
    late = central.submit(BADINH, body)[1]["dossier_code"]
    by_slip = lan.http.get("/console/inbox", params={"code": "tam-badinh01-0042"})
    assert re.findall(r'class="dossier-link" href="/console/dossiers/([^"]+)"', by_slip.text) == [late]
    for bad in ({"page": "x"}, {"status": "nonsense"}, {"procedure": "p" * 100}):
        r = lan.http.get("/console/inbox", params=bad)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), bad


def help_call(app, kiosk: KioskIdentity) -> str:
    uid = str(uuidlib.uuid4())
    body = {"uuid": uid, "flow_id": "khai-sinh", "step_id": "giay-to", "step_title": "Giấy tờ cần nộp", "screen": "step-form",
            "language": "vi", "waiting_s": 65}
    r = TestClient(app).post("/api/v1/help-calls", json=body, auth=(kiosk.kiosk_id, "secret-" + kiosk.kiosk_id))
    assert r.status_code == 201, r.text
    return uid


def test_help_calls_of_the_centre_are_acknowledged_from_the_console_and_the_kiosk_sees_it(app, central):
    mine, theirs = help_call(app, BADINH), help_call(app, NGOCHA)
    lan = Console(app).login("lan")
    home = lan.http.get("/console/")
    assert f'id="ack-{mine}"' in home.text and theirs not in home.text and "Giấy tờ cần nộp" in home.text
    assert lan.post(f"/console/help-calls/{theirs}/ack", {}).status_code == 404  # another centre's: 404
    r = lan.post(f"/console/help-calls/{mine}/ack", {}, csrf_from="/console/help-calls")
    # the page shows the one-time code the officer takes to the kiosk (central/help_confirm.py)
    assert r.status_code == 200 and re.search(r'id="confirm-code">\d{3} \d{3}<', r.text), r.text[:300]
    seen = TestClient(app).get(f"/api/v1/help-calls/{mine}", auth=(BADINH.kiosk_id, "secret-" + BADINH.kiosk_id)).json()
    assert seen["state"] == "acknowledged" and seen["acknowledged_at"]
    page = lan.http.get("/console/help-calls")
    assert f'id="ack-{mine}"' not in page.text and "Nguyễn Thị Lan" in page.text
    again = lan.post(f"/console/help-calls/{mine}/ack", {})
    assert again.status_code == 409 and "Nguyễn Thị Lan" in again.text  # who took it
    assert [a["target"] for a in audit(central, "help_call_ack")] == [mine]
    assert central.list_help_calls(commune_code="00008")[0]["state"] == "open"


def test_the_counter_calls_recalls_transfers_and_finishes_tickets_of_its_centre(app, central):
    queue = Queue(central)
    queue.add_counter("00004", "1", "Quầy 1", [])
    queue.add_counter("00008", "1", "Quầy 1", [])
    _b, _f, d = file_dossier(central, BADINH, attachments=0)
    first = queue.take_ticket(BADINH, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch", d["dossier_code"])
    second = queue.take_ticket(BADINH, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    queue.take_ticket(BADINH, str(uuidlib.uuid4()), "dat-dai", "Đất đai")
    lan = Console(app).login("lan")
    home = lan.http.get("/console/")
    assert 'id="counter-1"' in home.text and 'id="waiting-count">3<' in home.text
    page = lan.http.get("/console/counter/1")
    assert 'id="call-next"' in page.text and first["number"] in page.text
    assert lan.post("/console/counter/1", {"action": "call_next"}, csrf_from="/console/counter/1").status_code == 303
    page = lan.http.get("/console/counter/1")
    assert re.search(r'id="current-number">\s*' + first["number"], page.text)
    assert f'href="/console/dossiers/{d["dossier_code"]}"' in page.text  # the called ticket's dossier
    ticket = {"ticket_id": str(first["id"])}
    for calls in (2, 3):
        assert lan.post("/console/counter/1", {**ticket, "action": "recall"}, csrf_from="/console/counter/1").status_code == 303
        assert f'id="current-calls">{calls}<' in lan.http.get("/console/counter/1").text
    fourth = lan.post("/console/counter/1", {**ticket, "action": "recall"}, csrf_from="/console/counter/1")
    assert fourth.status_code == 409 and "3 lần" in fourth.text  # at most 3 calls
    assert lan.post("/console/counter/1", {**ticket, "action": "transfer", "to_service": "dat-dai"},
                    csrf_from="/console/counter/1").status_code == 303
    assert queue.ticket("00004", first["id"])["service_id"] == "dat-dai"
    lan.post("/console/counter/1", {"action": "call_next"}, csrf_from="/console/counter/1")
    called = queue.serving("00004", "1")
    assert called["id"] == first["id"]  # transferred tickets go first
    lan.post("/console/counter/1", {"ticket_id": str(called["id"]), "action": "served"}, csrf_from="/console/counter/1")
    assert queue.ticket("00004", first["id"])["state"] == "served"
    lan.post("/console/counter/1", {"action": "call_next"}, csrf_from="/console/counter/1")
    assert queue.serving("00004", "1")["id"] == second["id"]
    lan.post("/console/counter/1", {"ticket_id": str(second["id"]), "action": "no_show"}, csrf_from="/console/counter/1")
    assert queue.ticket("00004", second["id"])["state"] == "no_show"
    actions = [a["action"] for a in audit(central, "ticket_call") + audit(central, "ticket_recall")
               + audit(central, "ticket_transfer") + audit(central, "ticket_finish")]
    assert actions.count("ticket_call") == 3 and actions.count("ticket_recall") == 2
    assert actions.count("ticket_transfer") == 1 and actions.count("ticket_finish") == 2
    # a counter or ticket of another centre is not there for this officer
    assert lan.http.get("/console/counter/9").status_code == 404
    mai = Console(app).login("mai")
    t = queue.take_ticket(NGOCHA, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    stolen = lan.post("/console/counter/1", {"ticket_id": str(t["id"]), "action": "no_show"}, csrf_from="/console/counter/1")
    assert stolen.status_code in (404, 409) and queue.ticket("00008", t["id"])["state"] == "waiting"
    assert mai.http.get("/console/counter/1").status_code == 200
    # hostile counter forms: a page, never a 500
    for bad in ({"action": "recall", "ticket_id": "abc"}, {"action": "explode"}, {"action": "transfer", "ticket_id": "1",
                                                                                    "to_service": "../x"}):
        r = lan.post("/console/counter/1", bad, csrf_from="/console/counter/1")
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), bad


def test_supervisors_see_ratings_and_the_queue_day_officers_do_not(app, central):
    from central.ratings import Ratings

    queue = Queue(central)
    queue.take_ticket(BADINH, str(uuidlib.uuid4()), "ho-tich", "Hộ tịch")
    for level, counter in (("very_good", "1"), ("good", "1"), ("bad", "2"), ("ok", "2")):
        Ratings(central).record(BADINH, str(uuidlib.uuid4()), level, "Chờ lâu" if level == "bad" else "", "ho-tich", counter)
    Ratings(central).record(NGOCHA, str(uuidlib.uuid4()), "bad", "", "ho-tich", "1")  # another centre's
    lan, hung = Console(app).login("lan"), Console(app).login("hung")
    assert lan.http.get("/console/ratings").status_code == 403
    assert 'id="nav-ratings"' not in lan.http.get("/console/").text
    page = hung.http.get("/console/ratings")
    assert page.status_code == 200 and 'id="day-stats"' in page.text and 'id="nav-audit"' in page.text
    total = page.text[page.text.index('id="ratings-total"'):]
    assert "<strong>4</strong>" in total[:200] and "<strong>50%</strong>" in total[:300]  # 2 of 4 satisfied
    by_service = page.text[page.text.index('id="ratings-by_service"'):page.text.index('id="ratings-by_counter"')]
    assert "Hộ tịch" in by_service and "Chờ lâu (1)" in by_service
    by_counter = page.text[page.text.index('id="ratings-by_counter"'):page.text.index('id="ratings-by_day"')]
    assert re.search(r"<td>Quầy 1</td>\s*<td>2</td><td>100%</td>", by_counter)
    assert re.search(r"<td>Quầy 2</td>\s*<td>2</td><td>0%</td>", by_counter)
    day = page.text[page.text.index('id="day-stats"'):]
    assert "Hộ tịch" in day and "<td>1</td>" in day  # one ticket issued today
    assert hung.http.get("/console/ratings", params={"from": "2026-13-01"}).status_code == 400
    assert hung.http.get("/console/ratings", params={"from": "2026-12-05", "to": "2026-12-01"}).status_code == 400
