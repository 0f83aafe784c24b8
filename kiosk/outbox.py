"""Durable, encrypted outbox: a dossier is on disk before the kiosk tries the network.

SQLite in WAL mode with ``synchronous=FULL``: when :meth:`Outbox.enqueue` returns, the dossier
and its attachments are committed and fsynced, so a kill -9 or a power cut afterwards loses
nothing. Everything personal (the dossier document and the attachment bytes) is stored only as
AES-GCM ciphertext, bound to the dossier UUID as associated data so blobs cannot be swapped
between rows. ``secure_delete`` zeroes freed pages, and once the central system confirms a
dossier (:meth:`Outbox.mark_sent`) its ciphertext and attachments are deleted: what stays is the
UUID, the local and central codes, the handling unit and times — enough to reprint or trace a
receipt, nothing about the citizen.

The key is 32 random bytes from the source ``[outbox].key_source`` names (kiosk.outbox_key: a
0600 file or the system keyring), created on first use only while the outbox holds no
ciphertext. Losing the key makes queued dossiers unreadable (never silently dropped: they stay
and the error says why).
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import clock
from common.files import fsync_dir
from kiosk.outbox_errors import OutboxError, OutboxFull, OutboxKeyError
from kiosk.outbox_key import (FileKeySource, KeySource, key_source_from_config,  # noqa: F401
                              load_or_create_key)  # noqa: F401 - re-exported for callers

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    local_code TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,                 -- pending | held | sent
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    payload BLOB,                        -- nonce || AES-GCM(dossier JSON); NULL once sent
    dossier_code TEXT,
    lookup_secret TEXT,
    appointment_date TEXT,
    handling_unit TEXT,
    sent_at TEXT,
    result TEXT,
    failures INTEGER NOT NULL DEFAULT 0, -- server errors (5xx) in a row for this dossier: its own back-off
    next_attempt_at TEXT,                -- not sent again before this time (that back-off); NULL: any time
    hold_reason TEXT NOT NULL DEFAULT '', -- held: the central system's reason code (uuid_conflict…), no personal data
    held_at TEXT,
    local_secret TEXT NOT NULL DEFAULT '' -- the lookup key printed with the local code on a provisional receipt
);
CREATE TABLE IF NOT EXISTS attachments (
    uuid TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    blob BLOB NOT NULL,                  -- nonce || AES-GCM(bytes)
    PRIMARY KEY (uuid, sha256)
);
CREATE INDEX IF NOT EXISTS items_state ON items (state, seq);
-- Small messages for the central system besides dossiers (a help call, its cancellation; ratings
-- later): each one request, idempotent on its uuid, kept apart from the dossiers so that nothing
-- here can touch a dossier's guarantees. A message may expire: a help call nobody could see for
-- 30 minutes is not sent any more (the citizen has gone).
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,           -- the message's idempotency key
    kind TEXT NOT NULL,                  -- what it is, and so which request sends it (kiosk.sync.MESSAGE_KINDS)
    subject TEXT NOT NULL DEFAULT '',    -- what it is about (a cancellation: the call's uuid)
    state TEXT NOT NULL,                 -- pending | sent | dropped
    created_at TEXT NOT NULL,
    expires_at TEXT,                     -- not sent after this; NULL: no end
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    payload BLOB,                        -- nonce || AES-GCM(JSON body); NULL once sent or dropped
    sent_at TEXT,
    result TEXT NOT NULL DEFAULT ''      -- sent: central's result; dropped: why (expired, cancelled, refused:<code>)
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state, seq);
"""
# Columns added after the first release: an outbox written by an older kiosk gets them on open.
_ADDED_COLUMNS = (
    ("failures", "INTEGER NOT NULL DEFAULT 0"),
    ("next_attempt_at", "TEXT"),
    ("hold_reason", "TEXT NOT NULL DEFAULT ''"),
    ("held_at", "TEXT"),
    ("local_secret", "TEXT NOT NULL DEFAULT ''"),
)
# The lookup key of a provisional receipt, in central's alphabet and length (central.codes: no
# 0/O, 1/I/L, read off paper): central checks it with the TAM code once the dossier is delivered.
LOOKUP_SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOKUP_SECRET_LENGTH = 10
# How many held / retrying dossiers status() lists by local code (the counts are always whole).
STATUS_LIST_MAX = 20


