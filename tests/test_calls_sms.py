"""Booking calls with volunteers by SMS, through the whole assistant.

Each test texts the in-process gateway (the real Rasa server and action
server behind it, Twilio's REST API recorded), with a volunteer of its own
whose hours are set with assistant.availability: 8am to 8pm every day, so
that the times asked for are free whenever the suite runs.
"""

from __future__ import annotations

import itertools
import re
import threading
import xml.etree.ElementTree as ElementTree
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.availability import add_extra_time, add_weekly_hours
from assistant.bookings import book_call, get_booking, upcoming_calls
from assistant.residents import add_resident, find_by_phone
from assistant.volunteers import add_volunteer, remove_volunteer
from assistant.when import describe_clock, local_datetime
from tests.conftest import signed_post

pytestmark = pytest.mark.stack

LONDON = ZoneInfo("Europe/London")
PASSWORD = "a long password for calls"
_numbers = itertools.count(1000)


def replies(response) -> str:
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return " ".join(message.text or "" for message in root.iter("Message"))


def new_phone() -> str:
    return f"+4477009{next(_numbers):05d}"


def signed_up(gateway, name: str = "Edith Cole") -> str:
    phone = new_phone()
    gateway.sms(phone, "hello")
    gateway.sms(phone, name)
    gateway.sms(phone, "3 Station Road, Anytown AB1 2CD")
    return phone


@pytest.fixture
def volunteer(stack):
    """A volunteer free 8am to 8pm every day; closed after the test, so that
    no later test finds their time free."""
    made = []

    def make(hours: tuple[time, time] | None = (time(8), time(20)), name="Sue Ring"):
        db = stack.db()
        username = re.sub(r"\W", "", name.lower()) + str(next(_numbers))
        account = add_volunteer(db, username, name, PASSWORD, phone=new_phone())
        if hours is not None:
            for weekday in range(7):
                add_weekly_hours(db, account.id, weekday, *hours)
        db.close()
        made.append(account.id)
        return account

    yield make
    db = stack.db()
    for volunteer_id in made:
        remove_volunteer(db, volunteer_id)
    db.close()


def calls_of(stack, phone: str):
    db = stack.db()
    resident = find_by_phone(db, phone)
    calls = upcoming_calls(db, resident.id, datetime.now(timezone.utc))
    db.close()
    return calls


def local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def today() -> datetime:
    return datetime.now(LONDON)


def days_ahead(start: datetime) -> int:
    return (local(start).date() - today().date()).days


def coming_weekday(weekday: int) -> int:
    """Days to the coming `weekday`, never today."""
    return (weekday - today().weekday()) % 7 or 7


def answer_until_booked(gateway, phone: str, said: str) -> str:
    """Answer the read-back ("yes") or the choice ("the first") until booked."""
    for _ in range(3):
        if "Shall I book" in said:
            said = replies(gateway.sms(phone, "yes please"))
        elif "Which would suit you" in said:
            said = replies(gateway.sms(phone, "the first one"))
        else:
            return said
    return said


