"""Reading residents' answers about calls, and the reminder settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from actions.call_words import (
    before_words,
    calls_meant,
    on_day,
    options_meant,
    say_times,
    split_move,
)
from assistant.bookings import Booking, ReminderPlan
from assistant.call_reminders import parse_reminder_offsets, reminder_plan
from assistant.when import LONDON, local_datetime

# Friday 4 December 2026, 9am in London.
NOW = datetime(2026, 12, 4, 9, tzinfo=LONDON)
THURSDAY = date(2026, 12, 10)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute))


THURSDAY_AFTERNOON = [at(THURSDAY, 12), at(THURSDAY, 13), at(THURSDAY, 14)]
SPREAD_OUT = [at(date(2026, 12, 4), 16), at(date(2026, 12, 5), 10), at(THURSDAY, 14)]


@pytest.mark.parametrize(
    ("options", "answer", "meant"),
    [
        pytest.param(THURSDAY_AFTERNOON, "the first", [0], id="the-first"),
        pytest.param(THURSDAY_AFTERNOON, "the second one please", [1], id="second-one"),
        pytest.param(THURSDAY_AFTERNOON, "the last one", [2], id="the-last"),
        pytest.param(THURSDAY_AFTERNOON, "the 1pm", [1], id="by-clock-time"),
        pytest.param(THURSDAY_AFTERNOON, "2 o'clock would be lovely", [2], id="oclock"),
        pytest.param(THURSDAY_AFTERNOON, "2", [1], id="a-bare-number-is-a-position"),
        pytest.param(THURSDAY_AFTERNOON, "I don't mind", [0], id="dont-mind"),
        pytest.param(THURSDAY_AFTERNOON, "whenever", [0], id="whenever"),
        pytest.param(THURSDAY_AFTERNOON, "Thursday", [0, 1, 2], id="all-on-that-day"),
        pytest.param(THURSDAY_AFTERNOON, "the 3 o'clock", [], id="none-at-3"),
        pytest.param(SPREAD_OUT, "tomorrow", [1], id="by-day"),
        pytest.param(SPREAD_OUT, "this afternoon", [0], id="this-afternoon"),
        pytest.param(SPREAD_OUT, "Thursday at 2", [2], id="day-and-time"),
        pytest.param(SPREAD_OUT, "Friday at 2", [], id="a-day-not-offered"),
        pytest.param(SPREAD_OUT, "first thing Monday", [], id="first-thing-is-a-time"),
        pytest.param(SPREAD_OUT, "hmm", [], id="no-answer-at-all"),
    ],
)
def test_options_meant_reads_position_time_and_day(options, answer, meant):
    """Test that an answer picks the offered times it names, and only those."""
    assert options_meant(options, answer, NOW, LONDON) == meant


def booking(number: int, start: datetime, series: int | None = None) -> Booking:
    return Booking(
        number, "res", 1, start, start + timedelta(minutes=30), "booked", series
    )


CALLS = [
    booking(1, at(date(2026, 12, 5), 14)),
    booking(2, at(date(2026, 12, 15), 10), series=7),
    booking(3, at(date(2026, 12, 22), 10), series=7),
]


@pytest.mark.parametrize(
    ("words", "meant"),
    [
        pytest.param("cancel my call", [1, 2, 3], id="no-time-means-all"),
        pytest.param("cancel tomorrow's call", [1], id="tomorrow"),
        pytest.param("the 2pm one", [1], id="by-clock"),
        pytest.param("Tuesday's call", [2], id="next-tuesday-with-a-call"),
        pytest.param("the call on the 22nd", [3], id="by-date"),
        pytest.param("Wednesday's call", [], id="a-day-with-none"),
    ],
)
def test_calls_meant_finds_the_booked_call_named(words, meant):
    """Test that words about a booked call point to it."""
    assert [c.id for c in calls_meant(CALLS, words, NOW, LONDON)] == meant


@pytest.mark.parametrize(
    ("words", "old", "new"),
    [
        pytest.param(
            "move Tuesday's call to Wednesday",
            "move Tuesday's call",
            "Wednesday",
            id="to-a-day",
        ),
        pytest.param(
            "can we move my call to ten to four",
            "can we move my call",
            "ten to four",
            id="ten-to-four-is-a-time",
        ),
        pytest.param(
            "could it be at 3 instead of 2", "at 2", "could it be at 3", id="instead-of"
        ),
        pytest.param("change the call to 3", "change the call", "at 3", id="to-3"),
        pytest.param(
            "I need to change the time of my call",
            "",
            "I need to change the time of my call",
            id="no-new-time",
        ),
    ],
)
def test_split_move_separates_the_call_from_its_new_time(words, old, new):
    """Test that a request to move a call is split into which call and when."""
    assert split_move(words, NOW, LONDON) == (old, new)


def test_on_day_puts_a_bare_time_on_the_day_talked_about():
    """Test that "at 3" means the day in question, and a day said stays."""
    assert on_day("at 3", THURSDAY, NOW, LONDON) == "10 December at 3"
    assert on_day("Friday at 3", THURSDAY, NOW, LONDON) == "Friday at 3"
    assert on_day("no thanks", THURSDAY, NOW, LONDON) == "no thanks"


@pytest.mark.parametrize(
    ("starts", "every", "said"),
    [
        pytest.param(
            THURSDAY_AFTERNOON,
            None,
            "Thursday 10 December at 12 noon, 1pm or 2pm",
            id="one-day",
        ),
        pytest.param(
            SPREAD_OUT[:2], None, "today at 4pm or tomorrow at 10am", id="two-days"
        ),
        pytest.param(
            THURSDAY_AFTERNOON[:2],
            1,
            "every Thursday at 12 noon or 1pm, starting Thursday 10 December",
            id="weekly",
        ),
        pytest.param(
            SPREAD_OUT[1:2],
            2,
            "every other Saturday at 10am, starting tomorrow",
            id="fortnightly",
        ),
    ],
)
def test_say_times_reads_well_aloud(starts, every, said):
    """Test how offered times are said: one day once, regular calls by weekday."""
    assert say_times(starts, every, NOW, LONDON) == said


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        pytest.param("1d,1h", (timedelta(days=1), timedelta(hours=1)), id="default"),
        pytest.param(
            "2 hours, 30m", (timedelta(hours=2), timedelta(minutes=30)), id="words"
        ),
        pytest.param("", (), id="none"),
        pytest.param("1h,1h", (timedelta(hours=1),), id="repeated"),
    ],
)
def test_reminder_offsets_are_read_from_a_setting(text, offsets):
    """Test that reminder settings are read, longest first."""
    assert parse_reminder_offsets(text) == offsets


@dataclass(frozen=True)
class SomeSettings:
    call_reminders: str = "2h"
    volunteer_reminders: str = "nonsense"


def test_reminder_plan_takes_what_settings_give_and_keeps_defaults():
    """Test that a plan uses settings where given and readable, else defaults."""
    assert reminder_plan(object()) == ReminderPlan()
    plan = reminder_plan(SomeSettings())
    assert plan.resident == (timedelta(hours=2),)
    assert plan.volunteer == ReminderPlan().volunteer
    assert [before_words(o) for o in ReminderPlan().resident] == [
        "the day before",
        "an hour before",
    ]
