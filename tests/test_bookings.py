"""Tests of booking calls: proposals, fair booking, never double-booking,
moving, cancelling, regular calls, reminders and missed calls."""

import threading
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.availability import add_days_off, add_weekly_hours, free_slots
from assistant.bookings import (
    BookingError,
    ReminderPlan,
    book_call,
    cancel_call,
    get_booking,
    move_call,
    upcoming_calls,
    volunteer_calls,
)
from assistant.call_outcomes import missed_call_text, offer_new_time, record_outcome
from assistant.call_proposals import describe_proposals, propose_times
from assistant.call_reminders import (
    pending_reminders,
    reminder_text,
    take_due_reminders,
)
from assistant.call_series import (
    book_series,
    cancel_series,
    extend_series,
    move_series,
    series_calls,
)
from assistant.outbound import queue_sms
from assistant.residents import add_resident
from assistant.store import open_database
from assistant.when import LONDON, describe, local_datetime, understand_when

# Monday 7 December 2026, 9am in London (GMT).
NOW = datetime(2026, 12, 7, 9, tzinfo=LONDON)
MONDAY = date(2026, 12, 7)
TUESDAY = date(2026, 12, 8)


@pytest.fixture
def store(tmp_path):
    """A fresh store in a real SQLite file."""
    database = open_database(tmp_path / "bookings.db")
    yield database
    database.close()


def add_volunteer(db, name: str, phone: str | None = None) -> int:
    """A volunteer row, without the cost of hashing a real password."""
    return (
        db["volunteers"]
        .insert(
            {
                "username": name,
                "display_name": f"{name.title()} Smith",
                "phone": phone,
                "role": "volunteer",
                "password_hash": "not-a-real-hash",
                "created_at": "2026-01-01T00:00:00+00:00",
            }
        )
        .last_pk
    )


def weekday_volunteer(db, name: str, *stretches: tuple[int, int]) -> int:
    """A volunteer free Monday to Friday in the given (from, to) hours."""
    volunteer = add_volunteer(db, name, "+447700900" + str(900 + len(name)))
    for weekday in range(5):
        for opens, closes in stretches or ((10, 12), (14, 16)):
            add_weekly_hours(db, volunteer, weekday, time(opens), time(closes))
    return volunteer


_numbers = iter(range(100, 100000))


def resident(db, name: str = "Ann Jones"):
    return add_resident(db, f"+447700{next(_numbers):06d}", name, "1 High Street")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time on a day; minutes past 59 run on into the next hours."""
    return local_datetime(day, time(hour + minute // 60, minute % 60))


def said(proposals) -> list[str]:
    return [describe(p.start, NOW) for p in proposals]


# --- proposing times -------------------------------------------------------


def test_propose_offers_just_the_time_asked_when_it_is_free(store):
    """Test that a free exact time comes back alone, marked as matching."""
    weekday_volunteer(store, "sam")
    ann = resident(store)

    proposals = propose_times(
        store, understand_when("tomorrow at 2", NOW), NOW, resident_id=ann.id
    )

    assert said(proposals) == ["tomorrow at 2pm"]
    assert proposals[0].matches_request


def test_propose_offers_nearest_times_either_side_when_asked_time_is_taken(store):
    """Test that a busy exact time brings the nearest free times, earlier
    and later, none of them marked as matching."""
    weekday_volunteer(store, "sam")
    ann, bob = resident(store), resident(store, "Bob")
    book_call(store, bob.id, at(TUESDAY, 14), NOW)

    proposals = propose_times(
        store, understand_when("tomorrow at 2", NOW), NOW, resident_id=ann.id
    )

    assert said(proposals) == [
        "tomorrow at 11:30am",
        "tomorrow at 2:30pm",
        "tomorrow at 3pm",
    ]
    assert not any(p.matches_request for p in proposals)


def test_propose_offers_times_before_and_after_a_time_nobody_works(store):
    """Test that 1pm, between two stretches of hours, gets one earlier and
    later choices."""
    weekday_volunteer(store, "sam")

    proposals = propose_times(store, understand_when("tomorrow at 1", NOW), NOW)

    assert said(proposals) == [
        "tomorrow at 11:30am",
        "tomorrow at 2pm",
        "tomorrow at 2:30pm",
    ]


def test_propose_spreads_times_across_a_window(store):
    """Test that "Thursday afternoon" offers times an hour apart inside it."""
    weekday_volunteer(store, "sam", (13, 17))

    request = understand_when("could someone ring me Thursday afternoon", NOW)
    proposals = propose_times(store, request, NOW)

    assert said(proposals) == [
        "Thursday 10 December at 1pm",
        "Thursday 10 December at 2pm",
        "Thursday 10 December at 3pm",
    ]
    assert all(p.matches_request for p in proposals)


def test_propose_for_a_day_nobody_works_offers_the_nearest_days(store):
    """Test that Saturday, with only weekday volunteers, gets Friday's last
    times and Monday's first."""
    weekday_volunteer(store, "sam")

    proposals = propose_times(store, understand_when("Saturday", NOW), NOW)

    assert said(proposals) == [
        "Friday 11 December at 3pm",
        "Friday 11 December at 3:30pm",
        "Monday 14 December at 10am",
    ]


