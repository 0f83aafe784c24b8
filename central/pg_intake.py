"""PostgreSQL intake in one round trip per request, on the event loop.

The SQLAlchemy path in ``central.service`` spends, per dossier, a BEGIN, a replay check, an
attachment check, a counter upsert, two inserts and a COMMIT: seven round trips, each a hop
through a worker thread. Here the same rules run inside PostgreSQL as one function
(``central_submit_v1``), called as a single autocommit statement from an async psycopg
connection: one round trip, one transaction, one WAL flush. The attachment upload is one
``INSERT … ON CONFLICT DO NOTHING RETURNING``. Durability is unchanged (fsync and
synchronous_commit stay on); PostgreSQL's own group commit shares a WAL flush between the
commits that arrive together.

Validation, routing, the clock and the lookup secret stay in Python (``Central.plan_submission``);
the SQL only stores what the plan says, so both paths answer the same.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)

FUNCTION_NAME = "central_submit_v3"

# Versioned name: a changed signature gets a new name instead of failing CREATE OR REPLACE on a
# database an older release set up. The code's sequence widens past 9999 like codes.dossier_code.
# v2: the dossier's content hash is stored and, for a known UUID, the row's kiosk and content hash
# come back (central.service decides "already" or "uuid_conflict"); an attachment counts only when
# the submitting kiosk uploaded it (attachment_owners).
# v3: the provisional receipt's TAM code and secret are stored (dossiers.provisional_code/_secret).
SUBMIT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION_NAME}(
    p_uuid text, p_wanted text[], p_counter text, p_province text, p_commune text, p_unit_name text,
    p_day text, p_secret text, p_kiosk text, p_procedure text, p_at text, p_appointment text, p_body text,
    p_content text, p_provisional_code text, p_provisional_secret text,
    OUT o_result text, OUT o_code text, OUT o_secret text, OUT o_province text, OUT o_commune text,
    OUT o_unit text, OUT o_appointment text, OUT o_at text, OUT o_missing text[], OUT o_kiosk text,
    OUT o_content text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_seq integer;
    v_id integer;
BEGIN
    SELECT 'already', d.dossier_code, d.lookup_secret, d.province_code, d.commune_code, d.unit_name,
           d.appointment_date, d.received_at, d.kiosk_id, d.content_sha256
      INTO o_result, o_code, o_secret, o_province, o_commune, o_unit, o_appointment, o_at, o_kiosk, o_content
      FROM dossiers d WHERE d.uuid = p_uuid;
    IF FOUND THEN
        RETURN;
    END IF;
    -- byte order whatever the database's collation, as Python's sorted() on the other path
    SELECT array_agg(w ORDER BY w COLLATE "C") INTO o_missing
      FROM unnest(p_wanted) AS w
     WHERE NOT EXISTS (SELECT 1 FROM attachment_owners a WHERE a.sha256 = w AND a.kiosk_id = p_kiosk);
    IF o_missing IS NOT NULL THEN
        o_result := 'missing_attachments';
        RETURN;
    END IF;
    INSERT INTO counters (key, value) VALUES (p_counter, 1)
        ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value INTO v_seq;
    o_code := p_province || '.' || p_commune || '-' || p_day || '-'
              || CASE WHEN v_seq < 10000 THEN lpad(v_seq::text, 4, '0') ELSE v_seq::text END;
    INSERT INTO dossiers (uuid, dossier_code, lookup_secret, kiosk_id, province_code, commune_code, unit_name,
                          procedure_code, status, received_at, appointment_date, updated_at, body, content_sha256,
                          provisional_code, provisional_secret)
        VALUES (p_uuid, o_code, p_secret, p_kiosk, p_province, p_commune, p_unit_name,
                p_procedure, 'received', p_at, p_appointment, p_at, p_body, p_content,
                p_provisional_code, p_provisional_secret)
        RETURNING id INTO v_id;
    INSERT INTO status_events (dossier_id, status, at, note) VALUES (v_id, 'received', p_at, '');
    o_result := 'created';
    o_secret := p_secret; o_province := p_province; o_commune := p_commune; o_unit := p_unit_name;
    o_appointment := p_appointment; o_at := p_at; o_kiosk := p_kiosk; o_content := p_content;
END
$fn$
"""

SUBMIT_SQL = (
    f"SELECT * FROM {FUNCTION_NAME}(%s::text, %s::text[], %s::text, %s::text, %s::text, %s::text, "
    "%s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::text)"
)
# The bytes once per sha256, the ownership once per kiosk: "stored" (a row) the first time this
# kiosk sends them, whoever sent the bytes before.
PUT_SQL = (
    "WITH bytes AS (INSERT INTO attachments (sha256, size, data, received_at) "
    "VALUES (%(sha)s::text, %(size)s::integer, %(data)s::bytea, %(at)s::text) ON CONFLICT (sha256) DO NOTHING) "
    "INSERT INTO attachment_owners (sha256, kiosk_id, received_at) VALUES (%(sha)s::text, %(kiosk)s::text, %(at)s::text) "
    "ON CONFLICT (sha256, kiosk_id) DO NOTHING RETURNING 1"
)
EXISTING_COLUMNS = ("dossier_code", "lookup_secret", "province_code", "commune_code", "unit_name", "appointment_date",
                    "received_at", "kiosk_id", "content_sha256", "body")
