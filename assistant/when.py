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

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
HORIZON_DAYS = 14
# When it is kind to ring an older resident, if they name no time at all.
CALLING_DAY = (time(9), time(20))
# "At 2" suits from 2 to 3; "about 2" from half past 1.
EXACT_TIME_MINUTES = 60
ROUGHLY_MINUTES = 30
# A part of the day counts as still to come today if this much of it is left.
ENOUGH_LEFT_TODAY = timedelta(minutes=30)

PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "first thing": (time(9), time(10)), "early morning": (time(8), time(10)),
    "late morning": (time(10, 30), time(12)), "morning": (time(9), time(12)),
    "before lunch": (time(9), time(12)), "lunchtime": (time(12), time(14)),
    "early afternoon": (time(12), time(14, 30)),
    "late afternoon": (time(15), time(17)), "after lunch": (time(13), time(17)),
    "afternoon": (time(12), time(17)), "teatime": (time(16), time(18)),
    "after tea": (time(18), time(20)), "early evening": (time(17), time(18, 30)),
    "evening": (time(17), time(20)),
}  # fmt: skip

WEEKDAY_NAMES = [
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
]  # fmt: skip
MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip


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


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


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


# --- words ----------------------------------------------------------------

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fifteen": 15, "twenty": 20, "twenty five": 25,
    "thirty": 30, "forty": 40, "forty five": 45, "a couple of": 2, "a few": 3,
    "half an": 0.5, "quarter": 15, "half": 30,
}  # fmt: skip
UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9,
}  # fmt: skip
ORDINAL_WORDS = {
    **UNITS, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
    **{f"twenty {word}": 20 + n for word, n in UNITS.items()},
    "thirty first": 31,
}  # fmt: skip
WEEKDAY_WORDS = {
    "monday": 0, "tuesday": 1, "tues": 1, "wednesday": 2, "weds": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
MONTH_WORDS = {name.lower(): n for n, name in enumerate(MONTH_NAMES, 1)} | {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


HOUR_WORD = _alternatives(
    word
    for word, n in NUMBER_WORDS.items()
    if n in range(1, 13) and " " not in word and word not in ("a", "an")
)
HOUR = rf"(?:1[0-2]|0?[1-9]|{HOUR_WORD})"
WEEKDAY = _alternatives(WEEKDAY_WORDS)
MONTH = _alternatives(MONTH_WORDS)
ORDINAL = _alternatives(ORDINAL_WORDS)
PART = _alternatives(PARTS_OF_DAY)
NOT_A_CLOCK = r"(?![\w/:])(?!\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|of\b))"


def _clock_pattern(name: str) -> str:
    return (
        rf"(?P<{name}_hour>\d{{1,2}}|{HOUR_WORD}|noon|midday)"
        rf"(?::(?P<{name}_minute>[0-5]\d))?(?:\s*(?P<{name}_meridiem>am|pm))?"
    )


# Tried in order at the start of each word; the first to match is taken.
# fmt: off
PATTERN_TEXTS = [
    ("flexible", r"(?:whenever|when ?ever|any ?time|any ?day|whatever suits|"
     r"when(?:ever)? (?:it )?suits|i don't mind|don't mind when|no preference|"
     r"not fussy|i'm easy|as soon as (?:possible|you can|someone can)|asap|"
     r"soonest|first available|earliest|when (?:someone|anyone|somebody|anybody"
     r"|you)(?:'s| is|'re| are) free)\b"),
    ("alternative", r"(?:if not|otherwise|failing that|or else)\b"),
    ("negative", r"(?:not|except|apart from|other than|but not|can't|cannot|"
     r"can not|couldn't|won't|no good|busy|unavailable|(?:i'm|i am|i'll be|be|"
     r"going) (?:out|away)|no(?= (?:on )?(?:" + WEEKDAY + r")s?\b| (?:" + PART +
     r")s?\b)|(?:got|have|at|seeing|see) (?:the|a|an|my) (?:doctor|doctor's|gp|"
     r"dentist|hospital|appointment|optician|chiropodist|hairdresser))\b"),
    ("break", r"(?:but|though|although|because|cos|coz|as(?= i\b| i'| we\b)|"
     r"so(?! long)|then)\b"),
    ("every", r"(?:every|each)(?P<other> other| second)?(?: week| fortnight)?\b|"
     r"(?P<fortnightly>fortnightly)\b|weekly\b|once a week\b|regular(?:ly)?\b"),
    ("delta", r"in\s+(?:about\s+|around\s+)?(?P<amount>half an|a couple of|a few|"
     r"an|a|one|two|three|four|five|ten|fifteen|twenty five|twenty|thirty|forty "
     r"five|forty|\d{1,3})\s+(?P<unit>hours?|hrs?|minutes?|mins?)"
     r"(?P<half>\s+and\s+a\s+half)?\b"),
    ("range", r"(?:between|from)\s+" + _clock_pattern("a") +
     r"\s*(?:and|to|till|til|until|-)\s*" + _clock_pattern("b") + r"\b"),
    ("range", r"(?P<a_hour>\d{1,2})(?::(?P<a_minute>[0-5]\d))?\s*(?P<a_meridiem>"
     r"am|pm)?\s*(?P<separator>-|till|til|until|to)\s*(?P<b_hour>\d{1,2})"
     r"(?::(?P<b_minute>[0-5]\d))?\s*(?P<b_meridiem>am|pm)?(?![\w:])"),
    ("overmorrow", r"(?:(?:the\s+)?day\s+after\s+tomorrow|overmorrow)\b"),
    ("week_today", r"a\s+week\s+(?P<base>today|tomorrow)\b"),
    ("today", r"(?:later\s+)?today\b"),
    ("tomorrow", r"(?:tomorrow|tomorow|tommorow|tommorrow|tmrw|tmw|tomoz)\b"),
    ("date", r"(?:the\s+)?(?P<day>\d{1,2}|" + ORDINAL + r")(?:st|nd|rd|th)?\s+"
     r"(?:of\s+)?(?P<month>" + MONTH + r")\b(?:\s+(?P<year>20\d\d)\b)?"),
    ("date", r"(?P<month>" + MONTH + r")\s+(?:the\s+)?(?P<day>\d{1,2}|" + ORDINAL +
     r")(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>20\d\d)\b)?"),
    ("date", r"(?P<day>[0-3]?\d)/(?P<month>[01]?\d)(?:/(?P<year>(?:20)?\d\d))?"
     r"(?![\d/])"),
    ("date", r"(?:the\s+)?(?:(?P<day>[0-3]?\d)(?:st|nd|rd|th)|(?<=the )(?P<word>"
     + ORDINAL + r"))\b"),
    ("weekday", r"(?:(?P<modifier>this\s+coming|this|next|coming|last|on)\s+)?"
     r"(?P<day>" + WEEKDAY + r")(?P<plural>s)?\b(?P<week>\s+week\b)?"),
    ("weekdays", r"(?:weekdays|week\s+days|during\s+the\s+week)\b"),
    ("week", r"(?P<modifier>this|next|the\s+following)\s+week\b"),
    ("weekend", r"(?:(?P<modifier>this|next|the|at\s+the|over\s+the)\s+)?"
     r"weekends?\b"),
    ("part", r"(?:(?P<any>any|most)\s+)?(?P<part>" + PART + r")(?P<plural>s)?\b"),
    ("clock", r"(?:(?P<prefix>at|by|after|before|from|until|till|say|for)\s+)?"
     r"(?:(?P<approx>about|around|roughly|approximately|approx)\s+)?"
     r"(?:(?:a\s+)?(?P<rel_minutes>quarter|half|twenty five|twenty|ten|five|"
     r"\d{1,2})\s+(?:minutes\s+)?(?P<rel>past|to|after)\s+(?P<rel_hour>" + HOUR +
     r")|half\s+(?P<half_hour>" + HOUR + r")(?!\s*(?:an|hour|past))|"
     r"(?P<noon>(?:12\s*|twelve\s+)?(?:noon|midday))|(?P<hour>[01]?\d|2[0-3]|" +
     HOUR_WORD + r")(?::(?P<minute>[0-5]\d)|\s+(?P<minute_word>fifteen|thirty|"
     r"forty five))?)(?:\s*(?P<meridiem>am|pm))?(?P<oclock>\s*o'?clock)?"
     r"(?P<ish>\s*-?ish)?" + NOT_A_CLOCK),
]
# fmt: on
PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in PATTERN_TEXTS]
BOUNDS = {
    "after": "after",
    "from": "after",
    "before": "before",
    "by": "before",
    "until": "before",
    "till": "before",
}  # fmt: skip
# Phrases put in one form before reading.
REPLACEMENTS = [(re.compile(pattern), replacement) for pattern, replacement in [
    (r"\btea\s+time\b", "teatime"), (r"\blunch\s+time\b", "lunchtime"),
    (r"\bmid\s+day\b", "midday"), (r"\btonight\b", "today evening"),
    (r"\bthis (morning|afternoon|evening)\b", r"today \1"),
    (r"\b(tomorrow|" + WEEKDAY + r")\s+night\b", r"\1 evening"),
    (r"\bat night\b", "evening"),
    (r"\btomorrow or the day after\b(?! tomorrow)", "tomorrow or overmorrow"),
    (r"\b(" + WEEKDAY + r")(?:\s+of)?\s+next\s+week\b", r"next \1"),
    (r"\b(" + WEEKDAY + r")\s+this\s+week\b", r"this \1"),
    (r"\ba\s+week\s+on\s+(" + WEEKDAY + r")\b", r"\1 week"),
    (r"\b(" + WEEKDAY + r")'s\b", r"\1 is"),
    (r"\b(any ?(?:day|time)|whenever)\s+but\s+(?!not\b)", r"\1 except "),
    (r"\b(?:any|every) (morning|afternoon|evening)\b", r"\1s"),
    (r"\bmidday\b|\b12 noon\b|\btwelve noon\b", "noon"),
    (r"\b(\d{1,2})\s+o'?clock\b", r"\1 oclock"),
]]  # fmt: skip


def normalise(text: str) -> str:
    """Lower case, plain apostrophes, and a few phrases put in one form."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", text)
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
    text = re.sub(r"[!?]|\.(?=\s|$)", ",", text)
    text = re.sub(r"[\"()*]", " ", text)
    for pattern, replacement in REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


# --- reading the words into tokens ----------------------------------------


@dataclass(frozen=True)
class _Clock:
    """A time of day as said, before am or pm is settled."""

    hour: int
    minute: int = 0
    meridiem: str | None = None
    minutes_before: int = 0
    approximate: bool = False
    bound: str | None = None


@dataclass(frozen=True)
class _Token:
    kind: str
    clause: int
    days: tuple[date, ...] = ()
    weekday: bool = False
    date_said: bool = False
    plural: bool = False
    part: str | None = None
    clock: _Clock | None = None
    until: _Clock | None = None
    moment: datetime | None = None
    every_weeks: int = 1


def _number(word: str) -> float | None:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def _hour(word: str) -> int | None:
    if word in ("noon", "midday"):
        return 12
    value = _number(word)
    return int(value) if value is not None else None


def _next_weekday(today: date, weekday: int, include_today: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read_date(match: re.Match[str], today: date) -> date | None:
    groups = match.groupdict()
    day_word = groups.get("day") or groups.get("word")
    day = int(day_word) if day_word.isdigit() else ORDINAL_WORDS[day_word]
    month_said = groups.get("month")
    year_said = groups.get("year")
    if month_said is None:
        for ahead in range(13):
            month_index = today.month - 1 + ahead
            year, month = today.year + month_index // 12, month_index % 12 + 1
            found = _make_date(year, month, day)
            if found and found >= today:
                return found
        return None
    month = int(month_said) if month_said.isdigit() else MONTH_WORDS[month_said]
    if year_said:
        year = int(year_said)
        return _make_date(year + 2000 if year < 100 else year, month, day)
    found = _make_date(today.year, month, day)
    if found and found < today:
        found = _make_date(today.year + 1, month, day)
    return found


def _read_clock(match: re.Match[str], prefix: str = "") -> _Clock | None:
    """The time in a 'clock' or one end of a 'range' match, or None."""
    groups = match.groupdict()
    meridiem = groups.get(prefix + "meridiem")
    if prefix:
        hour = _hour(groups[prefix + "hour"])
        minute = int(groups.get(prefix + "minute") or 0)
        if hour is None or hour > 23 or (meridiem and hour > 12):
            return None
        return _Clock(hour, minute, meridiem)
    approximate = bool(groups["approx"] or groups["ish"])
    bound = BOUNDS.get(groups["prefix"] or "")
    if groups["noon"]:
        return _Clock(12, 0, "pm", 0, approximate, bound)
    if groups["rel_hour"]:
        hour, minutes = _hour(groups["rel_hour"]), _number(groups["rel_minutes"])
        if hour is None or minutes is None or minutes >= 60:
            return None
        if groups["rel"] == "to":
            return _Clock(hour, 0, meridiem, int(minutes), approximate, bound)
        return _Clock(hour, int(minutes), meridiem, 0, approximate, bound)
    if groups["half_hour"]:
        return _Clock(_hour(groups["half_hour"]), 30, meridiem, 0, approximate, bound)
    hour = _hour(groups["hour"])
    minute_word = groups["minute_word"]
    minute = int(groups["minute"] or NUMBER_WORDS.get(minute_word or "", 0))
    plain = not (groups["minute"] or minute_word or meridiem or groups["oclock"])
    if plain and not (groups["prefix"] or approximate):
        return None  # a bare number is not a time: "2 of them"
    if hour is None or (meridiem and not 1 <= hour <= 12) or (hour == 0 and plain):
        return None
    return _Clock(hour, minute, meridiem, 0, approximate, bound)


def _read_delta(match: re.Match[str], now: datetime) -> datetime:
    amount = _number(match["amount"]) or 1
    if match["half"]:
        amount += 0.5
    unit = timedelta(hours=1) if match["unit"].startswith("h") else timedelta(minutes=1)
    moment = now + unit * amount
    # Round up to five minutes: nobody says "at 2:07".
    seconds = (moment - moment.replace(minute=0, second=0, microsecond=0)).seconds
    return moment + timedelta(seconds=(-seconds) % 300)


def _tokens(text: str, now: datetime, tz: ZoneInfo, horizon: int) -> list[_Token]:
    today = now.astimezone(tz).date()
    span = [today + timedelta(days=n) for n in range(horizon)]
    tokens: list[_Token] = []
    clause = 0
    position = 0
    while position < len(text):
        character = text[position]
        if character in ",;":
            clause += 1
            position += 1
            continue
        if character.isspace() or (position and text[position - 1].isalnum()):
            position += 1
            continue
        for kind, pattern in PATTERNS:
            match = pattern.match(text, position)
            if not match or match.end() == position:
                continue
            token = _token(kind, match, clause, today, span, now)
            if token is None:
                continue
            if kind in ("break", "alternative"):
                clause += 1
            tokens.append(token)
            position = match.end()
            break
        else:
            position += 1
    return tokens


def _token(
    kind: str,
    match: re.Match[str],
    clause: int,
    today: date,
    span: list[date],
    now: datetime,
) -> _Token | None:
    """One token from one match, or None if the match is not what it seemed."""
    if kind in ("flexible", "alternative", "negative", "break"):
        return _Token(kind, clause)
    if kind == "every":
        other = match["other"] or match["fortnightly"] or "fortnight" in match[0]
        return _Token(kind, clause, every_weeks=2 if other else 1)
    if kind == "delta":
        return _Token("moment", clause, moment=_read_delta(match, now))
    if kind == "range":
        start, end = _read_clock(match, "a_"), _read_clock(match, "b_")
        if start is None or end is None:
            return None
        if match.groupdict().get("separator") == "to" and not (
            start.meridiem or end.meridiem
        ):
            return None  # "10 to 4" is ten to four, not ten till four
        return _Token("clock", clause, clock=start, until=end)
    if kind == "clock":
        clock = _read_clock(match)
        return None if clock is None else _Token("clock", clause, clock=clock)
    if kind == "part":
        plural = bool(match["plural"] or match["any"])
        return _Token("part", clause, part=match["part"], plural=plural)
    days = _days(kind, match, today, span)
    if days is None:
        return None
    return _Token(
        "day",
        clause,
        days=days,
        weekday=kind == "weekday",
        date_said=kind == "date",
        plural=len(days) > 1,
    )


def _days(
    kind: str, match: re.Match[str], today: date, span: list[date]
) -> tuple[date, ...] | None:
    if kind == "today":
        return (today,)
    if kind == "tomorrow":
        return (today + timedelta(days=1),)
    if kind == "overmorrow":
        return (today + timedelta(days=2),)
    if kind == "week_today":
        return (today + timedelta(days=7 if match["base"] == "today" else 8),)
    if kind == "date":
        found = _read_date(match, today)
        return None if found is None else (found,)
    if kind == "weekday":
        weekday = WEEKDAY_WORDS[match["day"]]
        modifier = " ".join((match["modifier"] or "").split())
        if match["plural"] and modifier != "next":
            return tuple(d for d in span if d.weekday() == weekday)
        if modifier == "next":
            return (_next_monday(today) + timedelta(days=weekday),)
        if modifier == "last":
            return (today - timedelta(days=(today.weekday() - weekday) % 7 or 7),)
        found = _next_weekday(today, weekday, include_today=modifier == "this")
        return (found + timedelta(days=7 if match["week"] else 0),)
    if kind == "weekdays":
        return tuple(d for d in span if d.weekday() < 5)
    monday = _next_monday(today)
    if kind == "week":
        if match["modifier"] == "this":
            return tuple(today + timedelta(days=n) for n in range(7 - today.weekday()))
        return tuple(monday + timedelta(days=n) for n in range(7))
    if kind == "weekend":
        if match["modifier"] == "next":
            return (monday + timedelta(days=5), monday + timedelta(days=6))
        if today.weekday() == 6:
            return (today,)
        saturday = _next_weekday(today, 5, include_today=True)
        return (saturday, saturday + timedelta(days=1))
    return None  # pragma: no cover - every day kind is handled above


# --- from tokens to a request ---------------------------------------------


@dataclass
class _Group:
    """Days with the times of day said about them, wanted or ruled out."""

    negative: bool
    days: list[date] = field(default_factory=list)
    weekday: bool = False
    parts: list[str] = field(default_factory=list)
    plural_parts: bool = False
    clocks: list[_Clock] = field(default_factory=list)
    ranges: list[tuple[_Clock, _Clock]] = field(default_factory=list)
    moment: datetime | None = None

    @property
    def says_a_time(self) -> bool:
        return bool(self.parts or self.clocks or self.ranges or self.moment)


def _negated(tokens: list[_Token]) -> set[int]:
    """Which tokens a "not" rules out: those after it in its clause ("any
    afternoon except Friday"), or, if none follow, those before ("Monday's no
    good")."""
    timing = ("day", "part", "clock", "moment")
    negated: set[int] = set()
    for index, token in enumerate(tokens):
        if token.kind == "negative":
            clause = [
                n
                for n, other in enumerate(tokens)
                if other.clause == token.clause and other.kind in timing
            ]
            negated.update([n for n in clause if n > index] or clause)
    return negated


def _groups(tokens: list[_Token]) -> list[_Group]:
    # "Thursday 10 December": the date says it all.
    tokens = [
        token
        for token, following in zip(tokens, [*tokens[1:], None], strict=False)
        if not (
            token.weekday
            and following is not None
            and following.date_said
            and following.clause == token.clause
        )
    ]
    negated = _negated(tokens)
    groups: list[_Group] = []
    for index, token in enumerate(tokens):
        if token.kind not in ("day", "part", "clock", "moment"):
            continue
        negative = index in negated
        current = groups[-1] if groups else None
        if token.kind == "moment":
            groups.append(_Group(negative, moment=token.moment))
            continue
        if current is None or current.negative != negative or current.moment:
            current = _Group(negative)
            groups.append(current)
        if token.kind == "day":
            if current.days and current.says_a_time:
                current = _Group(negative)
                groups.append(current)
            current.days.extend(d for d in token.days if d not in current.days)
            current.weekday = current.weekday or token.weekday
        elif token.kind == "part":
            current.parts.append(token.part)
            current.plural_parts = current.plural_parts or token.plural
        elif token.until is not None:
            current.ranges.append((token.clock, token.until))
        else:
            current.clocks.append(token.clock)
    return groups


def _narrowest(parts: list[str]) -> list[str]:
    """Parts of the day, leaving out any that holds another ("first thing in
    the morning" is first thing)."""

    def holds(outer: str, inner: str) -> bool:
        (a, b), (c, d) = PARTS_OF_DAY[outer], PARTS_OF_DAY[inner]
        return outer != inner and a <= c and d <= b

    return [p for p in dict.fromkeys(parts) if not any(holds(p, q) for q in parts)]


def _clock_minute(clock: _Clock, part: str | None) -> int:
    """Minutes after midnight, settling am or pm by the rules in the docstring."""
    hour = clock.hour
    if clock.meridiem == "am":
        hour = 0 if hour == 12 else hour
    elif clock.meridiem == "pm":
        hour = hour if hour == 12 else hour + 12
    elif 1 <= hour <= 12:
        later_in_day = PARTS_OF_DAY[part][0] >= time(12) if part else 1 <= hour <= 7
        if later_in_day and hour != 12:
            hour += 12
    return hour * 60 + clock.minute - clock.minutes_before


def _spans(group: _Group) -> list[tuple[int, int, int | None]]:
    """(from, to, exact) in minutes after midnight, for any one of the days."""
    parts = _narrowest(group.parts)
    part = parts[0] if parts else None
    if group.negative:
        day_from, day_to = 0, 1440
    else:
        day_from, day_to = (_minutes(t) for t in CALLING_DAY)
    if part:
        day_from, day_to = (_minutes(t) for t in PARTS_OF_DAY[part])
    spans: list[tuple[int, int, int | None]] = []
    for clock in group.clocks:
        minute = _clock_minute(clock, part)
        if clock.bound == "after":
            spans.append((minute, day_to if day_to > minute else 1440, None))
        elif clock.bound == "before":
            spans.append((day_from if day_from < minute else 0, minute, None))
        else:
            early = ROUGHLY_MINUTES if clock.approximate else 0
            spans.append((minute - early, minute + EXACT_TIME_MINUTES, minute))
    for start, end in group.ranges:
        first = _clock_minute(start, part)
        last = _clock_minute(end, part)
        if last <= first and end.meridiem is None and last < 720:
            last += 720
        spans.append((first, last, None))
    if not group.clocks and not group.ranges:
        for each in parts:
            spans.append((*(_minutes(t) for t in PARTS_OF_DAY[each]), None))
    if not spans:
        spans.append((day_from, day_to, None))
    return [span for span in spans if span[0] < span[1]]


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
