"""The officer's one-time code that confirms a citizen's identity at the kiosk (issue 21, Deliver 4;
central/help_confirm.py), on SQLite and PostgreSQL: the console shows the code once when the officer
acknowledges the help call; the kiosk whose call it is sends it and hears which account confirmed;
a wrong code is counted and the fifth burns it; an expired or used code is refused; another kiosk
or another centre's officer gets 404; a new code replaces the old one; every step is audited; only
the code's hash is stored."""
import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.db import audit_log, help_calls
from central.service import Central, KioskIdentity
from testkit.console import ORIGIN, console_app, csrf_of, login

PASSWORD = "mat-khau-cua-lan-2026"
BADINH = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
BADINH2 = KioskIdentity("KIOSK-HN-BADINH-02", "01", "00004")
NGOCHA = KioskIdentity("KIOSK-HN-NGOCHA-01", "01", "00008")


@pytest.fixture
def central(database):
    c = Central.open(database)
    for k in (BADINH, BADINH2, NGOCHA):
        c.register_kiosk(k.kiosk_id, k.province_code, k.commune_code, "secret-" + k.kiosk_id)
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"),
                      ("mai", "officer", "00008", "Lê Thị Mai"))
    return app


def kiosk_auth(k: KioskIdentity):
    return (k.kiosk_id, "secret-" + k.kiosk_id)


def call(app, kiosk=BADINH) -> str:
    uid = str(uuidlib.uuid4())
    body = {"uuid": uid, "flow_id": "khai-sinh", "step_id": "khuon-mat", "step_title": "Xác nhận khuôn mặt",
            "screen": "step-face_check", "language": "vi", "waiting_s": 200}
    assert TestClient(app).post("/api/v1/help-calls", json=body, auth=kiosk_auth(kiosk)).status_code == 201
    return uid


def acknowledge(http, uid: str) -> str:
    """The officer presses "Tôi đến ngay"; returns the code the page shows."""
    r = http.post(f"/console/help-calls/{uid}/ack", data={"csrf": csrf_of(http.get("/console/help-calls").text)},
                  headers={"Origin": ORIGIN})
    assert r.status_code == 200, r.text[:300]
    m = re.search(r'id="confirm-code">(\d{3}) (\d{3})<', r.text)
    assert m and "Mã mới" in r.text
    return m.group(1) + m.group(2)


def confirm(app, uid: str, code, kiosk=BADINH):
    return TestClient(app).post(f"/api/v1/help-calls/{uid}/confirm", json={"code": code}, auth=kiosk_auth(kiosk))


def audit(central, action: str) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.action == action)
                                              .order_by(audit_log.c.id)).mappings()]


def test_the_officers_code_confirms_in_their_name_once(app, central):
    uid = call(app)
    lan = login(app, "lan", PASSWORD)
    code = acknowledge(lan, uid)
    with central.engine.connect() as conn:
        row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid)).mappings().one()
    assert code not in str(dict(row)), "only the code's hash is stored"
    r = confirm(app, uid, code)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == "confirmed" and body["confirmed_by"] == "lan" and body["uuid"] == uid
    again = confirm(app, uid, code)
    assert again.status_code == 409 and again.json()["error"] == "code_used"
    assert [a["username"] for a in audit(central, "help_call_code")] == ["lan"]
    assert [(a["username"], a["target"]) for a in audit(central, "identity_confirmed")] == [("lan", uid)]
    page = lan.get("/console/help-calls").text
    assert f'id="done-{uid}"' in page and "lan," in page   # who confirmed, on the list
    listed = central.list_help_calls(commune_code="00004", state="acknowledged")[0]
    assert listed["confirmed_by"] == "lan" and listed["confirmed_at"]


def test_wrong_codes_are_counted_and_the_fifth_burns_the_code(app, central):
    uid = call(app)
    code = acknowledge(login(app, "lan", PASSWORD), uid)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        r = confirm(app, uid, wrong)
        assert r.status_code == 400 and r.json()["error"] == "wrong_code" and r.json()["tries_left"] == left
        assert f"Còn {left} lần thử" in r.json()["message_vi"]
    fifth = confirm(app, uid, wrong)
    assert fifth.status_code == 409 and fifth.json()["error"] == "code_locked"
    right = confirm(app, uid, code)        # even the right code: it is burnt
    assert right.status_code == 409 and right.json()["error"] == "code_locked"
    assert len(audit(central, "help_call_code_locked")) == 1 and not audit(central, "identity_confirmed")
    # a new code from the console ("Mã mới") works, the old one does not
    lan = login(app, "lan", PASSWORD)
    r = lan.post(f"/console/help-calls/{uid}/code", data={"csrf": csrf_of(lan.get("/console/help-calls").text)},
                 headers={"Origin": ORIGIN})
    new = re.search(r'id="confirm-code">(\d{3}) (\d{3})<', r.text)
    assert r.status_code == 200 and new
    new = new.group(1) + new.group(2)
    if new != code:
        assert confirm(app, uid, code).status_code == 400
    assert confirm(app, uid, new).status_code == 200


