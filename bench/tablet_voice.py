"""Spoken turns over WS /tablet, as a paired tablet's microphone sends them.

Each turn is one tap of the microphone: the client sends `listen`, waits for
`listening`, then streams 16 kHz 16-bit PCM in 20 ms chunks on the clock
(quiet, the words, then quiet until the gateway says it has heard), as
the page's microphone would. Everything is timed where the tablet is, from
the send of the last chunk that holds speech.
"""

from __future__ import annotations

import asyncio
import audioop
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from assistant.channels.tablet import DEVICE_COOKIE
from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.endpointing import Endpointing
from voice.errors import SynthesisError
from voice.speech import Synthesiser, VoiceSettings

logger = logging.getLogger(__name__)

CHUNK_SECONDS = 0.02
CHUNK_BYTES = int(CHUNK_SECONDS * SPEECH_RATE) * SAMPLE_WIDTH  # 640
LEAD_IN_SECONDS = 0.3
MOST_QUIET_AFTER_SECONDS = 12.0
REPLY_TIMEOUT_SECONDS = 60.0
SPEECH_ENERGY = Endpointing().energy_floor
SYNTHESIS_TRIES = 4


@dataclass(frozen=True)
class Order:
    """A thing a resident says, and the basket change it should make."""

    text: str
    sku: str
    quantity: int


ORDERS = (
    Order("add two tins of tomato soup", "soup-tomato-400g", 2),
    Order("can I have a jar of strawberry jam please", "jam-strawberry-454g", 1),
    Order("three tins of mushy peas please", "peas-mushy-300g", 3),
    Order("I'd like some thick cut marmalade", "marmalade-thick-454g", 1),
    Order("add four tins of garden peas", "peas-garden-300g", 4),
    Order("could I have a crusty white bloomer", "bread-bloomer-white", 1),
)
VOICES = (
    ("British, 150 wpm", VoiceSettings("gmw/en", 150)),
    ("British, 130 wpm", VoiceSettings("gmw/en", 130)),
    ("RP, 150 wpm", VoiceSettings("gmw/en-gb-x-rp", 150)),
    ("American, 150 wpm", VoiceSettings("gmw/en-us", 150)),
)


@dataclass(frozen=True)
class Recording:
    order: Order
    voice: str
    pcm: bytes

    @property
    def chunks(self) -> list[bytes]:
        padded = self.pcm + b"\0" * (-len(self.pcm) % CHUNK_BYTES)
        return [
            padded[start : start + CHUNK_BYTES]
            for start in range(0, len(padded), CHUNK_BYTES)
        ]

    @property
    def last_speech(self) -> int:
        """The index of the last chunk louder than the endpointer's floor."""
        loud = [
            index
            for index, chunk in enumerate(self.chunks)
            if audioop.rms(chunk, SAMPLE_WIDTH) >= SPEECH_ENERGY
        ]
        return loud[-1] if loud else len(self.chunks) - 1

    @property
    def seconds(self) -> float:
        return len(self.pcm) / SAMPLE_WIDTH / SPEECH_RATE


def record(folder: Path) -> list[Recording]:
    """Every order in every voice, by our own text to speech, as 16 kHz PCM."""
    made = []
    for label, settings in VOICES:
        synthesiser = Synthesiser(folder / label.split(",")[0], settings)
        for order in ORDERS:
            for attempt in range(SYNTHESIS_TRIES):
                try:
                    speech = synthesiser.speak(order.text)
                    break
                except SynthesisError:
                    # pyttsx3's espeak driver now and then returns early.
                    if attempt == SYNTHESIS_TRIES - 1:
                        raise
            made.append(Recording(order, label, speech.for_tablet()))
    return made


