"""What each of the assistant's fixes to the Rasa server is worth, tried on plain
Rasa and on the whole assistant (bench/rasa_fixes.py names them;
assistant/rasa_server.py makes them).

Plain Rasa servers (as it comes, each fix alone, all the fixes) and the whole
assistant with all the fixes run side by side from one model and one action
server; simulated residents (bench/load.py) talk to each in turn.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import (
    GatewayTarget,
    LoadResult,
    PlainRasaTarget,
    SimulatedResident,
    SimulatedUser,
    Target,
    add_residents,
    drive,
    summarise,
)
from bench.nlu_render import table
from bench.rasa_fixes import FIXES, FIXES_VARIABLE
from bench.stack import AssistantStack, PlainRasa, copy_model, fresh_folder
from bench.timings import TIMINGS_VARIABLE, median_ms, read_requests

logger = logging.getLogger(__name__)

LEVELS = (1, 10)
SEGMENT_SECONDS = 4
ROUNDS = 3
WARM_UP_SECONDS = 3
RESIDENTS_PER_TARGET = 300


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    fixes: str
    gateway: bool = False


ALL_FIXES = ",".join(FIXES)
VARIANTS = (
    Variant("today", "Plain Rasa, as it comes", ""),
    Variant("validator", "Plain Rasa, validator built once", "validator"),
    Variant("wal", "Plain Rasa, tracker store in WAL", "tracker-wal"),
    Variant("kept", "Plain Rasa, connections kept", "kept-connections"),
    Variant("events", "Plain Rasa, event classes remembered", "event-classes"),
    Variant("all", "Plain Rasa, all four fixes", ALL_FIXES),
    Variant("gateway", "Whole assistant, all four fixes", ALL_FIXES, True),
)


@dataclass
class Running:
    variant: Variant
    target: Target
    residents: list[SimulatedResident]
    timings: Path
    results: dict[int, LoadResult]
    windows: dict[int, list[tuple[float, float]]]
    """Per level, when its segments ran (wall clock), to pick Rasa's timings."""
    pool: Iterator[SimulatedResident] = field(init=False)

    def __post_init__(self) -> None:
        self.pool = iter(self.residents)


def rasa_steps(running: Running, level: int) -> dict[str, float]:
    """Medians of Rasa's own steps during this variant's segments at a level."""
    requests = [
        request
        for since, until in running.windows[level]
        for request in read_requests(running.timings / "rasa.jsonl", since, until)
    ]
    return {
        "turn": median_ms([request.total for request in requests]),
        "custom action": median_ms(
            [request.steps.get("custom action", 0.0) for request in requests]
        ),
        "tracker save": median_ms(
            [request.steps.get("tracker save", 0.0) for request in requests]
        ),
    }


async def alternate(runnings: list[Running]) -> None:
    for running in runnings:
        await drive(running.target, running.pool, 2, WARM_UP_SECONDS)
    for level in LEVELS:
        users = {
            running.variant.name: [SimulatedUser(running.pool) for _ in range(level)]
            for running in runnings
        }
        for round_number in range(ROUNDS):
            # Alternate the order so no variant always follows the same one.
            order = runnings if round_number % 2 == 0 else runnings[::-1]
            for running in order:
                logger.info("%s residents on %s", level, running.variant.name)
                began = time.time()
                result = await drive(
                    running.target,
                    running.pool,
                    level,
                    SEGMENT_SECONDS,
                    users=users[running.variant.name],
                )
                running.windows.setdefault(level, []).append((began, time.time()))
                if level in running.results:
                    running.results[level].add(result)
                else:
                    running.results[level] = result
    await asyncio.sleep(1)  # the last timing lines are written as turns end


def start_all(folder: Path, model: Path) -> tuple[AssistantStack, list, list]:
    stack_variant = next(variant for variant in VARIANTS if variant.gateway)
    stack = AssistantStack(
        folder / "data",
        model,
        env={
            TIMINGS_VARIABLE: str(folder / "timings" / stack_variant.name),
            FIXES_VARIABLE: stack_variant.fixes,
        },
    )
    plains = [
        (
            variant,
            PlainRasa(
                folder / variant.name,
                model,
                stack.actions_url,
                stack.data_dir,
                module="bench.timed_rasa",
                extra_env={
                    TIMINGS_VARIABLE: str(folder / "timings" / variant.name),
                    FIXES_VARIABLE: variant.fixes,
                },
            ),
        )
        for variant in VARIANTS
        if not variant.gateway
    ]
    stack.launch([sys.executable, "-m", "bench.timed_stack"])
    for _, plain in plains:
        plain.launch()
    started = [stack.wait_until_ready()]
    started += [plain.wait_until_ready() for _, plain in plains]
    logger.info("all started in %.0f s", max(started))
    return stack, plains, started


