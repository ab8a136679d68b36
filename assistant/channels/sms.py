"""The SMS channel: Twilio's inbound-message webhook, answered with TwiML."""

from __future__ import annotations

import logging
import re
import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from assistant import messages
from assistant.channels.twilio_common import RejectedRequest, twiml, verified_form
from assistant.conversation import UNAVAILABLE
from assistant.outbound import queue_replies, send_due
from assistant.residents import (
    Resident,
    find_by_phone,
    get_resident,
    masked,
    normalise_phone,
    resident_for_phone,
    update_resident,
)
from assistant.spool import SpooledWebhook
from assistant.store import WEBHOOK_PATIENCE_MS, is_busy, patience, transaction

logger = logging.getLogger(__name__)

CHANNEL = "sms"
SMS_PART_LIMIT = 640  # about four SMS segments: long replies come in parts
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop"}
HELP_WORDS = {"help", "info"}
HELP_REPLY = (
    "Helping Hands: text what you'd like, for example \"two pints of milk and a "
    'loaf". Text "basket" to hear your basket, or "person" to talk to a '
    "volunteer. Text STOP to stop messages."
)
STOPPED_REPLY = (
    "You won't get any more messages from Helping Hands. Text START at any "
    "time to begin again."
)
STARTED_REPLY = "Welcome back to Helping Hands. What would you like?"
EMPTY_BODY_REPLY = (
    'Your message came through empty. Please text what you\'d like, or "help".'
)
KEPT_FOR_LATER_REPLY = (
    "Thank you, your message has reached Helping Hands. We'll text you back "
    "about it shortly."
)
NOT_KEPT_REPLY = (
    "I'm sorry, I couldn't take your message just now. Please send it again "
    "in a few minutes."
)


def split_for_sms(text: str, limit: int = SMS_PART_LIMIT) -> list[str]:
    """Split a long reply into parts of at most `limit` characters.

    Lines stay whole and keep their line breaks (a basket read-back is one
    product a line); a line too long for a part is cut at sentence ends, and
    a sentence too long at a space. No part is empty and nothing is lost.
    """
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for line in text.split("\n"):
        pieces.extend(fitting_pieces(line, limit) if line.strip() else [""])
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
            continue
        if current.strip():
            parts.append(current.strip("\n"))
        current = piece
    if current.strip():
        parts.append(current.strip("\n"))
    return parts


def fitting_pieces(line: str, limit: int) -> list[str]:
    """One line as pieces of at most `limit`: sentences joined while they fit."""
    if len(line) <= limit:
        return [line]
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+", line):
        while len(sentence) > limit:  # a single endless sentence: cut at a space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        joined = f"{current} {sentence}" if current else sentence
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = sentence
    if current:
        pieces.append(current)
    return pieces


def messaging_twiml(replies: list[str]) -> Response:
    response = MessagingResponse()
    for reply in replies:
        for part in split_for_sms(reply):
            response.message(part)
    return twiml(str(response))


async def sms_webhook(request: Request) -> Response:
    """POST /twilio/sms: store the message, ask the assistant, answer in TwiML.

    While the store is busy the message is kept in the spool instead and
    answered by text once the store is free: see `replay_sms`.
    """
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    phone = normalise_phone(form.get("From", ""))
    sid = form.get("MessageSid") or form.get("SmsSid")
    if phone is None or not sid:
        logger.warning("SMS webhook without a usable From or MessageSid")
        return Response("Missing From or MessageSid", 400)
    body = form.get("Body", "").strip()

    # Messages already waiting go first, so a newer one waits behind them.
    if state.spool.pending or state.spool.store_busy:
        return keep_for_later(state, form, phone, sid, body)
    try:
        with patience(state.db, WEBHOOK_PATIENCE_MS), transaction(state.db):
            resident = resident_for_phone(state.db, phone)
            inbound_id, is_new = messages.record_inbound(
                state.db, CHANNEL, sid, resident.id, body
            )
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        state.spool.store_busy = True
        return keep_for_later(state, form, phone, sid, body)
    if not is_new:
        logger.info(
            "repeated SMS webhook from %s answered from the store", masked(phone)
        )
        return messaging_twiml(messages.replies_to(state.db, inbound_id))
    logger.info("sms received from %s", masked(phone))

    try:
        replies = await answer_sms(state, resident, body, inbound_id)
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        # The message is stored, but its turn was cut short: it may have
        # been half acted on, so a person takes it rather than a second turn.
        state.spool.store_busy = True
        return keep_for_later(state, form, phone, sid, body, "sms-interrupted")
    return messaging_twiml(replies)