@dataclass
class SpokenTurn:
    """One tap of the microphone, timed at the tablet (perf_counter)."""

    recording: Recording
    speech_started: float = 0.0
    last_speech_sent: float = 0.0
    first_partial: float | None = None
    heard: float | None = None
    reply: float | None = None
    audio: float | None = None
    heard_text: str = ""
    reply_text: str = ""
    audio_bytes: int = 0
    change: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def since_speech(self, moment: float | None) -> float | None:
        """Seconds from the last speech sent to `moment`; None if either is
        missing (heard before the words ended, say)."""
        if moment is None or not self.last_speech_sent:
            return None
        return moment - self.last_speech_sent

    @property
    def heard_right(self) -> bool:
        return self.heard_text.lower() == self.recording.order.text.lower()

    @property
    def right_change(self) -> bool:
        order = self.recording.order
        return self.change == {order.sku: order.quantity}


def quantities(basket: dict) -> dict[str, int]:
    return {line["sku"]: line["quantity"] for line in basket.get("lines", [])}


def basket_change(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    skus = set(before) | set(after)
    change = {sku: after.get(sku, 0) - before.get(sku, 0) for sku in skus}
    return {sku: delta for sku, delta in change.items() if delta}


async def spoken_turn(
    base_url: str, token: str, recording: Recording, before: dict[str, int]
) -> SpokenTurn:
    """Say `recording` to WS /tablet; time the caption, the reply, its audio."""
    turn = SpokenTurn(recording)
    socket_url = base_url.replace("http://", "ws://") + "/tablet"
    cookie = f"{DEVICE_COOKIE}={token}"
    async with websockets.connect(
        socket_url, origin=base_url, extra_headers={"Cookie": cookie}
    ) as socket:
        await socket.send(json.dumps({"type": "listen", "id": uuid.uuid4().hex}))
        while json.loads(await socket.recv())["type"] != "listening":
            pass
        sending = asyncio.create_task(stream(socket, recording, turn))
        try:
            reply = await asyncio.wait_for(listen(socket, turn), REPLY_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            turn.error = "no reply"
            return turn
        finally:
            sending.cancel()
    turn.reply_text = " ".join(each["text"] for each in reply.get("replies", []))
    turn.change = basket_change(before, quantities(reply.get("basket", {})))
    if reply.get("speech_url"):
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            response = await client.get(reply["speech_url"], headers={"Cookie": cookie})
        turn.audio = time.perf_counter()
        turn.audio_bytes = len(response.content) if response.status_code == 200 else 0
    return turn


async def stream(socket, recording: Recording, turn: SpokenTurn) -> None:
    """Quiet, the words, then quiet, one 20 ms chunk every 20 ms."""
    quiet = b"\0" * CHUNK_BYTES
    lead_in = [quiet] * round(LEAD_IN_SECONDS / CHUNK_SECONDS)
    after = [quiet] * round(MOST_QUIET_AFTER_SECONDS / CHUNK_SECONDS)
    chunks = lead_in + recording.chunks + after
    first_speech = len(lead_in)
    last_speech = first_speech + recording.last_speech
    started = time.perf_counter()
    for index, chunk in enumerate(chunks):
        delay = started + index * CHUNK_SECONDS - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await socket.send(chunk)
        if index == first_speech:
            turn.speech_started = time.perf_counter()
        if index == last_speech:
            turn.last_speech_sent = time.perf_counter()
        if turn.heard is not None:
            return  # the page stops its microphone once it is heard


async def listen(socket, turn: SpokenTurn) -> dict:
    """The gateway's frames until the reply; notes when each kind came."""
    while True:
        frame = json.loads(await socket.recv())
        now = time.perf_counter()
        kind = frame.get("type")
        if kind == "partial" and turn.first_partial is None:
            turn.first_partial = now
        elif kind == "heard":
            turn.heard, turn.heard_text = now, frame.get("text", "")
        elif kind in ("reply", "not-heard"):
            turn.reply = now
            if kind == "not-heard":
                turn.error = "not heard"
            return frame
        elif kind == "error":
            turn.error = frame.get("code", "error")
