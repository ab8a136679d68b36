"""Volunteers' hours for calls in the console: their weekly hours, days off
and one-off changes, kept by the volunteer or by a coordinator for anyone.

Changing hours never moves a call already booked: calls that now fall in
time away are listed on the page, for someone to rearrange.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from assistant.availability import (
    AvailabilityError,
    OneOff,
    add_days_off,
    add_extra_time,
    add_time_off,
    add_weekly_hours,
    one_offs,
    remove_one_off,
    remove_weekly_hours,
    weekly_hours,
)
from assistant.bookings import volunteer_calls
from assistant.console.auth import MOST_FIELD_CHARACTERS, signed_in
from assistant.console.rendering import PREFIX, go_to, page
from assistant.console.summaries import resident_name
from assistant.residents import get_resident
from assistant.volunteers import Session, Volunteer, all_volunteers, get_volunteer
from assistant.when import describe_clock, local_datetime
from assistant.when_words import MONTH_NAMES, WEEKDAY_NAMES

logger = logging.getLogger(__name__)

AVAILABILITY = PREFIX + "/availability"
# Booked calls this far ahead are checked against time away.
CLASHES_AHEAD = timedelta(weeks=9)
SAID = {
    "hours-added": "Those hours are added.",
    "hours-removed": "Those hours are taken off.",
    "away-added": "Your days off are noted.",
    "change-added": "That change is noted.",
    "change-removed": "That change is taken off.",
}


@dataclass(frozen=True)
class Change:
    """A day off or one-off change, as the page shows it."""

    id: int
    kind: str
    said: str
    note: str | None


def say_day(day: date) -> str:
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"


def describe_change(change: OneOff, tz: ZoneInfo) -> Change:
    """ "Away: Monday 7 December to Wednesday 9 December", "Extra time:
    Tuesday 8 December, 2pm to 4pm"."""
    start, end = change.start.astimezone(tz), change.end.astimezone(tz)
    label = "Away" if change.kind == "away" else "Extra time"
    if start.time() == time(0) and end.time() == time(0):
        last = end.date() - timedelta(days=1)
        days = say_day(start.date())
        if last != start.date():
            days += f" to {say_day(last)}"
        said = f"{label}: {days}"
    else:
        said = (
            f"{label}: {say_day(start.date())}, {describe_clock(start.time())} "
            f"to {describe_clock(end.time())}"
        )
        if end.date() != start.date():
            said = (
                f"{label}: {say_day(start.date())} {describe_clock(start.time())} "
                f"to {say_day(end.date())} {describe_clock(end.time())}"
            )
    return Change(change.id, change.kind, said, change.note)


def whose_hours(request: Request, session: Session) -> Volunteer | None:
    """The volunteer the page is about: oneself, or anyone for a coordinator."""
    volunteer_id = request.path_params.get("volunteer_id", session.volunteer.id)
    if volunteer_id != session.volunteer.id and not session.volunteer.is_coordinator:
        return None
    volunteer = get_volunteer(request.app.state.db, int(volunteer_id))
    return volunteer if volunteer is not None and volunteer.active else None


