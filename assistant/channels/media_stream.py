"""Twilio Media Streams: the caller's audio in, our spoken replies out.

Twilio sends JSON frames over a WebSocket: connected, start, media (8 kHz
mu-law, base64), dtmf, mark (when our audio has played) and stop. We answer
with media frames of our own speech, a mark after each reply, and clear when
the caller talks over us (barge-in). When the conversation wants to put the
caller through or say goodbye, we close the stream and Twilio moves on to the
`<Redirect>` after it, where /twilio/voice/after-stream decides.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect
from twilio.request_validator import RequestValidator

from assistant.phone import REPROMPT, PhoneConversation, PhoneTurn
from assistant.spoken import spoken
from voice.audio import PHONE_RATE, SPEECH_RATE, Resampler, mulaw_to_pcm
from voice.errors import VoiceError
from voice.recognition import Final, Partial

logger = logging.getLogger(__name__)

SILENCE_REPROMPT_SECONDS = 6.0
MOST_FRAME_CHARACTERS = 64 * 1024  # a media frame is about 200; this is garbage
AUDIO_CHUNK_BYTES = 800  # 100 ms of 8 kHz mu-law per outbound frame
RECOGNISE_EVERY_BYTES = 1600  # hand the recogniser 100 ms of 16 kHz PCM at a time
SORRY = "I'm sorry, something has gone wrong. Please ring again in a little while."


def stream_url(public_url: str) -> str:
    parts = urlsplit(public_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/twilio/media"


def signature_is_valid(websocket: WebSocket) -> bool:
    """Whether the upgrade carries Twilio's signature of our stream URL."""
    settings = websocket.app.state.settings
    signature = websocket.headers.get("x-twilio-signature", "")
    if not settings.twilio_auth_token or not signature:
        return False
    validator = RequestValidator(settings.twilio_auth_token)
    url = stream_url(settings.public_url)
    # Twilio signs the URL as written in the TwiML; some of its docs show
    # the https form of the same address, so both are accepted.
    https = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    return any(
        validator.validate(candidate, {}, signature) for candidate in (url, https)
    )


async def media_stream(websocket: WebSocket) -> None:
    """WS /twilio/media: one phone call, listened to and answered."""
    if not signature_is_valid(websocket):
        logger.warning("refused a media stream with a bad signature")
        await websocket.close(code=1008)
        return
    await websocket.accept()
    call = StreamedCall(websocket)
    try:
        await call.run()
    except WebSocketDisconnect:
        logger.info("media stream for a call disconnected")
    finally:
        call.close()


