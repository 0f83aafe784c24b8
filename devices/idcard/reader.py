"""Reader orchestration for the kiosk: access control (PACE first, BAC fallback), file reads,
passive and active authentication, and the :class:`Person` the forms are filled from.

Contract (docs/architecture.md): ``open_reader(cfg) -> CardReader``; ``reader.read(key, groups,
progress, cancel) -> CardRead``; ``AccessKey.from_can / from_mrz / from_qr``.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Callable

from common import clock
from common.health import Health, State
from devices.idcard import lds, passive
from devices.idcard.apdu import FID_CARD_ACCESS, FID_DG, FID_SOD, SW_OK, Command, select_aid
from devices.idcard.bac import perform_bac
from devices.idcard.dg13 import DG13, parse_dg13
from devices.idcard.errors import (CardError, ParseError, ReaderUnavailable, SecureMessagingError, StatusError,
                                   UnsupportedCard, VerificationFailed, WrongKey)
from devices.idcard.mrz import MRZ, key_seed_info, parse_td1, vn_expiry
from devices.idcard.pace import PacePassword, perform_pace
from devices.idcard.passive import FAILED, NOT_CHECKED, OK, Check
from devices.idcard.securityinfo import aa_hash, parse_security_infos
from devices.idcard.session import LADDER, SHORT_RESPONSE, ChipSession, SizeRefused

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]


class KeyFormatError(CardError, ValueError):
    message_vi = "Mã truy cập không hợp lệ. Vui lòng nhập đúng 6 chữ số cuối của số định danh cá nhân."
    message_en = "The access key is malformed."


# --- access key ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessKey:
    """What unlocks the chip: a CAN, MRZ data, or both (from the card's QR code)."""

    can: str | None = None
    mrz_info: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"AccessKey(can={'set' if self.can else None}, mrz={'set' if self.mrz_info else None})"

    @classmethod
    def from_can(cls, can: str) -> "AccessKey":
        can = (can or "").strip()
        if not re.fullmatch(r"\d{6}", can):
            raise KeyFormatError(detail="CAN must be 6 digits")
        return cls(can=can)

    @classmethod
    def from_mrz(cls, doc_number: str, birth: date, expiry: date | None) -> "AccessKey":
        doc_number = (doc_number or "").strip().upper()
        if re.fullmatch(r"\d{12}", doc_number):
            doc_number = doc_number[-9:]      # Vietnamese cards: the last 9 digits of the ID
        # up to 22: 9 in the number field, 13 more overflowing into a TD1's optional data
        if not re.fullmatch(r"[A-Z0-9<]{1,22}", doc_number):
            raise KeyFormatError(detail="document number must be 1–22 letters or digits (or the 12-digit ID)")
        return cls(mrz_info=key_seed_info(doc_number, birth, expiry))

    @classmethod
    def from_mrz_lines(cls, text: str) -> "AccessKey":
        try:
            m = parse_td1(text)
        except ParseError as exc:
            raise KeyFormatError(detail=str(exc)) from None
        if m.date_of_birth is None:
            raise KeyFormatError(detail="MRZ without a birth date")
        # the number as printed (a long one overflowed into the optional data), never shortened
        return cls(mrz_info=key_seed_info(m.document_number, m.date_of_birth, m.date_of_expiry))

    @classmethod
    def from_qr(cls, payload: str) -> "AccessKey":
        """CCCD QR ``ID|oldID|name|DDMMYYYY birth|sex|address|DDMMYYYY issue`` → CAN and BAC key."""
        parts = [p.strip() for p in (payload or "").strip().split("|")]
        if not parts or not re.fullmatch(r"\d{12}", parts[0]):
            raise KeyFormatError(detail="QR payload does not start with a 12-digit ID")
        id_number = parts[0]
        dates = []
        for p in parts[1:]:
            if re.fullmatch(r"\d{8}", p):
                try:
                    dates.append(datetime.strptime(p, "%d%m%Y").date())
                except ValueError:
                    pass
        mrz_info = None
        if len(dates) >= 2 and dates[1] >= dates[0]:
            birth, issued = dates[0], dates[1]
            mrz_info = key_seed_info(id_number[-9:], birth, vn_expiry(birth, issued))
        return cls(can=id_number[-6:], mrz_info=mrz_info)


# --- results --------------------------------------------------------------------------------------
@dataclass
class Person:
    id_number: str | None = None
    full_name: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    home_town: str | None = None
    residence: str | None = None
    identifying_marks: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None          # None with "no_expiry" True means the card never expires
    no_expiry: bool = False
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    old_id_number: str | None = None
    missing: list[str] = field(default_factory=list)      # fields absent or unreadable on the chip
    unreadable: list[str] = field(default_factory=list)   # subset of ``missing``: present but not decodable

    def __repr__(self) -> str:  # in a log line or a traceback: which fields were read, never their values
        held = [k for k in self.__dataclass_fields__ if k not in ("missing", "unreadable")
                and getattr(self, k) not in (None, False, "")]
        return f"Person(read={held}, missing={self.missing})"

    def as_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, date):
                d[k] = v.isoformat()
        return d


