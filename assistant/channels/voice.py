"""Twilio voice webhooks: answering calls, `<Gather>` turns, dialling, status.

With `HH_PHONE_SPEECH=twilio` every turn is a `<Gather input="speech dtmf">`
whose result comes back to /twilio/voice/gather; with the default `local` the
call is connected to our own media stream at /twilio/media instead. Either way
the conversation itself is decided in assistant.phone.

While the store is busy (another process holding its write lock) each webhook
still answers at once: the caller hears kindly that a volunteer will ring
back, and the webhook is kept in the spool and replayed once the store is free.
"""

from __future__ import annotations

import logging
import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.voice_response import Connect, Dial, Gather, VoiceResponse

from assistant.calls import ENDED, call_summary, end_call, get_call
from assistant.channels.media_stream import stream_url
from assistant.channels.twilio_common import RejectedRequest, twiml, verified_form
from assistant.handoffs import active_handoff, claim
from assistant.messages import message_status, record_inbound, set_status
from assistant.outbound import queue_sms, send_due
from assistant.phone import CHANNEL, NOBODY_ANSWERED, PhoneConversation, PhoneTurn
from assistant.residents import (
    get_resident,
    masked,
    normalise_phone,
    resident_for_phone,
)
from assistant.spoken import spoken
from assistant.spool import SpooledWebhook
from assistant.store import (
    WEBHOOK_PATIENCE_MS,
    check_writable,
    is_busy,
    patience,
    transaction,
)

logger = logging.getLogger(__name__)

GATHER_TIMEOUT_SECONDS = 6
SORRY = "I'm sorry, something has gone wrong. Please ring again in a little while."
BUSY_CALL = (
    "Hello, this is Helping Hands. I'm sorry, I can't look at your shopping "
    "just this minute. A volunteer will ring you back shortly. If it's an "
    "emergency, please ring 999. Goodbye."
)
BUSY_TURN = (
    "Thank you. I'm sorry, I can't carry on just this minute. I've kept what "
    "you said, and a volunteer will ring you back shortly. Goodbye."
)
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
    mode = state.settings.phone_speech
    if state.spool.store_busy:
        return busy_answer(state, "call", f"call:{call_sid}", form, BUSY_CALL)
    try:
        with patience(state.db, WEBHOOK_PATIENCE_MS), transaction(state.db):
            resident = resident_for_phone(state.db, phone)
            turn = PhoneConversation(state.router).opening(call_sid, resident, mode)
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        state.spool.store_busy = True
        return busy_answer(state, "call", f"call:{call_sid}", form, BUSY_CALL)
    if mode == "local":
        return stream_response(request, turn, call_sid)
    return gather_response(request, turn, call_sid)


async def gather_webhook(request: Request) -> Response:
    """POST /twilio/voice/gather?turn=N: what Twilio heard, or the key pressed."""
    try:
        form = await verified_form(request)
    except RejectedRequest as rejected:
        return rejected.response
    state = request.app.state
    call_sid = form.get("CallSid", "")
    try:
        sequence = int(request.query_params.get("turn", ""))
    except ValueError:
        sequence = None
    key = f"gather:{call_sid}:{sequence}"
    query = dict(request.query_params)
    if state.spool.store_busy:
        return busy_answer(state, "gather", key, form, BUSY_TURN, query)
    try:
        # Only a turn that can start is started: one cut short midway may
        # have been acted on, so it is not replayed, only kept for a person.
        check_writable(state.db, WEBHOOK_PATIENCE_MS)
        turn = await PhoneConversation(state.router).take(
            call_sid,
            heard=form.get("SpeechResult"),
            key=form.get("Digits") or None,
            sequence=sequence,
        )
    except Exception as error:  # noqa: BLE001 - a caller must always hear something
        if is_busy(error):
            state.spool.store_busy = True
            return busy_answer(state, "gather", key, form, BUSY_TURN, query)
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
        query = dict(request.query_params)
        try:
            with patience(state.db, WEBHOOK_PATIENCE_MS):
                put_through(state, form, query)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            state.spool.store_busy = True
            keep(state, "dial-done", f"dial-done:{call.call_sid}", form, query)
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
    if status not in ENDED:
        return Response(status_code=204)
    if state.spool.store_busy:
        keep(state, "status", f"status:{call_sid}", form)
        return Response(status_code=204)
    try:
        with patience(state.db, WEBHOOK_PATIENCE_MS):
            summary_queued = end_of_call(state, call_sid, status)
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        state.spool.store_busy = True
        keep(state, "status", f"status:{call_sid}", form)
        return Response(status_code=204)
    if summary_queued:
        await send_due(state.db, state.twilio)
    return Response(status_code=204)


