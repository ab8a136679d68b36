"""The outbox: messages not surely sent, and sending one again."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from assistant.console.auth import signed_in
from assistant.console.rendering import PREFIX, go_to, page
from assistant.messages import message_status
from assistant.outbound import outbox, retry_now, send_due
from assistant.volunteers import Session

logger = logging.getLogger(__name__)

OUTBOX = PREFIX + "/outbox"
RETRYABLE = {"outbox", "uncertain", "failed"}
SAID = {
    "sent": "Sent.",
    "queued": "It will be sent as soon as the text message service is reachable.",
    "not-retryable": "That message is already on its way.",
}


def status_words(status: str, twilio_ready: bool) -> str:
    """What a status means, for a volunteer deciding whether to send again."""
    if status == "queued":
        if not twilio_ready:
            return "Waiting: no text message account is set up yet"
        return "Waiting to be sent (will try again by itself)"
    return {
        "sending": "Being sent now",
        "uncertain": "Not sure it was sent: the service stopped answering",
        "failed": "Failed to send",
        "outbox": "Not sent",
    }.get(status, status)


@signed_in()
async def outbox_page(request: Request, session: Session) -> Response:
    """GET /console/outbox."""
    state = request.app.state
    rows = [
        {
            **row,
            "status_words": status_words(row["status"], state.twilio is not None),
            "retryable": row["status"] in RETRYABLE,
        }
        for row in outbox(state.db)
    ]
    return page(
        request,
        "outbox.html",
        {"rows": rows, "said": SAID.get(request.query_params.get("said", ""))},
    )


@signed_in()
async def retry_submit(request: Request, session: Session) -> Response:
    """POST /console/outbox/{id}/retry: send again, as the volunteer decided."""
    state = request.app.state
    try:
        message_id = int(request.path_params["message_id"])
    except (KeyError, ValueError):
        return go_to(OUTBOX, "not-retryable")
    row = state.db.execute(
        "SELECT status FROM messages WHERE id = ? AND direction = 'out'",
        [message_id],
    ).fetchone()
    if row is None or row[0] not in RETRYABLE:
        return go_to(OUTBOX, "not-retryable")
    retry_now(state.db, message_id)
    logger.info("volunteer %s sent message %s again", session.volunteer.id, message_id)
    await send_due(state.db, state.twilio)
    sent = message_status(state.db, message_id) == "sent"
    return go_to(OUTBOX, "sent" if sent else "queued")
