"""Tests of everyday dates and times: what residents say, and saying it back."""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.when import (
    LONDON,
    Window,
    describe,
    describe_request,
    describe_window,
    local_datetime,
    merge_windows,
    subtract_windows,
    understand_when,
)

# Monday 7 December 2026, 10am in London (GMT).
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)


def shown(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %H:%M")


def shown_window(window: Window) -> str:
    return f"{shown(window.start)}-{window.end.astimezone(LONDON):%H:%M}"


def case(
    text: str,
    *windows: str,
    count: int | None = None,
    preferred: str | None = None,
    flexible: bool = False,
    excluded: tuple[str, ...] = (),
    every: int | None = None,
    passed: bool = False,
    id: str | None = None,
):
    """One phrasing: the first windows expected (local), and what else holds."""
    expected = dict(
        windows=list(windows),
        count=len(windows) if count is None else count,
        preferred=preferred,
        flexible=flexible,
        excluded=list(excluded),
        every=every,
        passed=passed,
    )
    return pytest.param(text, expected, id=id or text)


PHRASES = [
    # The issue's own examples.
    case("could someone ring me Thursday afternoon", "Thu 10 Dec 12:00-17:00"),
    case(
        "I'd like a chat tomorrow at 2",
        "Tue 08 Dec 14:00-15:00",
        preferred="Tue 08 Dec 14:00",
    ),
    case(
        "whenever someone's free",
        "Mon 07 Dec 10:00-20:00",
        "Tue 08 Dec 09:00-20:00",
        count=14,
        flexible=True,
    ),
    case(
        "not Monday, I've got the doctor's",
        "Mon 07 Dec 10:00-20:00",
        count=13,
        flexible=True,
        excluded=("Mon 14 Dec",),
    ),
    # Days.
    case("today", "Mon 07 Dec 10:00-20:00"),
    case("tomorrow", "Tue 08 Dec 09:00-20:00"),
    case("tmrw", "Tue 08 Dec 09:00-20:00", id="tmrw-abbreviated"),
    case("the day after tomorrow", "Wed 09 Dec 09:00-20:00"),
    case("Thursday", "Thu 10 Dec 09:00-20:00"),
    case("on Thursday", "Thu 10 Dec 09:00-20:00"),
    case("this Thursday", "Thu 10 Dec 09:00-20:00"),
    case("thurs", "Thu 10 Dec 09:00-20:00", id="thurs-abbreviated"),
    case("next Thursday", "Thu 17 Dec 09:00-20:00", id="next-thursday-is-next-week"),
    case("Thursday week", "Thu 17 Dec 09:00-20:00"),
    case("Thursday next week", "Thu 17 Dec 09:00-20:00"),
    case("Monday", "Mon 14 Dec 09:00-20:00", id="monday-said-on-a-monday"),
    case("this Monday", "Mon 07 Dec 10:00-20:00", id="this-monday-said-on-a-monday"),
    case("a week today", "Mon 14 Dec 09:00-20:00"),
    case("next week", "Mon 14 Dec 09:00-20:00", "Tue 15 Dec 09:00-20:00", count=7),
    case("this week", "Mon 07 Dec 10:00-20:00", "Tue 08 Dec 09:00-20:00", count=7),
    case("this weekend", "Sat 12 Dec 09:00-20:00", "Sun 13 Dec 09:00-20:00"),
    case("at the weekend", "Sat 12 Dec 09:00-20:00", "Sun 13 Dec 09:00-20:00"),
    case("next weekend", "Sat 19 Dec 09:00-20:00", "Sun 20 Dec 09:00-20:00"),
    case("Mondays", "Mon 07 Dec 10:00-20:00", "Mon 14 Dec 09:00-20:00"),
    case("weekdays", "Mon 07 Dec 10:00-20:00", count=10),
    case("THURSDAY AFTERNOON", "Thu 10 Dec 12:00-17:00", id="shouted"),
    case("Thursday\u2019s fine", "Thu 10 Dec 09:00-20:00", id="curly-apostrophe"),
    # Dates.
    case("the 14th", "Mon 14 Dec 09:00-20:00"),
    case("the fourteenth", "Mon 14 Dec 09:00-20:00"),
    case("14th December", "Mon 14 Dec 09:00-20:00"),
    case("December 14th", "Mon 14 Dec 09:00-20:00"),
    case("14/12", "Mon 14 Dec 09:00-20:00", id="day-slash-month"),
    case("the 3rd", "Sun 03 Jan 09:00-20:00", id="the-3rd-has-gone-so-january"),
    case("5th January", "Tue 05 Jan 09:00-20:00", id="january-is-next-year"),
    case(
        "the 14th of December at 2",
        "Mon 14 Dec 14:00-15:00",
        preferred="Mon 14 Dec 14:00",
    ),
    case(
        "Wednesday 9 December at 2:30pm",
        "Wed 09 Dec 14:30-15:30",
        preferred="Wed 09 Dec 14:30",
        id="read-back-form",
    ),
    # Parts of the day.
    case("this morning", "Mon 07 Dec 10:00-12:00"),
    case("tomorrow morning", "Tue 08 Dec 09:00-12:00"),
    case("first thing tomorrow", "Tue 08 Dec 09:00-10:00"),
    case("tomorrow, first thing in the morning", "Tue 08 Dec 09:00-10:00"),
    case("afternoon", "Mon 07 Dec 12:00-17:00", id="afternoon-with-no-day-is-today"),
    case("lunchtime on Friday", "Fri 11 Dec 12:00-14:00"),
    case("after lunch on Friday", "Fri 11 Dec 13:00-17:00"),
    case("Wednesday teatime", "Wed 09 Dec 16:00-18:00"),
    case("tea time on Wednesday", "Wed 09 Dec 16:00-18:00"),
    case("tomorrow evening", "Tue 08 Dec 17:00-20:00"),
    case("tonight", "Mon 07 Dec 17:00-20:00"),
    case("Friday night", "Fri 11 Dec 17:00-20:00"),
    case("any morning", "Mon 07 Dec 10:00-12:00", "Tue 08 Dec 09:00-12:00", count=14),
    case("every morning", "Mon 07 Dec 10:00-12:00", count=14, id="every-morning"),
    # Times.
    case("at 2", "Mon 07 Dec 14:00-15:00", preferred="Mon 07 Dec 14:00"),
    case("at 7", "Mon 07 Dec 19:00-20:00", preferred="Mon 07 Dec 19:00"),
    case(
        "at 8",
        "Tue 08 Dec 08:00-09:00",
        preferred="Tue 08 Dec 08:00",
        id="8am-has-gone-so-tomorrow",
    ),
    case("at 2pm tomorrow", "Tue 08 Dec 14:00-15:00", preferred="Tue 08 Dec 14:00"),
    case("tomorrow at 10", "Tue 08 Dec 10:00-11:00", preferred="Tue 08 Dec 10:00"),
    case("tomorrow at 9am", "Tue 08 Dec 09:00-10:00", preferred="Tue 08 Dec 09:00"),
    case("tomorrow at 9 a.m.", "Tue 08 Dec 09:00-10:00", preferred="Tue 08 Dec 09:00"),
    case(
        "at 8 tomorrow evening",
        "Tue 08 Dec 20:00-21:00",
        preferred="Tue 08 Dec 20:00",
    ),
    case(
        "at 7 in the morning tomorrow",
        "Tue 08 Dec 07:00-08:00",
        preferred="Tue 08 Dec 07:00",
    ),
    case("tomorrow 3 o'clock", "Tue 08 Dec 15:00-16:00", preferred="Tue 08 Dec 15:00"),
    case("at 2.30 tomorrow", "Tue 08 Dec 14:30-15:30", preferred="Tue 08 Dec 14:30"),
    case("tomorrow at 14:30", "Tue 08 Dec 14:30-15:30", preferred="Tue 08 Dec 14:30"),
    case(
        "half past ten tomorrow",
        "Tue 08 Dec 10:30-11:30",
        preferred="Tue 08 Dec 10:30",
    ),
    case(
        "half ten tomorrow",
        "Tue 08 Dec 10:30-11:30",
        preferred="Tue 08 Dec 10:30",
        id="half-ten-is-10.30",
    ),
    case(
        "tomorrow at half two",
        "Tue 08 Dec 14:30-15:30",
        preferred="Tue 08 Dec 14:30",
    ),
    case(
        "quarter to three on Friday",
        "Fri 11 Dec 14:45-15:45",
        preferred="Fri 11 Dec 14:45",
    ),
    case(
        "quarter past nine tomorrow",
        "Tue 08 Dec 09:15-10:15",
        preferred="Tue 08 Dec 09:15",
    ),
    case(
        "twenty past four tomorrow",
        "Tue 08 Dec 16:20-17:20",
        preferred="Tue 08 Dec 16:20",
    ),
    case(
        "ten to four tomorrow",
        "Tue 08 Dec 15:50-16:50",
        preferred="Tue 08 Dec 15:50",
    ),
    case("11ish tomorrow", "Tue 08 Dec 10:30-12:00", preferred="Tue 08 Dec 11:00"),
    case(
        "tomorrow, around 11",
        "Tue 08 Dec 10:30-12:00",
        preferred="Tue 08 Dec 11:00",
    ),
    case(
        "about 3 on Wednesday", "Wed 09 Dec 14:30-16:00", preferred="Wed 09 Dec 15:00"
    ),
    case("noon tomorrow", "Tue 08 Dec 12:00-13:00", preferred="Tue 08 Dec 12:00"),
    case("midday on Friday", "Fri 11 Dec 12:00-13:00", preferred="Fri 11 Dec 12:00"),
    case("12 noon on Friday", "Fri 11 Dec 12:00-13:00", preferred="Fri 11 Dec 12:00"),
    case("in an hour", "Mon 07 Dec 11:00-12:00", preferred="Mon 07 Dec 11:00"),
    case("in half an hour", "Mon 07 Dec 10:30-11:30", preferred="Mon 07 Dec 10:30"),
    case("in 2 hours", "Mon 07 Dec 12:00-13:00", preferred="Mon 07 Dec 12:00"),
    case(
        "in an hour and a half",
        "Mon 07 Dec 11:30-12:30",
        preferred="Mon 07 Dec 11:30",
    ),
    # Ranges and bounds.
    case("between 2 and 4 on Friday", "Fri 11 Dec 14:00-16:00"),
    case("Friday between 10 and 12", "Fri 11 Dec 10:00-12:00"),
    case("from 10 till 12 on Friday", "Fri 11 Dec 10:00-12:00"),
    case("2-4pm tomorrow", "Tue 08 Dec 14:00-16:00"),
    case("after 3 tomorrow", "Tue 08 Dec 15:00-20:00"),
    case("before 11 tomorrow", "Tue 08 Dec 09:00-11:00"),
    case("tomorrow after 7 in the evening", "Tue 08 Dec 19:00-20:00"),
    # Alternatives and exclusions.
    case(
        "Thursday or Friday afternoon",
        "Thu 10 Dec 12:00-17:00",
        "Fri 11 Dec 12:00-17:00",
    ),
    case(
        "tomorrow afternoon or Friday morning",
        "Tue 08 Dec 12:00-17:00",
        "Fri 11 Dec 09:00-12:00",
    ),
    case(
        "tomorrow at 2, if not Thursday",
        "Tue 08 Dec 14:00-15:00",
        "Thu 10 Dec 09:00-20:00",
        preferred="Tue 08 Dec 14:00",
    ),
    case(
        "Tuesday or Wednesday, not Thursday",
        "Tue 08 Dec 09:00-20:00",
        "Wed 09 Dec 09:00-20:00",
        excluded=("Thu 10 Dec",),
    ),
    case(
        "any day but Monday",
        "Mon 07 Dec 10:00-20:00",
        count=13,
        flexible=True,
        excluded=("Mon 14 Dec",),
    ),
    case(
        "Monday's no good",
        "Mon 07 Dec 10:00-20:00",
        count=13,
        flexible=True,
        excluded=("Mon 14 Dec",),
    ),
    case(
        "I can't do mornings",
        "Mon 07 Dec 12:00-20:00",
        "Tue 08 Dec 12:00-20:00",
        count=14,
        flexible=True,
    ),
    case(
        "not in the morning",
        "Mon 07 Dec 12:00-20:00",
        count=14,
        flexible=True,
    ),
    case(
        "whenever, but not before 11",
        "Mon 07 Dec 11:00-20:00",
        "Tue 08 Dec 11:00-20:00",
        count=14,
        flexible=True,
    ),
    case("any time tomorrow", "Tue 08 Dec 09:00-20:00", flexible=True),
    case(
        "any afternoon except Friday",
        "Mon 07 Dec 12:00-17:00",
        count=13,
        excluded=("Fri 11 Dec",),
        id="except-rules-out-only-what-follows",
    ),
    case(
        "Thursday not Friday",
        "Thu 10 Dec 09:00-20:00",
        excluded=("Fri 11 Dec",),
    ),
    case(
        "not this week, next week is better",
        "Mon 14 Dec 09:00-20:00",
        count=7,
        excluded=tuple(
            f"{d} {n:02d} Dec"
            for d, n in zip(
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                range(7, 14),
                strict=True,
            )
        ),
    ),  # fmt: skip
    case(
        "I'm out all day Wednesday",
        "Mon 07 Dec 10:00-20:00",
        "Tue 08 Dec 09:00-20:00",
        "Thu 10 Dec 09:00-20:00",
        count=13,
        flexible=True,
        excluded=("Wed 09 Dec",),
    ),
    case(
        "I'm at the hospital on the 14th",
        "Mon 07 Dec 10:00-20:00",
        count=13,
        flexible=True,
        excluded=("Mon 14 Dec",),
    ),
    case(
        "can't do the 10th",
        "Mon 07 Dec 10:00-20:00",
        count=13,
        flexible=True,
        excluded=("Thu 10 Dec",),
    ),
    case(
        "tomorrow or the day after",
        "Tue 08 Dec 09:00-20:00",
        "Wed 09 Dec 09:00-20:00",
    ),
    case(
        "sometime next week in the morning please",
        "Mon 14 Dec 09:00-12:00",
        count=7,
    ),
    case(
        "ring me at 2 for 20 minutes",
        "Mon 07 Dec 14:00-15:00",
        preferred="Mon 07 Dec 14:00",
        id="minutes-after-for-are-a-length",
    ),
    case(
        "as soon as possible",
        "Mon 07 Dec 10:00-20:00",
        count=14,
        flexible=True,
    ),
    # Regular calls.
    case("every Tuesday morning", "Tue 08 Dec 09:00-12:00", every=1),
    case(
        "every other Thursday at 10am",
        "Thu 10 Dec 10:00-11:00",
        preferred="Thu 10 Dec 10:00",
        every=2,
    ),
    case("a weekly call on Fridays", "Fri 11 Dec 09:00-20:00", count=2, every=1),
    case("fortnightly on Fridays", "Fri 11 Dec 09:00-20:00", count=2, every=2),
    # Nothing, or nothing left.
    case("today at 9", count=0, passed=True, id="today-at-9-has-gone"),
    case("ring me please", count=0, id="no-time-said"),
    case("2 loaves of bread", count=0, id="numbers-that-are-not-times"),
]


@pytest.mark.parametrize("text, expected", PHRASES)
def test_when_understands_everyday_phrasing(text, expected):
    """Test that each everyday phrasing gives the windows and flags expected."""
    request = understand_when(text, NOW)

    windows = [shown_window(w) for w in request.windows]
    assert windows[: len(expected["windows"])] == expected["windows"]
    assert len(windows) == expected["count"]
    preferred = shown(request.preferred) if request.preferred else None
    assert preferred == expected["preferred"]
    assert request.flexible is expected["flexible"]
    assert [d.strftime("%a %d %b") for d in request.excluded_days] == expected[
        "excluded"
    ]
    assert request.every_weeks == expected["every"]
    assert request.passed is expected["passed"]


def test_when_phrase_table_is_broad():
    """Test that the table above keeps at least sixty phrasings."""
    assert len(PHRASES) >= 60


@pytest.mark.parametrize("weekday", range(7), ids=lambda d: f"said-on-day-{d}")
def test_when_next_thursday_is_always_in_the_following_week(weekday):
    """Test that "Thursday" is the coming one and "next Thursday" the one in
    next week, whichever day it is said on."""
    now = datetime(2026, 12, 7 + weekday, 10, tzinfo=LONDON)
    today = now.date()
    coming = understand_when("Thursday", now).windows[0].start.astimezone(LONDON)
    following = (
        understand_when("next Thursday", now).windows[0].start.astimezone(LONDON)
    )

    next_monday = today + timedelta(days=7 - today.weekday())
    assert coming.weekday() == following.weekday() == 3
    assert 1 <= (coming.date() - today).days <= 7
    assert next_monday <= following.date() < next_monday + timedelta(days=7)


def test_when_a_part_of_the_day_gone_by_is_tomorrow():
    """Test that "in the morning" said in the afternoon means tomorrow morning."""
    afternoon = datetime(2026, 12, 7, 15, tzinfo=LONDON)

    request = understand_when("in the morning", afternoon)

    assert [shown_window(w) for w in request.windows] == ["Tue 08 Dec 09:00-12:00"]


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        # Found by hypothesis: in 2027 the next 29 February is in 2028.
        (
            "Tuesday 29 February at 9am",
            datetime(2027, 10, 12, tzinfo=LONDON),
            datetime(2028, 2, 29, 9, tzinfo=LONDON),
        ),
        (
            "the 29th of February at 2pm",
            datetime(2026, 3, 1, 12, tzinfo=LONDON),
            datetime(2028, 2, 29, 14, tzinfo=LONDON),
        ),
        (
            "29 February at 10am",
            datetime(2028, 2, 1, 12, tzinfo=LONDON),
            datetime(2028, 2, 29, 10, tzinfo=LONDON),
        ),
    ],
)
def test_when_29_february_is_the_next_one_to_come(text, now, expected):
    """Test that a date that only some years have is the next one to come,
    not mistaken for the weekday alone or dropped."""
    assert understand_when(text, now).preferred == expected