def test_propose_never_offers_a_day_ruled_out(store):
    """Test that "not Monday" keeps every Monday slot out of the proposals."""
    weekday_volunteer(store, "sam")
    now = datetime(2026, 12, 11, 17, tzinfo=LONDON)  # Friday evening

    proposals = propose_times(
        store, understand_when("whenever, but not Monday", now), now
    )

    assert proposals
    assert all(p.start.astimezone(LONDON).weekday() != 0 for p in proposals)


def test_propose_gives_a_volunteer_notice(store):
    """Test that the soonest time offered is at least an hour away."""
    weekday_volunteer(store, "sam")
    now = datetime(2026, 12, 7, 10, 10, tzinfo=LONDON)

    proposals = propose_times(store, understand_when("as soon as possible", now), now)

    assert proposals[0].start >= now + timedelta(hours=1)
    assert describe(proposals[0].start, now) == "today at 11:30am"


def test_propose_offers_nothing_for_words_with_no_time(store):
    """Test that a request with no time in it gets no proposals to guess from."""
    weekday_volunteer(store, "sam")

    assert propose_times(store, understand_when("ring me", NOW), NOW) == []


def test_describe_proposals_joins_them_for_speech(store):
    """Test that proposals are read out as one list with "or"."""
    weekday_volunteer(store, "sam")

    proposals = propose_times(store, understand_when("tomorrow at 1", NOW), NOW)

    assert describe_proposals(proposals, NOW) == (
        "tomorrow at 11:30am, tomorrow at 2pm or tomorrow at 2:30pm"
    )


# --- booking ---------------------------------------------------------------


def test_book_call_books_a_free_volunteer_with_reminders(store):
    """Test that a booking is stored with a volunteer and its reminders due."""
    sam = weekday_volunteer(store, "sam")
    ann = resident(store)

    call = book_call(store, ann.id, at(TUESDAY, 14), NOW)

    assert (call.volunteer_id, call.status) == (sam, "booked")
    assert call.end - call.start == timedelta(minutes=30)
    assert pending_reminders(store, call.id) == [
        at(MONDAY, 14),
        at(TUESDAY, 13),
        at(TUESDAY, 13),
    ]
    assert upcoming_calls(store, ann.id, NOW) == [call]


def test_book_call_shares_calls_fairly_across_volunteers(store):
    """Test that each call goes to whoever has had fewest that week."""
    sam, jo = weekday_volunteer(store, "sam"), weekday_volunteer(store, "jo")
    residents = [resident(store, f"Resident {n}") for n in range(4)]

    given = [
        book_call(store, r.id, at(TUESDAY, 10, 30 * n), NOW).volunteer_id
        for n, r in enumerate(residents)
    ]

    assert sorted(given) == [sam, sam, jo, jo]
    assert given[0] != given[1]


def test_book_call_prefers_a_volunteer_when_asked(store):
    """Test that a preferred volunteer is used when free."""
    weekday_volunteer(store, "sam")
    jo = weekday_volunteer(store, "jo")
    ann = resident(store)

    call = book_call(store, ann.id, at(TUESDAY, 10), NOW, prefer_volunteer_id=jo)

    assert call.volunteer_id == jo


@pytest.mark.parametrize(
    "first, second, code",
    [
        ("other", 10, "booking-no-volunteer"),
        ("same", 10, "booking-resident-busy"),
        ("same", 13, "booking-no-volunteer"),
    ],
    ids=["volunteer-taken", "resident-has-a-call", "nobody-works-then"],
)
def test_book_call_refuses_what_cannot_be_done(store, first, second, code):
    """Test that a taken volunteer, a busy resident or an empty hour is refused."""
    weekday_volunteer(store, "sam")
    ann, bob = resident(store), resident(store, "Bob")
    book_call(store, ann.id, at(TUESDAY, 10), NOW)

    with pytest.raises(BookingError) as raised:
        book_call(store, (ann if first == "same" else bob).id, at(TUESDAY, second), NOW)

    assert raised.value.code == code


