"""One-off calls between residents and volunteers: booking, moving, cancelling.

Proposing times is `assistant.call_proposals`, regular calls
`assistant.call_series`, sending reminders `assistant.call_reminders` and
recording how a call went `assistant.call_outcomes`.

Every change runs in one IMMEDIATE transaction that checks and writes
together, so two requests arriving at once can never book one volunteer, or
one resident, twice over; unique indexes on each start time back this up.

Decisions the issue left open:

- The system picks the volunteer: whoever has the fewest calls that week
  (Monday to Sunday, local time), then whoever was last given a call longest
  ago, then the lowest id.
- Reminders go to the resident the day before (same time of day, local) and
  an hour before, and to the volunteer an hour before; a volunteer given a
  call at shorter notice is told at once. Each call plans its reminders here,
  as it is booked or moved.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import (
    SLOT_MINUTES,
    busy_windows,
    free_volunteers,
    from_stored,
    stored,
)
from assistant.errors import HelpingHandsError
from assistant.store import transaction
from assistant.when import LONDON, local_datetime

logger = logging.getLogger(__name__)

# A volunteer needs time to notice a new call; a resident deciding takes a while
# (`assistant.call_proposals.NOTICE_TO_PROPOSE`).
NOTICE_TO_BOOK = timedelta(minutes=15)


class BookingError(HelpingHandsError):
    """A call could not be booked or changed as asked.

    Codes: booking-no-volunteer (nobody free then), booking-volunteer-busy,
    booking-resident-busy, booking-too-soon, booking-not-found,
    booking-closed (cancelled or over), booking-started,
    booking-bad-outcome, booking-not-started, booking-not-missed,
    booking-unknown-resident.
    """

    code = "booking-error"


@dataclass(frozen=True)
class Booking:
    """One call, booked, done or cancelled."""

    id: int
    resident_id: str
    volunteer_id: int
    start: datetime
    end: datetime
    status: str
    """ "booked", "done" (an outcome is recorded) or "cancelled"."""
    series_id: int | None = None
    moved_from: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class ReminderPlan:
    """How long before a call each reminder is due. Whole days count in local
    days, so "a day before" a 10am call is 10am the day before, whatever the
    clocks did overnight."""

    resident: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=1))
    volunteer: tuple[timedelta, ...] = (timedelta(hours=1),)


# --- reading rows --------------------------------------------------------


def _booking_from_row(row: dict) -> Booking:
    return Booking(
        row["id"],
        row["resident_id"],
        row["volunteer_id"],
        from_stored(row["starts_at"]),
        from_stored(row["ends_at"]),
        row["status"],
        row["series_id"],
        from_stored(row["moved_from"]) if row["moved_from"] else None,
        row["outcome"],
    )


def get_booking(db: sqlite_utils.Database, booking_id: int) -> Booking | None:
    rows = list(db.query("SELECT * FROM call_bookings WHERE id = ?", [booking_id]))
    return _booking_from_row(rows[0]) if rows else None


def upcoming_calls(
    db: sqlite_utils.Database, resident_id: str, now: datetime
) -> list[Booking]:
    """A resident's booked calls not yet over, soonest first."""
    rows = db.query(
        "SELECT * FROM call_bookings WHERE resident_id = ? AND status = 'booked' "
        "AND ends_at > ? ORDER BY starts_at",
        [resident_id, stored(now)],
    )
    return [_booking_from_row(row) for row in rows]


def volunteer_calls(
    db: sqlite_utils.Database, volunteer_id: int, start: datetime, end: datetime
) -> list[Booking]:
    """A volunteer's calls, booked or done, starting between two times."""
    rows = db.query(
        "SELECT * FROM call_bookings WHERE volunteer_id = ? AND status != "
        "'cancelled' AND starts_at >= ? AND starts_at < ? ORDER BY starts_at",
        [volunteer_id, stored(start), stored(end)],
    )
    return [_booking_from_row(row) for row in rows]


# --- booking ---------------------------------------------------------------