def test_when_this_morning_said_in_the_afternoon_has_passed():
    """Test that asking for a time already gone is flagged, not moved."""
    request = understand_when("this morning", datetime(2026, 12, 7, 15, tzinfo=LONDON))

    assert request.windows == () and request.passed and request.understood


def test_when_needs_an_aware_now():
    """Test that a naive `now` is refused rather than guessed at."""
    with pytest.raises(ValueError):
        understand_when("tomorrow", datetime(2026, 12, 7, 10))


def test_when_windows_are_utc_across_the_spring_clock_change():
    """Test that 10am the day after the clocks go forward is 9am UTC."""
    saturday = datetime(2026, 3, 28, 12, tzinfo=LONDON)

    before = understand_when("today at 4", saturday).preferred
    after = understand_when("tomorrow at 10", saturday).preferred

    assert before == datetime(2026, 3, 28, 16, tzinfo=timezone.utc)
    assert after == datetime(2026, 3, 29, 9, tzinfo=timezone.utc)
    assert after.tzinfo is timezone.utc


def test_when_windows_are_utc_across_the_autumn_clock_change():
    """Test that 10am the day after the clocks go back is 10am UTC."""
    saturday = datetime(2026, 10, 24, 12, tzinfo=LONDON)

    assert understand_when("tomorrow at 10", saturday).preferred == datetime(
        2026, 10, 25, 10, tzinfo=timezone.utc
    )


