"""Phone calls on the real stack: speech to intent, a turn's latency, how many
calls at once, and the gateway's memory with the speech engines loaded.

The stack runs as `helping-hands run` starts it (bench/phone_stack.py), its
gateway with timers around the media stream's steps (bench/phone_gateway.py).
While it starts, utterances from the NLU test stories, short phone phrases
and catalogue orders are synthesised in several voices and recognised as the
gateway would hear them (bench/phone_accuracy.py); the served model parses
them. Then simulated callers ring and talk over the WebSocket exactly as
Twilio does (bench/phone_caller.py): first one call at a time, then 1, 5, 10
and 15 at once, each sending its 20 ms frames in real time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import add_residents
from bench.phone_accuracy import (
    AccuracyResult,
    measure_accuracy,
    plan,
    record,
    start_recognition,
)
from bench.phone_caller import StreamCaller
from bench.phone_gateway import TIMINGS_VARIABLE
from bench.phone_live import (
    LEVEL_SECONDS,
    LEVELS,
    STAGGER_SECONDS,
    GatewayTimings,
    calls_one_at_a_time,
    read_timings,
    script_lines,
    simultaneous_calls,
)
from bench.phone_render import render
from bench.phone_utterances import utterances
from bench.stack import (
    AssistantStack,
    children_of,
    command_line,
    copy_model,
    cpu_seconds,
    fresh_folder,
    memory_of,
)

logger = logging.getLogger(__name__)

LATENCY_TURNS = 24
LATENCY_MOST_SECONDS = 180
RESIDENTS = 400


@dataclass
class Level:
    """One level of simultaneous calls."""

    calls: int
    callers: list[StreamCaller]
    seconds: float
    cpu_seconds: dict[str, float]
    load_average: float


@dataclass
class PhoneFigures:
    accuracy: AccuracyResult
    synthesis_seconds: float
    recognition_seconds: float
    latency_calls: list[StreamCaller]
    levels: list[Level]
    timings: GatewayTimings = field(default_factory=GatewayTimings)
    memory: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    model_note: str = ""


def recognition_workers(stack: AssistantStack) -> list[int]:
    """The gateway's speech recognition worker processes (none in-process)."""
    gateway = stack.processes().get("gateway")
    if gateway is None:
        return []
    return [pid for pid in children_of(gateway) if "spawn_main" in command_line(pid)]


def memory_now(stack: AssistantStack) -> dict[str, dict[str, float]]:
    memory = {name: memory_of(pid) for name, pid in stack.processes().items()}
    workers = [memory_of(pid) for pid in recognition_workers(stack)]
    # Summed peaks overstate the workers' peak together a little.
    memory["recognition workers"] = {
        key: sum(each.get(key, 0.0) for each in workers) for key in ("VmHWM", "VmRSS")
    }
    return memory


def cpu_now(stack: AssistantStack) -> dict[str, float]:
    figures = {name: cpu_seconds(pid) for name, pid in stack.processes().items()}
    figures["recognition workers"] = sum(
        cpu_seconds(pid) for pid in recognition_workers(stack)
    )
    figures["callers (this process)"] = sum(os.times()[:2])
    return figures


def measure(stack: AssistantStack, folder: Path, timings_path: Path) -> PhoneFigures:
    said_by = utterances()
    started = time.perf_counter()
    recordings = record(said_by, plan(said_by), folder)
    lines = script_lines(folder / "tts")
    synthesis_seconds = time.perf_counter() - started

    started = time.perf_counter()
    workers = start_recognition(recordings, folder)
    stack.wait_until_ready()
    accuracy = measure_accuracy(said_by, workers, stack.rasa_url, stack.rasa_token())
    recognition_seconds = time.perf_counter() - started
    logger.info("speech to intent measured in %.0f s", recognition_seconds)

    db = stack.database()
    residents = iter(add_residents(db, RESIDENTS, first_number=1))
    db.close()
    base_url = stack.base_url
    memory = {"ready, before any call": memory_now(stack)}
    # The first call waits for the engines and fills the reply cache's usual lines.
    asyncio.run(calls_one_at_a_time(base_url, residents, lines, 3, 90))
    memory["after the first call"] = memory_now(stack)

    logger.info("one call at a time: %s turns", LATENCY_TURNS)
    latency_calls = asyncio.run(
        calls_one_at_a_time(
            base_url, residents, lines, LATENCY_TURNS, LATENCY_MOST_SECONDS
        )
    )
    memory["after calls one at a time"] = memory_now(stack)

    levels = []
    for count in LEVELS:
        stack.check_running()
        logger.info("%s simultaneous call(s) for %s s", count, LEVEL_SECONDS)
        cpu_before, began = cpu_now(stack), time.perf_counter()
        callers = asyncio.run(
            simultaneous_calls(
                base_url, residents, lines, count, LEVEL_SECONDS, STAGGER_SECONDS
            )
        )
        seconds = time.perf_counter() - began
        cpu_after = cpu_now(stack)
        used = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        levels.append(Level(count, callers, seconds, used, os.getloadavg()[0]))
        memory[f"after {count} simultaneous call(s)"] = memory_now(stack)
    stack.check_running()

    return PhoneFigures(
        accuracy=accuracy,
        synthesis_seconds=synthesis_seconds,
        recognition_seconds=recognition_seconds,
        latency_calls=latency_calls,
        levels=levels,
        timings=read_timings(timings_path),
        memory=memory,
    )


def run() -> str:
    """Measure phone calls on the real stack; print and return the section."""
    folder = fresh_folder("phone")
    model = copy_model(folder / "model")
    timings_path = folder / "gateway-timings.jsonl"
    stack = AssistantStack(
        folder / "data", model.path, env={TIMINGS_VARIABLE: str(timings_path)}
    )
    stack.launch([sys.executable, "-m", "bench.phone_stack"])
    try:
        figures = measure(stack, folder, timings_path)
    finally:
        stack.stop()
    figures.model_note = model.describe()
    section = render(figures)
    print(section)
    return section
