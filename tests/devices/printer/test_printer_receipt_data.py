from __future__ import annotations

import json

import pytest

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