def test_when_in_an_hour_counts_real_time_over_the_change():
    """Test that "in an hour" at 00:30 on the spring change is 02:30 local,
    an hour of real time later, not 01:30 (which never happens)."""
    night = datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)

    moment = understand_when("in an hour", night).preferred

    assert moment - night == timedelta(hours=1)
    assert moment.astimezone(LONDON).time() == time(2, 30)


# --- saying times back -----------------------------------------------------


@pytest.mark.parametrize(
    "moment, said",
    [
        (datetime(2026, 12, 7, 14, tzinfo=LONDON), "today at 2pm"),
        (datetime(2026, 12, 8, 10, 30, tzinfo=LONDON), "tomorrow at 10:30am"),
        (datetime(2026, 12, 10, 14, tzinfo=LONDON), "Thursday 10 December at 2pm"),
        (datetime(2026, 12, 11, 12, tzinfo=LONDON), "Friday 11 December at 12 noon"),
        (datetime(2027, 1, 4, 9, 15, tzinfo=LONDON), "Monday 4 January at 9:15am"),
        (datetime(2027, 6, 14, 15, tzinfo=LONDON), "Monday 14 June 2027 at 3pm"),
    ],
    ids=["today", "tomorrow", "this-week", "noon", "new-year", "far-off-has-year"],
)
def test_describe_says_times_in_plain_words(moment, said):
    """Test that a time is read back as a person would say it."""
    assert describe(moment, NOW) == said


