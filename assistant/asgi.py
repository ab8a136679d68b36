"""Small pieces shared by the gateway's ASGI middleware."""

from __future__ import annotations

from starlette.types import Message, Send


class WatchedSend:
    """An ASGI `send` that remembers whether the response has begun: once it
    has, a middleware can no longer answer in its place."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)
