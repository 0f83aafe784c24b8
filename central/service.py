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
import threading
import uuid as uuidlib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from central import codes, routing
from central.db import (
    attachments,
    bundles,
    dossiers,
    kiosks,
    make_engine,
    next_counter,
    status_events,
    write_tx,
)
from common import clock
from flows import calendar, dossier
from common.errors import BilingualError, user_message

log = logging.getLogger(__name__)

STATUSES = ("received", "processing", "done", "returned")
TRANSITIONS = {"received": {"processing", "returned"}, "processing": {"done", "returned"}, "done": set(), "returned": set()}
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
SHA256_HEX = set("0123456789abcdef")


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
    personal): flows.dossier.problem_paths, the same schema the kiosk checks before it stores one."""
    if not isinstance(body, dict):
        return ["body"]
    return dossier.problem_paths(body)


# A kiosk clock more than this ahead of ours is not believed (the diagnostics flag a skew of 60 s).
CLOCK_SKEW_ALLOWED = timedelta(minutes=10)


def counted_from(body: dict, received: datetime) -> datetime:
    """The instant a dossier's working days count from: when the citizen submitted at the kiosk
    (``created_at``), which is what the receipt in their hand was computed from, even if the
    outbox held the dossier while the network was down. A missing, malformed or future time
    (a kiosk clock ahead of ours) counts from our own time of receipt instead."""
    try:
        at = datetime.fromisoformat(str(body.get("created_at")))
    except ValueError:
        return received
    if at.tzinfo is None:
        at = at.replace(tzinfo=clock.VN_TZ)
    return received if at > received + CLOCK_SKEW_ALLOWED else min(at, received)


def missing_attachments(missing: list[str]) -> CentralError:
    return CentralError(status=409, code="missing_attachments", vi="Đang gửi tệp đính kèm, máy sẽ thử lại.",
                        en="upload these attachments first", result="missing_attachments", missing=missing)


@dataclass
class Submission:
    """A checked, routed dossier ready to store (``Central.plan_submission``)."""

    uid: str
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
                v["kiosk_id"], v["procedure_code"], v["received_at"], v["appointment_date"], v["body"])


@dataclass
class Central:
    engine: Engine
    admin_token: str = ""
    trusted_keys: list[str] = field(default_factory=list)
    # PostgreSQL only: the one-round-trip intake (central.pg_intake); None → the SQLAlchemy path
    pg: Any = None

    def __post_init__(self):
        # kiosk_id → sha256 of the secret that last verified: PBKDF2 runs once per kiosk, not per request
        self._auth_cache: dict[str, tuple[bytes, KioskIdentity]] = {}
        self._auth_lock = threading.Lock()

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
        with write_tx(self.engine) as conn:
            exists = conn.execute(select(kiosks.c.kiosk_id).where(kiosks.c.kiosk_id == kiosk_id)).first()
            if exists:
                conn.execute(update(kiosks).where(kiosks.c.kiosk_id == kiosk_id).values(**row))
            else:
                conn.execute(insert(kiosks).values(kiosk_id=kiosk_id, registered_at=_iso(clock.now()), **row))
        with self._auth_lock:
            self._auth_cache.pop(kiosk_id, None)
        return secret

    def ensure_kiosk(self, kiosk_id: str, province_code: str, commune_code: str, secret: str) -> None:
        """Register (or re-key) only when the stored hash does not already match ``secret``."""
        if self.authenticate(kiosk_id, secret) is None:
            self.register_kiosk(kiosk_id, province_code, commune_code, secret)

    def authenticate_cached(self, kiosk_id: str, secret: str) -> KioskIdentity | None:
        """Only the in-memory check (no database, no PBKDF2): safe to call on the event loop."""
        fp = hashlib.sha256(secret.encode()).digest()
        with self._auth_lock:
            cached = self._auth_cache.get(kiosk_id)
        if cached and hmac.compare_digest(cached[0], fp):
            return cached[1]
        return None

    def authenticate(self, kiosk_id: str, secret: str) -> KioskIdentity | None:
        cached = self.authenticate_cached(kiosk_id, secret)
        if cached is not None:
            return cached
        fp = hashlib.sha256(secret.encode()).digest()
        with self.engine.connect() as conn:
            row = conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().first()
        if row is None or not codes.verify_kiosk_secret(secret, row["secret_hash"]):
            return None
        ident = KioskIdentity(kiosk_id, row["province_code"], row["commune_code"])
        with self._auth_lock:
            self._auth_cache[kiosk_id] = (fp, ident)
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
    def check_attachment(self, sha256: str, data: bytes) -> None:
        """Refuse a bad path, an oversized body or bytes that do not hash to the path."""
        if not is_sha256(sha256):
            raise CentralError(status=422, code="bad_hash", vi="Mã tệp đính kèm không hợp lệ.",
                               en="the path must be a lowercase hex sha256")
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise CentralError(status=413, code="too_large", vi="Tệp đính kèm quá lớn.",
                               en=f"attachment larger than {MAX_ATTACHMENT_BYTES} bytes")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CentralError(status=422, code="hash_mismatch", vi="Tệp đính kèm bị hỏng khi truyền, máy sẽ gửi lại.",
                               en="body does not match the sha256 in the path")

    def put_attachment(self, sha256: str, data: bytes) -> str:
        self.check_attachment(sha256, data)
        try:
            with write_tx(self.engine) as conn:
                if conn.execute(select(attachments.c.sha256).where(attachments.c.sha256 == sha256)).first():
                    return "already"
                conn.execute(insert(attachments).values(sha256=sha256, size=len(data), data=data, received_at=_iso(clock.now())))
            return "stored"
        except IntegrityError:  # another upload of the same bytes won the race
            return "already"

    async def put_attachment_async(self, sha256: str, data: bytes) -> str:
        """``put_attachment`` through ``pg_intake`` (one statement, on the event loop); PostgreSQL only."""
        self.check_attachment(sha256, data)
        return await self.pg.put_attachment(sha256, data, _iso(clock.now()))

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
        try:
            # cached lookups: cheap enough to run before the replay check
            unit = routing.route(body["handling_unit"], kiosk.province_code)
        except routing.RoutingError as exc:
            # refused unless it is a replay of a dossier accepted before the unit list changed
            refusal = CentralError(status=422, code=exc.code, vi=exc.message_vi, en=exc.message_en)
            return Submission(uid, None, [], clock.now(), None, {}, refusal)
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
        }
        return Submission(uid, unit, wanted, received, appointment, values)

    def submit(self, kiosk: KioskIdentity, body: dict) -> tuple[bool, dict]:
        """Store a dossier once. Returns (created, answer); a replay of the same UUID gets the same answer."""
        plan = self.plan_submission(kiosk, body)
        uid = plan.uid
        if plan.refusal is not None:
            with self.engine.connect() as conn:
                row = self._existing(conn, uid)
            if row is not None:
                return False, self._answer(row, "already")
            raise plan.refusal
        unit, wanted, received, values = plan.unit, plan.wanted, plan.received, dict(plan.values)
        try:
            with write_tx(self.engine) as conn:
                row = self._existing(conn, uid)
                if row is not None:
                    return False, self._answer(row, "already")
                if wanted:
                    have = set(conn.execute(select(attachments.c.sha256).where(attachments.c.sha256.in_(wanted))).scalars())
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
            return False, self._answer(row, "already")
        log.info("dossier %s received from %s for commune %s", values["dossier_code"], kiosk.kiosk_id, unit.commune_code)
        return True, self._answer(values, "created")

    async def submit_async(self, kiosk: KioskIdentity, body: dict) -> tuple[bool, dict]:
        """``submit`` through ``pg_intake`` (one round trip, on the event loop); PostgreSQL only."""
        from central import pg_intake  # noqa: PLC0415 — psycopg is only needed with PostgreSQL

        plan = self.plan_submission(kiosk, body)
        if plan.refusal is not None:
            row = await self.pg.existing(plan.uid)
            if row is not None:
                return False, self._answer(row, "already")
            raise plan.refusal
        try:
            result, row = await self.pg.submit(plan.sql_args())
        except pg_intake.IntegrityError:
            row = await self.pg.existing(plan.uid)
            if row is None:
                raise
            return False, self._answer(row, "already")
        if result == "missing_attachments":
            raise missing_attachments(row["missing"])
        if result == "created":
            log.info("dossier %s received from %s for commune %s", row["dossier_code"], kiosk.kiosk_id, row["commune_code"])
        return result == "created", self._answer(row, result)

    def status(self, code: str, secret: str) -> dict | None:
        """Status by code + lookup secret; None for an unknown code and for a wrong secret alike."""
        with self.engine.connect() as conn:
            row = conn.execute(select(dossiers).where(dossiers.c.dossier_code == code)).mappings().first()
            if row is None or not hmac.compare_digest(row["lookup_secret"].encode(), codes.normalise_secret(secret).encode()):
                return None
            events = conn.execute(
                select(status_events.c.status, status_events.c.at, status_events.c.note)
                .where(status_events.c.dossier_id == row["id"]).order_by(status_events.c.id)
            ).mappings().all()
        return {
            "result": "ok", "dossier_code": row["dossier_code"], "status": row["status"],
            "procedure_code": row["procedure_code"],
            "handling_unit": {"province_code": row["province_code"], "commune_code": row["commune_code"], "name": row["unit_name"]},
            "received_at": row["received_at"], "appointment_date": row["appointment_date"], "updated_at": row["updated_at"],
            "history": [dict(e) for e in events],
        }

    def set_status(self, code: str, status: str, note: str = "") -> dict:
        if status not in STATUSES:
            raise CentralError(status=422, code="bad_status", vi="Trạng thái không hợp lệ.",
                               en=f"status must be one of {', '.join(STATUSES)}")
        at = _iso(clock.now())
        with write_tx(self.engine) as conn:
            row = conn.execute(select(dossiers.c.id, dossiers.c.status).where(dossiers.c.dossier_code == code)).mappings().first()
            if row is None:
                raise CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ.", en="no dossier with this code")
            if status not in TRANSITIONS[row["status"]]:
                raise CentralError(status=409, code="bad_transition", vi="Không thể chuyển hồ sơ sang trạng thái này.",
                                   en=f"cannot move a dossier from {row['status']} to {status}")
            conn.execute(update(dossiers).where(dossiers.c.id == row["id"]).values(status=status, updated_at=at))
            conn.execute(insert(status_events).values(dossier_id=row["id"], status=status, at=at, note=note))
        return {"result": "accepted", "dossier_code": code, "status": status, "at": at}

    def count_dossiers(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(dossiers)).scalar_one()

    # --- flows ------------------------------------------------------------------------------
    def flows_index(self) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(bundles.c.bundle_id, bundles.c.sha256, bundles.c.manifest)
                               .order_by(bundles.c.seq.desc()).limit(1)).mappings().first()
        if row is None:
            return {"result": "ok", "bundle_id": None, "sha256": None, "flows": []}
        manifest = json.loads(row["manifest"])
        flows = [{"id": f.get("id"), "version": f.get("version"), "sha256": f.get("sha256")} for f in manifest.get("flows", [])]
        return {"result": "ok", "bundle_id": row["bundle_id"], "sha256": row["sha256"], "flows": flows}

    def bundle(self, bundle_id: str) -> tuple[bytes, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(bundles.c.data, bundles.c.sha256).where(bundles.c.bundle_id == bundle_id)).first()
        return (bytes(row[0]), row[1]) if row else None

    def publish_bundle(self, data: bytes) -> tuple[bool, dict]:
        from flows.bundles import verify_bundle  # noqa: PLC0415 - its crypto loads on the first publish only
        # every (flow id, version) ever published keeps its content: a changed flow needs a new version
        known: dict[tuple[str, int], str] = {}
        with self.engine.connect() as conn:
            for (manifest_text,) in conn.execute(select(bundles.c.manifest)):
                for f in json.loads(manifest_text).get("flows", []):
                    known[(f.get("id"), f.get("version"))] = f.get("sha256")
        try:
            verify_bundle(data, list(self.trusted_keys), known)
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
        return self.store_bundle(data, manifest_bytes, bundle_id)

    def store_bundle(self, data: bytes, manifest_bytes: bytes, bundle_id: str) -> tuple[bool, dict]:
        """Store an already verified bundle and make it current (``publish_bundle`` verifies first)."""
        sha = hashlib.sha256(data).hexdigest()
        with write_tx(self.engine) as conn:
            if conn.execute(select(bundles.c.bundle_id).where(bundles.c.bundle_id == bundle_id)).first():
                return False, {"result": "already", "bundle_id": bundle_id, "sha256": sha}
            seq = (conn.execute(select(func.max(bundles.c.seq))).scalar() or 0) + 1
            conn.execute(insert(bundles).values(bundle_id=bundle_id, sha256=sha, data=data, manifest=manifest_bytes.decode(),
                                                created_at=_iso(clock.now()), seq=seq))
        return True, {"result": "created", "bundle_id": bundle_id, "sha256": sha}
