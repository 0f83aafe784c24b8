"""The central system's rules, independent of HTTP: intake, routing, status, flows, kiosks.

The FastAPI layer (``central.app``) and the CLI (``kiosk central …``) both call this class, so
a staff action from the command line follows exactly the same rules as one over HTTP.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import threading
import time
import uuid as uuidlib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from central import codes, routing
from central.auth import AuthLimiter
from central.db import (
    attachment_owners,
    audit_log,
    attachments,
    bundle_events,
    bundles,
    dossiers,
    help_calls,
    kiosks,
    make_engine,
    next_counter,
    pilot_kiosks,
    status_events,
    write_tx,
)
from common import clock
from flows import calendar, dossier
from common.errors import BilingualError, user_message

log = logging.getLogger(__name__)

# A dossier's life as the officers move it (issue 19): received → processing → needs_papers (the
# citizen must bring more papers; back to processing once they have) → ready (the result waits at
# the counter) → returned (handed back: the result, or the dossier itself when it cannot be
# processed). "done" is the word of API 1.0–1.2 for "ready": rows that hold it stay as they are and
# read as "ready" (the kiosk's lookup says the same words for both); it may still be set from
# processing by an old client, and stays terminal as it was. New callers set "ready".
STATUSES = ("received", "processing", "needs_papers", "ready", "returned", "done")
TRANSITIONS = {
    "received": {"processing", "needs_papers", "returned"},
    "processing": {"needs_papers", "ready", "done", "returned"},
    "needs_papers": {"processing", "ready", "returned"},
    "ready": {"returned"},
    "done": set(),
    "returned": set(),
}
STATUS_SYNONYMS = {"done": "ready"}  # legacy status → what it means now
MAX_ACTOR_CHARS = 200
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
SHA256_HEX = set("0123456789abcdef")
MAX_NOTE_CHARS = 2000
PROVISIONAL_CODE_RX = re.compile(r"TAM-[A-Z0-9]{1,10}-[0-9]{4,}")  # kiosk.outbox's local codes
BUNDLE_ID_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # flows.bundles._BUNDLE_ID


class CentralError(BilingualError):
    """A refusal with an HTTP ``status``, a machine-readable reason ``code`` (the body's ``"error"``)
    and a message for people; any other keyword goes into the response body as it is."""

    def __init__(self, *, status: int, code: str, vi: str | None = None, en: str | None = None, detail: str = "",
                 **extra: Any):
        super().__init__(en=en, vi=vi, code=code, detail=detail)
        self.status, self.extra = status, extra

    def body(self) -> dict[str, Any]:
        extra = dict(self.extra)
        result = extra.pop("result", None) or ("unauthorized" if self.status == 401 else "rejected")
        return {"result": result, "error": self.code, "message_vi": self.message_vi, "message_en": self.message_en, **extra}


@dataclass
class KioskIdentity:
    kiosk_id: str
    province_code: str
    commune_code: str


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def is_sha256(value: str) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= SHA256_HEX


def validate_dossier(body: Any) -> list[str]:
    """Problems with a ``kiosk-dossier/1`` document, as field paths (never the values: they are
    personal): flows.dossier.problem_paths, the same schema the kiosk checks before it stores one,
    which holds the UUID form and the processing_days bound too (one definition for both sides)."""
    if not isinstance(body, dict):
        return ["body"]
    return sorted(set(dossier.problem_paths(body)))


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: Any, *, field: str, max_length: int) -> str:
    """A text a person typed, for the database (an admin note, a rollback reason): bounded, and
    without what UTF-8 or PostgreSQL cannot store (a lone surrogate: the CLI hands over undecodable
    argument bytes as those; a NUL)."""
    if not isinstance(value, str) or len(value) > max_length or _UNSTORABLE.search(value):
        raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                           en=f"{field}: at most {max_length} characters of text", fields=[field])
    return value


def content_hash(body: dict) -> str:
    """sha256 of a dossier's canonical JSON (sorted keys, no spaces, UTF-8): the same document
    sent again hashes the same, whatever its key order or spacing on the wire."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def uuid_conflict() -> CentralError:
    """A UUID already bound to another kiosk or to other content. Says nothing of that dossier."""
    return CentralError(status=409, code="uuid_conflict",
                        vi="Mã định danh (UUID) của hồ sơ đã được dùng cho một hồ sơ khác; vui lòng báo cán bộ kỹ thuật.",
                        en="this dossier uuid is already bound to another dossier")


# A kiosk clock more than this ahead of ours is not believed (the diagnostics flag a skew of 60 s).
CLOCK_SKEW_ALLOWED = timedelta(minutes=10)


def kiosk_time(value: Any, now: datetime, field: str) -> datetime:
    """A time a kiosk says something happened (a ticket issued offline, a rating its outbox sends
    hours later): believed unless it is ahead of ours by more than ``CLOCK_SKEW_ALLOWED`` (then
    ours), in Vietnam's zone; a time that is no ISO 8601 is refused (422 naming ``field``)."""
    refused = CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                           en=f"{field}: an ISO 8601 time with its offset", fields=[field])
    if not isinstance(value, str) or len(value) > 40:
        raise refused
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=clock.VN_TZ)
        at = at.astimezone(clock.VN_TZ)
    except (ValueError, OverflowError):
        raise refused from None
    return now if at > now + CLOCK_SKEW_ALLOWED else min(at, now)


def counted_from(body: dict, received: datetime) -> datetime:
    """The instant a dossier's working days count from: when the citizen submitted at the kiosk
    (``created_at``), which is what the receipt in their hand was computed from, even if the
    outbox held the dossier while the network was down. A missing, malformed or future time
    (a kiosk clock ahead of ours) counts from our own time of receipt instead."""
    try:
        at = datetime.fromisoformat(str(body.get("created_at")))
        if at.tzinfo is None:
            at = at.replace(tzinfo=clock.VN_TZ)
        at.astimezone(clock.VN_TZ)  # year 1 at +14:00 has no Vietnam time: OverflowError
    except (ValueError, OverflowError):
        return received
    return received if at > received + CLOCK_SKEW_ALLOWED else min(at, received)


def hash_mismatch() -> CentralError:
    return CentralError(status=422, code="hash_mismatch", vi="Tệp đính kèm bị hỏng khi truyền, máy sẽ gửi lại.",
                        en="body does not match the sha256 in the path")


