"""Booking a call by voice: a phone call with Twilio's own speech
(`<Gather>`), through a real gateway, Rasa and action server."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.bookings import upcoming_calls
from assistant.residents import find_by_phone
from tests.test_calls_sms import volunteer  # noqa: F401 - a fixture
from tests.test_phone_gather import Caller, registered, spoken

pytestmark = pytest.mark.stack

LONDON = ZoneInfo("Europe/London")


def test_calls_phone_a_caller_books_a_call_by_voice(
    stack,
    gather_gateway,
    volunteer,  # noqa: F811 - the fixture imported above
):
    """Test that a caller hears the time read back, says yes, and hears the
    call booked, in words that read well aloud."""
    volunteer()
    phone = registered(stack, "Vera Voice")
    caller = Caller(gather_gateway, phone)
    caller.ring()

    asked = spoken(caller.say("could one of the volunteers ring me tomorrow at 11"))

    assert "Shall I book a call for tomorrow at 11am? Please say yes or no." in asked
    booked = spoken(caller.say("yes please"))
    assert "that's booked" in booked and "tomorrow at 11am" in booked
    assert '"' not in asked + booked
    db = stack.db()
    (call,) = upcoming_calls(
        db, find_by_phone(db, phone).id, datetime.now(timezone.utc)
    )
    db.close()
    assert call.start.astimezone(LONDON).time() == time(11)