@dataclass
class CardRead:
    person: Person
    access_control: str                      # "PACE" | "BAC"
    checks: dict[str, Check]
    clone_check: Check
    photo_jpeg: bytes | None = None
    photo_mime: str | None = None
    mrz: MRZ | None = None
    groups: list[str] = field(default_factory=list)
    apdu_log: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """True only when every passive-authentication check is ok and no clone check failed."""
        pa = all(self.checks.get(k, Check(NOT_CHECKED)).status == OK for k in ("hashes", "signature", "chain"))
        return pa and self.clone_check.status != FAILED and all(c.status != FAILED for c in self.checks.values())

    def checks_summary(self) -> dict[str, str]:
        return {k: v.status for k, v in self.checks.items()}

    def __repr__(self) -> str:  # the person and the MRZ mask themselves; the photo is a size
        photo = f"{len(self.photo_jpeg)} bytes" if self.photo_jpeg else None
        return (f"CardRead({self.person!r}, access_control={self.access_control!r}, checks={self.checks_summary()}, "
                f"groups={self.groups}, photo={photo}, mrz={self.mrz!r})")


_DATE_RX = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _date(s: str | None) -> date | None:
    if not s:
        return None
    m = _DATE_RX.fullmatch(s.strip())
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def person_from(dg13: DG13 | None, mrz: MRZ | None) -> Person:
    p = Person()
    if dg13 is not None:
        g = dg13.get
        p.id_number = g(1)
        p.full_name = g(2)
        p.date_of_birth = _date(g(3))
        p.sex = g(4)
        p.nationality = g(5)
        p.ethnicity = g(6)
        p.religion = g(7)
        p.home_town = g(8)
        p.residence = g(9)
        p.identifying_marks = g(10)
        p.issue_date = _date(g(11))
        exp = g(12)
        if exp and unicodedata.normalize("NFC", exp).lower().startswith("không"):
            p.no_expiry = True
        else:
            p.expiry_date = _date(exp)
        p.father_name, p.mother_name = g(13, 0), g(13, 1)
        p.spouse_name = g(14)
        for n in (15, 16):
            v = g(n)
            if v and re.fullmatch(r"\d{9}|\d{12}", v) and v != p.id_number:
                p.old_id_number = v
                break
        from devices.idcard.dg13 import FIELD_NAMES
        p.unreadable = sorted(FIELD_NAMES[n] for n in dg13.unreadable if n in FIELD_NAMES)
    if mrz is not None:
        p.id_number = p.id_number or mrz.id_number
        p.date_of_birth = p.date_of_birth or mrz.date_of_birth
        if p.full_name is None and mrz.full_name:
            p.full_name = mrz.full_name     # ASCII only: the MRZ has no diacritics
        if p.sex is None and mrz.sex:
            p.sex = {"M": "Nam", "F": "Nữ"}[mrz.sex]
        if p.expiry_date is None and not p.no_expiry:
            p.expiry_date = mrz.date_of_expiry
    wanted = ["id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
              "home_town", "residence", "issue_date", "father_name", "mother_name", "spouse_name", "old_id_number"]
    p.missing = [k for k in wanted if getattr(p, k) in (None, "")]
    if p.expiry_date is None and not p.no_expiry:
        p.missing.append("expiry_date")
    return p