def missing_attachments(missing: list[str]) -> CentralError:
    return CentralError(status=409, code="missing_attachments", vi="Đang gửi tệp đính kèm, máy sẽ thử lại.",
                        en="upload these attachments first", result="missing_attachments", missing=missing)


@dataclass
class Submission:
    """A checked, routed dossier ready to store (``Central.plan_submission``)."""

    uid: str
    content_sha256: str
    unit: routing.Unit | None
    wanted: list[str]  # attachment hashes, sorted, unique
    received: datetime
    appointment: date | None
    values: dict[str, Any]  # the dossiers row except dossier_code (it needs the sequence)
    refusal: CentralError | None = None  # routing refused: only a replay of a stored UUID may pass

    def sql_args(self) -> tuple:
        """Arguments of ``pg_intake.SUBMIT_SQL`` (same order as the function's parameters)."""
        v, u = self.values, self.unit
        return (self.uid, self.wanted, codes.counter_key(u.province_code, u.commune_code, self.received.date()),
                u.province_code, u.commune_code, u.name, f"{self.received.date():%y%m%d}", v["lookup_secret"],
                v["kiosk_id"], v["procedure_code"], v["received_at"], v["appointment_date"], v["body"],
                v["content_sha256"], v["provisional_code"], v["provisional_secret"])


