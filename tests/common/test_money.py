"""One fee formatter for screen and paper (common.money)."""
from __future__ import annotations

import pytest

from common.money import fee_text, group_thousands
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
