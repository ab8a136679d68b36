"""What every Twilio webhook shares: reading the form and checking the signature."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

TWIML_TYPE = "application/xml"


class RejectedRequest(Exception):
    """A webhook that must not be processed; carries the response to give."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def signed_url(public_url: str, request: Request) -> str:
    """The URL Twilio signed: our public address, the path and any query."""
    url = public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def verified_form(request: Request) -> dict[str, str]:
    """The webhook's form fields, once its X-Twilio-Signature has been checked.

    An oversized body never gets here: `assistant.body_limit` refuses it.

    Raises:
        RejectedRequest: 503 without a Twilio token, 403 for a missing or
            wrong signature.
    """
    settings = request.app.state.settings
    if not settings.twilio_auth_token:
        raise RejectedRequest(Response("Twilio is not configured", 503))
    body = await request.body()
    text = body.decode("utf-8", errors="replace")
    form = dict(parse_qsl(text, keep_blank_values=True))
    signature = request.headers.get("x-twilio-signature", "")
    validator = RequestValidator(settings.twilio_auth_token)
    if not signature or not validator.validate(
        signed_url(settings.public_url, request), form, signature
    ):
        logger.warning("rejected a Twilio webhook with a bad signature")
        raise RejectedRequest(Response("Forbidden", 403))
    return form


def twiml(document: str) -> Response:
    return Response(document, media_type=TWIML_TYPE)
