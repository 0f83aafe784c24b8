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
    # The kiosk outbox's local code (TAM-BADINH01-0007) printed on a provisional receipt while the
    # network was down, and the lookup secret printed with it: the citizen looks the dossier up with
    # those until they learn the real code (central.service.Central.status). NULL: none.
    Column("provisional_code", String(40), index=True),
    Column("provisional_secret", String(20)),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dossier_id", Integer, ForeignKey("dossiers.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("at", String(40), nullable=False),
    Column("note", Text, nullable=False, default=""),
    # who changed it (an officer's username, "admin API", "cli"): the audit trail, never shown to citizens
    Column("actor", String(200), nullable=False, default="", server_default=""),
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
    # staged rollout (issue 20): "pilot" — only the pilot kiosks of ``province_code`` fetch it;
    # "all" — every kiosk. A bundle approved in the console starts as pilot; promoting makes it all.
    Column("audience", String(8), nullable=False, default="all", server_default="all"),
    Column("province_code", String(2), nullable=False, default="", server_default=""),
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
    # who signed a published bundle (issue 20, four eyes): JSON [{"key_id", "name", "role"}] of the
    # signatures that counted; NULL for rollbacks and rows from before the column
    Column("signers", Text),
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
    # the officer's one-time code that confirms a citizen's identity at the kiosk (central/help_confirm.py)
    Column("confirm_code_sha256", String(64)),
    Column("confirm_expires_at", String(40)),
    Column("confirm_failures", Integer, nullable=False, default=0),
    Column("confirm_account", String(100)),   # who received the code (a console account)
    Column("confirmed_at", String(40)),
    Column("confirmed_by", String(100)),
)

# --- the centre's queue (central/queue.py) -------------------------------------------------------
from sqlalchemy import Index, UniqueConstraint  # noqa: E402 (kept in this section: the tables below use them)

