"""A kind "busy, try again" page when the store cannot take a console's write."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.asgi import WatchedSend
from assistant.console.rendering import PREFIX, page
from assistant.store import is_busy

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10


class BusyStorePage:
    """Middleware for the console's pages (the rest of the gateway passes
    through): a busy store is a 503 page asking the volunteer to try again,
    not a server error.

    Only a page not yet begun can be replaced; the live event stream, already
    under way, ends as it would for any other failure.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        sending = WatchedSend(send)
        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if sending.started or not is_busy(error):
                raise
            logger.warning("the store was busy for a console request; asked to retry")
            response = page(Request(scope), "busy.html", {}, 503)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
