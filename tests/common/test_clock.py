"""common.clock: KIOSK_NOW for whole commands, set_now/freeze for a test, and which one wins."""
from __future__ import annotations

from datetime import timedelta

from common import clock as c


def test_the_environment_starts_the_clock_and_a_caller_overrides_it(clock, monkeypatch):
    monkeypatch.setenv(c.ENV_VAR, "2027-03-01T08:00")
    clock.reset()
    assert c.now().date().isoformat() == "2027-03-01" and c.is_set()
    c.freeze("2028-02-29T15:01")  # a test's own instant wins over the environment's
    assert c.now() == c.parse_instant("2028-02-29T15:01")
    c.advance(timedelta(minutes=59))
    assert c.now() == c.parse_instant("2028-02-29T16:00")
    c.reset()  # back to the environment's instant
    assert c.today().isoformat() == "2027-03-01"
    monkeypatch.setenv(c.ENV_VAR, "2030-01-02T09:00")  # a changed value starts the clock again
    assert c.today().isoformat() == "2030-01-02"
    monkeypatch.delenv(c.ENV_VAR)
    assert not c.is_set() and c.now().year < 2030


def test_instants_are_vietnam_local_time(clock):
    assert c.parse_instant("2027-12-31T23:59").utcoffset() == timedelta(hours=7)
    assert c.parse_instant("2027-12-31T16:59+00:00") == c.parse_instant("2027-12-31T23:59")
    assert c.parse_instant("2027-12-31").isoformat() == "2027-12-31T00:00:00+07:00"
    c.set_now("2027-12-31T23:59:59")
    assert c.stamp().startswith("20271231-2359")
