"""Live updates for open console pages, as Server-Sent Events.

Each event's data is a short name: "queue" when the queue changed, and
"handoff:12" when conversation 12 changed (a message, a claim, an ending). A
page refetches the parts of itself that listen for that name.

Events come from two places. This gateway's Broadcaster tells of what happens
in this process at once. But handoffs and messages are also written by other
processes (the Rasa action server, the terminal chat) that cannot reach it, so
the stream also looks at the database every couple of seconds and reports
what changed there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import sqlite_utils
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from assistant.console.auth import SESSION_COOKIE, signed_in
from assistant.volunteers import Session, session_for

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
KEEP_ALIVE_SECONDS = 15.0
# A stream ends after a while and the browser opens a new one at once. This
# keeps a server that is shutting down from waiting on streams for long.
STREAM_SECONDS = 60.0
RECONNECT_MILLISECONDS = 1000


class ChangeWatcher:
    """Notices changes to handoffs and messages made by any process."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.handoffs = self.active_handoffs()
        self.last_message = self.latest_message()

    def active_handoffs(self) -> dict[int, tuple]:
        return {
            row[0]: tuple(row[1:])
            for row in self.db.execute(
                "SELECT id, status, claimed_by, urgent, reason FROM handoffs "
                "WHERE status IN ('waiting', 'claimed')"
            ).fetchall()
        }

    def latest_message(self) -> int:
        row = self.db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
        return row[0]

    def changes(self) -> list[str]:
        """The event names for what changed since the last look."""
        names: list[str] = []
        handoffs = self.active_handoffs()
        changed = {
            handoff_id
            for handoff_id in handoffs.keys() | self.handoffs.keys()
            if handoffs.get(handoff_id) != self.handoffs.get(handoff_id)
        }
        self.handoffs = handoffs
        latest = self.latest_message()
        if latest != self.last_message:
            changed.update(
                row[0]
                for row in self.db.execute(
                    "SELECT DISTINCT h.id FROM messages m JOIN handoffs h "
                    "ON h.resident_id = m.resident_id "
                    "WHERE m.id > ? AND h.status IN ('waiting', 'claimed')",
                    [self.last_message],
                ).fetchall()
            )
            self.last_message = latest
        if changed:
            names.append("queue")
            names.extend(f"handoff:{handoff_id}" for handoff_id in sorted(changed))
        return names


def event_text(name: str) -> str:
    return f"data: {name}\n\n"


async def event_stream(request: Request, token: str | None) -> AsyncIterator[str]:
    """Events for one open page, until it closes, signs out or the time is up."""
    state = request.app.state
    loop = asyncio.get_running_loop()
    async with state.events.subscribe() as published:
        watcher = ChangeWatcher(state.db)
        yield f"retry: {RECONNECT_MILLISECONDS}\n: connected\n\n"
        started = last_poll = last_sent = loop.time()
        while loop.time() - started < STREAM_SECONDS:
            due = min(
                last_poll + POLL_SECONDS,
                last_sent + KEEP_ALIVE_SECONDS,
                started + STREAM_SECONDS,
            )
            wait = max(0.0, due - loop.time())
            names: list[str] = []
            try:
                names.append(await asyncio.wait_for(published.get(), wait))
                while not published.empty():
                    names.append(published.get_nowait())
            except asyncio.TimeoutError:
                pass
            if loop.time() - last_poll >= POLL_SECONDS or names:
                if session_for(state.db, token) is None:
                    yield "event: signed-out\ndata: signed-out\n\n"
                    return
                names.extend(watcher.changes())
                last_poll = loop.time()
            for name in dict.fromkeys(names):
                yield event_text(name)
                last_sent = loop.time()
            if loop.time() - last_sent >= KEEP_ALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = loop.time()


@signed_in(live=True)
async def events(request: Request, session: Session) -> Response:
    """GET /console/events: the event stream for open console pages."""
    return StreamingResponse(
        event_stream(request, request.cookies.get(SESSION_COOKIE)),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        },
    )
