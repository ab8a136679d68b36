"""Tests of volunteers' weekly hours, days off, extra times and free slots."""

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.availability import (
    AvailabilityError,
    add_days_off,
    add_extra_time,
    add_time_off,
    add_weekly_hours,
    free_slots,
    free_volunteers,
    one_offs,
    parse_weekly_hours,
    remove_one_off,
    remove_weekly_hours,
    set_weekly_hours,
    weekly_hours,
)
from assistant.bookings import book_call
from assistant.residents import add_resident
from assistant.store import open_database
from assistant.when import LONDON, Window, local_datetime, subtract_windows

MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 6, 18, tzinfo=LONDON)


@pytest.fixture
def store(tmp_path):
    """A fresh store in a real SQLite file."""
    database = open_database(tmp_path / "availability.db")
    yield database
    database.close()


def add_volunteer(db, name: str, active: bool = True) -> int:
    """A volunteer row, without the cost of hashing a real password."""
    return (
        db["volunteers"]
        .insert(
            {
                "username": name,
                "display_name": name.title(),
                "role": "volunteer",
                "password_hash": "not-a-real-hash",
                "active": int(active),
                "created_at": "2026-01-01T00:00:00+00:00",
            }
        )
        .last_pk
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute))


def starts(slots) -> list[str]:
    return [slot.start.astimezone(LONDON).strftime("%a %H:%M") for slot in slots]


def test_weekly_hours_are_kept_and_listed(store):
    """Test that weekly hours are stored in local time and listed in order."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 3, time(14), time(16))
    add_weekly_hours(store, sam, 0, time(10), time(12))

    hours = weekly_hours(store, sam)

    assert [(h.weekday, h.starts, h.ends) for h in hours] == [
        (0, time(10), time(12)),
        (3, time(14), time(16)),
    ]
    assert hours[0].describe() == "Mondays, 10am to 12 noon"


def test_weekly_hours_replace_all_at_once(store):
    """Test that setting hours replaces the old ones in one go."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(12))

    set_weekly_hours(store, sam, [(1, time(9), time(11)), (2, time(13), time(15))])

    assert [h.weekday for h in weekly_hours(store, sam)] == [1, 2]


def test_weekly_hours_can_be_removed(store):
    """Test that one stretch of hours can be taken away by its id."""
    sam = add_volunteer(store, "sam")
    hours = add_weekly_hours(store, sam, 0, time(10), time(12))

    assert remove_weekly_hours(store, hours.id) is True
    assert remove_weekly_hours(store, hours.id) is False
    assert weekly_hours(store, sam) == []


@pytest.mark.parametrize(
    "weekday, opens, closes, code",
    [
        (0, time(12), time(10), "availability-invalid"),
        (0, time(10), time(10), "availability-invalid"),
        (7, time(10), time(12), "availability-invalid"),
    ],
    ids=["ends-before-it-starts", "no-length", "no-such-weekday"],
)
def test_weekly_hours_refuse_nonsense(store, weekday, opens, closes, code):
    """Test that impossible hours are refused with a stable code."""
    sam = add_volunteer(store, "sam")

    with pytest.raises(AvailabilityError) as raised:
        add_weekly_hours(store, sam, weekday, opens, closes)

    assert raised.value.code == code


def test_weekly_hours_need_a_real_volunteer(store):
    """Test that hours for an unknown volunteer are refused, not orphaned."""
    with pytest.raises(AvailabilityError) as raised:
        add_weekly_hours(store, 999, 0, time(10), time(12))

    assert raised.value.code == "availability-unknown-volunteer"


def test_set_weekly_hours_changes_nothing_if_one_is_wrong(store):
    """Test that a bad stretch among good ones leaves the old hours alone."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(12))

    with pytest.raises(AvailabilityError):
        set_weekly_hours(store, sam, [(1, time(9), time(11)), (2, time(15), time(13))])

    assert [h.weekday for h in weekly_hours(store, sam)] == [0]


@pytest.mark.parametrize(
    "text, hours",
    [
        ("Mon 10:00-12:00", [(0, time(10), time(12))]),
        ("monday 10-12, Thursday 14:30-16", [(0, time(10), time(12)),
                                            (3, time(14, 30), time(16))]),
        ("tue 9-11; wed 13-15", [(1, time(9), time(11)), (2, time(13), time(15))]),
        ("", []),
    ],
    ids=["one", "two-with-minutes", "semicolons", "none"],
)  # fmt: skip
def test_parse_weekly_hours_reads_what_coordinators_type(text, hours):
    """Test that typed hours become weekday and time triples."""
    assert parse_weekly_hours(text) == hours


@pytest.mark.parametrize(
    "text",
    ["Funday 10-12", "Mon 10", "Mon 25:00-26:00", "Mon 12-10"],
    ids=["not-a-day", "one-time", "no-such-hour", "backwards"],
)
def test_parse_weekly_hours_refuses_what_it_cannot_read(text):
    """Test that unreadable hours are refused with a message, not guessed."""
    with pytest.raises(AvailabilityError):
        parse_weekly_hours(text)


def test_free_slots_fill_weekly_hours_on_the_half_hour(store):
    """Test that a two-hour stretch gives four half-hour slots."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(12))

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    assert starts(slots) == ["Mon 10:00", "Mon 10:30", "Mon 11:00", "Mon 11:30"]
    assert all(slot.volunteer_ids == (sam,) for slot in slots)


