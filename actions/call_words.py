"""Reading answers about calls and saying call times back, in residents' words.

Which of the offered times an answer picks ("the second one", "the 2pm",
"Thursday", "I don't mind"), which booked call words point to ("Tuesday's
call"), and times said the way they are read aloud ("tomorrow at 12 noon, 1pm
or 2pm"). Nothing here touches the store.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.bookings import Booking
from assistant.when import describe, describe_clock, describe_day, understand_when
from assistant.when_words import MONTH_NAMES, WEEKDAY_NAMES

ANY_OF_THEM = re.compile(
    r"\b(?:(?:i )?don'?t mind|do not mind|any of (?:them|those)|either|"
    r"whichever|any one|any will do|not fussy|i'?m easy|you choose|you pick)\b"
)
NONE_OF_THEM = re.compile(
    r"\b(?:none|neither|no good|not any of|(?:doesn'?t|don'?t|won'?t|"
    r"wouldn'?t|does not|do not) suit|forget it|never mind|don'?t bother)\b"
)
POSITIONS = {
    "first": 0, "1st": 0, "earliest": 0, "soonest": 0, "second": 1, "2nd": 1,
    "middle": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
    "5th": 4, "last": -1, "latest": -1, "earlier one": 0, "later one": -1,
}  # fmt: skip
POSITION = re.compile(
    r"\b(first|1st|earliest|soonest|second|2nd|middle|third|3rd|fourth|4th|"
    r"fifth|5th|last|latest|earlier one|later one)\b"
    r"(?!\s+(?:thing|available|week|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|of))"
)
LONE_NUMBER = re.compile(r"^\W*(?:(?:number|option|the)\s+)?([1-9])(?:\s+please)?\W*$")
# Words that name a day, so that a time said with them is not moved to the
# day being talked about ("Friday at 2" stays Friday; "at 2" takes the day).
DAY_WORDS = re.compile(
    r"\b(?:today|tonight|this (?:morning|afternoon|evening)|tomorrow|tomorow|"
    r"tommorow|tmrw|weekend|(?:this|next) week|week today|"
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?s?|"
    r"\d{1,2}(?:st|nd|rd|th)|\d{1,2}/\d{1,2}|"
    + "|".join(name.lower() for name in MONTH_NAMES)
    + r")\b"
)
# Asking for a regular call ("every Tuesday", "a weekly chat").
REGULAR = re.compile(
    r"\b(?:every|each|weekly|regular(?:ly)?|once a week|fortnightly)\b"
)
FORTNIGHTLY = re.compile(r"\b(?:fortnight\w*|every other|every second)\b")
ALL_OF_THEM = re.compile(r"\b(?:all|for good|any more|anymore|no more)\b")
# Pointing at a regular call to stop it ("stop my weekly calls").
REGULAR_CALLS = re.compile(r"\b(?:every|each|weekly|regular|fortnightly|befriending)\b")
CALL_NOUN = re.compile(r"\b(?:call|chat|ring|natter|phone|appointment)\b")
NEW_TIME_AFTER = re.compile(r"\b(?:to|till|until|for)\b")
INSTEAD_OF = re.compile(r"\binstead of\b")


def join_or(items: list[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def join_and(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def before_words(offset: timedelta) -> str:
    """ "the day before", "an hour before", "2 hours before"."""
    minutes = int(offset.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "the day before" if days == 1 else f"{days} days before"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour before" if hours == 1 else f"{hours} hours before"
    return f"{minutes} minutes before"


def position_said(text: str, count: int) -> int | None:
    """The position an answer names ("the second one", "the last"), or None."""
    found = POSITION.search(text)
    if found is None:
        return None
    position = POSITIONS[found.group(1)]
    if position == -1:
        return count - 1
    return position if position < count else None


def say_times(
    starts: list[datetime], every_weeks: int | None, now: datetime, tz: ZoneInfo
) -> str:
    """Times to choose from: "tomorrow at 12 noon, 1pm or 2pm", "today at
    4pm or Friday 12 December at 10am", "every Tuesday at 10am or 11am,
    starting tomorrow"."""
    today = now.astimezone(tz).date()
    local = [start.astimezone(tz) for start in starts]
    one_day = len({moment.date() for moment in local}) == 1
    clocks = [describe_clock(moment.time()) for moment in local]
    day = describe_day(local[0].date(), today)
    if every_weeks:
        every = "every" if every_weeks == 1 else "every other"
        if one_day:
            weekday = WEEKDAY_NAMES[local[0].weekday()]
            return f"{every} {weekday} at {join_or(clocks)}, starting {day}"
        return join_or(
            [
                f"{every} {WEEKDAY_NAMES[moment.weekday()]} at {clock}, "
                f"starting {describe_day(moment.date(), today)}"
                for moment, clock in zip(local, clocks, strict=True)
            ]
        )
    if one_day:
        return f"{day} at {join_or(clocks)}"
    return join_or([describe(start, now, tz) for start in starts])