def test_book_call_refuses_too_little_notice_and_strangers(store):
    """Test that a call in five minutes, or for nobody we know, is refused."""
    weekday_volunteer(store, "sam")
    ann = resident(store)

    with pytest.raises(BookingError) as too_soon:
        book_call(store, ann.id, NOW + timedelta(minutes=5), NOW)
    with pytest.raises(BookingError) as stranger:
        book_call(store, "res_nobody", at(TUESDAY, 10), NOW)

    assert too_soon.value.code == "booking-too-soon"
    assert stranger.value.code == "booking-unknown-resident"


def test_book_call_for_a_busy_chosen_volunteer_is_refused(store):
    """Test that a coordinator's choice of a volunteer already booked fails."""
    sam = weekday_volunteer(store, "sam")
    weekday_volunteer(store, "jo")
    book_call(store, resident(store).id, at(TUESDAY, 10), NOW, volunteer_id=sam)

    with pytest.raises(BookingError) as raised:
        book_call(store, resident(store).id, at(TUESDAY, 10), NOW, volunteer_id=sam)

    assert raised.value.code == "booking-volunteer-busy"


def _race(path: Path, attempts: list) -> tuple[list, list]:
    """Run each attempt in its own thread, on its own connection, at once."""
    barrier = threading.Barrier(len(attempts))
    won, lost = [], []

    def attempt(book):
        db = open_database(path)
        try:
            barrier.wait()
            won.append(book(db))
        except BookingError as error:
            lost.append(error.code)
        finally:
            db.close()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return won, lost


def test_book_call_at_the_same_moment_never_double_books_a_volunteer(tmp_path):
    """Test that eight residents booking the one free slot at once, each on
    their own connection, leave one booking and seven refusals."""
    path = tmp_path / "race.db"
    db = open_database(path)
    weekday_volunteer(db, "sam", (10, 11))
    ids = [resident(db, f"Resident {n}").id for n in range(8)]
    db.close()

    won, lost = _race(
        path,
        [lambda d, r=r: book_call(d, r, at(TUESDAY, 10), NOW) for r in ids],
    )

    assert len(won) == 1 and lost == ["booking-no-volunteer"] * 7
    db = open_database(path)
    assert db.execute("SELECT count(*) FROM call_bookings").fetchone()[0] == 1
    db.close()


def test_book_call_at_the_same_moment_never_double_books_a_resident(tmp_path):
    """Test that one resident asking twice at once (SMS and tablet), with
    plenty of volunteers free, still gets one call."""
    path = tmp_path / "race.db"
    db = open_database(path)
    for n in range(6):
        weekday_volunteer(db, f"volunteer{n}")
    ann = resident(db).id
    db.close()

    won, lost = _race(
        path, [lambda d: book_call(d, ann, at(TUESDAY, 10), NOW) for _ in range(6)]
    )

    assert len(won) == 1 and lost == ["booking-resident-busy"] * 5


def test_volunteer_calls_lists_a_volunteers_day(store):
    """Test that a volunteer's calls for a day come back in time order."""
    sam = weekday_volunteer(store, "sam")
    later = book_call(store, resident(store).id, at(TUESDAY, 15), NOW)
    sooner = book_call(store, resident(store).id, at(TUESDAY, 10), NOW)

    calls = volunteer_calls(store, sam, at(TUESDAY, 0), at(TUESDAY, 23))

    assert calls == [sooner, later]


# --- moving and cancelling --------------------------------------------------


def test_move_call_keeps_the_call_and_its_volunteer(store):
    """Test that a moved call keeps its id and volunteer, remembers where it
    was, and has its reminders planned afresh."""
    sam = weekday_volunteer(store, "sam")
    weekday_volunteer(store, "jo")
    ann = resident(store)
    call = book_call(store, ann.id, at(TUESDAY, 10), NOW, volunteer_id=sam)

    moved = move_call(store, call.id, at(TUESDAY, 15), NOW)

    assert (moved.id, moved.volunteer_id, moved.start) == (
        call.id,
        sam,
        at(TUESDAY, 15),
    )
    assert moved.moved_from == at(TUESDAY, 10)
    assert pending_reminders(store, call.id) == [
        at(MONDAY, 15),
        at(TUESDAY, 14),
        at(TUESDAY, 14),
    ]


