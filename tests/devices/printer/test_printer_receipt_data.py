from __future__ import annotations

import json

import pytest

from common import clock

from devices.printer import (LayoutError, format_fee, provisional_from_dossier, receipt_from_dossier,
                             render_preview)

DOSSIER = {
    "schema": "kiosk-dossier/1", "uuid": "0b8a",
    "procedure": {"code": "1.001193", "name_vi": "Đăng ký khai sinh", "name_en": "Birth registration"},
    "applicant": {"id_number": "001185012345", "full_name": "Trần Thị Ngọc Ánh", "source": "chip"},
    "attachments": [
        {"document_id": "giay-chung-sinh", "name_vi": "Giấy chứng sinh", "sha256": "a"},
        {"document_id": "giay-chung-sinh", "name_vi": "Giấy chứng sinh", "sha256": "b"},
        {"document_id": "to-khai", "name_vi": "Tờ khai đăng ký khai sinh", "sha256": "c"},
    ],
    "handling_unit": {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"},
    "fee": {"amount": 0, "currency": "VND", "note_vi": "Miễn phí"},
    "created_at": "2026-11-23T08:15:03+07:00",
}
ANSWER = {"result": "created", "dossier_code": "000.00.04.H26-261123-0001", "lookup_secret": "q7Zx3KpT",
          "handling_unit": "Ủy ban nhân dân phường Ba Đình", "appointment_date": "2026-11-26"}
QR = "KIOSKVN1|000.00.04.H26-261123-0001|q7Zx3KpT|1.001193|001185012345|2026-11-23T08:15|2026-11-26"


def test_receipt_from_dossier_prints(decode_qr):
    data = receipt_from_dossier(DOSSIER, ANSWER, centre_name="Trung tâm", lookup_qr=QR)
    assert data["documents"] == ["Giấy chứng sinh", "Tờ khai đăng ký khai sinh"]
    assert data["handling_unit"] == "Ủy ban nhân dân phường Ba Đình" and data["fee"] == "Miễn phí"
    assert decode_qr(render_preview("receipt", data)) == [QR]


def test_provisional_from_dossier_prints():
    data = provisional_from_dossier(DOSSIER, local_code="BD01-261123-0007", centre_name="Trung tâm")
    assert render_preview("provisional_receipt", data).height > 500


@pytest.mark.parametrize("fee,text", [({"amount": 0}, "Miễn phí"), ({"amount": 20000, "currency": "VND"}, "20.000 đồng"),
                                      ({"amount": 1200000}, "1.200.000 đồng"), (None, "Miễn phí"),
                                      ({"amount": 2000, "note_vi": "2.000 đồng/trang"}, "2.000 đồng/trang")])
def test_fee_text(fee, text):
    assert format_fee(fee) == text


def test_missing_dossier_part_is_a_layout_error():
    with pytest.raises(LayoutError, match="applicant.full_name"):
        receipt_from_dossier({**DOSSIER, "applicant": {}}, ANSWER, centre_name="x", lookup_qr=QR)


def test_sample_qr_payloads_parse_with_the_qr_package():
    payloads = pytest.importorskip("devices.qr.payloads")
    from pathlib import Path

    samples = Path(__file__).resolve().parents[3] / "devices" / "printer" / "samples"
    assert not payloads.parse_receipt(json.loads((samples / "receipt.json").read_text())["lookup_qr"]).provisional
    assert payloads.parse_receipt(json.loads((samples / "provisional_receipt.json").read_text())["lookup_qr"]).provisional
    assert payloads.parse_receipt(QR).dossier_code == ANSWER["dossier_code"]


# Instants that break naive date code: (kiosk submitted at, central's due date for a same-day
# procedure with a 15:00 cut-off, computed by flows.calendar.appointment_date)
RECEIPT_SWEEP = [
    ("2027-03-01T08:00:00+07:00", "01/03/2027", "08 giờ 00 phút, ngày 01/03/2027"),
    ("2027-03-05T15:01:00+07:00", "08/03/2027", "15 giờ 01 phút, ngày 05/03/2027"),
    ("2027-12-31T23:59:00+07:00", "04/01/2028", "23 giờ 59 phút, ngày 31/12/2027"),
    ("2028-02-29T10:00:00+07:00", "29/02/2028", "10 giờ 00 phút, ngày 29/02/2028"),
    ("2027-02-03T16:00:00+07:00", "11/02/2027", "16 giờ 00 phút, ngày 03/02/2027"),
    ("2028-01-01T00:01:00+07:00", "04/01/2028", "00 giờ 01 phút, ngày 01/01/2028"),
    # the same instant handed over in UTC still prints Vietnam's time and date
    ("2027-12-31T16:59:00+00:00", "04/01/2028", "23 giờ 59 phút, ngày 31/12/2027"),
]


@pytest.mark.parametrize("created_at,due,received_text", RECEIPT_SWEEP)
def test_receipt_prints_the_received_time_and_due_date_at_any_instant(decode_qr, created_at, due, received_text):
    from datetime import datetime

    from devices.printer.layout import text_lines
    from devices.qr.payloads import build_receipt_qr, parse_receipt
    from flows.calendar import appointment_date

    at = datetime.fromisoformat(created_at)
    appointment = appointment_date(at, 0, "15:00")
    assert f"{appointment:%d/%m/%Y}" == due
    local = at.astimezone(clock.VN_TZ)
    qr = build_receipt_qr("01.00004-%s-0001" % f"{local:%y%m%d}", "ABCDEFGH23", "2.000815",
                         local.replace(tzinfo=None), appointment)
    data = receipt_from_dossier({**DOSSIER, "created_at": created_at},
                                {**ANSWER, "appointment_date": appointment.isoformat()}, centre_name="Trung tâm", lookup_qr=qr)
    lines = text_lines("receipt", data)
    assert f"3. Thời gian nhận hồ sơ: {received_text}" in lines
    assert f"4. Thời gian trả kết quả: ngày {due}" in lines
    (printed,) = decode_qr(render_preview("receipt", data))
    parsed = parse_receipt(printed)
    assert parsed.appointment == appointment and parsed.received_at == local.replace(tzinfo=None, second=0)