# A centre is a commune code; its services are the kiosk ticket screen's fields. Each (centre,
# service) gets a letter the first time it is used (A, B, C… in that order) and keeps it.
queue_services = Table(
    "queue_services",
    metadata,
    Column("centre", String(5), primary_key=True),
    Column("service_id", String(64), primary_key=True),
    Column("prefix", String(3), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("centre", "prefix", name="uq_queue_services_prefix"),
)

# One row per centre, updated by whoever adds a service: the row lock (PostgreSQL) makes two
# kiosks that meet a new service at once take turns, so they never pick the same letter.
queue_centres = Table(
    "queue_centres",
    metadata,
    Column("centre", String(5), primary_key=True),
    Column("services", Integer, nullable=False),
)

# The last number handed out per (centre, prefix, day): online tickets take one, offline blocks
# take ``size`` at once from the same sequence, so the two can never meet.
queue_sequences = Table(
    "queue_sequences",
    metadata,
    Column("centre", String(5), primary_key=True),
    Column("prefix", String(3), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

# Numbers reserved for one kiosk's offline tickets (first..last, both included).
queue_blocks = Table(
    "queue_blocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre", String(5), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("prefix", String(3), nullable=False),
    Column("day", String(10), nullable=False),
    Column("kiosk_id", String(64), ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("first", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    Column("reserved_at", String(40), nullable=False),
    Index("ix_queue_blocks_lookup", "centre", "prefix", "day", "kiosk_id"),
)

# A ticket. The number is (prefix, seq) of its day, unique per centre whatever the service it is
# transferred to later. ``line_at``/``head`` order the waiting line: a transferred ticket goes to
# the head of its new line (head=1, in the order of transfer), others by when they were issued.
queue_tickets = Table(
    "queue_tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("centre", String(5), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("prefix", String(3), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("state", String(10), nullable=False),  # waiting | called | served | no_show
    Column("calls", Integer, nullable=False, default=0),
    Column("counter", String(16), nullable=False, default=""),
    Column("issued_at", String(40), nullable=False),
    Column("line_at", String(40), nullable=False),
    Column("head", Integer, nullable=False, default=0),
    Column("called_at", String(40)),
    Column("finished_at", String(40)),
    Column("service_s", Integer),  # called → served, seconds: the measured service time
    Column("origin", String(8), nullable=False),  # online | offline
    Column("kiosk_id", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),  # a replay of the uuid must say the same
    Column("dossier_code", String(40), nullable=False, default=""),
    UniqueConstraint("centre", "prefix", "day", "seq", name="uq_queue_tickets_number"),
    Index("ix_queue_tickets_line", "centre", "day", "state"),
    Index("ix_queue_tickets_served", "centre", "service_id", "state", "day"),
)

# What happened to a ticket, by whom (the officer's username): call, recall, served, no_show,
# transfer. The calls (call, recall) are what the waiting-room display shows, ``id`` increasing.
queue_events = Table(
    "queue_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("centre", String(5), nullable=False),
    Column("ticket_id", Integer, ForeignKey("queue_tickets.id"), nullable=False),
    Column("action", String(10), nullable=False),
    Column("at", String(40), nullable=False),
    Column("by", String(64), nullable=False, default=""),
    Column("number", String(12), nullable=False),
    Column("counter", String(16), nullable=False, default=""),
    Column("counter_name", String(100), nullable=False, default=""),
    Column("service_name", String(200), nullable=False, default=""),
    Column("detail", String(200), nullable=False, default=""),
    Index("ix_queue_events_centre", "centre", "id"),
)

# The counters (desks) of a centre and the services each one calls (JSON list; empty: all).
queue_counters = Table(
    "queue_counters",
    metadata,
    Column("centre", String(5), primary_key=True),
    Column("counter", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("services", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# --- ratings from the kiosks (central/ratings.py) ------------------------------------------------
# A citizen's answer to "how was it?" at the end of a visit. Nothing personal: the level, a reason
# picked from the kiosk's fixed choices, the service and counter when known. ``day`` is the
# Vietnam date of ``rated_at`` (what the summary groups by).
ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("centre", String(5), nullable=False),
    Column("level", String(10), nullable=False),  # very_good | good | ok | bad
    Column("reason", String(200), nullable=False, default=""),
    Column("service_id", String(64), nullable=False, default=""),
    Column("counter", String(16), nullable=False, default=""),
    Column("rated_at", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    # the queue ticket a counter's tablet rated (central/counter_rating.py); NULL for a kiosk's rating.
    # Unique: one rating per served ticket, whatever the code does
    Column("ticket_id", Integer),
    Index("ix_ratings_centre_day", "centre", "day"),
    Index("uq_ratings_ticket", "ticket_id", unique=True),
)

# --- people: officers' and supervisors' accounts, sessions, audit (central/console/) -------------
# A person who works dossiers and counters at one centre (``commune_code``). The password is a
# common.secret_hash PBKDF2 hash; ``failed_count``/``locked_until`` are the lock-out (5 failures →
# 15 minutes); ``disabled`` (0/1) ends every session and login without deleting the audit trail.
accounts = Table(
    "accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(16), nullable=False),  # officer | supervisor | admin (a province's)
    Column("commune_code", String(5), nullable=False, index=True),  # "" for a province admin
    Column("province_code", String(2), nullable=False, default="", server_default=""),
    Column("password_hash", String(200), nullable=False),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("locked_until", String(40)),
    Column("disabled", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
    Column("password_changed_at", String(40), nullable=False),
    # a province admin's flow-signing key (issue 20): which PKCS#11 token and key, and its public
    # key (base64). The private key never leaves the token; the admin's PIN unlocks it per signature.
    Column("signing_token", String(64), nullable=False, default="", server_default=""),
    Column("signing_key_label", String(64), nullable=False, default="", server_default=""),
    Column("signing_public_key", String(64), nullable=False, default="", server_default=""),
)

# A logged-in browser. Only the sha256 of the cookie's random token is stored, so a copy of the
# database opens no session. ``csrf_token`` goes into every form of that session.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("username", String(64), ForeignKey("accounts.username"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_seen_at", String(40), nullable=False),
    Column("address", String(64), nullable=False, default=""),
    Column("counter", String(16), nullable=False, default=""),  # the counter this officer picked
)

# Who did what, when, from where: logins (ok/failed), logouts, status changes, ticket calls, help
# call acknowledgements. ``commune_code`` is the centre a supervisor's page filters on (empty for a
# failed login of an unknown name). ``detail`` never holds a citizen's personal data.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("commune_code", String(5), nullable=False, default="", index=True),
    Column("username", String(64), nullable=False, default=""),
    Column("action", String(40), nullable=False),
    Column("target", String(100), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("address", String(64), nullable=False, default=""),
)

# --- payments (central/payments.py) --------------------------------------------------------------
from sqlalchemy import BigInteger  # noqa: E402 (kept in this section: amounts of up to 13 digits of đồng)

# A dossier's fee payment (issue 22): one row per dossier, made by the first notification for it.
# The dossier code is the payment reference. ``state``: unpaid | paid | flagged (the amount differs
# from ``amount_due``: an officer looks); ``transaction_id``: the gateway's id of the transfer that
# paid it; ``flag_reason``: why it is flagged (``amount_differs``). No personal data: the bank's
# payer name and account never reach central.
payments = Table(
    "payments",
    metadata,
    Column("dossier_code", String(40), primary_key=True),
    Column("amount_due", BigInteger, nullable=False),
    Column("amount_paid", BigInteger),
    Column("state", String(8), nullable=False),
    Column("paid_at", String(40)),
    Column("transaction_id", String(64), unique=True),
    Column("notified_at", String(40)),
    Column("flag_reason", String(40)),
    Column("method", String(8)),
    Column("counter_receipt", String(40)),
    Column("recorded_by", String(64)),
    Column("resolved_at", String(40)),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
)
# Added for the officers (central/console/payments.py): ``method`` transfer | counter; a counter
# payment's receipt (biên lai) number and who recorded it; who resolved a flagged or extra payment,
# when, and their note.
PAYMENT_COLUMNS = (("payments", "method", "VARCHAR(8)"), ("payments", "counter_receipt", "VARCHAR(40)"),
                   ("payments", "recorded_by", "VARCHAR(64)"), ("payments", "resolved_at", "VARCHAR(40)"),
                   ("payments", "resolved_by", "VARCHAR(64)"), ("payments", "resolution", "TEXT"))

# Every notification the gateway sent, by its transaction id: a replay is recognised here and
# changes nothing. ``outcome``: paid | flagged | extra (a second transfer for a dossier already
# paid or flagged: an officer refunds it).
payment_notifications = Table(
    "payment_notifications",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("dossier_code", String(40), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("paid_at", String(40), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("outcome", String(8), nullable=False),
)

# --- procedure drafts and the staged rollout (central/drafts.py, central/console/drafts.py) ------
# A province admin's proposed change to one flow (issue 20). ``state``: draft (being edited) →
# submitted (a bundle built and signed by the author: ``bundle_data``) → published (a second admin
# approved and signed it; stored in ``bundles`` as a pilot) | withdrawn. ``base_version``: the
# published version it changes (0 for a new procedure). No personal data: flow files only.
flow_drafts = Table(
    "flow_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow_id", String(64), nullable=False, index=True),
    Column("province_code", String(2), nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("base_bundle_id", String(100)),   # the bundle the change was made against (its other flows go along)
    Column("yaml", Text, nullable=False),
    Column("state", String(12), nullable=False),
    Column("reason", Text, nullable=False, default=""),   # why: the author's words, shown to the approver
    Column("author", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("submitted_at", String(40)),
    Column("bundle_id", String(100)),
    Column("bundle_data", LargeBinary),
    Column("approved_by", String(64)),
    Column("approved_at", String(40)),
)

# The kiosks of a province that receive a bundle first (staged rollout).
pilot_kiosks = Table(
    "pilot_kiosks",
    metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("province_code", String(2), nullable=False, index=True),
    Column("added_by", String(64), nullable=False, default=""),
    Column("added_at", String(40), nullable=False),
)

# Columns added after a table was first created: (table, column, SQL type). ``create_all`` makes
# missing tables only; an existing database gets these added at start (``migrate``).
ADDED_COLUMNS = (("dossiers", "content_sha256", "VARCHAR(64)"),
                 ("status_events", "actor", "VARCHAR(200) NOT NULL DEFAULT ''"),
                 ("dossiers", "provisional_code", "VARCHAR(40)"),
                 ("dossiers", "provisional_secret", "VARCHAR(20)"),
                 ("bundle_events", "signers", "TEXT"),
                 ("accounts", "province_code", "VARCHAR(2) NOT NULL DEFAULT ''"),
                 ("bundles", "audience", "VARCHAR(8) NOT NULL DEFAULT 'all'"),
                 ("bundles", "province_code", "VARCHAR(2) NOT NULL DEFAULT ''"),
                 ("accounts", "signing_token", "VARCHAR(64) NOT NULL DEFAULT ''"),
                 ("accounts", "signing_key_label", "VARCHAR(64) NOT NULL DEFAULT ''"),
                 ("accounts", "signing_public_key", "VARCHAR(64) NOT NULL DEFAULT ''"),
                 ("ratings", "ticket_id", "INTEGER"),
                 ("help_calls", "confirm_code_sha256", "VARCHAR(64)"),
                 ("help_calls", "confirm_expires_at", "VARCHAR(40)"),
                 ("help_calls", "confirm_failures", "INTEGER NOT NULL DEFAULT 0"),
                 ("help_calls", "confirm_account", "VARCHAR(100)"),
                 ("help_calls", "confirmed_at", "VARCHAR(40)"),
                 ("help_calls", "confirmed_by", "VARCHAR(100)"))
# Indexes on added columns (create_all makes an index only with its table): (name, table, column[, "unique"]).
ADDED_INDEXES = (("ix_dossiers_provisional_code", "dossiers", "provisional_code"),
                 ("uq_ratings_ticket", "ratings", "ticket_id", "unique"))

ADDED_COLUMNS += PAYMENT_COLUMNS  # noqa: PLR6104 (kept apart: the payments section owns its columns)


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
    for name, table, column, *unique in ADDED_INDEXES:
        # asked first: PostgreSQL checks ownership before IF NOT EXISTS, and a role that does not
        # own the table (central.pg_intake's fallback case) must still start
        if name in {i["name"] for i in inspect(engine).get_indexes(table)}:
            continue
        with write_tx(engine) as conn:
            conn.execute(text(f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table} ({column})"))


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
