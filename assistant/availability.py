"""Volunteers' weekly hours, their days off and extra times, and the free call
slots these leave once booked calls are taken out.

Weekly hours are kept as local wall-clock times ("Mondays 10:00 to 12:00"), so
they stay at 10 o'clock across a clock change. One-off changes (a holiday, a
morning at the dentist, an extra afternoon) are kept as UTC instants. A slot
is free for a volunteer when it lies wholly inside their hours or an extra
time, outside every time away and every call already booked with them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.errors import HelpingHandsError
from assistant.store import transaction, utc_now
from assistant.when import (
    LONDON,
    Window,
    describe_clock,
    local_datetime,
    merge_windows,
    subtract_windows,
)
from assistant.when_words import WEEKDAY_NAMES

SLOT_MINUTES = 30
# Slots start on the half hour, local time: "half past ten" is easy to say.
SLOT_STEP_MINUTES = 30
# Calls that still hold a volunteer's or a resident's time.
HOLDING = "('booked', 'done')"


class AvailabilityError(HelpingHandsError):
    """Hours or a one-off change could not be kept as asked."""

    code = "availability-invalid"


@dataclass(frozen=True)
class WeeklyHours:
    """A stretch of the week a volunteer takes calls, in local time."""

    id: int
    volunteer_id: int
    weekday: int
    """0 for Monday to 6 for Sunday."""
    starts: time
    ends: time

    def describe(self) -> str:
        """ "Mondays, 10am to 12 noon"."""
        return (
            f"{WEEKDAY_NAMES[self.weekday]}s, {describe_clock(self.starts)} "
            f"to {describe_clock(self.ends)}"
        )


@dataclass(frozen=True)
class OneOff:
    """A one-off change to a volunteer's hours: time away or an extra time."""

    id: int
    volunteer_id: int
    kind: str
    """ "away" or "extra"."""
    start: datetime
    end: datetime
    note: str | None


@dataclass(frozen=True)
class Slot:
    """A call slot and the volunteers free for all of it."""

    start: datetime
    end: datetime
    volunteer_ids: tuple[int, ...]


