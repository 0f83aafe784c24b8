"""Issue 22, without Kivy: for each shipped flow that charges a fee, the fee line of the submit
(consent) screen — ``common.money.fee_text(engine.fee())``, what ``SubmitScreen.summary`` shows
before the citizen agrees — says the amount the flow computes from sample answers; and what may be
paid by transfer (``payable_amount``, the kiosk's pay screen) is what the central system expects
for the dossier the kiosk files (``central.payments.amount_due`` of its body). Only a confirmed
fee is paid at the kiosk; an unconfirmed one is an estimate paid at the counter."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import flows
from central.payments import amount_due
from common.money import fee_text, payable_amount
from flows.sample import walk

TODAY = date(2026, 11, 23)
REG = flows.load_registry(Path(__file__).resolve().parents[2] / "flows" / "definitions")
AT_COUNTER = "cán bộ sẽ xác nhận, nộp tại quầy"

# flow, sample answers, the submit screen's fee line (vi), the amount payable at the kiosk
CASES = [
    ("chung-thuc-ban-sao", {"pages": 2, "copies": 1}, "4.000 đồng", 4000),
    ("chung-thuc-ban-sao", {"pages": 5, "copies": 2}, "14.000 đồng", 14000),      # 2×2.000 + 3×1.000, two copies
    ("chung-thuc-ban-sao", {"pages": 300, "copies": 1}, "200.000 đồng", 200000),  # the cap per copy
    ("chung-thuc-chu-ky", {"documents_count": 3}, "30.000 đồng", 30000),
    ("trich-luc-ho-tich", {"copies": 2}, f"khoảng 16.000 đồng — {AT_COUNTER}", 0),
    ("tam-tru", {}, f"khoảng 15.000 đồng — {AT_COUNTER}", 0),
    ("gia-han-tam-tru", {}, f"khoảng 15.000 đồng — {AT_COUNTER}", 0),
    ("thuong-tru", {}, f"khoảng 20.000 đồng — {AT_COUNTER}", 0),
    ("ho-kinh-doanh", {}, "Số tiền do tỉnh quy định (thường từ 50.000 đến 100.000 đồng); cán bộ ở quầy sẽ báo", 0),
]


def _may_charge(flow) -> bool:
    fee = flow.fee
    return bool(fee.amount or fee.per_page or fee.per_unit or any(r.amount for r in fee.rules))


def test_every_flow_that_charges_a_fee_is_checked_here():
    charging = {f.id for f in REG.flows if _may_charge(f)}
    assert charging == {c[0] for c in CASES}, "add the new paying flow to CASES"


@pytest.mark.parametrize("flow_id,answers,line,payable", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_the_submit_screens_fee_line_and_what_is_paid_at_the_kiosk(flow_id, answers, line, payable):
    engine = walk(REG.get(flow_id), TODAY, answers)
    for field, value in answers.items():
        assert engine.answers[field] == value
    fee = engine.fee()
    assert fee_text(fee, "vi") == line
    assert payable_amount(fee) == payable
    # the dossier the kiosk files: central expects the same amount by transfer (0: any transfer flagged)
    dossier = engine.dossier(uuid="0f8fad5b-d9cb-469f-a165-70867728950e", kiosk_id="KIOSK-TEST-01",
                             created_at=datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    assert amount_due(json.dumps(dossier, ensure_ascii=False)) == payable
    assert dossier["fee"].get("unconfirmed", False) is REG.get(flow_id).fee.unconfirmed
    if payable:
        assert fee_text(fee, "en").endswith(" VND") and AT_COUNTER not in line
    else:
        assert fee_text(fee, "en") != fee_text({"amount": fee["amount"]}, "en")  # never a bare amount to pay here
