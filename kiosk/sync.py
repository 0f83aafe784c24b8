"""Background sync: sends queued dossiers to the central system until each is confirmed.

One thread owns all sending, so the same dossier is never in flight twice from this kiosk (and
the central system is idempotent on the UUID anyway). Policy, after ODK Collect:

- ``Offline`` (no network, timeout, 5xx, captive portal): stop the pass and wait
  ``min(cap, base · 2^(n-1))`` seconds, minus up to ``jitter`` of it at random so that kiosks
  coming back after a province-wide outage do not all knock at once (defaults 60 s, 5 min, 20 %).
- While it waits after an ``Offline`` failure, a health probe (``client.ping``: one small GET,
  ``PROBE_TIMEOUT_S`` at most) every ``probe_interval`` seconds (less up to ``jitter`` of it)
  watches for the central system to answer again, and ends the wait when it goes from not
  answering to answering: a dossier then leaves within seconds of the network's return instead
  of up to the cap (5 min) later. "Not answering" is a failed probe, or a send that got no
  connection at all; while central answers the probe but sends still fail (5xx, slow intake, a
  captive portal), there is no such change, and the backoff alone paces the real sends.
- ``AuthError`` (credentials, certificate) or ``Rejected`` (the central system refuses the
  request): stop the pass, record ``last_error`` for the technician; a rejected dossier is held
  until ``kiosk outbox retry``. The next pass comes after the cap, or at once on ``wake()``; no
  probe then, since central did answer and a person has to fix the cause.
- ``submit_now(uuid, timeout)``: the kiosk calls it right after ``enqueue`` so the citizen gets a
  real dossier code when the network is up; it jumps the backoff, and returns None when no answer
  came in time (the kiosk prints a provisional receipt; the dossier is still sent later).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

from common import clock, redact
from kiosk.client import AuthError, CentralClientError, MissingAttachments, Offline, Rejected, SubmitResult
from kiosk.outbox import Outbox, OutboxError, OutboxItem

log = logging.getLogger(__name__)

# One probe never holds the worker longer than this: submit_now's citizen may be waiting behind
# it, and a central that needs longer to say "ok" is not ready for dossiers yet anyway.
PROBE_TIMEOUT_S = 2.0


def backoff_delay(failures: int, base: float, cap: float, jitter: float = 0.2, rng: random.Random | None = None) -> float:
    """Delay before the next try after ``failures`` consecutive failures (≥ 1): never above ``cap``."""
    delay = min(cap, base * (2 ** max(0, failures - 1)))
    return delay * (1 - jitter * (rng or random).random())


@dataclass
class PassReport:
    sent: list[str] = field(default_factory=list)      # uuids confirmed in this pass
    stopped_by: str | None = None                       # offline | auth | rejected | outbox | None
    error: str = ""


class SyncWorker:
    def __init__(self, outbox: Outbox, client, *, base_delay: float = 60.0, max_delay: float = 300.0,
                 jitter: float = 0.2, probe_interval: float = 4.0, rng: random.Random | None = None):
        """``probe_interval``: seconds between health probes while dossiers wait after an
        ``Offline`` failure (0: no probe, the backoff alone decides)."""
        self.outbox, self.client = outbox, client
        self.base_delay, self.max_delay, self.jitter = base_delay, max_delay, jitter
        self.probe_interval = probe_interval
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._priority: list[str] = []
        self._waiters: dict[str, list[threading.Event]] = {}
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.resume_at = 0.0            # time.monotonic() before which no normal pass runs
        self.last_error: dict | None = None
        self.last_success_at: str | None = None
        self._probing = False           # waiting after an Offline failure: probe for central's return
        self._seen_down = False         # central did not answer since the last failed send

    @classmethod
    def from_config(cls, outbox: Outbox, client, config) -> "SyncWorker":
        o = config["outbox"]
        return cls(outbox, client, base_delay=o.get("retry_base_s", 60.0), max_delay=o.get("retry_max_s", 300.0),
                   probe_interval=o.get("probe_interval_s", 4.0))

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "SyncWorker":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="outbox-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Try now, ignoring the backoff (network back, technician pressed "retry")."""
        with self._state_lock:
            self.resume_at = 0.0
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict:
        with self._state_lock:
            wait = max(0.0, self.resume_at - time.monotonic())
            return {"running": self.running, "consecutive_failures": self.failures, "next_try_in_s": round(wait, 1),
                    "probing": self._probing and wait > 0 and self.probe_interval > 0,
                    "last_error": self.last_error, "last_success_at": self.last_success_at}

    # --- the citizen is waiting ---------------------------------------------------------------
    def submit_now(self, uuid: str, timeout: float) -> SubmitResult | None:
        """Send this dossier first and wait up to ``timeout`` s; None → print a provisional receipt."""
        item = self.outbox.get(uuid, decrypt=False)
        if item is not None and item.state == "sent":
            return item.submit_result()
        if not self.running:  # no background thread (CLI, tests): one attempt in this thread
            self._pass(only=[uuid])
        else:
            done = threading.Event()
            with self._state_lock:
                self._priority.append(uuid)
                self._waiters.setdefault(uuid, []).append(done)
            self._wake.set()
            done.wait(timeout)
        item = self.outbox.get(uuid, decrypt=False)
        return item.submit_result() if item is not None else None

    # --- sending -------------------------------------------------------------------------------
    def drain_once(self) -> PassReport:
        """One pass over the queue now, in this thread (ignores the backoff)."""
        return self._pass()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._state_lock:
                priority, self._priority = self._priority, []
                wait = self.resume_at - time.monotonic()
                probing = self._probing and self.probe_interval > 0
            if not priority and wait > 0:
                nap = min(wait, self._probe_delay()) if probing else wait
                if self._wake.wait(nap):
                    self._wake.clear()
                elif nap < wait and self._central_is_back():
                    with self._state_lock:
                        self.resume_at = 0.0
                continue
            try:
                report = self._pass(only=priority or None)
            except Exception:  # never let the sender die silently: log, record, back off
                log.exception("sync pass failed")
                redact.release(self)
                self._record("internal", "unexpected error in the sync worker (see the log)")
                self._backoff("internal", "unexpected error in the sync worker")
                self._release(priority)
                continue
            if priority:
                continue  # then the normal pass, unless backing off
            if report.stopped_by is None:
                self._wake.wait(self.max_delay)  # all sent: sleep until submit_now/wake (or look again after the cap)
                self._wake.clear()

    def _pass(self, only: list[str] | None = None) -> PassReport:
        report = PassReport()
        with self._send_lock:
            try:
                if only is None:
                    items = self.outbox.pending()
                else:
                    items = [i for u in dict.fromkeys(only) if (i := self.outbox.get(u)) is not None and i.state == "pending"]
            except OutboxError as exc:
                self._record("outbox", str(exc), exc.message_vi)
                report.stopped_by, report.error = "outbox", str(exc)
                self._release(only)
                return report
            for item in items:
                if self._stop.is_set():
                    break
                # this process has no visit: the dossier's own values are what its log lines must not show
                redact.hold(self, redact.personal_values(item.dossier or {}))
                try:
                    result = self._send(item)
                    self.outbox.mark_sent(item.uuid, result)
                except Offline as exc:
                    self._fail(item, report, "offline", exc)
                    self._backoff("offline", str(exc), exc.message_vi)
                    self._seen_down = exc.code == "unreachable"
                    break
                except AuthError as exc:
                    self._fail(item, report, "auth", exc)
                    self._hold_batch()
                    break
                except Rejected as exc:
                    self._fail(item, report, "rejected", exc, hold=True)
                    self._hold_batch()
                    break
                except OutboxError as exc:  # e.g. disk full while recording the answer: retried later, central is idempotent
                    report.stopped_by, report.error = "outbox", str(exc)
                    self._record("outbox", str(exc), exc.message_vi)
                    self._backoff("outbox", str(exc), exc.message_vi)
                    break
                else:
                    report.sent.append(item.uuid)
                    with self._state_lock:
                        self.failures = 0
                        self._probing = False
                        self.last_success_at = clock.now().isoformat(timespec="seconds")
                        if self.last_error and self.last_error.get("kind") in ("offline", "outbox"):
                            self.last_error = None
                    self._release([item.uuid])
        if report.stopped_by is None:
            with self._state_lock:
                self._probing = False
        self._release(only)
        redact.release(self)
        return report

    def _probe_delay(self) -> float:
        # jittered like the backoff: after a province-wide outage the kiosks' probes (and so their
        # first sends) spread out instead of arriving in step
        return self.probe_interval * (1 - self.jitter * self._rng.random())

    def _central_is_back(self) -> bool:
        """One probe; True when central answers after it was seen not answering."""
        try:
            self.client.ping(min(PROBE_TIMEOUT_S, self.probe_interval))
        except CentralClientError:
            self._seen_down = True
            return False
        except Exception as exc:  # a probe must never stop the sender; the backoff still runs
            log.warning("sync probe failed: %r", exc)
            self._seen_down = True
            return False
        back, self._seen_down = self._seen_down, False
        if back:
            log.info("central system answers again: sending the waiting dossiers now")
        return back

    def _send(self, item: OutboxItem) -> SubmitResult:
        for sha in item.attachment_shas:
            self.client.upload_attachment(sha, self.outbox.attachment(item.uuid, sha))
        try:
            return self.client.submit(item.dossier)
        except MissingAttachments as exc:
            # central lost or never kept an upload: send those again, once
            for sha in exc.missing:
                if sha in item.attachment_shas:
                    self.client.upload_attachment(sha, self.outbox.attachment(item.uuid, sha))
            try:
                return self.client.submit(item.dossier)
            except MissingAttachments as again:
                raise Offline(en=f"central still misses {len(again.missing)} attachment(s)") from None

    def _fail(self, item: OutboxItem, report: PassReport, kind: str, exc: CentralClientError, hold: bool = False) -> None:
        report.stopped_by, report.error = kind, str(exc)
        self._record(kind, str(exc), exc.message_vi, local_code=item.local_code)
        try:
            self.outbox.note_failure(item.uuid, f"{kind}: {exc}", hold=hold)
        except OutboxError:
            pass
        log.warning("sending %s stopped (%s): %s", item.local_code, kind, str(exc))

    def _record(self, kind: str, message_en: str, message_vi: str = "", **extra) -> None:
        with self._state_lock:
            self.last_error = {"kind": kind, "message_en": message_en, "message_vi": message_vi,
                               "at": clock.now().isoformat(timespec="seconds"), **extra}

    def _backoff(self, kind: str, message_en: str, message_vi: str = "") -> None:
        with self._state_lock:
            self.failures += 1
            self.resume_at = time.monotonic() + backoff_delay(self.failures, self.base_delay, self.max_delay, self.jitter, self._rng)
            self._probing = kind == "offline"  # a full disk or a bug will not be cured by central's return

    def _hold_batch(self) -> None:
        # auth/config problems need a person; look again only after the cap (or on wake()/retry)
        with self._state_lock:
            self.resume_at = time.monotonic() + self.max_delay
            self._probing = False

    def _release(self, uuids: list[str] | None) -> None:
        if not uuids:
            return
        with self._state_lock:
            events = [e for u in uuids for e in self._waiters.pop(u, [])]
        for e in events:
            e.set()
