"""Long conversations: does a turn slow down as one resident's tracker grows?

Rasa keeps every event of a conversation session in its tracker, loads and
replays them all on every turn and sends them all to the action server with
every action call; a session ends only after 60 quiet minutes
(nlu/domain.yml). Here residents hold one session of 310 turns, the same
ten-turn ordering cycle over and over, and the cycles after 10, 100 and 300
turns are compared with the second. Then a new session is started as an
hour's quiet would start it, and the cycle is measured once more.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import (
    GatewayTarget,
    PlainRasaTarget,
    SimulatedResident,
    Target,
    add_residents,
    summarise,
)
from bench.nlu_render import table
from bench.stack import AssistantStack, PlainRasa, copy_model, fresh_folder
from bench.timings import TIMINGS_VARIABLE, median_ms, read_requests

logger = logging.getLogger(__name__)

# Products found without a question, so every cycle is the same ten turns.
CYCLE = (
    "hello",
    "a jar of clear honey please",
    "a box of cornflakes",
    "4 tins of chopped tomatoes",
    "a packet of digestive biscuits",
    "what's in my basket?",
    "could you make the honey two",
    "one less of the tomatoes",
    "that's everything, place my order",
    "yes please",
)
CYCLES = 31
# Cycle n (from 0) starts after n * 10 turns.
CHECKPOINTS = (0, 1, 10, 30)
# The first cycle also starts the session; later ones are compared with the
# second, when the tracker is still short.
BASELINE = 1
RESIDENTS_PER_TARGET = 1


@dataclass
class LongConversation:
    """One resident's long session on one target."""

    target: Target
    resident: SimulatedResident
    tracker_db: Path
    cycles: list[list[float]] = field(default_factory=list)
    """Each cycle's turn latencies, in seconds."""
    events: list[int] = field(default_factory=list)
    """Events in the session's tracker before each cycle."""
    windows: list[tuple[float, float]] = field(default_factory=list)
    """When each cycle ran (wall clock), to find Rasa's own timings of it."""
    tracker_kb: list[float] = field(default_factory=list)
    """The JSON size of those events: about what each action call sends."""
    errors: int = 0
    unexpected: int = 0
    """Turns whose answer was not what the cycle expects (a question, say)."""


def latest_session(tracker_db: Path, sender_id: str) -> tuple[int, float]:
    """The number of events of the sender's latest session, as Rasa's SQL
    tracker store loads them, and the size of their JSON in kB."""
    connection = sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True)
    try:
        count, size = connection.execute(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM events "
            "WHERE sender_id = ? AND timestamp >= coalesce((SELECT max(timestamp) "
            "FROM events WHERE sender_id = ? AND type_name = 'session_started'), 0)",
            [sender_id, sender_id],
        ).fetchone()
        return count, size / 1024
    finally:
        connection.close()


async def one_cycle(client: httpx.AsyncClient, conversation: LongConversation) -> None:
    events, kb = latest_session(conversation.tracker_db, conversation.resident.id)
    conversation.events.append(events)
    conversation.tracker_kb.append(kb)
    latencies = []
    began = time.time()
    for text in CYCLE:
        exchange = await conversation.target.turn(client, conversation.resident, text)
        latencies.append(exchange.seconds)
        if exchange.error:
            conversation.errors += 1
        elif "would you like:" in " ".join(exchange.replies):
            conversation.unexpected += 1
    conversation.cycles.append(latencies)
    conversation.windows.append((began, time.time()))


async def start_new_session(
    client: httpx.AsyncClient, rasa_url: str, sender_id: str, token: str | None
) -> None:
    """What Rasa does after an hour's quiet: run action_session_start."""
    response = await client.post(
        f"{rasa_url}/conversations/{sender_id}/execute",
        params={"token": token} if token else None,
        json={"name": "action_session_start"},
    )
    response.raise_for_status()