class StreamedCall:
    """A call on a media stream: what it has heard and what it is saying."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.state = websocket.app.state
        self.conversation = PhoneConversation(self.state.router)
        self.stream_sid = ""
        self.call_sid = ""
        self.recogniser = None
        self.synthesis = None
        self.to_speech = Resampler(PHONE_RATE, SPEECH_RATE)
        self.heard_audio = bytearray()
        self.marks: set[str] = set()
        self.replies = 0
        self.sequence = 0
        self.listening_since: float | None = None
        self.caller_speaking = False
        self.ending: PhoneTurn | None = None

    @property
    def speaking(self) -> bool:
        return bool(self.marks)

    async def run(self) -> None:
        while True:
            try:
                text = await asyncio.wait_for(self.websocket.receive_text(), 0.5)
            except asyncio.TimeoutError:
                await self.check_silence()
                continue
            if len(text) > MOST_FRAME_CHARACTERS:
                logger.warning("ignored an oversized media stream frame")
                continue
            try:
                frame = json.loads(text)
            except ValueError:
                logger.warning("ignored a media stream frame that is not JSON")
                continue
            if not isinstance(frame, dict):
                continue
            if await self.take(frame) == "stop":
                return
            if self.ending is not None and not self.speaking:
                await self.hang_up_stream()
                return

    async def take(self, frame: dict) -> str | None:
        event = frame.get("event")
        if event == "start":
            await self.start(frame.get("start") or {})
        elif event == "media" and self.recogniser is not None:
            await self.hear(frame.get("media") or {})
        elif event == "dtmf":
            digit = str((frame.get("dtmf") or {}).get("digit", ""))[:1]
            if digit:
                await self.clear()
                await self.say(await self.conversation.take(self.call_sid, key=digit))
        elif event == "mark":
            self.marks.discard(str((frame.get("mark") or {}).get("name", "")))
            if not self.speaking:
                self.listening_since = time.monotonic()
        elif event == "stop":
            return "stop"
        return None

    async def start(self, start: dict) -> None:
        self.stream_sid = str(start.get("streamSid", ""))
        parameters = start.get("customParameters") or {}
        self.call_sid = str(parameters.get("call_sid") or start.get("callSid", ""))
        try:
            engines = await self.state.speech.engines()
        except VoiceError:
            logger.exception("speech engines unavailable for a call")
            # Nothing can be spoken here: Twilio says it after the stream.
            self.ending = PhoneTurn([SORRY], "hangup")
            self.state.after_stream[self.call_sid] = (self.ending, False)
            return
        self.recogniser = engines.recognition.recogniser()
        self.synthesis = engines.synthesis
        call = self.conversation.db.execute(
            "SELECT last_reply FROM calls WHERE call_sid = ?", [self.call_sid]
        ).fetchone()
        opening = (call[0] if call else "") or REPROMPT
        await self.say(PhoneTurn(opening.split("\n"), "listen"))

    async def hear(self, media: dict) -> None:
        if media.get("track") not in (None, "inbound"):
            return
        try:
            mulaw = base64.b64decode(str(media.get("payload", "")), validate=True)
        except (binascii.Error, ValueError):
            logger.warning("ignored a media frame with a garbled payload")
            return
        self.heard_audio += self.to_speech.convert(mulaw_to_pcm(mulaw))
        if len(self.heard_audio) < RECOGNISE_EVERY_BYTES:
            return
        chunk, self.heard_audio = bytes(self.heard_audio), bytearray()
        try:
            result = await self.state.speech.recognise(self.recogniser.accept, chunk)
        except VoiceError:
            logger.exception("speech recognition failed during a call")
            await self.stop_listening()
            return
        if isinstance(result, Partial):
            self.caller_speaking = True
            if self.speaking and result.text:
                await self.clear()  # the caller is talking over us: stop and listen
        elif isinstance(result, Final):
            self.caller_speaking = False
            if result.text.strip():
                logger.debug("heard %r (confidence %s)", result.text, result.confidence)
                self.sequence += 1
                turn = await self.conversation.take(
                    self.call_sid, heard=result.text, sequence=self.sequence
                )
                await self.say(turn)
            else:
                self.listening_since = time.monotonic()

    async def stop_listening(self) -> None:
        """Recognition has failed: say sorry and end the call, never leave the
        caller talking to nobody."""
        self.close()
        await self.clear()
        await self.say(PhoneTurn([SORRY], "hangup"))

    async def check_silence(self) -> None:
        """After our reply has played, about six seconds of quiet: ask again."""
        if (
            self.recogniser is None
            or self.speaking
            or self.caller_speaking
            or self.listening_since is None
            or self.ending is not None
        ):
            return
        if time.monotonic() - self.listening_since < SILENCE_REPROMPT_SECONDS:
            return
        self.listening_since = None
        await self.say(await self.conversation.take(self.call_sid))

    async def say(self, turn: PhoneTurn) -> None:
        """Speak a turn; remember to end the stream after it if it says so."""
        if turn.next != "listen":
            self.ending = turn
            self.state.after_stream[self.call_sid] = (turn, True)
        if self.synthesis is None:
            return
        text = "\n".join(spoken(line) for line in turn.lines if line.strip())
        if not text:
            return
        audio = await self.synthesise(text)
        if not audio:
            return
        for start in range(0, len(audio), AUDIO_CHUNK_BYTES):
            payload = base64.b64encode(audio[start : start + AUDIO_CHUNK_BYTES])
            await self.send({"event": "media", "media": {"payload": payload.decode()}})
        self.replies += 1
        mark = f"reply-{self.replies}"
        self.marks.add(mark)
        await self.send({"event": "mark", "mark": {"name": mark}})
        self.listening_since = None

    async def synthesise(self, text: str) -> bytes:
        """The reply as phone audio; a line the engine stumbles on is tried again
        sentence by sentence, so one bad line never silences the call."""
        try:
            speech = await asyncio.to_thread(self.synthesis.speak, text)
            return speech.for_phone()
        except VoiceError:
            logger.warning("speech synthesis failed; trying sentence by sentence")
            logger.debug("the text was %r", text)
        sentences = [s for s in re.split(r"(?<=[.?!:])\s+|\n", text) if s.strip()]
        audio = bytearray()
        for sentence in sentences:
            try:
                speech = await asyncio.to_thread(self.synthesis.speak, sentence)
            except VoiceError:
                logger.warning("a sentence could not be spoken; it is left out")
                continue
            audio += speech.for_phone()
        return bytes(audio)

    async def clear(self) -> None:
        """Stop what we are saying at once (barge-in, or a key pressed)."""
        if self.speaking:
            await self.send({"event": "clear"})
            self.marks.clear()
            self.listening_since = time.monotonic()

    async def send(self, message: dict) -> None:
        await self.websocket.send_text(
            json.dumps({**message, "streamSid": self.stream_sid})
        )

    async def hang_up_stream(self) -> None:
        """Close the stream: Twilio goes on to /twilio/voice/after-stream."""
        await self.websocket.close()

    def close(self) -> None:
        if self.recogniser is not None:
            self.recogniser.close()
            self.recogniser = None
