"""Booked calls on the phone, and the scheduler that keeps them on time.

Starting a call rings the volunteer first, through Twilio's REST API, with
TwiML that then dials the resident: the volunteer sees our number calling,
and the resident sees our number too (`<Dial callerId>`), so neither learns
the other's. When the resident's leg ends Twilio posts its DialCallStatus to
the `<Dial action>` URL, /twilio/calls/dial-done?booking=N, and the outcome
is recorded: answered is "talked", no answer or busy is a missed call, and a
missed call brings the resident an SMS offering new times, which their reply
answers ("the first", "tomorrow at 10").

Decisions the issue left open:

- A resident's leg that failed, or that the volunteer hung up before the
  resident answered, records nothing: the volunteer can press the button
  again, or note how it went on the console.
- An answered call counts as "talked" however short (an answering machine
  counts too); once an outcome is recorded it stands.
- If the volunteer does not answer their own phone nothing is recorded
  either, as no status callback is asked of Twilio for the first leg.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import sqlite_utils
from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.voice_response import VoiceResponse

from assistant import messages
from assistant.availability import stored
from assistant.bookings import Booking, BookingError, get_booking
from assistant.call_outcomes import (
    MISSED,
    missed_call_text,
    offer_new_time,
    record_outcome,
)
from assistant.call_proposals import describe_proposals
from assistant.call_reminders import (
    Reminder,
    reminder_plan,
    reminder_text,
    take_due_reminders,
)
from assistant.call_series import extend_series
from assistant.channels.twilio_common import RejectedRequest, twiml, verified_form
from assistant.channels.twilio_rest import TwilioError
from assistant.conversation import RingBackError
from assistant.errors import AssistantUnavailable
from assistant.outbound import queue_sms, send_due
from assistant.residents import Resident, get_resident, masked
from assistant.volunteers import Volunteer

logger = logging.getLogger(__name__)

DIAL_DONE_PATH = "/twilio/calls/dial-done"
RING_SECONDS = 30
REMINDERS_EVERY_SECONDS = 60
OUTCOME_OF_DIAL = {"completed": "talked", "no-answer": "no-answer", "busy": "busy"}


def first_name(resident: Resident | None) -> str:
    if resident is None or not resident.name:
        return "the resident"
    return resident.name.split()[0]


def bridge_twiml(settings, booking: Booking, resident: Resident) -> str:
    """What the volunteer's leg runs once they answer: a word, then the
    resident dialled from our number, reporting back when it ends."""
    response = VoiceResponse()
    response.say(
        f"Helping Hands here. Putting you through to {first_name(resident)} "
        "for your booked call.",
        voice=settings.twilio_voice,
        language="en-GB",
    )
    dial = response.dial(
        caller_id=settings.twilio_number,
        timeout=RING_SECONDS,
        # Inline TwiML has no address of its own to resolve a relative URL.
        action=f"{settings.public_url}{DIAL_DONE_PATH}?booking={booking.id}",
        method="POST",
    )
    dial.number(resident.phone)
    return str(response)


async def start_booked_call(state, booking: Booking, volunteer: Volunteer) -> str:
    """Ring the volunteer, then put them through to the call's resident.

    Returns:
        Twilio's CallSid for the volunteer's leg.

    Raises:
        RingBackError: no Twilio account, a phone number missing, or Twilio
            would not start the call.
    """
    if state.twilio is None:
        raise RingBackError("Twilio is not set up", "ring-back-no-twilio")
    resident = get_resident(state.db, booking.resident_id)
    if resident is None or not resident.phone or not volunteer.phone:
        raise RingBackError("a phone number is missing", "ring-back-no-number")
    document = bridge_twiml(state.settings, booking, resident)
    try:
        call_sid = await state.twilio.start_call(volunteer.phone, document)
    except TwilioError as error:
        raise RingBackError("Twilio would not start the call") from error
    messages.record_outbound(
        state.db,
        resident.id,
        "phone",
        f"{volunteer.display_name} rang for the booked call.",
        status="sent",
        volunteer_id=volunteer.id,
    )
    logger.info("volunteer %s started booked call %s", volunteer.id, booking.id)
    return call_sid


async def offer_after_missed_call(state, booking: Booking, now: datetime) -> bool:
    """Text the resident of a missed call new times, and leave the question
    open in their conversation so that a reply such as "the first" books it.

    Returns:
        Whether the resident was texted.
    """
    if booking.outcome not in MISSED:
        return False
    db = state.db
    tz = ZoneInfo(state.settings.timezone)
    resident = get_resident(db, booking.resident_id)
    if resident is None or not resident.phone or resident.sms_opted_out:
        logger.info("call %s missed; the resident cannot be texted", booking.id)
        return False
    proposals = offer_new_time(db, booking.id, now, tz=tz)
    queue_sms(
        db,
        resident.phone,
        missed_call_text(proposals, now, tz),
        resident_id=resident.id,
    )
    if proposals:
        question = {
            "kind": "choose_call_time",
            "starts": [stored(proposal.start) for proposal in proposals],
            "move": None,
            "every_weeks": None,
            "prefer": booking.volunteer_id,
            "rebook_of": booking.id,
            "text": f"Which would suit you: {describe_proposals(proposals, now, tz)}?",
        }
        await leave_question_open(state, resident, question)
    await send_due(db, state.twilio)
    logger.info(
        "call %s missed; %s texted new times", booking.id, masked(resident.phone)
    )
    return True


async def leave_question_open(state, resident: Resident, question: dict) -> None:
    """Put a call question first in the resident's conversation with Rasa.

    The conversation starts a fresh session first: Rasa would otherwise start
    one at the resident's reply, an hour or more after their last message,
    and forget the question. A session with no message in it yet never
    expires, so the question waits however long the reply takes. A
    conversation a volunteer holds (paused) stays in its session.
    """
    try:
        tracker = await state.rasa.tracker(resident.id)
        earlier = json.loads((tracker.get("slots") or {}).get("pending") or "[]")
        # Every kind of call question has "call" in its name (actions/calls.py).
        kept = [q for q in earlier if "call" not in str(q.get("kind", ""))]
        if not tracker.get("paused"):
            # NOTE: two requests on purpose. Rasa keeps the events stamped at
            # or after the latest session start, and for a conversation it has
            # never seen it stamps its own start after the events sent with
            # it; slots sent in a later request always come after both.
            await state.rasa.add_events(
                resident.id,
                [
                    {"event": "session_started"},
                    {"event": "action", "name": "action_listen"},
                ],
            )
        pending = json.dumps([question, *kept])
        await state.rasa.add_events(
            resident.id,
            [
                {"event": "slot", "name": "pending", "value": pending},
                {"event": "slot", "name": "call_question", "value": "open"},
            ],
        )
    except (AssistantUnavailable, ValueError, TypeError, AttributeError):
        # The text still goes: a reply naming a time is understood afresh.
        logger.warning("could not leave the new-time question with the assistant")


def volunteer_words(status: str, resident: Resident | None, offered: bool) -> str:
    """What the volunteer hears when the resident's leg ends."""
    name = first_name(resident)
    follow = " We'll text them to offer another time." if offered else ""
    if status == "completed":
        return f"Thank you for ringing {name}. The call is noted as done. Goodbye."
    if status == "no-answer":
        return f"{name} didn't answer.{follow} Goodbye."
    if status == "busy":
        return f"{name}'s line was busy.{follow} Goodbye."
    return (
        "The call didn't go through. You can try again from the console, or "
        "note how it went there. Goodbye."
    )


