"""Booked calls in the console: today's and the coming ones, the one button
that starts a call, and noting how a call went.

A volunteer sees their own calls and starts them; a coordinator can also see
everyone's and note how any call went. Residents' numbers are never shown
here: the call is put through without either side seeing the other's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from assistant.bookings import Booking, BookingError, get_booking, volunteer_calls
from assistant.call_outcomes import MISSED, OUTCOMES, record_outcome
from assistant.call_series import get_series
from assistant.channels.scheduled_calls import (
    offer_after_missed_call,
    start_booked_call,
)
from assistant.console.auth import signed_in
from assistant.console.rendering import (
    PREFIX,
    RING_FAILURES,
    go_to,
    page,
    ring_failure,
)
from assistant.console.summaries import resident_name
from assistant.conversation import RingBackError
from assistant.residents import get_resident
from assistant.volunteers import Session, all_volunteers, get_volunteer
from assistant.when import local_datetime
from assistant.when_words import WEEKDAY_NAMES

logger = logging.getLogger(__name__)

CALLS = PREFIX + "/calls"
# The button shows from a little before a call until well after its time.
START_EARLY = timedelta(minutes=15)
START_LATE = timedelta(hours=2)
DAYS_AHEAD = 14
# Calls not yet noted stay on the page this long after they were due.
UNNOTED_DAYS = 7
MOST_NOTE_CHARACTERS = 500
OUTCOME_WORDS = {
    "talked": "Done: the call went ahead",
    "no-answer": "No answer: the resident was offered another time",
    "busy": "Line busy: the resident was offered another time",
}
SAID = {
    "ringing": (
        "good",
        "Your phone will ring in a moment. When you answer, we ring the "
        "resident. Neither of you sees the other's number.",
    ),
    "noted": ("good", "Thank you: how the call went is noted."),
    "offered": (
        "good",
        "Noted. The resident has been texted to offer another time.",
    ),
    "not-yours": ("problem", "Only the volunteer with this call can start it."),
    "not-now": (
        "problem",
        "It's not time for that call yet. The button appears a quarter of an "
        "hour before.",
    ),
    "closed": ("problem", "That call is already over or cancelled."),
    "not-started": ("problem", "That call is still to come."),
    "no-outcome": ("problem", "Please choose how the call went."),
    **RING_FAILURES,
    "unknown": ("problem", "There is no such call."),
}


@dataclass(frozen=True)
class CallCard:
    """One call as the page shows it."""

    id: int
    resident_name: str
    volunteer_name: str
    start: datetime
    regular: str | None
    state: str
    mine: bool
    can_start: bool
    can_note: bool
    start_from: str | None


def call_card(request: Request, call: Booking, session: Session) -> CallCard:
    db = request.app.state.db
    tz = ZoneInfo(request.app.state.settings.timezone)
    now = datetime.now(timezone.utc)
    volunteer = get_volunteer(db, call.volunteer_id)
    mine = call.volunteer_id == session.volunteer.id
    regular = None
    if call.series_id is not None:
        series = get_series(db, call.series_id)
        every = "every" if series.every_weeks == 1 else "every other"
        regular = f"Regular call, {every} {WEEKDAY_NAMES[series.weekday]}"
    if call.status == "done":
        state = OUTCOME_WORDS.get(call.outcome or "", "Done")
    elif now < call.start:
        state = "Booked"
    elif now < call.end:
        state = "Due now"
    else:
        state = "Not noted yet: how did it go?"
    booked = call.status == "booked"
    in_time = call.start - START_EARLY <= now <= call.end + START_LATE
    return CallCard(
        call.id,
        resident_name(get_resident(db, call.resident_id)),
        volunteer.display_name if volunteer else "a volunteer",
        call.start,
        regular,
        state,
        mine,
        can_start=booked and mine and in_time,
        can_note=booked
        and now >= call.start
        and (mine or session.volunteer.is_coordinator),
        start_from=(call.start - START_EARLY).astimezone(tz).strftime("%H:%M")
        if booked and mine and now < call.start - START_EARLY
        else None,
    )


def calls_context(request: Request, session: Session) -> dict:
    """Today's calls, those coming up, and earlier ones not yet noted."""
    state = request.app.state
    tz = ZoneInfo(state.settings.timezone)
    today = datetime.now(timezone.utc).astimezone(tz).date()
    midnight = local_datetime(today, time(0), tz)
    tomorrow = local_datetime(today + timedelta(days=1), time(0), tz)
    everyone = session.volunteer.is_coordinator and "everyone" in request.query_params
    volunteers = all_volunteers(state.db) if everyone else [session.volunteer]
    calls: list[Booking] = []
    for volunteer in volunteers:
        calls.extend(
            volunteer_calls(
                state.db,
                volunteer.id,
                midnight - timedelta(days=UNNOTED_DAYS),
                local_datetime(today + timedelta(days=DAYS_AHEAD + 1), time(0), tz),
            )
        )
    calls.sort(key=lambda call: (call.start, call.id))
    cards = [call_card(request, call, session) for call in calls]
    return {
        "everyone": everyone,
        "earlier": [
            card
            for card, call in zip(cards, calls, strict=True)
            if call.start < midnight and call.status == "booked"
        ],
        "today": [card for card in cards if midnight <= card.start < tomorrow],
        "coming": [card for card in cards if card.start >= tomorrow],
    }


