"""The maintenance PIN under guessing: 3 free tries, then a doubling wait, locked after 10."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from kiosk.config import hash_pin
from kiosk.pin_guard import LOCK_AFTER, PinGuard, wait_after

PIN_HASH = hash_pin("135790")


def test_three_free_tries_then_a_doubling_wait(tmp_path, clock):
    clock.freeze("2027-03-01T09:00")
    g = PinGuard(tmp_path / "pin.json", PIN_HASH)
    for n in (1, 2):
        v = g.check("000000")
        assert not v.ok and v.failures == n and v.wait_s == 0
    v = g.check("000000")
    assert v.failures == 3 and v.wait_s == 30
    # within the wait even the right PIN is not looked at, and the try does not count
    clock.advance(10)
    v = g.check("135790")
    assert not v.ok and 19 < v.wait_s <= 20 and v.failures == 3
    clock.advance(21)
    v = g.check("111111")
    assert v.failures == 4 and v.wait_s == 60
    clock.advance(61)
    assert g.check("135790").ok
    assert g.check("000000").failures == 1  # a right PIN starts the count again


def test_locked_after_ten_survives_a_restart_and_is_unlocked_by_the_cli(tmp_path, clock, caplog):
    clock.freeze("2027-03-01T09:00")
    g = PinGuard(tmp_path / "pin.json", PIN_HASH)
    with caplog.at_level(logging.WARNING, logger="kiosk.pin_guard"):
        for n in range(LOCK_AFTER):
            clock.advance(wait_after(n) + 1)
            v = g.check(f"{n:06d}")
    assert v.locked and v.failures == LOCK_AFTER
    assert "locked after 10 wrong tries" in caplog.text
    assert not any(f"{n:06d}" in caplog.text for n in range(LOCK_AFTER))  # never the PIN tried
    clock.advance(86400)
    again = PinGuard(tmp_path / "pin.json", PIN_HASH)  # the kiosk restarted
    assert again.check("135790").locked
    health = again.health()
    assert health.state.value == "needs_attention" and health.facts == {"failures": 10, "locked": True}

    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[paths]\ndata_dir = "{tmp_path}"\n[maintenance]\npin_hash = "{PIN_HASH}"\n', encoding="utf-8")
    (tmp_path / "maintenance-pin.json").write_bytes((tmp_path / "pin.json").read_bytes())
    out = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "config", "unlock-pin"],
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "10 wrong tries cleared" in out.stdout
    assert PinGuard(tmp_path / "maintenance-pin.json", PIN_HASH).check("135790").ok


def test_a_new_pin_starts_with_a_clean_count(tmp_path, clock):
    clock.freeze("2027-03-01T09:00")
    g = PinGuard(tmp_path / "pin.json", PIN_HASH)
    for _ in range(5):
        clock.advance(3600)
        g.check("000000")
    assert PinGuard(tmp_path / "pin.json", hash_pin("864200")).check("864200").ok


def test_guessing_reaches_the_province_in_the_heartbeat(tmp_path, clock):
    from kiosk.heartbeat import HeartbeatWorker

    clock.freeze("2027-03-01T09:00")
    g = PinGuard(tmp_path / "pin.json", PIN_HASH)
    for n in range(3):
        clock.advance(wait_after(n) + 1)
        g.check("000000")
    worker = HeartbeatWorker(client=None, collect=lambda: [], kiosk_id="KIOSK-HN-01")
    worker.report("maintenance_pin", g.health(), title="maintenance PIN", title_vi="Mã PIN bảo trì")
    payload = worker.payload()
    assert payload["devices"]["maintenance_pin"]["state"] == "needs_attention"
    assert "maintenance_pin" in payload["needs_visit"] and "000000" not in str(payload)
