"""Twilio voice webhooks: answering calls, `<Gather>` turns, dialling, status.

With `HH_PHONE_SPEECH=twilio` every turn is a `<Gather input="speech dtmf">`
whose result comes back to /twilio/voice/gather; with the default `local` the
call is connected to our own media stream at /twilio/media instead. Either way
the conversation itself is decided in assistant.phone.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.voice_response import Connect, Dial, Gather, VoiceResponse

from assistant.calls import ENDED, call_summary, end_call, get_call
from assistant.channels.media_stream import stream_url
from assistant.channels.twilio_common import RejectedRequest, twiml, verified_form
from assistant.handoffs import active_handoff, claim
from assistant.outbound import queue_sms, send_due
from assistant.phone import NOBODY_ANSWERED, PhoneConversation, PhoneTurn
from assistant.residents import (
    get_resident,
    masked,
    normalise_phone,
    resident_for_phone,
)
from assistant.spoken import spoken

logger = logging.getLogger(__name__)

GATHER_TIMEOUT_SECONDS = 6
SORRY = "I'm sorry, something has gone wrong. Please ring again in a little while."
# Words Twilio's recogniser is told to expect, besides the catalogue's.
COMMAND_HINTS = [
    "place my order", "read my basket", "what's in my basket", "take out",
    "talk to a person", "yes please", "no thank you", "that's all", "cancel my order",
    "where's my order", "say that again", "semi-skimmed", "a loaf", "tins of",
]  # fmt: skip
MOST_HINTS = 100


def say_lines(target, lines: list[str], settings) -> None:
    """Say each line with a short pause between, so a read-back is easy to follow."""
    for number, line in enumerate(lines):
        if number:
            target.pause(length=1)
        target.say(spoken(line), voice=settings.twilio_voice, language="en-GB")


def hints(request: Request) -> str:
    """Phrases for Twilio's recogniser: commands, then the shop's usual names."""
    cached = getattr(request.app.state, "gather_hints", None)
    if cached is not None:
        return cached
    names: list[str] = list(COMMAND_HINTS)
    for (name,) in request.app.state.db.execute(
        "SELECT name FROM products WHERE active = 1 ORDER BY rowid"
    ):
        if len(names) >= MOST_HINTS:
            break
        names.append(name.lower())
    request.app.state.gather_hints = ", ".join(names)
    return request.app.state.gather_hints


def gather_response(request: Request, turn: PhoneTurn, call_sid: str) -> Response:
    """TwiML for a turn in `<Gather>` mode: say, then listen, dial or hang up."""
    settings = request.app.state.settings
    response = VoiceResponse()
    if turn.next == "listen":
        call = get_call(request.app.state.db, call_sid)
        sequence = (call.turns if call else 0) + 1
        gather = Gather(
            input="speech dtmf",
            action=f"/twilio/voice/gather?turn={sequence}",
            method="POST",
            timeout=GATHER_TIMEOUT_SECONDS,
            speech_timeout="auto",
            num_digits=1,
            language="en-GB",
            hints=hints(request),
            action_on_empty_result=True,
        )
        say_lines(gather, turn.lines, settings)
        response.append(gather)
        return twiml(str(response))
    say_lines(response, turn.lines, settings)
    if turn.next == "connect" and turn.connect_to:
        response.append(dial_volunteer(settings, turn.connect_to, turn.volunteer_id))
    else:
        response.hangup()
    return twiml(str(response))


def dial_volunteer(settings, volunteer_phone: str, volunteer_id: int | None) -> Dial:
    """A bridge to the volunteer, showing our number, never the resident's."""
    dial = Dial(
        caller_id=settings.twilio_number,
        timeout=25,
        action=f"/twilio/voice/dial-done?volunteer={volunteer_id or ''}",
        method="POST",
    )
    dial.number(volunteer_phone)
    return dial


