"""Talking to the Rasa server over its HTTP API: a turn, pause and resume."""

from __future__ import annotations

import logging

import httpx

from assistant.errors import AssistantUnavailable

logger = logging.getLogger(__name__)


class RasaClient:
    """A small async client for Rasa's REST channel and tracker API."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base_url = base_url
        self.token = token
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def turn(self, sender: str, text: str, metadata: dict) -> list[dict]:
        """Send one message; return the bot's replies (text or custom payloads).

        Raises:
            AssistantUnavailable: Rasa did not answer properly in time.
        """
        try:
            response = await self.client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
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
            response = await self.client.post(
                f"/conversations/{sender}/tracker/events",
                params={"token": self.token},
                json=events,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            names = ", ".join(str(e.get("event")) for e in events)
            raise AssistantUnavailable(f"could not add {names}") from error

    async def tracker(self, sender: str) -> dict:
        """A conversation's tracker as Rasa holds it (paused, slots, events).

        Raises:
            AssistantUnavailable: Rasa did not answer.
        """
        try:
            response = await self.client.get(
                f"/conversations/{sender}/tracker", params={"token": self.token}
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise AssistantUnavailable("could not read the conversation") from error

    async def is_ready(self) -> bool:
        """Whether Rasa answers and has a model loaded."""
        try:
            response = await self.client.get(
                "/status", params={"token": self.token}, timeout=2.0
            )
            return response.status_code == 200 and bool(
                response.json().get("model_file")
            )
        except (httpx.HTTPError, ValueError):
            return False
