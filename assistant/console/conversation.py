"""One handed-off conversation: the transcript, claiming, replying and handing back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from assistant.basket import basket_lines, basket_total
from assistant.console.auth import signed_in
from assistant.console.rendering import (
    PREFIX,
    RING_FAILURES,
    go_to,
    page,
    ring_failure,
)
from assistant.console.summaries import resident_name, volunteer_names
from assistant.conversation import RingBackError
from assistant.delivery import SlotRules, describe_slot, next_slot
from assistant.errors import AssistantUnavailable
from assistant.handoffs import Handoff, add_note, claim, get_handoff, notes_of
from assistant.messages import message_status, transcript
from assistant.orders import latest_order
from assistant.outbound import OUTBOX_STATUSES
from assistant.residents import get_resident
from assistant.volunteers import Session

logger = logging.getLogger(__name__)

MOST_REPLY_CHARACTERS = 1600  # ten text messages: Twilio's own limit
MOST_NOTE_CHARACTERS = 2000
MESSAGES_SHOWN = 60
UNSENT = set(OUTBOX_STATUSES) | {"sending"}


@dataclass(frozen=True)
class Line:
    """One message of the transcript, as the page shows it."""

    id: int
    incoming: bool
    author: str
    body: str
    channel: str
    created_at: str
    unsent: bool
    from_volunteer: bool


def handoff_url(handoff_id: int, anchor: str = "") -> str:
    return f"{PREFIX}/handoffs/{handoff_id}" + (f"#{anchor}" if anchor else "")


def find_handoff(request: Request) -> Handoff | None:
    try:
        handoff_id = int(request.path_params["handoff_id"])
    except (KeyError, ValueError):
        return None
    return get_handoff(request.app.state.db, handoff_id)


def not_found(request: Request) -> Response:
    return page(request, "not_found.html", {}, 404)


def is_mine(handoff: Handoff, session: Session) -> bool:
    return handoff.status == "claimed" and handoff.claimed_by == session.volunteer.id


def transcript_lines(request: Request, handoff: Handoff, show_all: bool) -> dict:
    db = request.app.state.db
    resident = get_resident(db, handoff.resident_id)
    rows = transcript(db, handoff.resident_id)
    earlier = 0 if show_all else max(0, len(rows) - MESSAGES_SHOWN)
    lines = [
        Line(
            row["id"],
            row["direction"] == "in",
            resident_name(resident)
            if row["direction"] == "in"
            else row["volunteer"] or "Assistant",
            row["body"],
            row["channel"],
            row["created_at"],
            row["direction"] == "out" and row["status"] in UNSENT,
            bool(row["volunteer"]),
        )
        for row in rows[earlier:]
    ]
    return {"lines": lines, "earlier": earlier}


def status_context(request: Request, handoff: Handoff, session: Session) -> dict:
    names = volunteer_names(request.app.state.db)
    return {
        "handoff": handoff,
        "claimer": names.get(handoff.claimed_by) if handoff.claimed_by else None,
        "mine": is_mine(handoff, session),
    }


def said_text(code: str | None, context: dict) -> tuple[str, str] | None:
    """The message shown after a form, as (kind, text); kind is "good" or "problem"."""
    name = context["resident_name"]
    texts = {
        "claimed": (
            "good",
            f"You have this conversation now. {name} will see your replies.",
        ),
        "taken": (
            "problem",
            f"Sorry, this conversation was already taken by "
            f"{context['claimer'] or 'another volunteer'}. Nothing is lost: "
            "they are looking after it.",
        ),
        "ended": ("problem", "This conversation has already ended."),
        "not-yours": (
            "problem",
            "Only the volunteer who has this conversation can do that. "
            "If it is waiting, take it first.",
        ),
        "sent": ("good", "Your reply has been sent."),
        "not-sent": (
            "problem",
            "Your reply is saved but has not gone yet. The outbox shows it; "
            "it can be sent again from there.",
        ),
        "empty-reply": ("problem", "Please write your reply first."),
        "reply-failed": (
            "problem",
            "Sorry, something went wrong and your reply was not sent. Please "
            "try again, or look in the outbox.",
        ),
        "too-long": (
            "problem",
            "That is too long for a text message; please shorten it.",
        ),
        "noted": ("good", "Your note is saved."),
        "ringing": (
            "good",
            "Your phone will ring in a moment; when you answer, we ring the "
            "resident. Neither of you sees the other's number.",
        ),
        **RING_FAILURES,
        "empty-note": ("problem", "Please write the note first."),
        "unavailable": (
            "problem",
            "The assistant isn't answering just now, so the conversation stays "
            "with you. Please try again in a minute or two.",
        ),
        "basket-changed": ("good", "The basket is changed."),
        "added": ("good", "Added to the basket."),
        "nothing-found": (
            "problem",
            "I couldn't find anything the shop sells in that. Try the words on "
            'the label, for example "2 pints of semi-skimmed milk".',
        ),
        "bad-quantity": ("problem", "Please give a number of items from 0 upwards."),
        "ordered": ("good", "The order is placed. Do tell the resident when it comes."),
        "empty-basket": (
            "problem",
            "The basket is empty, so there is nothing to order.",
        ),
    }
    return texts.get(code or "")


def handoff_context(
    request: Request, handoff: Handoff, session: Session, **extra: object
) -> dict:
    """Everything the conversation page shows."""
    state = request.app.state
    db = state.db
    resident = get_resident(db, handoff.resident_id)
    lines = basket_lines(db, handoff.resident_id)
    now = datetime.now(timezone.utc)
    try:
        slot = describe_slot(
            next_slot(SlotRules.from_settings(state.settings), now, db), now
        )
    except ValueError:
        slot = None
    context = {
        **status_context(request, handoff, session),
        **transcript_lines(request, handoff, "all" in request.query_params),
        "resident": resident,
        "resident_name": resident_name(resident),
        "basket": lines,
        "basket_total": basket_total(lines),
        "order": latest_order(db, handoff.resident_id),
        "next_slot": slot,
        "notes": notes_of(db, handoff.resident_id),
        "choosing": None,
        "unknown": [],
        "typed": "",
        "max_quantity": state.settings.max_quantity,
        **extra,
    }
    context["said"] = said_text(request.query_params.get("said"), context)
    return context


@signed_in()
async def handoff_page(request: Request, session: Session) -> Response:
    """GET /console/handoffs/{id}: the whole conversation and what can be done."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    return page(request, "handoff.html", handoff_context(request, handoff, session))


