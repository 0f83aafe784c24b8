"""Database schema and engine: SQLite by default, PostgreSQL when the URL says so.

SQLAlchemy Core (not the ORM): the intake path is a handful of statements and runs hundreds of
times a second, so it stays visible and cheap. Times are stored as ISO-8601 text with the
Vietnam offset so SQLite and PostgreSQL hold the same values.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

kiosks = Table(
    "kiosks",
    metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("secret_hash", String(200), nullable=False),
    Column("province_code", String(2), nullable=False),
    Column("commune_code", String(5), nullable=False, default=""),
    Column("registered_at", String(40), nullable=False),
    Column("last_heartbeat_at", String(40)),
    Column("last_heartbeat", Text),  # JSON: devices / outbox / versions (no personal data)
)

attachments = Table(
    "attachments",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("received_at", String(40), nullable=False),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("dossier_code", String(40), nullable=False, unique=True),
    # The lookup secret is stored as issued: a replay must return the very same secret, and
    # it only unlocks the status (no personal data) of one dossier.
    Column("lookup_secret", String(20), nullable=False),
    Column("kiosk_id", String(64), ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("province_code", String(2), nullable=False),
    Column("commune_code", String(5), nullable=False, index=True),
    Column("unit_name", String(200), nullable=False),
    Column("procedure_code", String(40), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("appointment_date", String(10)),
    Column("updated_at", String(40), nullable=False),
    Column("body", Text, nullable=False),
    # sha256 of the dossier's canonical JSON (central.service.content_hash): a UUID is bound to the
    # kiosk that sent it first and to this content. NULL in rows from before the column: computed
    # from ``body`` when such a UUID comes again.
    Column("content_sha256", String(64)),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dossier_id", Integer, ForeignKey("dossiers.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("at", String(40), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

# Which kiosk uploaded which attachment. The bytes are stored once per sha256 (attachments), but a
# kiosk may only reference, and only hears about, the hashes it uploaded itself.
attachment_owners = Table(
    "attachment_owners",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kiosk_id", String(64), primary_key=True),
    Column("received_at", String(40), nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)

bundles = Table(
    "bundles",
    metadata,
    Column("bundle_id", String(100), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("manifest", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("seq", Integer, nullable=False),  # the highest is the current bundle
)

# Every change of the current flow bundle: a publish, or an explicit rollback with its reason.
bundle_events = Table(
    "bundle_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),  # publish | rollback
    Column("bundle_id", String(100), nullable=False),
    Column("previous_bundle_id", String(100)),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False, default=""),  # "admin API from <address>", "cli"
)

# A citizen at a kiosk asked for a staff member (issue 18). Nothing personal: the kiosk, where in
# which procedure, the screen's language and how long the visit had lasted. ``uuid`` is chosen by
# the kiosk (its outbox may send the same call again); ``state`` is open | acknowledged | cancelled.
help_calls = Table(
    "help_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("kiosk_id", String(64), ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("province_code", String(2), nullable=False),
    Column("commune_code", String(5), nullable=False, index=True),
    Column("flow_id", String(64), nullable=False, default=""),
    Column("step_id", String(64), nullable=False, default=""),
    Column("step_title", String(200), nullable=False, default=""),
    Column("screen", String(64), nullable=False),
    Column("language", String(2), nullable=False),
    Column("waiting_s", Integer, nullable=False),  # the visit's length when the citizen asked
    Column("called_at", String(40), nullable=False),  # when the citizen asked (the kiosk's time, bounded by ours)
    Column("received_at", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("acknowledged_at", String(40)),
    Column("acknowledged_by", String(200)),  # what the staff member gave as "who" (a name, a desk)
    Column("cancelled_at", String(40)),
    Column("content_sha256", String(64), nullable=False),  # a replay of the uuid must carry the same call
)

# --- the centre's queue (central/queue.py) -------------------------------------------------------

# --- ratings from the kiosks (central/ratings.py) ------------------------------------------------

# --- people: officers' and supervisors' accounts, sessions, audit (central/console/) -------------

# Columns added after a table was first created: (table, column, SQL type). ``create_all`` makes
# missing tables only; an existing database gets these added at start (``migrate``).
ADDED_COLUMNS = (("dossiers", "content_sha256", "VARCHAR(64)"),)


def database_url(database: str) -> str:
    """A SQLite path or any SQLAlchemy URL; postgresql:// is run with psycopg 3.

    A relative path here is relative to the current directory, as for any command-line argument
    (``--database``, ``CENTRAL_DATABASE``); ``[central].database`` arrives already resolved from
    the config file that names it (``kiosk.config``)."""
    if "://" not in database:
        path = Path(database).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    for prefix in ("postgresql://", "postgres://"):
        if database.startswith(prefix):
            return "postgresql+psycopg://" + database[len(prefix):]
    return database


def make_engine(database: str, *, pool_size: int = 20) -> Engine:
    url = database_url(database)
    if url.startswith("sqlite"):
        # hide_parameters: an SQL error's text (logged with its traceback) must not carry the dossier
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=pool_size, max_overflow=10,
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" hook below issues BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a 201 means the dossier is on disk
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # Writers take the lock up front (BEGIN IMMEDIATE) instead of failing with "database is
        # locked" when a read transaction upgrades; readers use a plain BEGIN and never wait in WAL.
        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    else:
        # no pre-ping (a round trip per request); stale connections are recycled instead
        engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_recycle=1800, hide_parameters=True)
    if engine.dialect.name == "postgresql":
        # Several instances or workers may start together on an empty database, and two CREATE
        # TABLEs of one name race (a unique violation in pg_type): one process at a time here.
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK})
            try:
                metadata.create_all(engine)
                migrate(engine)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK})
                lock.commit()
        return engine
    metadata.create_all(engine)
    migrate(engine)
    return engine


_SCHEMA_LOCK = 0x736368656D61  # "schema"


def migrate(engine: Engine) -> None:
    """Add the columns of ``ADDED_COLUMNS`` that an older database lacks. Several server processes
    may start together: PostgreSQL says ``IF NOT EXISTS``; on SQLite a column another process added
    meanwhile shows up as "duplicate column" and is fine."""
    from sqlalchemy import inspect  # noqa: PLC0415
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415

    have = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in {t for t, _, _ in ADDED_COLUMNS}}
    for table, column, sql_type in ADDED_COLUMNS:
        if column in have[table]:
            continue
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}"))
            continue
        try:
            with write_tx(engine) as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
        except OperationalError as exc:
            if "duplicate column" not in str(exc).lower():
                raise


def next_counter(conn, key: str) -> int:
    """Atomic per-key sequence (an upsert with RETURNING works on SQLite ≥ 3.35 and PostgreSQL)."""
    return conn.execute(
        text(
            "INSERT INTO counters (key, value) VALUES (:k, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value"
        ),
        {"k": key},
    ).scalar_one()


_write_locks: dict[int, threading.Lock] = {}


@contextmanager
def write_tx(engine: Engine):
    """A write transaction. On SQLite, writers of this process queue on a Python lock first:
    SQLite's own busy handler sleeps in growing steps, which turned a short wait into a
    one-second tail under load. (Other processes on the same file still meet the busy handler.)"""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    lock = _write_locks.setdefault(id(engine), threading.Lock())
    with lock, engine.connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info["write"] = False