def test_free_slots_have_a_configurable_length(store):
    """Test that longer calls give fewer slots, each wholly inside the hours."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(12))

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23), minutes=45)

    assert starts(slots) == ["Mon 10:00", "Mon 10:30", "Mon 11:00"]
    assert all(slot.end - slot.start == timedelta(minutes=45) for slot in slots)


def test_free_slots_start_on_the_grid_even_for_odd_hours(store):
    """Test that hours from 10:15 give slots from 10:30, not 10:15."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10, 15), time(11, 30))

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    assert starts(slots) == ["Mon 10:30", "Mon 11:00"]


def test_free_slots_are_shared_across_volunteers(store):
    """Test that a slot lists every volunteer free for it."""
    sam, jo = add_volunteer(store, "sam"), add_volunteer(store, "jo")
    add_weekly_hours(store, sam, 0, time(10), time(11))
    add_weekly_hours(store, jo, 0, time(10, 30), time(11, 30))

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    pairs = zip(starts(slots), [slot.volunteer_ids for slot in slots], strict=True)
    assert list(pairs) == [
        ("Mon 10:00", (sam,)),
        ("Mon 10:30", (sam, jo)),
        ("Mon 11:00", (jo,)),
    ]


def test_free_slots_leave_out_inactive_volunteers(store):
    """Test that a volunteer who has stopped is offered to nobody."""
    gone = add_volunteer(store, "gone", active=False)
    add_weekly_hours(store, gone, 0, time(10), time(12))

    assert free_slots(store, local(MONDAY, 0), local(MONDAY, 23)) == []


def test_days_off_take_whole_local_days_away(store):
    """Test that a holiday from Monday to Tuesday leaves Wednesday alone."""
    sam = add_volunteer(store, "sam")
    set_weekly_hours(store, sam, [(d, time(10), time(11)) for d in range(3)])
    add_days_off(store, sam, MONDAY, MONDAY + timedelta(days=1), "holiday")

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY + timedelta(days=3), 0))

    assert starts(slots) == ["Wed 10:00", "Wed 10:30"]
    assert one_offs(store, sam)[0].note == "holiday"


def test_time_off_takes_part_of_a_day_away(store):
    """Test that a dentist's appointment removes only the slots it overlaps."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(12))
    add_time_off(store, sam, local(MONDAY, 10, 45), local(MONDAY, 11, 15), "dentist")

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    assert starts(slots) == ["Mon 10:00", "Mon 11:30"]


def test_extra_time_adds_slots_outside_weekly_hours(store):
    """Test that a one-off afternoon is offered as well as the weekly hours."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(11))
    add_extra_time(store, sam, local(MONDAY, 15), local(MONDAY, 16))

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    assert starts(slots) == ["Mon 10:00", "Mon 10:30", "Mon 15:00", "Mon 15:30"]


def test_one_offs_can_be_listed_from_a_time_and_removed(store):
    """Test that past one-offs drop out of the list and one can be removed."""
    sam = add_volunteer(store, "sam")
    old = add_days_off(store, sam, date(2026, 1, 5))
    new = add_days_off(store, sam, date(2026, 12, 24), date(2026, 12, 26))

    assert [o.id for o in one_offs(store, sam, after=NOW)] == [new.id]
    assert remove_one_off(store, old.id) is True
    assert [o.id for o in one_offs(store)] == [new.id]


def test_one_offs_refuse_backwards_times(store):
    """Test that time away ending before it starts is refused."""
    sam = add_volunteer(store, "sam")

    with pytest.raises(AvailabilityError):
        add_time_off(store, sam, local(MONDAY, 12), local(MONDAY, 11))
    with pytest.raises(AvailabilityError):
        add_days_off(store, sam, MONDAY, MONDAY - timedelta(days=1))


def test_free_slots_leave_out_booked_calls(store):
    """Test that a booked call takes its slot from that volunteer only."""
    sam, jo = add_volunteer(store, "sam"), add_volunteer(store, "jo")
    for volunteer in (sam, jo):
        add_weekly_hours(store, volunteer, 0, time(10), time(11))
    ann = add_resident(store, "+447700900101", "Ann", "1 Road")
    call = book_call(store, ann.id, local(MONDAY, 10), NOW, volunteer_id=sam)

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23))

    assert [slot.volunteer_ids for slot in slots] == [(jo,), (sam, jo)]
    assert free_volunteers(store, call.start, call.end) == [jo]


