"""Real calls over the media stream: one at a time for the turn's latency, then
many at once, to see how many the gateway hears in real time."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import SimulatedResident
from bench.phone_caller import Line, StreamCaller, Turn
from bench.phone_utterances import Speaker, phone_audio

logger = logging.getLogger(__name__)

CALLER = Speaker("British, 150 wpm", "gmw/en", 150)
# An ordering call, said again from the top for as long as a call lasts.
SCRIPT = (
    "hello there",
    "add two tins of baked beans",
    "a pint of semi skimmed milk please",
    "what's in my basket",
    "where's my order",
    "place my order",
    "yes please",
    "say that again please",
)
THINKING_SECONDS = 0.6
LEVELS = (1, 5, 10, 15)
LEVEL_SECONDS = 40
STAGGER_SECONDS = 4.0
GREETING_TIMEOUT_SECONDS = 120  # the first call may wait for the engines
# The quiet a detector needs is 0.8 s; a reply this much later than that is
# the silence reprompt, not an answer.
WINDOW_SECONDS = 3.0


def script_lines(folder: Path) -> list[Line]:
    audio = phone_audio(CALLER, list(SCRIPT), folder)
    return [
        Line.from_audio(text, mulaw) for text, mulaw in zip(SCRIPT, audio, strict=True)
    ]


async def hold_call(
    base_url: str,
    client: httpx.AsyncClient,
    resident: SimulatedResident,
    lines: Sequence[Line],
    *,
    plays_replies: bool,
    until: float,
    most_turns: int | None = None,
    first_pause: float = 0.0,
) -> StreamCaller:
    """One call: ring, hear the greeting, then say the script until `until`."""
    caller = StreamCaller(base_url, resident.phone, plays_replies=plays_replies)
    await caller.ring(client)
    await caller.connect()
    try:
        if not await caller.wait_for_reply(GREETING_TIMEOUT_SECONDS):
            logger.warning("a call got no greeting")
            return caller
        await caller.pause(first_pause)
        for line in itertools.cycle(lines):
            if caller.ended or time.time() >= until:
                break
            if most_turns is not None and len(caller.turns) >= most_turns:
                break
            await caller.pause(THINKING_SECONDS)
            await caller.say(line)
    finally:
        await caller.hang_up()
    return caller


async def keep_calling(
    base_url: str,
    client: httpx.AsyncClient,
    residents: Iterator[SimulatedResident],
    lines: Sequence[Line],
    *,
    plays_replies: bool,
    until: float,
    first_pause: float = 0.0,
    most_turns: int | None = None,
) -> list[StreamCaller]:
    """One line kept busy: when a call ends (put through, or goodbye), the next
    resident rings, until `until` or `most_turns` turns have been said."""
    calls: list[StreamCaller] = []
    while time.time() < until:
        left = None
        if most_turns is not None:
            left = most_turns - sum(len(call.turns) for call in calls)
            if left <= 0:
                break
        calls.append(
            await hold_call(
                base_url,
                client,
                next(residents),
                lines,
                plays_replies=plays_replies,
                until=until,
                most_turns=left,
                first_pause=first_pause if not calls else 0.0,
            )
        )
    return calls


async def simultaneous_calls(
    base_url: str,
    residents: Iterator[SimulatedResident],
    lines: Sequence[Line],
    count: int,
    seconds: float,
    stagger_seconds: float,
) -> list[StreamCaller]:
    """`count` lines busy at once for `seconds`, the calls starting a little
    apart so that callers do not speak in step."""
    until = time.time() + seconds
    async with httpx.AsyncClient(timeout=60) as client:
        lines_busy = [
            keep_calling(
                base_url,
                client,
                residents,
                lines,
                plays_replies=True,
                until=until,
                first_pause=stagger_seconds * number / count,
            )
            for number in range(count)
        ]
        calls = await asyncio.gather(*lines_busy)
    return [call for line in calls for call in line]


async def calls_one_at_a_time(
    base_url: str,
    residents: Iterator[SimulatedResident],
    lines: Sequence[Line],
    turns: int,
    seconds: float,
) -> list[StreamCaller]:
    """Calls one after another until `turns` turns (or `seconds`); each reply's
    mark is echoed at once, as if the caller heard it in no time."""
    async with httpx.AsyncClient(timeout=60) as client:
        return await keep_calling(
            base_url,
            client,
            residents,
            lines,
            plays_replies=False,
            until=time.time() + seconds,
            most_turns=turns,
        )


@dataclass(frozen=True)
class TimedTurn:
    """A turn seen from both ends: the caller's clock and the gateway's timers."""

    turn: Turn
    gateway: dict | None
    """The gateway's record of the utterance that was answered, if any."""
    finals_with_words: int

    @property
    def answered(self) -> bool:
        return (
            self.gateway is not None
            and self.turn.first_reply is not None
            and "first_sent" in self.gateway
        )

    def parts(self) -> dict[str, float]:
        """The turn's latency cut into consecutive steps that add up to it."""
        record, turn = self.gateway, self.turn
        assert record is not None and turn.first_reply is not None
        marks = [
            ("end of utterance", turn.last_speech_sent, record["hear_started"]),
            ("waiting for a thread", record["hear_started"], record["accept_started"]),
            ("recognition", record["accept_started"], record["accept_ended"]),
            ("handing over", record["accept_ended"], record["assistant_started"]),
            ("assistant", record["assistant_started"], record["assistant_ended"]),
            ("reply made speakable", record["assistant_ended"],
             record["synthesis_started"]),
            ("speech synthesis", record["synthesis_started"],
             record["synthesis_ended"]),
            ("sending", record["synthesis_ended"], record["first_sent"]),
            ("delivery", record["first_sent"], turn.first_reply),
        ]  # fmt: skip
        parts = {name: end - start for name, start, end in marks}
        parts["Rasa (within the assistant)"] = record.get("rasa_seconds", 0.0)
        parts["worker process (within synthesis)"] = record.get("worker_seconds", 0.0)
        return parts


