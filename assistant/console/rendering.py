"""Turning console pages into HTML: the Jinja environment, filters and headers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from assistant.wording import money

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/console"
CHANNEL_NAMES = {
    "sms": "Text message",
    "phone": "Phone call",
    "voice": "Phone call",
    "tablet": "Tablet",
    "terminal": "Terminal chat",
}
# (label, path, for coordinators only). Pairing tablets will be one more entry.
NAVIGATION = (
    ("Conversations", PREFIX + "/", False),
    ("Outbox", PREFIX + "/outbox", False),
    ("Team", PREFIX + "/team", True),
)
# Pages show residents' details: never cached, never framed, scripts only ours.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def environment() -> jinja2.Environment:
    """The console's templates, every value escaped unless marked safe."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["channel_name"] = channel_name
    env.filters["percent"] = percent
    return env


def channel_name(channel: str | None) -> str:
    if not channel:
        return "Unknown channel"
    return CHANNEL_NAMES.get(channel, channel.capitalize())


def percent(confidence: float | None) -> str:
    return "not known" if confidence is None else f"{round(confidence * 100)}%"


def as_moment(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_time(value: datetime | str, zone: str, now: datetime | None = None) -> str:
    """ "14:05" today, "yesterday 14:05", else "Tue 3 Dec 14:05"."""
    moment = as_moment(value).astimezone(ZoneInfo(zone))
    today = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(zone)).date()
    clock = moment.strftime("%H:%M")
    if moment.date() == today:
        return clock
    if moment.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b')} {clock}"


def how_long(span: timedelta) -> str:
    """ "just now", "4 min", "1 hr 5 min", "3 days"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} hr {minutes} min" if minutes else f"{hours} hr"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


def page(
    request: Request, template: str, context: dict, status_code: int = 200
) -> HTMLResponse:
    """Render a template with what every page needs: the session and the clock."""
    settings = request.app.state.settings
    now = datetime.now(timezone.utc)
    session = getattr(request.state, "session", None)
    values = {
        "session": session,
        "nav": navigation(session),
        "path": request.url.path,
        "now": now,
        "when": lambda value: local_time(value, settings.timezone, now),
        "waited": lambda since: how_long(now - as_moment(since)),
        **context,
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code, headers=SECURITY_HEADERS)


def navigation(session) -> list[tuple[str, str]]:
    if session is None:
        return []
    coordinator = session.volunteer.is_coordinator
    return [
        (label, path) for label, path, only in NAVIGATION if coordinator or not only
    ]


def go_to(path: str, said: str | None = None) -> RedirectResponse:
    """Redirect after a form (303, so the browser follows with a GET)."""
    if said:
        path, _, anchor = path.partition("#")
        path += ("&" if "?" in path else "?") + "said=" + said
        path += f"#{anchor}" if anchor else ""
    return RedirectResponse(path, 303, headers=SECURITY_HEADERS)


# What a volunteer is told when ringing (a call back or a booked call) fails,
# by the notice key that `ring_failure` gives the error.
RING_FAILURES = {
    "no-number": (
        "problem",
        "I need a mobile number for you (ask a coordinator) and one for the "
        "resident to put the call through.",
    ),
    "no-twilio": (
        "problem",
        "Calls need the Twilio account, which is not set up here.",
    ),
    "ring-failed": (
        "problem",
        "Twilio would not start the call just now. Please try again shortly.",
    ),
}


def ring_failure(code: str) -> str:
    """The notice key (in RING_FAILURES) for a RingBackError's code."""
    return {
        "ring-back-no-number": "no-number",
        "ring-back-no-twilio": "no-twilio",
    }.get(code, "ring-failed")
