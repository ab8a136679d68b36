"""Every message in and out, stored before it is acted on."""

from __future__ import annotations

import sqlite3

import sqlite_utils

from assistant.store import transaction, utc_now


def record_inbound(
    db: sqlite_utils.Database,
    channel: str,
    provider_id: str | None,
    resident_id: str | None,
    body: str,
) -> tuple[int, bool]:
    """Store an inbound message once per provider id.

    Returns:
        The message's id and whether it is new (False for a retried webhook).
    """
    with transaction(db):
        if provider_id:
            row = db.execute(
                "SELECT id FROM messages WHERE channel = ? AND provider_id = ?",
                [channel, provider_id],
            ).fetchone()
            if row:
                return row[0], False
        try:
            message_id = db.execute(
                "INSERT INTO messages (resident_id, channel, direction, "
                "provider_id, body, status, created_at) "
                "VALUES (?, ?, 'in', ?, ?, 'received', ?)",
                [resident_id, channel, provider_id, body, utc_now()],
            ).lastrowid
        except sqlite3.IntegrityError:
            row = db.execute(
                "SELECT id FROM messages WHERE channel = ? AND provider_id = ?",
                [channel, provider_id],
            ).fetchone()
            return row[0], False
    return message_id, True


def record_outbound(
    db: sqlite_utils.Database,
    resident_id: str | None,
    channel: str,
    body: str,
    reply_to: int | None = None,
    status: str = "sent",
    volunteer_id: int | None = None,
) -> int:
    # Plain SQL: every turn stores its replies, and sqlite-utils' insert
    # costs several times as much for one row.
    return db.execute(
        "INSERT INTO messages (resident_id, channel, direction, reply_to, body, "
        "status, created_at, volunteer_id) VALUES (?, ?, 'out', ?, ?, ?, ?, ?)",
        [resident_id, channel, reply_to, body, status, utc_now(), volunteer_id],
    ).lastrowid


def last_channel(db: sqlite_utils.Database, resident_id: str) -> str | None:
    """The channel the resident last wrote from: where replies should go."""
    row = db.execute(
        "SELECT channel FROM messages WHERE resident_id = ? AND direction = 'in' "
        "ORDER BY id DESC LIMIT 1",
        [resident_id],
    ).fetchone()
    return row[0] if row else None


def set_status(db: sqlite_utils.Database, message_id: int, status: str) -> None:
    db.execute("UPDATE messages SET status = ? WHERE id = ?", [status, message_id])


def message_status(db: sqlite_utils.Database, message_id: int) -> str:
    return db.execute(
        "SELECT status FROM messages WHERE id = ?", [message_id]
    ).fetchone()[0]


def replies_to(db: sqlite_utils.Database, message_id: int) -> list[str]:
    """The replies already given to an inbound message in answer to its own
    webhook, in order; not those sent on by text because it was taken later."""
    return [
        row[0]
        for row in db.execute(
            "SELECT body FROM messages WHERE reply_to = ? AND direction = 'out' "
            "AND to_number IS NULL ORDER BY id",
            [message_id],
        ).fetchall()
    ]


def transcript(
    db: sqlite_utils.Database, resident_id: str, limit: int = 200
) -> list[dict]:
    """The resident's messages in and out, oldest first, with who wrote them."""
    return list(
        db.query(
            "SELECT m.id, m.direction, m.channel, m.body, m.status, m.created_at, "
            "v.display_name AS volunteer FROM messages m "
            "LEFT JOIN volunteers v ON v.id = m.volunteer_id "
            "WHERE m.resident_id = ? ORDER BY m.id DESC LIMIT ?",
            [resident_id, limit],
        )
    )[::-1]


def latest_message_id(db: sqlite_utils.Database, resident_id: str) -> int:
    row = db.execute(
        "SELECT coalesce(max(id), 0) FROM messages WHERE resident_id = ?",
        [resident_id],
    ).fetchone()
    return row[0]


def volunteer_messages_after(
    db: sqlite_utils.Database, resident_id: str, after: int
) -> list[dict]:
    """What volunteers have written to a resident since message `after`."""
    return list(
        db.query(
            "SELECT m.id, m.body, coalesce(v.display_name, 'volunteer') AS volunteer "
            "FROM messages m LEFT JOIN volunteers v ON v.id = m.volunteer_id "
            "WHERE m.resident_id = ? AND m.id > ? AND m.direction = 'out' "
            "AND m.volunteer_id IS NOT NULL ORDER BY m.id",
            [resident_id, after],
        )
    )