@signed_in()
async def calls_page(request: Request, session: Session) -> Response:
    """GET /console/calls: my calls (everyone's, for a coordinator who asks)."""
    context = calls_context(request, session)
    context["said"] = SAID.get(request.query_params.get("said", ""))
    return page(request, "calls.html", context)


@signed_in(live=True)
async def calls_fragment(request: Request, session: Session) -> Response:
    """GET /console/calls/list: the lists alone, for live updates."""
    return page(request, "_calls.html", calls_context(request, session))


def find_call(request: Request) -> Booking | None:
    try:
        booking_id = int(request.path_params["booking_id"])
    except (KeyError, ValueError):
        return None
    return get_booking(request.app.state.db, booking_id)


def back_to(call: Booking | None, said: str) -> Response:
    anchor = f"#call-{call.id}" if call is not None else ""
    return go_to(CALLS + anchor, said)


@signed_in()
async def start_submit(request: Request, session: Session) -> Response:
    """POST /console/calls/{id}/start: ring me, then put me through."""
    call = find_call(request)
    if call is None:
        return back_to(None, "unknown")
    if call.volunteer_id != session.volunteer.id:
        return back_to(call, "not-yours")
    card = call_card(request, call, session)
    if call.status != "booked":
        return back_to(call, "closed")
    if not card.can_start:
        return back_to(call, "not-now")
    try:
        await start_booked_call(request.app.state, call, session.volunteer)
    except RingBackError as error:
        logger.warning("booked call %s not started: %s", call.id, error.code)
        return back_to(call, ring_failure(error.code))
    return back_to(call, "ringing")


@signed_in()
async def outcome_submit(request: Request, session: Session) -> Response:
    """POST /console/calls/{id}/outcome: how the call went, noted by hand."""
    call = find_call(request)
    if call is None:
        return back_to(None, "unknown")
    if call.volunteer_id != session.volunteer.id and not (
        session.volunteer.is_coordinator
    ):
        return back_to(call, "not-yours")
    form = await request.form()
    outcome = str(form.get("outcome", ""))
    note = str(form.get("note", "")).strip()[:MOST_NOTE_CHARACTERS] or None
    if outcome not in OUTCOMES:
        return back_to(call, "no-outcome")
    state = request.app.state
    now = datetime.now(timezone.utc)
    try:
        call = record_outcome(state.db, call.id, outcome, now, note)
    except BookingError as error:
        said = "not-started" if error.code == "booking-not-started" else "closed"
        return back_to(call, said)
    logger.info(
        "volunteer %s noted call %s: %s", session.volunteer.id, call.id, outcome
    )
    offered = outcome in MISSED and await offer_after_missed_call(state, call, now)
    state.events.publish("calls")
    return back_to(call, "offered" if offered else "noted")
