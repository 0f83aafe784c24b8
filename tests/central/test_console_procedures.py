"""Province admins' procedures pages (issue 20, Deliver 1 read-only part and Deliver 4's rollback
from the console), on SQLite and PostgreSQL: the current signed bundle with its procedures, fees and
signers (two admins' keys), kiosks on it or on another; one procedure with its steps, papers, YAML
(escaped) and its versions; the bundle history; a rollback with a reason makes the older bundle
current, in the history and the audit log; without a reason or CSRF it is refused; officers 403;
unknown or hostile flow ids 404, never 500."""
import html
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.db import audit_log
from central.service import Central, KioskIdentity
from flows import bundles
from testkit import console
from testkit.console import ORIGIN, console_app, csrf_of, part, text

PASSWORD = "mat-khau-cua-tinh-2026"
FLOWS = Path(__file__).resolve().parents[2] / "flows" / "definitions"
# the shipped tạm trú version: the fixture publishes it, then one version up
TAM_TRU_V = int(re.search(r"^version: (\d+)$", (FLOWS / "tam-tru.yaml").read_text(encoding="utf-8"), re.M).group(1))
ON_OLD = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
ON_NEW = KioskIdentity("KIOSK-HN-NGOCHA-01", "01", "00008")
ELSEWHERE = KioskIdentity("KIOSK-HCM-ANDONG-01", "79", "27316")


def secret(k: KioskIdentity) -> str:
    return "secret-" + k.kiosk_id


@pytest.fixture
def keys():
    out = []
    for _ in range(2):
        pem, public = bundles.generate_key()
        out.append((load_pem_private_key(pem, None), public))
    return out


def four_eyes(paths, bundle_id, day, keys) -> bytes:
    data = bundles.build_bundle(paths, bundle_id=bundle_id, created_at=datetime(2026, 11, day, 3, tzinfo=timezone.utc))
    data = bundles.sign(data, keys[0][0], name="Nguyễn Văn Trình", role="submitted_by")
    return bundles.sign(data, keys[1][0], name="Lê Thị Duyệt", role="approved_by")


@pytest.fixture
def central(database, keys, tmp_path):
    c = Central.open(database)
    c.trusted_keys = [k[1] for k in keys]
    c.min_signatures = 2
    for k in (ON_OLD, ON_NEW, ELSEWHERE):
        c.register_kiosk(k.kiosk_id, k.province_code, k.commune_code, secret(k))
    # bundle 1: the flows as they are; bundle 2: tam-tru one version up with a new fee (and a '<' to escape)
    old = [FLOWS / "tam-tru.yaml", FLOWS / "khai-sinh.yaml"]
    assert c.publish_bundle(four_eyes(old, "hanoi-2026-11-01", 1, keys), actor="cli")[0]
    changed = tmp_path / "tam-tru.yaml"
    text = (FLOWS / "tam-tru.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace(f"version: {TAM_TRU_V}", f"version: {TAM_TRU_V + 1}", 1).replace("amount: 15000", "amount: 20000", 1)
                       + "# <script>alert(1)</script>\n", encoding="utf-8")
    assert c.publish_bundle(four_eyes([changed, FLOWS / "khai-sinh.yaml"], "hanoi-2026-11-20", 20, keys), actor="cli")[0]
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("tinh01", "admin", "", "Quản trị Hà Nội", "01"),
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"),
                      ("hung", "supervisor", "00004", "Trần Văn Hùng"))
    for k, bundle_id in ((ON_OLD, "hanoi-2026-11-01"), (ON_NEW, "hanoi-2026-11-20"), (ELSEWHERE, "hanoi-2026-11-20")):
        r = TestClient(app, base_url=ORIGIN).post(f"/api/v1/kiosks/{k.kiosk_id}/heartbeat", auth=(k.kiosk_id, secret(k)),
                                                  json={"kiosk_id": k.kiosk_id, "versions": {"flow_bundle": bundle_id}})
        assert r.status_code == 200, r.text
    return app


