"""The runner: a hanging or crashing check fails on its own; personal data never leaves a check."""
from __future__ import annotations

import threading

from common.health import Health, State
from kiosk.diagnostics import EXIT_FAILED, EXIT_NEEDS_ATTENTION, EXIT_OK, Options, exit_code, host, run, run_all
from kiosk.diagnostics.result import CheckResult


def test_hanging_check_fails_with_timeout(make_cfg, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(host, "check_disk", lambda cfg, opts: release.wait(30))
    r = run(make_cfg(), "disk", Options(timeout_s=0.3))
    release.set()
    assert r.state is State.FAILED and "no answer within" in r.health.detail


def test_crashing_check_fails_with_reason(make_cfg, monkeypatch):
    def boom(cfg, opts):
        raise ZeroDivisionError("bad sensor maths")

    monkeypatch.setattr(host, "check_memory", boom)
    r = run(make_cfg(), "memory")
    assert r.state is State.FAILED and "ZeroDivisionError" in r.health.detail


def test_personal_data_in_a_check_is_redacted(make_cfg, monkeypatch):
    monkeypatch.setattr(host, "check_disk", lambda cfg, opts: Health(
        State.OK, "last card Trần Thị Ngọc Ánh 001185012345", "", {"note": "born 12/05/1985"}))
    r = run(make_cfg(), "disk")
    text = repr(r.as_dict())
    assert "Ngọc Ánh" not in text and "001185012345" not in text and "12/05/1985" not in text


def test_run_all_order_and_device_filter(make_cfg):
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": True}})
    names = [r.name for r in run_all(cfg, devices=False)]
    assert names == ["network", "outbox", "disk", "memory", "temperature", "versions"]


def _r(state):
    return CheckResult("x", "X", "X", Health(state))


def test_exit_codes():
    assert exit_code([_r(State.OK), _r(State.NOT_READY)]) == EXIT_OK == 0
    assert exit_code([_r(State.OK), _r(State.NEEDS_ATTENTION)]) == EXIT_NEEDS_ATTENTION == 3
    assert exit_code([_r(State.NEEDS_ATTENTION), _r(State.FAILED)]) == EXIT_FAILED == 1


def test_vietnamese_line_has_diacritics():
    r = CheckResult("printer", "Printer", "Máy in", Health(State.NEEDS_ATTENTION))
    assert r.line_vi() == "Máy in: Cần kỹ thuật viên kiểm tra"
    assert r.as_dict()["message_vi"] == "Cần kỹ thuật viên kiểm tra"