def stream_response(request: Request, turn: PhoneTurn, call_sid: str) -> Response:
    """TwiML connecting the call to our media stream, where we listen and speak.

    When we close the stream (to put the caller through, or to say goodbye)
    Twilio carries on with the `<Redirect>`, and after-stream decides.
    """
    settings = request.app.state.settings
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url(settings.public_url))
    stream.parameter(name="call_sid", value=call_sid)
    response.append(connect)
    response.redirect("/twilio/voice/after-stream", method="POST")
    return twiml(str(response))


async def after_stream_webhook(request: Request) -> Response:
    """POST /twilio/voice/after-stream: the stream ended; put through or hang up."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    ending = state.after_stream.pop(form.get("CallSid", ""), None)
    response = VoiceResponse()
    if ending is None:
        response.hangup()
        return twiml(str(response))
    turn, already_said = ending
    if not already_said:
        say_lines(response, turn.lines, state.settings)
    if turn.next == "connect" and turn.connect_to:
        response.append(
            dial_volunteer(state.settings, turn.connect_to, turn.volunteer_id)
        )
    else:
        response.hangup()
    return twiml(str(response))


async def voice_webhook(request: Request) -> Response:
    """POST /twilio/voice: a call comes in."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    call_sid = form.get("CallSid", "")
    phone = normalise_phone(form.get("From", ""))
    if not call_sid:
        return Response("Missing CallSid", 400)
    if phone is None:
        # A withheld number cannot be a resident's account: a person helps.
        response = VoiceResponse()
        say_lines(
            response,
            [
                "Hello, this is Helping Hands. I can't see your number, so I can't "
                "find your shopping. Please ring again without withholding your "
                "number, or text us.",
            ],
            state.settings,
        )
        response.hangup()
        return twiml(str(response))
    resident = resident_for_phone(state.db, phone)
    mode = state.settings.phone_speech
    turn = PhoneConversation(state.router).opening(call_sid, resident, mode)
    if mode == "local":
        return stream_response(request, turn, call_sid)
    return gather_response(request, turn, call_sid)


async def gather_webhook(request: Request) -> Response:
    """POST /twilio/voice/gather?turn=N: what Twilio heard, or the key pressed."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    call_sid = form.get("CallSid", "")
    try:
        sequence = int(request.query_params.get("turn", ""))
    except ValueError:
        sequence = None
    try:
        turn = await PhoneConversation(request.app.state.router).take(
            call_sid,
            heard=form.get("SpeechResult"),
            key=form.get("Digits") or None,
            sequence=sequence,
        )
    except Exception:  # noqa: BLE001 - a caller must always hear something
        logger.exception("a phone turn failed")
        turn = PhoneTurn([SORRY], "hangup")
    return gather_response(request, turn, call_sid)


async def dial_done_webhook(request: Request) -> Response:
    """POST /twilio/voice/dial-done: the bridge to a volunteer ended."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    call = get_call(state.db, form.get("CallSid", ""))
    answered = form.get("DialCallStatus") == "completed"
    response = VoiceResponse()
    if call is not None and call.resident_id and answered:
        # The volunteer who answered has the conversation now.
        handoff = active_handoff(state.db, call.resident_id)
        volunteer = request.query_params.get("volunteer", "")
        if handoff is not None and volunteer.isdigit():
            claim(state.db, handoff.id, int(volunteer))
        response.hangup()
        return twiml(str(response))
    say_lines(response, [NOBODY_ANSWERED], state.settings)
    response.hangup()
    return twiml(str(response))


async def status_webhook(request: Request) -> Response:
    """POST /twilio/voice/status: the call's status; at its end, an SMS summary."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    call_sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    if status in ENDED and end_call(state.db, call_sid, status):
        call = get_call(state.db, call_sid)
        resident = get_resident(state.db, call.resident_id) if call else None
        summary = call_summary(state.db, call_sid)
        logger.info(
            "call from %s ended (%s)",
            masked(resident.phone if resident else None),
            status,
        )
        if summary and resident and resident.phone and not resident.sms_opted_out:
            queue_sms(state.db, resident.phone, summary, resident_id=resident.id)
            await send_due(state.db, state.twilio)
    return Response(status_code=204)
