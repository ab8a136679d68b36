"""Talking to the Rasa server over its HTTP API: a turn, pause and resume.

The client is aiohttp's, as Rasa's own is: on this path it costs about a
quarter of httpx's time per request (docs/benchmarks.md, *Where a turn's time
goes*), and every resident's turn passes through it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from assistant.errors import AssistantUnavailable

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 2.0
STATUS_TIMEOUT_SECONDS = 2.0
MOST_CONNECTIONS = 100
# Idle connections are dropped well before Rasa's own 120 s keep-alive ends,
# so a turn never goes out on a connection Rasa is closing.
KEEP_ALIVE_SECONDS = 15
# A failure of the connection, the HTTP exchange or the time allowed.
FAILURES = (aiohttp.ClientError, asyncio.TimeoutError)


class RasaClient:
    """A small async client for Rasa's REST channel and tracker API.

    The HTTP session opens on first use, inside the running event loop, and
    keeps its connections to Rasa alive between turns.
    """

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(
            total=timeout, connect=CONNECT_TIMEOUT_SECONDS
        )
        self.session: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(
                    limit=MOST_CONNECTIONS, keepalive_timeout=KEEP_ALIVE_SECONDS
                ),
                raise_for_status=True,
            )
        return self.session

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        with_token: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """One request to Rasa; its answer decoded from JSON (None if empty).

        Raises:
            aiohttp.ClientError, asyncio.TimeoutError: no proper answer in time.
            ValueError: the answer was not JSON.
        """
        options: dict[str, Any] = {}
        if timeout is not None:  # None here would mean no time limit at all
            options["timeout"] = aiohttp.ClientTimeout(
                total=timeout, connect=CONNECT_TIMEOUT_SECONDS
            )
        async with self.http().request(
            method,
            self.base_url + path,
            json=body,
            params={"token": self.token} if with_token else None,
            **options,
        ) as response:
            content = await response.read()
        return json.loads(content) if content.strip() else None

    async def turn(self, sender: str, text: str, metadata: dict) -> list[dict]:
        """Send one message; return the bot's replies (text or custom payloads).

        Raises:
            AssistantUnavailable: Rasa did not answer properly in time.
        """
        try:
            replies = await self.request(
                "POST",
                "/webhooks/rest/webhook",
                body={"sender": sender, "message": text, "metadata": metadata},
            )
        except (*FAILURES, ValueError) as error:
            logger.warning("rasa turn failed: %s", type(error).__name__)
            raise AssistantUnavailable("the assistant did not answer") from error
        if not isinstance(replies, list):
            raise AssistantUnavailable("the assistant answered nonsense")
        return replies

    async def add_event(self, sender: str, event: str) -> None:
        """Append an event such as pause or resume to a conversation."""
        await self.add_events(sender, [{"event": event}])

    async def add_events(self, sender: str, events: list[dict]) -> None:
        """Append events to a conversation through Rasa's tracker API.

        Raises:
            AssistantUnavailable: Rasa did not take them.
        """
        try:
            await self.request(
                "POST",
                f"/conversations/{sender}/tracker/events",
                body=events,
                with_token=True,
            )
        except (*FAILURES, ValueError) as error:
            names = ", ".join(str(e.get("event")) for e in events)
            raise AssistantUnavailable(f"could not add {names}") from error

    async def tracker(self, sender: str) -> dict:
        """A conversation's tracker as Rasa holds it (paused, slots, events).

        Raises:
            AssistantUnavailable: Rasa did not answer.
        """
        try:
            tracker = await self.request(
                "GET", f"/conversations/{sender}/tracker", with_token=True
            )
        except (*FAILURES, ValueError) as error:
            raise AssistantUnavailable("could not read the conversation") from error
        if not isinstance(tracker, dict):
            raise AssistantUnavailable("the conversation came back as nonsense")
        return tracker

    async def is_ready(self) -> bool:
        """Whether Rasa answers and has a model loaded."""
        try:
            status = await self.request(
                "GET", "/status", with_token=True, timeout=STATUS_TIMEOUT_SECONDS
            )
        except (*FAILURES, ValueError):
            return False
        return isinstance(status, dict) and bool(status.get("model_file"))
