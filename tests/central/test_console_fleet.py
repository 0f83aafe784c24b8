"""Province admins' pages (issue 20, Deliver 5), on SQLite and PostgreSQL: the fleet of the admin's
province only, with device states in words, a failed printer or refused dossiers as "needs a visit",
a kiosk silent for more than 3 heartbeats flagged; intake counts per commune, procedure and day and
the provisional → confirmed delay; officers and supervisors refused, admins never see a dossier, and
hostile query parameters answered with a 400 page."""
import html
import re
import subprocess
import sys
import uuid as uuidlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.app import create_app
from central.db import dossiers
from central.service import Central, CentralError, KioskIdentity
from common.health import Health, State
from kiosk.diagnostics.result import CheckResult
from kiosk.heartbeat import build_payload
from testkit.central import CITIZEN, sample_dossier
from testkit import console
from testkit.console import console_app

ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-tinh-2026"
BADINH = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
BADINH2 = KioskIdentity("KIOSK-HN-BADINH-02", "01", "00004")
NGOCHA = KioskIdentity("KIOSK-HN-NGOCHA-01", "01", "00008")
QUIET = KioskIdentity("KIOSK-HN-NGOCHA-02", "01", "00008")
NEVER = KioskIdentity("KIOSK-HN-BAVI-01", "01", "09700")
SAIGON = KioskIdentity("KIOSK-HCM-ANDONG-01", "79", "27316")
ALL = (BADINH, BADINH2, NGOCHA, QUIET, NEVER, SAIGON)


def secret(k: KioskIdentity) -> str:
    return "secret-" + k.kiosk_id


@pytest.fixture
def central(database):
    c = Central.open(database)
    for k in ALL:
        c.register_kiosk(k.kiosk_id, k.province_code, k.commune_code, secret(k))
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("tinh01", "admin", "", "Quản trị Hà Nội", "01"),
                      ("tinh79", "admin", "", "Quản trị TP.HCM", "79"),
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"),
                      ("hung", "supervisor", "00004", "Trần Văn Hùng"))
    return app


def login(app, username: str):
    return console.login(app, username, PASSWORD)


def result(name: str, state: State, detail: str = "", action: str = "", **facts) -> CheckResult:
    return CheckResult(name, name, name, Health(state, detail, action, facts))


def beat(app, kiosk: KioskIdentity, results: list[CheckResult], **extra):
    """A heartbeat as the kiosk builds it (kiosk.heartbeat.build_payload), sent over the API."""
    body = {**build_payload(kiosk.kiosk_id, results, app_version="1.2.3"), **extra}
    r = TestClient(app, base_url=ORIGIN).post(f"/api/v1/kiosks/{kiosk.kiosk_id}/heartbeat", json=body,
                                               auth=(kiosk.kiosk_id, secret(kiosk)))
    assert r.status_code == 200, r.text


def healthy(bundle: str = "hanoi-2026-12-01") -> list[CheckResult]:
    return [result("printer", State.OK, "paper ok"), result("idcard", State.OK),
            result("outbox", State.OK, depth=0, held=0),
            result("versions", State.OK, app="1.2.3", flow_bundle={"current": {"bundle_id": bundle}})]