def end_of_call(state, call_sid: str, status: str) -> bool:
    """Mark the call ended and queue its summary; whether one was queued."""
    if not end_call(state.db, call_sid, status):
        return False
    call = get_call(state.db, call_sid)
    resident = get_resident(state.db, call.resident_id) if call else None
    summary = call_summary(state.db, call_sid)
    logger.info(
        "call from %s ended (%s)", masked(resident.phone if resident else None), status
    )
    if summary and resident and resident.phone and not resident.sms_opted_out:
        queue_sms(state.db, resident.phone, summary, resident_id=resident.id)
        return True
    return False


def put_through(state, form: dict, query: dict) -> None:
    """The volunteer who answered the bridge has the conversation now."""
    call = get_call(state.db, form.get("CallSid", ""))
    if call is None or not call.resident_id:
        return
    handoff = active_handoff(state.db, call.resident_id)
    volunteer = query.get("volunteer", "")
    if handoff is not None and volunteer.isdigit():
        claim(state.db, handoff.id, int(volunteer))


def keep(state, kind: str, key: str, form: dict, query: dict | None = None) -> bool:
    """Spool a webhook; False (and logged) if even that failed."""
    try:
        state.spool.add(kind, key, form, query)
    except OSError:
        logger.exception("a %s webhook could not be kept for later", kind)
        return False
    return True


def busy_answer(
    state, kind: str, key: str, form: dict, words: str, query: dict | None = None
) -> Response:
    """Keep the webhook for later and say kindly that someone will ring back."""
    if not keep(state, kind, key, form, query):
        words = SORRY
    response = VoiceResponse()
    say_lines(response, [words], state.settings)
    response.hangup()
    return twiml(str(response))


async def replay_call(state, entry: SpooledWebhook) -> None:
    """A call that came in while the store was busy: a volunteer rings back."""
    phone = normalise_phone(entry.form.get("From", ""))
    resident = resident_for_phone(state.db, phone)
    logger.info("a call from %s while busy goes to a person", masked(phone))
    await state.router.open_handoff(resident, "assistant-unavailable", CHANNEL)


async def replay_gather(state, entry: SpooledWebhook) -> None:
    """A turn that could not be taken: what was said is kept, for a person."""
    form = entry.form
    call = get_call(state.db, form.get("CallSid", ""))
    phone = normalise_phone(form.get("From", ""))
    if call is not None and call.resident_id:
        resident = get_resident(state.db, call.resident_id)
    elif phone is not None:
        resident = resident_for_phone(state.db, phone)
    else:
        return
    heard = (form.get("SpeechResult") or "").strip()
    if heard:
        turn = entry.query.get("turn")
        provider_id = f"{form.get('CallSid')}:{turn}" if turn else None
        inbound_id, _ = record_inbound(
            state.db, CHANNEL, provider_id, resident.id, heard
        )
        if message_status(state.db, inbound_id) == "received":
            set_status(state.db, inbound_id, "held")
    reason = "asked-for-person" if form.get("Digits") == "0" else None
    await state.router.open_handoff(
        resident, reason or "assistant-unavailable", CHANNEL
    )


async def replay_status(state, entry: SpooledWebhook) -> None:
    """A call's end, told while the store was busy: its summary goes now."""
    form = entry.form
    if end_of_call(state, form.get("CallSid", ""), form.get("CallStatus", "")):
        await send_due(state.db, state.twilio)


async def replay_dial_done(state, entry: SpooledWebhook) -> None:
    put_through(state, entry.form, entry.query)
