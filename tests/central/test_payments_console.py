"""The officers' console shows a dossier's fee payment plainly (issue 22), on SQLite and PostgreSQL:
paid with the amount and time, not paid, and a flagged payment as "Cần kiểm tra: số tiền đã nộp
6.000 đ khác số phải nộp 4.000 đ"; an extra transfer after payment is named for a refund."""
import html
import re

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from common.payment_signature import sign_notification
from central.service import Central, KioskIdentity
from testkit.central import sample_dossier

ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-lan-2026"
SECRET = "gateway-secret-for-tests-0123456789"
BADINH = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")


@pytest.fixture
def central(database):
    c = Central.open(database, payment_secret=SECRET)
    c.register_kiosk(BADINH.kiosk_id, BADINH.province_code, BADINH.commune_code, "secret-" + BADINH.kiosk_id)
    yield c
    c.close()


@pytest.fixture
def http(central):
    app = create_app(central)
    app.state.console_accounts.add("lan", PASSWORD, "officer", "00004", "Nguyễn Thị Lan")
    client = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/login").text).group(1)
    r = client.post("/console/login", data={"csrf": token, "username": "lan", "password": PASSWORD}, headers={"Origin": ORIGIN})
    assert r.status_code == 303
    return client


def _file(central, fee: int = 4000) -> str:
    body, _ = sample_dossier(BADINH.kiosk_id, commune_code="00004", attachments=0)
    body["fee"] = {"amount": fee, "currency": "VND", "note_vi": "2.000 đồng mỗi trang"}
    return central.submit(BADINH, body)[1]["dossier_code"]


def _pay(http, code: str, amount: int, txid: str) -> str:
    note = {"transaction_id": txid, "dossier_code": code, "amount": amount, "paid_at": "2026-12-04T09:12:31+07:00"}
    r = http.post("/api/v1/payments/notify", json=note, headers=sign_notification(SECRET, note))
    assert r.status_code == 200, r.text
    return r.json()["result"]


def _page(http, code: str) -> str:
    r = http.get(f"/console/dossiers/{code}")
    assert r.status_code == 200
    return html.unescape(r.text)


def _payment_cell(page: str) -> str:
    m = re.search(r'<td id="payment" data-state="(\w+)">(.*?)</td>', page, re.S)
    assert m, "no payment row"
    return m.group(1) + ": " + re.sub(r"<[^>]+>", "", m.group(2)).strip()


def test_console_shows_paid_unpaid_and_flagged(http, central, clock):
    clock.set_now("2026-12-04T09:13:00+07:00")
    unpaid, paid, flagged = _file(central), _file(central), _file(central)
    assert _pay(http, paid, 4000, "FT-PAID") == "paid"
    assert _pay(http, flagged, 6000, "FT-FLAG") == "flagged"

    assert _payment_cell(_page(http, unpaid)) == "unpaid: Chưa thanh toán"
    page = _page(http, paid)
    assert _payment_cell(page) == "paid: Đã thanh toán 4.000 đ lúc 09:12 04/12/2026 (giao dịch FT-PAID)"
    assert 'id="payment-checks"' not in page
    page = _page(http, flagged)
    assert _payment_cell(page).startswith("flagged: Cần kiểm tra: đã nộp 6.000 đ lúc 09:12 04/12/2026")
    checks = re.search(r'<div class="alert" id="payment-checks">(.*?)</div>', page, re.S).group(1)
    assert "Cần kiểm tra: số tiền đã nộp 6.000 đ khác số phải nộp 4.000 đ" in checks


def test_console_names_an_extra_transfer_for_a_refund(http, central):
    code = _file(central)
    assert _pay(http, code, 4000, "FT-1") == "paid"
    assert _pay(http, code, 4000, "FT-2") == "already_paid"
    page = _page(http, code)
    assert _payment_cell(page).startswith("paid: Đã thanh toán 4.000 đ")
    assert "Cần kiểm tra: nhận thêm 4.000 đ (giao dịch FT-2) sau khi hồ sơ đã nộp tiền: cần hoàn lại cho người dân" in page


def test_a_dossier_without_a_fee_shows_no_payment_row(http, central):
    page = _page(http, _file(central, fee=0))
    assert 'id="payment"' not in page