@dataclass
class GatewayTimings:
    turns: dict[str, list[dict]] = field(default_factory=dict)
    calls: dict[str, dict] = field(default_factory=dict)


def read_timings(path: Path) -> GatewayTimings:
    timings = GatewayTimings()
    if not path.is_file():
        return timings
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record["kind"] == "turn":
            timings.turns.setdefault(record["call"], []).append(record)
        else:
            timings.calls[record["call"]] = record
    return timings


def timed_turns(
    calls: Sequence[StreamCaller], timings: GatewayTimings
) -> list[TimedTurn]:
    """Each turn the callers said, with the gateway's record of its answer."""
    timed = []
    for call in calls:
        records = timings.turns.get(call.call_sid, [])
        for turn in call.turns:
            if not turn.last_speech_sent:
                continue
            ends = turn.first_reply or (turn.last_speech_sent + WINDOW_SECONDS)
            during = [
                record
                for record in records
                if turn.speech_started <= record["accept_started"] <= ends
                and record.get("heard")
            ]
            answered = [r for r in during if r.get("first_sent", ends + 1) <= ends]
            gateway = answered[-1] if answered else None
            timed.append(TimedTurn(turn, gateway, len(during)))
    return timed


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[
        round(share * 100) - 1
    ]


def sustained_backlog(lags: Sequence[Sequence[float]], window_ms: int = 3000) -> float:
    """The worst, over windows of a call's audio, of the least lateness in the
    window: frames wait while a turn is answered, but a gateway that keeps up
    catches up within seconds."""
    windows: dict[int, float] = {}
    for stamp, lateness in lags:
        key = int(stamp) // window_ms
        windows[key] = min(windows.get(key, lateness), lateness)
    return max(windows.values(), default=0.0)
