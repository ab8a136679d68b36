"""Calls between residents and volunteers: proposing times, booking, moving and
cancelling them, regular weekly calls, reminders, and how each call went.

Every change runs in one IMMEDIATE transaction that checks and writes
together, so two requests arriving at once can never book one volunteer, or
one resident, twice over; unique indexes on each start time back this up.

Decisions the issue left open:

- The system picks the volunteer: whoever has the fewest calls that week
  (Monday to Sunday, local time), then whoever was last given a call longest
  ago, then the lowest id. A regular call keeps its volunteer where they are
  free, for continuity; otherwise another is picked the same way.
- A regular call is booked as separate calls 8 weeks ahead; `extend_series`,
  run daily by the scheduler, keeps it 8 weeks ahead. Moving or cancelling one
  call of a series touches only that call; `move_series` and `cancel_series`
  change every call still to come.
- Reminders go to the resident the day before (same time of day, local) and
  an hour before, and to the volunteer an hour before; a volunteer given a
  call at shorter notice is told at once. A reminder found overdue after a
  restart is still sent if the call is yet to start; if two for one person
  are overdue, only the latest goes.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import (
    SLOT_MINUTES,
    SLOT_STEP_MINUTES,
    Slot,
    busy_windows,
    free_slots,
    free_volunteers,
    from_stored,
    stored,
)
from assistant.errors import HelpingHandsError
from assistant.store import transaction
from assistant.when import (
    LONDON,
    WhenRequest,
    Window,
    anytime,
    describe,
    local_datetime,
)

logger = logging.getLogger(__name__)

# A volunteer needs time to notice a new call; a resident deciding takes a while.
NOTICE_TO_PROPOSE = timedelta(hours=1)
NOTICE_TO_BOOK = timedelta(minutes=15)
# How far either side of an asked-for time alternatives are looked for.
SEARCH_AROUND = timedelta(days=3)
PROPOSALS = 3
# Proposals for a window are kept this far apart where the window allows, so
# "Thursday afternoon" offers 12, 1 and 2 rather than 12, 12:30 and 1.
SPREAD = timedelta(hours=1)
SERIES_WEEKS_AHEAD = 8
OUTCOMES = ("talked", "no-answer", "busy")
MISSED = ("no-answer", "busy")


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
class Proposal:
    """A free time to offer a resident."""

    start: datetime
    end: datetime
    volunteer_ids: tuple[int, ...]
    matches_request: bool
    """The time asked for exactly, or inside the windows asked for."""


@dataclass(frozen=True)
class ReminderPlan:
    """How long before a call each reminder is due. Whole days count in local
    days, so "a day before" a 10am call is 10am the day before, whatever the
    clocks did overnight."""

    resident: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=1))
    volunteer: tuple[timedelta, ...] = (timedelta(hours=1),)


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


# --- proposing times ------------------------------------------------------


def _distance(slot: Slot, windows: Iterable[Window]) -> timedelta:
    """How far a slot lies outside the nearest window (nothing if inside)."""
    gaps = []
    for window in windows:
        if window.contains(slot.start, slot.end):
            return timedelta(0)
        gaps.append(max(window.start - slot.start, slot.end - window.end))
    return min(gaps, default=timedelta.max)


def _nearest(slots: list[Slot], target: datetime, count: int) -> list[Slot]:
    """The `count` slots nearest `target`, with one from each side if there
    is one, so a resident hears an earlier and a later choice."""
    ranked = sorted(slots, key=lambda s: (abs(s.start - target), s.start))
    chosen = ranked[:count]
    for side in (lambda s: s.start < target, lambda s: s.start > target):
        if count > 1 and chosen and not any(side(s) for s in chosen):
            other = next((s for s in ranked if side(s)), None)
            if other is not None:
                chosen[-1] = other
    return sorted(chosen, key=lambda s: s.start)


def _spread(slots: list[Slot], count: int) -> list[Slot]:
    """The earliest slots, kept `SPREAD` apart where there are enough."""
    chosen: list[Slot] = []
    for slot in slots:
        if len(chosen) == count:
            break
        if all(abs(slot.start - c.start) >= SPREAD for c in chosen):
            chosen.append(slot)
    for slot in slots:
        if len(chosen) == count:
            break
        if slot not in chosen:
            chosen.append(slot)
    return sorted(chosen, key=lambda s: s.start)


def propose_times(
    db: sqlite_utils.Database,
    request: WhenRequest,
    now: datetime,
    *,
    resident_id: str | None = None,
    minutes: int = SLOT_MINUTES,
    count: int = PROPOSALS,
    notice: timedelta = NOTICE_TO_PROPOSE,
    step_minutes: int = SLOT_STEP_MINUTES,
    tz: ZoneInfo = LONDON,
) -> list[Proposal]:
    """Free times to offer for a request, earliest first.

    If an exact time was asked for and is free, only that one comes back.
    Otherwise: free times inside what was asked for, or, if there are none,
    the nearest free times before and after it. Never a time the resident
    ruled out, nor one overlapping a call they already have.

    Returns:
        Up to `count` proposals; none if the request said nothing of when or
        nobody is free for days around it.
    """
    not_before = now + notice

    def search(start: datetime, end: datetime) -> list[Slot]:
        slots = free_slots(
            db,
            max(start, not_before),
            end,
            minutes=minutes,
            step_minutes=step_minutes,
            resident_id=resident_id,
            tz=tz,
        )
        return [
            slot
            for slot in slots
            if not any(w.overlaps(slot.start, slot.end) for w in request.excluded)
        ]

    def proposals(slots: list[Slot]) -> list[Proposal]:
        return [
            Proposal(
                slot.start,
                slot.end,
                slot.volunteer_ids,
                slot.start == request.preferred
                if request.preferred
                else request.allows(slot.start, slot.end),
            )
            for slot in slots
        ]

    if request.preferred is not None:
        target = request.preferred
        slots = search(target - SEARCH_AROUND, target + SEARCH_AROUND)
        exact = [slot for slot in slots if slot.start == target]
        return proposals(exact or _nearest(slots, target, count))
    if not request.windows:
        return []
    first, last = request.windows[0], request.windows[-1]
    inside = [
        slot
        for slot in search(first.start, last.end)
        if request.allows(slot.start, slot.end)
    ]
    if inside:
        return proposals(_spread(inside, count))
    around = search(first.start - SEARCH_AROUND, last.end + SEARCH_AROUND)
    ranked = sorted(around, key=lambda s: (_distance(s, request.windows), s.start))
    return proposals(_nearest(ranked[: count * 4], first.start, count))


def describe_proposals(
    proposals: list[Proposal], now: datetime, tz: ZoneInfo = LONDON
) -> str:
    """ "today at 4pm, tomorrow at 2pm or Wednesday 9 December at 10am"."""
    said = [describe(p.start, now, tz) for p in proposals]
    if len(said) < 2:
        return "".join(said)
    return ", ".join(said[:-1]) + " or " + said[-1]


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
    plan: ReminderPlan = ReminderPlan(),
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
    plan: ReminderPlan = ReminderPlan(),
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
    plan: ReminderPlan = ReminderPlan(),
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


# --- reminders -------------------------------------------------------------


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


# --- how calls went --------------------------------------------------------


def record_outcome(
    db: sqlite_utils.Database,
    booking_id: int,
    outcome: str,
    now: datetime,
    note: str | None = None,
) -> Booking:
    """Record how a call went: "talked", "no-answer" or "busy".

    Raises:
        BookingError: an unknown outcome, a call not found, cancelled or
            already recorded, or not yet begun.
    """
    if outcome not in OUTCOMES:
        raise BookingError(
            f"an outcome is one of {', '.join(OUTCOMES)}", "booking-bad-outcome"
        )
    with transaction(db):
        booking = get_booking(db, booking_id)
        if booking is None:
            raise BookingError(f"there is no call {booking_id}", "booking-not-found")
        if booking.status != "booked":
            raise BookingError(
                f"call {booking_id} is {booking.status}", "booking-closed"
            )
        if booking.start > now:
            raise BookingError(
                f"call {booking_id} is yet to come", "booking-not-started"
            )
        db.execute(
            "UPDATE call_bookings SET status = 'done', outcome = ?, outcome_note = ?, "
            "outcome_at = ?, updated_at = ? WHERE id = ?",
            [outcome, note, stored(now), stored(now), booking_id],
        )
        _cancel_reminders(db, booking_id)
    logger.info("call %s: %s", booking_id, outcome)
    return get_booking(db, booking_id)


def offer_new_time(
    db: sqlite_utils.Database,
    booking_id: int,
    now: datetime,
    *,
    count: int = PROPOSALS,
    notice: timedelta = NOTICE_TO_PROPOSE,
    tz: ZoneInfo = LONDON,
) -> list[Proposal]:
    """New times to offer a resident after a missed call: the same time
    tomorrow if it is free, and the soonest other free times, earliest first.
    Book the chosen one with `prefer_volunteer_id` set to the same volunteer.

    Raises:
        BookingError: the call is not found, or was not missed.
    """
    booking = get_booking(db, booking_id)
    if booking is None:
        raise BookingError(f"there is no call {booking_id}", "booking-not-found")
    if booking.outcome not in MISSED:
        raise BookingError(f"call {booking_id} was not missed", "booking-not-missed")
    minutes = int((booking.end - booking.start).total_seconds() // 60)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    same_time = local_datetime(tomorrow, booking.start.astimezone(tz).time(), tz)
    options = dict(
        resident_id=booking.resident_id, minutes=minutes, notice=notice, tz=tz
    )
    offered = propose_times(db, anytime(now, tz, preferred=same_time), now, **options)
    exact = [p for p in offered if p.matches_request]
    soonest = propose_times(db, anytime(now, tz), now, count=count, **options)
    others = [p for p in soonest if p.start not in {e.start for e in exact}]
    return sorted(exact + others[: count - len(exact)], key=lambda p: p.start)


def missed_call_text(
    proposals: list[Proposal], now: datetime, tz: ZoneInfo = LONDON
) -> str:
    """What to say to a resident whose call was missed."""
    if not proposals:
        return (
            "Sorry we missed you. Nobody is free in the next few days; a "
            "volunteer will be in touch to arrange a time."
        )
    return (
        "Sorry we missed you. We could ring you "
        f"{describe_proposals(proposals, now, tz)}. Which would suit you?"
    )
