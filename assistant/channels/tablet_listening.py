"""The tablet's microphone: WS /tablet, streamed speech in, captions and replies out.

WebSocket /tablet, one listening at a time:

    tablet -> {"type": "listen", "id": ID}     the microphone button was tapped
    tablet -> binary frames                    16 kHz 16-bit mono PCM, ~100 ms
    tablet -> {"type": "stop"}                 tapped again: use what was said
    server -> {"type": "listening"}            the recogniser is ready
    server -> {"type": "partial", "text": T}   words so far, while speaking
    server -> {"type": "heard", "text": T}     the utterance ended; stop the mic
    server -> {"type": "reply", ...}           as POST /tablet/api/say answers
    server -> {"type": "not-heard", ...}       no words; a reply to show and say
    server -> {"type": "error", ...}           speech cannot be had just now
"""

from __future__ import annotations

import json
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from assistant.channels.tablet import (
    NO_SPEECH,
    NOT_HEARD,
    client_id,
    current_device,
    reply_view,
    same_origin,
    take_words,
)
from assistant.devices import Device
from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.errors import VoiceError
from voice.recognition import Final, Partial

logger = logging.getLogger(__name__)

CHUNK_BYTES = int(0.1 * SPEECH_RATE) * SAMPLE_WIDTH  # 100 ms for the recogniser
MOST_FRAME_BYTES = 64 * 1024
NO_SPEECH_SECONDS = 10.0  # listening with no words at all gives up after this
MOST_LISTENING_SECONDS = 40.0


async def tablet_socket(websocket: WebSocket) -> None:
    """WS /tablet: the microphone, listened to and answered (see the module)."""
    device = current_device(websocket)
    if device is None or not same_origin(websocket):
        logger.warning("refused a tablet WebSocket: not paired or another origin")
        await websocket.close(code=1008)
        return
    await websocket.accept()
    listener = TabletListener(websocket, device)
    try:
        await listener.run()
    except WebSocketDisconnect:
        logger.debug("tablet %s WebSocket closed", device.id)
    finally:
        listener.close()


class TabletListener:
    """One tablet's microphone: one listening (a tap) at a time."""

    def __init__(self, websocket: WebSocket, device: Device) -> None:
        self.websocket = websocket
        self.device = device
        self.state = websocket.app.state
        self.recogniser = None
        self.listen_id: str | None = None
        self.pending = bytearray()
        self.audio_seconds = 0.0
        self.heard_words = False

    async def run(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes") is not None:
                await self.hear(message["bytes"])
            elif message.get("text") is not None:
                await self.control(message["text"])

    async def control(self, text: str) -> None:
        try:
            frame = json.loads(text[:1000])
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        if frame.get("type") == "listen":
            listen_id = client_id(frame)
            if listen_id is not None:
                await self.listen(listen_id)
        elif frame.get("type") == "stop" and self.recogniser is not None:
            try:
                final = await self.state.speech.recognise(self.recogniser.finish)
            except VoiceError as error:
                await self.recognition_failed(error)
                return
            await self.ended(final)

    async def listen(self, listen_id: str) -> None:
        """Start listening afresh, with a new recogniser."""
        self.stop_listening()
        try:
            engines = await self.state.speech.engines()
        except VoiceError:
            logger.exception("speech engines unavailable for a tablet")
            await self.send({"type": "error", "code": "speech-unavailable"})
            await self.not_heard(NO_SPEECH)
            return
        self.recogniser = engines.recognition.recogniser()
        self.listen_id = listen_id
        self.pending = bytearray()
        self.audio_seconds = 0.0
        self.heard_words = False
        await self.send({"type": "listening"})

    async def hear(self, pcm: bytes) -> None:
        if self.recogniser is None or len(pcm) > MOST_FRAME_BYTES:
            return
        self.pending += pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]
        while len(self.pending) >= CHUNK_BYTES and self.recogniser is not None:
            chunk = bytes(self.pending[:CHUNK_BYTES])
            del self.pending[:CHUNK_BYTES]
            self.audio_seconds += len(chunk) / SAMPLE_WIDTH / SPEECH_RATE
            try:
                result = await self.state.speech.recognise(
                    self.recogniser.accept, chunk
                )
            except VoiceError as error:
                await self.recognition_failed(error)
                return
            if isinstance(result, Partial):
                self.heard_words = True
                await self.send({"type": "partial", "text": result.text})
            elif isinstance(result, Final) and result.text.strip():
                await self.ended(result)
            elif self.audio_seconds >= MOST_LISTENING_SECONDS or (
                not self.heard_words and self.audio_seconds >= NO_SPEECH_SECONDS
            ):
                try:
                    final = await self.state.speech.recognise(self.recogniser.finish)
                except VoiceError as error:
                    await self.recognition_failed(error)
                    return
                await self.ended(final)

    async def recognition_failed(self, error: VoiceError) -> None:
        """Recognition broke mid-listening: stop, and tell the tablet so."""
        logger.warning("speech recognition failed for a tablet: %s", error)
        self.stop_listening()
        await self.send({"type": "error", "code": "speech-unavailable"})
        await self.not_heard(NO_SPEECH)

    async def ended(self, final: Final | None) -> None:
        """The utterance is over: answer what was said, or say nothing was."""
        listen_id = self.listen_id
        self.stop_listening()
        text = final.text.strip() if final is not None else ""
        if not text or listen_id is None:
            await self.not_heard(NOT_HEARD)
            return
        logger.debug(
            "tablet %s heard %r (confidence %s)",
            self.device.id,
            text,
            final.confidence,
        )
        await self.send({"type": "heard", "text": text})
        view = await take_words(self.websocket, self.device, text, listen_id, text)
        await self.send({"type": "reply", **view})

    async def not_heard(self, words: str) -> None:
        await self.send(
            {
                "type": "not-heard",
                **reply_view(self.websocket, self.device.resident_id, [words]),
            }
        )

    async def send(self, message: dict) -> None:
        try:
            await self.websocket.send_text(json.dumps(message))
        except RuntimeError as error:
            # The tablet went away mid-turn; what it said is stored and
            # answered, and shows again when the page comes back.
            raise WebSocketDisconnect(1006) from error

    def stop_listening(self) -> None:
        if self.recogniser is not None:
            self.recogniser.close()
        self.recogniser = None
        self.listen_id = None
        self.pending = bytearray()

    def close(self) -> None:
        self.stop_listening()