async def answer_sms(
    state, resident: Resident, body: str, inbound_id: int
) -> list[str]:
    """The replies to a stored message: keywords here, the rest by the router."""
    keyword = body.lower().strip(" .!")
    if keyword in STOP_WORDS:
        update_resident(state.db, resident.id, sms_opted_out=1)
        replies = [STOPPED_REPLY]
    elif keyword in START_WORDS:
        update_resident(state.db, resident.id, sms_opted_out=0)
        replies = [STARTED_REPLY]
    elif keyword in HELP_WORDS:
        replies = [HELP_REPLY]
    elif resident.sms_opted_out:
        replies = []
    elif not body:
        replies = [EMPTY_BODY_REPLY]
    else:
        return await state.router.handle(resident, body, CHANNEL, inbound_id)
    for reply in replies:
        messages.record_outbound(state.db, resident.id, CHANNEL, reply, inbound_id)
    messages.set_status(state.db, inbound_id, "answered")
    return replies


def keep_for_later(
    state, form: dict, phone: str, sid: str, body: str, kind: str = "sms"
) -> Response:
    """Spool the message and tell the resident it has arrived."""
    try:
        state.spool.add(kind, f"sms:{sid}", form)
    except OSError:
        logger.exception("an SMS from %s could not be kept", masked(phone))
        return messaging_twiml([NOT_KEPT_REPLY])
    if body.lower().strip(" .!") in STOP_WORDS or opted_out(state, phone):
        return messaging_twiml([])
    return messaging_twiml([KEPT_FOR_LATER_REPLY])


def opted_out(state, phone: str) -> bool:
    """Whether the number has asked for no texts, if the store can say."""
    try:
        resident = find_by_phone(state.db, phone)
    except sqlite3.OperationalError:
        return False
    return resident is not None and resident.sms_opted_out


async def replay_sms(state, entry: SpooledWebhook) -> None:
    """Take a spooled SMS as the webhook would have, and text the replies.

    A message the store already holds is not taken again: answered, it was
    replayed before a restart; unanswered, its turn was cut short, and it goes
    to a person.
    """
    form = entry.form
    phone = normalise_phone(form.get("From", ""))
    sid = form.get("MessageSid") or form.get("SmsSid")
    body = form.get("Body", "").strip()
    with transaction(state.db):
        resident = resident_for_phone(state.db, phone)
        inbound_id, is_new = messages.record_inbound(
            state.db, CHANNEL, sid, resident.id, body
        )
    if not is_new:
        if messages.message_status(state.db, inbound_id) == "received":
            await hand_to_a_person(state, resident, inbound_id)
        return
    logger.info("spooled sms from %s taken", masked(phone))
    await answer_sms(state, resident, body, inbound_id)
    queue_replies(state.db, inbound_id, phone)
    await send_due(state.db, state.twilio)


async def replay_interrupted_sms(state, entry: SpooledWebhook) -> None:
    """A stored message whose turn was cut short: a person takes it up."""
    form = entry.form
    phone = normalise_phone(form.get("From", ""))
    sid = form.get("MessageSid") or form.get("SmsSid")
    body = form.get("Body", "").strip()
    resident = resident_for_phone(state.db, phone)
    inbound_id, _ = messages.record_inbound(state.db, CHANNEL, sid, resident.id, body)
    if messages.message_status(state.db, inbound_id) == "received":
        await hand_to_a_person(state, resident, inbound_id)


async def recover_interrupted_sms(state, before: str) -> int:
    """Texts stored before `before` (the gateway's start) but never answered:
    the gateway stopped in the middle of their turn, so Twilio got no answer
    and the resident no reply. Each goes to a person, and the resident is
    texted that their message is safe. Answers how many there were."""
    rows = state.db.execute(
        "SELECT id, resident_id FROM messages WHERE channel = ? AND "
        "direction = 'in' AND status = 'received' AND created_at < ? ORDER BY id",
        [CHANNEL, before],
    ).fetchall()
    recovered = 0
    for inbound_id, resident_id in rows:
        resident = get_resident(state.db, resident_id) if resident_id else None
        if resident is None or not resident.phone:
            messages.set_status(state.db, inbound_id, "failed")
            continue
        await hand_to_a_person(state, resident, inbound_id)
        if not resident.sms_opted_out:
            queue_replies(state.db, inbound_id, resident.phone)
        recovered += 1
    if recovered:
        logger.warning("%s text(s) cut off by a stop went to a person", recovered)
        await send_due(state.db, state.twilio)
    return recovered


async def hand_to_a_person(state, resident: Resident, inbound_id: int) -> None:
    logger.warning("an sms from %s goes to a person", masked(resident.phone))
    await state.router.open_handoff(resident, "assistant-unavailable", CHANNEL)
    messages.record_outbound(state.db, resident.id, CHANNEL, UNAVAILABLE, inbound_id)
    messages.set_status(state.db, inbound_id, "answered")
    queue_replies(state.db, inbound_id, resident.phone)
    await send_due(state.db, state.twilio)
