"""What the screens ask of the rest of the stack, Kivy-free: devices, flows, outbox, central.

Every method here may block (device or network I/O): the UI calls them from worker threads
(``kiosk.ui.app.KioskApp.run_async``) and never on the Kivy main thread.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import traceback
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path

from common import clock
from common.errors import BilingualError
from flows.dossier import problem_paths as dossier_problem_paths
from kiosk.config import Config

log = logging.getLogger(__name__)

# The last note of each: the law the data is processed under and where to ask (docs/privacy.md).
PRIVACY_NOTE = ("Thông tin cá nhân chỉ dùng cho hồ sơ này, theo Luật Bảo vệ dữ liệu cá nhân số "
                "91/2025/QH15. Muốn xem, sửa hoặc xóa: hỏi quầy một cửa.")
# Bringing the receipt and the card, and looking the dossier up by its QR, are items of the
# receipt's "Việc cần làm" block (devices/printer/layouts/receipt.yaml): not said twice as notes.
RECEIPT_NOTES = (PRIVACY_NOTE,)
# How to look a provisional receipt up is an item of its "Việc cần làm" block (the TAM code and
# its lookup key, devices/printer/layouts/provisional_receipt.yaml): not said again as a note.
PROVISIONAL_NOTES = (
    "Hồ sơ đã được lưu có mã hóa trên ki-ốt, sẽ tự động gửi khi có mạng rồi xóa khỏi ki-ốt.",
    PRIVACY_NOTE,
)


@dataclass
class SubmitOutcome:
    provisional: bool
    code: str                       # the dossier code, or the local code when provisional
    lookup_secret: str
    appointment_date: dt.date | None
    received_at: dt.datetime
    receipt: dict                   # the data the receipt layout was printed from
    printed: bool = False
    print_error: BilingualError | None = None  # why nothing was printed, for the screen
    png_path: str | None = None     # sim printer: the rendering of what was printed
    preview_png: bytes = b""        # the receipt exactly as printed, for the screen
    # the fee paid at the kiosk (issue 22): what to pay here (0: nothing, the receipt is printed
    # at once), and central's payment object once the pay screen knows it; the receipt waits for it
    payment_due: int = 0
    payment: dict | None = None


@dataclass
class TicketOutcome:
    number: str                     # "" when no number could be given (``refused`` says why)
    service: str
    people_ahead: int | None        # None: not known (a number given offline)
    printed: bool
    print_error: BilingualError | None = None
    estimated_wait_min: int | None = None
    offline: bool = False           # from this kiosk's reserved block, reported to central later
    refused: BilingualError | None = None


TICKET_WAIT_S = 3.0  # how long a citizen waits for central's number before the reserved block is used
# the rating screen's answers → central's levels (very_good | good | ok | bad)
RATING_LEVELS = {"very": "very_good", "ok": "good", "not": "bad", "very_good": "very_good", "good": "good",
                 "bad": "bad"}


# why central refused an officer's confirmation code (central/help_confirm.py), for the English screen
_CONFIRM_REFUSED_EN = {
    "wrong_code": "The code is not right; please check it and type it again.",
    "code_expired": "The code has expired: the officer takes a new one on the console (“New code”).",
    "code_locked": "Too many wrong codes: the officer takes a new one on the console (“New code”).",
    "code_used": "This code was used already: the officer takes a new one on the console.",
    "no_code": "No code yet: the officer presses “On my way” on the console to get one.",
}

# the queue's words, for the printed ticket (Vietnamese only, as the receipt) and the screen
_AHEAD = {"vi": ("Trước Quý khách còn {n} người", " · chờ khoảng {min} phút",
                 "Chưa có ai trước Quý khách · sắp đến lượt"),
          "en": ("{n} people ahead of you", " · about {min} minutes", "Nobody ahead of you · you will be called soon")}


def ticket_wait_text(outcome: TicketOutcome, lang: str = "vi") -> str:
    """"Trước Quý khách còn 7 người · chờ khoảng 25 phút"; nobody ahead says so instead of "0 người
    · 0 phút"; "" when central did not say (a number given offline: the caller words that)."""
    if outcome.people_ahead is None:
        return ""
    ahead, wait, nobody = _AHEAD["en" if lang == "en" else "vi"]
    if outcome.people_ahead <= 0:
        return nobody
    text = ahead.format(n=outcome.people_ahead)
    if lang == "en" and outcome.people_ahead == 1:
        text = "1 person ahead of you"
    if outcome.estimated_wait_min is not None:
        text += wait.format(min=outcome.estimated_wait_min)
    return text


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- help calls ("Gọi cán bộ hỗ trợ", issue 18) ------------------------------------------------------
HELP_CALL_MAX_AGE = dt.timedelta(minutes=30)  # a call nobody could see by then is not sent: the citizen has gone
HELP_CALL_SEND_WAIT_S = 3.0  # how long the panel waits for central before it says "kept, will be sent"
_HELP_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # flow and step ids as central checks them
_HELP_SCREEN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