# Each phrasing, and what the booked call must be: a check of its local start.
PHRASINGS = [
    pytest.param(
        ["Could someone ring me Thursday afternoon"],
        lambda s: (
            local(s).weekday() == 3
            and days_ahead(s) == coming_weekday(3)
            and 12 <= local(s).hour < 17
        ),
        id="thursday-afternoon",
    ),
    pytest.param(
        ["I'd like a chat tomorrow at 2"],
        lambda s: days_ahead(s) == 1 and local(s).time() == time(14),
        id="tomorrow-at-2",
    ),
    pytest.param(
        ["I'd like a chat with one of the volunteers", "whenever someone's free"],
        lambda s: s > datetime.now(timezone.utc) + timedelta(minutes=59),
        id="whenever-someone-is-free",
    ),
    pytest.param(
        ["could I have a chat with a volunteer", "not Monday, I've got the doctor's"],
        lambda s: local(s).weekday() != 0,
        id="not-monday-doctors",
    ),
    pytest.param(
        ["can a volunteer ring me at half past ten on Friday"],
        lambda s: (
            local(s).weekday() == 4
            and days_ahead(s) == coming_weekday(4)
            and local(s).time() == time(10, 30)
        ),
        id="half-past-ten-friday",
    ),
    pytest.param(
        ["could somebody phone me next Tuesday at 11am"],
        lambda s: (
            local(s).weekday() == 1
            and days_ahead(s) == 7 - today().weekday() + 1
            and local(s).time() == time(11)
        ),
        id="next-tuesday-11am",
    ),
    pytest.param(
        ["I'd like a call the day after tomorrow in the evening"],
        lambda s: days_ahead(s) == 2 and 17 <= local(s).hour < 20,
        id="day-after-tomorrow-evening",
    ),
    pytest.param(
        ["could a volunteer give me a ring first thing tomorrow"],
        lambda s: days_ahead(s) == 1 and time(9) <= local(s).time() < time(10),
        id="first-thing-tomorrow",
    ),
    pytest.param(
        ["can someone call me tomorrow at quarter to four"],
        lambda s: days_ahead(s) == 1 and time(15) <= local(s).time() <= time(16, 30),
        id="quarter-to-four-not-on-the-half-hour",
    ),
    pytest.param(
        ["I'd like a chat", "a week today at 3pm"],
        lambda s: days_ahead(s) == 7 and local(s).time() == time(15),
        id="a-week-today",
    ),
]


@pytest.mark.parametrize(("messages", "fits"), PHRASINGS)
def test_calls_sms_phrasings_are_read_back_then_booked(
    stack, gateway, volunteer, messages, fits
):
    """Test that each way of asking is read back as a question, nothing is
    booked before the answer, and the call booked is the time asked for."""
    sue = volunteer()
    phone = signed_up(gateway)

    for message in messages:
        said = replies(gateway.sms(phone, message))
    assert "Shall I book" in said or "Which would suit you" in said, said
    assert calls_of(stack, phone) == []
    said = answer_until_booked(gateway, phone, said)

    assert "that's booked" in said, said
    calls = calls_of(stack, phone)
    assert len(calls) == 1
    assert calls[0].volunteer_id == sue.id
    assert fits(calls[0].start), local(calls[0].start)
    assert describe_clock(local(calls[0].start).time()) in said


def test_calls_sms_a_busy_time_offers_the_nearest_free_ones(stack, gateway, volunteer):
    """Test that a taken time is not offered: the nearest free times are, one
    earlier, and "the first" books the earliest of them."""
    sue = volunteer()
    db = stack.db()
    someone = add_resident(db, new_phone(), "Other Person", "1 Lane")
    tomorrow = today().date() + timedelta(days=1)
    taken = local_datetime(tomorrow, time(14), LONDON)
    book_call(db, someone.id, taken, datetime.now(timezone.utc), volunteer_id=sue.id)
    db.close()
    phone = signed_up(gateway)

    said = replies(gateway.sms(phone, "could someone ring me tomorrow at 2pm"))

    assert "nobody is free tomorrow at 2pm" in said, said
    assert "Which would suit you" in said
    said = replies(gateway.sms(phone, "the first"))
    assert "that's booked" in said, said
    (call,) = calls_of(stack, phone)
    assert local(call.start).date() == tomorrow
    assert time(11) <= local(call.start).time() < time(14)


def test_calls_sms_hear_move_and_cancel_a_call(stack, gateway, volunteer):
    """Test hearing one's calls, moving one to another day, and cancelling it
    after a yes, each in the resident's own words."""
    volunteer()
    phone = signed_up(gateway)
    said = replies(gateway.sms(phone, "I'd like a chat tomorrow at 11am"))
    answer_until_booked(gateway, phone, said)

    heard = replies(gateway.sms(phone, "when is my call?"))
    assert "tomorrow at 11am" in heard, heard

    said = replies(gateway.sms(phone, "can we move my call to the day after tomorrow"))
    assert "Which would suit you" in said or "Shall I move" in said, said
    said = replies(gateway.sms(phone, "the first"))
    assert "moved your call" in said, said
    (call,) = calls_of(stack, phone)
    assert days_ahead(call.start) == 2

    said = replies(gateway.sms(phone, "please cancel my call with the volunteer"))
    assert "Shall I cancel your call" in said, said
    assert calls_of(stack, phone), "nothing is cancelled before the yes"
    said = replies(gateway.sms(phone, "yes"))
    assert "cancelled your call" in said, said
    assert calls_of(stack, phone) == []