def stored(moment: datetime) -> str:
    """A moment as the store keeps it: ISO 8601 in UTC, to the second, so that
    stored moments compare correctly as text."""
    if moment.tzinfo is None:
        raise ValueError("only aware datetimes are stored")
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_stored(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _check_volunteer(db: sqlite_utils.Database, volunteer_id: int) -> None:
    if not db.execute(
        "SELECT 1 FROM volunteers WHERE id = ?", [volunteer_id]
    ).fetchone():
        raise AvailabilityError(
            f"there is no volunteer {volunteer_id}", "availability-unknown-volunteer"
        )


def _check_hours(weekday: int, starts: time, ends: time) -> None:
    if not 0 <= weekday <= 6:
        raise AvailabilityError("a weekday is 0 (Monday) to 6 (Sunday)")
    if starts >= ends:
        raise AvailabilityError(
            f"hours must end after they start ({starts:%H:%M}-{ends:%H:%M})"
        )


def _hours_from_row(row: dict) -> WeeklyHours:
    return WeeklyHours(
        row["id"],
        row["volunteer_id"],
        row["weekday"],
        time.fromisoformat(row["starts"]),
        time.fromisoformat(row["ends"]),
    )


def add_weekly_hours(
    db: sqlite_utils.Database,
    volunteer_id: int,
    weekday: int,
    starts: time,
    ends: time,
) -> WeeklyHours:
    """Add a weekly stretch of hours for a volunteer (weekday 0 is Monday)."""
    _check_hours(weekday, starts, ends)
    with transaction(db):
        _check_volunteer(db, volunteer_id)
        hours_id = (
            db["volunteer_weekly_hours"]
            .insert(
                {
                    "volunteer_id": volunteer_id,
                    "weekday": weekday,
                    "starts": starts.strftime("%H:%M"),
                    "ends": ends.strftime("%H:%M"),
                    "created_at": utc_now(),
                }
            )
            .last_pk
        )
    rows = db.query("SELECT * FROM volunteer_weekly_hours WHERE id = ?", [hours_id])
    return _hours_from_row(next(rows))


def set_weekly_hours(
    db: sqlite_utils.Database,
    volunteer_id: int,
    hours: Iterable[tuple[int, time, time]],
) -> list[WeeklyHours]:
    """Replace all of a volunteer's weekly hours, at once, with `hours`."""
    hours = list(hours)
    for weekday, starts, ends in hours:
        _check_hours(weekday, starts, ends)
    with transaction(db):
        _check_volunteer(db, volunteer_id)
        db.execute(
            "DELETE FROM volunteer_weekly_hours WHERE volunteer_id = ?", [volunteer_id]
        )
        for weekday, starts, ends in hours:
            add_weekly_hours(db, volunteer_id, weekday, starts, ends)
    return weekly_hours(db, volunteer_id)


def remove_weekly_hours(db: sqlite_utils.Database, hours_id: int) -> bool:
    """Take one weekly stretch away; False if there was no such stretch."""
    cursor = db.execute("DELETE FROM volunteer_weekly_hours WHERE id = ?", [hours_id])
    return cursor.rowcount == 1


def weekly_hours(
    db: sqlite_utils.Database, volunteer_id: int | None = None
) -> list[WeeklyHours]:
    """Weekly hours, a volunteer's or everyone's, in weekday and time order."""
    where, values = "", []
    if volunteer_id is not None:
        where, values = "WHERE volunteer_id = ?", [volunteer_id]
    rows = db.query(
        f"SELECT * FROM volunteer_weekly_hours {where} "
        "ORDER BY volunteer_id, weekday, starts",
        values,
    )
    return [_hours_from_row(row) for row in rows]


DAY_PREFIXES = {name[:3].lower(): n for n, name in enumerate(WEEKDAY_NAMES)}
HOURS_TEXT = re.compile(
    r"^\s*(?P<day>[a-z]{3})[a-z]*\s+(?P<starts>\d{1,2}(?::\d\d)?)\s*-\s*"
    r"(?P<ends>\d{1,2}(?::\d\d)?)\s*$"
)


def _clock(text: str) -> time:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute or 0))


def parse_weekly_hours(text: str) -> list[tuple[int, time, time]]:
    """Weekly hours from what a coordinator types: "Mon 10:00-12:00, Thu 14-16".

    Raises:
        AvailabilityError: a part that is not a day and two times.
    """
    hours = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;\n]", text.lower()))):
        match = HOURS_TEXT.match(part)
        if not match or match["day"] not in DAY_PREFIXES:
            raise AvailabilityError(
                f"{part!r} is not a day and hours, like 'Mon 10:00-12:00'"
            )
        try:
            starts, ends = _clock(match["starts"]), _clock(match["ends"])
        except ValueError as error:
            raise AvailabilityError(
                f"{part!r} has a time that does not exist"
            ) from error
        _check_hours(DAY_PREFIXES[match["day"]], starts, ends)
        hours.append((DAY_PREFIXES[match["day"]], starts, ends))
    return hours


# --- one-off changes -------------------------------------------------------


def _one_off_from_row(row: dict) -> OneOff:
    return OneOff(
        row["id"],
        row["volunteer_id"],
        row["kind"],
        from_stored(row["starts_at"]),
        from_stored(row["ends_at"]),
        row["note"],
    )


def _add_one_off(
    db: sqlite_utils.Database,
    volunteer_id: int,
    kind: str,
    start: datetime,
    end: datetime,
    note: str | None,
) -> OneOff:
    if stored(start) >= stored(end):
        raise AvailabilityError("a time away or extra must end after it starts")
    with transaction(db):
        _check_volunteer(db, volunteer_id)
        one_off_id = (
            db["volunteer_exceptions"]
            .insert(
                {
                    "volunteer_id": volunteer_id,
                    "kind": kind,
                    "starts_at": stored(start),
                    "ends_at": stored(end),
                    "note": note,
                    "created_at": utc_now(),
                }
            )
            .last_pk
        )
    rows = db.query("SELECT * FROM volunteer_exceptions WHERE id = ?", [one_off_id])
    return _one_off_from_row(next(rows))