def rows_of(page: str) -> dict[str, str]:
    """The fleet table's rows by kiosk id (text with tags kept, unescaped)."""
    return {m.group(1): html.unescape(m.group(0))
            for m in re.finditer(r'<tr id="kiosk-([A-Z0-9-]+)".*?</tr>', page, re.S)}


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def test_an_admin_sees_their_provinces_kiosks_only_with_states_in_words(app, central, clock):
    clock.freeze("2026-12-04T08:00:00+07:00")
    beat(app, QUIET, healthy())  # then nothing more: 16 minutes later it is silent
    clock.freeze("2026-12-04T08:01:30+07:00")
    beat(app, BADINH2, healthy(), interval_s=60)  # its own interval: 3 minutes of silence are too many
    clock.freeze("2026-12-04T08:14:00+07:00")
    beat(app, BADINH, [result("printer", State.FAILED, "no paper sensor answer", "Mở nắp máy in, kiểm tra cáp."),
                       *healthy()[1:]])
    beat(app, NGOCHA, [*healthy()[:2], result("outbox", State.NEEDS_ATTENTION, "2 held", depth=3, held=2,
                                                   needs_technician=[{"local_code": "TAM-NGOCHA01-0007", "reason": "invalid"}]),
                       healthy("hanoi-2026-11-20")[3]])
    beat(app, SAIGON, healthy())
    clock.freeze("2026-12-04T08:16:00+07:00")

    http = login(app, "tinh01")
    assert http.get("/console/").headers["location"] == "/console/fleet"  # an admin's home is the fleet
    r = http.get("/console/fleet")
    assert r.status_code == 200
    assert re.search(r'<span id="who">Quản trị Hà Nội · Quản trị tỉnh · Thành phố Hà Nội</span>', r.text)
    rows = rows_of(r.text)
    assert set(rows) == {BADINH.kiosk_id, BADINH2.kiosk_id, NGOCHA.kiosk_id, QUIET.kiosk_id, NEVER.kiosk_id}  # no HCM kiosk

    printer = text(rows[BADINH.kiosk_id])
    assert "Cần kỹ thuật viên đến" in printer and "Máy in: Hỏng" in printer and "Mở nắp máy in" in printer
    assert "04/12/2026 08:14" in printer and "Mất liên lạc" not in printer
    assert 'data-device="printer" data-state="failed"' in rows[BADINH.kiosk_id]  # the colour's class follows the state
    assert "hanoi-2026-12-01" in printer and "Đầu đọc thẻ căn cước: Tốt" in printer

    held = text(rows[NGOCHA.kiosk_id])
    assert "Cần kỹ thuật viên đến" in held and "2 bị từ chối" in held and "hanoi-2026-11-20" in held
    assert "Hồ sơ bị từ chối, nằm lại trong máy: 2 hồ sơ" in held  # named even beside the outbox's own state
    assert re.search(r'<td class="outbox">3 ', rows[NGOCHA.kiosk_id])

    quiet = text(rows[QUIET.kiosk_id])  # 16 minutes > 3 × 5 minutes
    assert "Mất liên lạc" in quiet and "04/12/2026 08:00" in quiet and "Cần kỹ thuật viên đến" not in quiet
    assert "Mất liên lạc" in text(rows[BADINH2.kiosk_id])  # 14.5 minutes > 3 × its 60 s
    assert "Chưa liên lạc lần nào" in text(rows[NEVER.kiosk_id])
    assert "Bình thường" not in r.text

    fine = login(app, "tinh79").get("/console/fleet").text
    assert set(rows_of(fine)) == {SAIGON.kiosk_id} and "Bình thường" in text(rows_of(fine)[SAIGON.kiosk_id])

    # within 3 heartbeats a kiosk is not silent: 15 minutes exactly after its last one
    clock.freeze("2026-12-04T08:15:00+07:00")
    assert "Mất liên lạc" not in text(rows_of(http.get("/console/fleet").text)[QUIET.kiosk_id])


def test_the_fleet_filters_by_commune_and_by_problems(app, clock):
    clock.freeze("2026-12-04T08:00:00+07:00")
    for k in (BADINH, BADINH2, NGOCHA, QUIET):
        beat(app, k, healthy())
    beat(app, BADINH2, [result("printer", State.NEEDS_ATTENTION, "paper low", "Thêm giấy."), *healthy()[1:]])
    http = login(app, "tinh01")
    assert set(rows_of(http.get("/console/fleet?commune=00008").text)) == {NGOCHA.kiosk_id, QUIET.kiosk_id}
    assert set(rows_of(http.get("/console/fleet?problems=1").text)) == {BADINH2.kiosk_id, NEVER.kiosk_id}
    assert set(rows_of(http.get("/console/fleet?problems=1&commune=00004").text)) == {BADINH2.kiosk_id}
    assert "Máy in: Cần người xử lý" in text(rows_of(http.get("/console/fleet?problems=1").text)[BADINH2.kiosk_id])


def file_dossier(central, kiosk: KioskIdentity, commune: str, *, procedure=("1.001193", "Đăng ký khai sinh"),
                 provisional_after_min: float | None = None, n: int = 0) -> str:
    body, _ = sample_dossier(kiosk.kiosk_id, commune_code=commune, province_code=kiosk.province_code, attachments=0)
    body["procedure"] = {"code": procedure[0], "name_vi": procedure[1], "name_en": procedure[1]}
    if provisional_after_min is not None:
        from datetime import datetime, timedelta
        created = datetime.fromisoformat(body["created_at"]) - timedelta(minutes=provisional_after_min)
        body["created_at"] = created.isoformat()
        body["provisional"] = {"code": f"TAM-{kiosk.kiosk_id[-9:].replace('-', '')}-{n:04d}", "lookup_secret": "ABCDEFGH23"}
    return central.submit(kiosk, body)[1]["dossier_code"]


