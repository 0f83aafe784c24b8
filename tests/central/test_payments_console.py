"""The officers' console shows a dossier's fee payment plainly (issue 22), on SQLite and PostgreSQL:
paid with the amount and time, not paid, and a flagged payment as "Cần kiểm tra: số tiền đã nộp
6.000 đ khác số phải nộp 4.000 đ"; an extra transfer after payment is named for a refund.

And the officers act on it: "Ghi nhận đã thu tại quầy" (amount, receipt number) makes the dossier
paid at the counter for the citizen's lookup and the kiosk; a later bank transfer is answered
already_paid and listed for a refund; "Đã xử lý" (a note required) accepts or refunds a flagged
payment and clears extra transfers. Officers of the dossier's commune only, CSRF checked, every
action audited, every refusal a page."""
import html
import re

import pytest
from fastapi.testclient import TestClient

from sqlalchemy import select

from central.app import create_app
from central.db import audit_log
from common.payment_signature import sign_notification
from central.service import Central, KioskIdentity
from testkit.central import sample_dossier
from testkit.console import csrf_of, login, part, post, text

ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-lan-2026"
SECRET = "gateway-secret-for-tests-0123456789"
BADINH = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
KIOSK_SECRET = "secret-" + BADINH.kiosk_id
# hộ kinh doanh: the amount is set by the province, the note says so, and it is not confirmed
PROVINCE_FEE = {"amount": 100000, "currency": "VND", "unconfirmed": True,
                "note_vi": "Số tiền do tỉnh quy định (thường từ 50.000 đến 100.000 đồng); cán bộ ở quầy sẽ báo"}


@pytest.fixture
def central(database):
    c = Central.open(database, payment_secret=SECRET)
    c.register_kiosk(BADINH.kiosk_id, BADINH.province_code, BADINH.commune_code, KIOSK_SECRET)
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


def _filed(central, fee: int | dict = 4000) -> dict:
    body, _ = sample_dossier(BADINH.kiosk_id, commune_code="00004", attachments=0)
    # as the engine makes it (flows.engine.dossier)
    body["fee"] = fee if isinstance(fee, dict) else {"amount": fee, "currency": "VND", "note_vi": ""}
    return central.submit(BADINH, body)[1]


def _file(central, fee: int | dict = 4000) -> str:
    return _filed(central, fee)["dossier_code"]


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


# --- the officers act on a payment --------------------------------------------------------------
def _lookup(http, answer: dict) -> dict:
    r = http.get(f"/api/v1/dossiers/{answer['dossier_code']}", params={"secret": answer["lookup_secret"]})
    assert r.status_code == 200, r.text
    return r.json()["payment"]


def _kiosk_view(http, code: str) -> dict:
    r = http.get(f"/api/v1/dossiers/{code}/payment", auth=(BADINH.kiosk_id, KIOSK_SECRET))
    assert r.status_code == 200, r.text
    return r.json()["payment"]


def _audit(central, action: str) -> list[dict]:
    with central.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.action == action)
                                              .order_by(audit_log.c.id)).mappings()]


def _counter(http, code: str, amount: str = "4000", receipt: str = "AA/26E 0001234"):
    return post(http, f"/console/dossiers/{code}/payment/counter", f"/console/dossiers/{code}", amount=amount, receipt=receipt)


def _resolve(http, code: str, note: str, outcome: str = "resolved"):
    return post(http, f"/console/dossiers/{code}/payment/resolve", f"/console/dossiers/{code}", outcome=outcome, note=note)


def _refused(r, status: int | tuple, vi: str) -> str:
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    page = html.unescape(r.text)
    assert vi in page, page[:600]
    return page


