"""The one "now" of the project, in Vietnam's local time (Asia/Ho_Chi_Minh, UTC+7, no DST).

Every calendar question — today's date, a dossier's time of receipt, a date limit on a form, a
certificate's validity, a receipt's timestamp — asks this module, so that tests, the demo,
previews and media generation can run at any instant without touching the machine's clock:

- production reads the system clock;
- ``KIOSK_NOW=2027-03-01T08:00`` (or ``kiosk --now …``) starts the clock at that instant and lets
  it run on from there (a naive time is Vietnam local time; ``…+00:00`` etc. is honoured);
- tests call :func:`set_now` / :func:`freeze` / :func:`advance` / :func:`reset` (the ``clock``
  fixture in ``tests/conftest.py`` does it and resets afterwards).

Timers and timeouts keep ``time.monotonic()``: they measure durations, not dates.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime, timedelta, timezone

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # a machine without tzdata: UTC+7 has been exact since 1975
    VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

ENV_VAR = "KIOSK_NOW"

_lock = threading.Lock()
# (anchor instant, monotonic reading at the anchor, frozen?, the KIOSK_NOW text it came from or
# None when a caller set it) — or None: the system clock
_override: tuple[datetime, float, bool, str | None] | None = None


def parse_instant(text: str) -> datetime:
    """``2027-03-01``, ``2027-03-01 08:00``, ``2027-03-01T08:00:00+07:00`` → an aware datetime.

    A time without an offset is Vietnam local time. Raises ``ValueError`` with a plain message."""
    raw = str(text).strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"not a date/time: {raw!r} (expected e.g. 2027-03-01T08:00 or 2027-03-01)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(VN_TZ)


def set_now(instant: datetime | str, *, frozen: bool = False) -> None:
    """Make "now" ``instant``; it runs on from there unless ``frozen``."""
    global _override
    value = parse_instant(instant) if isinstance(instant, str) else instant
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    with _lock:
        _override = (value.astimezone(VN_TZ), time.monotonic(), frozen, None)


def freeze(instant: datetime | str) -> None:
    """Make "now" ``instant`` and keep it there until :func:`advance`, :func:`set_now` or :func:`reset`."""
    set_now(instant, frozen=True)


def advance(delta: timedelta | float) -> None:
    """Move the clock forward (seconds or a timedelta); starts from the system time if unset."""
    step = delta if isinstance(delta, timedelta) else timedelta(seconds=float(delta))
    current, frozen = now(), bool(_override and _override[2])
    set_now(current + step, frozen=frozen)


def reset() -> None:
    """Back to the system clock (or to ``KIOSK_NOW`` if the environment sets it)."""
    global _override
    with _lock:
        _override = None


def is_set() -> bool:
    return _current() is not None


def _current() -> tuple[datetime, float, bool, str | None] | None:
    """The override in force. ``KIOSK_NOW`` applies while no caller has set the clock (a test's
    ``set_now``/``freeze`` wins over the environment); a changed value starts the clock again."""
    global _override
    raw = os.environ.get(ENV_VAR) or None
    with _lock:
        if _override is not None and _override[3] is None:
            return _override  # set by a caller
        if raw is None:
            _override = None
        elif _override is None or _override[3] != raw:
            _override = (parse_instant(raw), time.monotonic(), False, raw)
        return _override


def now() -> datetime:
    """The current instant, aware, in Vietnam local time, whole seconds."""
    override = _current()
    if override is None:
        return datetime.now(VN_TZ).replace(microsecond=0)
    anchor, mono, frozen, _ = override
    if frozen:
        return anchor.replace(microsecond=0)
    return (anchor + timedelta(seconds=time.monotonic() - mono)).replace(microsecond=0)


def today() -> date:
    """Today's date in Vietnam."""
    return now().date()


def now_utc() -> datetime:
    return now().astimezone(timezone.utc)


def timestamp() -> float:
    """Seconds since the epoch of :func:`now` (for file ages and the like)."""
    return now().timestamp()


def stamp() -> str:
    """``20270301-080000``: for file and folder names."""
    return now().strftime("%Y%m%d-%H%M%S")