def choose_volunteer(
    db: sqlite_utils.Database,
    candidates: Iterable[int],
    start: datetime,
    prefer: int | None = None,
    tz: ZoneInfo = LONDON,
) -> int:
    """The fairest of `candidates` for a call at `start` (see the module
    docstring), or `prefer` if it is one of them."""
    candidates = list(candidates)
    if prefer in candidates:
        return prefer
    local = start.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    week = [
        stored(local_datetime(monday + timedelta(days=d), time(0), tz)) for d in (0, 7)
    ]
    calls_that_week = dict(
        db.execute(
            "SELECT volunteer_id, count(*) FROM call_bookings WHERE status != "
            "'cancelled' AND starts_at >= ? AND starts_at < ? GROUP BY volunteer_id",
            week,
        ).fetchall()
    )
    last_given = dict(
        db.execute(
            "SELECT volunteer_id, max(created_at) FROM call_bookings "
            "WHERE status != 'cancelled' GROUP BY volunteer_id"
        ).fetchall()
    )
    return min(
        candidates,
        key=lambda v: (calls_that_week.get(v, 0), last_given.get(v, ""), v),
    )


def _check_resident(db: sqlite_utils.Database, resident_id: str) -> None:
    if not db.execute("SELECT 1 FROM residents WHERE id = ?", [resident_id]).fetchone():
        raise BookingError("there is no such resident", "booking-unknown-resident")


def _book(
    db: sqlite_utils.Database,
    resident_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    volunteer_id: int | None,
    prefer: int | None,
    series_id: int | None,
    plan: ReminderPlan,
    tz: ZoneInfo,
) -> int:
    """Book one call; the caller holds the transaction."""
    if busy_windows(db, start, end, resident_id=resident_id):
        raise BookingError("the resident has a call then", "booking-resident-busy")
    free = free_volunteers(db, start, end, tz)
    if volunteer_id is not None:
        if volunteer_id not in free:
            raise BookingError(
                "that volunteer is not free then", "booking-volunteer-busy"
            )
        chosen = volunteer_id
    elif not free:
        raise BookingError("nobody is free then", "booking-no-volunteer")
    else:
        chosen = choose_volunteer(db, free, start, prefer, tz)
    try:
        booking_id = (
            db["call_bookings"]
            .insert(
                {
                    "resident_id": resident_id,
                    "volunteer_id": chosen,
                    "starts_at": stored(start),
                    "ends_at": stored(end),
                    "status": "booked",
                    "series_id": series_id,
                    "created_at": stored(now),
                    "updated_at": stored(now),
                }
            )
            .last_pk
        )
    except sqlite3.IntegrityError as error:  # pragma: no cover - the checks above
        raise BookingError("that time was taken", "booking-no-volunteer") from error
    _plan_reminders(db, booking_id, start, now, plan, tz)
    return booking_id


def _normalised(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calls are booked with aware datetimes")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def book_call(
    db: sqlite_utils.Database,
    resident_id: str,
    start: datetime,
    now: datetime,
    *,
    minutes: int = SLOT_MINUTES,
    volunteer_id: int | None = None,
    prefer_volunteer_id: int | None = None,
    plan: ReminderPlan = ReminderPlan(),
    notice: timedelta = NOTICE_TO_BOOK,
    tz: ZoneInfo = LONDON,
) -> Booking:
    """Book a call for a resident at `start` with a free volunteer.

    Args:
        volunteer_id: this volunteer or none (a coordinator's choice).
        prefer_volunteer_id: this volunteer if free, otherwise the fairest.

    Raises:
        BookingError: nobody free, the resident already has a call then, too
            soon, or an unknown resident.
    """
    start = _normalised(start)
    if start < now + notice:
        raise BookingError("that is too soon to arrange", "booking-too-soon")
    with transaction(db):
        _check_resident(db, resident_id)
        booking_id = _book(
            db,
            resident_id,
            start,
            start + timedelta(minutes=minutes),
            now,
            volunteer_id=volunteer_id,
            prefer=prefer_volunteer_id,
            series_id=None,
            plan=plan,
            tz=tz,
        )
    booking = get_booking(db, booking_id)
    logger.info("booked call %s with volunteer %s", booking.id, booking.volunteer_id)
    return booking


def _open_booking(db: sqlite_utils.Database, booking_id: int, now: datetime) -> Booking:
    booking = get_booking(db, booking_id)
    if booking is None:
        raise BookingError(f"there is no call {booking_id}", "booking-not-found")
    if booking.status != "booked":
        raise BookingError(f"call {booking_id} is {booking.status}", "booking-closed")
    if booking.start <= now:
        raise BookingError(f"call {booking_id} has begun", "booking-started")
    return booking