async def hold_conversations(
    stack: AssistantStack, plain: PlainRasa
) -> tuple[list[LongConversation], list[LongConversation]]:
    database = stack.database()
    ours = add_residents(database, RESIDENTS_PER_TARGET, 1)
    theirs = add_residents(database, RESIDENTS_PER_TARGET, 1000)
    warm_up = add_residents(database, 2, 2000)
    database.close()
    gateway_target = GatewayTarget(stack.base_url)
    plain_target = PlainRasaTarget(plain.url)
    gateway = [
        LongConversation(gateway_target, r, stack.data_dir / "rasa_tracker.db")
        for r in ours
    ]
    plains = [LongConversation(plain_target, r, plain.tracker_path) for r in theirs]
    everyone = [pair for pairs in zip(gateway, plains, strict=True) for pair in pairs]

    async with httpx.AsyncClient(timeout=60) as client:
        # First turns build caches (the action server's product index, say).
        for first in (gateway[0], plains[0]):
            resident = warm_up.pop()
            warming = LongConversation(first.target, resident, first.tracker_db)
            await one_cycle(client, warming)
        for cycle in range(CYCLES):
            if cycle % 5 == 0:
                logger.info("cycle %s of %s", cycle + 1, CYCLES)
            # One resident at a time, turn about, so load drift falls on all.
            order = everyone if cycle % 2 == 0 else everyone[::-1]
            for conversation in order:
                await one_cycle(client, conversation)
        for conversation in gateway:
            await start_new_session(
                client, stack.rasa_url, conversation.resident.id, stack.rasa_token()
            )
        for conversation in plains:
            await start_new_session(client, plain.url, conversation.resident.id, None)
        for conversation in everyone:
            await one_cycle(client, conversation)
    return gateway, plains


def checkpoint_label(cycle: int) -> str:
    if cycle == CYCLES:
        return f"after {cycle * len(CYCLE)} turns, in a new session"
    if cycle == 0:
        return "the first ten turns"
    return f"after {cycle * len(CYCLE)} turns"


def checkpoint_rows(
    gateway: list[LongConversation], plains: list[LongConversation]
) -> list[list[str]]:
    rows = []
    for cycle in (*CHECKPOINTS, CYCLES):
        row = [checkpoint_label(cycle)]
        for group in (gateway, plains):
            latency = summarise([s for c in group for s in c.cycles[cycle]])
            baseline = summarise([s for c in group for s in c.cycles[BASELINE]])
            events = statistics.median(c.events[cycle] for c in group)
            row += [
                f"{events:.0f}",
                f"{latency.median_ms:.0f}",
                f"{latency.p95_ms:.0f}",
                f"{latency.median_ms / baseline.median_ms:.2f}",
            ]
        rows.append(row)
    return rows


RASA_STEPS = (
    ("tracker load", "tracker loaded"),
    ("NLU parse", "NLU"),
    ("policy prediction", "policies"),
    ("action request built", "action request built"),
    ("action server HTTP", "action server HTTP"),
    ("custom action", "custom action, all"),
    ("tracker save", "tracker saved"),
)


def breakdown_rows(plains: list[LongConversation], timings: Path) -> list[list[str]]:
    """Plain Rasa's own steps, median per turn, in the cycles of the table."""
    rows = []
    for cycle in (*CHECKPOINTS, CYCLES):
        requests = [
            request
            for conversation in plains
            for request in read_requests(
                timings / "rasa.jsonl", *conversation.windows[cycle]
            )
        ]
        kb = statistics.median(c.tracker_kb[cycle] for c in plains)
        rows.append(
            [
                checkpoint_label(cycle),
                f"{kb:.0f}",
                f"{median_ms([r.total for r in requests]):.1f}",
                *(
                    f"{median_ms([r.steps.get(step, 0.0) for r in requests]):.1f}"
                    for step, _ in RASA_STEPS
                ),
            ]
        )
    return rows