# any constant: serialises the CREATE OR REPLACE of several worker processes starting together
# (concurrent replacements of one function fail with "tuple concurrently updated")
_INSTALL_LOCK = 0x6B696F736B  # "kiosk"


def install(conninfo: str) -> bool:
    """Create (or refresh) the intake function; the tables must exist already.

    True when the function is there to use. A role that may not create it (or replace one its
    owner created) still uses an existing one: the versioned name fixes its contract. False when
    it is missing and cannot be created: the caller stays on the SQLAlchemy path."""
    try:
        with psycopg.connect(conninfo) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INSTALL_LOCK,))
            conn.execute(SUBMIT_FUNCTION)
        return True
    except psycopg.errors.InsufficientPrivilege:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            found = conn.execute("SELECT to_regproc(%s) IS NOT NULL", (FUNCTION_NAME,)).fetchone()[0]
        if not found:
            log.warning("no privilege to create %s: PostgreSQL intake stays on the SQLAlchemy path", FUNCTION_NAME)
        return found


class _Pool:
    """Autocommit async connections for one event loop, opened on demand, at most ``size``."""

    def __init__(self, conninfo: str, size: int):
        self.conninfo, self.size = conninfo, size
        self.loop = asyncio.get_running_loop()
        self.idle: list[psycopg.AsyncConnection] = []
        self.slots = asyncio.Semaphore(size)

    async def run(self, sql: str, args: tuple | dict) -> tuple | None:
        """Execute one autocommit statement and return its first row.

        A connection that sat idle may have been closed under us (server restart, idle timeout,
        pg_terminate_backend): that failure is retried once on a new connection. Both statements
        are idempotent (the attachment by its hash, the dossier by its UUID), so when the lost
        answer belonged to a committed statement the retry answers "already", as a kiosk's own
        retry would."""
        async with self.slots:
            for attempt in (1, 2):
                reused = bool(self.idle)
                # prepare_threshold=0: each of the two statements is parsed and planned once per connection
                conn = self.idle.pop() if reused else await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, prepare_threshold=0)
                try:
                    cur = await conn.execute(sql, args)
                    return await cur.fetchone()
                except psycopg.OperationalError:
                    if not (reused and conn.broken) or attempt == 2:
                        raise
                    log.info("a pooled PostgreSQL connection was closed; retrying on a new one")
                finally:
                    # also dropped: a connection left mid-statement by a cancelled request
                    if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
                        _finish(conn)
                    else:
                        self.idle.append(conn)
        return None  # not reached: the second attempt returns or raises

    def close(self) -> None:
        while self.idle:
            _finish(self.idle.pop())


def _finish(conn) -> None:
    try:  # synchronous close: the pool may be closed after its event loop has stopped
        conn.pgconn.finish()
    except Exception:  # noqa: BLE001, S110 — already closed is fine
        pass


class PgIntake:
    """The two intake calls on PostgreSQL. Connections are per event loop (uvicorn runs one per
    process; the tests start and stop servers in threads, each with its own loop)."""

    def __init__(self, conninfo: str, *, pool_size: int = 20):
        self.conninfo, self.pool_size = conninfo, pool_size
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}

    def _current_pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for old in [lp for lp in self._pools if lp.is_closed()]:
                self._pools.pop(old).close()
            pool = self._pools[loop] = _Pool(self.conninfo, self.pool_size)
        return pool

    def close(self) -> None:
        """Close the idle connections (call once the serving loops have stopped)."""
        for loop in list(self._pools):
            self._pools.pop(loop).close()

    async def put_attachment(self, sha256: str, data: bytes, kiosk_id: str, received_at: str) -> str:
        """"stored" or "already" for this kiosk (the hash was checked by the caller)."""
        row = await self._current_pool().run(PUT_SQL, {"sha": sha256, "size": len(data), "data": data, "at": received_at,
                                                       "kiosk": kiosk_id})
        return "stored" if row else "already"

    async def submit(self, args: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
        """Run the intake function (``FUNCTION_NAME``) with ``args`` (``Submission.sql_args``).

        Returns (result, row): result is created | already | missing_attachments. A concurrent
        submission of the same UUID that commits first surfaces as ``IntegrityError`` for the
        caller to answer as a replay."""
        try:
            row = await self._current_pool().run(SUBMIT_SQL, args)
        except pg_errors.UniqueViolation as exc:
            raise IntegrityError(str(exc)) from None
        result, code, secret, province, commune, unit, appointment, at, missing, kiosk, content = row
        return result, {"dossier_code": code, "lookup_secret": secret, "province_code": province,
                        "commune_code": commune, "unit_name": unit, "appointment_date": appointment,
                        "received_at": at, "missing": missing or [], "kiosk_id": kiosk, "content_sha256": content}

    async def existing(self, uid: str) -> dict[str, Any] | None:
        """The stored answer row for a UUID, or None."""
        row = await self._current_pool().run(
            f"SELECT {', '.join(EXISTING_COLUMNS)} FROM dossiers WHERE uuid = %s::text", (uid,))
        if row is None:
            return None
        return dict(zip(EXISTING_COLUMNS, row))


class IntegrityError(Exception):
    """The same dossier UUID was committed concurrently."""
