"""Reading words about when into tokens, then into days with the times said.

A token is one thing said (a day, a part of the day, a clock time); a group is
days with the times said about them, wanted or ruled out; a span is a stretch
of minutes after midnight. `assistant.when.understand_when` turns these into
windows, and its module docstring gives the rules for reading each phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from assistant.when_words import (
    BOUNDS,
    CALLING_DAY,
    EXACT_TIME_MINUTES,
    MONTH_WORDS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    PARTS_OF_DAY,
    PATTERNS,
    ROUGHLY_MINUTES,
    WEEKDAY_WORDS,
)


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


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
    # The next time that date comes round: 29 February may be years away.
    for year in range(today.year, today.year + 5):
        found = _make_date(year, month, day)
        if found and found >= today:
            return found
    return None


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


# --- grouping tokens into days and times ----------------------------------


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
    """Minutes after midnight, settling am or pm by the rules in the docstring
    of `assistant.when`."""
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