def test_calls_sms_cancel_a_call_is_not_cancel_an_order(stack, gateway, volunteer):
    """Test that cancelling the call leaves the order, and cancelling the order
    leaves the call."""
    volunteer()
    phone = signed_up(gateway)
    answer_until_booked(
        gateway, phone, replies(gateway.sms(phone, "I'd like a chat tomorrow at 3pm"))
    )
    gateway.sms(phone, "a jar of clear honey please")
    gateway.sms(phone, "place my order")
    assert "order number" in replies(gateway.sms(phone, "yes please"))

    said = replies(gateway.sms(phone, "cancel my order"))
    assert "Shall I cancel your order" in said, said
    gateway.sms(phone, "yes")

    assert len(calls_of(stack, phone)) == 1
    said = replies(gateway.sms(phone, "cancel my call with the volunteer"))
    assert "Shall I cancel your call" in said, said


def test_calls_sms_a_regular_call_books_every_week(stack, gateway, volunteer):
    """Test that "every Tuesday morning" books a weekly series with one
    volunteer, eight weeks ahead."""
    sue = volunteer()
    phone = signed_up(gateway)

    said = replies(
        gateway.sms(phone, "could someone ring me every Tuesday morning for a chat")
    )
    assert "Every Tuesday" in said or "every Tuesday" in said, said
    said = answer_until_booked(gateway, phone, said)

    assert "every Tuesday" in said, said
    calls = calls_of(stack, phone)
    assert len(calls) >= 8
    assert {local(c.start).weekday() for c in calls} == {1}
    assert len({local(c.start).time() for c in calls}) == 1
    assert {c.volunteer_id for c in calls} == {sue.id}
    assert len({c.series_id for c in calls}) == 1


