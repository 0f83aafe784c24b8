"""The technician PIN under guessing: back-off after 3 wrong tries, lock-out after 10. Kivy-free.

A 6-digit PIN has a million values; a person at the kiosk could otherwise try them all behind the
hidden gesture. After ``FREE_TRIES`` wrong PINs in a row each further try waits ``30 s · 2^(n-3)``
(30 s, 1 min, 2 min … ~32 min before the 10th); after ``LOCK_AFTER`` the maintenance screen is
locked until a technician with shell access runs ``kiosk config unlock-pin`` (or the PIN changes).
The count survives a restart (a file under the data folder), every refusal is logged without the
PIN, and the heartbeat carries the state so the province sees someone guessing.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from common import clock
from common.files import write_atomic
from common.health import Health, State
from kiosk.config import verify_pin

log = logging.getLogger(__name__)

FREE_TRIES = 3
LOCK_AFTER = 10
BASE_WAIT_S = 30.0


def wait_after(failures: int) -> float:
    """Seconds to wait before the next try after ``failures`` wrong PINs in a row."""
    return 0.0 if failures < FREE_TRIES else BASE_WAIT_S * 2 ** (failures - FREE_TRIES)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    failures: int = 0
    wait_s: float = 0.0      # > 0: not checked, try again after this many seconds
    locked: bool = False


class PinGuard:
    def __init__(self, state_file: str | os.PathLike, pin_hash: str):
        self.path = Path(state_file)
        self.pin_hash = pin_hash
        self._lock = threading.Lock()

    # --- state on disk -------------------------------------------------------------------------
    def _load(self) -> dict:
        try:
            s = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"failures": 0, "last": 0.0, "locked": False}
        if s.get("pin_hash_tail") != self.pin_hash[-12:]:
            return {"failures": 0, "last": 0.0, "locked": False}  # a new PIN was set: a fresh start
        return s

    def _save(self, s: dict) -> None:
        s["pin_hash_tail"] = self.pin_hash[-12:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a power cut must not leave a half-written file that resets the failure count
        write_atomic(self.path, json.dumps(s).encode("utf-8"))

    # --- the check -----------------------------------------------------------------------------
    def check(self, pin: str) -> Verdict:
        with self._lock:
            s = self._load()
            if s.get("locked"):
                return Verdict(False, s["failures"], locked=True)
            wait = s["last"] + wait_after(s["failures"]) - clock.timestamp()
            if wait > 0:
                return Verdict(False, s["failures"], wait_s=wait)  # not even looked at
            if verify_pin(pin, self.pin_hash):
                if s["failures"]:
                    log.info("maintenance PIN accepted after %d wrong tries", s["failures"])
                self._save({"failures": 0, "last": 0.0, "locked": False})
                return Verdict(True)
            s["failures"] += 1
            s["last"] = clock.timestamp()
            s["locked"] = s["failures"] >= LOCK_AFTER
            self._save(s)
            if s["locked"]:
                log.error("maintenance PIN locked after %d wrong tries in a row", s["failures"])
            else:
                log.warning("maintenance PIN refused (%d wrong in a row)", s["failures"])
            return Verdict(False, s["failures"], wait_s=wait_after(s["failures"]), locked=s["locked"])

    def unlock(self) -> int:
        """Clear the count (``kiosk config unlock-pin``); returns the count it cleared."""
        with self._lock:
            failures = self._load()["failures"]
            self._save({"failures": 0, "last": 0.0, "locked": False})
        log.warning("maintenance PIN unlocked by a technician (%d wrong tries cleared)", failures)
        return failures

    def health(self) -> Health:
        s = self._load()
        facts = {"failures": s["failures"], "locked": bool(s.get("locked"))}
        if s.get("locked"):
            return Health(State.NEEDS_ATTENTION, f"maintenance PIN locked after {s['failures']} wrong tries",
                          "someone guessed the PIN: check the kiosk, then `kiosk config unlock-pin`", facts)
        if s["failures"] >= FREE_TRIES:
            return Health(State.NEEDS_ATTENTION, f"{s['failures']} wrong maintenance PINs in a row", "", facts)
        return Health(State.OK, "no PIN guessing", "", facts)


def guard_for(cfg) -> PinGuard:
    return PinGuard(Path(cfg["paths"]["data_dir"]) / "maintenance-pin.json", cfg["maintenance"]["pin_hash"])
