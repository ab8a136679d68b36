"""The SQLite store: opening it in WAL mode and applying versioned migrations."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# How long a Twilio webhook waits for another writer before it keeps the
# request on disk instead: the gateway serves every request on one event loop,
# so a long wait here would hold up every other caller too.
WEBHOOK_PATIENCE_MS = 1000
BUSY_MESSAGES = ("database is locked", "database is busy", "database table is locked")

# Each migration is applied once, in order, inside a transaction. Never edit a
# migration that has shipped: add a new one.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE residents (
            id TEXT PRIMARY KEY,
            phone TEXT UNIQUE,
            name TEXT,
            address TEXT,
            delivery_notes TEXT,
            registration_step TEXT,
            held_message TEXT,
            sms_opted_out INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            aisle TEXT NOT NULL,
            name TEXT NOT NULL,
            size TEXT NOT NULL,
            price_pence INTEGER NOT NULL CHECK (price_pence > 0),
            aliases TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE basket_lines (
            resident_id TEXT NOT NULL REFERENCES residents(id),
            sku TEXT NOT NULL REFERENCES products(sku),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            added_at TEXT NOT NULL,
            PRIMARY KEY (resident_id, sku)
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            status TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            delivery_start TEXT NOT NULL,
            delivery_end TEXT NOT NULL,
            total_pence INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX orders_by_resident ON orders(resident_id, placed_at);
        CREATE TABLE order_lines (
            order_id INTEGER NOT NULL REFERENCES orders(id),
            sku TEXT NOT NULL,
            name TEXT NOT NULL,
            size TEXT NOT NULL,
            unit_price_pence INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            PRIMARY KEY (order_id, sku)
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            resident_id TEXT REFERENCES residents(id),
            channel TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            provider_id TEXT,
            reply_to INTEGER REFERENCES messages(id),
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX messages_provider_id
            ON messages(channel, provider_id) WHERE provider_id IS NOT NULL;
        CREATE INDEX messages_by_resident ON messages(resident_id, id);
        CREATE TABLE handoffs (
            id INTEGER PRIMARY KEY,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            reason TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'waiting',
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        ALTER TABLE handoffs ADD COLUMN confidence REAL;
        ALTER TABLE handoffs ADD COLUMN channel TEXT;
        ALTER TABLE handoffs ADD COLUMN conversation TEXT;
        ALTER TABLE handoffs ADD COLUMN claimed_by INTEGER REFERENCES volunteers(id);
        ALTER TABLE handoffs ADD COLUMN claimed_at TEXT;
        ALTER TABLE handoffs ADD COLUMN ended_at TEXT;
        ALTER TABLE handoffs ADD COLUMN reassured_at TEXT;
        CREATE INDEX handoffs_by_status ON handoffs(status, urgent, created_at);
        CREATE TABLE volunteers (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            phone TEXT,
            role TEXT NOT NULL CHECK (role IN ('volunteer', 'coordinator')),
            password_hash TEXT NOT NULL,
            on_duty INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE console_sessions (
            token_hash TEXT PRIMARY KEY,
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE sign_in_failures (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX sign_in_failures_by_key ON sign_in_failures(key, at);
        CREATE TABLE handoff_notes (
            id INTEGER PRIMARY KEY,
            handoff_id INTEGER NOT NULL REFERENCES handoffs(id),
            volunteer_id INTEGER REFERENCES volunteers(id),
            body TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        ALTER TABLE messages ADD COLUMN volunteer_id INTEGER REFERENCES volunteers(id);
        ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE messages ADD COLUMN to_number TEXT;
        CREATE INDEX messages_due ON messages(status, next_attempt_at);
        """,
    ),
    (
        3,
        """
        CREATE TABLE calls (
            call_sid TEXT PRIMARY KEY,
            resident_id TEXT REFERENCES residents(id),
            from_number TEXT,
            mode TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            turns INTEGER NOT NULL DEFAULT 0,
            silences INTEGER NOT NULL DEFAULT 0,
            last_reply TEXT,
            basket_at_start TEXT,
            last_order_at_start INTEGER,
            summary_sent INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX calls_by_resident ON calls(resident_id, started_at);
        """,
    ),
    (
        4,
        """
        CREATE TABLE volunteer_weekly_hours (
            id INTEGER PRIMARY KEY,
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
            weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
            starts TEXT NOT NULL,
            ends TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK (starts < ends)
        );
        CREATE INDEX volunteer_weekly_hours_by_volunteer
            ON volunteer_weekly_hours(volunteer_id, weekday);
        CREATE TABLE volunteer_exceptions (
            id INTEGER PRIMARY KEY,
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
            kind TEXT NOT NULL CHECK (kind IN ('away', 'extra')),
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            CHECK (starts_at < ends_at)
        );
        CREATE INDEX volunteer_exceptions_by_time
            ON volunteer_exceptions(volunteer_id, ends_at);
        CREATE TABLE call_series (
            id INTEGER PRIMARY KEY,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            volunteer_id INTEGER REFERENCES volunteers(id),
            weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
            local_time TEXT NOT NULL,
            minutes INTEGER NOT NULL CHECK (minutes > 0),
            every_weeks INTEGER NOT NULL DEFAULT 1 CHECK (every_weeks >= 1),
            first_day TEXT NOT NULL,
            booked_until TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'ended')),
            created_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE TABLE call_bookings (
            id INTEGER PRIMARY KEY,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'booked'
                CHECK (status IN ('booked', 'done', 'cancelled')),
            series_id INTEGER REFERENCES call_series(id),
            moved_from TEXT,
            outcome TEXT CHECK (outcome IN ('talked', 'no-answer', 'busy')),
            outcome_note TEXT,
            outcome_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (starts_at < ends_at)
        );
        CREATE UNIQUE INDEX call_bookings_volunteer_start
            ON call_bookings(volunteer_id, starts_at) WHERE status != 'cancelled';
        CREATE UNIQUE INDEX call_bookings_resident_start
            ON call_bookings(resident_id, starts_at) WHERE status != 'cancelled';
        CREATE INDEX call_bookings_by_time ON call_bookings(starts_at, ends_at);
        CREATE INDEX call_bookings_by_series ON call_bookings(series_id, starts_at);
        CREATE TABLE call_reminders (
            id INTEGER PRIMARY KEY,
            booking_id INTEGER NOT NULL REFERENCES call_bookings(id),
            recipient TEXT NOT NULL CHECK (recipient IN ('resident', 'volunteer')),
            due_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (
                status IN ('pending', 'sent', 'superseded', 'expired', 'cancelled')
            ),
            sent_at TEXT
        );
        CREATE UNIQUE INDEX call_reminders_pending
            ON call_reminders(booking_id, recipient, due_at) WHERE status = 'pending';
        CREATE INDEX call_reminders_due ON call_reminders(status, due_at);
        """,
    ),
    (
        5,
        """
        CREATE TABLE tablet_pairing_codes (
            id INTEGER PRIMARY KEY,
            code_hash TEXT NOT NULL,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            created_by INTEGER REFERENCES volunteers(id),
            label TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX tablet_pairing_codes_by_hash
            ON tablet_pairing_codes(code_hash, expires_at);
        CREATE TABLE tablet_devices (
            id INTEGER PRIMARY KEY,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            token_hash TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            paired_at TEXT NOT NULL,
            last_seen_at TEXT,
            unpaired_at TEXT
        );
        CREATE INDEX tablet_devices_by_resident
            ON tablet_devices(resident_id, unpaired_at);
        CREATE TABLE tablet_pairing_failures (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX tablet_pairing_failures_by_key
            ON tablet_pairing_failures(key, at);
        CREATE INDEX tablet_pairing_failures_by_time
            ON tablet_pairing_failures(at);
        """,
    ),
]


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC, as stored everywhere."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_database(path: Path, migrate: bool = True) -> sqlite_utils.Database:
    """Open the store at `path` in WAL mode, applying any pending migrations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(connection)
    db.enable_wal()
    connection.execute("PRAGMA synchronous = NORMAL")
    if migrate:
        apply_migrations(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    """The highest migration applied to `db`, or 0 for a new database."""
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def apply_migrations(db: sqlite_utils.Database) -> list[int]:
    """Apply every migration newer than the database; return those applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    applied = []
    for version, script in MIGRATIONS:
        with transaction(db):
            if db.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", [version]
            ).fetchone():
                continue
            for statement in split_statements(script):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                [version, utc_now()],
            )
        applied.append(version)
        logger.info("applied database migration %s", version)
    return applied


def split_statements(script: str) -> Iterator[str]:
    """The statements of a migration script, one at a time."""
    for statement in script.split(";"):
        if statement.strip():
            yield statement


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """Run a block as one IMMEDIATE transaction: all of it happens or none of it."""
    connection = db.conn
    if connection.in_transaction:
        yield
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def is_busy(error: BaseException) -> bool:
    """Whether `error` means another connection held the store's write lock
    for longer than we were willing to wait."""
    return isinstance(error, sqlite3.OperationalError) and any(
        words in str(error) for words in BUSY_MESSAGES
    )


@contextmanager
def patience(db: sqlite_utils.Database, milliseconds: int) -> Iterator[None]:
    """Wait at most `milliseconds` for another writer inside the block.

    NOTE: the busy timeout belongs to the connection, which the whole gateway
    shares, so the block must not await: another task would wait as briefly.
    """
    db.conn.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def check_writable(db: sqlite_utils.Database, milliseconds: int) -> None:
    """Take the write lock and let it go at once.

    Raises:
        sqlite3.OperationalError: another connection held it for longer than
            `milliseconds` (see `is_busy`).
    """
    with patience(db, milliseconds), transaction(db):
        pass