def test_calls_sms_two_residents_at_once_never_share_a_slot(stack, gateway, volunteer):
    """Test that two residents saying yes to the one free slot at the same
    moment get one booking between them; the other is told kindly."""
    tomorrow = (today() + timedelta(days=1)).date()
    sue = volunteer(hours=None)
    db = stack.db()
    add_extra_time(
        db,
        sue.id,
        local_datetime(tomorrow, time(14), LONDON),
        local_datetime(tomorrow, time(14, 30), LONDON),
    )
    db.close()
    first, second = signed_up(gateway, "Ann First"), signed_up(gateway, "Bea Second")
    for phone in (first, second):
        said = replies(gateway.sms(phone, "could someone ring me tomorrow at 2pm"))
        assert "Shall I book a call for tomorrow at 2pm" in said, said

    answers: dict[str, str] = {}

    def say_yes(phone: str) -> None:
        answers[phone] = replies(gateway.sms(phone, "yes"))

    threads = [threading.Thread(target=say_yes, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    booked = [p for p in (first, second) if "that's booked" in answers[p]]
    assert len(booked) == 1, answers
    other = second if booked == [first] else first
    assert "just been taken" in answers[other], answers[other]
    assert calls_of(stack, other) == []


def test_calls_sms_missed_call_offers_a_new_time_the_reply_books(
    stack, gateway, twilio_recorder, volunteer
):
    """Test the outcome webhook: signature-checked; "no-answer" is recorded,
    the resident is texted new times, and "the first" books one with the
    same volunteer."""
    sue = volunteer()
    phone = signed_up(gateway, "Mabel Missed")
    now = datetime.now(timezone.utc)
    db = stack.db()
    add_extra_time(db, sue.id, now - timedelta(hours=1), now + timedelta(minutes=30))
    resident = find_by_phone(db, phone)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=5)
    missed = book_call(db, resident.id, start, now - timedelta(hours=2))
    db.close()
    path = f"/twilio/calls/dial-done?booking={missed.id}"
    form = {
        "CallSid": "CA" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
        "DialCallStatus": "no-answer",
        "DialCallSid": "CA" + "2" * 32,
    }
    public = stack.env["HH_PUBLIC_URL"]

    forged = signed_post(gateway.base_url, public, path, form, signature="forged")
    assert forged.status_code == 403
    db = stack.db()
    assert get_booking(db, missed.id).outcome is None
    db.close()

    answered = signed_post(gateway.base_url, public, path, form)

    assert answered.status_code == 200
    assert "didn't answer" in answered.text and "<Hangup" in answered.text
    db = stack.db()
    assert get_booking(db, missed.id).outcome == "no-answer"
    db.close()
    offer = twilio_recorder.messages_to(phone)[-1]
    assert offer.startswith("Sorry we missed you. We could ring you"), offer
    again = signed_post(gateway.base_url, public, path, form)
    assert again.status_code == 200
    assert twilio_recorder.messages_to(phone)[-1] == offer
    assert len([m for m in twilio_recorder.messages_to(phone) if "missed" in m]) == 1

    said = replies(gateway.sms(phone, "the first"))

    assert "that's booked" in said, said
    (call,) = calls_of(stack, phone)
    assert call.volunteer_id == sue.id
    assert describe_clock(local(call.start).time()) in offer.split(",")[0]


@pytest.mark.parametrize(
    "words", ["cancel it", "can you cancel that please", "please cancel it for me"]
)
def test_calls_sms_cancel_it_after_talk_of_a_call_means_the_call(
    stack, gateway, volunteer, words
):
    """Test that a bare "cancel it" just after hearing about a call is taken
    as the call, even with an order placed that could be cancelled too; and
    that after talk of the order it is the order."""
    volunteer()
    phone = signed_up(gateway)
    gateway.sms(phone, "a jar of clear honey please")
    gateway.sms(phone, "place my order")
    assert "order number" in replies(gateway.sms(phone, "yes please"))
    answer_until_booked(
        gateway, phone, replies(gateway.sms(phone, "I'd like a chat tomorrow at 3pm"))
    )

    heard = replies(gateway.sms(phone, "when is my call?"))
    assert "tomorrow at 3pm" in heard, heard
    said = replies(gateway.sms(phone, words))
    assert "Shall I cancel your call" in said, said
    said = replies(gateway.sms(phone, "no"))
    assert len(calls_of(stack, phone)) == 1, said

    gateway.sms(phone, "where's my order?")
    said = replies(gateway.sms(phone, words))
    assert "Shall I cancel your order" in said, said


def test_calls_sms_cancel_it_with_only_a_call_booked_means_the_call(
    stack, gateway, volunteer
):
    """Test that "cancel it" from a resident with no order but a call booked
    asks about the call rather than saying there is no order."""
    volunteer()
    phone = signed_up(gateway)
    answer_until_booked(
        gateway, phone, replies(gateway.sms(phone, "could someone ring me tomorrow"))
    )
    gateway.sms(phone, "hello")

    said = replies(gateway.sms(phone, "cancel it"))

    assert "Shall I cancel your call" in said, said
    assert "don't have an order" not in said


@pytest.mark.parametrize(
    "words",
    [
        "could someone ring me tomorrow",
        "can a volunteer phone me on Friday afternoon",
        "I'd like someone to call me next Tuesday morning",
    ],
)
def test_calls_sms_asking_to_be_rung_at_a_time_books_a_call(
    stack, gateway, volunteer, words
):
    """Test that asking for someone to ring at a time named goes to booking a
    call, whichever of "a person" or "a call" the words were read as, and is
    not handed to a volunteer to answer now."""
    volunteer()
    phone = signed_up(gateway)

    said = replies(gateway.sms(phone, words))

    assert "Shall I book" in said or "Which would suit you" in said, said
    assert "asked a volunteer to help you" not in said
    assert "that's booked" in answer_until_booked(gateway, phone, said)


@pytest.mark.parametrize(
    "words",
    [
        "please ask someone to call me back",
        "can someone ring me right away",
        "I need a person to phone me now",
    ],
)
def test_calls_sms_asking_to_be_rung_now_goes_to_a_volunteer(
    stack, gateway, volunteer, words
):
    """Test that asking to be rung back with no time, or at once, still hands
    the conversation to a volunteer."""
    volunteer()
    phone = signed_up(gateway)

    said = replies(gateway.sms(phone, words))

    assert "asked a volunteer to help you" in said, said
    assert calls_of(stack, phone) == []