def test_move_call_to_a_taken_time_changes_nothing(store):
    """Test that a move that cannot be done leaves the call where it was."""
    weekday_volunteer(store, "sam")
    ann, bob = resident(store), resident(store, "Bob")
    call = book_call(store, ann.id, at(TUESDAY, 10), NOW)
    book_call(store, bob.id, at(TUESDAY, 15), NOW)

    with pytest.raises(BookingError) as raised:
        move_call(store, call.id, at(TUESDAY, 15), NOW)

    assert raised.value.code == "booking-no-volunteer"
    assert get_booking(store, call.id) == call
    assert len(pending_reminders(store, call.id)) == 3


def test_move_call_a_little_later_may_overlap_itself(store):
    """Test that moving a call by a quarter of an hour is not blocked by the
    call's own old time."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 10), NOW)

    moved = move_call(store, call.id, at(TUESDAY, 10, 15), NOW)

    assert moved.start == at(TUESDAY, 10, 15)


def test_cancel_call_frees_the_slot_and_stops_reminders(store):
    """Test that a cancelled call gives its slot back and sends no reminders."""
    weekday_volunteer(store, "sam", (10, 11))
    ann = resident(store)
    call = book_call(store, ann.id, at(TUESDAY, 10), NOW)

    cancelled = cancel_call(store, call.id, NOW)

    assert cancelled.status == "cancelled"
    assert pending_reminders(store, call.id) == []
    assert upcoming_calls(store, ann.id, NOW) == []
    assert book_call(store, resident(store, "Bob").id, at(TUESDAY, 10), NOW)
    with pytest.raises(BookingError) as raised:
        cancel_call(store, call.id, NOW)
    assert raised.value.code == "booking-closed"


def test_cancel_call_after_it_began_is_refused(store):
    """Test that a call under way cannot be cancelled, only recorded."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 10), NOW)

    with pytest.raises(BookingError) as raised:
        cancel_call(store, call.id, at(TUESDAY, 10, 5))

    assert raised.value.code == "booking-started"


def test_upcoming_calls_leave_out_calls_over_and_cancelled(store):
    """Test that a resident's upcoming calls are only those still to come."""
    weekday_volunteer(store, "sam")
    ann = resident(store)
    over = book_call(store, ann.id, at(TUESDAY, 10), NOW)
    cancelled = book_call(store, ann.id, at(TUESDAY, 11), NOW)
    kept = book_call(store, ann.id, at(TUESDAY, 15), NOW)
    cancel_call(store, cancelled.id, NOW)

    calls = upcoming_calls(store, ann.id, at(TUESDAY, 12))

    assert calls == [kept] and over not in calls


# --- regular calls ---------------------------------------------------------


def test_book_series_books_eight_weeks_with_one_volunteer(store):
    """Test that "every Tuesday at 10" books eight weekly calls, all with the
    volunteer of the first, for continuity."""
    weekday_volunteer(store, "sam")
    weekday_volunteer(store, "jo")
    ann = resident(store)

    result = book_series(store, ann.id, at(TUESDAY, 10), NOW)

    assert [c.start for c in result.booked] == [
        at(TUESDAY + timedelta(weeks=n), 10) for n in range(8)
    ]
    assert len({c.volunteer_id for c in result.booked}) == 1
    assert result.missed == ()
    assert result.series.booked_until == TUESDAY + timedelta(weeks=7)


@pytest.mark.parametrize(
    "first_tuesday, utc_hours",
    [
        (date(2026, 3, 17), [10, 10, 9, 9]),
        (date(2026, 10, 13), [9, 9, 10, 10]),
    ],
    ids=["march-clocks-go-forward", "october-clocks-go-back"],
)
def test_book_series_stays_at_10am_local_across_the_clock_change(
    store, first_tuesday, utc_hours
):
    """Test that a 10am weekly call is at 10am on the wall clock every week,
    across the last Sunday of March and of October."""
    add_weekly_hours_all_week = weekday_volunteer(store, "sam")
    assert add_weekly_hours_all_week
    now = datetime.combine(first_tuesday - timedelta(days=1), time(9), tzinfo=LONDON)

    result = book_series(
        store, resident(store).id, at(first_tuesday, 10), now, weeks_ahead=4
    )

    assert [c.start.hour for c in result.booked] == utc_hours
    assert {c.start.astimezone(LONDON).time() for c in result.booked} == {time(10)}
    assert all(c.start.tzinfo == timezone.utc for c in result.booked)


