"""Telling open console pages that something changed, so they update live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

SUBSCRIBER_BACKLOG = 100


class Broadcaster:
    """Publishes short event names ("queue", "handoff:12") to every subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[str]] = set()

    def publish(self, event: str) -> None:
        for queue in list(self._subscribers):
            if queue.qsize() < SUBSCRIBER_BACKLOG:
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def listeners(self) -> int:
        return len(self._subscribers)