def test_a_fee_paid_at_the_counter_is_paid_for_the_citizen_and_the_kiosk(http, central, clock):
    clock.set_now("2026-12-04T10:05:00+07:00")
    answer = _filed(central)
    code = answer["dossier_code"]
    assert _lookup(http, answer)["state"] == "unpaid"
    form = part(_page(http, code), "counter-payment-form")
    assert 'value="4000"' in form and "Ghi nhận đã thu tại quầy" in text(form)  # the amount due by default

    r = _counter(http, code, amount="4.000")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/console/dossiers/{code}")
    expected = {"state": "paid", "amount_due": 4000, "amount_paid": 4000, "paid_at": "2026-12-04T10:05:00+07:00",
                "method": "counter", "amount_told_at_counter": False}
    assert _lookup(http, answer) == expected
    assert _kiosk_view(http, code) == expected
    page = _page(http, code)
    assert _payment_cell(page) == "paid: Đã thu tại quầy 4.000 đ lúc 10:05 04/12/2026, biên lai số AA/26E 0001234"
    assert 'id="counter-payment-form"' not in page and 'id="payment-checks"' not in page
    [entry] = _audit(central, "payment_counter")
    assert (entry["username"], entry["target"], entry["commune_code"]) == ("lan", code, "00004")
    assert entry["detail"] == "4000 đ, biên lai AA/26E 0001234"

    # recorded twice (a second click, another officer): refused with a page, nothing changes
    _refused(_counter(http, code, receipt="AA/26E 0001235"), 409, "Hồ sơ đã được thanh toán")
    assert _lookup(http, answer) == expected
    # the citizen also transferred afterwards: acknowledged, never a second payment, listed for a refund
    assert _pay(http, code, 4000, "FT-LATE") == "already_paid"
    assert _lookup(http, answer) == expected
    checks = text(part(_page(http, code), "payment-checks"))
    assert "nhận thêm 4.000 đ (giao dịch FT-LATE) sau khi hồ sơ đã nộp tiền: cần hoàn lại cho người dân" in checks


def test_an_amount_set_by_the_province_is_told_at_the_counter_and_never_taken_by_transfer(http, central, clock):
    clock.set_now("2026-12-04T10:05:00+07:00")
    answer = _filed(central, PROVINCE_FEE)
    code = answer["dossier_code"]
    assert _lookup(http, answer) == {"state": "unpaid", "amount_due": 0, "amount_paid": None, "paid_at": None,
                                     "method": None, "amount_told_at_counter": True}
    page = _page(http, code)
    assert _payment_cell(page) == "unpaid: Chưa thanh toán (số tiền do cán bộ báo tại quầy)"
    assert 'name="amount" inputmode="numeric" maxlength="20" required value=""' in part(page, "counter-payment-form")

    # a 100,000 đ transfer (the amount the flow carries) is not the fee: flagged for an officer
    assert _pay(http, code, 100000, "FT-HKD") == "flagged"
    page = _page(http, code)
    assert "đã chuyển khoản 100.000 đ cho hồ sơ có lệ phí nộp tại quầy" in text(part(page, "payment-checks"))
    assert 'id="counter-payment-form"' not in page  # a flagged payment is resolved first
    _refused(_counter(http, code, amount="100000"), 409, "Đã xử lý")

    # "Đã xử lý" needs a note
    _refused(_resolve(http, code, "   ", outcome="accept"), 422, "Cần ghi rõ đã xử lý thế nào")
    _refused(_resolve(http, code, "đã kiểm tra", outcome="maybe"), 422, "Cần chọn")
    assert _lookup(http, answer)["state"] == "flagged"
    r = _resolve(http, code, "Tỉnh quy định 100.000 đồng: chấp nhận số tiền đã chuyển.", outcome="accept")
    assert r.status_code == 303
    assert _lookup(http, answer) == {"state": "paid", "amount_due": 0, "amount_paid": 100000,
                                     "paid_at": "2026-12-04T09:12:31+07:00", "method": "transfer",
                                     "amount_told_at_counter": True}
    page = _page(http, code)
    assert 'id="payment-checks"' not in page and 'id="resolve-payment-form"' not in page
    assert "chấp nhận số tiền đã chuyển" in text(part(page, "payment-resolution"))
    [entry] = _audit(central, "payment_resolved")
    assert entry["detail"] == "flagged: accept" and "chấp nhận" not in entry["detail"]  # the note stays with the payment
    _refused(_resolve(http, code, "lần nữa"), 409, "Không có khoản thanh toán nào cần xử lý")


def test_a_refunded_wrong_amount_is_unpaid_again_then_paid_at_the_counter(http, central, clock):
    clock.set_now("2026-12-04T10:05:00+07:00")
    answer = _filed(central)
    code = answer["dossier_code"]
    assert _pay(http, code, 6000, "FT-WRONG") == "flagged"
    assert _lookup(http, answer)["state"] == "flagged"
    assert _resolve(http, code, "Đã hoàn lại 6.000 đồng cho người dân.", outcome="refund").status_code == 303
    assert _lookup(http, answer) == {"state": "unpaid", "amount_due": 4000, "amount_paid": None, "paid_at": None,
                                     "method": None, "amount_told_at_counter": False}
    clock.set_now("2026-12-04T10:30:00+07:00")
    assert _counter(http, code, receipt="0001240").status_code == 303
    assert _lookup(http, answer)["method"] == "counter" and _lookup(http, answer)["paid_at"] == "2026-12-04T10:30:00+07:00"
    # the refunded transfer, replayed by the gateway, changes nothing
    assert _pay(http, code, 6000, "FT-WRONG") == "already"
    assert _lookup(http, answer)["state"] == "paid"