def test_book_series_books_around_a_volunteers_holiday(store):
    """Test that a week the regular volunteer is away goes to another one,
    and that a week nobody can take is reported as missed."""
    sam = weekday_volunteer(store, "sam")
    ann = resident(store)
    add_days_off(store, sam, TUESDAY + timedelta(weeks=2))
    jo = add_volunteer(store, "jo")
    add_weekly_hours(store, jo, 1, time(10), time(11))
    add_days_off(store, jo, TUESDAY + timedelta(weeks=2))
    add_days_off(store, sam, TUESDAY + timedelta(weeks=3))

    result = book_series(store, ann.id, at(TUESDAY, 10), NOW, volunteer_id=sam)

    assert result.missed == (at(TUESDAY + timedelta(weeks=2), 10),)
    by_week = {
        (c.start.date() - TUESDAY).days // 7: c.volunteer_id for c in result.booked
    }
    assert by_week[3] == jo
    assert {by_week[w] for w in by_week if w != 3} == {sam}


def test_cancelling_one_call_of_a_series_leaves_the_rest(store):
    """Test that one cancelled call of a series is not booked again when the
    series is topped up, and the others stay."""
    weekday_volunteer(store, "sam")
    result = book_series(store, resident(store).id, at(TUESDAY, 10), NOW)
    cancel_call(store, result.booked[1].id, NOW)

    extend_series(store, NOW)

    left = series_calls(store, result.series.id, NOW)
    assert [c.id for c in left] == [
        c.id for c in result.booked if c != result.booked[1]
    ]


def test_moving_one_call_of_a_series_moves_only_that_one(store):
    """Test that moving one week's call leaves the other weeks at 10am."""
    weekday_volunteer(store, "sam")
    result = book_series(store, resident(store).id, at(TUESDAY, 10), NOW)

    move_call(
        store, result.booked[2].id, at(TUESDAY + timedelta(weeks=2, days=1), 15), NOW
    )

    times = [c.start.astimezone(LONDON).strftime("%a %H:%M")
             for c in series_calls(store, result.series.id, NOW)]  # fmt: skip
    assert times.count("Tue 10:00") == 7 and times.count("Wed 15:00") == 1


def test_extend_series_keeps_eight_weeks_ahead_and_books_nothing_twice(store):
    """Test that the daily top-up adds the week that came into reach, once."""
    weekday_volunteer(store, "sam")
    result = book_series(store, resident(store).id, at(TUESDAY, 10), NOW)
    a_week_on = NOW + timedelta(weeks=1)

    first = extend_series(store, a_week_on)
    again = extend_series(store, a_week_on)

    assert [c.start for r in first for c in r.booked] == [
        at(TUESDAY + timedelta(weeks=8), 10)
    ]
    assert again == []
    assert len(series_calls(store, result.series.id, NOW)) == 9


def test_cancel_series_cancels_every_call_to_come(store):
    """Test that ending a series cancels its future calls and stops top-ups."""
    weekday_volunteer(store, "sam")
    ann = resident(store)
    result = book_series(store, ann.id, at(TUESDAY, 10), NOW)
    a_month_on = NOW + timedelta(weeks=4)

    cancelled = cancel_series(store, result.series.id, a_month_on)

    assert cancelled == 4
    assert extend_series(store, a_month_on) == []
    assert upcoming_calls(store, ann.id, a_month_on) == []
    assert get_booking(store, result.booked[0].id).status == "booked"


def test_move_series_moves_every_call_to_come(store):
    """Test that moving a series rebooks it on the new day and time."""
    weekday_volunteer(store, "sam")
    ann = resident(store)
    result = book_series(store, ann.id, at(TUESDAY, 10), NOW)

    moved = move_series(store, result.series.id, at(date(2026, 12, 10), 14, 30), NOW)

    assert (moved.series.weekday, moved.series.local_time) == (3, time(14, 30))
    calls = upcoming_calls(store, ann.id, NOW)
    assert len(calls) == 8
    assert {c.start.astimezone(LONDON).strftime("%a %H:%M") for c in calls} == {
        "Thu 14:30"
    }


def test_move_series_to_a_time_nobody_works_changes_nothing(store):
    """Test that a series move that cannot start leaves the series booked."""
    weekday_volunteer(store, "sam")
    ann = resident(store)
    result = book_series(store, ann.id, at(TUESDAY, 10), NOW)

    with pytest.raises(BookingError):
        move_series(store, result.series.id, at(date(2026, 12, 12), 10), NOW)

    assert len(upcoming_calls(store, ann.id, NOW)) == 8


# --- reminders -------------------------------------------------------------