def add_days_off(
    db: sqlite_utils.Database,
    volunteer_id: int,
    first: date,
    last: date | None = None,
    note: str | None = None,
    tz: ZoneInfo = LONDON,
) -> OneOff:
    """Whole local days away, `first` to `last` inclusive (a holiday)."""
    last = last or first
    if last < first:
        raise AvailabilityError("the last day off comes before the first")
    start = local_datetime(first, time(0), tz)
    end = local_datetime(last + timedelta(days=1), time(0), tz)
    return _add_one_off(db, volunteer_id, "away", start, end, note)


def add_time_off(
    db: sqlite_utils.Database,
    volunteer_id: int,
    start: datetime,
    end: datetime,
    note: str | None = None,
) -> OneOff:
    """Part of a day away ("the dentist on Tuesday morning")."""
    return _add_one_off(db, volunteer_id, "away", start, end, note)


def add_extra_time(
    db: sqlite_utils.Database,
    volunteer_id: int,
    start: datetime,
    end: datetime,
    note: str | None = None,
) -> OneOff:
    """A one-off time a volunteer can take calls, besides their weekly hours."""
    return _add_one_off(db, volunteer_id, "extra", start, end, note)


def remove_one_off(db: sqlite_utils.Database, one_off_id: int) -> bool:
    cursor = db.execute("DELETE FROM volunteer_exceptions WHERE id = ?", [one_off_id])
    return cursor.rowcount == 1


def one_offs(
    db: sqlite_utils.Database,
    volunteer_id: int | None = None,
    after: datetime | None = None,
) -> list[OneOff]:
    """Times away and extra times, a volunteer's or everyone's, that end after
    `after` (all of them if None), earliest first."""
    conditions, values = ["1 = 1"], []
    if volunteer_id is not None:
        conditions.append("volunteer_id = ?")
        values.append(volunteer_id)
    if after is not None:
        conditions.append("ends_at > ?")
        values.append(stored(after))
    rows = db.query(
        f"SELECT * FROM volunteer_exceptions WHERE {' AND '.join(conditions)} "
        "ORDER BY starts_at, id",
        values,
    )
    return [_one_off_from_row(row) for row in rows]


# --- free time -------------------------------------------------------------


def _active_volunteers(
    db: sqlite_utils.Database, volunteer_ids: Iterable[int] | None
) -> list[int]:
    active = [
        row[0] for row in db.execute("SELECT id FROM volunteers WHERE active = 1")
    ]
    if volunteer_ids is None:
        return active
    wanted = set(volunteer_ids)
    return [v for v in active if v in wanted]


def _weekly_windows(
    hours: list[WeeklyHours], start: datetime, end: datetime, tz: ZoneInfo
) -> list[Window]:
    windows = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date():
        for stretch in hours:
            if stretch.weekday == day.weekday():
                opens = local_datetime(day, stretch.starts, tz)
                closes = local_datetime(day, stretch.ends, tz)
                if opens < closes:  # NOTE: hours wholly in the spring gap vanish
                    windows.append(Window(opens, closes))
        day += timedelta(days=1)
    return windows


def busy_windows(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    *,
    volunteer_id: int | None = None,
    resident_id: str | None = None,
) -> list[Window]:
    """The booked calls of a volunteer or a resident overlapping a stretch."""
    column, value = "volunteer_id", volunteer_id
    if resident_id is not None:
        column, value = "resident_id", resident_id
    rows = db.execute(
        f"SELECT starts_at, ends_at FROM call_bookings WHERE {column} = ? "
        f"AND status IN {HOLDING} AND starts_at < ? AND ends_at > ?",
        [value, stored(end), stored(start)],
    )
    return [Window(from_stored(a), from_stored(b)) for a, b in rows]