def growth_text(group: list[LongConversation], label: str) -> str:
    """How much a turn's median grows per 100 events, by least squares."""
    points = [
        (conversation.events[cycle], statistics.median(conversation.cycles[cycle]))
        for conversation in group
        for cycle in range(CYCLES)
    ]
    xs, ys = zip(*points, strict=True)
    slope = statistics.linear_regression(xs, ys).slope
    return f"{label}: {slope * 100 * 1000:+.1f} ms per 100 events"


def render(
    gateway: list[LongConversation], plains: list[LongConversation], timings: Path
) -> str:
    everyone = [*gateway, *plains]
    errors = sum(c.errors for c in everyone)
    unexpected = sum(c.unexpected for c in everyone)
    per_cycle = statistics.median(
        (b - a) for c in everyone for a, b in itertools.pairwise(c.events[:CYCLES])
    )
    return "\n\n".join(
        [
            f"Residents on the gateway (signed SMS) and on plain Rasa (REST), "
            f"{RESIDENTS_PER_TARGET} each, hold one session of "
            f"{CYCLES * len(CYCLE)} turns: the same ten-turn cycle (greeting, "
            "four products found without a question, the basket read back, two "
            "changes, the order placed with a yes) over and over, one resident "
            "at a time, taking turns cycle by cycle. A row gives the median and "
            "p95 of the ten-turn cycle that starts at that point (over "
            f"{RESIDENTS_PER_TARGET * len(CYCLE)} turns per target), the events "
            "in the session's tracker at its start, and its median against that "
            "of turns 11-20 (the first ten also start the session, which costs "
            "more). The last row is the same cycle once "
            "`action_session_start` has started a new session "
            "(`POST /conversations/ID/execute`), as the first message after 60 "
            "quiet minutes would.",
            table(
                [
                    "Cycle",
                    "Gateway: events",
                    "median ms",
                    "p95 ms",
                    "against turns 11-20",
                    "Plain Rasa: events",
                    "median ms",
                    "p95 ms",
                    "against turns 11-20",
                ],
                checkpoint_rows(gateway, plains),
            ),
            f"Each cycle adds about {per_cycle:.0f} events. Growth of a cycle's "
            "median with the session's length (least squares over all cycles): "
            + "; ".join(
                [
                    growth_text(gateway, "gateway"),
                    growth_text(plains, "plain Rasa"),
                ]
            )
            + f". Errors: {errors}; answers with an unexpected question: "
            f"{unexpected}.",
            "### Where the growth is\n\n"
            "Plain Rasa runs through `bench/timed_rasa.py`, which makes the "
            "assistant's fixes to Rasa and times its steps (nothing else "
            "changes). Medians per turn in ms over the same "
            "cycles; *tracker kB* is the JSON of the session's events in the "
            "tracker store, which Rasa loads and replays every turn and sends, "
            "as the tracker, with every custom action call. *Custom action, "
            "all* includes building the request, the HTTP call and checking the "
            "answer.",
            table(
                [
                    "Cycle",
                    "Tracker kB",
                    "Rasa turn",
                    *(label for _, label in RASA_STEPS),
                ],
                breakdown_rows(plains, timings),
            ),
        ]
    )


def run() -> str:
    """Hold the long conversations, print and return the section."""
    folder = fresh_folder("long_conversations")
    model = copy_model(folder / "model")
    stack = AssistantStack(folder / "data", model.path)
    timings = folder / "timings"
    plain = PlainRasa(
        folder / "plain",
        model.path,
        stack.actions_url,
        stack.data_dir,
        module="bench.timed_rasa",
        extra_env={TIMINGS_VARIABLE: str(timings)},
    )
    try:
        stack.launch()
        plain.launch()
        stack.wait_until_ready()
        plain.wait_until_ready()
        gateway, plains = asyncio.run(hold_conversations(stack, plain))
    finally:
        plain.stop()
        stack.stop()
    section = render(gateway, plains, timings) + "\n\n" + model.describe()
    print(section)
    return section
