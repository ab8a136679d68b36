"""Regular calls: a resident rung every week, or every other, on one weekday.

Decisions the issue left open:

- A regular call keeps its volunteer where they are free, for continuity;
  otherwise another is picked the same way as for one call (see
  `assistant.bookings`).
- A regular call is booked as separate calls 8 weeks ahead; `extend_series`,
  run daily by the scheduler, keeps it 8 weeks ahead. Moving or cancelling one
  call of a series touches only that call; `move_series` and `cancel_series`
  change every call still to come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import SLOT_MINUTES, stored
from assistant.bookings import (
    NOTICE_TO_BOOK,
    Booking,
    BookingError,
    ReminderPlan,
    _book,
    _booking_from_row,
    _cancel,
    _check_resident,
    _normalised,
    get_booking,
)
from assistant.store import transaction
from assistant.when import LONDON, local_datetime

logger = logging.getLogger(__name__)

SERIES_WEEKS_AHEAD = 8


@dataclass(frozen=True)
class Series:
    """A regular call: every week (or every other) on one weekday, local time."""

    id: int
    resident_id: str
    volunteer_id: int | None
    weekday: int
    local_time: time
    minutes: int
    every_weeks: int
    first_day: date
    booked_until: date
    status: str


@dataclass(frozen=True)
class SeriesBooking:
    """What booking or extending a series did."""

    series: Series
    booked: tuple[Booking, ...]
    missed: tuple[datetime, ...]
    """Calls of the series that could not be booked: nobody was free."""


# --- reading rows --------------------------------------------------------


def _series_from_row(row: dict) -> Series:
    return Series(
        row["id"],
        row["resident_id"],
        row["volunteer_id"],
        row["weekday"],
        time.fromisoformat(row["local_time"]),
        row["minutes"],
        row["every_weeks"],
        date.fromisoformat(row["first_day"]),
        date.fromisoformat(row["booked_until"]),
        row["status"],
    )


def get_series(db: sqlite_utils.Database, series_id: int) -> Series | None:
    rows = list(db.query("SELECT * FROM call_series WHERE id = ?", [series_id]))
    return _series_from_row(rows[0]) if rows else None


def series_calls(
    db: sqlite_utils.Database, series_id: int, now: datetime
) -> list[Booking]:
    """The booked calls of a series still to come, soonest first."""
    rows = db.query(
        "SELECT * FROM call_bookings WHERE series_id = ? AND status = 'booked' "
        "AND starts_at > ? ORDER BY starts_at",
        [series_id, stored(now)],
    )
    return [_booking_from_row(row) for row in rows]


# --- regular calls -------------------------------------------------------


def _materialise(
    db: sqlite_utils.Database,
    series: Series,
    now: datetime,
    weeks_ahead: int,
    plan: ReminderPlan,
    notice: timedelta,
    tz: ZoneInfo,
) -> SeriesBooking:
    """Book the series' calls after `booked_until`, up to `weeks_ahead` weeks
    from today or from its first day; the caller holds the transaction."""
    today = now.astimezone(tz).date()
    until = max(today, series.first_day) + timedelta(weeks=weeks_ahead)
    step = timedelta(weeks=series.every_weeks)
    day = series.first_day
    while day <= series.booked_until:
        day += step
    booked, missed = [], []
    volunteer_id = series.volunteer_id
    last_day = series.booked_until
    while day < until:
        start = local_datetime(day, series.local_time, tz)
        last_day = day
        if start >= now + notice:
            try:
                booking_id = _book(
                    db,
                    series.resident_id,
                    start,
                    start + timedelta(minutes=series.minutes),
                    now,
                    volunteer_id=None,
                    prefer=volunteer_id,
                    series_id=series.id,
                    plan=plan,
                    tz=tz,
                )
                booked.append(get_booking(db, booking_id))
                volunteer_id = volunteer_id or booked[-1].volunteer_id
            except BookingError as error:
                logger.warning(
                    "series %s: no call on %s (%s)", series.id, day, error.code
                )
                missed.append(start)
        day += step
    db.execute(
        "UPDATE call_series SET booked_until = ?, volunteer_id = ? WHERE id = ?",
        [last_day.isoformat(), volunteer_id, series.id],
    )
    return SeriesBooking(get_series(db, series.id), tuple(booked), tuple(missed))


def book_series(
    db: sqlite_utils.Database,
    resident_id: str,
    first_start: datetime,
    now: datetime,
    *,
    every_weeks: int = 1,
    minutes: int = SLOT_MINUTES,
    volunteer_id: int | None = None,
    weeks_ahead: int = SERIES_WEEKS_AHEAD,
    plan: ReminderPlan = ReminderPlan(),  # noqa: B008 - frozen, safe to share
    notice: timedelta = NOTICE_TO_BOOK,
    tz: ZoneInfo = LONDON,
) -> SeriesBooking:
    """Book a regular call at the weekday and local time of `first_start`,
    every week (or every `every_weeks` weeks), `weeks_ahead` weeks ahead.

    The first call must be bookable, or nothing is booked (BookingError, as
    `book_call`); later calls nobody can take are listed in `missed`.
    """
    first_start = _normalised(first_start)
    if first_start < now + notice:
        raise BookingError("that is too soon to arrange", "booking-too-soon")
    local = first_start.astimezone(tz)
    with transaction(db):
        _check_resident(db, resident_id)
        series_id = (
            db["call_series"]
            .insert(
                {
                    "resident_id": resident_id,
                    "volunteer_id": None,
                    "weekday": local.weekday(),
                    "local_time": local.strftime("%H:%M"),
                    "minutes": minutes,
                    "every_weeks": every_weeks,
                    "first_day": local.date().isoformat(),
                    "booked_until": (local.date() - timedelta(days=1)).isoformat(),
                    "status": "active",
                    "created_at": stored(now),
                }
            )
            .last_pk
        )
        first_id = _book(
            db,
            resident_id,
            first_start,
            first_start + timedelta(minutes=minutes),
            now,
            volunteer_id=volunteer_id,
            prefer=None,
            series_id=series_id,
            plan=plan,
            tz=tz,
        )
        first = get_booking(db, first_id)
        db.execute(
            "UPDATE call_series SET volunteer_id = ?, booked_until = ? WHERE id = ?",
            [first.volunteer_id, local.date().isoformat(), series_id],
        )
        rest = _materialise(
            db, get_series(db, series_id), now, weeks_ahead, plan, notice, tz
        )
    logger.info("booked series %s, %s calls", series_id, 1 + len(rest.booked))
    return SeriesBooking(rest.series, (first, *rest.booked), rest.missed)


def extend_series(
    db: sqlite_utils.Database,
    now: datetime,
    *,
    weeks_ahead: int = SERIES_WEEKS_AHEAD,
    plan: ReminderPlan = ReminderPlan(),  # noqa: B008 - frozen, safe to share
    notice: timedelta = NOTICE_TO_BOOK,
    tz: ZoneInfo = LONDON,
) -> list[SeriesBooking]:
    """Keep every active series booked `weeks_ahead` weeks ahead; for the
    scheduler, daily. Running it twice books nothing twice."""
    results = []
    rows = db.query("SELECT * FROM call_series WHERE status = 'active' ORDER BY id")
    for series in [_series_from_row(row) for row in rows]:
        with transaction(db):
            fresh = get_series(db, series.id)
            result = _materialise(db, fresh, now, weeks_ahead, plan, notice, tz)
        if result.booked or result.missed:
            results.append(result)
    return results


def _end_calls_after(db: sqlite_utils.Database, series_id: int, now: datetime) -> int:
    calls = series_calls(db, series_id, now)
    for call in calls:
        _cancel(db, call.id, now)
    return len(calls)


def cancel_series(db: sqlite_utils.Database, series_id: int, now: datetime) -> int:
    """End a regular call: cancel every call of it still to come; return how
    many were cancelled."""
    with transaction(db):
        if get_series(db, series_id) is None:
            raise BookingError(f"there is no series {series_id}", "booking-not-found")
        cancelled = _end_calls_after(db, series_id, now)
        db.execute(
            "UPDATE call_series SET status = 'ended', ended_at = ? WHERE id = ?",
            [stored(now), series_id],
        )
    logger.info("ended series %s, %s calls cancelled", series_id, cancelled)
    return cancelled


def move_series(
    db: sqlite_utils.Database,
    series_id: int,
    new_first_start: datetime,
    now: datetime,
    *,
    weeks_ahead: int = SERIES_WEEKS_AHEAD,
    plan: ReminderPlan = ReminderPlan(),  # noqa: B008 - frozen, safe to share
    notice: timedelta = NOTICE_TO_BOOK,
    tz: ZoneInfo = LONDON,
) -> SeriesBooking:
    """Move a regular call to a new weekday and time from `new_first_start`
    on: every call still to come (moved ones too) is rebooked. If the new
    first call cannot be booked, nothing changes (BookingError)."""
    new_first_start = _normalised(new_first_start)
    if new_first_start < now + notice:
        raise BookingError("that is too soon to arrange", "booking-too-soon")
    local = new_first_start.astimezone(tz)
    with transaction(db):
        series = get_series(db, series_id)
        if series is None or series.status != "active":
            raise BookingError(
                f"there is no active series {series_id}", "booking-not-found"
            )
        _end_calls_after(db, series_id, now)
        first_id = _book(
            db,
            series.resident_id,
            new_first_start,
            new_first_start + timedelta(minutes=series.minutes),
            now,
            volunteer_id=None,
            prefer=series.volunteer_id,
            series_id=series_id,
            plan=plan,
            tz=tz,
        )
        first = get_booking(db, first_id)
        db.execute(
            "UPDATE call_series SET weekday = ?, local_time = ?, first_day = ?, "
            "booked_until = ?, volunteer_id = ? WHERE id = ?",
            [
                local.weekday(),
                local.strftime("%H:%M"),
                local.date().isoformat(),
                local.date().isoformat(),
                first.volunteer_id,
                series_id,
            ],
        )
        rest = _materialise(
            db, get_series(db, series_id), now, weeks_ahead, plan, notice, tz
        )
    logger.info("moved series %s", series_id)
    return SeriesBooking(rest.series, (first, *rest.booked), rest.missed)
