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
    # the hour as well as the day (issue #18): from opening time, or from filing on the same day
    assert f"4. Thời gian trả kết quả: từ {come_back_hour(at, appointment)} ngày {due}" in lines
    (printed,) = decode_qr(render_preview("receipt", data))
    parsed = parse_receipt(printed)
    assert parsed.appointment == appointment and parsed.received_at == local.replace(tzinfo=None, second=0)


def come_back_hour(at, appointment) -> str:
    local = at.astimezone(clock.VN_TZ)
    if appointment == local.date() and (local.hour, local.minute) > (8, 0):
        return f"{local.hour} giờ {local:%M}"
    return "8 giờ 00"


def test_what_to_do_next_holds_the_amount_hour_counter_originals_and_lookup_code():
    """Issue #18: the receipt said none of these; the "Việc cần làm" block says them all."""
    from devices.printer.layout import text_lines

    data = receipt_from_dossier({**DOSSIER, "fee": {"amount": 8000, "currency": "VND"}}, ANSWER,
                                centre_name="Trung tâm", lookup_qr=QR, counter="quầy số 3",
                                originals=["Giấy chứng sinh", "Giấy chứng nhận kết hôn của cha mẹ"])
    lines = text_lines("receipt", data)
    block = lines[lines.index("VIỆC CẦN LÀM") + 1:]
    assert block[0] == "1. Lệ phí phải nộp: 8.000 đồng."
    assert block[1] == "2. Đến nhận kết quả từ 8 giờ 00 ngày 26/11/2026, tại quầy số 3."
    assert block[2:5] == ["3. Mang theo bản chính các giấy tờ:", "– Giấy chứng sinh",
                          "– Giấy chứng nhận kết hôn của cha mẹ"]
    assert any("Mã tra cứu q7Zx3KpT" in x and ANSWER["dossier_code"] in x for x in block)
    assert "Mã tra cứu: q7Zx3KpT" in lines  # beside the code under the QR, as the lookup screen asks
    # without a counter or originals: the general wording, and no empty "bring" line
    plain = text_lines("receipt", receipt_from_dossier(DOSSIER, ANSWER, centre_name="Trung tâm", lookup_qr=QR))
    assert "2. Đến nhận kết quả từ 8 giờ 00 ngày 26/11/2026, tại quầy tiếp nhận và trả kết quả." in plain
    assert not any("bản chính" in x for x in plain)
    assert "1. Lệ phí phải nộp: Miễn phí." in plain


def test_a_same_day_result_is_collected_from_the_time_of_filing():
    from datetime import datetime

    from devices.printer.receipt_data import come_back_at

    assert come_back_at("2027-03-01T09:12:40+07:00", "2027-03-01") == datetime(2027, 3, 1, 9, 12)
    assert come_back_at("2027-03-01T07:40:00+07:00", "2027-03-01") == datetime(2027, 3, 1, 8, 0)
    assert come_back_at("2027-03-01T16:00:00+07:00", "2027-03-02", "07:30") == datetime(2027, 3, 2, 7, 30)
    with pytest.raises(LayoutError):
        come_back_at("2027-03-01T09:00:00+07:00", "2027-03-02", "8h")


def test_what_to_do_next_is_printed_at_11_points_or_more():
    """80 mm paper at 203 dpi: 11 pt = 31 dots. The block's items use the profile's `large` size;
    the notes are never smaller than its normal text."""
    from devices.printer.layout import load_layout
    from devices.printer.profiles import get_profile
    from devices.printer.raster import STYLES

    sizes = get_profile("80mm").sizes
    for name in ("receipt", "provisional_receipt"):
        blocks = load_layout(name)["blocks"]
        (todo,) = [b for b in blocks if isinstance(b.get("list"), list)]
        assert todo["numbered"] and sizes[STYLES[todo["style"]][1]] * 72 / 203 >= 11, name
        for b in blocks:
            assert b.get("style") != "small", (name, b)


def test_the_provisional_receipt_says_how_to_look_it_up_later():
    from devices.printer.layout import text_lines

    data = provisional_from_dossier(DOSSIER, local_code="TAM-BD01-0007", centre_name="Trung tâm",
                                    originals=["Giấy chứng sinh"])
    text = " ".join(text_lines("provisional_receipt", data))
    assert "chưa có Mã tra cứu" in text and "Mã tạm TAM-BD01-0007" in text
    assert "mang phiếu này đến quầy tiếp nhận và trả kết quả" in text
    assert "– Giấy chứng sinh" in text_lines("provisional_receipt", data)
