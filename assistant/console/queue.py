"""The queue: conversations waiting for a person, and those already taken."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from assistant.console.auth import signed_in
from assistant.console.rendering import page
from assistant.console.summaries import queue_entries
from assistant.handoffs import claimed_handoffs, waiting_queue
from assistant.volunteers import Session

SAID = {
    "handed-back": "Done: the assistant has the conversation again.",
    "closed": "Done: the conversation is closed.",
}


def queue_context(request: Request, session: Session) -> dict:
    db = request.app.state.db
    waiting = queue_entries(db, waiting_queue(db))
    claimed = queue_entries(db, claimed_handoffs(db))
    mine = [e for e in claimed if e.handoff.claimed_by == session.volunteer.id]
    others = [e for e in claimed if e.handoff.claimed_by != session.volunteer.id]
    return {"waiting": waiting, "mine": mine, "others": others}


@signed_in()
async def queue_page(request: Request, session: Session) -> Response:
    """GET /console/: the whole queue page."""
    context = queue_context(request, session)
    context["said"] = SAID.get(request.query_params.get("said", ""))
    return page(request, "queue.html", context)


@signed_in(live=True)
async def queue_fragment(request: Request, session: Session) -> Response:
    """GET /console/queue: the queue's lists alone, for the page to swap in."""
    return page(request, "_queue.html", queue_context(request, session))