def measure(folder: Path, model: Path) -> list[Running]:
    stack, plains, _ = start_all(folder, model)
    try:
        database = stack.database()
        runnings = []
        for number, variant in enumerate(VARIANTS):
            residents = add_residents(
                database, RESIDENTS_PER_TARGET, 1 + number * 100_000
            )
            if variant.gateway:
                target: Target = GatewayTarget(stack.base_url)
            else:
                plain = next(p for v, p in plains if v is variant)
                target = PlainRasaTarget(plain.url)
            timings = folder / "timings" / variant.name
            runnings.append(Running(variant, target, residents, timings, {}, {}))
        database.close()
        asyncio.run(alternate(runnings))
    finally:
        for _, plain in plains:
            plain.stop()
        stack.stop()
    return runnings


def result_rows(runnings: list[Running]) -> list[list[str]]:
    rows = []
    baseline = {level: runnings[0].results[level] for level in LEVELS}
    for level in LEVELS:
        today = summarise(baseline[level].latencies)
        for running in runnings:
            result = running.results[level]
            latency = summarise(result.latencies)
            steps = rasa_steps(running, level)
            rows.append(
                [
                    str(level),
                    running.variant.label,
                    f"{result.turns_per_second:.1f}",
                    f"{latency.median_ms:.0f}",
                    f"{latency.p95_ms:.0f}",
                    f"{latency.median_ms / today.median_ms:.2f}",
                    f"{steps['turn']:.0f}",
                    f"{steps['custom action']:.1f}",
                    f"{steps['tracker save']:.1f}",
                    str(sum(result.errors.values())),
                ]
            )
    return rows


def ratio_text(runnings: list[Running]) -> str:
    every_fix = next(r for r in runnings if r.variant.name == "all")
    gateway = next(r for r in runnings if r.variant.gateway)
    parts = []
    for level in LEVELS:
        ours = summarise(gateway.results[level].latencies)
        theirs = summarise(every_fix.results[level].latencies)
        parts.append(
            f"at {level} resident(s) {ours.median_ms / theirs.median_ms:.2f} "
            f"(median {ours.median_ms:.0f} against {theirs.median_ms:.0f} ms; "
            f"p95 {ours.p95_ms / theirs.p95_ms:.2f})"
        )
    return (
        "With all four fixes, the whole assistant's latency over plain Rasa's "
        "(the gateway's cost once Rasa is faster): " + "; ".join(parts) + "."
    )


def render(runnings: list[Running]) -> str:
    return "\n\n".join(
        [
            "Each Rasa server runs through `bench/timed_rasa.py`, which times "
            "its steps and applies the fixes named for it (`bench/rasa_fixes.py`)"
            ": *validator built once* replaces Rasa's per-call "
            "`jsonschema.validate` of every action server answer (which checks "
            "the schema itself each time) by one validator made at start-up; "
            "*tracker store in WAL* makes Rasa's SQLite tracker store use WAL "
            "with synchronous=NORMAL, as the assistant's own store does; "
            "*connections kept* has the tracker store keep its SQLite "
            "connections open (SQLAlchemy opens and closes one per session for "
            "a SQLite file, several times a turn); *event classes remembered* "
            "finds an event's class by its type name once, where Rasa walks "
            "every Event subclass for each event it reads back. Each "
            f"level runs {ROUNDS} segments of {SEGMENT_SECONDS} s per server, "
            "in alternating order; the Rasa columns are medians of Rasa's own "
            "timings during those segments.",
            table(
                [
                    "Residents",
                    "Server",
                    "Turns/s",
                    "Median ms",
                    "p95 ms",
                    "Median against today",
                    "Rasa turn ms",
                    "Custom action ms",
                    "Tracker save ms",
                    "Errors",
                ],
                result_rows(runnings),
            ),
            ratio_text(runnings),
            f"Load average at the end: {os.getloadavg()[0]:.2f}.",
        ]
    )


def run() -> str:
    """Try the Rasa fixes side by side; print and return the section."""
    folder = fresh_folder("fix_trial")
    model = copy_model(folder / "model")
    runnings = measure(folder, model.path)
    section = render(runnings) + "\n\n" + model.describe()
    print(section)
    return section
