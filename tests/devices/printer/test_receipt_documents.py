"""The receipt's "Thành phần hồ sơ" (issue 18): the papers photographed at the kiosk, then the originals the
citizen shows at the counter that were not photographed. Chứng thực bản sao's photo of the original is
optional: without it the receipt used to say only "Không có giấy tờ nộp kèm qua ki-ốt" although the
original is the dossier; now it names the original and where it goes."""
from __future__ import annotations

from devices.printer import receipt_from_dossier
from devices.printer.layout import text_lines

DOSSIER = {
    "schema": "kiosk-dossier/1", "uuid": "0c1d",
    "procedure": {"code": "2.000815", "name_vi": "Chứng thực bản sao từ bản chính", "name_en": "Certified copy"},
    "applicant": {"id_number": "001185012345", "full_name": "Trần Thị Ngọc Ánh", "source": "chip"},
    "attachments": [],
    "handling_unit": {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"},
    "fee": {"amount": 2000, "currency": "VND"},
    "created_at": "2026-12-05T11:34:00+07:00",
}
ANSWER = {"dossier_code": "01.00004-261205-0002", "lookup_secret": "T7QBWHKPWS", "appointment_date": "2026-12-07"}


def _printed(dossier, originals=()) -> tuple[dict, str]:
    data = receipt_from_dossier(dossier, ANSWER, centre_name="Trung tâm", lookup_qr="KIOSKVN1|x",
                                originals=list(originals), counter="Quầy số 2")
    return data, "\n".join(text_lines("receipt", data))


def test_an_original_not_photographed_is_listed_as_shown_at_the_counter():
    data, printed = _printed(DOSSIER, ["Giấy tờ cần sao"])
    assert data["documents"] == ["Giấy tờ cần sao (bản chính, đưa cán bộ xem tại quầy)"]
    assert "Giấy tờ cần sao (bản chính, đưa cán bộ xem tại quầy)" in printed
    assert "Không có giấy tờ" not in printed
    assert "tại Quầy số 2." in printed


def test_a_photographed_paper_is_listed_once_even_when_its_original_is_brought_too():
    photographed = dict(DOSSIER, attachments=[
        {"document_id": "ban-chinh", "name_vi": "Giấy tờ cần sao", "sha256": "a"},
        {"document_id": "ban-chinh", "name_vi": "Giấy tờ cần sao", "sha256": "b"},
    ])
    data, _ = _printed(photographed, ["Giấy tờ cần sao"])
    assert data["documents"] == ["Giấy tờ cần sao"]


def test_no_paper_at_all_says_so_in_plain_words():
    data, printed = _printed(DOSSIER)
    assert data["documents"] == []
    assert "Không có giấy tờ kèm theo" in printed