def test_an_extra_transfer_is_resolved_with_a_note(http, central):
    code = _file(central)
    assert _pay(http, code, 4000, "FT-1") == "paid"
    assert _pay(http, code, 4000, "FT-2") == "already_paid"
    form = part(_page(http, code), "resolve-payment-form")
    assert 'name="outcome" value="resolved"' in form and "<select" not in form  # nothing to choose: it is refunded
    assert _resolve(http, code, "Đã hoàn lại 4.000 đồng chuyển thừa (FT-2).").status_code == 303
    page = _page(http, code)
    assert 'id="payment-checks"' not in page
    assert _payment_cell(page) == "paid: Đã thanh toán 4.000 đ lúc 09:12 04/12/2026 (giao dịch FT-1)"
    assert _audit(central, "payment_resolved")[0]["detail"] == "extra transfers: 1"
    # a third transfer later is a new check
    assert _pay(http, code, 4000, "FT-3") == "already_paid"
    assert "FT-3" in text(part(_page(http, code), "payment-checks"))


def test_only_the_dossiers_commune_may_act_and_every_refusal_is_a_page(http, central):
    code = _file(central)
    page_url = f"/console/dossiers/{code}"
    # no CSRF token, or another origin: refused before anything changes
    r = http.post(f"{page_url}/payment/counter", data={"amount": "4000", "receipt": "1"}, headers={"Origin": ORIGIN})
    _refused(r, 403, "Yêu cầu bị từ chối")
    token = csrf_of(http.get(page_url).text)
    r = http.post(f"{page_url}/payment/counter", data={"csrf": token, "amount": "4000", "receipt": "1"},
                  headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    # bad input: a page with the reason, never a 500
    for amount in ("", "0", "-4000", "4.0", "bốn nghìn", "1" * 14, "1" * 200, "4,00"):
        _refused(_counter(http, code, amount=amount), 400, "Số tiền phải là số đồng")
    for receipt in ("", " ", "x" * 41, "<script>", "số\nhai"):
        _refused(_counter(http, code, receipt=receipt), 422, "Số biên lai")
    _refused(_counter(http, code, receipt="a\x00b"), 400, "Biểu mẫu gửi lên bị hỏng")  # the form reader refuses a NUL
    _refused(_resolve(http, code, "x" * 2001), 422, "Yêu cầu không hợp lệ")
    _refused(_resolve(http, code, "không có gì"), 409, "Không có khoản thanh toán nào cần xử lý")
    for bad in ("not-a-code", "01.00004-261204-9999"):
        _refused(post(http, f"/console/dossiers/{bad}/payment/counter", page_url, amount="4000", receipt="1"), 404,
                 "Không tìm thấy")
    assert _kiosk_view(http, code)["state"] == "unpaid"
    assert _audit(central, "payment_counter") == []

    # an officer of another commune: the dossier does not exist for them
    http.app.state.console_accounts.add("minh", PASSWORD, "officer", "00007", "Trần Văn Minh")
    other = login(http.app, "minh", PASSWORD)
    own = csrf_of(other.get("/console/").text)
    r = other.post(f"{page_url}/payment/counter", data={"csrf": own, "amount": "4000", "receipt": "1"}, headers={"Origin": ORIGIN})
    _refused(r, 404, "Không tìm thấy")
    r = other.post(f"{page_url}/payment/resolve", data={"csrf": own, "outcome": "accept", "note": "x"}, headers={"Origin": ORIGIN})
    _refused(r, 404, "Không tìm thấy")
    assert _kiosk_view(http, code)["state"] == "unpaid"
    # not logged in: to the login page
    anon = TestClient(http.app, base_url=ORIGIN, follow_redirects=False)
    r = anon.post(f"{page_url}/payment/counter", data={"amount": "4000", "receipt": "1"}, headers={"Origin": ORIGIN})
    assert r.status_code in (303, 403) and _kiosk_view(http, code)["state"] == "unpaid"
