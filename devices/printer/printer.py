"""The printer: layouts → bytes → transport, with status checks and a spool so no job is lost.

A job is written to the spool folder before any byte is sent and removed only once it went out
and the printer (where it can tell) still has paper and a closed cover. A job that could not
print stays there, named in the raised :class:`PrinterError`, for :meth:`Printer.reprint`.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from common import clock

from . import document, layout, status as st
from .backends import SimTransport, Transport
from .errors import PrinterError
from .profiles import Profile
from common.health import Health, State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintJob:
    job_id: str
    bytes_sent: int
    png_path: Path | None = None
    layout: str = ""


def _new_job_id() -> str:
    return clock.stamp() + "-" + secrets.token_hex(3)


class Printer:
    def __init__(self, transport: Transport, profile: Profile, spool_dir: str | Path | None = None):
        self.transport = transport
        self.profile = profile
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self._open = False
        # one job or status exchange at a time: the kiosk prints from worker threads, and
        # interleaved bytes would corrupt both jobs
        self._lock = threading.RLock()
        self._silent_until = 0.0  # a printer that ignored DLE EOT is not asked again for a while

    # --- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        try:
            self.transport.open()
        except (OSError, ValueError) as exc:
            raise PrinterError(code="unreachable", detail=f"{self.transport.describe()}: {exc}") from None
        self._open = True

    def close(self) -> None:
        with self._lock:
            self.transport.close()
            self._open = False
            self._silent_until = 0.0

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # --- status ------------------------------------------------------------------------------
    SILENT_RETRY_S = 60.0

    def status(self) -> st.PrinterStatus:
        if not self.transport.can_read:
            return st.PrinterStatus(detail=f"{self.transport.name} backend cannot read printer status")
        with self._lock:
            if time.monotonic() < self._silent_until:
                return st.PrinterStatus(reachable=True, detail="the printer did not answer DLE EOT (status unknown)")
            raw: dict[int, int | None] = {}
            try:
                for n in st.QUERIES:
                    raw[n] = self.transport.query(n)
                    if raw[n] is None:
                        # no answer within the timeout: asking the other questions would only
                        # multiply the wait (vendors that ignore DLE EOT ignore all of it)
                        self._silent_until = time.monotonic() + self.SILENT_RETRY_S
                        break
            except OSError as exc:
                return st.PrinterStatus(reachable=False, raw=raw, detail=f"{type(exc).__name__}: {exc}")
            result = st.parse(raw)
            if not any(st.valid(v) for v in raw.values()):
                result.detail = "the printer did not answer DLE EOT (status unknown)"
            return result

    def health(self) -> Health:
        facts: dict[str, Any] = {"backend": self.transport.describe(), "profile": self.profile.name,
                                 "spooled_jobs": len(self.pending())}
        s = self.status()
        facts["status"] = s.as_dict()
        if s.reachable is False:
            return Health(State.FAILED, f"cannot reach the printer: {s.detail}",
                          "check the cable / network and that the printer is switched on", facts)
        if s.cover_open:
            return Health(State.NEEDS_ATTENTION, "printer cover is open", "close the printer cover", facts)
        if s.paper == "out":
            return Health(State.NEEDS_ATTENTION, "printer is out of paper", "load a new paper roll", facts)
        if s.online is False:
            return Health(State.NEEDS_ATTENTION, "printer reports offline", "check the printer's error light", facts)
        if s.paper == "near_end":
            return Health(State.NEEDS_ATTENTION, "paper roll nearly empty", "replace the paper roll soon", facts)
        if facts["spooled_jobs"]:
            return Health(State.NEEDS_ATTENTION, f"{facts['spooled_jobs']} job(s) waiting for reprint",
                          "run `kiosk print reprint` once the printer is ready", facts)
        if not s.known:
            return Health(State.OK, f"connected; paper and cover status unknown ({s.detail})", "", facts)
        return Health(State.OK, "ready", "", facts)

    # --- printing ----------------------------------------------------------------------------
    def render(self, name: str, data: dict[str, Any]) -> bytes:
        return document.encode(layout.build(name, data, self.profile), self.profile)

    def preview(self, name: str, data: dict[str, Any]) -> Image.Image:
        return document.preview(layout.build(name, data, self.profile), self.profile)

    def print_layout(self, name: str, data: dict[str, Any]) -> PrintJob:
        """Print a layout. Raises LayoutError (bad data, nothing spooled) or PrinterError (the
        job is spooled; ``err.job_id`` names it)."""
        return self.print_bytes(self.render(name, data), layout_name=name)

    def print_bytes(self, payload: bytes, layout_name: str = "raw") -> PrintJob:
        job_id = _new_job_id()
        with self._lock:
            self._spool(job_id, payload, layout_name)
            return self._send(job_id, payload, layout_name)

    def pending(self) -> list[str]:
        if not self.spool_dir or not self.spool_dir.is_dir():
            return []
        return sorted(p.stem for p in self.spool_dir.glob("*.bin"))

    def reprint(self, job_id: str | None = None) -> list[PrintJob]:
        """Send spooled jobs (one, or all oldest first). Stops at the first failure, which is
        raised; jobs not printed stay spooled."""
        with self._lock:
            ids = [job_id] if job_id else self.pending()
            if job_id and job_id not in self.pending():
                raise PrinterError(code="no_job", detail=job_id)
            done = []
            for jid in ids:
                payload = (self.spool_dir / f"{jid}.bin").read_bytes()
                meta = self._meta(jid)
                done.append(self._send(jid, payload, meta.get("layout", "raw")))
            return done

    # --- internals ---------------------------------------------------------------------------
    def _meta(self, job_id: str) -> dict[str, Any]:
        try:
            return json.loads((self.spool_dir / f"{job_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _spool(self, job_id: str, payload: bytes, layout_name: str) -> None:
        if not self.spool_dir:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # jobs hold names: not world-readable
        tmp = self.spool_dir / f".{job_id}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.spool_dir / f"{job_id}.bin")
        meta = {"layout": layout_name, "bytes": len(payload), "spooled_at": clock.now().isoformat(timespec="seconds")}
        (self.spool_dir / f"{job_id}.json").write_text(json.dumps(meta), encoding="utf-8")

    def _unspool(self, job_id: str) -> None:
        if self.spool_dir:
            for ext in (".bin", ".json"):
                (self.spool_dir / f"{job_id}{ext}").unlink(missing_ok=True)

    def _check(self, job_id: str, when: str, after: bool = False) -> None:
        s = self.status()
        kept = job_id if self.spool_dir else None
        if s.reachable is False:
            if after:
                # every byte was accepted; only the question afterwards failed. Printing it
                # again could hand out two receipts, so the job counts as printed.
                log.warning("printer job %s sent, but the status check after it failed", job_id)
                return
            raise PrinterError(code="unreachable", detail=f"{when}: {s.detail}", job_id=kept)
        if s.paper == "out":
            raise PrinterError(code="paper_out", detail=when, job_id=kept)
        if s.cover_open:
            raise PrinterError(code="cover_open", detail=when, job_id=kept)
        if s.online is False:
            raise PrinterError(code="offline", detail=when, job_id=kept)

    def _send(self, job_id: str, payload: bytes, layout_name: str) -> PrintJob:
        self._check(job_id, "before printing")
        try:
            if not self._open:
                self.open()
            self.transport.write(payload)
        except PrinterError as exc:
            exc.job_id = job_id if self.spool_dir else None
            raise
        except OSError as exc:
            log.warning("printer job %s not sent: %s", job_id, type(exc).__name__)
            raise PrinterError(code="unreachable", detail=f"{self.transport.describe()}: {exc}",
                               job_id=job_id if self.spool_dir else None) from None
        # a printer that ran out of paper mid-job stops printing: keep the job for a reprint
        self._check(job_id, "after printing", after=True)
        png = self.transport.job_done(job_id)
        self._unspool(job_id)
        log.info("printed job %s (%s, %d bytes)", job_id, layout_name, len(payload))
        return PrintJob(job_id, len(payload), png, layout_name)

    # --- simulation (sim backend only) -------------------------------------------------------
    def simulate(self, *, paper: str | None = None, cover_open: bool | None = None,
                 online: bool | None = None) -> None:
        """Put the simulated printer in a state (paper ok / near_end / out, cover, online)."""
        if not isinstance(self.transport, SimTransport):
            raise TypeError("simulate() exists only on the sim backend")
        self.transport.model.set_state(paper=paper, cover_open=cover_open, online=online)
