"""A simulated caller on a Twilio media stream, sending audio in real time.

The caller rings as Twilio would (a signed POST /twilio/voice), opens the
WebSocket with Twilio's signature and its connected and start frames, then
sends a 20 ms mu-law media frame every 20 ms for as long as the call lasts:
the words it says, and quiet in between, as a phone line carries. It hears
our replies (media frames and a mark after each) and echoes the mark as
Twilio does once the reply has played: at once, or after the reply's length
in real time when `plays_replies` is set.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import websockets
from twilio.request_validator import RequestValidator

from assistant.channels.media_stream import stream_url
from bench.phone_utterances import FRAME_BYTES, FRAME_SECONDS, frames, last_speech_frame
from bench.stack import PUBLIC_URL, TWILIO_ACCOUNT, TWILIO_NUMBER, TWILIO_TOKEN
from voice.audio import PHONE_RATE

logger = logging.getLogger(__name__)

QUIET_FRAME = b"\xff" * FRAME_BYTES
REPLY_TIMEOUT_SECONDS = 15
_call_numbers = itertools.count(1)


@dataclass
class Line:
    """Something the caller says: its text and its 20 ms frames."""

    text: str
    frames: list[bytes]
    last_speech: int
    """The index of its last frame that is not quiet."""

    @classmethod
    def from_audio(cls, text: str, mulaw: bytes) -> Line:
        return cls(text, frames(mulaw), last_speech_frame(mulaw))


@dataclass
class Turn:
    """One thing said and the reply it got, timed at the caller."""

    call_sid: str
    said: str
    speech_started: float = 0.0
    last_speech_sent: float = 0.0
    first_reply: float | None = None
    reply_seconds: float = 0.0
    """How long the reply's audio lasts."""

    @property
    def latency(self) -> float | None:
        if self.first_reply is None:
            return None
        return self.first_reply - self.last_speech_sent


@dataclass
class Reply:
    started: float
    audio_bytes: int = 0