def test_reminders_a_day_before_follow_the_wall_clock(store):
    """Test that the day-before reminder of a Sunday call after the clocks
    go forward is at the same local time on Saturday (23 hours before)."""
    sam = add_volunteer(store, "sam")
    add_weekly_hours(store, sam, 6, time(10), time(11))
    now = datetime(2026, 3, 25, 9, tzinfo=LONDON)
    call = book_call(store, resident(store).id, at(date(2026, 3, 29), 10), now)

    due = pending_reminders(store, call.id)

    assert due[0].astimezone(LONDON) == datetime(2026, 3, 28, 10, tzinfo=LONDON)
    assert call.start - due[0] == timedelta(hours=23)


def test_reminder_offsets_are_configurable(store):
    """Test that a different plan gives different reminders."""
    weekday_volunteer(store, "sam")
    plan = ReminderPlan(resident=(timedelta(hours=2),), volunteer=())

    call = book_call(store, resident(store).id, at(TUESDAY, 14), NOW, plan=plan)

    assert pending_reminders(store, call.id) == [at(TUESDAY, 12)]


def test_reminders_at_short_notice_tell_the_volunteer_at_once(store):
    """Test that a call booked half an hour ahead tells its volunteer now and
    gives the resident no reminder they no longer need."""
    weekday_volunteer(store, "sam")
    now = at(TUESDAY, 9, 30)

    call = book_call(store, resident(store).id, at(TUESDAY, 10), now)

    taken = take_due_reminders(store, now)
    assert [(r.booking.id, r.recipient) for r in taken] == [(call.id, "volunteer")]


def test_due_reminders_are_taken_once_each(store):
    """Test that reminders come due in turn, each taken only once."""
    weekday_volunteer(store, "sam")
    ann = resident(store)
    call = book_call(store, ann.id, at(TUESDAY, 14), NOW)

    day_before = take_due_reminders(store, at(MONDAY, 14))
    again = take_due_reminders(store, at(MONDAY, 14, 1))
    hour_before = take_due_reminders(store, at(TUESDAY, 13))

    assert [r.recipient for r in day_before] == ["resident"]
    assert again == []
    assert sorted(r.recipient for r in hour_before) == ["resident", "volunteer"]
    assert day_before[0].to_number == ann.phone
    assert reminder_text(day_before[0], at(MONDAY, 14)) == (
        "Helping Hands: a reminder that Sam will ring you tomorrow at 2pm. "
        "If that no longer suits, just reply and we will find another time."
    )
    volunteer_reminder = [r for r in hour_before if r.recipient == "volunteer"][0]
    assert reminder_text(volunteer_reminder, at(TUESDAY, 13)) == (
        "Helping Hands: a reminder that you are ringing Ann Jones today at 2pm."
    )
    assert call.id == volunteer_reminder.booking.id


def _queue(db):
    """Deliver reminders the way the scheduler will: into the SMS outbox."""

    def deliver(reminder):
        queue_sms(
            db,
            reminder.to_number,
            reminder_text(reminder, reminder.due_at),
            resident_id=reminder.booking.resident_id,
        )

    return deliver


def _outbox(path: Path) -> list[str]:
    db = open_database(path)
    bodies = [row[0] for row in db.execute("SELECT body FROM messages ORDER BY id")]
    db.close()
    return bodies


@pytest.mark.chaos
def test_reminders_survive_a_restart_none_lost_none_twice(tmp_path):
    """Test that a scheduler ticking every quarter of an hour, restarted (a
    fresh connection, nothing in memory) every few ticks and once re-running
    a tick it had done, sends every reminder, each exactly once."""
    path = tmp_path / "restart.db"
    db = open_database(path)
    weekday_volunteer(db, "sam")
    for n in range(3):
        book_call(db, resident(db, f"Resident {n}").id, at(TUESDAY, 10, 30 * n), NOW)
    planned = db.execute("SELECT count(*) FROM call_reminders").fetchone()[0]
    db.close()
    sent, tick, ticks = [], NOW, 0

    while tick <= at(TUESDAY, 12):
        if ticks % 5 == 0:
            db = open_database(path)
        sent += take_due_reminders(db, tick, _queue(db))
        if ticks % 5 == 4:
            sent += take_due_reminders(db, tick, _queue(db))  # re-run after a crash
            db.close()
        tick += timedelta(minutes=15)
        ticks += 1
    db.close()

    assert planned == 9  # each resident twice, the volunteer once per call
    assert len(sent) == len({r.id for r in sent}) == planned
    assert len(_outbox(path)) == planned
    assert all(r.due_at <= r.booking.start for r in sent)