@pytest.mark.parametrize(
    "phrase, said",
    [
        ("tomorrow morning", "tomorrow morning"),
        ("this afternoon", "this afternoon"),
        ("Thursday afternoon", "Thursday 10 December in the afternoon"),
        ("Wednesday teatime", "Wednesday 9 December at teatime"),
        ("tomorrow after lunch", "tomorrow after lunch"),
        ("between 2 and 4 on Friday", "Friday 11 December between 2pm and 4pm"),
        ("Thursday", "Thursday 10 December"),
    ],
)
def test_describe_window_says_parts_of_the_day(phrase, said):
    """Test that a window is read back by its part of the day where it has one."""
    window = understand_when(phrase, NOW).windows[0]

    assert describe_window(window, NOW) == said


@pytest.mark.parametrize(
    "phrase, said",
    [
        ("I'd like a chat tomorrow at 2", "tomorrow at 2pm"),
        (
            "tomorrow afternoon or Friday morning",
            "tomorrow afternoon or Friday 11 December in the morning",
        ),
        (
            "not Monday, I've got the doctor's",
            "whenever someone is free, but not Monday 14 December",
        ),
        ("every Tuesday morning", "every Tuesday morning, starting tomorrow"),
        (
            "every other Thursday at 10am",
            "every other Thursday at 10am, starting Thursday 10 December",
        ),
        ("next week", "any day from Monday 14 December to Sunday 20 December"),
        ("mornings", "any morning from today to Sunday 20 December"),
        (
            "not this week, next week is better",
            "any day from Monday 14 December to Sunday 20 December",
        ),
        (
            "I can't do Monday or Tuesday next week",
            "whenever someone is free, but not Monday 14 December to Tuesday "
            "15 December",
        ),
        ("ring me please", ""),
    ],
)
def test_describe_request_reads_back_the_whole_request(phrase, said):
    """Test that a request is read back in one sentence for the resident to
    confirm."""
    assert describe_request(understand_when(phrase, NOW), NOW) == said


