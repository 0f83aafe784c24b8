"""The printer: layouts → bytes → transport, with status checks and a spool so no job is lost.

The spool rule: a job is written to the spool folder before any byte is sent, and removed only
after the printer reported it could print it: a valid DLE EOT answer, asked after the job's last
byte went out, that says online and no paper out, cover open or error. Anything else keeps the
job, named in the raised :class:`PrinterError` (``err.job_id``), for :meth:`Printer.reprint`:

- trouble known before the job (unreachable, paper out, cover open, offline, an error): nothing
  is sent, the code says which;
- not every byte could be sent (``unreachable``; the job is reprinted whole: a torn receipt is no
  receipt);
- every byte went out and the answer after it says paper out, cover open, offline or an error;
- every byte went out and no valid answer came after it (a silent printer, a link that dropped):
  ``no_status``. The receipt may well be on the paper, so staff look before they reprint (or
  ``discard`` the job). The rule used to be the opposite ("every byte was accepted, only the
  question afterwards failed: counts as printed, to avoid two receipts"), which dropped jobs a
  printer never printed; a second receipt a member of staff chose to print costs less than a
  citizen leaving with none.

A printer that does not answer before the job is still sent it (it may print; the answer after
it decides). A transport that cannot read status at all (``file``: the usblp character device
only takes bytes; a USB printer without a bulk IN endpoint) counts a job printed once every byte
was accepted: that is all it can know, and its health says the status is unknown.
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
from .backends import PortBusy, SimTransport, Transport
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


SILENT = "the printer did not answer DLE EOT (status unknown)"


class Printer:
    def __init__(self, transport: Transport, profile: Profile, spool_dir: str | Path | None = None):
        self.transport = transport
        self.profile = profile
        self.spool_dir = Path(spool_dir) if spool_dir else None
        # a receipt's bytes hold a name and an ID number: the kiosk hands a common.sealing.Sealer
        # (keyed from the outbox key) so that kept jobs are encrypted at rest (kiosk.print_spool)
        self.sealer = None
        self._open = False
        # one job or status exchange at a time: the kiosk prints from worker threads, and
        # interleaved bytes would corrupt both jobs
        self._lock = threading.RLock()
        self._silent_until = 0.0  # a printer that ignored DLE EOT is not asked again for a while
        # questions this printer ignored while it answered others → when to ask them again
        self._unanswered: dict[int, float] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        """Connect (idempotent). Raises PrinterError ``unreachable`` or ``busy``; no job is involved."""
        with self._lock:
            self._open_transport(None)

    def close(self) -> None:
        with self._lock:
            self.transport.close()
            self._open = False
            self._silent_until = 0.0
            self._unanswered.clear()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # --- status ------------------------------------------------------------------------------
    SILENT_RETRY_S = 60.0

    def status(self) -> st.PrinterStatus:
        with self._lock:
            return self._read_status(fresh=False)

    def _read_status(self, fresh: bool) -> st.PrinterStatus:
        """Ask DLE EOT 1, 2, 4 (and 3 when 2 reports an error). ``fresh``: ask even a printer
        that stayed silent a moment ago (the question after a job must really be asked)."""
        if not self.transport.can_read:
            return st.PrinterStatus(detail=f"{self.transport.name} backend cannot read printer status")
        if not fresh and time.monotonic() < self._silent_until:
            return st.PrinterStatus(reachable=True, detail=SILENT)
        raw: dict[int, int | None] = {}
        try:
            now = time.monotonic()
            for n in st.QUERIES:
                if self._unanswered.get(n, 0.0) > now:
                    continue
                raw[n] = self.transport.query(n)
                if raw[n] is not None:
                    continue
                if not any(st.valid(v) for v in raw.values()):
                    if not self.transport.can_read:  # open() found a USB printer that cannot answer
                        return st.PrinterStatus(detail=f"{self.transport.describe()}: cannot read printer status")
                    # no answer within the timeout: asking the other questions would only
                    # multiply the wait (vendors that ignore DLE EOT ignore all of it)
                    self._silent_until = time.monotonic() + self.SILENT_RETRY_S
                    break
                # it answers other questions but not this one (no such sensor): waiting for it
                # on every check would add a timeout to every job; asked again after a while,
                # in case it was only busy
                self._unanswered[n] = now + self.SILENT_RETRY_S
            if st.wants_error_cause(raw) and self._unanswered.get(st.ERROR_CAUSE, 0.0) <= now:
                raw[st.ERROR_CAUSE] = self.transport.query(st.ERROR_CAUSE)
                if raw[st.ERROR_CAUSE] is None:
                    self._unanswered[st.ERROR_CAUSE] = now + self.SILENT_RETRY_S
        except PortBusy as exc:
            return st.PrinterStatus(reachable=False, busy=True, raw=raw, detail=str(exc))
        except OSError as exc:
            return st.PrinterStatus(reachable=False, raw=raw, detail=f"{type(exc).__name__}: {exc}")
        result = st.parse(raw)
        if not any(st.valid(v) for v in raw.values()):
            result.detail = SILENT
        else:
            self._silent_until = 0.0
        return result

    def health(self) -> Health:
        s = self.status()
        # after status(): opening may have taught the transport more (a USB printer without IN)
        facts: dict[str, Any] = {"backend": self.transport.describe(), "profile": self.profile.name,
                                 "spooled_jobs": len(self.pending()), "status": s.as_dict(),
                                 "reads_status": self.transport.can_read}
        if s.busy:
            return Health(State.FAILED, f"the printer's port is held by another process: {s.detail}",
                          "stop the other program (another kiosk process, a terminal) and try again", facts)
        if s.reachable is False:
            return Health(State.FAILED, f"cannot reach the printer: {s.detail}",
                          "check the cable / network and that the printer is switched on", facts)
        if s.cover_open:
            return Health(State.NEEDS_ATTENTION, "printer cover is open", "close the printer cover", facts)
        if s.paper == "out":
            return Health(State.NEEDS_ATTENTION, "printer is out of paper", "load a new paper roll", facts)
        if s.error:
            return Health(State.NEEDS_ATTENTION, f"printer reports an error ({s.error})", ERROR_ACTIONS[s.error], facts)
        if s.online is False:
            return Health(State.NEEDS_ATTENTION, "printer reports offline", "check the printer's error light", facts)
        if self.transport.can_read and not s.known:
            return Health(State.NEEDS_ATTENTION, f"connected, but {s.detail}: jobs stay in the spool until it answers",
                          "check the printer is on and shows no error light; switch it off and on", facts)
        if s.paper == "near_end":
            return Health(State.NEEDS_ATTENTION, "paper roll nearly empty", "replace the paper roll soon", facts)
        if facts["spooled_jobs"]:
            return Health(State.NEEDS_ATTENTION, f"{facts['spooled_jobs']} job(s) waiting for reprint",
                          "run `kiosk print reprint` once the printer is ready (or `kiosk print discard JOB` "
                          "for one that did print)", facts)
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
                payload = self._read_job(jid)
                meta = self._meta(jid)
                done.append(self._send(jid, payload, meta.get("layout", "raw")))
            return done

    def discard(self, job_id: str) -> None:
        """Drop a spooled job without printing it: staff saw it did print (``no_status``)."""
        with self._lock:
            if job_id not in self.pending():
                raise PrinterError(code="no_job", detail=job_id)
            self._unspool(job_id)
            log.info("printer job %s discarded from the spool", job_id)

    # --- internals ---------------------------------------------------------------------------
    def _meta(self, job_id: str) -> dict[str, Any]:
        try:
            return json.loads((self.spool_dir / f"{job_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _read_job(self, job_id: str) -> bytes:
        from common.sealing import is_sealed

        data = (self.spool_dir / f"{job_id}.bin").read_bytes()
        if not is_sealed(data):
            return data  # kept before jobs were sealed
        if self.sealer is None:
            raise PrinterError(code="sealed", detail=f"job {job_id} is sealed and no key was given")
        try:
            return self.sealer.open(data, job_id)
        except ValueError as exc:
            raise PrinterError(code="sealed", detail=f"job {job_id}: {exc}") from None

    def _spool(self, job_id: str, payload: bytes, layout_name: str) -> None:
        if not self.spool_dir:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # jobs hold names: not world-readable
        tmp = self.spool_dir / f".{job_id}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(self.sealer.seal(payload, job_id) if self.sealer is not None else payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.spool_dir / f"{job_id}.bin")
        meta = {"layout": layout_name, "bytes": len(payload), "spooled_at": clock.now().isoformat(timespec="seconds")}
        (self.spool_dir / f"{job_id}.json").write_text(json.dumps(meta), encoding="utf-8")

    def _note(self, job_id: str, code: str) -> None:
        """Record in the job's metadata why it is still spooled (``kiosk printer jobs`` shows it)."""
        if self.spool_dir and (self.spool_dir / f"{job_id}.bin").exists():
            meta = self._meta(job_id)
            meta.update(kept_because=code, tried_at=clock.now().isoformat(timespec="seconds"))
            (self.spool_dir / f"{job_id}.json").write_text(json.dumps(meta), encoding="utf-8")

    def _unspool(self, job_id: str) -> None:
        if self.spool_dir:
            for ext in (".bin", ".json"):
                (self.spool_dir / f"{job_id}{ext}").unlink(missing_ok=True)

    def _open_transport(self, kept: str | None) -> None:
        try:
            self.transport.open()
        except PortBusy as exc:
            raise PrinterError(code="busy", detail=f"{self.transport.describe()}: {exc}", job_id=kept) from None
        except (OSError, ValueError) as exc:
            raise PrinterError(code="unreachable", detail=f"{self.transport.describe()}: {exc}", job_id=kept) from None
        self._open = True

    @staticmethod
    def _stopped(s: st.PrinterStatus, when: str, kept: str | None) -> None:
        """Raise for what the printer said stops printing."""
        if s.paper == "out":
            raise PrinterError(code="paper_out", detail=when, job_id=kept)
        if s.cover_open:
            raise PrinterError(code="cover_open", detail=when, job_id=kept)
        if s.error:
            raise PrinterError(code="printer_error", detail=f"{when}: {s.error}", job_id=kept)
        if s.online is False:
            raise PrinterError(code="offline", detail=when, job_id=kept)

    def _send(self, job_id: str, payload: bytes, layout_name: str) -> PrintJob:
        kept = job_id if self.spool_dir else None
        try:
            self._open_transport(kept)
            before = self._read_status(fresh=False)
            if before.reachable is False:
                raise PrinterError(code="busy" if before.busy else "unreachable",
                                   detail=f"before printing: {before.detail}", job_id=kept)
            self._stopped(before, "before printing", kept)
            # unknown before the job does not stop it: the answer after it decides
            try:
                self.transport.write(payload)
            except OSError as exc:
                # some bytes may have gone: never resent here; the job is reprinted whole
                log.warning("printer job %s not sent: %s", job_id, type(exc).__name__)
                raise PrinterError(code="unreachable", detail=f"{self.transport.describe()}: {exc}",
                                   job_id=kept) from None
            if self.transport.can_read:
                # a printer that ran out of paper mid-job stops printing; one that does not answer
                # may not have printed at all: either way the job stays for a reprint
                after = self._read_status(fresh=True)
                if after.reachable is False:
                    raise PrinterError(code="no_status", detail=f"after printing: {after.detail}", job_id=kept)
                self._stopped(after, "after printing", kept)
                if after.can_print is not True:
                    raise PrinterError(code="no_status", detail=f"after printing: {after.detail or SILENT}",
                                       job_id=kept)
        except PrinterError as exc:
            self._note(job_id, exc.code)
            raise
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


#: what to do about each error the printer names (DLE EOT 3)
ERROR_ACTIONS = {
    "cutter": "open the cover and clear the paper caught in the cutter",
    "recoverable": "check the head lever and cover, then switch the printer off and on",
    "unrecoverable": "switch the printer off and on; if the error stays, call for service",
    "auto_recoverable": "wait a minute: the print head cools down (or the voltage recovers) by itself",
    "error": "check the printer's error light",
}
