"""Background sync: sends queued dossiers to the central system until each is confirmed.

One thread owns all sending, so the same dossier is never in flight twice from this kiosk (and
the central system is idempotent on the UUID anyway). Policy, after ODK Collect, with one rule
above the rest: **no dossier holds back the others** (issue 17). A pass goes through the queue
oldest first; what central says about one dossier decides for that dossier only, and only what
says "central cannot be reached" stops the pass.

- ``Offline`` (no connection, timeout, captive portal): stop the pass and wait
  ``min(cap, base · 2^(n-1))`` seconds, minus up to ``jitter`` of it at random so that kiosks
  coming back after a province-wide outage do not all knock at once (defaults 60 s, 5 min, 20 %).
- While it waits after an ``Offline`` failure, a health probe (``client.ping``: one small GET,
  ``PROBE_TIMEOUT_S`` at most) every ``probe_interval`` seconds (less up to ``jitter`` of it)
  watches for the central system to answer again, and ends the wait when it goes from not
  answering to answering: a dossier then leaves within seconds of the network's return instead
  of up to the cap (5 min) later. "Not answering" is a failed probe, or a send that got no
  connection at all; while central answers the probe but sends still fail (5xx, slow intake, a
  captive portal), there is no such change, and the backoff alone paces the real sends.
- ``ServerError`` (5xx on this dossier): the dossier gets its own back-off (the same
  ``base · 2^(n-1)`` doubling, counted in its ``failures`` and ``next_attempt_at`` in the outbox,
  so a restart keeps it) and the pass goes on with the next one. Central failing on *every*
  dossier is central's intake being down, not a poison dossier: ``SERVER_ERROR_STREAK`` 5xx in a
  row in one pass, or a pass that confirmed nothing after a 5xx, stops sending as ``Offline``
  does (kind ``server_error``, global backoff and probe).
- ``RateLimited`` (429): stop the pass and pause all sending for the answer's Retry-After (the
  backoff when it gives none); no dossier is blamed, no probe.
- ``Refused`` (400, 409 ``uuid_conflict``, 413, 422: central refuses this dossier for good): the
  dossier is *held*, "needs a technician", with central's reason code, until ``kiosk outbox
  retry``; the pass goes on with the next dossier.
- ``AuthError`` (credentials, certificate) or another ``Rejected`` (404, 405: the URL or a proxy,
  the same for every dossier): stop the pass, record ``last_error`` for the technician; the next
  pass comes after the cap, or at once on ``wake()``; no probe then, since central did answer and
  a person has to fix the cause.
- ``submit_now(uuid, timeout)``: the kiosk calls it right after ``enqueue`` so the citizen gets a
  real dossier code when the network is up; it jumps the backoff, and returns None when no answer
  came in time (the kiosk prints a provisional receipt; the dossier is still sent later).
  ``wake()`` and central's return (the probe) end the global backoff and the dossiers' own back-offs.

Messages (``Outbox.enqueue_message``: a help call, its cancellation, a queue number given offline,
a rating) go first in every pass: they
are small and a citizen is standing at the kiosk. Each kind has its sender in ``MESSAGE_KINDS``.
What stops the dossiers stops them too (central unreachable, credentials, 429), with the same
backoff and probe; a 5xx leaves the message for the next pass; a refusal drops it (logged, its
reason kept); an expired one (a help call older than 30 minutes) is dropped unsent.
``send_message_now(uuid, timeout)`` is ``submit_now`` for a message.
"""
from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from common import clock, redact
from kiosk.client import (REFUSED_STATUSES, AuthError, CentralClientError, MissingAttachments, Offline, RateLimited, Refused,
                          Rejected, ServerError, SubmitResult, reason_code)
from kiosk.outbox import Outbox, OutboxError, OutboxItem, OutboxMessage

log = logging.getLogger(__name__)

# One probe never holds the worker longer than this: submit_now's citizen may be waiting behind
# it, and a central that needs longer to say "ok" is not ready for dossiers yet anyway.
PROBE_TIMEOUT_S = 2.0
# This many 5xx answers in a row within one pass (from different dossiers, none confirmed between
# them) is central's intake failing, not a poison dossier: the pass stops and backs off as a whole.
SERVER_ERROR_STREAK = 3


# --- messages: kind → sender(client, outbox, message) → ("sent", result) | ("drop", reason) | ("wait", "")
def _send_help_call(client, _outbox: Outbox, msg: OutboxMessage) -> tuple[str, str]:
    return "sent", client.create_help_call(msg.body)["result"]


