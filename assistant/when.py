"""Everyday dates and times, as residents say them, in the council's time zone.

`understand_when("could someone ring me Thursday afternoon", now)` gives a
`WhenRequest`: the windows that would suit (aware UTC datetimes), the days
that would not, whether any time will do, and an exact time if one was named.
`describe(moment, now)` says a time back in plain words for reading back.

Everything is worked out from `now`, which the caller passes in; nothing here
reads the clock. Times are stored and compared in UTC and said in local time,
so a call at 10am stays at 10am on the wall clock across a clock change.

How some phrases are read (a resident hears the date read back, so a wrong
guess is caught before anything is booked):

- "Thursday", "on Thursday", "this Thursday": the coming Thursday, not today.
  "This Thursday" said on a Thursday means today.
- "next Thursday": the Thursday of next week (the week starting next Monday),
  as most British speakers mean it. "Thursday week" is a week after the
  coming Thursday.
- "at 2", "half past four": with no am or pm, 1 to 7 are afternoon or evening
  and 8 to 12 are morning or noon, unless a part of the day is given ("at 8 in
  the evening"). "Half ten" is 10:30.
- "the 14th": this month's, or next month's once this month's has gone.
- A time with no day: today if there is still time, otherwise tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from assistant.when_grammar import _Group, _groups, _spans, _tokens
from assistant.when_words import (
    CALLING_DAY,
    EXACT_TIME_MINUTES,
    MONTH_NAMES,
    PARTS_OF_DAY,
    WEEKDAY_NAMES,
    normalise,
)

LONDON = ZoneInfo("Europe/London")
HORIZON_DAYS = 14
# A part of the day counts as still to come today if this much of it is left.
ENOUGH_LEFT_TODAY = timedelta(minutes=30)


@dataclass(frozen=True, order=True)
class Window:
    """A stretch of time between two aware UTC datetimes; the end is excluded."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window needs aware datetimes")
        if self.start >= self.end:
            raise ValueError("a window must end after it starts")

    def contains(self, start: datetime, end: datetime | None = None) -> bool:
        """Whether `start` (to `end`, if given) lies wholly inside the window."""
        if end is None:
            return self.start <= start < self.end
        return self.start <= start and end <= self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class WhenRequest:
    """What a resident asked for, as times that would and would not suit."""

    windows: tuple[Window, ...] = ()
    """When a call would suit, sorted, not overlapping, none before `now`."""
    excluded_days: tuple[date, ...] = ()
    """Whole local days the resident ruled out ("not Monday")."""
    excluded: tuple[Window, ...] = ()
    """Every stretch ruled out, whole days and parts of days, in UTC."""
    flexible: bool = False
    """The resident is happy with any time ("whenever someone's free")."""
    preferred: datetime | None = None
    """An exact time asked for ("tomorrow at 2"), aware UTC."""
    every_weeks: int | None = None
    """1 for "every Tuesday", 2 for "every other Tuesday"; None for one call."""
    passed: bool = False
    """Something asked for has already gone ("today at 9" said at noon)."""

    @property
    def understood(self) -> bool:
        """Whether the words said anything about when."""
        return bool(self.windows or self.flexible or self.excluded or self.passed)

    def allows(self, start: datetime, end: datetime) -> bool:
        """Whether a call from `start` to `end` suits: inside a window, not
        ruled out."""
        if any(window.overlaps(start, end) for window in self.excluded):
            return False
        return any(window.contains(start, end) for window in self.windows)


# --- local time -----------------------------------------------------------


