"""'trong thành phố' for a centrally-run city, 'trong tỉnh' elsewhere (issue #18 point 8)."""
from __future__ import annotations

import pytest

from flows.wording import is_city, province_word


@pytest.mark.parametrize("code", ["01", "79", "31", "48", "92", "46"])  # Hà Nội, HCM, Hải Phòng, Đà Nẵng, Cần Thơ, Huế
def test_the_six_centrally_run_cities_are_cities(code):
    assert is_city(code) and province_word(code) == "thành phố" and province_word(code, "en") == "city"


def test_a_province_is_a_province():
    from flows import units

    others = [c for c in ("02", "04", "08", "20", "22", "38", "40", "42") if units.province(c)]
    assert others
    for code in others:
        assert province_word(code) == "tỉnh" and province_word(code, "en") == "province"
    assert province_word("zz") == "tỉnh"  # an unknown code is not called a city