def _send_help_call_cancel(client, outbox: Outbox, msg: OutboxMessage) -> tuple[str, str]:
    call = outbox.message(msg.subject, decrypt=False)
    if call is not None and call.state == "pending":
        return "wait", ""  # the call goes first (it failed in this pass); cancelled right after it
    if call is not None and call.state == "dropped":
        return "drop", "not_delivered"  # never reached central (dropped while queued, or expired)
    answer = client.cancel_help_call(msg.subject)
    return "sent", answer["result"] if answer else "not_found"


def _send_queue_ticket(client, _outbox: Outbox, msg: OutboxMessage) -> tuple[str, str]:
    """A number given from a reserved block while offline: into central's waiting line (409
    ``not_in_block`` is a refusal: dropped and logged, never sent again)."""
    client.report_offline_ticket(msg.body)
    return "sent", "ok"


def _send_rating(client, _outbox: Outbox, msg: OutboxMessage) -> tuple[str, str]:
    return "sent", client.rate(msg.body)


MESSAGE_KINDS = {"help_call": _send_help_call, "help_call_cancel": _send_help_call_cancel,
                 "queue_ticket": _send_queue_ticket, "rating": _send_rating}


def backoff_delay(failures: int, base: float, cap: float, jitter: float = 0.2, rng: random.Random | None = None) -> float:
    """Delay before the next try after ``failures`` consecutive failures (≥ 1): never above ``cap``."""
    delay = min(cap, base * (2 ** max(0, failures - 1)))
    return delay * (1 - jitter * (rng or random).random())


