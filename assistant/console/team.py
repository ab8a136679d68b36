"""Coordinators' pages: adding and removing volunteers, and who is on duty."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from assistant.console.auth import MOST_FIELD_CHARACTERS, signed_in
from assistant.console.rendering import PREFIX, go_to, page
from assistant.residents import normalise_phone
from assistant.volunteers import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    AccountError,
    Session,
    add_volunteer,
    all_volunteers,
    get_volunteer,
    remove_volunteer,
    set_on_duty,
)

logger = logging.getLogger(__name__)

TEAM = PREFIX + "/team"
SAID = {
    "added": "The volunteer is added. Give them their username and password.",
    "removed": "The volunteer is removed and signed out everywhere.",
    "duty": "Duty changed.",
    "not-yourself": "You can't remove your own account; ask another coordinator.",
    "unknown": "That volunteer is no longer here.",
}


def team_page_for(
    request: Request,
    form: dict | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "volunteers": all_volunteers(request.app.state.db),
        "roles": ROLES,
        "form": form or {"display_name": "", "username": "", "phone": "", "role": ""},
        "error": error,
        "min_password": MIN_PASSWORD_LENGTH,
        "said": SAID.get(request.query_params.get("said", "")),
    }
    return page(request, "team.html", context, status_code)


@signed_in(coordinator=True)
async def team_page(request: Request, session: Session) -> Response:
    """GET /console/team."""
    return team_page_for(request)


@signed_in(coordinator=True)
async def add_volunteer_submit(request: Request, session: Session) -> Response:
    """POST /console/team: a new account, with the password the coordinator chose."""
    form = await request.form()
    fields = {
        name: str(form.get(name, ""))[:MOST_FIELD_CHARACTERS].strip()
        for name in ("display_name", "username", "phone", "role")
    }
    password = str(form.get("password", ""))[:MOST_FIELD_CHARACTERS]
    phone = None
    if fields["phone"]:
        phone = normalise_phone(fields["phone"])
        if phone is None:
            return team_page_for(
                request,
                fields,
                "That phone number doesn't look right. Try 07700 900123.",
                400,
            )
    try:
        volunteer = add_volunteer(
            request.app.state.db,
            fields["username"],
            fields["display_name"],
            password,
            fields["role"] or "volunteer",
            phone,
        )
    except AccountError as error:
        messages = {
            "account-taken": "That username is taken; please choose another.",
            "account-weak-password": (
                f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
            ),
        }
        text = messages.get(error.code, "Please give a name, a username and a role.")
        return team_page_for(request, fields, text, 400)
    logger.info(
        "volunteer %s added by coordinator %s", volunteer.id, session.volunteer.id
    )
    return go_to(TEAM, "added")


def volunteer_of(request: Request):
    try:
        volunteer_id = int(request.path_params["volunteer_id"])
    except (KeyError, ValueError):
        return None
    volunteer = get_volunteer(request.app.state.db, volunteer_id)
    return volunteer if volunteer is not None and volunteer.active else None


@signed_in(coordinator=True)
async def duty_submit(request: Request, session: Session) -> Response:
    """POST /console/team/{id}/duty: on=1 puts them on duty, on=0 takes them off."""
    volunteer = volunteer_of(request)
    if volunteer is None:
        return go_to(TEAM, "unknown")
    on = str((await request.form()).get("on", "")) == "1"
    set_on_duty(request.app.state.db, volunteer.id, on)
    logger.info("volunteer %s is %s duty", volunteer.id, "on" if on else "off")
    return go_to(TEAM, "duty")


@signed_in(coordinator=True)
async def remove_submit(request: Request, session: Session) -> Response:
    """POST /console/team/{id}/remove: close the account and its sessions."""
    volunteer = volunteer_of(request)
    if volunteer is None:
        return go_to(TEAM, "unknown")
    if volunteer.id == session.volunteer.id:
        return go_to(TEAM, "not-yourself")
    remove_volunteer(request.app.state.db, volunteer.id)
    logger.info(
        "volunteer %s removed by coordinator %s", volunteer.id, session.volunteer.id
    )
    return go_to(TEAM, "removed")