def options_meant(
    options: list[datetime], text: str, now: datetime, tz: ZoneInfo
) -> list[int]:
    """Which of the offered times an answer picks: by position, by time, by
    day. Several if it fits several ("Thursday"), none if it names none."""
    lowered = text.lower()
    if ANY_OF_THEM.search(lowered):
        return [0]
    position = position_said(lowered, len(options))
    if position is not None:
        return [position]
    request = understand_when(text, now, tz)
    if request.flexible and not request.excluded:
        return [0]
    if request.preferred is not None:
        exact = [n for n, start in enumerate(options) if start == request.preferred]
        if exact or DAY_WORDS.search(lowered):
            return exact
        clock = request.preferred.astimezone(tz).time()
        return [
            n for n, start in enumerate(options) if start.astimezone(tz).time() == clock
        ]
    if request.windows:
        return [
            n
            for n, start in enumerate(options)
            if any(window.contains(start) for window in request.windows)
        ]
    number = LONE_NUMBER.match(lowered)
    if number and 1 <= int(number.group(1)) <= len(options):
        return [int(number.group(1)) - 1]
    return []


def calls_meant(
    calls: list[Booking], text: str, now: datetime, tz: ZoneInfo
) -> list[Booking]:
    """The booked calls words point to ("Tuesday's call", "the 2pm one");
    all of them if the words name no time."""
    request = understand_when(text, now, tz)
    if not request.windows or request.flexible:
        return calls
    if request.preferred is not None:
        exact = [c for c in calls if c.start == request.preferred]
        if exact or DAY_WORDS.search(text.lower()):
            return exact
        clock = request.preferred.astimezone(tz).time()
        return [c for c in calls if c.start.astimezone(tz).time() == clock]
    days = {window.start.astimezone(tz).date() for window in request.windows}
    on_those_days = [c for c in calls if c.start.astimezone(tz).date() in days]
    if on_those_days or len(days) > 1:
        return on_those_days
    # "Tuesday's call" when the coming Tuesday has none: the next Tuesday
    # call there is, the soonest of a regular one.
    weekday = days.pop().weekday()
    same_weekday = [c for c in calls if c.start.astimezone(tz).weekday() == weekday]
    if len({c.series_id for c in same_weekday}) == 1:
        return same_weekday[:1]
    return same_weekday


def on_day(text: str, day: date, now: datetime, tz: ZoneInfo) -> str:
    """Words naming a time but no day ("the 3 o'clock", "at 3 instead")
    with `day` added, so they mean that day; other words as they are."""
    if not text or DAY_WORDS.search(text.lower()):
        return text
    alone = understand_when(text, now, tz)
    if not alone.understood or alone.flexible:
        return text
    said = f"{day.day} {MONTH_NAMES[day.month - 1]} {text}"
    return said if understand_when(said, now, tz).understood else text


def split_move(text: str, now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """Words about the call to move and words about its new time: "move
    Tuesday's call to Friday" is ("move Tuesday's call", "Friday"), "Friday
    instead of Tuesday" is ("Tuesday", "Friday")."""
    lowered = text.lower()
    instead = INSTEAD_OF.search(lowered)
    if instead:
        old, new = text[instead.end() :].strip(), text[: instead.start()].strip()
        return ("at " + old if old[:1].isdigit() else old), new
    noun = CALL_NOUN.search(lowered)
    begin = noun.end() if noun else 0
    for found in NEW_TIME_AFTER.finditer(lowered, begin):
        after = text[found.end() :].strip()
        if after[:1].isdigit():
            after = "at " + after
        if understand_when(after, now, tz).understood:
            return text[: found.start()].strip(), after
    return "", text