@dataclass
class PassReport:
    sent: list[str] = field(default_factory=list)      # uuids confirmed in this pass
    stopped_by: str | None = None                       # offline | server_error | rate_limited | auth | rejected | outbox | None
    error: str = ""
    held: list[str] = field(default_factory=list)      # refused for good in this pass: held for a technician
    deferred: list[str] = field(default_factory=list)  # 5xx in this pass: retried on their own back-off
    next_due_in: float | None = None                    # seconds until the first skipped dossier's own back-off ends
    messages_sent: list[str] = field(default_factory=list)  # message uuids confirmed in this pass


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
        self._fresh = False             # the next pass ignores the dossiers' own back-offs (wake, central back)
        self._unjudged_5xx = False      # a 5xx since the last confirmed dossier, not yet answered by a backoff
        # uuid → (next_attempt_at as the outbox holds it, time.monotonic() when it is due): the
        # dossiers' own back-offs to the millisecond while this process runs (the outbox keeps seconds)
        self._due: dict[str, tuple[str, float]] = {}

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
        """Try now, ignoring the backoff and the dossiers' own back-offs (network back, technician
        pressed "retry")."""
        with self._state_lock:
            self.resume_at = 0.0
            self._fresh = True
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict:
        with self._state_lock:
            wait = max(0.0, self.resume_at - time.monotonic())
            now = time.monotonic()
            return {"running": self.running, "consecutive_failures": self.failures, "next_try_in_s": round(wait, 1),
                    "probing": self._probing and wait > 0 and self.probe_interval > 0,
                    "dossiers_backing_off": sum(1 for _, due in tuple(self._due.values()) if due > now),
                    "last_error": self.last_error, "last_success_at": self.last_success_at}

    # --- the citizen is waiting ---------------------------------------------------------------
    def submit_now(self, uuid: str, timeout: float) -> SubmitResult | None:
        """Send this dossier first and wait up to ``timeout`` s; None → print a provisional receipt."""
        item = self.outbox.get(uuid, decrypt=False)
        if item is not None and item.state == "sent":
            return item.submit_result()
        self._first_and_wait(uuid, timeout)
        item = self.outbox.get(uuid, decrypt=False)
        return item.submit_result() if item is not None else None

    def _first_and_wait(self, uuid: str, timeout: float) -> None:
        """Send ``uuid`` (a dossier or a message) before anything else and wait up to ``timeout``
        s for its pass; without the background thread (CLI, tests), one attempt in this thread."""
        if not self.running:
            self._pass(only=[uuid])
            return
        done = threading.Event()
        with self._state_lock:
            self._priority.append(uuid)
            self._waiters.setdefault(uuid, []).append(done)
        self._wake.set()
        done.wait(timeout)

    def send_message_now(self, uuid: str, timeout: float) -> OutboxMessage | None:
        """Send this message (and any other waiting message) now and wait up to ``timeout`` s;
        returns it as the outbox holds it then (``state`` pending: not delivered yet)."""
        msg = self.outbox.message(uuid, decrypt=False)
        if msg is None or msg.state != "pending":
            return msg
        self._first_and_wait(uuid, timeout)
        return self.outbox.message(uuid, decrypt=False)

    # --- sending -------------------------------------------------------------------------------
    def drain_once(self, *, due_only: bool = False) -> PassReport:
        """One pass over the queue now, in this thread. It ignores the backoff and, unless
        ``due_only``, the dossiers' own back-offs too (``kiosk sync``, ``kiosk outbox retry``)."""
        return self._pass(ignore_own_backoff=not due_only)

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
                        self._fresh = True  # 5xx seen while central came and went were not the dossiers' fault
                continue
            with self._state_lock:
                fresh, self._fresh = (self._fresh, False) if not priority else (False, self._fresh)
            try:
                report = self._pass(only=priority or None, ignore_own_backoff=fresh)
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
                # all sent, held, or waiting for their own next try: sleep until the first of those,
                # submit_now/wake, or look again after the cap
                nap = self.max_delay if report.next_due_in is None else min(self.max_delay, report.next_due_in)
                if self._wake.wait(nap):
                    self._wake.clear()

    def _pass(self, only: list[str] | None = None, *, ignore_own_backoff: bool = False) -> PassReport:
        """Send each waiting dossier once (``only``: those, in that order, whatever their own
        back-off); see the module docstring for what each answer does to the pass."""
        report = PassReport()
        with self._send_lock:
            if self._send_messages(report):  # central unreachable, credentials, 429: no dossier either
                self._release(only)
                redact.release(self)
                return report
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
            streak = 0  # 5xx in a row in this pass
            for item in items:
                if self._stop.is_set():
                    break
                if only is None and not ignore_own_backoff:
                    left = self._own_wait(item)
                    if left > 0:
                        report.next_due_in = left if report.next_due_in is None else min(report.next_due_in, left)
                        continue
                # this process has no visit: the dossier's own values are what its log lines must not show
                redact.hold(self, redact.personal_values(item.dossier or {}))
                try:
                    result = self._send(item)
                    self.outbox.mark_sent(item.uuid, result)
                except ServerError as exc:  # central failed on this dossier: its own back-off, then the next one
                    streak += 1
                    self._defer(item, report, exc)
                    if streak >= SERVER_ERROR_STREAK:
                        report.stopped_by, report.error = "server_error", str(exc)
                        self._intake_down(str(exc), exc.message_vi)
                        break
                except RateLimited as exc:
                    self._fail(item, report, "rate_limited", exc)
                    self._pause(exc)
                    break
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
                    if isinstance(exc, Refused) or exc.status in REFUSED_STATUSES:
                        self._hold(item, report, exc)  # this dossier needs a technician; the others go on
                        continue
                    self._fail(item, report, "rejected", exc)  # a wrong URL or a proxy: the same for every dossier
                    self._hold_batch()
                    break
                except OutboxError as exc:  # e.g. disk full while recording the answer: retried later, central is idempotent
                    report.stopped_by, report.error = "outbox", str(exc)
                    self._record("outbox", str(exc), exc.message_vi)
                    self._backoff("outbox", str(exc), exc.message_vi)
                    break
                else:
                    streak = 0
                    report.sent.append(item.uuid)
                    self._due.pop(item.uuid, None)
                    with self._state_lock:
                        self.failures = 0
                        self._probing = False
                        self._unjudged_5xx = False
                        self.resume_at = 0.0  # central takes dossiers: a backoff from 5xx or a pause is over
                        self.last_success_at = clock.now().isoformat(timespec="seconds")
                        if self.last_error and self.last_error.get("kind") in ("offline", "outbox", "server_error", "rate_limited"):
                            self.last_error = None
                    self._release([item.uuid])
        if report.sent:
            with self._state_lock:
                self._unjudged_5xx = False  # central took dossiers in this pass: its 5xx were about those dossiers
        elif report.stopped_by is None and only is None and self._unjudged_5xx:
            # a whole pass (after the citizen's own, if any) and nothing confirmed since a 5xx:
            # central's intake may be down for everyone, so the queue waits as a whole (and probes)
            report.stopped_by, report.error = "server_error", report.error or "central answered 5xx and confirmed nothing"
            self._intake_down(report.error)
        if report.stopped_by is None and (only is None or report.sent):
            # a citizen's own pass that central did not confirm says nothing about the queue: a
            # probe started by an earlier whole pass (intake down) goes on
            with self._state_lock:
                self._probing = False
        self._release(only)
        redact.release(self)
        return report

    def _send_messages(self, report: PassReport) -> bool:
        """Send the waiting messages, oldest first; True when the pass must stop (what would stop
        it for a dossier). See the module docstring."""
        try:
            for uid in self.outbox.expire_messages():
                log.info("message %s expired unsent", uid[:8])
                self._release([uid])
            messages = self.outbox.pending_messages()
        except OutboxError as exc:
            log.warning("messages unreadable, the dossiers go on: %s", exc)
            return False
        for msg in messages:
            if self._stop.is_set():
                break
            send = MESSAGE_KINDS.get(msg.kind)
            try:
                if send is None:  # written by a newer kiosk version: never sendable by this one
                    self.outbox.drop_message(msg.uuid, "unknown_kind")
                    continue
                try:
                    what, value = send(self.client, self.outbox, msg)
                except ServerError as exc:  # central failed on this one: the next pass, soon
                    self.outbox.note_message_failure(msg.uuid, f"server_error: {exc}")
                    report.next_due_in = min(report.next_due_in or self.base_delay, self.base_delay)
                    continue
                except RateLimited as exc:
                    self._message_failed(msg, report, "rate_limited", exc)
                    self._pause(exc)
                    return True
                except Offline as exc:
                    self._message_failed(msg, report, "offline", exc)
                    self._backoff("offline", str(exc), exc.message_vi)
                    self._seen_down = exc.code == "unreachable"
                    return True
                except AuthError as exc:
                    self._message_failed(msg, report, "auth", exc)
                    self._hold_batch()
                    return True
                except Rejected as exc:
                    if isinstance(exc, Refused) or exc.status in REFUSED_STATUSES:
                        # refused for good: a technician could not make a stale help call useful
                        reason = reason_code(exc.code, exc.status)
                        self.outbox.drop_message(msg.uuid, f"refused:{reason}"[:40])
                        log.warning("message %s (%s) refused by central (%s): dropped", msg.uuid[:8], msg.kind, reason)
                        self._release([msg.uuid])
                        continue
                    self._message_failed(msg, report, "rejected", exc)
                    self._hold_batch()
                    return True
                if what == "sent":
                    self.outbox.mark_message_sent(msg.uuid, value)
                    report.messages_sent.append(msg.uuid)
                    with self._state_lock:  # central answers: an offline backoff is over
                        self.failures = 0
                        self._probing = False
                        self.resume_at = 0.0
                        if self.last_error and self.last_error.get("kind") in ("offline", "rate_limited"):
                            self.last_error = None
                elif what == "drop":
                    self.outbox.drop_message(msg.uuid, value)
                else:  # wait: its turn comes after another message
                    report.next_due_in = min(report.next_due_in or self.base_delay, self.base_delay)
                    continue
                self._release([msg.uuid])
            except OutboxError as exc:  # recording the answer failed: sent again later (central is idempotent)
                log.warning("message %s: outbox error %s", msg.uuid[:8], exc)
                return False
        return False

    def _message_failed(self, msg: OutboxMessage, report: PassReport, kind: str, exc: CentralClientError) -> None:
        report.stopped_by, report.error = kind, str(exc)
        self._record(kind, str(exc), exc.message_vi)
        try:
            self.outbox.note_message_failure(msg.uuid, f"{kind}: {exc}")
        except OutboxError:
            pass
        log.warning("sending message %s (%s) stopped (%s): %s", msg.uuid[:8], msg.kind, kind, str(exc))

    def _own_wait(self, item: OutboxItem) -> float:
        """Seconds until this dossier's own back-off ends (0: it may go now)."""
        if not item.next_attempt_at:
            self._due.pop(item.uuid, None)
            return 0.0
        now = time.monotonic()
        known = self._due.get(item.uuid)
        if known is None or known[0] != item.next_attempt_at:  # set by another process, or before a restart
            try:
                at = datetime.fromisoformat(item.next_attempt_at)
                if at.tzinfo is None:
                    at = at.replace(tzinfo=clock.VN_TZ)
                left = (at - clock.now()).total_seconds()
            except (TypeError, ValueError, OverflowError):
                left = 0.0
            # a clock set back never parks a dossier longer than the cap
            known = (item.next_attempt_at, now + min(max(0.0, left), self.max_delay))
            self._due[item.uuid] = known
        return max(0.0, known[1] - now)

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
            return self.client.submit(item.body())
        except MissingAttachments as exc:
            # central lost or never kept an upload: send those again, once
            for sha in exc.missing:
                if sha in item.attachment_shas:
                    self.client.upload_attachment(sha, self.outbox.attachment(item.uuid, sha))
            try:
                return self.client.submit(item.body())
            except MissingAttachments as again:
                # uploaded and still missing: something about this dossier, not the network
                raise ServerError(en=f"central still misses {len(again.missing)} attachment(s)", status=409,
                                  code="missing_attachments") from None

    def _fail(self, item: OutboxItem, report: PassReport, kind: str, exc: CentralClientError) -> None:
        report.stopped_by, report.error = kind, str(exc)
        self._record(kind, str(exc), exc.message_vi, local_code=item.local_code)
        try:
            self.outbox.note_failure(item.uuid, f"{kind}: {exc}")
        except OutboxError:
            pass
        log.warning("sending %s stopped (%s): %s", item.local_code, kind, str(exc))

    def _hold(self, item: OutboxItem, report: PassReport, exc: Rejected) -> None:
        """Central refused this dossier for good: set it aside for a technician, keep it (never lost)."""
        reason = reason_code(exc.code, exc.status)
        report.held.append(item.uuid)
        report.error = str(exc)
        self._due.pop(item.uuid, None)
        self._record("rejected", str(exc), exc.message_vi, local_code=item.local_code, reason=reason)
        try:
            self.outbox.note_failure(item.uuid, f"rejected: {exc}", hold=True, reason=reason)
        except OutboxError:
            pass
        log.warning("sending %s stopped (rejected): %s; held for a technician (%s), the others go on",
                    item.local_code, str(exc), reason)
        self._release([item.uuid])

    def _defer(self, item: OutboxItem, report: PassReport, exc: ServerError) -> None:
        """Central failed on this dossier: its own next try after ``base · 2^(n-1)`` (n: its failures)."""
        report.deferred.append(item.uuid)
        report.error = str(exc)
        delay = backoff_delay(item.failures + 1, self.base_delay, self.max_delay, self.jitter, self._rng)
        at = clock.now() + timedelta(seconds=math.ceil(delay))
        self._due[item.uuid] = (at.isoformat(timespec="seconds"), time.monotonic() + delay)
        with self._state_lock:
            self._unjudged_5xx = True
        self._record("server_error", str(exc), exc.message_vi, local_code=item.local_code)
        try:
            self.outbox.note_failure(item.uuid, f"server_error: {exc}", retry_at=at)
        except OutboxError:
            self._due.pop(item.uuid, None)
        log.warning("sending %s failed (%s): its next try in %.1f s, the others go on", item.local_code, str(exc), delay)
        self._release([item.uuid])

    def _record(self, kind: str, message_en: str, message_vi: str = "", **extra) -> None:
        with self._state_lock:
            self.last_error = {"kind": kind, "message_en": message_en, "message_vi": message_vi,
                               "at": clock.now().isoformat(timespec="seconds"), **extra}

    def _backoff(self, kind: str, message_en: str, message_vi: str = "") -> None:
        with self._state_lock:
            self.failures += 1
            self.resume_at = time.monotonic() + backoff_delay(self.failures, self.base_delay, self.max_delay, self.jitter, self._rng)
            # a full disk or a bug will not be cured by central's return
            self._probing = kind in ("offline", "server_error")

    def _intake_down(self, message_en: str, message_vi: str = "") -> None:
        """5xx on every dossier tried: back off as a whole (the probe notices central's return)."""
        with self._state_lock:
            self._unjudged_5xx = False
        self._record("server_error", message_en, message_vi or ServerError.message_vi)
        self._backoff("server_error", message_en, message_vi)
        self._seen_down = False  # central answered (with an error)

    def _pause(self, exc: RateLimited) -> None:
        """429: nothing is sent before Retry-After (the backoff when central gives none); no probe."""
        with self._state_lock:
            self.failures += 1
            wait = exc.retry_after if exc.retry_after is not None else backoff_delay(
                self.failures, self.base_delay, self.max_delay, self.jitter, self._rng)
            self.resume_at = time.monotonic() + wait
            self._probing = False

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