# --- the reader -----------------------------------------------------------------------------------
_LABELS = {
    "connect": "Đang kết nối với chip…",
    "auth": "Đang xác thực truy cập chip…",
    "data": "Đang đọc thông tin cá nhân…",
    "photo": "Đang đọc ảnh chân dung…",
    "verify": "Đang kiểm tra chữ ký số…",
    "done": "Đã đọc xong thẻ.",
}


class CardReader:
    """One card reader. Thread-safe for one read at a time; ``read`` runs in a worker thread."""

    backend = "pcsc"

    def __init__(self, transport, *, trust_store: str | os.PathLike | None = None,
                 rng: Callable[[int], bytes] = os.urandom, timeout_s: float = 30.0, name: str = "",
                 read_sizes: tuple[int, ...] = LADDER, max_response: int = SHORT_RESPONSE,
                 quirks=None, apdu_log=None):
        self.transport = transport
        # READ BINARY sizes tried in order (65536 = extended length) and the largest answer the
        # reader carries; a transport that knows its reader's quirks (PC/SC, once connected) wins
        self.read_sizes = read_sizes
        self.max_response = max_response
        self.quirks = quirks             # devices.idcard.quirks.ReaderQuirks of a reader known at build (sim)
        self.apdu_log = apdu_log         # devices.idcard.apdu_log.ApduLogWriter, or None
        self.trust_store_path = trust_store
        self.rng = rng
        self.timeout_s = timeout_s
        self.name = name
        self.size_cap: int | None = None  # sizes from this one up made the reader drop the exchange
        self._trust = None
        self._lock = threading.Lock()
        self._log: list[str] = []

    # --- lifecycle -----------------------------------------------------------------------------
    def open(self) -> None:
        """Load the trust store (once; a read opens the reader itself if nobody did). The card
        reader itself is reached per read, so a reader plugged in later just works."""
        if self._trust is None:
            self._trust = passive.load_trust_store(self.trust_store_path)

    def close(self) -> None:
        try:
            self.transport.close()
        except CardError:
            pass

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def card_present(self) -> bool:
        try:
            return bool(self.transport.card_present())
        except CardError:
            return False

    def watch(self, on_insert: Callable[[], None], on_remove: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_insert``/``on_remove`` (from another thread) as cards come and go; returns a
        function that stops watching. The kiosk hands these to the UI with Clock.schedule_once."""
        return self.transport.watch(on_insert, on_remove)

    def health(self) -> Health:
        facts = {"backend": self.backend, "trust_store_certs": len(self._trust or [])}
        try:
            present = self.transport.card_present()
        except ReaderUnavailable as exc:
            return Health(State.NEEDS_ATTENTION, f"card reader not available: {exc.detail}",
                          "plug the card reader in and check that pcscd runs", facts)
        except CardError as exc:
            return Health(State.FAILED, f"card reader error: {exc.detail}", "restart pcscd or the kiosk", facts)
        facts["card_present"] = present
        if self._trust is None:
            return Health(State.NOT_READY, "card reader not opened (trust store not loaded yet)", "", facts)
        if not self._trust:
            return Health(State.NEEDS_ATTENTION, "trust store is empty: chip signatures cannot be checked",
                          "put the CSCA certificates in the folder named by devices.idcard.trust_store", facts)
        return Health(State.OK, "card reader ready", "", facts)

    # --- the read ------------------------------------------------------------------------------
    def read(self, key: AccessKey, groups=("DG1", "DG13"), progress: ProgressFn | None = None,
             cancel: threading.Event | None = None, timeout_s: float | None = None,
             active_auth: bool = True, require_verified: bool = False) -> CardRead:
        """Read ``groups`` (DG2 only when the photo is needed) and verify them.

        ``active_auth=False`` skips DG14/DG15 and INTERNAL AUTHENTICATE (the clone check is then
        reported as not_checked). Raises a :class:`CardError` subclass; failed verification checks
        do not raise: they are in ``CardRead.checks`` and make ``CardRead.verified`` false, unless
        ``require_verified`` is set, which raises :class:`VerificationFailed` (``.result`` holds the read).
        """
        bad = [g for g in groups if not re.fullmatch(r"DG([1-9]|1[0-6])", str(g).upper())]
        if bad:
            raise ValueError(f"unknown data groups: {bad}")
        if not self._lock.acquire(blocking=False):
            raise CardError(detail="another read is in progress")
        self._log = []
        result = None
        outcome = "error"
        try:
            deadline = time.monotonic() + (timeout_s or self.timeout_s)
            try:
                result = self._read(key, tuple(groups), progress, cancel, deadline, active_auth)
            except SizeRefused as exc:
                # the reader cannot carry this size (no extended APDUs, a frame too small): once
                # more from the start without it, and the same for every later read on this reader
                if not self._cap(exc.size):
                    raise
                self._log.append(f"--- the reader dropped Le={exc.size}: reading again with smaller READ BINARYs ---")
                result = self._read(key, tuple(groups), progress, cancel, deadline, active_auth)
            outcome = "ok" if result.verified else "checks failed: " + ", ".join(
                k for k, v in result.checks.items() if v.status != OK)
            if require_verified and not result.verified:
                failed = [k for k, v in result.checks.items() if v.status == FAILED or (
                    k in ("hashes", "signature", "chain") and v.status != OK)]
                err = VerificationFailed(detail="checks not ok: " + ", ".join(failed))
                err.result = result
                raise err
            return result
        except ParseError as exc:
            outcome = f"error: UnsupportedCard ({exc.detail})"
            raise UnsupportedCard(detail=f"unexpected data on the chip: {exc.detail}") from None
        except CardError as exc:
            if result is None:
                outcome = f"error: {type(exc).__name__}" + (f" ({exc.detail})" if exc.detail else "")
            raise
        except AssertionError:
            raise                        # a test double's own check (ReplayTransport), not the chip's data
        except Exception as exc:  # noqa: BLE001
            # a chip answering outside every structure we parse must not reach the citizen as a traceback
            log.warning("unexpected chip data: %s", type(exc).__name__)
            outcome = f"error: UnsupportedCard ({type(exc).__name__})"
            raise UnsupportedCard(detail=f"unexpected data on the chip ({type(exc).__name__})") from None
        finally:
            self._lock.release()
            try:
                self.transport.close()
            except CardError:
                pass
            self._write_apdu_log(outcome, result)

    def _cap(self, size: int) -> bool:
        """Never ask ``size`` or more again; False when no smaller size is left to try."""
        if not [s for s in self._ladder() if s < size]:
            return False
        self.size_cap = size if self.size_cap is None else min(self.size_cap, size)
        log.warning("card reader %r dropped a READ BINARY of %d bytes; using smaller ones from now on "
                    "(set [devices.idcard] %s to make it permanent)", self._reader_name(), size,
                    'read_extended = "no"' if size > 256 else f"read_chunk = {max(s for s in self._ladder() if s < size)}")
        return True

    def _reader_quirks(self):
        """The quirks of the reader of this read: the transport's (PC/SC, known once connected) or
        those given at build (sim), or None."""
        return getattr(self.transport, "quirks", None) or self.quirks

    def _reader_name(self) -> str:
        return getattr(self.transport, "reader_name", None) or self.name

    def _ladder(self) -> tuple[int, ...]:
        q = getattr(self.transport, "quirks", None)
        sizes = q.read_sizes if q is not None else self.read_sizes
        if self.size_cap is not None:
            sizes = tuple(x for x in sizes if x < self.size_cap)
        return sizes

    def _max_response(self) -> int:
        q = getattr(self.transport, "quirks", None)
        return q.max_response if q is not None else self.max_response

    def _write_apdu_log(self, outcome: str, result: "CardRead | None") -> None:
        if self.apdu_log is None:
            return
        try:
            from devices.idcard.apdu_log import format_log

            q = self._reader_quirks()
            text = format_log(self._log, at=clock.now(), reader=self._reader_name(),
                              quirks=q.summary() if q is not None else None, outcome=outcome,
                              stats=result.stats if result is not None else None)
            self.apdu_log.write(text)
        except Exception:  # noqa: BLE001 - the log is for technicians; the read's outcome stands
            log.exception("APDU log not written")

    def _read(self, key, groups, progress, cancel, deadline, active_auth=True) -> CardRead:
        if self._trust is None:
            self.open()
        wanted = sorted({int(g.upper().removeprefix("DG")) for g in groups})
        report = progress or (lambda f, label: None)
        report(0.0, _LABELS["connect"])
        started = time.monotonic()
        self.transport.connect()
        s = ChipSession(self.transport, cancel=cancel, deadline=deadline, ladder=self._ladder(),
                        max_response=self._max_response())
        s.log = self._log                # the same list: the APDU log keeps what a failed read did

        method = self._access_control(s, key)
        report(0.2, _LABELS["auth"])

        # read the SOD first: it lists the data groups the chip holds, sized for progress
        sod_raw = s.read_file(FID_SOD)
        present: set[int] = set()
        sod = None
        if sod_raw is not None:
            try:
                sod = passive.parse_sod(sod_raw)
                present = set(sod.dg_hashes)
            except (ParseError, IndexError):
                present = set(wanted)
        else:
            present = set(wanted)
        to_read = [n for n in wanted if n in present]
        # DG14 (which AA algorithm) and DG15 (the AA public key) are small: always read for clone detection
        extra = [n for n in (14, 15) if active_auth and n in present and n not in to_read]
        plan = to_read + extra
        raw: dict[int, bytes] = {}
        total_steps = max(1, len(plan))
        for i, n in enumerate(plan):
            report(0.25 + 0.55 * i / total_steps, _LABELS["photo" if n == 2 else "data"])
            data = s.read_file(FID_DG[n])
            if data is not None:
                raw[n] = data
        report(0.85, _LABELS["verify"])

        checks = passive.passive_authentication(sod_raw, raw, self._trust or [])
        clone = (self._active_auth(s, raw) if active_auth
                 else Check(NOT_CHECKED, "active authentication skipped by the caller"))
        checks["active_authentication"] = clone
        ca = (self._chip_auth(s, raw) if active_auth
              else Check(NOT_CHECKED, "chip authentication skipped by the caller"))
        checks["chip_authentication"] = ca
        if FAILED in (clone.status, ca.status):
            clone = clone if clone.status == FAILED else ca
        elif clone.status != OK:
            clone = ca

        mrz = dg13 = None
        photo = mime = face_facts = None
        try:
            if 1 in raw:
                mrz = lds.parse_dg1(raw[1])
                checks["mrz_check_digits"] = Check(OK if mrz.valid else FAILED, ", ".join(
                    k for k, v in mrz.checks.items() if not v) or "all check digits valid")
            if 13 in raw:
                dg13 = parse_dg13(raw[13])
            if 2 in raw and 2 in wanted:
                photo, mime, face_facts = self._face(raw[2], checks)
        except ParseError as exc:
            # unparseable bytes that also fail their hash were altered: that is a verification failure
            if checks["hashes"].status == FAILED:
                raise VerificationFailed(detail=f"altered data group: {exc.detail}") from None
            raise
        person = person_from(dg13, mrz)
        if mrz is not None and dg13 is not None and dg13.get(1) and mrz.id_number:
            same = dg13.get(1) == mrz.id_number
            checks["consistency"] = Check(OK if same else FAILED,
                                          "DG1 and DG13 carry the same ID" if same else "DG1 and DG13 disagree on the ID")
        report(1.0, _LABELS["done"])
        from common.redact import redact
        result = CardRead(
            person=person, access_control=method, checks=checks, clone_check=clone, photo_jpeg=photo,
            photo_mime=mime, mrz=mrz, groups=[f"DG{n}" for n in sorted(raw)],
            apdu_log=[redact(line) for line in s.log],
            stats={"apdus": s.apdus, "bytes_sent": s.bytes_sent, "bytes_received": s.bytes_received,
                   "block": s.block, "seconds": round(time.monotonic() - started, 4),
                   "file_sizes": {f"DG{n}": len(v) for n, v in raw.items()} | ({"SOD": len(sod_raw)} if sod_raw else {}),
                   **({"face_image": face_facts} if face_facts is not None else {}),
                   "quirks": q.summary() if (q := self._reader_quirks()) is not None else None},
        )
        log.info("card read: %s, %d APDUs, checks %s", method, s.apdus, result.checks_summary())
        return result

    @staticmethod
    def _face(raw: bytes, checks: dict[str, Check]) -> tuple[bytes | None, str | None, dict]:
        """The photo of DG2, its type and what the read reports about it (``stats["face_image"]``).

        Strict on the encoding, tolerant of the card: a DG2 that departs from ISO/IEC 19794-5 or
        39794-5 (a wrong record length, an image data type that is not what the image is, trailing
        bytes) is reported in the facts' ``problems`` and logged, and its image is still shown if
        one is there; a DG2 with no image gives no photo. Neither fails the read: the DG2's bytes
        are proved by the ``hashes`` check, and a genuine card must not be refused for its issuer's
        encoding. An unparseable DG2 whose hash failed was altered: VerificationFailed (below)."""
        try:
            face = lds.parse_dg2(raw)
        except ParseError as exc:
            if checks["hashes"].status == FAILED:
                raise
            log.warning("DG2 holds no usable face image: %s", exc.detail)
            return None, None, {"encoding": "unknown", "conformant": False, "problems": [exc.detail]}
        if face.problems:
            log.warning("DG2 is not conformant: %s", "; ".join(face.problems))
        return face.data, face.mime, face.facts()

    def _access_control(self, s: ChipSession, key: AccessKey) -> str:
        pace_info = None
        try:
            # EF.CardAccess is small and read in the clear: no extended-length probe for it
            raw = s.read_file(FID_CARD_ACCESS, ladder=tuple(x for x in s.ladder if x <= 256) or (128,))
            infos = parse_security_infos(raw) if raw else []
            pace_info = next((i for i in infos if i.supported_pace), None)
        except (StatusError, ParseError, UnsupportedCard):
            pace_info = None
        s.block = None
        errors: list[CardError] = []
        if pace_info is not None and (key.can or key.mrz_info):
            password = PacePassword.can(key.can) if key.can else PacePassword.mrz(key.mrz_info)
            try:
                s.sm = perform_pace(s.plain, password, pace_info.protocol, pace_info.parameter_id or 13, self.rng)
                s.block = None
                r = s.exchange(select_aid())
                if not r.ok:
                    raise StatusError(sw=r.sw, detail="SELECT eMRTD application")
                return "PACE"
            except (WrongKey, UnsupportedCard, StatusError, SecureMessagingError) as exc:
                log.info("PACE failed (%s); trying BAC", type(exc).__name__)
                errors.append(exc)
                s.sm = None
                self.transport.connect()     # a failed PACE leaves the chip in an unknown state: reset it
        if key.mrz_info:
            s.block = None
            r = s.exchange(select_aid())
            if r.sw != SW_OK:
                raise UnsupportedCard(detail=f"eMRTD application not found (SW={r.sw:04X})")
            s.sm = perform_bac(s.plain, key.mrz_info, self.rng)
            s.block = None
            return "BAC"
        if errors:
            raise errors[-1]
        if pace_info is None and key.can:
            raise UnsupportedCard(detail="the chip offers no PACE and only a CAN was given (BAC needs MRZ data)")
        raise UnsupportedCard(detail="no access control possible")

    def _chip_auth(self, s: ChipSession, raw: dict[int, bytes]) -> Check:
        """Runs last: it replaces the session keys, and a chip that fails it ends the session."""
        from devices.idcard import crypto
        from devices.idcard.apdu import FID_COM, select_ef
        from devices.idcard.chipauth import CA_ECDH, ca_commands, parse_ca_key
        from devices.idcard.pace import random_scalar
        from devices.idcard.sm import SecureMessaging

        if 14 not in raw:
            return Check(NOT_CHECKED, "the chip has no DG14")
        try:
            key = parse_ca_key(lds._outer(raw[14], 0x6E, "DG14").value)
        except (ParseError, IndexError) as exc:
            return Check(FAILED, "DG14 holds no usable chip-authentication key" + (
                f" ({exc.detail})" if isinstance(exc, ParseError) and exc.detail else ""))
        if key is None:
            return Check(NOT_CHECKED, "DG14 offers no ECDH chip authentication")
        curve = key.curve
        sk = random_scalar(curve, self.rng)
        shared = curve.mul(sk, key.point)[0].to_bytes(curve.size, "big")
        for cmd in ca_commands(key, curve.encode(curve.mul(sk, curve.g))):
            r = s.exchange(cmd)
            if not r.ok:
                return Check(FAILED, f"chip authentication refused (SW={r.sw:04X})")
        cipher, key_len = CA_ECDH[key.protocol]
        s.sm = SecureMessaging(crypto.kdf(shared, 1, cipher, key_len), crypto.kdf(shared, 2, cipher, key_len), 0, cipher)
        try:
            r = s.exchange(select_ef(FID_COM))
        except SecureMessagingError:
            return Check(FAILED, "the chip could not prove it holds the DG14 key: possible clone")
        if not r.ok:
            return Check(FAILED, f"the chip refused the new session keys (SW={r.sw:04X}): possible clone")
        return Check(OK, f"chip authentication ECDH/{cipher}-{key_len * 8} on {curve.name}")

    def _active_auth(self, s: ChipSession, raw: dict[int, bytes]) -> Check:
        """INTERNAL AUTHENTICATE against the DG15 key (ICAO 9303 p11 §6.1): RSA (ISO/IEC 9796-2
        scheme 1) or ECDSA, named or explicit curve."""
        if 15 not in raw:
            return Check(NOT_CHECKED, "the chip has no DG15 (active authentication key)")
        try:
            key = passive.load_public_key(lds.parse_dg15(raw[15]))
        except passive.Unsupported as exc:
            return Check(NOT_CHECKED, f"DG15 key not supported: {exc}")
        except ParseError:
            return Check(FAILED, "DG15 holds no usable public key")
        h = None
        if 14 in raw:
            try:
                h = aa_hash(lds.parse_dg14(raw[14]))
            except ParseError:
                pass
        challenge = self.rng(8)
        r = s.exchange(Command(0x00, 0x88, 0x00, 0x00, challenge, 256))
        if not r.ok:
            return Check(FAILED, f"INTERNAL AUTHENTICATE refused (SW={r.sw:04X})")
        return passive.verify_active_authentication(key, challenge, r.data, h)