# --- properties -----------------------------------------------------------

nows = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31)
).map(lambda d: d.replace(tzinfo=LONDON, second=0, microsecond=0))

fragments = st.lists(
    st.sampled_from(
        [
            "today", "tomorrow", "thursday", "next monday", "this friday",
            "saturday week", "next week", "the 14th", "3rd march", "mornings",
            "morning", "afternoon", "teatime", "evening", "after lunch", "at 2",
            "at half past ten", "quarter to three", "11ish", "noon", "at 7pm",
            "between 2 and 4", "after 3", "before 11", "in an hour", "not",
            "whenever", "but not", "or", "and", "every", ",", "if not",
            "i've got the doctor's", "can't do", "any day", "weekend",
        ]
    ),
    min_size=1,
    max_size=6,
).map(" ".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=fragments, now=nows)
def test_when_requests_are_always_well_formed(text, now):
    """Test that whatever is said, windows are aware UTC, sorted, apart, not
    before now, clear of every exclusion, and any preferred time is in one."""
    request = understand_when(text, now)

    for window in request.windows:
        assert window.start.utcoffset() == timedelta(0)
        assert now <= window.start < window.end
        assert not any(x.overlaps(window.start, window.end) for x in request.excluded)
        assert window.start.astimezone(LONDON).date() not in request.excluded_days
    for earlier, later in zip(request.windows, request.windows[1:], strict=False):
        assert earlier.end < later.start
    if request.preferred is not None:
        assert any(w.contains(request.preferred) for w in request.windows)


