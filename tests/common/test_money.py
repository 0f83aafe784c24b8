"""One fee formatter for screen and paper (common.money)."""
from __future__ import annotations

import pytest

from common.money import fee_text, group_thousands, payable_amount, told_at_counter
from flows.model import Fee


@pytest.mark.parametrize("fee,vi,en", [
    (None, "Miễn phí", "Free"),
    ({"amount": 0}, "Miễn phí", "Free"),
    ({"amount": 20000, "currency": "VND"}, "20.000 đồng", "20,000 VND"),
    ({"amount": 1200000}, "1.200.000 đồng", "1,200,000 VND"),
    ({"amount": 2000, "note_vi": "2.000 đồng/trang"}, "2.000 đồng/trang", "2.000 đồng/trang"),
    ({"amount": 2000, "note": {"vi": "2.000 đồng/trang", "en": "2,000 VND a page"}}, "2.000 đồng/trang",
     "2,000 VND a page"),
    (Fee(20000, "VND", {"vi": "", "en": ""}), "20.000 đồng", "20,000 VND"),
    (Fee(0, "VND", {"vi": "", "en": ""}), "Miễn phí", "Free"),
    # an amount nobody has confirmed: an estimate, paid at the counter
    ({"amount": 15000, "currency": "VND", "note_vi": "", "unconfirmed": True},
     "khoảng 15.000 đồng — cán bộ sẽ xác nhận, nộp tại quầy", "about 15,000 VND — the staff will confirm it; pay at the desk"),
    (Fee(20000, "VND", {"vi": "", "en": ""}, unconfirmed=True),
     "khoảng 20.000 đồng — cán bộ sẽ xác nhận, nộp tại quầy", "about 20,000 VND — the staff will confirm it; pay at the desk"),
    ({"amount": 0, "unconfirmed": True}, "Miễn phí", "Free"),  # free is free, confirmed or not
])
def test_the_same_words_for_a_fee_on_screen_and_on_paper(fee, vi, en):
    from devices.printer import format_fee

    assert fee_text(fee, "vi") == vi and fee_text(fee, "en") == en
    if not isinstance(fee, Fee):
        assert format_fee(fee) == vi  # the receipt prints what the review screen showed


def test_thousands_grouping():
    assert group_thousands(50000000) == "50.000.000" and group_thousands(50000000, "en") == "50,000,000"
    assert group_thousands(1500, at_least=10000) is None and group_thousands("1.5") is None
    assert group_thousands("abc") is None


HO_KINH_DOANH = {"amount": 100000, "currency": "VND", "unconfirmed": True,
                 "note_vi": "Số tiền do tỉnh quy định (thường từ 50.000 đến 100.000 đồng); cán bộ ở quầy sẽ báo"}


@pytest.mark.parametrize("fee,payable,at_counter", [
    ({"amount": 4000, "currency": "VND", "note_vi": ""}, 4000, False),      # chứng thực bản sao, 2 pages
    (Fee(10000, "VND", {"vi": "", "en": ""}), 10000, False),
    ({"amount": 0, "currency": "VND", "note_vi": "Miễn phí"}, 0, False),      # free; the note says just that
    (None, 0, False),
    (HO_KINH_DOANH, 0, True),                                                # the note stands for the amount
    ({**HO_KINH_DOANH, "unconfirmed": False}, 0, True),
    ({"amount": 0, "note_vi": "Đăng ký muộn (quá 60 ngày): số tiền do tỉnh quy định, cán bộ ở quầy sẽ báo"}, 0, True),
    ({"amount": 15000, "currency": "VND", "note_vi": "", "unconfirmed": True}, 0, True),  # tạm trú: not confirmed
    (Fee(20000, "VND", {"vi": "", "en": ""}, unconfirmed=True), 0, True),
    ({"amount": 0, "unconfirmed": True}, 0, False),                          # khai sinh on time: free
    ({"amount": 4000.0}, 4000, False),
    ({"amount": 4000.5}, 0, False), ({"amount": True}, 0, False), ({"amount": "4000"}, 0, False),
    ({"amount": -4000}, 0, False), ({"amount": float("nan")}, 0, False), ({"amount": float("inf")}, 0, False),
])
def test_one_rule_for_what_may_be_paid_by_transfer(fee, payable, at_counter):
    """The kiosk's pay screen and the central system's notifications both ask payable_amount."""
    assert payable_amount(fee) == payable
    assert told_at_counter(fee) is at_counter
