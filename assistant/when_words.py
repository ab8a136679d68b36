"""The words residents use for days and times, and the patterns that find them.

The tables serve both reading words (`assistant.when_grammar`) and saying
times back (`assistant.when`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time

# When it is kind to ring an older resident, if they name no time at all.
CALLING_DAY = (time(9), time(20))
# "At 2" suits from 2 to 3; "about 2" from half past 1.
EXACT_TIME_MINUTES = 60
ROUGHLY_MINUTES = 30

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