def local_datetime(day: date, clock: time, tz: ZoneInfo = LONDON) -> datetime:
    """The UTC instant of a wall-clock time on a local day.

    A time that the clocks skip in spring (01:30 on the last Sunday of March)
    is taken as an hour later; a time that happens twice in autumn is the
    first of the two.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(timezone.utc)


def _at_minute(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime:
    days, minute = divmod(minute_of_day, 1440)
    return local_datetime(day + timedelta(days=days), time(*divmod(minute, 60)), tz)


# --- windows --------------------------------------------------------------


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Windows sorted, with overlapping or touching ones joined."""
    merged: list[Window] = []
    for window in sorted(windows):
        if merged and window.start <= merged[-1].end:
            if window.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, window.end)
        else:
            merged.append(window)
    return merged


def subtract_windows(
    windows: Iterable[Window], holes: Iterable[Window]
) -> list[Window]:
    """What is left of `windows` once every hole is cut out of them."""
    holes = merge_windows(holes)
    left: list[Window] = []
    for window in merge_windows(windows):
        start = window.start
        for hole in holes:
            if hole.end <= start or hole.start >= window.end:
                continue
            if hole.start > start:
                left.append(Window(start, hole.start))
            start = max(start, hole.end)
            if start >= window.end:
                break
        if start < window.end:
            left.append(Window(start, window.end))
    return left


def clip_windows(windows: Iterable[Window], not_before: datetime) -> list[Window]:
    """Windows with everything before `not_before` cut off."""
    return [
        Window(max(window.start, not_before), window.end)
        for window in windows
        if window.end > not_before
    ]


# --- from tokens to a request ---------------------------------------------


def _windows_on(
    day: date, spans: list[tuple[int, int, int | None]], tz: ZoneInfo
) -> list[Window]:
    return [Window(_at_minute(day, a, tz), _at_minute(day, b, tz)) for a, b, _ in spans]