def login(app, username: str):
    return console.login(app, username, PASSWORD)


def test_an_admin_sees_the_current_bundle_its_procedures_signers_and_kiosks(app, keys):
    http = login(app, "tinh01")
    r = http.get("/console/procedures")
    assert r.status_code == 200 and "nav-procedures" in r.text
    assert 'id="bundle-id">hanoi-2026-11-20<' in r.text
    assert "20/11/2026 10:00" in text(r.text)  # the manifest's 03:00 UTC, written in Vietnam time
    signers = text(part(r.text, "bundle-signers"))
    assert "Nguyễn Văn Trình · Người trình" in signers and "Lê Thị Duyệt · Người duyệt" in signers
    for _key, public in keys:
        assert bundles.key_id(public) in signers
    rows = {m.group(1): text(m.group(0)) for m in re.finditer(r'<tr id="flow-([a-z0-9-]+)".*?</tr>', r.text, re.S)}
    assert set(rows) == {"tam-tru", "khai-sinh"}
    assert "Đăng ký tạm trú" in rows["tam-tru"] and "20.000 đồng" in rows["tam-tru"] and "3 ngày làm việc" in rows["tam-tru"]
    assert re.search(rf'id="flow-tam-tru" class="flow" data-version="{TAM_TRU_V + 1}"', r.text)
    assert "Miễn phí nếu đăng ký trong 60 ngày" in rows["khai-sinh"] and "Trong ngày" in rows["khai-sinh"]
    kiosks = text(part(r.text, "kiosk-bundles"))  # the HCM kiosk is another province's
    assert kiosks.startswith("1 / 2 ki-ốt") and "1 ki-ốt còn chạy gói hanoi-2026-11-01" in kiosks
    history = part(r.text, "bundle-history")
    assert [m for m in re.findall(r'data-action="(\w+)" data-bundle="([\w.-]+)"', history)] == [
        ("publish", "hanoi-2026-11-20"), ("publish", "hanoi-2026-11-01")]
    assert re.findall(r'id="rollback-([\w.-]+)"', history) == ["hanoi-2026-11-01"]  # not the current one


def test_one_procedure_with_steps_papers_escaped_yaml_and_versions(app):
    http = login(app, "tinh01")
    r = http.get("/console/procedures/tam-tru")
    assert r.status_code == 200
    assert "20.000 đồng" in text(part(r.text, "fee"))
    steps = re.findall(r'class="step" data-step="([\w-]+)" data-kind="([\w-]+)"', r.text)
    assert len(steps) >= 3 and all(kind for _, kind in steps)
    assert 'class="document"' in r.text
    yaml = part(r.text, "yaml")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in yaml and "<script>" not in r.text
    assert "id: tam-tru" in html.unescape(yaml) and "amount: 20000" in yaml
    versions = re.findall(r'class="version( current)?" data-bundle="([\w.-]+)" data-version="(\d+)"', part(r.text, "flow-history"))
    assert versions == [(" current", "hanoi-2026-11-20", str(TAM_TRU_V + 1)), ("", "hanoi-2026-11-01", str(TAM_TRU_V))]

    for bad in ("nope", "TAM-TRU", "tam-tru%00", "..%2F..%2Fetc", "a" * 100, "%C3%A0", "rollback"):
        r = http.get("/console/procedures/" + bad)
        assert r.status_code == 404 and 'id="error"' in r.text, bad
    assert http.get("/console/procedures?x=1").status_code == 400
    assert http.get("/console/procedures/tam-tru?x=%00").status_code == 400


