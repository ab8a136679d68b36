"""A resident's data on request: everything we hold, exported or erased, and
transcripts deleted once they are older than the retention period.

Rasa keeps its own copy of each conversation in its tracker store (a SQLite
file beside ours); that copy is exported and erased too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from assistant.spool import forget_set_aside
from assistant.store import transaction, utc_now

logger = logging.getLogger(__name__)

TABLES_BY_RESIDENT = {
    "basket_lines": "SELECT * FROM basket_lines WHERE resident_id = ?",
    "orders": "SELECT * FROM orders WHERE resident_id = ?",
    "order_lines": (
        "SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE o.resident_id = ?"
    ),
    "messages": "SELECT * FROM messages WHERE resident_id = ? ORDER BY id",
    "handoffs": "SELECT * FROM handoffs WHERE resident_id = ?",
    "handoff_notes": (
        "SELECT n.* FROM handoff_notes n JOIN handoffs h ON h.id = n.handoff_id "
        "WHERE h.resident_id = ?"
    ),
    "calls": "SELECT * FROM calls WHERE resident_id = ?",
    "call_series": "SELECT * FROM call_series WHERE resident_id = ?",
    "call_bookings": "SELECT * FROM call_bookings WHERE resident_id = ?",
    "call_reminders": (
        "SELECT r.* FROM call_reminders r JOIN call_bookings b ON b.id = "
        "r.booking_id WHERE b.resident_id = ?"
    ),
    "tablet_devices": (
        "SELECT id, label, paired_at, last_seen_at, unpaired_at FROM tablet_devices "
        "WHERE resident_id = ?"
    ),
}


def tracker_events(tracker_path: Path, resident_id: str) -> list[dict]:
    """Rasa's stored events for a resident's conversation."""
    if not tracker_path.is_file():
        return []
    connection = sqlite3.connect(str(tracker_path), timeout=5)
    try:
        rows = connection.execute(
            "SELECT type_name, timestamp, data FROM events WHERE sender_id = ? "
            "ORDER BY id",
            [resident_id],
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # Rasa has not made its table yet: it holds nothing
    finally:
        connection.close()
    return [
        {"event": name, "timestamp": stamp, "data": json.loads(data or "null")}
        for name, stamp, data in rows
    ]


def export_resident(
    db: sqlite_utils.Database, tracker_path: Path, resident_id: str
) -> dict:
    """Everything held about a resident, as one JSON-ready dictionary."""
    residents = list(db.query("SELECT * FROM residents WHERE id = ?", [resident_id]))
    exported: dict = {
        "exported_at": utc_now(),
        "resident": residents[0] if residents else None,
    }
    for table, query in TABLES_BY_RESIDENT.items():
        exported[table] = list(db.query(query, [resident_id]))
    exported["assistant_conversation"] = tracker_events(tracker_path, resident_id)
    return exported


def erase_resident(
    db: sqlite_utils.Database,
    tracker_path: Path,
    resident_id: str,
    spool_dir: Path | None = None,
) -> None:
    """Erase a resident's personal data: messages, notes, calls and booked
    calls, basket, paired tablets and the assistant's copy of the
    conversation, and webhooks of theirs set aside from the spool in
    `spool_dir`. Orders stay, for the shop's accounts, but no longer say
    whose they were beyond an anonymous id."""
    phone = db.execute(
        "SELECT phone FROM residents WHERE id = ?", [resident_id]
    ).fetchone()
    with transaction(db):
        handoffs = [
            row[0]
            for row in db.execute(
                "SELECT id FROM handoffs WHERE resident_id = ?", [resident_id]
            )
        ]
        for handoff_id in handoffs:
            db.execute("DELETE FROM handoff_notes WHERE handoff_id = ?", [handoff_id])
        db.execute(
            "DELETE FROM call_reminders WHERE booking_id IN (SELECT id FROM "
            "call_bookings WHERE resident_id = ?)",
            [resident_id],
        )
        for table in (
            "messages",
            "handoffs",
            "calls",
            "basket_lines",
            "call_bookings",
            "call_series",
            "tablet_devices",
            "tablet_pairing_codes",
        ):
            db.execute(f"DELETE FROM {table} WHERE resident_id = ?", [resident_id])
        db.execute(
            "UPDATE residents SET phone = NULL, name = NULL, address = NULL, "
            "delivery_notes = NULL, held_message = NULL, registration_step = "
            "'erased' WHERE id = ?",
            [resident_id],
        )
    delete_tracker_events(tracker_path, "sender_id = ?", [resident_id])
    if spool_dir is not None and phone and phone[0]:
        forget_set_aside(spool_dir, phone=phone[0])
    logger.info("erased the personal data of resident %s", resident_id)


def delete_tracker_events(tracker_path: Path, where: str, values: list) -> int:
    if not tracker_path.is_file():
        return 0
    connection = sqlite3.connect(str(tracker_path), timeout=5)
    try:
        with connection:
            cursor = connection.execute(f"DELETE FROM events WHERE {where}", values)
        return cursor.rowcount
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def apply_retention(
    db: sqlite_utils.Database,
    tracker_path: Path,
    audio_dir: Path | None,
    days: int,
    now: datetime | None = None,
    spool_dir: Path | None = None,
) -> dict[str, int]:
    """Delete transcripts, call records and audio older than `days`, and
    webhooks set aside from the spool in `spool_dir`.

    Returns:
        How many of each were deleted.
    """
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    stamp = cutoff.isoformat(timespec="seconds")
    with transaction(db):
        messages = db.execute(
            "DELETE FROM messages WHERE created_at < ? AND status NOT IN "
            "('queued', 'sending', 'uncertain')",
            [stamp],
        ).rowcount
        db.execute(
            "UPDATE handoffs SET conversation = NULL WHERE created_at < ?", [stamp]
        )
        calls = db.execute("DELETE FROM calls WHERE started_at < ?", [stamp]).rowcount
    events = delete_tracker_events(tracker_path, "timestamp < ?", [cutoff.timestamp()])
    audio = 0
    if audio_dir is not None and audio_dir.is_dir():
        for path in audio_dir.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                audio += 1
    removed = {
        "messages": messages,
        "calls": calls,
        "tracker_events": events,
        "audio_files": audio,
    }
    if spool_dir is not None:
        removed["set_aside_webhooks"] = forget_set_aside(spool_dir, older_than=stamp)
    logger.info("retention of %s days: removed %s", days, removed)
    return removed