def understand_when(
    text: str,
    now: datetime,
    tz: ZoneInfo = LONDON,
    horizon_days: int = HORIZON_DAYS,
) -> WhenRequest:
    """What a resident's words say about when a call would suit.

    Args:
        text: the resident's words, as typed or heard.
        now: the current time, aware; every day word is counted from it.
        tz: the time zone the words are meant in.
        horizon_days: how many days ahead "whenever" and "Mondays" reach.

    Returns:
        The request; `understood` is False if the words said nothing of when.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(timezone.utc)
    today = now.astimezone(tz).date()
    horizon = [today + timedelta(days=n) for n in range(horizon_days)]
    tokens = _tokens(normalise(text), now, tz, horizon_days)
    groups = _groups(tokens)
    flexible = any(t.kind == "flexible" for t in tokens)
    wanted = [g for g in groups if not g.negative]
    ruled_out = [g for g in groups if g.negative]

    windows: list[Window] = []
    preferred: datetime | None = None
    passed = False
    for group in wanted:
        if group.moment is not None:
            length = timedelta(minutes=EXACT_TIME_MINUTES)
            windows.append(Window(group.moment, group.moment + length))
            preferred = preferred or group.moment
            continue
        spans = _spans(group)
        if group.days:
            days = group.days
        elif flexible or group.plural_parts:
            days = horizon
        else:
            days = [_first_day_with_time(today, spans, now, tz)]
        for day in days:
            for window in _windows_on(day, spans, tz):
                if window.end <= now:
                    passed = passed or len(days) == 1
                windows.append(window)
        exact = [s for s in spans if s[2] is not None]
        if preferred is None and exact and days:
            moment = _at_minute(days[0], exact[0][2], tz)
            if moment > now:
                preferred = moment
            else:
                passed = True

    if not wanted and (flexible or ruled_out):
        flexible = True
        windows = [
            w for day in horizon for w in _windows_on(day, _spans(_Group(False)), tz)
        ]

    excluded_days: list[date] = []
    excluded: list[Window] = []
    window_days = {w.start.astimezone(tz).date() for w in windows} | set(horizon)
    for group in ruled_out:
        spans = _spans(group)
        if group.days and not group.says_a_time:
            excluded_days.extend(group.days)
        for day in group.days or sorted(window_days):
            excluded.extend(_windows_on(day, spans, tz))

    excluded = merge_windows(excluded)
    windows = clip_windows(subtract_windows(windows, excluded), now)
    if preferred is not None and not any(w.contains(preferred) for w in windows):
        preferred = None
    every_weeks = next((t.every_weeks for t in tokens if t.kind == "every"), None)
    if every_weeks and not any(g.weekday for g in wanted):
        every_weeks = None  # "every morning": only weekly calls are booked
    return WhenRequest(
        windows=tuple(windows),
        excluded_days=tuple(sorted(set(excluded_days))),
        excluded=tuple(excluded),
        flexible=flexible,
        preferred=preferred,
        every_weeks=every_weeks,
        passed=passed and not windows,
    )


def _first_day_with_time(
    today: date, spans: list[tuple[int, int, int | None]], now: datetime, tz: ZoneInfo
) -> date:
    """Today, if the time asked for is still to come today; otherwise tomorrow."""
    for window, span in zip(_windows_on(today, spans, tz), spans, strict=True):
        if span[2] is not None:
            if _at_minute(today, span[2], tz) > now:
                return today
        elif window.end - max(window.start, now) >= ENOUGH_LEFT_TODAY:
            return today
    return today + timedelta(days=1)


def anytime(
    now: datetime,
    tz: ZoneInfo = LONDON,
    horizon_days: int = HORIZON_DAYS,
    preferred: datetime | None = None,
) -> WhenRequest:
    """Any time in the calling day over the coming days, nearest `preferred`
    if given: for offering a new time after a missed call."""
    return replace(
        understand_when("whenever", now, tz, horizon_days), preferred=preferred
    )


# --- saying times back ----------------------------------------------------

PART_PHRASES = {
    "first thing": "first thing", "before lunch": "before lunch",
    "after lunch": "after lunch", "after tea": "after tea",
    "lunchtime": "at lunchtime", "teatime": "at teatime",
}  # fmt: skip
SIMPLE_PARTS = ("morning", "afternoon", "evening")


def _part_phrase(name: str) -> str:
    if name in PART_PHRASES:
        return PART_PHRASES[name]
    if " " in name:
        how, part = name.split()
        return f"{how} in the {part}"
    return f"in the {name}"


def _part_of(window: Window, today: date, tz: ZoneInfo) -> str | None:
    """The part of the day a window is ("morning"), "day" for the whole calling
    day, or None. Today's parts may have begun already."""
    start, end = window.start.astimezone(tz), window.end.astimezone(tz)
    first, last = start.time(), end.time()
    begun = start.date() == today
    if start.date() != end.date():
        return None
    for name, (part_start, part_end) in [("day", CALLING_DAY), *PARTS_OF_DAY.items()]:
        if last == part_end and (first == part_start or begun and first > part_start):
            return name
    return None


def describe_clock(clock: time) -> str:
    """ "2pm", "10:30am", "12 noon", "midnight"."""
    if clock.minute == 0 and clock.hour in (0, 12):
        return "12 noon" if clock.hour == 12 else "midnight"
    hour = clock.hour % 12 or 12
    minutes = f":{clock.minute:02d}" if clock.minute else ""
    return f"{hour}{minutes}{'am' if clock.hour < 12 else 'pm'}"


def describe_day(day: date, today: date) -> str:
    """ "today", "tomorrow", "Thursday 10 December", with the year if far off."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    said = f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"
    if day.year != today.year and abs((day - today).days) > 150:
        said += f" {day.year}"
    return said


def describe(moment: datetime, now: datetime, tz: ZoneInfo = LONDON) -> str:
    """A time in plain spoken words: "tomorrow at 2pm", "Thursday 10 December
    at 10:30am"."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    return f"{describe_day(local.date(), today)} at {describe_clock(local.time())}"


