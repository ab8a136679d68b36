"""Reminders of a call: the plan a deployment chose, and sending those due.

Each booking plans its reminders as it is made (`assistant.bookings`). A
reminder found overdue after a restart is still sent if the call is yet to
start; if two for one person are overdue, only the latest goes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import from_stored, stored
from assistant.bookings import Booking, ReminderPlan, _booking_from_row
from assistant.store import transaction
from assistant.when import LONDON, describe

logger = logging.getLogger(__name__)

OFFSET_PART = re.compile(r"^(\d+)\s*(d|days?|h|hours?|m|mins?|minutes?)$")


def parse_reminder_offsets(text: str) -> tuple[timedelta, ...]:
    """Reminder offsets from a setting: "1d,1h", "2 hours, 30m"; "" for none.

    Raises:
        ValueError: a part that is not a number and a unit.
    """
    offsets = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        match = OFFSET_PART.match(part)
        if not match or not int(match[1]):
            raise ValueError(f"{part!r} is not a time before the call, like '1h'")
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match[2][0]]
        offsets.append(timedelta(**{unit: int(match[1])}))
    return tuple(sorted(set(offsets), reverse=True))


def reminder_plan(settings: object) -> ReminderPlan:
    """The reminder plan a deployment chose, or the default one.

    Reads `call_reminders` (the resident's) and `volunteer_reminders`, like
    "1d,1h", from the settings where they are given; either that is missing
    or cannot be read keeps its default.
    """
    chosen = {}
    for field, setting in (
        ("resident", "call_reminders"),
        ("volunteer", "volunteer_reminders"),
    ):
        text = getattr(settings, setting, None)
        if text is None:
            continue
        try:
            chosen[field] = parse_reminder_offsets(str(text))
        except ValueError:
            logger.warning("the %s setting is not understood", setting)
    return replace(ReminderPlan(), **chosen)


@dataclass(frozen=True)
class Reminder:
    """A reminder to send now, with what is needed to word and address it."""

    id: int
    booking: Booking
    recipient: str
    """ "resident" or "volunteer"."""
    due_at: datetime
    to_number: str | None
    resident_name: str | None
    volunteer_name: str


def pending_reminders(db: sqlite_utils.Database, booking_id: int) -> list[datetime]:
    """When a call's reminders not yet sent are due, soonest first."""
    rows = db.execute(
        "SELECT due_at FROM call_reminders WHERE booking_id = ? AND status = "
        "'pending' ORDER BY due_at",
        [booking_id],
    )
    return [from_stored(row[0]) for row in rows]


def take_due_reminders(
    db: sqlite_utils.Database,
    now: datetime,
    deliver: Callable[[Reminder], None] | None = None,
) -> list[Reminder]:
    """The reminders due at `now`, each marked sent as it is taken, once only.

    All of it is one transaction: a reminder taken here is never taken again,
    by this process after a restart or by another at the same moment. Pass
    `deliver` to put each reminder in the outbox (for example with
    `assistant.outbound.queue_sms` on the same `db`): it runs inside that
    transaction, so a reminder is queued exactly when it is marked sent, and
    if `deliver` raises, none of this batch is marked and all are retried.

    Reminders for calls cancelled, over or begun are dropped; if one person
    has two overdue for a call (the scheduler was down), only the latest goes.
    """
    taken: list[Reminder] = []
    with transaction(db):
        rows = list(
            db.query(
                "SELECT r.id AS reminder_id, r.recipient, r.due_at, b.*, "
                "res.phone AS resident_phone, res.name AS resident_name, "
                "v.phone AS volunteer_phone, v.display_name AS volunteer_name "
                "FROM call_reminders r JOIN call_bookings b ON b.id = r.booking_id "
                "JOIN residents res ON res.id = b.resident_id "
                "JOIN volunteers v ON v.id = b.volunteer_id "
                "WHERE r.status = 'pending' AND r.due_at <= ? ORDER BY r.due_at, r.id",
                [stored(now)],
            )
        )
        latest = {(row["id"], row["recipient"]): row["reminder_id"] for row in rows}
        for row in rows:
            booking = _booking_from_row(row)
            if booking.status != "booked" or booking.start <= now:
                status = "expired"
            elif latest[(booking.id, row["recipient"])] != row["reminder_id"]:
                status = "superseded"
            else:
                status = "sent"
                reminder = Reminder(
                    row["reminder_id"],
                    booking,
                    row["recipient"],
                    from_stored(row["due_at"]),
                    row[f"{row['recipient']}_phone"],
                    row["resident_name"],
                    row["volunteer_name"],
                )
                if deliver is not None:
                    deliver(reminder)
                taken.append(reminder)
            db.execute(
                "UPDATE call_reminders SET status = ?, sent_at = ? WHERE id = ?",
                [status, stored(now) if status == "sent" else None, row["reminder_id"]],
            )
    if taken:
        logger.info("took %s call reminders", len(taken))
    return taken


def reminder_text(reminder: Reminder, now: datetime, tz: ZoneInfo = LONDON) -> str:
    """The words of a reminder, for a text message or to be spoken."""
    when = describe(reminder.booking.start, now, tz)
    if reminder.recipient == "volunteer":
        who = reminder.resident_name or "a resident"
        return f"Helping Hands: a reminder that you are ringing {who} {when}."
    volunteer = reminder.volunteer_name.split()[0]
    return (
        f"Helping Hands: a reminder that {volunteer} will ring you {when}. "
        "If that no longer suits, just reply and we will find another time."
    )
