"""Working days for appointment dates: weekends and Vietnamese public holidays (lunar ones
included — Tết, Hùng Kings) are skipped, using the `holidays` package's Vietnam calendar.

The count starts on the day the dossier is received when that is a working day (and, where the
flow has a receipt cut-off such as 15:00, it arrived before the cut-off); otherwise on the next
working day. ``days`` working days are then added: 3 days from Monday morning is Thursday, 0 days
(same-day procedures) is the first counting day itself.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as _holidays

from common.clock import VN_TZ


@lru_cache(maxsize=64)
def _year(year: int) -> frozenset[date]:
    return frozenset(_holidays.country_holidays("VN", years=year).keys())


def is_holiday(day: date) -> bool:
    return day in _year(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _parse_cutoff(cutoff) -> time | None:
    if cutoff is None or isinstance(cutoff, time):
        return cutoff
    hh, mm = str(cutoff).split(":")
    return time(int(hh), int(mm))


def add_working_days(start: datetime | date, days: int, cutoff: time | str | None = None) -> date:
    """The date ``days`` working days after ``start`` (see the module docstring).

    ``cutoff``: a local time ("15:00"); a dossier received after it counts from the next working
    day. A naive ``start`` is Vietnam local time, an aware one is converted to it; a ``date``
    means "received at opening time".
    """
    if days < 0:
        raise ValueError("days must be 0 or more")
    if isinstance(start, datetime):
        if start.tzinfo is not None:  # an aware time (e.g. UTC from a server) counts in Vietnam's time
            start = start.astimezone(VN_TZ)
        # minutes, as the receipt prints them: "15 giờ 00 phút" is not after a 15:00 cut-off
        day, at = start.date(), start.time().replace(second=0, microsecond=0)
    else:
        day, at = start, time(0, 0)
    limit = _parse_cutoff(cutoff)
    if not is_working_day(day) or (limit is not None and at > limit):
        day = next_working_day(day)
    for _ in range(days):
        day = next_working_day(day)
    return day


def appointment_date(received: datetime, processing_days: int, cutoff: time | str | None = None) -> date:
    """THE date a dossier's result is due. The guide, the review screen, the receipt and the
    central system all call this one function, so they cannot disagree.

    ``received``: when the citizen submitted (an aware time is converted to Vietnam's; a naive
    one is Vietnam local time). ``cutoff``: the flow's ``receipt_cutoff`` ("15:00"): a dossier
    received after it counts from the next working day, so a same-day procedure filed at 16:00
    on a Tuesday is due on Wednesday."""
    return add_working_days(received, int(processing_days or 0), cutoff)


def processing_text(processing_days: int, cutoff: str | None, lang: str = "vi") -> str:
    """How long the procedure takes, in words a citizen understands ("Trả kết quả trong ngày nếu
    nộp trước 15:00" rather than "0 ngày làm việc")."""
    days = int(processing_days or 0)
    if lang == "vi":
        if days == 0:
            return "Trả kết quả trong ngày" + (f" (nộp sau {cutoff} thì trả vào ngày làm việc sau)" if cutoff else "")
        text = f"Thời hạn giải quyết: {days} ngày làm việc"
        return text + (f", tính từ ngày làm việc sau nếu nộp sau {cutoff}" if cutoff else "")
    if days == 0:
        return "Result the same day" + (f" (filed after {cutoff}: the next working day)" if cutoff else "")
    text = f"Processing time: {days} working day{'s' if days != 1 else ''}"
    return text + (f", counted from the next working day if filed after {cutoff}" if cutoff else "")


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b`` (0 when b <= a)."""
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        n += is_working_day(d)
    return n