def test_an_expired_code_is_refused(app, central, clock):
    clock.freeze(clock.now())
    uid = call(app)
    code = acknowledge(login(app, "lan", PASSWORD), uid)
    clock.advance(timedelta(minutes=15, seconds=1))
    r = confirm(app, uid, code)
    assert r.status_code == 409 and r.json()["error"] == "code_expired"


def test_only_the_kiosk_of_the_call_and_the_officers_of_its_centre(app, central):
    uid = call(app)
    mai = login(app, "mai", PASSWORD)          # another centre's officer
    r = mai.post(f"/console/help-calls/{uid}/ack", data={"csrf": csrf_of(mai.get("/console/help-calls").text)},
                 headers={"Origin": ORIGIN})
    assert r.status_code == 404
    code = acknowledge(login(app, "lan", PASSWORD), uid)
    for kiosk in (BADINH2, NGOCHA):            # the same centre's other kiosk too: not its call
        r = confirm(app, uid, code, kiosk=kiosk)
        assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert confirm(app, uid, code).status_code == 200


def test_before_the_acknowledgement_and_hostile_bodies(app, central):
    uid = call(app)
    r = confirm(app, uid, "123456")
    assert r.status_code == 409 and r.json()["error"] == "no_code"
    client = TestClient(app)
    for body in ({"code": "12345"}, {"code": 123456}, {"code": "１２３４５６"}, {"code": "123456", "x": 1}, {},
                 {"code": "12345\x00"}, [], "123456"):
        r = client.post(f"/api/v1/help-calls/{uid}/confirm", json=body, auth=kiosk_auth(BADINH))
        assert r.status_code == 422, (body, r.status_code, r.text)
    r = client.post(f"/api/v1/help-calls/{uid}/confirm", content=b"\xff\xfe", auth=kiosk_auth(BADINH),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post(f"/api/v1/help-calls/{uuidlib.uuid4()}/confirm", json={"code": "123456"}, auth=kiosk_auth(BADINH))
    assert r.status_code == 404
    r = client.post(f"/api/v1/help-calls/{uid}/confirm", json={"code": "123456"})
    assert r.status_code == 401
    # the staff API's acknowledgement gives the code too, in the name it was told
    central.admin_token = "staff-token-0123456789abcdef"
    r = client.post(f"/api/v1/help-calls/{uid}/ack", json={"by": "Quầy 2"},
                    headers={"Authorization": "Bearer staff-token-0123456789abcdef"})
    assert r.status_code == 200 and re.fullmatch(r"\d{6}", r.json()["confirm_code"])
    ok = confirm(app, uid, r.json()["confirm_code"])
    assert ok.status_code == 200 and ok.json()["confirmed_by"] == "Quầy 2"


def test_the_dossier_page_says_how_the_applicant_was_identified(app, central):
    """The officer working the dossier reads the chip's checks and the face check in words: who
    confirmed, the match's numbers, or that the procedure asks none."""
    from testkit.central import sample_dossier

    cases = {
        "officer": ({"face_match": "fallback_staff", "face": {"confirmed_by": "officer:lan", "tries": 3,
                                                               "liveness": "failed"}},
                    "Cán bộ lan đã xem thẻ và người nộp, xác nhận là một người sau 3 lần máy so không được."),
        "pin": ({"face_match": "fallback_staff", "face": {"confirmed_by": "staff_pin", "tries": 0}},
                "Cán bộ xác nhận bằng mã PIN của ki-ốt"),
        "passed": ({"face_match": "passed", "face": {"distance": 0.412, "threshold": 0.6, "liveness": "passed",
                                                      "model": "dlib_face_recognition_resnet_model_v1", "tries": 1}},
                   "Khớp với ảnh trong chip (khoảng cách 0,41, ngưỡng 0,60). Đã kiểm tra người thật"),
        "none": ({"face_match": "not_required"}, "Thủ tục này không yêu cầu so khuôn mặt."),
    }
    lan = login(app, "lan", PASSWORD)
    for name, (face, words) in cases.items():
        body, _files = sample_dossier(BADINH.kiosk_id, commune_code=BADINH.commune_code, attachments=0)
        body["applicant"]["source"] = "chip"
        body["applicant"]["authentication"] = {"access_control": "PACE",
                                               "checks": {"hashes": "ok", "signature": "ok", "chain": "failed"}, **face}
        _created, answer = central.submit(BADINH, body)
        page = lan.get(f"/console/dossiers/{answer['dossier_code']}").text
        assert words in page, name
        assert "Đọc chip an toàn (PACE); dữ liệu nguyên vẹn: đạt" in page and "chứng thư gốc tin cậy: KHÔNG ĐẠT" in page