def table(page: str, table_id: str) -> dict[tuple, int]:
    body = re.search(rf'<table class="list" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    out = {}
    for tr in re.finditer(r"<tr (data-[^>]*)>(.*?)</tr>", body, re.S):
        key = tuple(re.findall(r'data-[a-z]+="([^"]*)"', tr.group(1)))
        out[key] = int(re.search(r'<td class="n">(\d+)', tr.group(2)).group(1))
    return out


def test_intake_counts_per_commune_procedure_and_day_and_the_provisional_delay(app, central, clock):
    marriage = ("1.000894", "Đăng ký kết hôn")
    clock.freeze("2026-11-20T10:00:00+07:00")  # outside the default 7 days
    file_dossier(central, BADINH, "00004")
    clock.freeze("2026-12-01T09:00:00+07:00")
    for _ in range(3):
        file_dossier(central, BADINH, "00004")
    file_dossier(central, NGOCHA, "00008", procedure=marriage)
    file_dossier(central, BADINH, "00008")  # a Ba Đình kiosk files for Ngọc Hà (Decree 118): Ngọc Hà's
    clock.freeze("2026-12-04T08:30:00+07:00")
    file_dossier(central, BADINH, "00004", procedure=marriage)
    # filed offline at the kiosk, confirmed by central 5..45 and 120 minutes later
    for i, minutes in enumerate((5, 10, 15, 20, 25, 30, 35, 40, 45, 120)):
        file_dossier(central, NGOCHA, "00008", provisional_after_min=minutes, n=i + 1)
    file_dossier(central, BADINH, "00004", provisional_after_min=-30, n=99)  # kiosk clock 30 min ahead
    file_dossier(central, SAIGON, "27316")  # another province
    clock.freeze("2026-12-04T17:00:00+07:00")

    http = login(app, "tinh01")
    r = http.get("/console/intake")
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert table(page, "intake-by-commune") == {("00004",): 5, ("00008",): 12}
    assert table(page, "intake-by-day") == {("2026-12-01",): 5, ("2026-12-04",): 12}
    assert table(page, "intake-by-procedure") == {("1.000894",): 2, ("1.001193",): 15}
    assert table(page, "intake-rows") == {
        ("00004", "1.000894", "2026-12-04"): 1, ("00004", "1.001193", "2026-12-01"): 3,
        ("00004", "1.001193", "2026-12-04"): 1, ("00008", "1.000894", "2026-12-01"): 1,
        ("00008", "1.001193", "2026-12-01"): 1, ("00008", "1.001193", "2026-12-04"): 10}
    assert '<strong>17</strong> hồ sơ' in page and "Đăng ký kết hôn" in page and "01/12/2026" in page

    delays = re.search(r'<table class="list" id="intake-delays">(.*?)</table>', page, re.S).group(1)
    ngocha = re.search(r'<tr data-commune="00008" data-median-s="(\d+)" data-p90-s="(\d+)">(.*?)</tr>', delays, re.S)
    assert ngocha.groups()[:2] == (str(int(27.5 * 60)), str(45 * 60))  # median of 10; 90th: the 9th of 10
    assert "27 phút" in ngocha.group(3) and "45 phút" in ngocha.group(3) and '<td class="n">10' in ngocha.group(3)
    badinh = re.search(r'<tr data-commune="00004" data-median-s="" data-p90-s="">(.*?)</tr>', delays, re.S).group(1)
    assert "1 hồ sơ giờ ki-ốt chạy nhanh" in badinh  # the skewed one is left out, and said so

    wide = html.unescape(http.get("/console/intake?from=2026-11-01&to=2026-12-04&commune=00004").text)
    assert table(wide, "intake-by-commune") == {("00004",): 6}
    assert table(wide, "intake-by-day") == {("2026-11-20",): 1, ("2026-12-01",): 3, ("2026-12-04",): 2}
    one_day = html.unescape(http.get("/console/intake?from=2026-12-01&to=2026-12-01").text)
    assert table(one_day, "intake-by-commune") == {("00004",): 3, ("00008",): 2}

    hcm = html.unescape(login(app, "tinh79").get("/console/intake").text)
    assert table(hcm, "intake-by-commune") == {("27316",): 1}


def test_officers_and_supervisors_are_refused_and_admins_never_see_a_dossier(app, central, clock):
    code = file_dossier(central, BADINH, "00004")
    for who in ("lan", "hung"):
        http = login(app, who)
        for path in ("/console/fleet", "/console/intake"):
            r = http.get(path)
            assert r.status_code == 403 and "quản trị viên" in r.text, (who, path)
    assert login(app, "lan").get(f"/console/dossiers/{code}").status_code == 200  # the officer of that commune does

    admin = login(app, "tinh01")
    r = admin.get(f"/console/dossiers/{code}")
    assert r.status_code == 404 and CITIZEN["full_name"] not in r.text
    assert admin.get(f"/console/dossiers/{code}/attachments/{'0' * 64}").status_code == 404
    # nor a centre's work: the officers' and supervisors' pages are refused
    for path in ("/console/inbox", "/console/help-calls", "/console/counter/1", "/console/ratings", "/console/audit"):
        r = admin.get(path)
        assert r.status_code == 403 and "cán bộ của trung tâm" in r.text and code not in r.text, path
    r = admin.post(f"/console/dossiers/{code}/status", data={"status": "processing"}, headers={"Origin": ORIGIN})
    assert r.status_code == 404
    with central.engine.connect() as conn:
        assert conn.execute(select(dossiers.c.status).where(dossiers.c.dossier_code == code)).scalar_one() == "received"
    # nothing personal on the admin's pages either
    for path in ("/console/fleet", "/console/intake"):
        page = admin.get(path).text
        assert code not in page and CITIZEN["id_number"] not in page and CITIZEN["full_name"] not in page
    assert admin.get("/console/fleet").status_code == 200
    assert TestClient(app, base_url=ORIGIN, follow_redirects=False).get("/console/fleet").headers["location"] == "/console/login"


@pytest.mark.parametrize("query", [
    "/console/fleet?commune=abc", "/console/fleet?commune=27316", "/console/fleet?commune=00004&commune=00008",
    "/console/fleet?problems=yes", "/console/fleet?commune=" + "0" * 500, "/console/fleet?commune=%00%00",
    "/console/fleet?commune=%ED%A0%80", "/console/intake?from=2026-13-45", "/console/intake?from=99999-01-01",
    "/console/intake?to=9999-12-31", "/console/intake?from=2026-12-05&to=2026-12-01",
    "/console/intake?from=2024-01-01&to=2026-12-04", "/console/intake?from=%27%3B%20DROP%20TABLE%20dossiers%3B--",
    "/console/intake?commune=00004%27", "/console/intake?to=2026-02-30", "/console/intake?from=%F0%9F%98%80",
])
def test_hostile_query_parameters_get_a_400_page_never_a_500(app, query):
    r = login(app, "tinh01").get(query)
    assert r.status_code == 400, (query, r.status_code, r.text[:300])
    assert 'id="error" data-status="400"' in r.text and "text/html" in r.headers["content-type"]


def test_admin_accounts_have_a_known_province_and_no_commune(app, central):
    accounts = app.state.console_accounts
    for kw in ({"commune_code": "00004", "province_code": "01"}, {"commune_code": "", "province_code": "1"},
               {"commune_code": "", "province_code": "00"}, {"commune_code": "", "province_code": ""}):
        with pytest.raises(CentralError) as refused:
            accounts.add(f"x{uuidlib.uuid4().hex[:8]}", PASSWORD, "admin", kw["commune_code"], province_code=kw["province_code"])
        assert refused.value.status == 422
    assert accounts.get("tinh01")["province_code"] == "01" and accounts.get("tinh01")["commune_code"] == ""
    assert accounts.get("lan")["province_code"] == "01"  # an officer's province follows from the commune
    assert accounts.login("tinh01", PASSWORD)[1].province == "01"


def test_an_older_database_gains_the_province_column_at_start(database):
    from sqlalchemy import text as sql

    c = Central.open(database)
    try:
        with c.engine.begin() as conn:
            conn.execute(sql("ALTER TABLE accounts DROP COLUMN province_code"))  # as a database from before it
    finally:
        c.close()
    c = Central.open(database)
    try:
        accounts = create_app(c).state.console_accounts
        accounts.add("tinh01", PASSWORD, "admin", "", province_code="01")
        assert accounts.login("tinh01", PASSWORD)[1].province == "01"
    finally:
        c.close()


def test_the_cli_adds_a_province_admin(tmp_path):
    db = tmp_path / "central.sqlite3"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[central]\ndatabase = "{db}"\n', encoding="utf-8")

    def kiosk(*args, stdin=PASSWORD + "\n"):
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "accounts", *args],
                              input=stdin, capture_output=True, text=True, timeout=120)

    made = kiosk("add", "--username", "tinh01", "--role", "admin", "--province", "01", "--name", "Quản trị Hà Nội")
    assert made.returncode == 0 and "province 01" in made.stdout, made.stderr
    bad = kiosk("add", "--username", "tinh02", "--role", "admin", "--province", "1")
    assert bad.returncode == 1 and "province" in bad.stderr and "Traceback" not in bad.stderr
    assert kiosk("add", "--username", "lan", "--role", "officer").returncode == 1  # an officer needs a commune
    listed = kiosk("list").stdout
    assert re.search(r"tinh01\s+admin\s+P01", listed)
