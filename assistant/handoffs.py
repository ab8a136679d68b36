"""Handoffs: a conversation passed to a person, from waiting to claimed to done.

A resident has at most one active handoff (waiting or claimed). While it is
active the assistant stays out of the conversation: the resident's messages
go to the console, and a volunteer answers them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.store import transaction, utc_now

ACTIVE = ("waiting", "claimed")
CONVERSATION_KEPT = 50
REASONS = {
    "emergency": "Emergency or distress",
    "asked-for-person": "Asked for a person",
    "low-confidence": "The assistant was unsure",
    "misunderstood-twice": "Misunderstood twice in a row",
    "assistant-unavailable": "The assistant was not answering",
    "sign-up": "Needs help signing up",
    "silent-call": "Went quiet on the phone: ring back",
}
REASSURE_EVERY = timedelta(minutes=30)


@dataclass(frozen=True)
class Handoff:
    """One conversation handed to people."""

    id: int
    resident_id: str
    reason: str
    urgent: bool
    status: str
    confidence: float | None
    channel: str | None
    created_at: datetime
    claimed_by: int | None
    claimed_at: datetime | None

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, self.reason.replace("-", " ").capitalize())

    def waiting_for(self, now: datetime) -> timedelta:
        return now - self.created_at


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _from_row(row: dict) -> Handoff:
    return Handoff(
        row["id"],
        row["resident_id"],
        row["reason"],
        bool(row["urgent"]),
        row["status"],
        row["confidence"],
        row["channel"],
        datetime.fromisoformat(row["created_at"]),
        row["claimed_by"],
        _moment(row["claimed_at"]),
    )


def conversation_so_far(db: sqlite_utils.Database, resident_id: str) -> str:
    """The last messages in and out, as JSON, kept with the handoff."""
    rows = list(
        db.query(
            "SELECT direction, channel, body, created_at FROM messages "
            "WHERE resident_id = ? ORDER BY id DESC LIMIT ?",
            [resident_id, CONVERSATION_KEPT],
        )
    )
    return json.dumps(rows[::-1])


def open_handoff(
    db: sqlite_utils.Database,
    resident_id: str,
    reason: str,
    *,
    urgent: bool = False,
    confidence: float | None = None,
    channel: str | None = None,
) -> tuple[Handoff, bool]:
    """Hand a resident's conversation to people, once.

    An active handoff is kept rather than doubled; an urgent reason makes it
    urgent, so it moves to the top of the queue.

    Returns:
        The handoff and whether it is new.
    """
    with transaction(db):
        row = db.execute(
            "SELECT id, urgent FROM handoffs WHERE resident_id = ? AND status IN "
            "('waiting', 'claimed') ORDER BY id DESC LIMIT 1",
            [resident_id],
        ).fetchone()
        if row is not None:
            if urgent and not row[1]:
                db.execute(
                    "UPDATE handoffs SET urgent = 1, reason = ? WHERE id = ?",
                    [reason, row[0]],
                )
            return get_handoff(db, row[0]), False
        handoff_id = (
            db["handoffs"]
            .insert(
                {
                    "resident_id": resident_id,
                    "reason": reason,
                    "urgent": int(urgent),
                    "status": "waiting",
                    "confidence": confidence,
                    "channel": channel,
                    "conversation": conversation_so_far(db, resident_id),
                    "created_at": utc_now(),
                    "reassured_at": utc_now(),
                }
            )
            .last_pk
        )
    return get_handoff(db, handoff_id), True


def get_handoff(db: sqlite_utils.Database, handoff_id: int) -> Handoff | None:
    rows = list(db.query("SELECT * FROM handoffs WHERE id = ?", [handoff_id]))
    return _from_row(rows[0]) if rows else None


def active_handoff(db: sqlite_utils.Database, resident_id: str) -> Handoff | None:
    """The resident's waiting or claimed handoff, if there is one."""
    rows = list(
        db.query(
            "SELECT * FROM handoffs WHERE resident_id = ? AND status IN "
            "('waiting', 'claimed') ORDER BY id DESC LIMIT 1",
            [resident_id],
        )
    )
    return _from_row(rows[0]) if rows else None