def availability_for(
    request: Request,
    session: Session,
    volunteer: Volunteer,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    state = request.app.state
    tz = ZoneInfo(state.settings.timezone)
    now = datetime.now(timezone.utc)
    changes = one_offs(state.db, volunteer.id, after=now)
    clashes = []
    for call in volunteer_calls(state.db, volunteer.id, now, now + CLASHES_AHEAD):
        away = [c for c in changes if c.kind == "away"]
        if call.status == "booked" and any(
            c.start < call.end and call.start < c.end for c in away
        ):
            resident = get_resident(state.db, call.resident_id)
            clashes.append((resident_name(resident), call.start))
    context = {
        "volunteer": volunteer,
        "own": volunteer.id == session.volunteer.id,
        "volunteers": all_volunteers(state.db)
        if session.volunteer.is_coordinator
        else [],
        "hours": weekly_hours(state.db, volunteer.id),
        "changes": [describe_change(change, tz) for change in changes],
        "clashes": clashes,
        "weekdays": list(enumerate(WEEKDAY_NAMES)),
        "today": now.astimezone(tz).date().isoformat(),
        "error": error,
        "said": SAID.get(request.query_params.get("said", "")),
        "base": f"{AVAILABILITY}/{volunteer.id}",
    }
    return page(request, "availability.html", context, status_code)


def forbidden(request: Request) -> Response:
    return page(request, "forbidden.html", {}, 403)


def back(volunteer: Volunteer, said: str, anchor: str) -> Response:
    return go_to(f"{AVAILABILITY}/{volunteer.id}#{anchor}", said)


async def form_fields(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {
        name: str(form.get(name, ""))[:MOST_FIELD_CHARACTERS].strip() for name in names
    }


def clock(text: str) -> time:
    """A time from a form ("14:30"); ValueError if it is not one."""
    return time.fromisoformat(text[:5])


@signed_in()
async def own_page(request: Request, session: Session) -> Response:
    """GET /console/availability: my own hours."""
    return availability_for(request, session, session.volunteer)


@signed_in()
async def availability_page(request: Request, session: Session) -> Response:
    """GET /console/availability/{id}: anyone's hours, for a coordinator."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    return availability_for(request, session, volunteer)


@signed_in()
async def add_hours_submit(request: Request, session: Session) -> Response:
    """POST /console/availability/{id}/hours: a weekly stretch of hours."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    fields = await form_fields(request, "weekday", "starts", "ends")
    try:
        add_weekly_hours(
            request.app.state.db,
            volunteer.id,
            int(fields["weekday"]),
            clock(fields["starts"]),
            clock(fields["ends"]),
        )
    except (ValueError, AvailabilityError):
        return availability_for(
            request,
            session,
            volunteer,
            "Please choose a day and two times, the second after the first.",
            400,
        )
    logger.info(
        "weekly hours added for volunteer %s by %s", volunteer.id, session.volunteer.id
    )
    return back(volunteer, "hours-added", "weekly")


@signed_in()
async def remove_hours_submit(request: Request, session: Session) -> Response:
    """POST /console/availability/{id}/hours/{hours_id}/remove."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    hours_id = request.path_params["hours_id"]
    db = request.app.state.db
    if any(stretch.id == hours_id for stretch in weekly_hours(db, volunteer.id)):
        remove_weekly_hours(db, hours_id)
    return back(volunteer, "hours-removed", "weekly")


@signed_in()
async def add_days_off_submit(request: Request, session: Session) -> Response:
    """POST /console/availability/{id}/away: whole days off, a holiday."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    fields = await form_fields(request, "first", "last", "note")
    tz = ZoneInfo(request.app.state.settings.timezone)
    today = datetime.now(timezone.utc).astimezone(tz).date()
    try:
        first = date.fromisoformat(fields["first"])
        last = date.fromisoformat(fields["last"]) if fields["last"] else first
        if last < today:
            raise ValueError("days off in the past")
        add_days_off(
            request.app.state.db,
            volunteer.id,
            first,
            last,
            fields["note"] or None,
            tz,
        )
    except (ValueError, AvailabilityError):
        return availability_for(
            request,
            session,
            volunteer,
            "Please give the first day off, and a last day that is not before "
            "it (and not in the past).",
            400,
        )
    return back(volunteer, "away-added", "changes")


@signed_in()
async def add_change_submit(request: Request, session: Session) -> Response:
    """POST /console/availability/{id}/change: part of a day away, or an
    extra time for calls."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    fields = await form_fields(request, "day", "starts", "ends", "kind", "note")
    tz = ZoneInfo(request.app.state.settings.timezone)
    add = add_extra_time if fields["kind"] == "extra" else add_time_off
    try:
        day = date.fromisoformat(fields["day"])
        start = local_datetime(day, clock(fields["starts"]), tz)
        end = local_datetime(day, clock(fields["ends"]), tz)
        if end <= datetime.now(timezone.utc):
            raise ValueError("a change in the past")
        add(request.app.state.db, volunteer.id, start, end, fields["note"] or None)
    except (ValueError, AvailabilityError):
        return availability_for(
            request,
            session,
            volunteer,
            "Please give a day to come and two times, the second after the first.",
            400,
        )
    return back(volunteer, "change-added", "changes")


@signed_in()
async def remove_change_submit(request: Request, session: Session) -> Response:
    """POST /console/availability/{id}/changes/{change_id}/remove."""
    volunteer = whose_hours(request, session)
    if volunteer is None:
        return forbidden(request)
    change_id = request.path_params["change_id"]
    db = request.app.state.db
    if any(change.id == change_id for change in one_offs(db, volunteer.id)):
        remove_one_off(db, change_id)
    return back(volunteer, "change-removed", "changes")
