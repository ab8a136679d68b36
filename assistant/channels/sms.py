"""The SMS channel: Twilio's inbound-message webhook, answered with TwiML."""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from assistant import messages
from assistant.channels.twilio_common import RejectedRequest, twiml, verified_form
from assistant.residents import (
    masked,
    normalise_phone,
    resident_for_phone,
    update_resident,
)

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
    """POST /twilio/sms: store the message, ask the assistant, answer in TwiML."""
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

    resident = resident_for_phone(state.db, phone)
    inbound_id, is_new = messages.record_inbound(
        state.db, CHANNEL, sid, resident.id, body
    )
    if not is_new:
        logger.info(
            "repeated SMS webhook from %s answered from the store", masked(phone)
        )
        return messaging_twiml(messages.replies_to(state.db, inbound_id))
    logger.info("sms received from %s", masked(phone))

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
        replies = await state.router.handle(resident, body, CHANNEL, inbound_id)
        return messaging_twiml(replies)
    for reply in replies:
        messages.record_outbound(state.db, resident.id, CHANNEL, reply, inbound_id)
    messages.set_status(state.db, inbound_id, "answered")
    return messaging_twiml(replies)
