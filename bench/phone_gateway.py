"""The gateway with each phone turn timed: python -m bench.phone_gateway.

Started by bench.phone_stack in place of `python -m assistant gateway`, it
runs the same app the same way, after wrapping a few methods of the media
stream channel with timers that change nothing they wrap. Each turn heard on
a media stream becomes one JSON line in the file named by
HH_BENCH_PHONE_TIMINGS: when the chunk that ended the utterance arrived, the
recogniser's time on it, the assistant's (PhoneConversation.take, with Rasa's
REST call inside), speech synthesis (with the worker process, if one ran) and
when the first reply frame was sent. Each call also gets a line of how late
its media frames were taken, measured against the caller's clock (the
`bench_started` custom parameter plus each frame's `timestamp`, as Twilio
numbers them).

Times are wall-clock seconds (time.time()), comparable with the caller's,
which runs on the same machine.
"""

from __future__ import annotations

import contextvars
import json
import os
import time
from pathlib import Path
from typing import Any

TIMINGS_VARIABLE = "HH_BENCH_PHONE_TIMINGS"
LAG_SAMPLE_EVERY = 5  # frames: one lateness sample per 100 ms of audio

_turn: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bench_phone_turn", default=None
)


class TimingFile:
    """One JSON line per record, line-buffered so a killed gateway loses nothing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", buffering=1, encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")


def add_to_turn(name: str, seconds: float) -> None:
    turn = _turn.get()
    if turn is not None:
        turn[name] = turn.get(name, 0.0) + seconds


def instrument(timings: TimingFile) -> None:
    """Wrap the media stream's steps with timers."""
    from assistant.channels import media_stream
    from assistant.phone import PhoneConversation
    from assistant.rasa_client import RasaClient
    from voice.recognition import Final
    from voice.speech import Synthesiser

    call_class = media_stream.StreamedCall
    original_take = call_class.take
    original_start = call_class.start
    original_hear = call_class.hear
    original_synthesise = call_class.synthesise
    original_send = call_class.send
    original_close = call_class.close
    original_conversation_take = PhoneConversation.take
    original_rasa_turn = RasaClient.turn
    original_worker = Synthesiser._run_worker

    async def take(self, frame: dict) -> str | None:
        if frame.get("event") == "media":
            count = getattr(self, "_bench_frames", 0)
            self._bench_frames = count + 1
            started = getattr(self, "_bench_started", None)
            stamp = (frame.get("media") or {}).get("timestamp")
            if started is not None and stamp is not None:
                if count % LAG_SAMPLE_EVERY == 0:
                    lateness = time.time() - (started + int(stamp) / 1000)
                    self._bench_lags.append((int(stamp), round(lateness, 4)))
        return await original_take(self, frame)

    async def start(self, start: dict) -> None:
        parameters = start.get("customParameters") or {}
        if "bench_started" in parameters:
            self._bench_started = float(parameters["bench_started"])
        self._bench_lags = []
        began = time.time()
        await original_start(self, start)
        self._bench_engines_seconds = time.time() - began
        recogniser = self.recogniser
        if recogniser is None:
            return
        accept = recogniser.accept

        def timed_accept(chunk: bytes):
            began = time.time()
            result = accept(chunk)
            turn = _turn.get()
            if isinstance(result, Final) and turn is not None:
                turn["accept_started"] = began
                turn["accept_ended"] = time.time()
                turn["heard"] = result.text
                turn["utterance_seconds"] = result.seconds
                turn["ending"] = result.ending.value
            return result

        recogniser.accept = timed_accept

    async def hear(self, media: dict) -> None:
        turn: dict[str, Any] = {"hear_started": time.time()}
        token = _turn.set(turn)
        try:
            await original_hear(self, media)
        finally:
            _turn.reset(token)
        if "accept_started" in turn:
            turn["finished"] = time.time()
            timings.write({"kind": "turn", "call": self.call_sid, **turn})

    async def synthesise(self, text: str) -> bytes:
        began = time.time()
        try:
            return await original_synthesise(self, text)
        finally:
            turn = _turn.get()
            if turn is not None:
                turn["synthesis_started"] = began
                turn["synthesis_ended"] = time.time()
                turn["reply_characters"] = len(text)

    async def send(self, message: dict) -> None:
        turn = _turn.get()
        if turn is not None and message.get("event") == "media":
            turn.setdefault("first_sent", time.time())
        await original_send(self, message)

    def close(self) -> None:
        timings.write(
            {
                "kind": "call",
                "call": self.call_sid,
                "frames": getattr(self, "_bench_frames", 0),
                "lags": getattr(self, "_bench_lags", []),
                "start_seconds": getattr(self, "_bench_engines_seconds", None),
                "closed": time.time(),
            }
        )
        original_close(self)

    async def conversation_take(self, *args, **kwargs):
        began = time.time()
        try:
            return await original_conversation_take(self, *args, **kwargs)
        finally:
            turn = _turn.get()
            if turn is not None:
                turn["assistant_started"] = began
                turn["assistant_ended"] = time.time()

    async def rasa_turn(self, sender: str, text: str, metadata: dict):
        began = time.time()
        try:
            return await original_rasa_turn(self, sender, text, metadata)
        finally:
            add_to_turn("rasa_seconds", time.time() - began)

    def run_worker(self, job: dict) -> None:
        began = time.time()
        try:
            original_worker(self, job)
        finally:
            add_to_turn("worker_seconds", time.time() - began)
            add_to_turn("worker_lines", len(job.get("lines", [])))

    call_class.take = take
    call_class.start = start
    call_class.hear = hear
    call_class.synthesise = synthesise
    call_class.send = send
    call_class.close = close
    PhoneConversation.take = conversation_take
    RasaClient.turn = rasa_turn
    Synthesiser._run_worker = run_worker


def main() -> None:
    instrument(TimingFile(Path(os.environ[TIMINGS_VARIABLE])))
    import uvicorn

    from assistant.app import create_app
    from assistant.cli import configure_logging
    from assistant.config import load_settings

    configure_logging(False)
    settings = load_settings()
    # As `helping-hands gateway` runs it (assistant/cli.py, command_gateway).
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="wsproto",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