@dataclass
class HelpCall:
    """One citizen's call for a staff member, as the kiosk knows it. ``state``: sent (central has
    it), queued_offline (kept in the outbox until central answers), acknowledged (a staff member is
    on the way: ``acknowledged_at``), cancelled, expired (never reached central within 30 minutes).
    ``body`` is exactly what central receives: nothing personal."""

    uuid: str
    body: dict
    called_at: dt.datetime
    state: str
    acknowledged_at: str | None = None
    cancelled_at: str | None = None
    started: float = field(default_factory=time.monotonic)  # for the elapsed time on screen

    @property
    def active(self) -> bool:
        return self.state in ("sent", "queued_offline", "acknowledged")

    def elapsed_s(self, now: float | None = None) -> int:
        return max(0, int((now or time.monotonic()) - self.started))


class KioskServices:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.kiosk = cfg["kiosk"]
        self.data_dir = Path(cfg["paths"]["data_dir"])
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.registry = None
        self.bundles = None
        self.printer = None
        self.reader = None
        self.scanner = None
        self.camera = None
        self.card_events = None
        self.outbox = None
        self.client = None
        self.sync = None
        self.heartbeat = None
        self.startup_problems: list[str] = []
        self.unfit: list = []                                # kiosk.deployment problems of the configuration
        self.flows_problem: BilingualError | None = None     # no verified flow bundle

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open what can be opened; a missing device is a problem for technicians, not a crash."""
        from kiosk.deployment import problems

        self.registry = self._load_flows()
        self.unfit = problems(self.cfg)  # `kiosk run` refuses these first; whoever builds the services directly gets this
        self.startup_problems.extend(str(p) for p in self.unfit)
        for name, opener in (
            ("printer", self._open_printer),
            ("idcard", self._open_reader),
            ("qr", self._open_scanner),
            ("outbox", self._open_outbox),
        ):
            try:
                opener()
            except Exception as exc:  # noqa: BLE001 - report and keep the kiosk usable
                log.error("could not open %s: %s", name, exc)
                self.startup_problems.append(f"{name}: {exc}")
        from kiosk.print_spool import seal_spool

        # kept print jobs hold names: sealed with the outbox key, or not kept at all
        if self.outbox is not None:
            seal_spool(self.printer, self.outbox.key_source)
        elif self.printer is not None:
            self.printer.spool_dir = None
        if self.client is not None:
            from kiosk.heartbeat import HeartbeatWorker

            # the province sees which kiosks need a visit; no personal data in a heartbeat
            self.heartbeat = HeartbeatWorker(self.client, 300, cfg=self.cfg, services=self)
            self.heartbeat.start()
            # numbers to give while central is unreachable: reserved now, in the background
            threading.Thread(target=self._reserve_at_start, name="queue-blocks", daemon=True).start()

    def _reserve_at_start(self) -> None:
        try:
            self.reserve_offline_blocks()
        except Exception as exc:  # noqa: BLE001 - a failed reservation is retried after the next ticket
            log.warning("offline queue blocks not reserved at start: %s", type(exc).__name__)

    def stop(self) -> None:
        if self.card_events:
            self.card_events.stop()
        if self.heartbeat:
            self.heartbeat.stop()
        if self.sync:
            self.sync.stop()
        for dev in (self.printer, self.reader, self.scanner, self.camera):
            try:
                if dev:
                    dev.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("closing %s failed: %s", type(dev).__name__, exc)

    def _load_flows(self):
        """The procedures of the current verified bundle. Only the simulated demo falls back to the
        plain flows folder: anywhere else an unsigned folder would defeat the signing, so without
        a verified bundle the kiosk is out of service (home says so, with the reason)."""
        from flows import load_registry
        from flows.registry import FlowRegistry
        from kiosk.deployment import simulated

        bundle_dir = self.cfg["flows"]["bundle_dir"]
        reason = "no flow bundle has been installed yet (`kiosk flows status`)"
        try:
            from flows.bundles import BundleStore

            self.bundles = BundleStore(bundle_dir, self.cfg["flows"]["trusted_keys"], self.cfg["flows"]["min_signatures"])
            current = self.bundles.current()
            if current is not None:
                self.flows_problem = None
                return current.registry() if hasattr(current, "registry") else load_registry(current)
        except Exception as exc:  # noqa: BLE001 - a broken bundle must not stop the kiosk
            log.error("flow bundle unusable: %s", exc)
            reason = f"the flow bundle is unusable: {getattr(exc, 'message_en', '') or exc}"
        if simulated(self.cfg):
            return load_registry(self.cfg["paths"]["flows_dir"])
        self.flows_problem = BilingualError(
            en=f"No verified procedures: {reason}.", code="no_bundle",
            vi="Ki-ốt đang bảo trì: chưa có bộ quy trình thủ tục đã được ký và xác minh.")
        log.error("out of service: %s", reason)
        return FlowRegistry([], [])

    def between_sessions(self) -> None:
        """Called when no citizen is in a visit: switch to a staged flow bundle, atomically."""
        if self.bundles is None:
            return
        try:
            if self.bundles.activate_pending() or (self.flows_problem is not None and self.bundles.current()):
                self.registry = self._load_flows()
                log.info("switched to flow bundle %s", getattr(self.bundles.current(), "bundle_id", "?"))
        except Exception as exc:  # noqa: BLE001
            log.error("flow bundle switch refused: %s", exc)

    # Every device factory builds without I/O and returns the device unopened; each is opened
    # exactly once, here. A device kept after a failed open() retries by itself (a job, a read).
    def _open_printer(self):
        from devices.printer import open_printer

        self.printer = open_printer(self.cfg["devices.printer"])
        self.printer.open()

    def _open_reader(self):
        from devices.idcard import open_reader

        from kiosk.card_events import CardEvents

        self.reader = open_reader(self.cfg["devices.idcard"])
        # events first: a reader that cannot open now (no trust store yet) still says when a card comes
        self.card_events = CardEvents(self.reader).start()
        self.reader.open()

    def _open_scanner(self):
        from devices.qr import open_scanner

        section = self.cfg["devices.qr"]
        # the camera QR backend reads the app's one camera, the handle document capture uses too;
        # built here, opened by scanner.open(): a camera plugged in later is read without a restart
        camera = self._camera() if section["backend"] == "camera" else None
        self.scanner = open_scanner(section, camera=camera)
        self.scanner.open()

    def _camera(self):
        """The kiosk's one camera handle, built (not opened) on first use."""
        with self._lock:
            if self.camera is None:
                from devices.camera import open_camera

                self.camera = open_camera(self.cfg["devices.camera"])
            return self.camera

    def open_camera(self):
        """The kiosk's one camera, opened (idempotent) for the documents screen, the heartbeat, the
        maintenance screen or the camera QR scanner, whichever comes first (worker threads).
        Raises CameraError while the camera is not there; the handle stays for the next try."""
        camera = self._camera()
        with self._lock:
            camera.open()
        return camera

    def _open_outbox(self):
        from kiosk.client import CentralClient
        from kiosk.outbox import Outbox, key_source_from_config
        from kiosk.sync import SyncWorker

        c = self.cfg["central"]
        self.outbox = Outbox(self.cfg["outbox"]["path"], key_source_from_config(self.cfg["outbox"]))
        self.client = CentralClient(
            c["url"], self.kiosk["id"], c["kiosk_secret"], ca_file=c["ca_file"] or None,
            client_cert=c["client_cert"] or None, client_key=c["client_key"] or None, timeout=c["timeout_s"],
        )
        self.sync = SyncWorker.from_config(self.outbox, self.client, self.cfg)
        self.sync.start()

    # --- citizen actions ------------------------------------------------------------------------
    @property
    def card_present(self) -> bool:
        """A card lies on the reader (as far as the reader's events tell; False when unknown)."""
        return bool(self.card_events and self.card_events.present)

    def read_card(self, key, groups=("DG1", "DG13"), progress=None, cancel=None):
        return self.reader.read(key, groups=groups, progress=progress, cancel=cancel)

    @property
    def out_of_service(self) -> BilingualError | None:
        """Why no citizen can be served at all (the home screen shows it), or None."""
        if self.unfit:
            return BilingualError(en="This kiosk's configuration is not fit for citizens: "
                                     + ", ".join(p.key for p in self.unfit) + " (`kiosk config check`).",
                                  vi="Ki-ốt đang bảo trì: cấu hình chưa hoàn chỉnh.", code="unfit_config")
        return self.flows_problem

    @property
    def filing_available(self) -> bool:
        """False when the outbox could not be opened (e.g. its key is unreachable): no citizen
        should fill in a whole form only to be told at the end that it cannot be kept."""
        return self.outbox is not None

    def submit(self, session) -> SubmitOutcome:
        """Outbox first (fsynced), then one quick try online; offline → provisional receipt.

        Only the outbox write may raise: once the dossier is safely queued, a failing receipt or
        printer must never tell the citizen that the filing failed (it did not).
        """
        engine = session.engine
        created = clock.now()
        dossier = engine.dossier(uuid=session.dossier_uuid, kiosk_id=self.kiosk["id"], created_at=created)
        problems = dossier_problem_paths(dossier)
        if problems:
            # the central system would refuse it with the same schema (flows.dossier): keep nothing
            # that can never be delivered, and say so now rather than after the citizen has gone
            from flows.errors import FlowError

            raise FlowError(en="This application cannot be filed at the kiosk; please ask the staff at the desk.",
                            vi="Hồ sơ này chưa nộp được tại ki-ốt. Quý khách vui lòng hỏi cán bộ tại quầy.",
                            code="invalid_dossier", detail="dossier schema: " + ", ".join(problems))
        attachments = {a.sha256: a.data for a in session.attachments.values()}
        if self.outbox is None:
            from kiosk.outbox_errors import OutboxError

            raise OutboxError(detail="the outbox is not open (see the start-up problems in kiosk diag)")
        local_code = self.outbox.enqueue(dossier, attachments)
        result = None
        try:
            result = self.sync.submit_now(session.dossier_uuid, timeout=float(self.cfg["outbox"].get("submit_wait_s", 8.0)))
        except Exception as exc:  # noqa: BLE001 - the dossier is safe in the outbox either way
            log.warning("immediate submit failed, the outbox will retry: %s", type(exc).__name__)
        if result is not None:
            appointment = _as_date(getattr(result, "appointment_date", None)) or engine.appointment_date(created)
            outcome = SubmitOutcome(False, result.dossier_code, result.lookup_secret, appointment, created, {})
        else:
            # the key printed with the TAM code: central finds the dossier by both once it is sent
            queued = self.outbox.get(session.dossier_uuid, decrypt=False)
            outcome = SubmitOutcome(True, local_code, queued.local_secret if queued is not None else "",
                                    engine.appointment_date(created), created, {})
        outcome.payment_due = self.payable(outcome, engine)
        try:
            outcome.receipt = self.receipt_data(dossier, outcome, result, engine)
            if outcome.payment_due:
                # printed by finish_receipt once the pay screen knows whether it was paid, so the
                # paper says so
                outcome.receipt["_fee"] = dossier.get("fee")
            else:
                layout = "provisional_receipt" if outcome.provisional else "receipt"
                self._print(layout, outcome.receipt, outcome)
                outcome.preview_png = self.preview_png(layout, outcome.receipt)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.error("receipt for %s could not be made: %s", outcome.code, "".join(traceback.format_exception(exc)))
            outcome.print_error = outcome.print_error or BilingualError(en="The receipt could not be made.",
                                                                        vi="Không tạo được biên nhận.")
        log.info("dossier %s for flow %s v%s: %s", outcome.code, session.flow.id, session.flow.version,
                 "provisional" if outcome.provisional else "received")
        return outcome

    # --- the fee paid at the kiosk with VietQR (issue 22) ------------------------------------------
    @property
    def payments_on(self) -> bool:
        return bool(self.cfg["payments"]["enabled"]) and self.client is not None

    def payable(self, outcome: SubmitOutcome, engine) -> int:
        """The amount (đồng) the citizen may pay at the kiosk for ``outcome``: the flow's fee for a
        dossier central confirmed; 0 when payments are off, the dossier is provisional (central
        does not know a TAM code yet: paid at the counter), or ``common.money.payable_amount`` says
        so (the central system's rule too): nothing to pay, an amount set by the province (told at
        the counter), or a fee an admin has not confirmed (``unconfirmed``: paid at the counter)."""
        if not self.payments_on or outcome.provisional or engine is None:
            return 0
        from common.money import payable_amount

        return payable_amount(engine.fee())

    def payment_qr(self, outcome: SubmitOutcome) -> str:
        """The VietQR payload the pay screen draws: the centre's account, the amount, the dossier
        code as the bill number and the purpose (the one payment reference of the dossier)."""
        from common.vietqr import build_payload

        p = self.cfg["payments"]
        return build_payload(p["bank_bin"], p["account"], outcome.payment_due, outcome.code,
                             purpose=outcome.code)

    def payment(self, code: str) -> dict:
        """Central's payment of one of this kiosk's dossiers (kiosk.client.CentralClient.payment)."""
        return self.client.payment(code)

    def finish_receipt(self, outcome: SubmitOutcome, payment: dict | None) -> SubmitOutcome:
        """Print the receipt the submit held back for the payment, saying whether the fee was paid
        (``payment``: central's object, or None: not known, to be paid at the counter). Never
        raises: the dossier is filed whatever the printer does."""
        with self._lock:  # the pay screen and an idle wipe may both ask: one receipt
            if not outcome.payment_due or outcome.payment is not None:
                return outcome
            outcome.payment = payment or {"state": "unpaid", "amount_due": outcome.payment_due}
        try:
            from devices.printer.receipt_data import payment_text

            receipt = {k: v for k, v in outcome.receipt.items() if not k.startswith("_")}
            receipt["payment"] = payment_text(outcome.payment, outcome.receipt.get("_fee"))
            outcome.receipt = receipt
            self._print("receipt", receipt, outcome)
            outcome.preview_png = self.preview_png("receipt", receipt)
        except Exception as exc:  # noqa: BLE001 - as in submit: the citizen still has the code on screen
            log.error("receipt for %s could not be made: %s", outcome.code, "".join(traceback.format_exception(exc)))
            outcome.print_error = outcome.print_error or BilingualError(en="The receipt could not be made.",
                                                                        vi="Không tạo được biên nhận.")
        log.info("dossier %s: fee %s at the kiosk", outcome.code, outcome.payment.get("state"))
        return outcome

    @property
    def sim_bank(self) -> bool:
        """The demo's simulated bank exists only on a simulated kiosk whose embedded central holds a
        gateway secret: nowhere else can the kiosk pretend a citizen paid."""
        from kiosk.deployment import simulated

        return simulated(self.cfg) and bool(self.cfg["central"].get("payment_gateway_secret"))

    def sim_pay(self, code: str, amount: int) -> dict:
        """The simulated bank (kiosk.sim_bank): tell the central system that ``amount`` was paid for
        dossier ``code``, signed as the gateway signs. Returns central's answer with its HTTP
        ``status``. Refused on any kiosk that is not the simulated demo."""
        from kiosk import sim_bank

        if not self.sim_bank:
            raise PermissionError("the simulated bank exists only in the simulated demo")
        try:
            answer = sim_bank.pay(self.cfg["central"]["url"], self.cfg["central"]["payment_gateway_secret"], code, amount)
        except sim_bank.BankRefused as exc:
            return {"status": exc.status, "result": "refused", "error": exc.code}
        return {"status": 200, **answer}

    def receipt_data(self, dossier: dict, outcome: SubmitOutcome, result=None, engine=None) -> dict:
        """The data of the receipt (or the provisional slip) for ``outcome``. ``engine``, the visit's
        flow engine, names the originals the citizen must bring (none without it)."""
        from devices.printer.receipt_data import (
            provisional_from_dossier,
            receipt_from_dossier,
        )
        from devices.qr.payloads import build_receipt_qr
        from flows.steps.receipt import originals_to_bring

        qr = build_receipt_qr(
            dossier_code=outcome.code, lookup_secret=outcome.lookup_secret,
            procedure_code=dossier["procedure"]["code"],  # no ID number: anyone can read a receipt's QR
            received_at=outcome.received_at, appointment=outcome.appointment_date,
        )
        centre = self.kiosk["centre_name"]
        # the paper is Vietnamese only (an official form), whatever language the screen was in
        originals = [d.name["vi"] for d in originals_to_bring(engine)] if engine is not None else []
        counter = self.kiosk.get("result_counter") or ""  # empty: the layout's general wording
        if outcome.provisional:
            return provisional_from_dossier(dossier, local_code=outcome.code, centre_name=centre, lookup_qr=qr,
                                            notes=PROVISIONAL_NOTES, originals=originals, counter=counter,
                                            lookup_secret=outcome.lookup_secret)
        answer = result.as_dict() if hasattr(result, "as_dict") else {}
        answer.setdefault("dossier_code", outcome.code)
        answer["appointment_date"] = outcome.appointment_date
        return receipt_from_dossier(dossier, answer, centre_name=centre, lookup_qr=qr, notes=RECEIPT_NOTES,
                                    originals=originals, counter=counter,
                                    opens=self.kiosk.get("office_opens") or None)

    def preview_png(self, layout: str, data: dict) -> bytes:
        import io

        from devices.printer import render_preview

        buf = io.BytesIO()
        render_preview(layout, data, self.cfg["devices.printer"]["profile"]).save(buf, format="PNG")
        return buf.getvalue()

    def _print(self, layout: str, data: dict, outcome) -> None:
        if self.printer is None:
            outcome.print_error = BilingualError(en="The printer is not ready.", vi="Máy in chưa sẵn sàng.")
            return
        try:
            job = self.printer.print_layout(layout, data)
            outcome.printed = True
            png = getattr(job, "png_path", None)
            outcome.png_path = str(png) if png else None
        except Exception as exc:  # noqa: BLE001 - the citizen still gets the code on screen
            outcome.print_error = (exc if isinstance(exc, BilingualError)
                                   else BilingualError(en="The printer did not answer.", vi="Máy in không phản hồi."))
            log.error("printing %s failed: %s", layout, type(exc).__name__)

    def lookup(self, code: str, secret: str) -> dict | None:
        return self.client.status(code, secret)

    # --- queue tickets and ratings (no personal data) ---------------------------------------------
    # One queue per centre, kept by central (issue 19): the kiosk asks for a number; while central
    # cannot be reached it gives one of the numbers central reserved for it (kiosk.queue_blocks)
    # and reports it later through the outbox. Never a number of its own making: two kiosks of a
    # centre must never both call A001.
    def _queue_blocks(self):
        from kiosk.queue_blocks import QueueBlocks

        with self._lock:
            if getattr(self, "_blocks", None) is None:
                self._blocks = QueueBlocks(self.data_dir / "queue_blocks.json")
            return self._blocks

    def queue_services(self) -> list[tuple[str, str]]:
        """(service_id, Vietnamese name) of every field the ticket screen lists."""
        if self.registry is None:
            return []
        return [(str(key), flows[0].field.get("vi", str(key)) if isinstance(flows[0].field, dict) else str(flows[0].field))
                for key, flows in self.registry.by_field().items()]

    def reserve_offline_blocks(self, services: list[tuple[str, str]] | None = None) -> int:
        """Reserve a block of numbers for each service holding fewer than half a block (at start and
        after a ticket); returns how many blocks were reserved. Central unreachable: nothing now,
        the next ticket online tries again."""
        from kiosk.client import CentralClientError

        if self.client is None:
            return 0
        blocks, got = self._queue_blocks(), 0
        for service_id, name in services if services is not None else self.queue_services():
            if not blocks.needs_more(service_id):
                continue
            try:
                blocks.add(service_id, self.client.reserve_block(service_id, name, blocks.size, timeout=TICKET_WAIT_S))
                got += 1
            except CentralClientError as exc:
                log.info("no offline queue block for %s now: %s", service_id, type(exc).__name__)
                break  # central is not answering: the other services would wait as long
        return got

    def _top_up_later(self, service_id: str, service_name: str) -> None:
        # after the citizen has their ticket, not before: the reservation is not their wait
        if self.client is None or not self._queue_blocks().needs_more(service_id):
            return
        threading.Thread(target=self.reserve_offline_blocks, args=([(service_id, service_name)],),
                         name="queue-blocks", daemon=True).start()

    def issue_ticket(self, service_id: str, service_name: str, dossier_code: str = "") -> TicketOutcome:
        """A number from the centre's queue (``TICKET_WAIT_S`` at most: at peak the network is
        slow and the citizen is standing there), else one of this kiosk's reserved numbers,
        reported to central through the outbox; else no number, and the outcome says so
        (``refused``): the reception counter gives one. ``dossier_code``: the dossier just filed,
        whose originals the citizen brings to the counter (the officer who calls the number sees
        it); only an online ticket carries it."""
        from kiosk.client import CentralClientError

        uid = str(uuidlib.uuid4())
        now = clock.now()
        ticket = None
        if self.client is not None:
            try:
                ticket = self.client.take_ticket(uid, service_id, service_name, timeout=TICKET_WAIT_S,
                                                 dossier_code=dossier_code)
            except CentralClientError as exc:
                log.warning("queue ticket for %s from central failed (%s): the offline block", service_id, type(exc).__name__)
        if ticket is not None:
            outcome = TicketOutcome(str(ticket["number"]), service_name, _int_or_none(ticket.get("people_ahead")),
                                    printed=False, estimated_wait_min=_int_or_none(ticket.get("estimated_wait_min")))
            self._top_up_later(service_id, service_name)
        else:
            taken = self._queue_blocks().take(service_id)
            if taken is None or self.outbox is None:
                log.warning("no queue number for %s: central unreachable and no reserved number left", service_id)
                return TicketOutcome("", service_name, None, printed=False, refused=BilingualError(
                    code="no_ticket",
                    vi="Hiện ki-ốt chưa cấp được số thứ tự. Xin mời Quý khách đến quầy tiếp nhận để được cấp số.",
                    en="The kiosk cannot give a queue number right now. Please ask at the reception counter for one."))
            day, prefix, seq = taken
            # kept before it is shown: the number reaches central's waiting line whenever the network allows
            self.outbox.enqueue_message("queue_ticket", {"uuid": uid, "service_id": service_id, "day": day, "seq": seq,
                                                         "issued_at": now.isoformat(timespec="seconds")}, uuid=uid)
            outcome = TicketOutcome(f"{prefix}{seq:03d}", service_name, None, printed=False, offline=True)
            log.info("queue ticket %s given offline from the reserved block", outcome.number)
        data = {"number": outcome.number, "service": service_name, "counter": "", "issued_at": now,
                "people_ahead": outcome.people_ahead or 0, "ahead_text": ticket_wait_text(outcome),
                "centre_name": self.kiosk["centre_name"]}
        self._print("ticket", data, outcome)
        return outcome

    def record_rating(self, level: str, reason: str = "", service_id: str = "") -> None:
        """Keep a rating in the outbox (level, reason from the fixed choices, service if known,
        time: nothing about the person); the sync worker sends it to central."""
        level = RATING_LEVELS.get(level, level)
        if level not in RATING_LEVELS.values():
            raise ValueError(f"unknown rating level {level!r}")
        uid = str(uuidlib.uuid4())
        body = {"uuid": uid, "level": level, "reason": (reason or "")[:200],
                "rated_at": clock.now().isoformat(timespec="seconds")}
        if service_id:
            body["service_id"] = service_id
        if self.outbox is None:
            log.warning("rating not kept: the outbox is not open")
            return
        self.outbox.enqueue_message("rating", body, uuid=uid)
        if self.sync is not None and self.sync.running:
            self.sync.send_message_now(uid, timeout=0)  # a nudge; the citizen does not wait for it

    # --- help calls (no personal data: the kiosk, the step, the screen, the waiting time) ------------
    def call_help(self, flow_id: str, step_id: str, step_title: str, screen: str, waiting_s: float,
                  language: str = "vi") -> HelpCall:
        """A citizen asks for a staff member. The call is kept in the outbox first (fsynced) and
        sent at once; when central does not answer within ``HELP_CALL_SEND_WAIT_S`` it stays
        queued (``queued_offline``) and the sync worker sends it when the network returns, unless
        30 minutes have passed. Without an outbox one direct try is made; its failure raises."""
        now = clock.now()
        uid = str(uuidlib.uuid4())
        body = {
            "uuid": uid,
            # values central would refuse are left out rather than losing the call
            "flow_id": flow_id if _HELP_SLUG.fullmatch(flow_id or "") else "",
            "step_id": step_id if _HELP_SLUG.fullmatch(step_id or "") else "",
            "step_title": (step_title or "").replace("\x00", "")[:200],
            "screen": screen if _HELP_SCREEN.fullmatch(screen or "") else "unknown",
            "language": "en" if language == "en" else "vi",
            "waiting_s": max(0, min(86400, int(waiting_s or 0))),
            "called_at": now.isoformat(timespec="seconds"),
        }
        call = HelpCall(uid, body, now, "queued_offline")
        if self.outbox is not None:
            self.outbox.enqueue_message("help_call", body, uuid=uid, expires_at=now + HELP_CALL_MAX_AGE)
            msg = self.sync.send_message_now(uid, timeout=HELP_CALL_SEND_WAIT_S) if self.sync is not None else None
            if msg is not None and msg.state == "sent":
                call.state = "sent"
            log.info("help call %s from screen %s: %s", uid[:8], body["screen"], call.state)
            return call
        from kiosk.client import CentralClientError

        try:
            if self.client is None:
                raise CentralClientError(en="no central client")
            self._apply_help_answer(call, self.client.create_help_call(body))
        except CentralClientError as exc:
            raise BilingualError(en="The call could not be sent; please go to the information desk.",
                                 vi="Chưa gọi được cán bộ. Xin mời Quý khách đến quầy hướng dẫn.",
                                 code="help_call_failed", detail=str(exc)) from None
        return call

    def help_call_state(self, call: HelpCall) -> HelpCall:
        """Bring ``call`` up to date (from the outbox while it is queued, else from central); when
        central cannot be asked, the last known state stays. Returns the same object."""
        from kiosk.client import CentralClientError

        if call.state in ("cancelled", "expired"):
            return call
        if call.state == "queued_offline":
            msg = self.outbox.message(call.uuid, decrypt=False) if self.outbox is not None else None
            if msg is None:
                return call
            if msg.state == "pending":
                if msg.expired() and self.outbox.drop_message(call.uuid, "expired"):
                    call.state = "expired"
                return call
            if msg.state == "dropped":
                call.state = "cancelled" if msg.result == "cancelled" else "expired"
                return call
            call.state = "sent"
        if self.client is None:
            return call
        try:
            answer = self.client.help_call(call.uuid)
        except CentralClientError:
            return call  # it did reach central; the network is slow now, not the call lost
        if answer is not None:
            self._apply_help_answer(call, answer)
        return call

    def cancel_help_call(self, call: HelpCall) -> HelpCall:
        """The citizen cancels (or the visit ends). A call still queued is not sent any more; one
        that reached central (or may have: on its way right now) gets a cancellation, queued in
        the outbox too, so that the staff's list loses it whenever the network allows."""
        if call.state == "cancelled":
            return call
        if self.outbox is not None:
            self.outbox.drop_message(call.uuid, "cancelled")
            # the same cancellation every time for one call: asking twice sends it once
            cancel_uid = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"kiosk-help-call-cancel:{call.uuid}"))
            self.outbox.enqueue_message("help_call_cancel", {}, uuid=cancel_uid, subject=call.uuid)
            if self.sync is not None:
                self.sync.send_message_now(cancel_uid, timeout=HELP_CALL_SEND_WAIT_S)
        elif self.client is not None:
            from kiosk.client import CentralClientError

            try:
                self.client.cancel_help_call(call.uuid)
            except CentralClientError as exc:
                log.warning("help call %s: cancel not delivered (%s)", call.uuid[:8], type(exc).__name__)
        call.state = "cancelled"
        call.cancelled_at = clock.now().isoformat(timespec="seconds")
        log.info("help call %s cancelled", call.uuid[:8])
        return call

    def confirm_identity(self, call: HelpCall | None, code: str) -> str:
        """An officer confirms the citizen's identity with the one-time code the console gave them
        for this visit's help call (issue 21): returns the account central names (for the dossier's
        ``face.confirmed_by``). Central's refusal (wrong code, expired…) is raised with its words;
        no call or no network says to use the staff PIN instead."""
        from kiosk.client import CentralClientError, Rejected

        def offline(detail: str = "") -> BilingualError:
            return BilingualError(vi="Chưa kết nối được với máy chủ để kiểm tra mã. Cán bộ có thể dùng mã PIN của ki-ốt.",
                                  en="The code cannot be checked without the central system. Staff may use the kiosk PIN.",
                                  code="confirm_offline", detail=detail)

        if call is None or call.state not in ("sent", "acknowledged") or self.client is None:
            raise offline()
        try:
            answer = self.client.confirm_help_call(call.uuid, code)
        except Rejected as exc:
            # central's own Vietnamese words (how many tries are left…); English by the reason
            en = _CONFIRM_REFUSED_EN.get(exc.code, "The code was not accepted; the officer takes a new one on the console.")
            raise BilingualError(vi=exc.message_vi if exc.message_vi != Rejected.message_vi else "Mã chưa đúng.",
                                 en=en, code="confirm_refused", detail=f"HTTP {exc.status} {exc.code}") from None
        except CentralClientError as exc:
            raise offline(type(exc).__name__) from None
        log.info("help call %s: identity confirmed by an officer's code", call.uuid[:8])
        return answer["confirmed_by"]

    @staticmethod
    def _apply_help_answer(call: HelpCall, answer: dict) -> None:
        state = answer.get("state")
        call.state = {"open": "sent", "acknowledged": "acknowledged", "cancelled": "cancelled"}.get(state, call.state)
        call.acknowledged_at = answer.get("acknowledged_at") or call.acknowledged_at
        call.cancelled_at = answer.get("cancelled_at") or call.cancelled_at


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