def waiting_queue(db: sqlite_utils.Database) -> list[Handoff]:
    """Conversations waiting for a person: urgent first, then the longest wait."""
    return [
        _from_row(row)
        for row in db.query(
            "SELECT * FROM handoffs WHERE status = 'waiting' "
            "ORDER BY urgent DESC, created_at, id"
        )
    ]


def claimed_handoffs(db: sqlite_utils.Database) -> list[Handoff]:
    return [
        _from_row(row)
        for row in db.query(
            "SELECT * FROM handoffs WHERE status = 'claimed' "
            "ORDER BY urgent DESC, claimed_at, id"
        )
    ]


def claim(db: sqlite_utils.Database, handoff_id: int, volunteer_id: int) -> bool:
    """Take a waiting conversation; only one volunteer can ever win it."""
    cursor = db.execute(
        "UPDATE handoffs SET status = 'claimed', claimed_by = ?, claimed_at = ? "
        "WHERE id = ? AND status = 'waiting'",
        [volunteer_id, utc_now(), handoff_id],
    )
    return cursor.rowcount == 1


def end_handoff(db: sqlite_utils.Database, handoff_id: int, how: str) -> bool:
    """Hand back to the assistant ("handed-back") or close ("closed")."""
    assert how in ("handed-back", "closed")
    cursor = db.execute(
        "UPDATE handoffs SET status = ?, ended_at = ? WHERE id = ? AND status IN "
        "('waiting', 'claimed')",
        [how, utc_now(), handoff_id],
    )
    return cursor.rowcount == 1


def add_note(
    db: sqlite_utils.Database, handoff_id: int, volunteer_id: int, body: str
) -> None:
    db["handoff_notes"].insert(
        {
            "handoff_id": handoff_id,
            "volunteer_id": volunteer_id,
            "body": body.strip(),
            "created_at": utc_now(),
        }
    )


def notes_of(db: sqlite_utils.Database, resident_id: str) -> list[dict]:
    """Every note volunteers have written about a resident, oldest first."""
    return list(
        db.query(
            "SELECT n.body, n.created_at, v.display_name FROM handoff_notes n "
            "JOIN handoffs h ON h.id = n.handoff_id "
            "LEFT JOIN volunteers v ON v.id = n.volunteer_id "
            "WHERE h.resident_id = ? ORDER BY n.id",
            [resident_id],
        )
    )


def should_reassure(db: sqlite_utils.Database, handoff: Handoff) -> bool:
    """Whether a waiting resident should hear again that a person is coming.

    At most once every half hour, so that a resident who keeps writing is
    not answered with the same sentence each time.
    """
    if handoff.status != "waiting":
        return False
    row = db.execute(
        "SELECT reassured_at FROM handoffs WHERE id = ?", [handoff.id]
    ).fetchone()
    last = _moment(row[0]) if row else None
    now = datetime.now(timezone.utc)
    if last is not None and now - last < REASSURE_EVERY:
        return False
    db.execute(
        "UPDATE handoffs SET reassured_at = ? WHERE id = ?", [utc_now(), handoff.id]
    )
    return True


def when_to_expect(
    volunteers_on_duty: int,
    now: datetime,
    hours: tuple[time, time],
    timezone_name: str,
) -> str:
    """Roughly when a volunteer will reply, in words for the resident."""
    if volunteers_on_duty:
        return "A volunteer will reply here soon, usually within half an hour."
    local = now.astimezone(ZoneInfo(timezone_name))
    opens, closes = hours
    if local.time() < opens:
        return (
            f"No volunteer is on duty just now; one will reply after "
            f"{describe_hour(opens)} this morning."
        )
    if local.time() < closes:
        return "A volunteer will reply here as soon as one is free, today."
    return (
        f"No volunteer is on duty just now; one will reply tomorrow, after "
        f"{describe_hour(opens)}."
    )


def describe_hour(moment: time) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"
