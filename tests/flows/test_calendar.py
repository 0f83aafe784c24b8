"""Working days: weekends, Vietnamese public holidays (Tết 2027 included) and the 15:00 cut-off."""
from __future__ import annotations

from datetime import date, datetime

from flows.calendar import add_working_days, is_working_day, next_working_day, working_days_between


def test_weekend_skipped():
    # Thursday 2026-12-03 + 3 working days → Tuesday 12-08
    assert add_working_days(datetime(2026, 12, 3, 9, 0), 3) == date(2026, 12, 8)
    # received on Saturday: counting starts on Monday
    assert add_working_days(datetime(2026, 12, 5, 9, 0), 0) == date(2026, 12, 7)
    assert add_working_days(datetime(2026, 12, 5, 9, 0), 1) == date(2026, 12, 8)


def test_tet_2027_skipped():
    # Tết Đinh Mùi: 2027-02-04 … 02-10 are holidays (lunar New Year 2027-02-06)
    for d in range(4, 11):
        assert not is_working_day(date(2027, 2, d)), d
    assert is_working_day(date(2027, 2, 3)) and is_working_day(date(2027, 2, 11))
    # received Wednesday 2027-02-03, 3 working days: Thu 11, Fri 12, Mon 15
    assert add_working_days(datetime(2027, 2, 3, 9, 0), 3) == date(2027, 2, 15)
    assert next_working_day(date(2027, 2, 3)) == date(2027, 2, 11)


def test_cutoff_counts_from_next_working_day():
    assert add_working_days(datetime(2026, 12, 4, 14, 59), 0, "15:00") == date(2026, 12, 4)
    assert add_working_days(datetime(2026, 12, 4, 15, 1), 0, "15:00") == date(2026, 12, 7)
    # without a cut-off, the afternoon still counts as the day received
    assert add_working_days(datetime(2026, 12, 4, 16, 0), 0) == date(2026, 12, 4)


def test_fixed_holidays():
    assert not is_working_day(date(2027, 9, 2))      # National Day
    assert not is_working_day(date(2027, 4, 16))     # Hùng Kings (10th of the 3rd lunar month)
    assert add_working_days(datetime(2027, 4, 29, 9), 1) == date(2027, 5, 4)  # 30/4, 1/5, weekend, 3/5 observed


def test_working_days_between():
    assert working_days_between(date(2027, 2, 3), date(2027, 2, 15)) == 3
    assert working_days_between(date(2027, 2, 15), date(2027, 2, 3)) == 0


def test_aware_times_count_in_vietnam():
    from datetime import timezone

    # 2026-12-04 08:30 UTC is 15:30 in Hà Nội: after the cut-off
    assert add_working_days(datetime(2026, 12, 4, 8, 30, tzinfo=timezone.utc), 0, "15:00") == date(2026, 12, 7)
    # Sunday 20:00 UTC is already Monday morning in Hà Nội
    assert add_working_days(datetime(2026, 12, 6, 20, 0, tzinfo=timezone.utc), 0) == date(2026, 12, 7)