@signed_in(live=True)
async def transcript_fragment(request: Request, session: Session) -> Response:
    """GET /console/handoffs/{id}/transcript: the messages, for live updates."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    return page(request, "_transcript.html", transcript_lines(request, handoff, False))


@signed_in(live=True)
async def status_fragment(request: Request, session: Session) -> Response:
    """GET /console/handoffs/{id}/status: who has it, for live updates."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    return page(request, "_status.html", status_context(request, handoff, session))


@signed_in()
async def claim_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/claim: take a waiting conversation, if still free."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    state = request.app.state
    if handoff.status not in ("waiting", "claimed"):
        return go_to(handoff_url(handoff.id), "ended")
    if is_mine(handoff, session):
        return go_to(handoff_url(handoff.id))
    if not claim(state.db, handoff.id, session.volunteer.id):
        return go_to(handoff_url(handoff.id), "taken")
    logger.info("handoff %s claimed by volunteer %s", handoff.id, session.volunteer.id)
    state.notifier.conversation_changed(handoff.id)
    return go_to(handoff_url(handoff.id, "reply"), "claimed")


@signed_in()
async def reply_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/reply: send through the resident's own channel."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    if not is_mine(handoff, session):
        return go_to(handoff_url(handoff.id), "not-yours")
    text = str((await request.form()).get("text", "")).strip()
    if not text:
        return go_to(handoff_url(handoff.id, "reply"), "empty-reply")
    if len(text) > MOST_REPLY_CHARACTERS:
        return go_to(handoff_url(handoff.id, "reply"), "too-long")
    state = request.app.state
    resident = get_resident(state.db, handoff.resident_id)
    try:
        message_id = await state.router.send_from_volunteer(
            resident, text, session.volunteer.id, handoff.id
        )
    except Exception:  # noqa: BLE001 - the volunteer must hear, not see a 500
        logger.exception("volunteer %s's reply could not be sent", session.volunteer.id)
        return go_to(handoff_url(handoff.id, "reply"), "reply-failed")
    sent = message_status(state.db, message_id) not in UNSENT
    logger.info(
        "volunteer %s replied in handoff %s (%s)",
        session.volunteer.id,
        handoff.id,
        "sent" if sent else "not sent yet",
    )
    return go_to(handoff_url(handoff.id, "reply"), "sent" if sent else "not-sent")


@signed_in()
async def ring_back_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/ring-back: ring me, then put me through.

    The volunteer's phone rings first; when they answer, the resident is
    rung. Each sees the service's number, never the other's.
    """
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    if not is_mine(handoff, session):
        return go_to(handoff_url(handoff.id), "not-yours")
    state = request.app.state
    resident = get_resident(state.db, handoff.resident_id)
    try:
        await state.router.ring_back(resident, session.volunteer)
    except RingBackError as error:
        logger.warning("ring back in handoff %s failed: %s", handoff.id, error.code)
        return go_to(handoff_url(handoff.id, "ring"), ring_failure(error.code))
    state.notifier.conversation_changed(handoff.id)
    return go_to(handoff_url(handoff.id, "ring"), "ringing")


@signed_in()
async def note_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/notes: a note for whoever helps next."""
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    body = str((await request.form()).get("body", "")).strip()
    if not body:
        return go_to(handoff_url(handoff.id, "notes"), "empty-note")
    add_note(
        request.app.state.db,
        handoff.id,
        session.volunteer.id,
        body[:MOST_NOTE_CHARACTERS],
    )
    return go_to(handoff_url(handoff.id, "notes"), "noted")


async def end_conversation(request: Request, session: Session, close: bool) -> Response:
    handoff = find_handoff(request)
    if handoff is None:
        return not_found(request)
    if not is_mine(handoff, session):
        return go_to(handoff_url(handoff.id), "not-yours")
    try:
        await request.app.state.router.hand_back(handoff, close=close)
    except AssistantUnavailable:
        logger.warning(
            "handoff %s kept: the assistant could not be told to carry on",
            handoff.id,
        )
        return go_to(handoff_url(handoff.id), "unavailable")
    logger.info(
        "handoff %s %s by volunteer %s",
        handoff.id,
        "closed" if close else "handed back",
        session.volunteer.id,
    )
    return go_to(PREFIX + "/", "closed" if close else "handed-back")


@signed_in()
async def hand_back_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/hand-back: the assistant carries on where it was."""
    return await end_conversation(request, session, close=False)


@signed_in()
async def close_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/close: done; the assistant starts afresh."""
    return await end_conversation(request, session, close=True)
