"""Messages we send first (volunteers' replies, alerts), queued and retried.

Each message is stored before it is sent. Sending is retried with growing
waits while Twilio cannot be reached; when Twilio may already have sent it (a
timeout after the request left), it is never sent again by itself: it waits
in the console's outbox for a person to decide. Without a Twilio account the
messages stay queued, in the outbox, until one is configured.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import sqlite_utils

from assistant.channels.twilio_rest import (
    TwilioRejected,
    TwilioRestClient,
    TwilioUncertain,
    TwilioUnreachable,
)
from assistant.residents import masked
from assistant.store import transaction, utc_now

logger = logging.getLogger(__name__)

RETRY_WAITS = [timedelta(seconds=s) for s in (5, 30, 120, 600, 1800)]
OUTBOX_STATUSES = ("outbox", "queued", "uncertain", "failed")


def queue_sms(
    db: sqlite_utils.Database,
    to_number: str,
    body: str,
    *,
    resident_id: str | None = None,
    volunteer_id: int | None = None,
    reply_to: int | None = None,
) -> int:
    """Store a text message to send; return its id."""
    return (
        db["messages"]
        .insert(
            {
                "resident_id": resident_id,
                "channel": "sms",
                "direction": "out",
                "reply_to": reply_to,
                "body": body,
                "status": "queued",
                "created_at": utc_now(),
                "volunteer_id": volunteer_id,
                "to_number": to_number,
                "attempts": 0,
                "next_attempt_at": utc_now(),
            }
        )
        .last_pk
    )


def queue_replies(
    db: sqlite_utils.Database, inbound_id: int, to_number: str | None
) -> int:
    """Send by text the replies stored for an inbound message, which could not
    go back in the webhook's answer (it was taken later); return how many."""
    if not to_number:
        return 0
    cursor = db.execute(
        "UPDATE messages SET status = 'queued', to_number = ?, attempts = 0, "
        "next_attempt_at = ? WHERE reply_to = ? AND direction = 'out' "
        "AND channel = 'sms' AND status = 'sent' AND to_number IS NULL",
        [to_number, utc_now(), inbound_id],
    )
    return cursor.rowcount


def due_messages(db: sqlite_utils.Database, now: datetime) -> list[dict]:
    return list(
        db.query(
            "SELECT id, to_number, body, attempts FROM messages "
            "WHERE status = 'queued' AND direction = 'out' AND next_attempt_at <= ? "
            "ORDER BY id",
            [now.isoformat(timespec="seconds")],
        )
    )


def _claim_for_sending(db: sqlite_utils.Database, message_id: int) -> bool:
    """Mark a message as being sent, so no other worker sends it too."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE messages SET status = 'sending', attempts = attempts + 1 "
            "WHERE id = ? AND status = 'queued'",
            [message_id],
        )
    return cursor.rowcount == 1


async def send_due(
    db: sqlite_utils.Database,
    client: TwilioRestClient | None,
    now: datetime | None = None,
) -> int:
    """Send every queued message that is due; return how many went out."""
    now = now or datetime.now(timezone.utc)
    if client is None:
        return 0  # without Twilio, queued messages wait in the outbox
    sent = 0
    for message in due_messages(db, now):
        if not _claim_for_sending(db, message["id"]):
            continue
        status, provider_id, wait = await _send_one(client, message)
        next_at = (now + wait).isoformat(timespec="seconds") if wait else None
        db.execute(
            "UPDATE messages SET status = ?, provider_id = coalesce(?, provider_id), "
            "next_attempt_at = ? WHERE id = ?",
            [status, provider_id, next_at, message["id"]],
        )
        sent += status == "sent"
    return sent


async def _send_one(
    client: TwilioRestClient, message: dict
) -> tuple[str, str | None, timedelta | None]:
    attempt = message["attempts"] + 1
    try:
        sid = await client.send_sms(message["to_number"], message["body"])
    except TwilioUnreachable:
        if attempt > len(RETRY_WAITS):
            logger.warning(
                "gave up sending message %s to %s",
                message["id"],
                masked(message["to_number"]),
            )
            return "failed", None, None
        logger.warning("Twilio unreachable; message %s will be retried", message["id"])
        return "queued", None, RETRY_WAITS[attempt - 1]
    except TwilioUncertain:
        logger.warning("message %s may or may not have been sent", message["id"])
        return "uncertain", None, None
    except TwilioRejected:
        logger.warning("Twilio refused message %s", message["id"])
        return "failed", None, None
    logger.info("sent message %s to %s", message["id"], masked(message["to_number"]))
    return "sent", sid, None


def outbox(db: sqlite_utils.Database) -> list[dict]:
    """Messages not (surely) sent: for the console's outbox."""
    return list(
        db.query(
            "SELECT m.id, m.to_number, m.body, m.status, m.attempts, m.created_at, "
            "r.name AS resident_name FROM messages m "
            "LEFT JOIN residents r ON r.id = m.resident_id "
            "WHERE m.direction = 'out' AND m.status IN ('outbox', 'queued', "
            "'uncertain', 'failed', 'sending') ORDER BY m.id DESC LIMIT 200"
        )
    )


def retry_now(db: sqlite_utils.Database, message_id: int) -> None:
    """Send an outbox message again, as a volunteer decided."""
    db.execute(
        "UPDATE messages SET status = 'queued', next_attempt_at = ? WHERE id = ? "
        "AND status IN ('outbox', 'uncertain', 'failed')",
        [utc_now(), message_id],
    )
