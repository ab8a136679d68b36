"""How each call went, and new times to offer a resident whose call was missed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import stored
from assistant.bookings import Booking, BookingError, _cancel_reminders, get_booking
from assistant.call_proposals import (
    NOTICE_TO_PROPOSE,
    PROPOSALS,
    Proposal,
    describe_proposals,
    propose_times,
)
from assistant.store import transaction
from assistant.when import LONDON, anytime, local_datetime

logger = logging.getLogger(__name__)

OUTCOMES = ("talked", "no-answer", "busy")
MISSED = ("no-answer", "busy")


def record_outcome(
    db: sqlite_utils.Database,
    booking_id: int,
    outcome: str,
    now: datetime,
    note: str | None = None,
) -> Booking:
    """Record how a call went: "talked", "no-answer" or "busy".

    Raises:
        BookingError: an unknown outcome, a call not found, cancelled or
            already recorded, or not yet begun.
    """
    if outcome not in OUTCOMES:
        raise BookingError(
            f"an outcome is one of {', '.join(OUTCOMES)}", "booking-bad-outcome"
        )
    with transaction(db):
        booking = get_booking(db, booking_id)
        if booking is None:
            raise BookingError(f"there is no call {booking_id}", "booking-not-found")
        if booking.status != "booked":
            raise BookingError(
                f"call {booking_id} is {booking.status}", "booking-closed"
            )
        if booking.start > now:
            raise BookingError(
                f"call {booking_id} is yet to come", "booking-not-started"
            )
        db.execute(
            "UPDATE call_bookings SET status = 'done', outcome = ?, outcome_note = ?, "
            "outcome_at = ?, updated_at = ? WHERE id = ?",
            [outcome, note, stored(now), stored(now), booking_id],
        )
        _cancel_reminders(db, booking_id)
    logger.info("call %s: %s", booking_id, outcome)
    return get_booking(db, booking_id)


def offer_new_time(
    db: sqlite_utils.Database,
    booking_id: int,
    now: datetime,
    *,
    count: int = PROPOSALS,
    notice: timedelta = NOTICE_TO_PROPOSE,
    tz: ZoneInfo = LONDON,
) -> list[Proposal]:
    """New times to offer a resident after a missed call: the same time
    tomorrow if it is free, and the soonest other free times, earliest first.
    Book the chosen one with `prefer_volunteer_id` set to the same volunteer.

    Raises:
        BookingError: the call is not found, or was not missed.
    """
    booking = get_booking(db, booking_id)
    if booking is None:
        raise BookingError(f"there is no call {booking_id}", "booking-not-found")
    if booking.outcome not in MISSED:
        raise BookingError(f"call {booking_id} was not missed", "booking-not-missed")
    minutes = int((booking.end - booking.start).total_seconds() // 60)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    same_time = local_datetime(tomorrow, booking.start.astimezone(tz).time(), tz)
    options = dict(
        resident_id=booking.resident_id, minutes=minutes, notice=notice, tz=tz
    )
    offered = propose_times(db, anytime(now, tz, preferred=same_time), now, **options)
    exact = [p for p in offered if p.matches_request]
    soonest = propose_times(db, anytime(now, tz), now, count=count, **options)
    others = [p for p in soonest if p.start not in {e.start for e in exact}]
    return sorted(exact + others[: count - len(exact)], key=lambda p: p.start)


def missed_call_text(
    proposals: list[Proposal], now: datetime, tz: ZoneInfo = LONDON
) -> str:
    """What to say to a resident whose call was missed."""
    if not proposals:
        return (
            "Sorry we missed you. Nobody is free in the next few days; a "
            "volunteer will be in touch to arrange a time."
        )
    return (
        "Sorry we missed you. We could ring you "
        f"{describe_proposals(proposals, now, tz)}. Which would suit you?"
    )