def free_windows(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    volunteer_ids: Iterable[int] | None = None,
    tz: ZoneInfo = LONDON,
) -> dict[int, list[Window]]:
    """Each active volunteer's free time between `start` and `end`: weekly
    hours and extra times, less time away and calls already booked."""
    if start >= end:
        return {}
    volunteers = _active_volunteers(db, volunteer_ids)
    hours: dict[int, list[WeeklyHours]] = defaultdict(list)
    for stretch in weekly_hours(db):
        hours[stretch.volunteer_id].append(stretch)
    open_time: dict[int, list[Window]] = defaultdict(list)
    away: dict[int, list[Window]] = defaultdict(list)
    rows = db.execute(
        "SELECT volunteer_id, kind, starts_at, ends_at FROM volunteer_exceptions "
        "WHERE starts_at < ? AND ends_at > ?",
        [stored(end), stored(start)],
    )
    for volunteer_id, kind, starts_at, ends_at in rows:
        into = open_time if kind == "extra" else away
        into[volunteer_id].append(Window(from_stored(starts_at), from_stored(ends_at)))
    rows = db.execute(
        "SELECT volunteer_id, starts_at, ends_at FROM call_bookings "
        f"WHERE status IN {HOLDING} AND starts_at < ? AND ends_at > ?",
        [stored(end), stored(start)],
    )
    for volunteer_id, starts_at, ends_at in rows:
        away[volunteer_id].append(Window(from_stored(starts_at), from_stored(ends_at)))
    whole = Window(start, end)
    free = {}
    for volunteer_id in volunteers:
        windows = _weekly_windows(hours[volunteer_id], start, end, tz)
        windows = subtract_windows(
            windows + open_time[volunteer_id], away[volunteer_id]
        )
        free[volunteer_id] = [
            Window(max(w.start, start), min(w.end, end))
            for w in merge_windows(windows)
            if whole.overlaps(w.start, w.end)
        ]
    return free


def _slot_starts(
    window: Window, length: timedelta, step_minutes: int, tz: ZoneInfo
) -> Iterator[datetime]:
    """Starts on the local grid ("10:00", "10:30") for slots inside `window`."""
    local = window.start.astimezone(tz)
    first = local.replace(second=0, microsecond=0)
    if first < local:
        first += timedelta(minutes=1)
    first += timedelta(minutes=-(first.hour * 60 + first.minute) % step_minutes)
    moment = first.astimezone(timezone.utc)
    while moment + length <= window.end:
        yield moment
        moment += timedelta(minutes=step_minutes)


def free_slots(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    *,
    minutes: int = SLOT_MINUTES,
    step_minutes: int = SLOT_STEP_MINUTES,
    volunteer_ids: Iterable[int] | None = None,
    resident_id: str | None = None,
    tz: ZoneInfo = LONDON,
) -> list[Slot]:
    """Free call slots between `start` and `end`, earliest first.

    Args:
        minutes: how long each call is.
        step_minutes: slots start on this grid of local time; it must divide
            an hour for the grid to hold across a clock change.
        volunteer_ids: only these volunteers (all active ones if None).
        resident_id: leave out slots overlapping this resident's calls.
    """
    length = timedelta(minutes=minutes)
    taken = busy_windows(db, start, end, resident_id=resident_id) if resident_id else []
    by_start: dict[datetime, list[int]] = defaultdict(list)
    for volunteer_id, windows in free_windows(
        db, start, end, volunteer_ids, tz
    ).items():
        for window in windows:
            for moment in _slot_starts(window, length, step_minutes, tz):
                if not any(busy.overlaps(moment, moment + length) for busy in taken):
                    by_start[moment].append(volunteer_id)
    return [
        Slot(moment, moment + length, tuple(sorted(volunteers)))
        for moment, volunteers in sorted(by_start.items())
    ]


def free_volunteers(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    tz: ZoneInfo = LONDON,
) -> list[int]:
    """The active volunteers free for the whole of `start` to `end`."""
    return [
        volunteer_id
        for volunteer_id, windows in free_windows(db, start, end, None, tz).items()
        if any(w.start <= start and end <= w.end for w in windows)
    ]