def test_free_slots_leave_out_the_residents_own_calls(store):
    """Test that a resident is never offered a time they already have a call."""
    sam, jo = add_volunteer(store, "sam"), add_volunteer(store, "jo")
    for volunteer in (sam, jo):
        add_weekly_hours(store, volunteer, 0, time(10), time(11))
    ann = add_resident(store, "+447700900102", "Ann", "1 Road")
    book_call(store, ann.id, local(MONDAY, 10), NOW, volunteer_id=sam)

    slots = free_slots(store, local(MONDAY, 0), local(MONDAY, 23), resident_id=ann.id)

    assert starts(slots) == ["Mon 10:30"]


@pytest.mark.parametrize(
    "monday, utc_hour",
    [
        (date(2026, 3, 23), 10),
        (date(2026, 3, 30), 9),
        (date(2026, 10, 19), 9),
        (date(2026, 10, 26), 10),
    ],
    ids=["before-spring", "after-spring", "before-autumn", "after-autumn"],
)
def test_weekly_hours_stay_at_local_time_across_clock_changes(store, monday, utc_hour):
    """Test that Monday 10am is 10am on the wall clock either side of a change."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 0, time(10), time(10, 30))
    start = datetime.combine(monday, time(0), tzinfo=timezone.utc)

    slots = free_slots(store, start, start + timedelta(days=1))

    assert [slot.start for slot in slots] == [
        datetime.combine(monday, time(utc_hour), tzinfo=timezone.utc)
    ]
    assert slots[0].start.astimezone(LONDON).time() == time(10)


# --- properties -----------------------------------------------------------

quarter_hours = st.integers(min_value=32, max_value=80)  # 08:00 to 20:00
stretches = st.tuples(
    st.integers(min_value=0, max_value=6), quarter_hours, st.integers(1, 16)
)
one_off_times = st.tuples(
    st.integers(min_value=0, max_value=13), quarter_hours, st.integers(1, 24)
)


@settings(max_examples=60, deadline=None)
@given(
    hours=st.lists(stretches, min_size=1, max_size=5),
    away=st.lists(one_off_times, max_size=3),
    extra=st.lists(one_off_times, max_size=3),
    calls=st.lists(one_off_times, max_size=4),
    first_day=st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 1)),
    minutes=st.sampled_from([15, 30, 45, 60]),
)
def test_free_slots_are_exactly_the_free_time(
    hours, away, extra, calls, first_day, minutes
):
    """Test that free slots are inside weekly hours or extra times, clear of
    time away and booked calls, on the local half-hour grid, and that every
    such slot is offered."""
    db = open_database(Path(":memory:"))
    sam = add_volunteer(db, "sam")

    def stretch(day: int, quarter: int, quarters: int) -> Window:
        start = local(first_day + timedelta(days=day), 0)
        start += timedelta(minutes=15 * quarter)
        return Window(start, start + timedelta(minutes=15 * quarters))

    open_time = []
    for weekday, quarter, quarters in hours:
        closing = min(quarter + quarters, 95)
        opens = time(quarter // 4, 15 * (quarter % 4))
        closes = time(closing // 4, 15 * (closing % 4))
        add_weekly_hours(db, sam, weekday, opens, closes)
        for offset in range(-1, 16):
            day = first_day + timedelta(days=offset)
            if day.weekday() == weekday:
                open_time.append(Window(local_datetime(day, opens),
                                        local_datetime(day, closes)))  # fmt: skip
    for window in map(lambda a: stretch(*a), extra):
        add_extra_time(db, sam, window.start, window.end)
        open_time.append(window)
    taken = [stretch(*a) for a in away]
    for window in taken:
        add_time_off(db, sam, window.start, window.end)
    for number, window in enumerate(map(lambda c: stretch(*c), calls)):
        if any(w.overlaps(window.start, window.end) for w in taken[len(away) :]):
            continue  # a volunteer never has two calls at once
        taken.append(window)
        db["residents"].insert({"id": f"r{number}", "created_at": "2026-01-01"})
        db["call_bookings"].insert(
            {
                "resident_id": f"r{number}",
                "volunteer_id": sam,
                "starts_at": window.start.isoformat(),
                "ends_at": window.end.isoformat(),
                "status": "booked",
                "created_at": "2026-01-01",
                "updated_at": "2026-01-01",
            }
        )
    start, end = local(first_day, 0), local(first_day + timedelta(days=14), 0)
    free = subtract_windows(open_time, taken)
    length = timedelta(minutes=minutes)

    slots = free_slots(db, start, end, minutes=minutes)

    offered = {slot.start for slot in slots}
    for slot in slots:
        assert start <= slot.start and slot.end <= end
        assert slot.end - slot.start == length
        assert any(w.contains(slot.start, slot.end) for w in free)
    moment = start
    while moment + length <= end:
        fits = any(w.contains(moment, moment + length) for w in free)
        on_grid = moment.astimezone(LONDON).minute in (0, 30)
        assert (moment in offered) == (fits and on_grid)
        moment += timedelta(minutes=15)
    db.close()