@dataclass
class OutboxItem:
    uuid: str
    local_code: str
    state: str
    created_at: str
    attempts: int
    last_attempt_at: str | None
    last_error: str
    attachment_shas: list[str] = field(default_factory=list)
    dossier: dict | None = None          # decrypted; None once sent
    dossier_code: str | None = None
    lookup_secret: str | None = None
    appointment_date: str | None = None
    handling_unit: dict | None = None
    sent_at: str | None = None
    result: str | None = None
    failures: int = 0                    # server errors in a row for this dossier (its own back-off)
    next_attempt_at: str | None = None   # the worker does not send it again before this time
    hold_reason: str = ""                # held: the central system's reason code ("needs a technician")
    held_at: str | None = None
    local_secret: str = ""               # the provisional receipt's lookup key ("" in rows from before it)

    def body(self) -> dict | None:
        """The dossier as central receives it: with its provisional code and key, so that the
        citizen holding a provisional receipt can look it up once it is delivered (the same
        block on every try: central binds the uuid to the content)."""
        if self.dossier is None or not self.local_secret:
            return self.dossier
        return {**self.dossier, "provisional": {"code": self.local_code, "lookup_secret": self.local_secret}}

    def submit_result(self):
        """The central system's answer as a ``kiosk.client.SubmitResult`` (None while unsent)."""
        if self.state != "sent":
            return None
        from kiosk.client import SubmitResult

        return SubmitResult(self.result or "created", self.dossier_code or "", self.lookup_secret or "",
                            self.appointment_date, self.handling_unit or {}, None)


def holds_ciphertext(path: Path) -> bool:
    """Does the outbox file hold encrypted data (then its key must never be replaced)?"""
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            if db.execute("SELECT EXISTS (SELECT 1 FROM items WHERE payload IS NOT NULL)"
                          " OR EXISTS (SELECT 1 FROM attachments)").fetchone()[0]:
                return True
            has_messages = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").fetchone()
            return bool(has_messages and db.execute(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE payload IS NOT NULL)").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return True  # unreadable or foreign: do not risk pairing it with a new key


def kiosk_short(kiosk_id: str) -> str:
    """``KIOSK-HN-BADINH-01`` → ``BADINH01``: short enough for a receipt, still tells kiosks apart."""
    parts = [re.sub(r"[^A-Za-z0-9]", "", p).upper() for p in re.split(r"[-_.]", kiosk_id or "") if p]
    short = "".join(parts[-2:]) if len(parts) >= 2 else "".join(parts)
    return short[-10:] or "KIOSK"


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def _instant(text: str | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=clock.VN_TZ)


def _is_disk_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc).lower()


@dataclass
class OutboxMessage:
    uuid: str
    kind: str
    subject: str
    state: str                           # pending | sent | dropped
    created_at: str
    expires_at: str | None
    attempts: int
    last_error: str
    result: str                          # sent: central's result; dropped: why
    body: dict | None = None             # decrypted; None once sent or dropped
    sent_at: str | None = None

    def expired(self, now: datetime | None = None) -> bool:
        if not self.expires_at:
            return False
        try:
            return datetime.fromisoformat(self.expires_at) <= (now or clock.now())
        except ValueError:
            return False