@settings(max_examples=300, deadline=None)
@given(
    now=nows,
    days_ahead=st.integers(min_value=0, max_value=300),
    half_hours=st.integers(min_value=18, max_value=39),
)
def test_when_a_read_back_time_is_understood_as_itself(now, days_ahead, half_hours):
    """Test that any time said back by `describe` is understood as that very
    time, across clock changes and the turn of the year."""
    day = now.date() + timedelta(days=days_ahead)
    moment = local_datetime(day, time(half_hours // 2, 30 * (half_hours % 2)))
    if moment <= now:
        return

    said = describe(moment, now)

    assert understand_when(said, now).preferred == moment, said


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    minute=st.integers(min_value=0, max_value=1439),
)
def test_local_time_round_trips_through_utc(day, minute):
    """Test that a local wall-clock time survives the trip to UTC and back,
    except in the hour the clocks skip in spring."""
    clock = time(minute // 60, minute % 60)

    local = local_datetime(day, clock).astimezone(LONDON)

    if local.date() == day and local.time() == clock:
        return
    skipped = datetime.combine(day, clock, tzinfo=LONDON)
    assert skipped.astimezone(timezone.utc).astimezone(LONDON).time() != clock


window_starts = st.integers(min_value=0, max_value=200)
windows = st.lists(
    st.tuples(window_starts, st.integers(min_value=1, max_value=40)), max_size=8
).map(
    lambda pairs: [
        Window(
            NOW + timedelta(minutes=15 * start),
            NOW + timedelta(minutes=15 * (start + length)),
        )
        for start, length in pairs
    ]
)


@given(kept=windows, holes=windows)
def test_window_arithmetic_keeps_exactly_what_is_outside_the_holes(kept, holes):
    """Test that subtracting windows keeps every quarter hour that was in a
    window and in no hole, and nothing else."""
    left = subtract_windows(kept, holes)

    for quarter in range(0, 260):
        moment = NOW + timedelta(minutes=15 * quarter)
        inside = any(w.contains(moment) for w in kept)
        holed = any(h.contains(moment) for h in holes)
        assert any(w.contains(moment) for w in left) == (inside and not holed)
    assert merge_windows(left) == left
