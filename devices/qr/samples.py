"""What the simulated scanner can be shown besides the sample card's QR (``scanner.SIM_CITIZEN_QR``):
the simulated citizen's baby's Giấy chứng sinh, as the birth certificate record the kiosk reads
(``payloads.parse_birth_certificate``: QĐ 130/QĐ-BYT bảng 9; what a real certificate's QR holds is
not published, see there). Pure: the caller says what "today" is (``common.clock`` on the kiosk).

The family is the virtual card's (devices/idcard/vcard/datasets.py): the mother Trần Thị Ngọc Ánh
(001185012345, born 12/05/1985), the father Lê Minh Tuấn; the baby, a boy, is Lê Minh Khôi.
"""
from __future__ import annotations

from datetime import date, timedelta

from devices.qr.payloads import build_birth_certificate_qr

__all__ = ["SIM_CHILD", "sim_birth_certificate_qr"]

#: the child the simulated hospital's certificate names (the tests read it back from the form)
SIM_CHILD = {"full_name": "Lê Minh Khôi", "surname": "Lê", "given_names": "Minh Khôi", "sex": "nam", "days_old": 10}


def sim_birth_certificate_qr(today: date) -> str:
    """The record of a boy born ``SIM_CHILD['days_old']`` days before ``today`` at 08:30, the
    certificate issued two days later (never after ``today``): always within the 60 days of an
    on-time khai sinh, whatever day the demo or a test runs on."""
    born = today - timedelta(days=SIM_CHILD["days_old"])
    issued = min(born + timedelta(days=2), today)
    return build_birth_certificate_qr({
        "HO_TEN_NND": "Trần Thị Ngọc Ánh",
        "NGAYSINH_NND": "19850512",
        "SO_CCCD_NND": "001185012345",
        "HO_TEN_CHA": "Lê Minh Tuấn",
        "HO_TEN_CON": SIM_CHILD["full_name"],
        "GIOI_TINH_CON": "1",
        "SO_CON": "1",
        "NGAY_SINH_CON": born.strftime("%Y%m%d") + "0830",
        "NOI_SINH_CON": "Bệnh viện Phụ sản Hà Nội, Thành phố Hà Nội",
        "SO": "1234",
        "QUYEN_SO": "05",
        "NGAY_CT": issued.strftime("%Y%m%d"),
    })