def move_call(
    db: sqlite_utils.Database,
    booking_id: int,
    new_start: datetime,
    now: datetime,
    *,
    plan: ReminderPlan = ReminderPlan(),
    notice: timedelta = NOTICE_TO_BOOK,
    tz: ZoneInfo = LONDON,
) -> Booking:
    """Move a call to `new_start`, with the same volunteer if they are free
    then, otherwise the fairest free one. One call of a series moves alone.

    Raises:
        BookingError: as `book_call`, or the call is not found, over,
            cancelled or begun. The call stays as it was.
    """
    new_start = _normalised(new_start)
    if new_start < now + notice:
        raise BookingError("that is too soon to arrange", "booking-too-soon")
    with transaction(db):
        booking = _open_booking(db, booking_id, now)
        new_end = new_start + (booking.end - booking.start)
        # Out of the way while the new time is checked; put back below, or
        # rolled back with everything else if the new time is not free.
        db.execute(
            "UPDATE call_bookings SET status = 'cancelled' WHERE id = ?", [booking_id]
        )
        if busy_windows(db, new_start, new_end, resident_id=booking.resident_id):
            raise BookingError("the resident has a call then", "booking-resident-busy")
        free = free_volunteers(db, new_start, new_end, tz)
        if not free:
            raise BookingError("nobody is free then", "booking-no-volunteer")
        volunteer_id = choose_volunteer(db, free, new_start, booking.volunteer_id, tz)
        db.execute(
            "UPDATE call_bookings SET status = 'booked', starts_at = ?, ends_at = ?, "
            "volunteer_id = ?, moved_from = ?, updated_at = ? WHERE id = ?",
            [
                stored(new_start),
                stored(new_end),
                volunteer_id,
                stored(booking.start),
                stored(now),
                booking_id,
            ],
        )
        _cancel_reminders(db, booking_id)
        _plan_reminders(db, booking_id, new_start, now, plan, tz)
    logger.info("moved call %s", booking_id)
    return get_booking(db, booking_id)


def _cancel(db: sqlite_utils.Database, booking_id: int, now: datetime) -> None:
    db.execute(
        "UPDATE call_bookings SET status = 'cancelled', updated_at = ? WHERE id = ?",
        [stored(now), booking_id],
    )
    _cancel_reminders(db, booking_id)


def cancel_call(db: sqlite_utils.Database, booking_id: int, now: datetime) -> Booking:
    """Cancel a call yet to begin, and its reminders. One call of a series is
    cancelled alone; the rest stay booked."""
    with transaction(db):
        _open_booking(db, booking_id, now)
        _cancel(db, booking_id, now)
    logger.info("cancelled call %s", booking_id)
    return get_booking(db, booking_id)


# --- the reminders each call plans ----------------------------------------


def _reminder_due(start: datetime, before: timedelta, tz: ZoneInfo) -> datetime:
    local = start.astimezone(tz)
    same_time = local.date() - timedelta(days=before.days)
    due = local_datetime(same_time, local.time(), tz)
    return due - (before - timedelta(days=before.days))


def _plan_reminders(
    db: sqlite_utils.Database,
    booking_id: int,
    start: datetime,
    now: datetime,
    plan: ReminderPlan,
    tz: ZoneInfo,
) -> None:
    for recipient, offsets in (
        ("resident", plan.resident),
        ("volunteer", plan.volunteer),
    ):
        due = sorted({_reminder_due(start, before, tz) for before in offsets})
        still_to_come = [moment for moment in due if moment > now]
        if recipient == "volunteer" and due and not still_to_come:
            still_to_come = [now]  # a call at short notice: tell them at once
        for moment in still_to_come:
            db["call_reminders"].insert(
                {
                    "booking_id": booking_id,
                    "recipient": recipient,
                    "due_at": stored(moment),
                    "status": "pending",
                }
            )


def _cancel_reminders(db: sqlite_utils.Database, booking_id: int) -> None:
    db.execute(
        "UPDATE call_reminders SET status = 'cancelled' "
        "WHERE booking_id = ? AND status = 'pending'",
        [booking_id],
    )
