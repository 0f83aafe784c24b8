"""TD1 MRZ: the document-number overflow rule (ICAO 9303-5 §4.2.2) and the century of two-digit
years (birth: never in the future; expiry: within the 100 years ending 30 years after today)."""
from __future__ import annotations

from datetime import date

import pytest

from devices.idcard.mrz import (EXPIRY_YEARS_AHEAD, century_year, check_digit, compose_td1, key_seed_info,
                                parse_td1)
from devices.idcard.reader import AccessKey

# ICAO 9303-5 Appendix B (TD1 with a 12-character document number): the number's first 9
# characters, '<' where its check digit would be, then the remaining 3 and the check digit
ICAO_LONG = ("I<UTOD23145890<7349<<<<<<<<<<<\n"
             "3407127M9507122UTO<<<<<<<<<<<2\n"
             "STEVENSON<<PETER<JOHN<<<<<<<<<")
# the published Vietnamese sample card (tests/devices/idcard/test_parsers.py)
VN = "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nUNG<<HOANG<HIEP<<<<<<<<<<<<<<<"


def test_icao_overflow_example_reads_the_whole_number_and_every_check_digit():
    m = parse_td1(ICAO_LONG, today=date(2000, 1, 1))
    assert m.document_number == "D23145890734"
    assert m.checks == {"document_number": True, "date_of_birth": True, "date_of_expiry": True, "composite": True}
    assert m.valid and m.optional1 == "" and m.id_number is None
    assert (m.date_of_birth, m.date_of_expiry) == (date(1934, 7, 12), date(1995, 7, 12))
    assert m.names == ("STEVENSON", "PETER JOHN")


def test_overflow_number_with_a_wrong_check_digit_is_reported():
    bad = ICAO_LONG.replace("D23145890<7349", "D23145890<7359", 1)
    m = parse_td1(bad, today=date(2000, 1, 1))
    assert m.document_number == "D23145890735" and not m.checks["document_number"] and not m.valid


@pytest.mark.parametrize("number", ["1234567890", "AB12345678901", "X" * 9 + "1234567890123", "P1"])
def test_compose_and_parse_roundtrip_for_any_number_length(number):
    text = compose_td1(number=number, birth=date(1990, 2, 3), sex="F", expiry=date(2031, 2, 2),
                       surname="NGUYEN", given="AN", optional1="" if len(number) > 14 else "OPT", state="UTO",
                       nationality="UTO", code="I")
    assert all(len(line) == 30 for line in text.split("\n"))
    m = parse_td1(text, today=date(2026, 1, 1))
    assert m.valid and m.document_number == number
    assert m.optional1 == ("" if len(number) > 14 else "OPT")


def test_overflow_key_seed_uses_the_whole_number_and_a_long_mrz_gives_that_key():
    """ICAO 9303-11 §9.7.1: the MRZ information is the full document number and its check digit;
    BAC with the truncated 9 characters would fail on the chip."""
    seed = key_seed_info("D23145890734", date(1934, 7, 12), date(1995, 7, 12))
    assert seed == "D23145890734" + "9" + "340712" + "7" + "950712" + "2"
    assert check_digit("D23145890734") == "9"
    assert AccessKey.from_mrz_lines(ICAO_LONG).mrz_info == seed
    assert AccessKey.from_mrz("D23145890734", date(1934, 7, 12), date(1995, 7, 12)).mrz_info == seed


def test_vietnamese_card_is_not_mistaken_for_an_overflow_and_keeps_its_short_number():
    m = parse_td1(VN)
    assert m.document_number == "093047064" and m.id_number == "001093047064" and m.valid
    assert m.checks["id_number"]
    assert AccessKey.from_mrz_lines(VN).mrz_info == key_seed_info("093047064", date(1993, 1, 5), date(2033, 1, 5))
    # a typed 12-digit ID still means the last 9 digits (the card's document number)
    assert AccessKey.from_mrz("001093047064", date(1993, 1, 5), date(2033, 1, 5)).mrz_info == \
        AccessKey.from_mrz_lines(VN).mrz_info


def test_a_filler_check_digit_without_overflow_digits_is_a_failed_check_not_an_overflow():
    text = compose_td1(number="123456789", birth=date(1990, 1, 1), sex="M", expiry=date(2030, 1, 1),
                       surname="A", given="B")
    l1, l2, l3 = text.split("\n")
    l1 = l1[:14] + "<" + l1[15:]
    m = parse_td1("\n".join((l1, l2, l3)))
    assert m.document_number == "123456789" and not m.checks["document_number"]


@pytest.mark.parametrize("today,yy,year", [
    (date(2026, 6, 1), 45, 2045),   # a card valid to 60 (22 years ahead at most)
    (date(2026, 6, 1), 56, 2056),   # the last year the window reaches: today + 30
    (date(2026, 6, 1), 57, 1957),   # beyond it: a document that expired long ago
    (date(2026, 6, 1), 20, 2020),   # expired six years ago reads as expired, not as 2120
    (date(2026, 6, 1), 99, 1999),   # the old rule read every expiry as 20yy: 2099
    (date(2081, 1, 1), 5, 2105),    # the window moves with the clock
    (date(2081, 1, 1), 11, 2111),
    (date(2081, 1, 1), 12, 2012),
    (date(2081, 1, 1), 30, 2030),
])
def test_expiry_century_window(today, yy, year):
    assert century_year(yy, future=True, today=today) == year
    assert today.year - 69 <= year <= today.year + EXPIRY_YEARS_AHEAD


@pytest.mark.parametrize("today,yymmdd,born", [
    (date(2026, 6, 1), "260531", date(2026, 5, 31)),   # born yesterday
    (date(2026, 6, 1), "260602", date(1926, 6, 2)),    # tomorrow's date this century is in the future
    (date(2026, 6, 1), "850512", date(1985, 5, 12)),
    (date(2026, 6, 1), "000229", date(2000, 2, 29)),
])
def test_birth_century_is_never_in_the_future(today, yymmdd, born):
    text = compose_td1(number="123456789", birth=born, sex="M", expiry=date(2030, 1, 1), surname="A", given="B")
    assert text.split("\n")[1][:6] == yymmdd
    assert parse_td1(text, today=today).date_of_birth == born


def test_expired_card_reads_as_expired_with_the_project_clock(clock):
    clock.set_now("2026-06-01T09:00")
    text = compose_td1(number="123456789", birth=date(1960, 1, 1), sex="M", expiry=date(2019, 12, 31),
                       surname="A", given="B")
    assert parse_td1(text).date_of_expiry == date(2019, 12, 31)
    clock.set_now("2090-06-01T09:00")     # 70 years on, '19' is the next century's
    assert parse_td1(text).date_of_expiry == date(2119, 12, 31)


def test_no_expiry_filler_is_none():
    text = compose_td1(number="058003307", birth=date(1958, 4, 1), sex="M", expiry=None, surname="DANG",
                       given="VAN KHAI", optional1="001058003307<<" + check_digit("001058003307"))
    m = parse_td1(text)
    assert m.date_of_expiry is None and m.valid


def test_the_vietnamese_builder_reproduces_the_published_sample_card_exactly():
    from devices.idcard.mrz import build_td1

    assert build_td1(id_number="001093047064", birth=date(1993, 1, 5), sex="M", expiry=date(2033, 1, 5),
                     surname="UNG", given="HOANG HIEP") == VN