@dataclass
class StreamCaller:
    """One phone call over a media stream, from the caller's side."""

    base_url: str
    phone: str
    plays_replies: bool = False
    call_sid: str = field(default_factory=lambda: f"CA{next(_call_numbers):032d}")
    turns: list[Turn] = field(default_factory=list)
    late_frames: int = 0
    """Frames this caller sent more than 20 ms after they were due."""
    ended: bool = False

    def __post_init__(self) -> None:
        self.stream_sid = "MZ" + self.call_sid[2:]
        self._outgoing: deque[tuple[bytes, Turn | None]] = deque()
        self._reply: Reply | None = None
        self._replied = asyncio.Event()
        self._spoken = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._echoes: set[asyncio.Task] = set()
        self._websocket = None

    async def ring(self, client: httpx.AsyncClient) -> None:
        """The call arrives: POST /twilio/voice, signed as Twilio signs it."""
        params = {
            "CallSid": self.call_sid,
            "AccountSid": TWILIO_ACCOUNT,
            "From": self.phone,
            "To": TWILIO_NUMBER,
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            PUBLIC_URL + "/twilio/voice", params
        )
        response = await client.post(
            self.base_url + "/twilio/voice",
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        response.raise_for_status()
        if "<Stream" not in response.text:
            raise RuntimeError("the call was not connected to a media stream")

    async def connect(self) -> None:
        """Open the stream and start sending the line's audio."""
        url = self.base_url.replace("http://", "ws://") + "/twilio/media"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            stream_url(PUBLIC_URL), {}
        )
        self._websocket = await websockets.connect(
            url, extra_headers={"X-Twilio-Signature": signature}, max_queue=None
        )
        started = time.time()
        await self._send({"event": "connected", "protocol": "Call", "version": "1"})
        await self._send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {
                    "streamSid": self.stream_sid,
                    "accountSid": TWILIO_ACCOUNT,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": {
                        "call_sid": self.call_sid,
                        "bench_started": repr(started),
                    },
                    "mediaFormat": {
                        "encoding": "audio/x-mulaw",
                        "sampleRate": PHONE_RATE,
                        "channels": 1,
                    },
                },
            }
        )
        self._tasks = [
            asyncio.create_task(self._send_audio(started)),
            asyncio.create_task(self._listen()),
        ]

    async def wait_for_reply(self, timeout: float = REPLY_TIMEOUT_SECONDS) -> bool:
        """Wait until a reply has been heard (and played); False if none came."""
        if not await self._wait(self._replied, timeout):
            return False
        self._replied.clear()
        return not self.ended

    async def _wait(self, event: asyncio.Event, timeout: float) -> bool:
        """Wait for `event`, but not past the end of the call or `timeout`.

        The call can end (the gateway closing the stream after a goodbye or
        a handoff) between a reply and the next line, so the end is checked
        as well as the event."""
        deadline = time.monotonic() + timeout
        while not event.is_set() and not self.ended:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), min(left, 0.2))
            except asyncio.TimeoutError:
                continue
        return event.is_set() and not self.ended

    async def say(self, line: Line) -> Turn:
        """Say `line`, then wait for the reply and for it to play."""
        turn = Turn(self.call_sid, line.text)
        if self.ended:
            return turn
        self._replied.clear()
        self._spoken.clear()
        for index, frame in enumerate(line.frames):
            self._outgoing.append((frame, turn if index == line.last_speech else None))
        turn.speech_started = time.time()
        self.turns.append(turn)
        # Long enough for the longest line; it ends sooner if the call does.
        await self._wait(self._spoken, len(line.frames) * FRAME_SECONDS + 10)
        await self.wait_for_reply()
        return turn

    async def pause(self, seconds: float) -> None:
        """Say nothing for a while (the line still carries quiet)."""
        await asyncio.sleep(seconds)

    async def hang_up(self) -> None:
        if self._websocket is not None and not self.ended:
            try:
                await self._send({"event": "stop", "streamSid": self.stream_sid})
                await self._websocket.close()
            except websockets.ConnectionClosed:
                pass
        self.ended = True
        tasks = [*self._tasks, *self._echoes]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _send(self, message: dict) -> None:
        await self._websocket.send(
            json.dumps({**message, "streamSid": self.stream_sid})
        )

    async def _send_audio(self, started: float) -> None:
        """A media frame every 20 ms, on the clock: words when there are some."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        for number in itertools.count():
            frame, turn = (
                self._outgoing.popleft() if self._outgoing else (QUIET_FRAME, None)
            )
            payload = base64.b64encode(frame).decode()
            await self._send(
                {
                    "event": "media",
                    "sequenceNumber": str(number + 2),
                    "media": {
                        "track": "inbound",
                        "chunk": str(number + 1),
                        "timestamp": str(round(number * FRAME_SECONDS * 1000)),
                        "payload": payload,
                    },
                }
            )
            if turn is not None:
                turn.last_speech_sent = time.time()
                self._spoken.set()
            due += FRAME_SECONDS
            delay = due - loop.time()
            if delay < -FRAME_SECONDS:
                self.late_frames += 1
            await asyncio.sleep(max(delay, 0))

    async def _listen(self) -> None:
        try:
            async for text in self._websocket:
                now = time.time()
                message = json.loads(text)
                event = message.get("event")
                if event == "media":
                    self._heard_audio(message, now)
                elif event == "mark":
                    self._echoes.add(
                        asyncio.create_task(self._reply_ended(message["mark"]["name"]))
                    )
        except websockets.ConnectionClosed:
            pass
        finally:
            self.ended = True
            self._replied.set()
            self._spoken.set()

    def _heard_audio(self, message: dict, now: float) -> None:
        if self._reply is None:
            self._reply = Reply(now)
            turn = self.turns[-1] if self.turns else None
            if turn and turn.last_speech_sent and turn.first_reply is None:
                turn.first_reply = now
        self._reply.audio_bytes += len(message["media"]["payload"]) * 3 // 4

    async def _reply_ended(self, name: str) -> None:
        reply, self._reply = self._reply, None
        seconds = reply.audio_bytes / PHONE_RATE if reply else 0.0
        turn = self.turns[-1] if self.turns else None
        if turn is not None and turn.first_reply is not None and not turn.reply_seconds:
            turn.reply_seconds = seconds
        if self.plays_replies and reply is not None:
            # Twilio plays what it was sent in real time, then echoes the mark.
            await asyncio.sleep(max(0.0, reply.started + seconds - time.time()))
        try:
            await self._send({"event": "mark", "mark": {"name": name}})
        except websockets.ConnectionClosed:
            pass
        self._replied.set()
        self._echoes.discard(asyncio.current_task())