@dataclass
class Central:
    engine: Engine
    admin_token: str = ""
    trusted_keys: list[str] = field(default_factory=list)
    # four eyes: distinct trusted keys that must sign a published bundle ([flows] min_signatures)
    min_signatures: int = 1
    # PostgreSQL only: the one-round-trip intake (central.pg_intake); None → the SQLAlchemy path
    pg: Any = None
    # serve /openapi.json (never /docs or /redoc: their pages load scripts from a CDN)
    public_openapi: bool = False
    # mutual TLS: the client certificate must name the kiosk id it authenticates as
    # (central.server sets it with TLSOptions.client_ca)
    bind_client_certificates: bool = False
    # the bank gateway's HMAC secret for payment notifications (central.payments); empty: off (503)
    payment_secret: str = ""
    # the PKCS#11 library holding the province admins' flow-signing keys ([central] pkcs11_lib)
    pkcs11_lib: str = "/usr/lib/softhsm/libsofthsm2.so"

    def __post_init__(self):
        # kiosk_id → sha256 of the secret that last verified: PBKDF2 runs once per kiosk, not per request
        self._auth_cache: dict[str, tuple[bytes, KioskIdentity, float]] = {}
        self._auth_lock = threading.Lock()
        # an unknown kiosk id is verified against this, so that it costs what a wrong secret costs
        self._dummy_hash = codes.hash_kiosk_secret(secrets.token_urlsafe(24))
        # failed authentications (central.auth.AuthLimiter), per process: an address may fail 20
        # times, a kiosk id 5 (its own right secret still passes: central.app.kiosk_auth)
        self.addr_limiter = AuthLimiter(free=20)
        self.kiosk_limiter = AuthLimiter(free=5)

    @classmethod
    def open(cls, database: str, *, fast_intake: bool = True, **kw) -> "Central":
        """``fast_intake`` (PostgreSQL only): serve the two intake calls through ``central.pg_intake``."""
        engine = make_engine(database)
        pg = None
        if fast_intake and engine.dialect.name == "postgresql":
            from central import pg_intake  # noqa: PLC0415

            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            # a role that may not create the function still gets a working (slower) central system
            pg = pg_intake.PgIntake(conninfo) if pg_intake.install(conninfo) else None
        return cls(engine, pg=pg, **kw)

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()
        self.engine.dispose()

    # --- kiosks -------------------------------------------------------------------------------
    def register_kiosk(self, kiosk_id: str, province_code: str, commune_code: str = "", secret: str | None = None) -> str:
        """Create or re-key a kiosk; returns the secret (only its hash is stored)."""
        secret = secret or codes.new_kiosk_secret()
        row = {"secret_hash": codes.hash_kiosk_secret(secret), "province_code": province_code, "commune_code": commune_code}
        for attempt in (1, 2):
            try:
                with write_tx(self.engine) as conn:
                    exists = conn.execute(select(kiosks.c.kiosk_id).where(kiosks.c.kiosk_id == kiosk_id)).first()
                    if exists:
                        conn.execute(update(kiosks).where(kiosks.c.kiosk_id == kiosk_id).values(**row))
                    else:
                        conn.execute(insert(kiosks).values(kiosk_id=kiosk_id, registered_at=_iso(clock.now()), **row))
                break
            except IntegrityError:
                # another process inserted this kiosk meanwhile (instances that start together each
                # register [kiosk].id): once more, now as an update
                if attempt == 2:
                    raise
        with self._auth_lock:
            self._auth_cache.pop(kiosk_id, None)
        return secret

    def ensure_kiosk(self, kiosk_id: str, province_code: str, commune_code: str, secret: str) -> None:
        """Register (or re-key) only when the stored hash does not already match ``secret``."""
        if self.authenticate(kiosk_id, secret) is None:
            self.register_kiosk(kiosk_id, province_code, commune_code, secret)

    # A verified secret is remembered this long: a secret re-keyed by another process (the CLI,
    # another instance) stops working everywhere within it, at one PBKDF2 per kiosk per period
    AUTH_CACHE_S = 60.0

    def authenticate_cached(self, kiosk_id: str, secret: str) -> KioskIdentity | None:
        """Only the in-memory check (no database, no PBKDF2): safe to call on the event loop."""
        fp = hashlib.sha256(secret.encode()).digest()
        with self._auth_lock:
            cached = self._auth_cache.get(kiosk_id)
        if cached and cached[2] > time.monotonic() and hmac.compare_digest(cached[0], fp):
            return cached[1]
        return None

    def authenticate(self, kiosk_id: str, secret: str) -> KioskIdentity | None:
        cached = self.authenticate_cached(kiosk_id, secret)
        if cached is not None:
            return cached
        fp = hashlib.sha256(secret.encode()).digest()
        with self.engine.connect() as conn:
            row = conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().first()
        # the same PBKDF2 work whether the id exists or not: timing does not tell which ids exist
        ok = codes.verify_kiosk_secret(secret, row["secret_hash"] if row is not None else self._dummy_hash)
        if row is None or not ok:
            return None
        ident = KioskIdentity(kiosk_id, row["province_code"], row["commune_code"])
        with self._auth_lock:
            self._auth_cache[kiosk_id] = (fp, ident, time.monotonic() + self.AUTH_CACHE_S)
        return ident

    def heartbeat(self, kiosk: KioskIdentity, payload: dict) -> dict:
        at = _iso(clock.now())
        with write_tx(self.engine) as conn:
            conn.execute(
                update(kiosks).where(kiosks.c.kiosk_id == kiosk.kiosk_id)
                .values(last_heartbeat_at=at, last_heartbeat=json.dumps(payload, ensure_ascii=False))
            )
        return {"result": "accepted", "received_at": at}

    def list_kiosks(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(kiosks).order_by(kiosks.c.kiosk_id)).mappings().all()
        return [
            {
                "kiosk_id": r["kiosk_id"], "province_code": r["province_code"], "commune_code": r["commune_code"],
                "registered_at": r["registered_at"], "last_heartbeat_at": r["last_heartbeat_at"],
                "last_heartbeat": json.loads(r["last_heartbeat"]) if r["last_heartbeat"] else None,
            }
            for r in rows
        ]

    # --- attachments --------------------------------------------------------------------------
    # The bytes are stored once per sha256; each kiosk owns the hashes it uploaded itself
    # (attachment_owners). "stored"/"already" and the "missing" list of a dossier speak only of the
    # calling kiosk's own uploads, so nobody learns whether central holds a file someone else sent.
    @staticmethod
    def check_attachment_path(sha256: str) -> None:
        if not is_sha256(sha256):
            raise CentralError(status=422, code="bad_hash", vi="Mã tệp đính kèm không hợp lệ.",
                               en="the path must be a lowercase hex sha256")

    def check_attachment(self, sha256: str, data: bytes, *, digest: str | None = None) -> None:
        """Refuse a bad path, an oversized body or bytes that do not hash to the path
        (``digest``: their sha256 when the caller computed it while streaming them)."""
        self.check_attachment_path(sha256)
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise CentralError(status=413, code="too_large", vi="Tệp đính kèm quá lớn.",
                               en=f"attachment larger than {MAX_ATTACHMENT_BYTES} bytes", limit=MAX_ATTACHMENT_BYTES)
        if (digest or hashlib.sha256(data).hexdigest()) != sha256:
            raise hash_mismatch()

    def put_attachment(self, sha256: str, data: bytes, kiosk_id: str, *, digest: str | None = None) -> str:
        """Store the bytes (once per sha256) and record ``kiosk_id`` as an owner: "stored" the first
        time this kiosk sends them, "already" after that."""
        self.check_attachment(sha256, data, digest=digest)
        at = _iso(clock.now())
        for attempt in (1, 2):
            try:
                with write_tx(self.engine) as conn:
                    owned = select(attachment_owners.c.sha256).where(attachment_owners.c.sha256 == sha256,
                                                                     attachment_owners.c.kiosk_id == kiosk_id)
                    if conn.execute(owned).first():
                        return "already"
                    if not conn.execute(select(attachments.c.sha256).where(attachments.c.sha256 == sha256)).first():
                        conn.execute(insert(attachments).values(sha256=sha256, size=len(data), data=data, received_at=at))
                    conn.execute(insert(attachment_owners).values(sha256=sha256, kiosk_id=kiosk_id, received_at=at))
                return "stored"
            except IntegrityError:
                # another upload of the same bytes committed first (this kiosk's retry, or another
                # kiosk's bytes): once more, now that the row is there
                if attempt == 2:
                    raise
        return "already"  # not reached

    async def put_attachment_async(self, sha256: str, data: bytes, kiosk_id: str, *, digest: str | None = None) -> str:
        """``put_attachment`` through ``pg_intake`` (one statement, on the event loop); PostgreSQL only."""
        self.check_attachment(sha256, data, digest=digest)
        return await self.pg.put_attachment(sha256, data, kiosk_id, _iso(clock.now()))

    def attachment(self, sha256: str) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(select(attachments.c.data).where(attachments.c.sha256 == sha256)).scalar()

    # --- dossiers -----------------------------------------------------------------------------
    def _answer(self, row, result: str) -> dict:
        return {
            "result": result,
            "dossier_code": row["dossier_code"],
            "lookup_secret": row["lookup_secret"],
            "handling_unit": {"province_code": row["province_code"], "commune_code": row["commune_code"], "name": row["unit_name"]},
            "appointment_date": row["appointment_date"],
            "received_at": row["received_at"],
        }

    def _existing(self, conn, uid: str):
        return conn.execute(select(dossiers).where(dossiers.c.uuid == uid)).mappings().first()

    def _replay(self, row, plan: "Submission") -> tuple[bool, dict]:
        """The answer to a UUID that is stored already: "already" with its code and secret only for
        the kiosk that sent it and only for the same content; anyone else gets ``uuid_conflict``,
        which names no code or secret (a UUID is no credential)."""
        stored = row["content_sha256"] or content_hash(json.loads(row["body"]))  # rows from before the column
        if row["kiosk_id"] != plan.values["kiosk_id"] or not hmac.compare_digest(stored, plan.content_sha256):
            log.warning("dossier uuid %s sent again by %s with %s: refused", plan.uid, plan.values["kiosk_id"],
                        "other content" if row["kiosk_id"] == plan.values["kiosk_id"] else "another kiosk's uuid")
            raise uuid_conflict()
        return False, self._answer(row, "already")

    def plan_submission(self, kiosk: KioskIdentity, body: Any) -> "Submission":
        """Everything about a new dossier that needs no database: validation, routing, the code's
        date, the appointment, the lookup secret. Both stores (SQLAlchemy and ``pg_intake``) take it."""
        problems = validate_dossier(body)
        if problems:
            raise CentralError(status=422, code="invalid_dossier", vi="Hồ sơ không hợp lệ, vui lòng báo cán bộ hỗ trợ.",
                               en="the dossier document is invalid", fields=problems)
        uid = str(uuidlib.UUID(str(body["uuid"])))
        if body.get("kiosk_id") not in (None, kiosk.kiosk_id):
            raise CentralError(status=422, code="kiosk_mismatch", vi="Hồ sơ không khớp với máy tiếp nhận.",
                               en="dossier kiosk_id differs from the authenticated kiosk")
        digest = content_hash(body)
        try:
            # cached lookups: cheap enough to run before the replay check
            unit = routing.route(body["handling_unit"], kiosk.province_code)
        except routing.RoutingError as exc:
            # refused unless it is a replay of a dossier accepted before the unit list changed
            refusal = CentralError(status=422, code=exc.code, vi=exc.message_vi, en=exc.message_en)
            return Submission(uid, digest, None, [], clock.now(), None, {"kiosk_id": kiosk.kiosk_id}, refusal)
        wanted = sorted({a["sha256"] for a in body.get("attachments", [])})
        received = clock.now()
        appointment = calendar.appointment_date(counted_from(body, received), body.get("processing_days") or 0,
                                                body.get("receipt_cutoff"))
        values = {
            "uuid": uid,
            "lookup_secret": codes.new_lookup_secret(),
            "kiosk_id": kiosk.kiosk_id,
            "province_code": unit.province_code,
            "commune_code": unit.commune_code,
            "unit_name": unit.name,
            "procedure_code": str((body.get("procedure") or {}).get("code") or ""),
            "status": "received",
            "received_at": _iso(received),
            "appointment_date": appointment.isoformat() if isinstance(appointment, date) else None,
            "updated_at": _iso(received),
            "body": json.dumps(body, ensure_ascii=False),
            "content_sha256": digest,
            # the provisional receipt's code and secret (schema-checked): the dossier is found by them too
            "provisional_code": (body.get("provisional") or {}).get("code"),
            "provisional_secret": (body.get("provisional") or {}).get("lookup_secret"),
        }
        return Submission(uid, digest, unit, wanted, received, appointment, values)

    def submit(self, kiosk: KioskIdentity, body: dict) -> tuple[bool, dict]:
        """Store a dossier once. Returns (created, answer); a replay of the same UUID gets the same answer."""
        plan = self.plan_submission(kiosk, body)
        uid = plan.uid
        if plan.refusal is not None:
            with self.engine.connect() as conn:
                row = self._existing(conn, uid)
            if row is not None:
                return self._replay(row, plan)
            raise plan.refusal
        unit, wanted, received, values = plan.unit, plan.wanted, plan.received, dict(plan.values)
        try:
            with write_tx(self.engine) as conn:
                row = self._existing(conn, uid)
                if row is not None:
                    return self._replay(row, plan)
                if wanted:  # only this kiosk's own uploads count, and only they are named
                    have = set(conn.execute(select(attachment_owners.c.sha256).where(
                        attachment_owners.c.kiosk_id == kiosk.kiosk_id, attachment_owners.c.sha256.in_(wanted))).scalars())
                    missing = [s for s in wanted if s not in have]
                    if missing:
                        raise missing_attachments(missing)
                seq = next_counter(conn, codes.counter_key(unit.province_code, unit.commune_code, received.date()))
                values["dossier_code"] = codes.dossier_code(unit.province_code, unit.commune_code, received.date(), seq)
                new_id = conn.execute(insert(dossiers).values(**values).returning(dossiers.c.id)).scalar_one()
                conn.execute(insert(status_events).values(dossier_id=new_id, status="received", at=values["received_at"], note=""))
        except IntegrityError:
            # the same UUID committed concurrently (a retry racing the original): answer as a replay
            with self.engine.connect() as conn:
                row = self._existing(conn, uid)
            if row is None:
                raise
            return self._replay(row, plan)
        log.info("dossier %s received from %s for commune %s", values["dossier_code"], kiosk.kiosk_id, unit.commune_code)
        return True, self._answer(values, "created")

    async def submit_async(self, kiosk: KioskIdentity, body: dict) -> tuple[bool, dict]:
        """``submit`` through ``pg_intake`` (one round trip, on the event loop); PostgreSQL only."""
        from central import pg_intake  # noqa: PLC0415 — psycopg is only needed with PostgreSQL

        plan = self.plan_submission(kiosk, body)
        if plan.refusal is not None:
            row = await self.pg.existing(plan.uid)
            if row is not None:
                return self._replay(row, plan)
            raise plan.refusal
        try:
            result, row = await self.pg.submit(plan.sql_args())
        except pg_intake.IntegrityError:
            row = await self.pg.existing(plan.uid)
            if row is None:
                raise
            return self._replay(row, plan)
        if result == "already":
            if row["content_sha256"] is None:  # a row from before the column: its body decides
                row = await self.pg.existing(plan.uid)
            return self._replay(row, plan)
        if result == "missing_attachments":
            raise missing_attachments(row["missing"])
        if result == "created":
            log.info("dossier %s received from %s for commune %s", row["dossier_code"], kiosk.kiosk_id, row["commune_code"])
        return result == "created", self._answer(row, result)

    def status(self, code: str, secret: str) -> dict | None:
        """Status by code + lookup secret; None for an unknown code and for a wrong secret alike.
        A provisional receipt's TAM code with the secret printed on it answers the same, once the
        kiosk has delivered the dossier (the answer names the real code)."""
        if not isinstance(code, str):
            return None
        if codes.DOSSIER_CODE_RX.fullmatch(code):
            by, key = dossiers.c.dossier_code, "lookup_secret"
        elif PROVISIONAL_CODE_RX.fullmatch(code):
            by, key = dossiers.c.provisional_code, "provisional_secret"
        else:
            return None  # no such code can exist: no need to ask the database
        with self.engine.connect() as conn:
            # a TAM code is unique per kiosk outbox, not everywhere (a kiosk short name may repeat, a
            # reinstalled outbox counts from 1 again): the secret picks the one row
            given = codes.normalise_secret(secret).encode()
            row = next((r for r in conn.execute(select(dossiers).where(by == code)).mappings().all()
                        if r[key] and hmac.compare_digest(r[key].encode(), given)), None)
            if row is None:
                return None
            events = conn.execute(
                select(status_events.c.status, status_events.c.at, status_events.c.note)
                .where(status_events.c.dossier_id == row["id"]).order_by(status_events.c.id)
            ).mappings().all()
            from central.payments import payment_of  # noqa: PLC0415 (central.payments imports this module)

            payment = payment_of(conn, row["dossier_code"], row["body"])
        return {
            "result": "ok", "dossier_code": row["dossier_code"], "status": row["status"],
            "provisional_code": row["provisional_code"], "procedure_code": row["procedure_code"],
            "handling_unit": {"province_code": row["province_code"], "commune_code": row["commune_code"], "name": row["unit_name"]},
            "received_at": row["received_at"], "appointment_date": row["appointment_date"], "updated_at": row["updated_at"],
            "history": [dict(e) for e in events], "payment": payment,
        }

    def set_status(self, code: str, status: str, note: str = "", *, by: str = "", address: str = "") -> dict:
        """Move a dossier along ``TRANSITIONS`` with a note for the citizen (shown by the kiosk's
        lookup) and who did it (``by``: the officer's username, "admin API", "cli"; kept in the
        history for the audit, never shown to the citizen). Every change, whichever way it came,
        is also an entry of the audit log the console shows (``address``: the browser's, if any)."""
        if status not in STATUSES:
            raise CentralError(status=422, code="bad_status", vi="Trạng thái không hợp lệ.",
                               en=f"status must be one of {', '.join(STATUSES)}")
        storable_text(note, field="note", max_length=MAX_NOTE_CHARS)
        storable_text(by, field="by", max_length=MAX_ACTOR_CHARS)
        at = _iso(clock.now())
        if not codes.DOSSIER_CODE_RX.fullmatch(code):
            raise CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ.", en="no dossier with this code")
        with write_tx(self.engine) as conn:
            # FOR UPDATE: two staff moving one dossier at once (through two instances, say) are taken in
            # turn, so the second sees the first's status (SQLite's BEGIN IMMEDIATE does this already)
            row = conn.execute(select(dossiers.c.id, dossiers.c.status, dossiers.c.commune_code)
                               .where(dossiers.c.dossier_code == code).with_for_update()).mappings().first()
            if row is None:
                raise CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ.", en="no dossier with this code")
            if status not in TRANSITIONS[row["status"]]:
                raise CentralError(status=409, code="bad_transition", vi="Không thể chuyển hồ sơ sang trạng thái này.",
                                   en=f"cannot move a dossier from {row['status']} to {status}")
            conn.execute(update(dossiers).where(dossiers.c.id == row["id"]).values(status=status, updated_at=at))
            conn.execute(insert(status_events).values(dossier_id=row["id"], status=status, at=at, note=note, actor=by))
            conn.execute(insert(audit_log).values(at=at, commune_code=row["commune_code"], username=by[:64],
                                                  action="dossier_status", target=code,
                                                  detail=f"{row['status']} -> {status}", address=address[:64]))
        log.info("dossier %s: %s → %s by %s", code, row["status"], status, by or "?")
        return {"result": "accepted", "dossier_code": code, "status": status, "at": at}

    def count_dossiers(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(dossiers)).scalar_one()

    # --- flows ------------------------------------------------------------------------------
    def flows_index(self, kiosk: KioskIdentity | None = None) -> dict:
        """The bundle a kiosk should run: the newest for every kiosk, or for a pilot kiosk of its
        province the newest of those and of its province's pilot bundles (staged rollout)."""
        with self.engine.connect() as conn:
            pilot = kiosk is not None and conn.execute(
                select(pilot_kiosks.c.kiosk_id).where(pilot_kiosks.c.kiosk_id == kiosk.kiosk_id,
                                                      pilot_kiosks.c.province_code == kiosk.province_code)).first() is not None
            row = conn.execute(select(bundles.c.bundle_id, bundles.c.sha256, bundles.c.manifest)
                               .where(visible(kiosk.province_code if kiosk else None, pilot))
                               .order_by(bundles.c.seq.desc()).limit(1)).mappings().first()
        if row is None:
            return {"result": "ok", "bundle_id": None, "sha256": None, "flows": []}
        manifest = json.loads(row["manifest"])
        flows = [{"id": f.get("id"), "version": f.get("version"), "sha256": f.get("sha256")} for f in manifest.get("flows", [])]
        return {"result": "ok", "bundle_id": row["bundle_id"], "sha256": row["sha256"], "flows": flows}

    def bundle(self, bundle_id: str) -> tuple[bytes, str] | None:
        if not BUNDLE_ID_RX.fullmatch(bundle_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(bundles.c.data, bundles.c.sha256).where(bundles.c.bundle_id == bundle_id)).first()
        return (bytes(row[0]), row[1]) if row else None

    def publish_bundle(self, data: bytes, *, actor: str = "", audience: str = "all", province: str = "") -> tuple[bool, dict]:
        """Verify a signed bundle (``min_signatures`` distinct trusted keys) and store it: for every
        kiosk (``audience`` "all"), or first for the pilot kiosks of ``province`` ("pilot"; promoted
        later to the whole province, ``promote_bundle``)."""
        from flows.bundles import verify_bundle  # noqa: PLC0415 - its crypto loads on the first publish only
        # every (flow id, version) ever published keeps its content: a changed flow needs a new version
        known: dict[tuple[str, int], str] = {}
        with self.engine.connect() as conn:
            for (manifest_text,) in conn.execute(select(bundles.c.manifest)):
                for f in json.loads(manifest_text).get("flows", []):
                    known[(f.get("id"), f.get("version"))] = f.get("sha256")
        try:
            info = verify_bundle(data, list(self.trusted_keys), known, min_signatures=self.min_signatures)
        except Exception as exc:  # BundleError and anything a malformed zip raises
            raise CentralError(status=422, code="bad_bundle", vi=user_message(exc, "vi", "Gói quy trình không hợp lệ hoặc sai chữ ký."),
                               en=f"bundle refused: {exc}") from None
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                manifest_bytes = zf.read("manifest.json")
            manifest = json.loads(manifest_bytes)
            bundle_id = str(manifest["bundle_id"])
        except (KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise CentralError(status=422, code="bad_bundle", vi="Gói quy trình không hợp lệ.", en=f"unreadable manifest: {exc}") from None
        signers = [{k: s.get(k) or "" for k in ("key_id", "name", "role")} for s in info.signers]
        return self.store_bundle(data, manifest_bytes, bundle_id, actor=actor, signers=signers, audience=audience,
                                 province=province)

    def store_bundle(self, data: bytes, manifest_bytes: bytes, bundle_id: str, *, actor: str = "",
                     signers: list[dict] | None = None, audience: str = "all", province: str = "") -> tuple[bool, dict]:
        """Store an already verified bundle and make it current (``publish_bundle`` verifies first).

        Bundles only move forward, as on the kiosks (``flows.bundles.BundleStore`` refuses a bundle
        older than the one it runs, and a flow older than a version it used): a bundle made before
        the current one, or holding a flow older than a version published before, is refused with
        409 ``bundle_older`` and the current bundle stays. Going back is ``rollback_bundle``: its
        own act, with a reason, in the audit trail."""
        sha = hashlib.sha256(data).hexdigest()
        manifest = json.loads(manifest_bytes)
        with write_tx(self.engine) as conn:
            _serialise_bundle_changes(conn)
            if conn.execute(select(bundles.c.bundle_id).where(bundles.c.bundle_id == bundle_id)).first():
                return False, {"result": "already", "bundle_id": bundle_id, "sha256": sha}
            current = conn.execute(select(bundles.c.bundle_id, bundles.c.manifest)
                                   .order_by(bundles.c.seq.desc()).limit(1)).mappings().first()
            highest: dict[str, int] = {}
            for (manifest_text,) in conn.execute(select(bundles.c.manifest)):
                for f in json.loads(manifest_text).get("flows", []):
                    if isinstance(f.get("version"), int):
                        highest[f.get("id")] = max(f["version"], highest.get(f.get("id"), 0))
            why = _older(manifest, json.loads(current["manifest"]) if current else None, highest)
            if why:
                raise CentralError(status=409, code="bundle_older",
                                   vi="Gói quy trình cũ hơn gói hiện hành nên không được phát hành; muốn quay lại gói cũ, "
                                      "hãy dùng thao tác quay lại (rollback) và ghi rõ lý do.",
                                   en=f"bundle {bundle_id} is older than what was published: {why}; "
                                      "going back is an explicit rollback with a reason")
            seq = (conn.execute(select(func.max(bundles.c.seq))).scalar() or 0) + 1
            at = _iso(clock.now())
            if audience not in ("all", "pilot", "province") or (audience != "all" and not province):
                raise ValueError(f"audience {audience!r} / province {province!r}")
            conn.execute(insert(bundles).values(bundle_id=bundle_id, sha256=sha, data=data, manifest=manifest_bytes.decode(),
                                                created_at=at, seq=seq, audience=audience,
                                                province_code=province if audience != "all" else ""))
            conn.execute(insert(bundle_events).values(at=at, action="pilot" if audience == "pilot" else "publish",
                                                      bundle_id=bundle_id, reason="", actor=actor,
                                                      previous_bundle_id=current["bundle_id"] if current else None,
                                                      signers=json.dumps(signers, ensure_ascii=False) if signers else None))
        return True, {"result": "created", "bundle_id": bundle_id, "sha256": sha}

    def rollback_bundle(self, bundle_id: str, reason: str, *, actor: str = "") -> tuple[bool, dict]:
        """Make a stored bundle current again (the one explicit way back), recording who, when and
        why. (False, "already") when it is current already. Kiosks that already run a newer bundle
        keep it (they refuse older ones); this stops a bad bundle from reaching the others."""
        storable_text(reason, field="reason", max_length=1000)
        if not reason.strip():
            raise CentralError(status=422, code="invalid_request", vi="Cần ghi lý do quay lại gói quy trình.",
                               en="a rollback needs a reason", fields=["reason"])
        if not BUNDLE_ID_RX.fullmatch(bundle_id):
            raise _no_bundle()
        at = _iso(clock.now())
        with write_tx(self.engine) as conn:
            _serialise_bundle_changes(conn)
            row = conn.execute(select(bundles.c.bundle_id, bundles.c.sha256).where(bundles.c.bundle_id == bundle_id)).first()
            if row is None:
                raise _no_bundle()
            current, top = conn.execute(select(bundles.c.bundle_id, bundles.c.seq).order_by(bundles.c.seq.desc()).limit(1)).first()
            answer = {"bundle_id": bundle_id, "sha256": row[1], "previous_bundle_id": current, "at": at}
            if current == bundle_id:
                return False, {"result": "already", **answer}
            # back to whom it was for (a province's pilot: the whole province, as after a promote)
            conn.execute(update(bundles).where(bundles.c.bundle_id == bundle_id, bundles.c.audience == "pilot")
                         .values(audience="province"))
            conn.execute(update(bundles).where(bundles.c.bundle_id == bundle_id).values(seq=top + 1))
            conn.execute(insert(bundle_events).values(at=at, action="rollback", bundle_id=bundle_id, previous_bundle_id=current,
                                                      reason=reason.strip(), actor=actor))
        log.warning("flow bundle rolled back from %s to %s by %s", current, bundle_id, actor or "?")
        return True, {"result": "accepted", **answer}

    def promote_bundle(self, bundle_id: str, province: str, *, actor: str = "") -> dict:
        """A pilot bundle of ``province`` goes to every kiosk of the province. Refused (409 ``not_pilot``) for a
        bundle that is not that province's pilot, and (409 ``bundle_newer``) when a newer bundle was
        published after it: promoting it would take every kiosk back from that one."""
        if not BUNDLE_ID_RX.fullmatch(bundle_id):
            raise _no_bundle()
        at = _iso(clock.now())
        with write_tx(self.engine) as conn:
            _serialise_bundle_changes(conn)
            row = conn.execute(select(bundles.c.audience, bundles.c.province_code, bundles.c.seq)
                               .where(bundles.c.bundle_id == bundle_id)).mappings().first()
            if row is None:
                raise _no_bundle()
            if row["audience"] != "pilot" or row["province_code"] != province:
                raise CentralError(status=409, code="not_pilot", vi="Gói này không phải gói đang thử ở các ki-ốt thí điểm của tỉnh.",
                                   en="this bundle is not this province's pilot bundle")
            top = conn.execute(select(func.max(bundles.c.seq)).where(visible(province, pilot=True))).scalar()
            if top != row["seq"]:
                raise CentralError(status=409, code="bundle_newer",
                                   vi="Đã có gói mới hơn được phát hành sau gói thử này; hãy soạn và duyệt lại thay đổi.",
                                   en="a newer bundle was published after this pilot one")
            previous = conn.execute(select(bundles.c.bundle_id).where(visible(province))
                                    .order_by(bundles.c.seq.desc()).limit(1)).scalar()
            conn.execute(update(bundles).where(bundles.c.bundle_id == bundle_id).values(audience="province"))
            conn.execute(insert(bundle_events).values(at=at, action="promote", bundle_id=bundle_id, previous_bundle_id=previous,
                                                      reason="", actor=actor))
        log.info("flow bundle %s promoted from pilot to every kiosk by %s", bundle_id, actor or "?")
        return {"result": "accepted", "bundle_id": bundle_id, "previous_bundle_id": previous, "at": at}

    def bundle_history(self) -> list[dict]:
        """Every publish and rollback, oldest first (the audit trail of the current bundle)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(bundle_events).order_by(bundle_events.c.id)).mappings().all()
        return [{**{k: r[k] for k in ("at", "action", "bundle_id", "previous_bundle_id", "reason", "actor")},
                 "signers": json.loads(r["signers"]) if r["signers"] else []} for r in rows]


    # --- help calls (issue 18: "Gọi cán bộ hỗ trợ") ----------------------------------------------
    # A kiosk creates, reads and cancels its own calls; staff list the open ones and acknowledge.
    # A call carries nothing personal (central.app.HelpCallRequest allows no other field).
    def create_help_call(self, kiosk: KioskIdentity, call: dict) -> tuple[bool, dict]:
        """Store a call (``call``: a validated ``HelpCallRequest``); (True, answer) the first time,
        (False, answer) for a replay of the same uuid and content by the same kiosk. A uuid bound
        to another kiosk or to other content is 409 ``uuid_conflict`` (nothing of that call told)."""
        uid = call["uuid"]
        content = content_hash(call)
        received = clock.now()
        called = received
        if call.get("called_at"):
            try:
                at = datetime.fromisoformat(call["called_at"].replace("Z", "+00:00"))
                if at.tzinfo is None:
                    at = at.replace(tzinfo=clock.VN_TZ)
                at.astimezone(clock.VN_TZ)  # year 1 at +14:00 has no Vietnam time: OverflowError
            except (ValueError, OverflowError):
                raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                                   en="called_at: an ISO 8601 time with its offset", fields=["called_at"]) from None
            # a call queued by a kiosk that was offline counts from when the citizen asked; a kiosk
            # clock ahead of ours is not believed (as for dossiers, central.service.counted_from)
            called = received if at > received + CLOCK_SKEW_ALLOWED else min(at.astimezone(clock.VN_TZ), received)
        values = {
            "uuid": uid, "kiosk_id": kiosk.kiosk_id, "province_code": kiosk.province_code,
            "commune_code": kiosk.commune_code or "", "flow_id": call.get("flow_id", ""), "step_id": call.get("step_id", ""),
            "step_title": call.get("step_title", ""), "screen": call["screen"], "language": call["language"],
            "waiting_s": int(call["waiting_s"]), "called_at": _iso(called), "received_at": _iso(received),
            "state": "open", "content_sha256": content,
        }
        try:
            with write_tx(self.engine) as conn:
                row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid)).mappings().first()
                if row is None:
                    conn.execute(insert(help_calls).values(**values))
        except IntegrityError:  # the same uuid committed concurrently (a retry racing the original)
            row = self._help_call_row(uid)
            if row is None:
                raise
        if row is not None:
            if row["kiosk_id"] != kiosk.kiosk_id or row["content_sha256"] != content:
                raise CentralError(status=409, code="uuid_conflict",
                                   vi="Mã định danh (UUID) của yêu cầu đã được dùng cho một yêu cầu khác.",
                                   en="this help call uuid is already bound to another call")
            return False, _kiosk_call_answer(row, "already")
        log.info("help call from %s (commune %s, screen %s)", kiosk.kiosk_id, values["commune_code"], values["screen"])
        return True, _kiosk_call_answer(values, "created")

    def _help_call_row(self, uid: str):
        with self.engine.connect() as conn:
            return conn.execute(select(help_calls).where(help_calls.c.uuid == uid)).mappings().first()

    def help_call_for_kiosk(self, kiosk: KioskIdentity, uid: str) -> dict:
        """The state of one of this kiosk's calls; another kiosk's call is 404 like an unknown one."""
        row = self._help_call_row(uid) if HELP_CALL_UUID_RX.fullmatch(uid) else None
        if row is None or row["kiosk_id"] != kiosk.kiosk_id:
            raise _no_help_call()
        return _kiosk_call_answer(row, "ok")

    def cancel_help_call(self, kiosk: KioskIdentity, uid: str) -> dict:
        """The citizen no longer needs help: ``accepted`` (now cancelled, acknowledged or not), or
        ``already`` when it was cancelled before. Another kiosk's call is 404."""
        if not HELP_CALL_UUID_RX.fullmatch(uid):
            raise _no_help_call()
        at = _iso(clock.now())
        with write_tx(self.engine) as conn:
            row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid).with_for_update()).mappings().first()
            if row is None or row["kiosk_id"] != kiosk.kiosk_id:
                raise _no_help_call()
            if row["state"] == "cancelled":
                return _kiosk_call_answer(row, "already")
            conn.execute(update(help_calls).where(help_calls.c.id == row["id"]).values(state="cancelled", cancelled_at=at))
        return _kiosk_call_answer({**row, "state": "cancelled", "cancelled_at": at}, "accepted")

    def list_help_calls(self, *, commune_code: str | None = None, state: str = "open", limit: int = 200) -> list[dict]:
        """Calls newest first (``state``: open | acknowledged | cancelled | all), of one commune's
        kiosks when ``commune_code`` is given, with how long each citizen has been waiting."""
        q = select(help_calls)
        if state != "all":
            q = q.where(help_calls.c.state == state)
        if commune_code:
            q = q.where(help_calls.c.commune_code == commune_code)
        q = q.order_by(help_calls.c.called_at.desc(), help_calls.c.id.desc()).limit(max(1, min(int(limit), 1000)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        now = clock.now()
        return [_staff_call(r, now) for r in rows]

    def help_call_uuids(self, prefix: str, limit: int = 2) -> list[str]:
        """The calls whose uuid starts with ``prefix`` (the CLI lets staff type the first characters)."""
        if not re.fullmatch(r"[0-9a-f-]{1,36}", prefix or ""):
            return []
        with self.engine.connect() as conn:
            return list(conn.execute(select(help_calls.c.uuid).where(help_calls.c.uuid.startswith(prefix, autoescape=True))
                                     .order_by(help_calls.c.id.desc()).limit(limit)).scalars())

    def acknowledge_help_call(self, uid: str, by: str) -> dict:
        """A staff member (``by``: a name or a desk, as they give it) is on the way. Only an open
        call can be acknowledged: an acknowledged or cancelled one is 409 with who or when."""
        by = storable_text(by, field="by", max_length=MAX_ACK_BY_CHARS).strip()
        if not by:
            raise CentralError(status=422, code="invalid_request", vi="Cần ghi tên hoặc quầy của cán bộ nhận yêu cầu.",
                               en="by: who acknowledges (a name or a desk)", fields=["by"])
        if not HELP_CALL_UUID_RX.fullmatch(uid):
            raise _no_help_call()
        at = clock.now()
        with write_tx(self.engine) as conn:
            # FOR UPDATE: two staff acknowledging at once (through two instances) are taken in turn
            row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid).with_for_update()).mappings().first()
            if row is None:
                raise _no_help_call()
            if row["state"] == "acknowledged":
                when = _hhmm(row["acknowledged_at"])
                raise CentralError(status=409, code="already_acknowledged",
                                   vi=f"Yêu cầu này đã được {row['acknowledged_by']} nhận lúc {when}.",
                                   en=f"this call was already acknowledged by {row['acknowledged_by']} at {when}",
                                   acknowledged_at=row["acknowledged_at"], acknowledged_by=row["acknowledged_by"])
            if row["state"] == "cancelled":
                when = _hhmm(row["cancelled_at"])
                raise CentralError(status=409, code="cancelled",
                                   vi=f"Người dân đã hủy yêu cầu này lúc {when}; không cần đến nữa.",
                                   en=f"the citizen cancelled this call at {when}; nobody needs to go",
                                   cancelled_at=row["cancelled_at"])
            conn.execute(update(help_calls).where(help_calls.c.id == row["id"])
                         .values(state="acknowledged", acknowledged_at=_iso(at), acknowledged_by=by))
        log.info("help call from %s acknowledged", row["kiosk_id"])
        return {"result": "accepted", **_staff_call({**row, "state": "acknowledged", "acknowledged_at": _iso(at),
                                                       "acknowledged_by": by}, at)}