async def booked_call_webhook(request: Request) -> Response:
    """POST /twilio/calls/dial-done?booking=N: the resident's leg has ended."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    booking_id = request.query_params.get("booking", "")
    booking = get_booking(state.db, int(booking_id)) if booking_id.isdigit() else None
    response = VoiceResponse()
    if booking is None:
        logger.warning("a dial-done webhook for an unknown booking")
        response.hangup()
        return twiml(str(response))
    status = form.get("DialCallStatus", "")
    outcome = OUTCOME_OF_DIAL.get(status)
    offered = False
    if outcome is not None:
        now = datetime.now(timezone.utc)
        try:
            booking = record_outcome(
                state.db, booking.id, outcome, now, note=f"Twilio: {status}"
            )
        except BookingError as error:
            # A retried webhook, or the volunteer noted it first.
            logger.info("call %s outcome not recorded (%s)", booking.id, error.code)
        else:
            offered = await offer_after_missed_call(state, booking, now)
        state.events.publish("calls")
    else:
        logger.info("call %s did not go through (%s)", booking.id, status or "?")
    resident = get_resident(state.db, booking.resident_id)
    response.say(
        volunteer_words(status, resident, offered),
        voice=state.settings.twilio_voice,
        language="en-GB",
    )
    response.hangup()
    return twiml(str(response))


# --- the scheduler -----------------------------------------------------------


def deliver_reminder(
    db: sqlite_utils.Database,
    reminder: Reminder,
    now: datetime,
    tz: ZoneInfo,
    console_url: str,
) -> None:
    """Queue one reminder as an SMS (inside the transaction that takes it)."""
    if not reminder.to_number:
        logger.info(
            "call %s: no number for the %s's reminder",
            reminder.booking.id,
            reminder.recipient,
        )
        return
    body = reminder_text(reminder, now, tz)
    if reminder.recipient == "volunteer":
        queue_sms(db, reminder.to_number, f"{body} Start it here: {console_url}/calls")
        return
    resident = get_resident(db, reminder.booking.resident_id)
    if resident is None or resident.sms_opted_out:
        return
    queue_sms(db, reminder.to_number, body, resident_id=resident.id)


async def tend_booked_calls(state, extended_on: date | None) -> date:
    """One turn of the scheduler: regular calls kept booked ahead (once a
    day), then every reminder now due queued and sent, each exactly once.

    Returns:
        The local day regular calls were last kept ahead.
    """
    settings = state.settings
    tz = ZoneInfo(settings.timezone)
    now = datetime.now(timezone.utc)
    today = now.astimezone(tz).date()
    if extended_on != today:
        extend_series(state.db, now, plan=reminder_plan(settings), tz=tz)
        extended_on = today
    taken = take_due_reminders(
        state.db,
        now,
        deliver=lambda reminder: deliver_reminder(
            state.db, reminder, now, tz, settings.console_url
        ),
    )
    if taken:
        await send_due(state.db, state.twilio)
    return extended_on
