"""Signing volunteers in and out, and guarding every console page and form.

A signed-in volunteer carries a session cookie (HttpOnly, SameSite=Lax, Secure
when the console is served over https, limited to /console). Every form posts
the session's CSRF token in a hidden field. The sign-in form, which has no
session yet, is protected by a double-submit cookie instead: a random value
both in a cookie and in the form, which another site can neither read nor set.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from assistant.console.rendering import PREFIX, go_to, page
from assistant.volunteers import (
    SESSION_HOURS,
    Session,
    SignInRefused,
    session_for,
    sign_in,
    sign_out,
)

logger = logging.getLogger(__name__)

SESSION_COOKIE = "hh_session"
SIGN_IN_COOKIE = "hh_sign_in"
SIGN_IN_COOKIE_SECONDS = 60 * 60
CSRF_FIELD = "csrf"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
MOST_FIELD_CHARACTERS = 200

Endpoint = Callable[[Request, Session], Awaitable[Response]]


def cookies_secure(request: Request) -> bool:
    """Secure cookies whenever volunteers reach the console over https."""
    return request.app.state.settings.public_url.startswith("https://")


def set_console_cookie(
    request: Request, response: Response, name: str, value: str, seconds: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=PREFIX,
        secure=cookies_secure(request),
        httponly=True,
        samesite="lax",
    )


def current_session(request: Request) -> Session | None:
    return session_for(request.app.state.db, request.cookies.get(SESSION_COOKIE))


def same_token(given: object, expected: str | None) -> bool:
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def safe_next(target: object) -> str:
    """Where to go after signing in: only ever a console page of ours."""
    if (
        isinstance(target, str)
        and target.startswith(PREFIX + "/")
        and not target.startswith(PREFIX + "/sign-in")
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return PREFIX + "/"


def signed_in(
    *, coordinator: bool = False, live: bool = False
) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Let an endpoint run only for a signed-in volunteer of the right role.

    A page asks the signed-out to sign in; a live fragment or event stream
    answers 401, so the page's script can reload into the sign-in page. Every
    POST must carry the session's CSRF token.

    Args:
        coordinator: only coordinators may use it; others get 403.
        live: a fragment or stream fetched by the page's script.
    """

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            session = current_session(request)
            if session is None:
                if live:
                    return PlainTextResponse("Please sign in", 401)
                target = request.url.path if request.method == "GET" else None
                wanted = target and target != PREFIX + "/"
                query = f"?next={quote(target)}" if wanted else ""
                return go_to(f"{PREFIX}/sign-in{query}")
            request.state.session = session
            if coordinator and not session.volunteer.is_coordinator:
                return page(request, "forbidden.html", {}, 403)
            if request.method == "POST":
                form = await request.form()
                if not same_token(form.get(CSRF_FIELD), session.csrf_token):
                    logger.warning(
                        "refused a console form without a valid CSRF token (%s)",
                        request.url.path,
                    )
                    return page(request, "expired.html", {}, 403)
            return await endpoint(request, session)

        return guarded

    return decorate


def sign_in_form(
    request: Request,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> Response:
    """The sign-in page, its double-submit token in both form and cookie.

    A token already in the cookie is kept, so that sign-in pages open in
    several tabs all still work.
    """
    token = request.cookies.get(SIGN_IN_COOKIE, "")
    if not TOKEN_SHAPE.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = page(
        request,
        "sign_in.html",
        {
            "error": error,
            "sign_in_token": token,
            "username": username,
            "next": safe_next(request.query_params.get("next")),
            "said": request.query_params.get("said"),
        },
        status_code,
    )
    set_console_cookie(request, response, SIGN_IN_COOKIE, token, SIGN_IN_COOKIE_SECONDS)
    return response


async def sign_in_page(request: Request) -> Response:
    """GET /console/sign-in."""
    if current_session(request) is not None:
        return go_to(safe_next(request.query_params.get("next")))
    return sign_in_form(request)


async def sign_in_submit(request: Request) -> Response:
    """POST /console/sign-in: check the form's token, then name and password."""
    form = await request.form()
    username = str(form.get("username", ""))[:MOST_FIELD_CHARACTERS].strip()
    password = str(form.get("password", ""))[:MOST_FIELD_CHARACTERS]
    if not same_token(form.get(CSRF_FIELD), request.cookies.get(SIGN_IN_COOKIE)):
        logger.warning("refused a sign-in form without a matching token")
        return sign_in_form(
            request,
            "This page had been open too long. Please sign in again.",
            403,
            username,
        )
    client = request.client.host if request.client else "unknown"
    try:
        token = sign_in(request.app.state.db, username, password, client)
    except SignInRefused as refused:
        if refused.code == "sign-in-rate-limited":
            logger.warning("sign-in refused: too many attempts")
            return sign_in_form(
                request,
                "Too many attempts. Please try again in a quarter of an hour.",
                429,
                username,
            )
        logger.info("sign-in refused: wrong name or password")
        return sign_in_form(
            request,
            "That name and password don't match. Please try again.",
            401,
            username,
        )
    session = session_for(request.app.state.db, token)
    logger.info("volunteer %s signed in", session.volunteer.id if session else "?")
    response = go_to(safe_next(form.get("next")))
    set_console_cookie(request, response, SESSION_COOKIE, token, SESSION_HOURS * 3600)
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@signed_in()
async def sign_out_submit(request: Request, session: Session) -> Response:
    """POST /console/sign-out."""
    sign_out(request.app.state.db, request.cookies.get(SESSION_COOKIE))
    logger.info("volunteer %s signed out", session.volunteer.id)
    response = go_to(f"{PREFIX}/sign-in", "signed-out")
    response.delete_cookie(
        SESSION_COOKIE,
        path=PREFIX,
        secure=cookies_secure(request),
        httponly=True,
        samesite="lax",
    )
    return response
