"""One appointment date, at the instants that break naive date code.

Every place that shows when a result is due (guide, review, receipt, central) calls
``flows.calendar.appointment_date``; these pin what it answers for the three kinds of shipped
procedure: same day with a 15:00 cut-off (chứng thực bản sao), 3 working days (tạm trú) and
7 working days (thường trú). Holidays come from the locked ``holidays`` package (Vietnam)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import flows
from common import clock
from flows.calendar import appointment_date, processing_text

DEFINITIONS = Path(__file__).resolve().parents[2] / "flows" / "definitions"

# (label, received at, local time) → due dates for (same day + 15:00 cut-off, 3 days, 7 days)
SWEEP = [
    ("1st of a month, 08:00", "2027-03-01T08:00", date(2027, 3, 1), date(2027, 3, 4), date(2027, 3, 10)),
    ("Friday 15:01, after the cut-off", "2027-03-05T15:01", date(2027, 3, 8), date(2027, 3, 10), date(2027, 3, 16)),
    ("Friday 14:59, before the cut-off", "2027-03-05T14:59", date(2027, 3, 5), date(2027, 3, 10), date(2027, 3, 16)),
    # 1/1/2028 is a Saturday, so Monday 3/1 is the observed New Year holiday
    ("31 December 23:59", "2027-12-31T23:59", date(2028, 1, 4), date(2028, 1, 6), date(2028, 1, 12)),
    ("29 February 2028", "2028-02-29T10:00", date(2028, 2, 29), date(2028, 3, 3), date(2028, 3, 9)),
    # Tết Đinh Mùi: 4–10 February 2027 are holidays; Wednesday 3 February is the last working day
    ("last working day before Tết 2027", "2027-02-03T10:00", date(2027, 2, 3), date(2027, 2, 15), date(2027, 2, 19)),
    ("Tết's eve 2027 (a holiday)", "2027-02-05T09:00", date(2027, 2, 11), date(2027, 2, 16), date(2027, 2, 22)),
    ("2 January 2028, Sunday before the observed holiday", "2028-01-02T10:00", date(2028, 1, 4), date(2028, 1, 7),
     date(2028, 1, 13)),
    ("2 January 2027, a Saturday of another year's holiday set", "2027-01-02T10:00", date(2027, 1, 4), date(2027, 1, 7),
     date(2027, 1, 13)),
    ("submitted 00:01 on New Year's Day", "2028-01-01T00:01", date(2028, 1, 4), date(2028, 1, 7), date(2028, 1, 13)),
]
IDS = [s[0] for s in SWEEP]


@pytest.fixture(scope="module")
def shipped():
    reg = flows.load_registry(DEFINITIONS)
    return {f.id: f for f in reg.flows}


@pytest.mark.parametrize("label,at,same_day,three,seven", SWEEP, ids=IDS)
def test_appointment_date_at_instants_that_break_naive_code(label, at, same_day, three, seven):
    received = clock.parse_instant(at)
    assert appointment_date(received, 0, "15:00") == same_day
    assert appointment_date(received, 3, None) == three
    assert appointment_date(received, 7, None) == seven


@pytest.mark.parametrize("label,at,same_day,three,seven", SWEEP, ids=IDS)
def test_the_engine_of_each_shipped_kind_gives_the_same_date(shipped, clock, label, at, same_day, three, seven):
    clock.freeze(at)
    for flow_id, due in (("chung-thuc-ban-sao", same_day), ("tam-tru", three), ("thuong-tru", seven)):
        engine = flows.FlowEngine(shipped[flow_id], today=clock.today())
        assert engine.appointment_date(clock.now()) == due, flow_id


def test_the_same_instant_in_utc_or_naive_local_time_gives_the_same_date():
    local = clock.parse_instant("2027-03-05T15:01")
    assert appointment_date(local.astimezone(timezone.utc), 0, "15:00") == date(2027, 3, 8)
    assert appointment_date(local.replace(tzinfo=None), 0, "15:00") == date(2027, 3, 8)
    # 08:01 UTC is 15:01 in Hà Nội: a server on UTC must not count it as morning
    assert appointment_date(datetime(2027, 3, 5, 8, 1, tzinfo=timezone.utc), 0, "15:00") == date(2027, 3, 8)


def test_the_cut_off_minute_itself_still_counts_the_same_day():
    """Counted in whole minutes, as the receipt prints the time: a receipt that says
    "15 giờ 00 phút" must not carry the next day's date for a 15:00 cut-off."""
    assert appointment_date(clock.parse_instant("2027-03-05T15:00"), 0, "15:00") == date(2027, 3, 5)
    assert appointment_date(clock.parse_instant("2027-03-05T15:00:59"), 0, "15:00") == date(2027, 3, 5)
    assert appointment_date(clock.parse_instant("2027-03-05T15:01:00"), 0, "15:00") == date(2027, 3, 8)


def test_the_guide_says_same_day_in_words_not_zero_days():
    assert processing_text(0, "15:00", "vi") == "Trả kết quả trong ngày (nộp sau 15:00 thì trả vào ngày làm việc sau)"
    assert processing_text(0, "15:00", "en") == "Result the same day (filed after 15:00: the next working day)"
    assert processing_text(3, None, "vi") == "Thời hạn giải quyết: 3 ngày làm việc"
    assert processing_text(1, None, "en") == "Processing time: 1 working day"
    assert "0 ngày" not in processing_text(0, None, "vi")


def test_a_visit_that_starts_before_midnight_and_submits_after_it(shipped, clock):
    """Started at 23:58 on 31 December (a Friday), submitted at 00:01 on New Year's Day: the
    form's "today" stays the visit's, the due date counts from the submission."""
    clock.set_now("2027-12-31T23:58")
    engine = flows.FlowEngine(shipped["tam-tru"], today=clock.today())
    assert engine.today == date(2027, 12, 31)
    assert engine.appointment_date(clock.now()) == date(2028, 1, 6)  # what the review screen shows at 23:58
    clock.advance(timedelta(minutes=3))
    assert clock.now() == clock.parse_instant("2028-01-01T00:01")
    assert engine.appointment_date(clock.now()) == date(2028, 1, 7)  # what the receipt says after midnight
    assert engine.today == date(2027, 12, 31)
