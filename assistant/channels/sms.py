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
    """Split a long reply at line and sentence ends into parts of at most `limit`."""
    if len(text) <= limit:
        return [text]
    pieces = re.split(r"(?<=\n)|(?<=[.!?])\s+", text)
    parts, current = [], ""
    for piece in pieces:
        while len(piece) > limit:  # a single endless sentence: split at a space
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            piece_head, piece = piece[:cut], piece[cut:].lstrip()
            if current:
                parts.append(current.strip())
                current = ""
            parts.append(piece_head.strip())
        joiner = "" if current.endswith("\n") or not current else " "
        if len(current) + len(joiner) + len(piece) > limit:
            parts.append(current.strip())
            current = piece
        else:
            current += joiner + piece
    if current.strip():
        parts.append(current.strip())
    return parts


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
