"""Queue numbers reserved for this kiosk to give while the centre's queue cannot be reached.

Central hands each kiosk blocks of numbers from the same per-day sequence its online tickets
come from (``POST /api/v1/queue/blocks``), so a number given offline never duplicates one given
online or by another kiosk. The blocks are kept in one small JSON file in the data dir, written
atomically (temporary file, fsync, rename, fsync of the folder): a number taken is never given
twice, even across a power cut. Blocks are for one day (Vietnam time): the next day's first
reservation starts a new file content, and numbers of an earlier day are never given.
Nothing personal is kept here.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from common import clock
from common.files import write_atomic

log = logging.getLogger(__name__)

BLOCK_SIZE = 20  # numbers per reservation; a new one is asked for when fewer than half remain


class QueueBlocks:
    def __init__(self, path: str | os.PathLike, size: int = BLOCK_SIZE):
        self.path = Path(path)
        self.size = size
        self._lock = threading.Lock()

    # --- the file ------------------------------------------------------------------------------
    def _load(self) -> dict:
        today = clock.today().isoformat()
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            state = {}
        except (OSError, ValueError) as exc:
            # unreadable: start empty (numbers of a lost file stay unused; central never reuses them)
            log.error("queue blocks file unreadable, starting empty: %s", type(exc).__name__)
            state = {}
        if not isinstance(state, dict) or state.get("day") != today or not isinstance(state.get("services"), dict):
            state = {"day": today, "services": {}}
        return state

    def _save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(state, ensure_ascii=False).encode("utf-8"))

    # --- reading -------------------------------------------------------------------------------
    def remaining(self, service_id: str) -> int:
        with self._lock:
            entry = self._load()["services"].get(service_id) or {}
        return sum(last - first + 1 for first, last in entry.get("free", []))

    def needs_more(self, service_id: str) -> bool:
        """Fewer than half a block left (for today): time to reserve another."""
        return self.remaining(service_id) < (self.size + 1) // 2

    # --- changing ------------------------------------------------------------------------------
    def add(self, service_id: str, block: dict) -> None:
        """Keep a block central reserved (``prefix``, ``day``, ``first``, ``last``); a block of
        another day than today is not kept."""
        with self._lock:
            state = self._load()
            if block.get("day") != state["day"]:
                log.warning("queue block for %s is of day %s, not today: not kept", service_id, block.get("day"))
                return
            entry = state["services"].setdefault(service_id, {"prefix": block["prefix"], "free": []})
            entry["prefix"] = block["prefix"]
            rng = [int(block["first"]), int(block["last"])]
            if rng not in entry["free"]:
                entry["free"].append(rng)
                entry["free"].sort()
            self._save(state)

    def take(self, service_id: str) -> tuple[str, str, int] | None:
        """The next reserved number of today for ``service_id``: (day, prefix, seq), written as
        taken before it is returned; None when none is left."""
        with self._lock:
            state = self._load()
            entry = state["services"].get(service_id)
            if not entry or not entry.get("free"):
                return None
            first, last = entry["free"][0]
            if first >= last:
                entry["free"].pop(0)
            else:
                entry["free"][0] = [first + 1, last]
            self._save(state)
            return state["day"], entry["prefix"], first