@pytest.mark.chaos
def test_reminders_are_not_marked_sent_if_delivery_fails(tmp_path):
    """Test that a crash while queueing leaves every reminder of the batch
    unsent, and after a restart each is queued exactly once."""
    path = tmp_path / "crash.db"
    db = open_database(path)
    weekday_volunteer(db, "sam")
    for n in range(2):
        book_call(db, resident(db, f"Resident {n}").id, at(TUESDAY, 14, 30 * n), NOW)
    queue = _queue(db)
    delivered = []

    def crash_on_second(reminder):
        if delivered:
            raise RuntimeError("the process was killed")
        delivered.append(reminder)
        queue(reminder)

    with pytest.raises(RuntimeError):
        take_due_reminders(db, at(TUESDAY, 13, 30), crash_on_second)
    db.close()

    assert _outbox(path) == []
    restarted = open_database(path)
    taken = take_due_reminders(restarted, at(TUESDAY, 13, 30), _queue(restarted))
    restarted.close()
    assert len(taken) == 4 and len(_outbox(path)) == 4


def test_reminders_taken_by_two_workers_at_once_go_once(tmp_path):
    """Test that two schedulers taking reminders at the same moment, on their
    own connections, share them out without sending any twice."""
    path = tmp_path / "workers.db"
    db = open_database(path)
    weekday_volunteer(db, "sam")
    for n in range(4):
        book_call(db, resident(db, f"Resident {n}").id, at(TUESDAY, 10, 30 * n), NOW)
    db.close()
    barrier = threading.Barrier(4)
    taken: list = []

    def worker():
        connection = open_database(path)
        barrier.wait()
        taken.extend(
            take_due_reminders(connection, at(TUESDAY, 9, 45), _queue(connection))
        )
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    ids = [r.id for r in taken]
    # One for each resident (the latest due), and the volunteer's for the two
    # calls within the hour.
    assert len(ids) == len(set(ids)) == 4 + 2
    assert len(_outbox(path)) == 6


def test_overdue_reminders_send_only_the_latest(store):
    """Test that after a day of downtime the resident gets one reminder, not
    yesterday's and today's together."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 14), NOW)

    taken = take_due_reminders(store, at(TUESDAY, 13, 30))

    resident_reminders = [r for r in taken if r.recipient == "resident"]
    assert [r.due_at for r in resident_reminders] == [at(TUESDAY, 13)]
    assert pending_reminders(store, call.id) == []


def test_reminders_for_cancelled_or_begun_calls_are_not_sent(store):
    """Test that no reminder goes out for a call cancelled or already begun."""
    weekday_volunteer(store, "sam")
    cancelled = book_call(store, resident(store).id, at(TUESDAY, 14), NOW)
    begun = book_call(store, resident(store).id, at(TUESDAY, 10), NOW)
    cancel_call(store, cancelled.id, NOW)

    taken = take_due_reminders(store, at(TUESDAY, 10, 5))

    assert taken == []
    assert pending_reminders(store, begun.id) == []


# --- how calls went --------------------------------------------------------


def test_record_outcome_closes_the_call(store):
    """Test that a call that was talked through is done, with no reminders."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 14), NOW)

    done = record_outcome(store, call.id, "talked", at(TUESDAY, 14, 40), "a good chat")

    assert (done.status, done.outcome) == ("done", "talked")
    with pytest.raises(BookingError) as again:
        record_outcome(store, call.id, "busy", at(TUESDAY, 14, 45))
    assert again.value.code == "booking-closed"