def _no_bundle() -> CentralError:
    return CentralError(status=404, code="not_found", vi="Không tìm thấy gói quy trình.", en="no such bundle")



HELP_CALL_UUID_RX = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_ACK_BY_CHARS = 100


def _no_help_call() -> CentralError:
    return CentralError(status=404, code="not_found", vi="Không tìm thấy yêu cầu gọi cán bộ.", en="no such help call")


def _hhmm(at: str | None) -> str:
    try:
        return datetime.fromisoformat(str(at)).strftime("%H:%M")
    except ValueError:
        return "?"


def _kiosk_call_answer(row, result: str) -> dict:
    """What a kiosk hears about its own call (no staff name: the kiosk screen is public)."""
    return {"result": result, "uuid": row["uuid"], "state": row["state"], "called_at": row["called_at"],
            "received_at": row["received_at"], "acknowledged_at": row.get("acknowledged_at"),
            "cancelled_at": row.get("cancelled_at")}


def _seconds_between(start: str | None, end: datetime) -> int:
    try:
        return max(0, int((end - datetime.fromisoformat(str(start))).total_seconds()))
    except (TypeError, ValueError):
        return 0


def _staff_call(row, now: datetime) -> dict:
    """A call as staff see it: which kiosk, where in which procedure, and how long the citizen has
    been waiting (the visit's length when they asked plus the time since; up to the
    acknowledgement or cancellation for a call that is no longer open)."""
    end = now
    for key in ("acknowledged_at", "cancelled_at"):
        if row.get(key):
            try:
                end = min(end, datetime.fromisoformat(row[key]))
            except ValueError:
                pass
    since = _seconds_between(row["called_at"], end)
    return {
        "uuid": row["uuid"], "kiosk_id": row["kiosk_id"], "province_code": row["province_code"],
        "commune_code": row["commune_code"], "flow_id": row["flow_id"], "step_id": row["step_id"],
        "step_title": row["step_title"], "screen": row["screen"], "language": row["language"],
        "called_at": row["called_at"], "received_at": row["received_at"], "state": row["state"],
        "since_call_s": since, "waiting_s": int(row["waiting_s"]) + since,
        "acknowledged_at": row.get("acknowledged_at"), "acknowledged_by": row.get("acknowledged_by"),
        "cancelled_at": row.get("cancelled_at"),
        "confirmed_at": row.get("confirmed_at"), "confirmed_by": row.get("confirmed_by"),
    }

