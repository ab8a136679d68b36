"""Every request's body is kept small: an oversized one is refused with 413.

Nothing the gateway takes (a Twilio webhook, a tablet's tap, a console form)
comes near the limit, so a larger body is a mistake or an attack. It is
refused by its Content-Length before any of it is read, or, when no length is
declared, as soon as what has arrived passes the limit, so an oversized body
is never held in memory whole.
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.asgi import WatchedSend

logger = logging.getLogger(__name__)

MOST_BODY_BYTES = 64 * 1024
TOO_LARGE = "Request too large"


class BodyTooLarge(Exception):
    """Raised into the app when the body it is reading passes the limit."""


class BodyLimit:
    """ASGI middleware refusing HTTP request bodies over `most` bytes."""

    def __init__(self, app: ASGIApp, most: int = MOST_BODY_BYTES) -> None:
        self.app = app
        self.most = most

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_length(scope) > self.most:
            await self.refuse(scope, receive, send)
            return
        received = 0
        sending = WatchedSend(send)

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.most:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if sending.started:  # an answer under way cannot be replaced: it just ends
                logger.warning("a request body passed the limit after its answer began")
                return
            await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger.warning(
            "refused a request to %s larger than %s bytes", scope["path"], self.most
        )
        response = Response(TOO_LARGE, 413, headers={"Connection": "close"})
        await response(scope, receive, send)


def declared_length(scope: Scope) -> int:
    """The Content-Length the request declares, or 0 if none (or nonsense)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