@pytest.mark.parametrize(
    "outcome, when, code",
    [
        ("chatted", at(TUESDAY, 14, 40), "booking-bad-outcome"),
        ("talked", at(TUESDAY, 13), "booking-not-started"),
    ],
    ids=["unknown-outcome", "before-the-call"],
)
def test_record_outcome_refuses_nonsense(store, outcome, when, code):
    """Test that an unknown outcome, or one before the call, is refused."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 14), NOW)

    with pytest.raises(BookingError) as raised:
        record_outcome(store, call.id, outcome, when)

    assert raised.value.code == code


def test_a_missed_call_offers_the_same_time_tomorrow_and_sooner(store):
    """Test that after no answer the resident is offered the same time the
    next day and the soonest other times, and can book one with the same
    volunteer."""
    sam = weekday_volunteer(store, "sam")
    weekday_volunteer(store, "jo")
    ann = resident(store)
    call = book_call(store, ann.id, at(TUESDAY, 10), NOW, volunteer_id=sam)
    record_outcome(store, call.id, "no-answer", at(TUESDAY, 10, 10))
    now = at(TUESDAY, 10, 15)

    offers = offer_new_time(store, call.id, now)

    assert [describe(o.start, now) for o in offers] == [
        "today at 11:30am",
        "today at 2pm",
        "tomorrow at 10am",
    ]
    assert missed_call_text(offers, now) == (
        "Sorry we missed you. We could ring you today at 11:30am, today at 2pm "
        "or tomorrow at 10am. Which would suit you?"
    )
    again = book_call(store, ann.id, offers[-1].start, now, prefer_volunteer_id=sam)
    assert again.volunteer_id == sam


def test_offer_new_time_only_for_missed_calls(store):
    """Test that a call that went ahead is not offered a new time."""
    weekday_volunteer(store, "sam")
    call = book_call(store, resident(store).id, at(TUESDAY, 10), NOW)
    record_outcome(store, call.id, "talked", at(TUESDAY, 10, 30))

    with pytest.raises(BookingError) as raised:
        offer_new_time(store, call.id, at(TUESDAY, 11))

    assert raised.value.code == "booking-not-missed"


def test_missed_call_text_with_nobody_free_promises_a_person():
    """Test that a resident with no times to offer is told a person will call."""
    assert "a volunteer will be in touch" in missed_call_text([], NOW)


# --- properties -------------------------------------------------------------

attempts = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # which resident
        st.integers(min_value=0, max_value=4),  # which weekday
        st.integers(min_value=36, max_value=66),  # quarter hour of the day
        st.sampled_from([30, 45, 60]),  # minutes
        st.sampled_from(["book", "move", "cancel"]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(steps=attempts)
def test_bookings_never_overlap_and_stay_inside_availability(steps):
    """Test that whatever mix of bookings, moves and cancellations is tried,
    no volunteer and no resident ever has two calls at once, and every call
    is inside its volunteer's hours."""
    db = open_database(Path(":memory:"))
    sam, jo = weekday_volunteer(db, "sam"), weekday_volunteer(db, "jo", (9, 13))
    people = [resident(db, f"Resident {n}").id for n in range(4)]
    for who, weekday, quarter, minutes, action in steps:
        start = at(MONDAY + timedelta(days=weekday), 0) + timedelta(
            minutes=15 * quarter
        )
        calls = upcoming_calls(db, people[who], NOW)
        try:
            if action == "book" or not calls:
                book_call(db, people[who], start, NOW, minutes=minutes)
            elif action == "move":
                move_call(db, calls[0].id, start, NOW)
            else:
                cancel_call(db, calls[0].id, NOW)
        except BookingError:
            pass

    rows = list(db.query("SELECT * FROM call_bookings WHERE status != 'cancelled'"))
    for column in ("volunteer_id", "resident_id"):
        for a in rows:
            for b in rows:
                if a["id"] < b["id"] and a[column] == b[column]:
                    assert (
                        a["ends_at"] <= b["starts_at"] or b["ends_at"] <= a["starts_at"]
                    )
    hours = {sam: [(10, 12), (14, 16)], jo: [(9, 13)]}
    for row in rows:
        start = datetime.fromisoformat(row["starts_at"]).astimezone(LONDON)
        end = datetime.fromisoformat(row["ends_at"]).astimezone(LONDON)
        assert any(
            time(a) <= start.time() and end.time() <= time(b)
            for a, b in hours[row["volunteer_id"]]
        )
    db.close()


@settings(max_examples=40, deadline=None)
@given(
    booked=st.lists(st.integers(min_value=0, max_value=40), max_size=10, unique=True),
    phrase=st.sampled_from(
        ["tomorrow at 2", "Thursday afternoon", "whenever", "next week",
         "tomorrow at 1", "Saturday", "not Monday", "at 11ish on Friday"]
    ),
)  # fmt: skip
def test_proposals_are_free_and_inside_availability(booked, phrase):
    """Test that every proposed time is a free slot: inside availability,
    overlapping no booked call, and bookable straight away."""
    db = open_database(Path(":memory:"))
    weekday_volunteer(db, "sam")
    for n, slot in enumerate(booked):
        start = at(TUESDAY + timedelta(days=slot // 8), 10) + timedelta(
            minutes=30 * (slot % 8 if slot % 8 < 4 else slot % 8 + 4)
        )
        try:
            book_call(db, resident(db, f"Resident {n}").id, start, NOW)
        except BookingError:
            pass
    ann = resident(db)

    proposals = propose_times(db, understand_when(phrase, NOW), NOW, resident_id=ann.id)

    free = {
        s.start
        for s in free_slots(db, NOW, NOW + timedelta(days=30), resident_id=ann.id)
    }
    for proposal in proposals:
        assert proposal.start in free
        assert proposal.start >= NOW + timedelta(hours=1)
    if proposals:
        assert (
            book_call(db, ann.id, proposals[0].start, NOW).start == proposals[0].start
        )
    db.close()
