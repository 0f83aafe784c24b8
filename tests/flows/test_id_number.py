"""The personal ID number's sex/century digit and birth year, checked against typed answers."""
from __future__ import annotations

from datetime import date

import pytest

from flows.id_number import id_matches, sample_id, sex_of


@pytest.mark.parametrize(("id_number", "birth", "sex", "ok"), [
    ("001185012345", date(1985, 5, 12), "Nữ", True),     # the simulated card
    ("001185012345", date(1985, 5, 12), "nam", False),   # female digit, male answer
    ("001185012345", date(1986, 5, 12), "nu", False),    # year digits 85, typed 1986
    ("001185012345", date(2085, 5, 12), "nu", False),    # right year digits, wrong century
    ("079203001234", "2003-02-01", "male", True),        # 21st century male: digit 2
    ("079303001234", "2003-02-01", "nu", True),          # 21st century female: digit 3
    ("079303001234", "2003-02-01", None, True),          # sex not answered yet: only the year counts
    ("079303001234", None, "nam", False),
    ("012345678", date(1950, 1, 1), "nam", True),        # an old 9-digit ID carries nothing to check
    (None, date(1950, 1, 1), "nam", True),               # nothing typed yet
])
def test_id_matches(id_number, birth, sex, ok):
    assert id_matches(id_number, birth, sex) is ok


def test_sample_ids_agree_with_what_they_were_made_from():
    for year in (1900, 1999, 2000, 2024, 2100):
        for sex in ("male", "female"):
            n = sample_id(year, sex)
            assert len(n) == 12 and id_matches(n, date(year, 6, 1), sex)
            assert not id_matches(n, date(year, 6, 1), "female" if sex == "male" else "male")


def test_sex_values_of_flows_and_chips():
    assert [sex_of(v) for v in ("Nam", "nam", "Nữ", "nu", "F", "x", None)] == \
        ["male", "male", "female", "female", "female", None, None]


def test_the_marriage_flow_catches_a_slipped_digit_in_the_partners_id():
    from flows_testdata import DEFINITIONS

    from flows import FlowEngine, load_flow

    flow = load_flow(DEFINITIONS / "ket-hon.yaml")
    step = next(s for s in flow.steps if any(f.id == "partner_id_number" for f in s.fields))
    engine = FlowEngine(flow, today=date(2026, 11, 23))
    engine.set("partner_sex", "nam")
    engine.set("partner_birth_date", "1990-03-04")
    engine.set("partner_id_number", "001090001234")
    assert "partner_id_number" not in engine.errors(step)
    engine.set("partner_id_number", "001009001234")  # two digits swapped
    message = engine.errors(step)["partner_id_number"]
    assert "không khớp" in message and "năm sinh" in message