class Outbox:
    def __init__(self, path: str | os.PathLike, key: str | os.PathLike | KeySource, *,
                 kiosk_short: str | None = None):
        """``key``: a key file path (the 0600 file source) or a kiosk.outbox_key source."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.key_source = key if hasattr(key, "load") else FileKeySource(key)
        # a fresh key would make every queued dossier unreadable: only create one for an outbox
        # with no ciphertext yet; otherwise a missing key is OutboxKeyError
        self._aead = AESGCM(self.key_source.load(create=not holds_ciphertext(self.path)))
        self._short = kiosk_short
        self._lock = threading.RLock()
        new = not self.path.exists()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
            self._add_columns()
        except sqlite3.OperationalError as exc:
            self._db.close()
            if _is_disk_full(exc):
                raise OutboxFull(detail=f"{self.path}: disk full while opening the outbox") from None
            raise OutboxError(detail=f"{self.path}: cannot open the outbox: {exc}") from None
        if new:
            fsync_dir(self.path.parent)  # the file's directory entry must survive a power cut too

    def _add_columns(self) -> None:
        have = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
        for name, decl in _ADDED_COLUMNS:
            if name not in have:
                try:
                    self._db.execute(f"ALTER TABLE items ADD COLUMN {name} {decl}")
                except sqlite3.OperationalError as exc:  # the other process (kiosk / kiosk-sync) was first
                    if "duplicate column" not in str(exc):
                        raise

    @classmethod
    def from_config(cls, config) -> "Outbox":
        o = config["outbox"]
        return cls(o["path"], key_source_from_config(o), kiosk_short=kiosk_short(config["kiosk"]["id"]))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- crypto -------------------------------------------------------------------------------
    def _seal(self, data: bytes, aad: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, aad.encode())

    def _open(self, blob: bytes, aad: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], aad.encode())
        except InvalidTag:
            raise OutboxKeyError(detail="outbox data does not decrypt with this key (key replaced or data corrupted)",
                                 vi="Không đọc được hồ sơ đã lưu; vui lòng báo cán bộ kỹ thuật.") from None

    # --- writing ------------------------------------------------------------------------------
    def _write(self, fn):
        """Run ``fn(db)`` in one IMMEDIATE transaction; disk-full becomes OutboxFull, nothing half-written."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(self._db)
                except BaseException:
                    if self._db.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return out
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if _is_disk_full(exc):
                    raise OutboxFull(detail=f"{self.path}: disk full") from None
                raise OutboxError(detail=f"{self.path}: {exc}") from None

    def enqueue(self, dossier: dict, attachments: dict[str, bytes] | None = None) -> str:
        """Store the dossier (and attachment bytes by sha256) durably; return its local code.

        Enqueuing the same UUID again returns the existing local code and changes nothing.
        """
        import hashlib

        uid = str(dossier.get("uuid") or "")
        if not uid:
            raise ValueError("the dossier has no uuid")
        attachments = attachments or {}
        for sha, data in attachments.items():
            if hashlib.sha256(data).hexdigest() != sha:
                raise ValueError("attachment bytes do not match their sha256")
        listed = {a.get("sha256") for a in dossier.get("attachments", []) if isinstance(a, dict)}
        missing = listed - set(attachments)
        if missing:
            raise ValueError(f"{len(missing)} attachment(s) listed in the dossier have no bytes")
        short = self._short or kiosk_short(str(dossier.get("kiosk_id", "")))
        payload = self._seal(json.dumps(dossier, ensure_ascii=False, sort_keys=True).encode(), f"{uid}|dossier")
        sealed = {sha: self._seal(data, f"{uid}|{sha}") for sha, data in attachments.items()}

        local_secret = "".join(secrets.choice(LOOKUP_SECRET_ALPHABET) for _ in range(LOOKUP_SECRET_LENGTH))

        def tx(db):
            row = db.execute("SELECT local_code FROM items WHERE uuid = ?", (uid,)).fetchone()
            if row:
                return row[0]
            cur = db.execute(
                "INSERT INTO items (uuid, local_code, state, created_at, payload, local_secret) VALUES (?, ?, 'pending', ?, ?, ?)",
                (uid, uid, _now(), payload, local_secret),
            )
            code = f"TAM-{short}-{cur.lastrowid:04d}"
            db.execute("UPDATE items SET local_code = ? WHERE seq = ?", (code, cur.lastrowid))
            db.executemany("INSERT INTO attachments (uuid, sha256, blob) VALUES (?, ?, ?)",
                           [(uid, sha, blob) for sha, blob in sealed.items()])
            return code

        code = self._write(tx)
        log.info("dossier queued as %s", code)
        return code

    def mark_sent(self, uuid: str, result) -> None:
        """Central confirmed: keep codes and times, delete the personal data and the attachments."""
        r = result.as_dict() if hasattr(result, "as_dict") else dict(result)
        if r.get("result") not in ("created", "already", "accepted"):
            raise ValueError("mark_sent needs an explicit created/already answer")

        def tx(db):
            db.execute(
                "UPDATE items SET state = 'sent', payload = NULL, last_error = '', dossier_code = ?, lookup_secret = ?,"
                " appointment_date = ?, handling_unit = ?, sent_at = ?, result = ?, failures = 0, next_attempt_at = NULL,"
                " hold_reason = '', held_at = NULL WHERE uuid = ?",
                (r.get("dossier_code"), r.get("lookup_secret"), r.get("appointment_date"),
                 json.dumps(r.get("handling_unit") or {}, ensure_ascii=False), _now(), r.get("result"), uuid),
            )
            db.execute("DELETE FROM attachments WHERE uuid = ?", (uuid,))

        self._write(tx)

    def note_failure(self, uuid: str, error: str, *, hold: bool = False, reason: str = "",
                     retry_at: datetime | None = None) -> None:
        """Record a failed attempt (technician-readable ``error``, no personal data).

        ``hold``: central refused this dossier for good; park it ("needs a technician") with
        ``reason`` (central's reason code, e.g. ``uuid_conflict``) until :meth:`retry`.
        ``retry_at``: central failed on this dossier (5xx) while it may take others; count it in the
        dossier's ``failures`` and do not send it again before then (its own back-off)."""
        when = retry_at.isoformat(timespec="seconds") if retry_at is not None else None

        def tx(db):
            db.execute(
                "UPDATE items SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?,"
                " failures = CASE WHEN ? THEN failures + 1 ELSE failures END,"
                " next_attempt_at = CASE WHEN ? THEN ? ELSE next_attempt_at END,"
                " hold_reason = CASE WHEN ? THEN ? ELSE hold_reason END,"
                " held_at = CASE WHEN ? THEN ? ELSE held_at END,"
                " state = CASE WHEN state = 'sent' THEN 'sent' WHEN ? THEN 'held' ELSE state END WHERE uuid = ?",
                (_now(), error[:500], when is not None, when is not None, when, hold, reason[:40] if hold else "",
                 hold, _now(), hold, uuid),
            )

        self._write(tx)

    def retry(self, uuid: str | None = None) -> int:
        """Put held dossiers (one, or all) back in the queue and end the dossiers' own back-offs
        (a technician says "now"); returns how many held dossiers were released."""
        where, args = ("AND uuid = ?", (uuid,)) if uuid else ("", ())

        def tx(db):
            released = db.execute(f"UPDATE items SET state = 'pending', hold_reason = '', held_at = NULL"
                                  f" WHERE state = 'held' {where}", args).rowcount
            db.execute(f"UPDATE items SET failures = 0, next_attempt_at = NULL WHERE state = 'pending' {where}", args)
            return released

        return self._write(tx)

    # --- messages (help calls, their cancellations; no dossier) ---------------------------------
    def enqueue_message(self, kind: str, body: dict, *, uuid: str, subject: str = "",
                        expires_at: datetime | None = None) -> bool:
        """Keep a message for the central system durably (fsynced, sealed like a dossier);
        ``uuid`` is its idempotency key: enqueuing it again changes nothing and returns False."""
        if not uuid or not kind:
            raise ValueError("a message needs a uuid and a kind")
        payload = self._seal(json.dumps(body, ensure_ascii=False, sort_keys=True).encode(), f"{uuid}|message")
        until = expires_at.isoformat(timespec="seconds") if expires_at is not None else None

        def tx(db):
            if db.execute("SELECT 1 FROM messages WHERE uuid = ?", (uuid,)).fetchone():
                return False
            db.execute("INSERT INTO messages (uuid, kind, subject, state, created_at, expires_at, payload)"
                       " VALUES (?, ?, ?, 'pending', ?, ?, ?)", (uuid, kind, subject, _now(), until, payload))
            return True

        return self._write(tx)

    def _message(self, row: sqlite3.Row, decrypt: bool) -> OutboxMessage:
        body = None
        if decrypt and row["payload"] is not None:
            body = json.loads(self._open(row["payload"], f"{row['uuid']}|message"))
        return OutboxMessage(uuid=row["uuid"], kind=row["kind"], subject=row["subject"], state=row["state"],
                             created_at=row["created_at"], expires_at=row["expires_at"], attempts=row["attempts"],
                             last_error=row["last_error"], result=row["result"] or "", body=body, sent_at=row["sent_at"])

    def message(self, uuid: str, *, decrypt: bool = True) -> OutboxMessage | None:
        rows = self._rows("SELECT * FROM messages WHERE uuid = ?", (uuid,))
        return self._message(rows[0], decrypt) if rows else None

    def pending_messages(self, *, limit: int | None = None) -> list[OutboxMessage]:
        """Messages still to send, oldest first, decrypted."""
        sql = "SELECT * FROM messages WHERE state = 'pending' ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._message(r, True) for r in self._rows(sql)]

    def mark_message_sent(self, uuid: str, result: str) -> None:
        """Central confirmed it. Also for a message dropped while it was on its way (a call
        cancelled during its first try): that it arrived is a fact the cancellation must know."""
        self._write(lambda db: db.execute(
            "UPDATE messages SET state = 'sent', payload = NULL, sent_at = ?, result = ?, last_error = '' WHERE uuid = ?",
            (_now(), str(result)[:40], uuid)))

    def note_message_failure(self, uuid: str, error: str) -> None:
        """A failed attempt (technician-readable ``error``, no personal data); it stays pending."""
        self._write(lambda db: db.execute(
            "UPDATE messages SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE uuid = ?",
            (_now(), error[:500], uuid)))

    def drop_message(self, uuid: str, reason: str) -> bool:
        """Do not send it (``reason``: expired, cancelled, refused:<code>…); its body is deleted.
        True when it was still pending."""
        return self._write(lambda db: db.execute(
            "UPDATE messages SET state = 'dropped', payload = NULL, result = ? WHERE uuid = ? AND state = 'pending'",
            (reason[:40], uuid)).rowcount > 0)

    def expire_messages(self, now: datetime | None = None) -> list[str]:
        """Drop the pending messages whose time is up (reason ``expired``); their uuids."""
        at = (now or clock.now()).isoformat(timespec="seconds")
        rows = self._rows("SELECT uuid, expires_at FROM messages WHERE state = 'pending' AND expires_at IS NOT NULL")
        # compared as instants, not as text: an offset written by another clock setting still counts
        gone = [r["uuid"] for r in rows if _instant(r["expires_at"]) is not None and _instant(r["expires_at"]) <= _instant(at)]
        for uid in gone:
            self.drop_message(uid, "expired")
        return gone

    # --- reading ------------------------------------------------------------------------------
    def _item(self, row: sqlite3.Row, decrypt: bool) -> OutboxItem:
        shas = [r[0] for r in self._db.execute("SELECT sha256 FROM attachments WHERE uuid = ? ORDER BY sha256", (row["uuid"],))]
        dossier = None
        if decrypt and row["payload"] is not None:
            dossier = json.loads(self._open(row["payload"], f"{row['uuid']}|dossier"))
        return OutboxItem(
            uuid=row["uuid"], local_code=row["local_code"], state=row["state"], created_at=row["created_at"],
            attempts=row["attempts"], last_attempt_at=row["last_attempt_at"], last_error=row["last_error"],
            attachment_shas=shas, dossier=dossier, dossier_code=row["dossier_code"], lookup_secret=row["lookup_secret"],
            appointment_date=row["appointment_date"],
            handling_unit=json.loads(row["handling_unit"]) if row["handling_unit"] else None,
            sent_at=row["sent_at"], result=row["result"], failures=row["failures"] or 0,
            next_attempt_at=row["next_attempt_at"], hold_reason=row["hold_reason"] or "", held_at=row["held_at"],
            local_secret=row["local_secret"] or "",
        )

    def _rows(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            try:
                return self._db.execute(sql, args).fetchall()
            finally:
                self._db.row_factory = None

    def pending(self, *, include_held: bool = False, limit: int | None = None) -> list[OutboxItem]:
        """Unsent dossiers, oldest first, decrypted (held ones only when asked)."""
        states = ("pending", "held") if include_held else ("pending",)
        sql = f"SELECT * FROM items WHERE state IN ({','.join('?' * len(states))}) ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self._rows(sql, states)
        with self._lock:
            return [self._item(r, decrypt=True) for r in rows]

    def get(self, uuid: str, *, decrypt: bool = True) -> OutboxItem | None:
        rows = self._rows("SELECT * FROM items WHERE uuid = ?", (uuid,))
        if not rows:
            return None
        with self._lock:
            return self._item(rows[0], decrypt=decrypt)

    def by_local_code(self, local_code: str, *, decrypt: bool = False) -> OutboxItem | None:
        """The dossier a receipt's local code (``TAM-BADINH01-0007``) names, or None."""
        rows = self._rows("SELECT * FROM items WHERE local_code = ?", (local_code,))
        if not rows:
            return None
        with self._lock:
            return self._item(rows[0], decrypt=decrypt)

    def attachment(self, uuid: str, sha256: str) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT blob FROM attachments WHERE uuid = ? AND sha256 = ?", (uuid, sha256)).fetchone()
        if row is None:
            raise KeyError(sha256)
        return self._open(row[0], f"{uuid}|{sha256}")

    def status(self) -> dict[str, Any]:
        """Counts and the oldest unsent dossier, for the maintenance screen and heartbeats (no personal data).

        ``needs_technician``: the held dossiers (central refused them for good), by local code with
        central's reason code; ``held_reasons``: how many per reason; ``retrying``: dossiers central
        failed on (5xx) that wait for their own next try. Lists hold at most ``STATUS_LIST_MAX``."""
        with self._lock:
            counts = dict(self._db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())
            oldest = self._db.execute("SELECT MIN(created_at) FROM items WHERE state != 'sent'").fetchone()[0]
            last_sent = self._db.execute("SELECT MAX(sent_at) FROM items WHERE state = 'sent'").fetchone()[0]
            err = self._db.execute(
                "SELECT local_code, last_error, last_attempt_at FROM items WHERE state != 'sent' AND last_error != ''"
                " ORDER BY last_attempt_at DESC LIMIT 1").fetchone()
            reasons = dict(self._db.execute(
                "SELECT CASE hold_reason WHEN '' THEN 'refused' ELSE hold_reason END, COUNT(*) FROM items"
                " WHERE state = 'held' GROUP BY 1 ORDER BY 1").fetchall())
            held = self._db.execute(
                "SELECT local_code, CASE hold_reason WHEN '' THEN 'refused' ELSE hold_reason END, held_at, attempts"
                " FROM items WHERE state = 'held' ORDER BY seq LIMIT ?", (STATUS_LIST_MAX,)).fetchall()
            retrying_count = self._db.execute(
                "SELECT COUNT(*) FROM items WHERE state = 'pending' AND failures > 0").fetchone()[0]
            messages = self._db.execute("SELECT COUNT(*) FROM messages WHERE state = 'pending'").fetchone()[0]
            retrying = self._db.execute(
                "SELECT local_code, failures, next_attempt_at, last_error FROM items WHERE state = 'pending' AND failures > 0"
                " ORDER BY seq LIMIT ?", (STATUS_LIST_MAX,)).fetchall()
        return {
            "pending": counts.get("pending", 0), "held": counts.get("held", 0), "sent": counts.get("sent", 0),
            "oldest_unsent_at": oldest, "last_sent_at": last_sent,
            "last_error": {"local_code": err[0], "error": err[1], "at": err[2]} if err else None,
            "held_reasons": reasons,
            "needs_technician": [{"local_code": c, "reason": r, "held_at": at, "attempts": n} for c, r, at, n in held],
            "retrying": retrying_count,
            "retrying_dossiers": [{"local_code": c, "failures": f, "next_attempt_at": at, "error": e}
                                  for c, f, at, e in retrying],
            "messages_pending": messages,
        }

    def export(self, directory: str | os.PathLike) -> int:
        """Write every unsent dossier (decrypted) with its attachments under ``directory`` for hand delivery.

        The files hold personal data: folders are 0700, files 0600. Returns the number exported.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        items = self.pending(include_held=True)
        for item in items:
            d = out / item.local_code
            d.mkdir(exist_ok=True, mode=0o700)
            _write_private(d / "dossier.json", json.dumps(item.dossier, ensure_ascii=False, indent=2).encode())
            for sha in item.attachment_shas:
                _write_private(d / f"{sha}.bin", self.attachment(item.uuid, sha))
        return len(items)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