def describe_window(window: Window, now: datetime, tz: ZoneInfo = LONDON) -> str:
    """A window in plain words: "tomorrow morning", "this afternoon", "Thursday
    10 December at teatime", "Friday 11 December between 2pm and 4pm"."""
    today = now.astimezone(tz).date()
    start, end = window.start.astimezone(tz), window.end.astimezone(tz)
    day = describe_day(start.date(), today)
    part = _part_of(window, today, tz)
    if part == "day":
        return day
    if part in SIMPLE_PARTS and day in ("today", "tomorrow"):
        return f"this {part}" if day == "today" else f"tomorrow {part}"
    if part is not None:
        return f"{day} {_part_phrase(part)}"
    if start.date() != end.date():
        return (
            f"from {describe(window.start, now, tz)} to {describe(window.end, now, tz)}"
        )
    return (
        f"{day} between {describe_clock(start.time())} and {describe_clock(end.time())}"
    )


def _describe_many(windows: tuple[Window, ...], today: date, tz: ZoneInfo) -> str:
    """ "any morning from today to Sunday 20 December"."""
    parts = {_part_of(window, today, tz) for window in windows}
    first = describe_day(windows[0].start.astimezone(tz).date(), today)
    last = describe_day(windows[-1].start.astimezone(tz).date(), today)
    if len(parts) != 1 or None in parts:
        return ""
    part = parts.pop()
    if part == "day":
        which = "any day"
    else:
        which = (
            f"any {part}" if part in SIMPLE_PARTS else f"any day {_part_phrase(part)}"
        )
    return f"{which} from {first} to {last}"


def describe_request(
    request: WhenRequest, now: datetime, tz: ZoneInfo = LONDON, most: int = 3
) -> str:
    """A request read back: "tomorrow at 2pm", "tomorrow afternoon or Friday 11
    December in the morning", "whenever someone is free, but not Monday 14
    December", "every Tuesday morning, starting tomorrow". Empty if the request
    says nothing of when."""
    today = now.astimezone(tz).date()
    windows = request.windows
    if request.every_weeks and windows:
        first = windows[0]
        local = first.start.astimezone(tz)
        part = _part_of(first, today, tz)
        if request.preferred is not None:
            timing = f" at {describe_clock(request.preferred.astimezone(tz).time())}"
        elif part in SIMPLE_PARTS:
            timing = f" {part}"
        elif part not in (None, "day"):
            timing = f" {_part_phrase(part)}"
        elif part is None:
            timing = f" between {describe_clock(local.time())} and " + describe_clock(
                first.end.astimezone(tz).time()
            )
        else:
            timing = ""
        every = "every" if request.every_weeks == 1 else "every other"
        said = f"{every} {WEEKDAY_NAMES[local.weekday()]}{timing}, starting "
        said += describe_day(local.date(), today)
    elif request.preferred is not None:
        said = describe(request.preferred, now, tz)
    elif request.flexible and len(windows) > most:
        said = "whenever someone is free"
    elif len(windows) > most and _describe_many(windows, today, tz):
        said = _describe_many(windows, today, tz)
    else:
        said = " or ".join(describe_window(w, now, tz) for w in windows[:most])
        if len(windows) > most:
            said += " or later"
    ruled_out = _describe_days_off(request, today, tz)
    return f"{said}, but not {ruled_out}" if said and ruled_out else said


def _describe_days_off(request: WhenRequest, today: date, tz: ZoneInfo) -> str:
    """The days ruled out among those the windows span: "Monday 14 December",
    "Monday 14 December to Wednesday 16 December"."""
    if not request.windows:
        return ""
    first = request.windows[0].start.astimezone(tz).date()
    last = request.windows[-1].start.astimezone(tz).date()
    runs: list[list[date]] = []
    for day in request.excluded_days:
        if not first <= day <= last:
            continue
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    said = [
        describe_day(run[0], today)
        + (f" to {describe_day(run[-1], today)}" if len(run) > 1 else "")
        for run in runs
    ]
    return " or ".join(said)