def visible(province: str | None, pilot: bool = False):
    """The bundles a kiosk of ``province`` may run (staged rollout, issue 20): those for every kiosk
    ("all", published through the API), its province's ("province", promoted by its admins) and,
    for a pilot kiosk, its province's pilots. Without a province (an anonymous request): "all" only."""
    if not province:
        return bundles.c.audience == "all"
    audiences = ("province", "pilot") if pilot else ("province",)
    return or_(bundles.c.audience == "all", and_(bundles.c.audience.in_(audiences), bundles.c.province_code == province))


def _serialise_bundle_changes(conn) -> None:
    """One change of the current bundle at a time (SQLite's BEGIN IMMEDIATE does this already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _BUNDLE_LOCK})


_BUNDLE_LOCK = 0x62756E646C65  # "bundle"


def _when(value: Any) -> datetime | None:
    try:
        d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _older(manifest: dict, current: dict | None, highest: dict[str, int]) -> str:
    """Why ``manifest`` would take the central system back ("" when it does not)."""
    if current is not None:
        new, now = _when(manifest.get("created_at")), _when(current.get("created_at"))
        if new is not None and now is not None and new < now:
            return f"made {manifest.get('created_at')}, the current {current.get('bundle_id')} {current.get('created_at')}"
    for f in manifest.get("flows", []):
        high = highest.get(f.get("id"))
        if isinstance(f.get("version"), int) and high is not None and f["version"] < high:
            return f"flow {f.get('id')} version {f['version']} after version {high}"
    return ""