def test_a_rollback_with_a_reason_makes_the_older_bundle_current_and_is_audited(app, central):
    http = login(app, "tinh01")
    page = http.get("/console/procedures").text
    form = {"csrf": csrf_of(page), "bundle_id": "hanoi-2026-11-01", "reason": "Lệ phí tạm trú 20.000 đồng ghi sai"}
    r = http.post("/console/procedures/rollback", data=form, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"] == "/console/procedures"
    assert central.flows_index()["bundle_id"] == "hanoi-2026-11-01"

    page = http.get("/console/procedures").text
    assert 'id="bundle-id">hanoi-2026-11-01<' in page
    assert "15.000 đồng" in text(re.search(r'<tr id="flow-tam-tru".*?</tr>', page, re.S).group(0))
    last = re.search(r'<tr class="event" data-action="rollback" data-bundle="hanoi-2026-11-01">.*?</tr>', page, re.S)
    assert last and "Lệ phí tạm trú 20.000 đồng ghi sai" in text(last.group(0)) and "tinh01" in text(last.group(0))
    assert "thay cho hanoi-2026-11-20" in text(last.group(0))
    assert re.findall(r'id="rollback-([\w.-]+)"', page) == ["hanoi-2026-11-20"]  # the way forward again
    events = central.bundle_history()
    assert (events[-1]["action"], events[-1]["actor"], events[-1]["reason"]) == ("rollback", "tinh01", form["reason"])
    with central.engine.connect() as conn:
        audit = conn.execute(select(audit_log).where(audit_log.c.action == "bundle_rollback")).mappings().all()
    assert [(a["username"], a["target"]) for a in audit] == [("tinh01", "hanoi-2026-11-01")]
    assert "hanoi-2026-11-20 -> hanoi-2026-11-01" in audit[0]["detail"] and audit[0]["address"]


def test_a_rollback_without_reason_or_csrf_or_of_an_unknown_bundle_is_refused(app, central):
    http = login(app, "tinh01")
    token = csrf_of(http.get("/console/procedures").text)
    post = lambda data, headers={"Origin": ORIGIN}: http.post("/console/procedures/rollback", data=data, headers=headers)  # noqa: E731
    base = {"csrf": token, "bundle_id": "hanoi-2026-11-01", "reason": "gói mới lỗi"}
    assert post({**base, "reason": "   "}).status_code == 400
    assert post({k: v for k, v in base.items() if k != "reason"}).status_code == 400
    assert post({**base, "csrf": "sai"}).status_code == 403
    assert post({k: v for k, v in base.items() if k != "csrf"}).status_code == 403
    assert post(base, headers={"Origin": "http://evil.example"}).status_code == 403
    assert post({**base, "bundle_id": "khong-co"}).status_code == 404
    assert post({**base, "bundle_id": "../x"}).status_code == 404
    assert post({**base, "reason": "x" * 1001}).status_code == 400
    r = http.post("/console/procedures/rollback", content=f"csrf={token}&bundle_id=hanoi-2026-11-01&reason=%FF%FE".encode(),
                  headers={"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and 'id="error"' in r.text  # not UTF-8: a malformed form, not a 500
    assert central.flows_index()["bundle_id"] == "hanoi-2026-11-20"
    assert [e["action"] for e in central.bundle_history()] == ["publish", "publish"]
    with central.engine.connect() as conn:
        assert not conn.execute(select(audit_log).where(audit_log.c.action == "bundle_rollback")).first()
    # rolling back to the current bundle changes nothing and logs nothing
    assert post({**base, "bundle_id": "hanoi-2026-11-20"}).status_code == 303
    assert len(central.bundle_history()) == 2


def test_officers_and_supervisors_are_refused(app, central):
    for who in ("lan", "hung"):
        http = login(app, who)
        assert http.get("/console/procedures").status_code == 403
        assert http.get("/console/procedures/tam-tru").status_code == 403
        token = csrf_of(http.get("/console/").text)
        r = http.post("/console/procedures/rollback", headers={"Origin": ORIGIN},
                      data={"csrf": token, "bundle_id": "hanoi-2026-11-01", "reason": "thử"})
        assert r.status_code == 403
    assert central.flows_index()["bundle_id"] == "hanoi-2026-11-20"
    anonymous = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    assert anonymous.get("/console/procedures").status_code in (302, 303)
