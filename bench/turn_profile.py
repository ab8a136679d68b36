"""Where a turn's time goes: the gateway, Rasa and the action server, step by step.

The stack is started as `helping-hands run` starts it, but each process goes
through its bench.timed_* wrapper, which times the steps of every request
(bench/timings.py). Simulated residents (bench/load.py) hold ordering
conversations by signed SMS, first one at a time, then ten at once. While the
ten talk, py-spy (if installed) samples each process's CPU.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.cpu_samples import SAMPLE_RATE, start_sampling, summarise_profile
from bench.load import GatewayTarget, LoadResult, add_residents, drive, summarise
from bench.nlu_render import table
from bench.stack import AssistantStack, copy_model, fresh_folder
from bench.timings import TIMINGS_VARIABLE, Request, read_requests

logger = logging.getLogger(__name__)

LEVELS = (1, 10)
LEVEL_SECONDS = 25
WARM_UP_SECONDS = 4
PROFILED_LEVEL = 10
PROFILE_SECONDS = 15

# (process, step, label, depth): depth indents the label under its parent.
STEP_ROWS = (
    ("gateway", None, "Gateway: whole SMS webhook", 0),
    ("gateway", "form and signature", "form read, signature checked", 1),
    ("gateway", "resident looked up", "resident looked up", 1),
    ("gateway", "inbound stored", "inbound message stored (de-duplicated)", 1),
    ("gateway", "handoff checked", "open handoff checked", 1),
    ("gateway", "distress checked", "distress words checked", 1),
    ("gateway", "Rasa", "waiting for Rasa (REST call)", 1),
    ("gateway", "replies stored", "replies stored", 1),
    ("gateway", "status stored", "status stored", 1),
    ("gateway", "TwiML", "TwiML built", 1),
    ("gateway", "SQLite", "all SQLite statements (within the above)", 1),
    ("gateway", "own work", "the gateway's own work (webhook less Rasa)", 1),
    ("rasa", None, "Rasa: whole turn (Agent.handle_message)", 0),
    ("rasa", "processor", "MessageProcessor.handle_message", 1),
    ("rasa", "tracker load", "tracker loaded (SQL, events replayed)", 2),
    ("rasa", "NLU parse", "NLU parse", 2),
    ("rasa", "policy prediction", "policy predictions (all in the turn)", 2),
    ("rasa", "custom action", "custom action calls", 2),
    ("rasa", "action request built", "request built (tracker and domain)", 3),
    ("rasa", "action server HTTP", "HTTP to the action server", 3),
    ("rasa", "tracker save", "tracker saved (SQL)", 2),
    ("actions-http", None, "Action server: whole HTTP request", 0),
    ("actions", None, "executor.run (JSON decoded before)", 1),
    ("actions", "tracker decoded", "Tracker.from_dict", 2),
    ("actions", "SQLite", "SQLite statements", 2),
)


@dataclass(frozen=True)
class LevelProfile:
    residents: int
    load: LoadResult
    requests: dict[str, list[Request]]
    """Per timing file (process), the requests that began during the level."""


def step_seconds(request: Request, step: str | None) -> float:
    if step is None:
        return request.total
    if step == "own work":
        return request.total - request.steps.get("Rasa", 0.0)
    return request.steps.get(step, 0.0)


def step_figures(
    requests: Sequence[Request], step: str | None, turns: int
) -> tuple[float, float]:
    """The median per request and the mean per turn of one step, in ms."""
    values = [step_seconds(request, step) for request in requests]
    if not values or not turns:
        return 0.0, 0.0
    return statistics.median(values) * 1000, sum(values) / turns * 1000


async def drive_levels(
    stack: AssistantStack, folder: Path
) -> tuple[list[LevelProfile], dict[str, Path], int]:
    database = stack.database()
    residents = iter(add_residents(database, 400, 1))
    database.close()
    target = GatewayTarget(stack.base_url)
    await drive(target, residents, 2, WARM_UP_SECONDS)

    timings = Path(stack.env[TIMINGS_VARIABLE])
    levels = []
    profiles: dict[str, Path] = {}
    profiled_seconds = 0
    for residents_count in LEVELS:
        began = time.time()
        samplers = []
        if residents_count == PROFILED_LEVEL:
            for process, pid in stack.processes().items():
                output = folder / f"py-spy-{process.replace(' ', '-')}.txt"
                sampler = start_sampling(pid, PROFILE_SECONDS, output)
                if sampler is None:
                    break
                samplers.append(sampler)
                profiles[process] = output
        load = await drive(target, residents, residents_count, LEVEL_SECONDS)
        ended = time.time()
        for sampler in samplers:
            profiled_seconds = PROFILE_SECONDS
            sampler.wait(PROFILE_SECONDS + 30)
        # The processes write a request's line when it ends; give them a moment.
        await asyncio.sleep(1)
        requests = {
            name: read_requests(timings / f"{name}.jsonl", began, ended)
            for name in ("gateway", "rasa", "actions", "actions-http")
        }
        levels.append(LevelProfile(residents_count, load, requests))
    return levels, profiles, profiled_seconds


CLIENT_REQUESTS = 300
CLIENT_BLOCK = 50


async def client_costs(url: str) -> dict[str, float]:
    """Median ms of a trivial request (Rasa's GET /version) by each HTTP client.

    The gateway asks Rasa with aiohttp (assistant/rasa_client.py), as Rasa
    asks its action server; httpx, which the gateway used before, is measured
    beside it. The server is the same, so the difference is the client's own
    cost. Blocks of requests alternate.
    """
    import aiohttp
    import httpx

    samples: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with (
        httpx.AsyncClient(limits=limits, timeout=10) as httpx_client,
        aiohttp.ClientSession() as aiohttp_session,
    ):

        async def with_httpx() -> None:
            (await httpx_client.get(url)).raise_for_status()

        async def with_aiohttp() -> None:
            async with aiohttp_session.get(url) as response:
                response.raise_for_status()
                await response.read()

        clients = {"httpx": with_httpx, "aiohttp": with_aiohttp}
        for block in range(CLIENT_REQUESTS // CLIENT_BLOCK):
            names = list(clients) if block % 2 == 0 else list(clients)[::-1]
            for name in names:
                for _ in range(CLIENT_BLOCK):
                    started = time.perf_counter()
                    await clients[name]()
                    samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def step_rows(levels: list[LevelProfile]) -> list[list[str]]:
    rows = []
    client = ["The client: whole turn, as sent"]
    for level in levels:
        latency = summarise(level.load.latencies)
        mean = statistics.fmean(level.load.latencies) * 1000
        client += [f"{latency.median_ms:.1f}", f"{mean:.1f}"]
    rows.append(client)
    for process, step, label, depth in STEP_ROWS:
        row = ["&nbsp;&nbsp;" * depth * 2 + label]
        for level in levels:
            turns = len(level.requests["gateway"])
            median, mean = step_figures(level.requests[process], step, turns)
            row += [f"{median:.1f}", f"{mean:.1f}"]
        rows.append(row)
    return rows


def action_rows(level: LevelProfile) -> list[list[str]]:
    by_action: dict[str, list[float]] = {}
    for request in level.requests["actions"]:
        by_action.setdefault(request.extra.get("action", "?"), []).append(request.total)
    rows = []
    for name, values in sorted(by_action.items(), key=lambda item: -sum(item[1])):
        rows.append(
            [
                f"`{name}`",
                str(len(values)),
                f"{statistics.median(values) * 1000:.1f}",
                f"{max(values) * 1000:.1f}",
            ]
        )
    return rows


def counts_text(level: LevelProfile) -> str:
    turns = len(level.requests["gateway"])
    rasa_turns = len(level.requests["rasa"])
    action_calls = len(level.requests["actions"])
    return (
        f"At {level.residents} resident(s): {level.load.turns} turns at the "
        f"client ({level.load.turns_per_second:.1f}/s), {turns} timed webhooks, "
        f"{rasa_turns} Rasa turns, {action_calls} action calls "
        f"({action_calls / max(1, rasa_turns):.2f} per turn)."
    )


def profile_section(profiles: dict[str, Path], seconds: int, residents: int) -> str:
    if not profiles:
        return (
            "### CPU samples\n\npy-spy is not installed, so no CPU samples were "
            "taken (`.venv/bin/pip install py-spy` to add them)."
        )
    parts = [
        "### CPU samples\n\n"
        f"py-spy sampled each process {SAMPLE_RATE} times a second for "
        f"{seconds} s while {residents} residents talked. *Busy* is the share "
        "of that time the process was running Python rather than waiting in "
        "its event loop; the table sorts the busy samples by what they were "
        "doing, judged by the innermost frame that names a known library."
    ]
    rows = []
    notes = []
    for process, path in profiles.items():
        profile = summarise_profile(process, path, seconds)
        if profile is None or not profile.samples:
            notes.append(f"- {process}: no samples (see {path.stem}.log).")
            continue
        for what, share in profile.categories:
            rows.append([process, f"{profile.busy:.0%}", what, f"{share:.0%}"])
        innermost = ", ".join(
            f"`{name}` {share:.0%}" for name, share in profile.own_code
        )
        notes.append(f"- {process}, innermost functions: {innermost}.")
    parts.append(table(["Process", "Busy", "Doing", "Share of busy"], rows))
    parts.append("\n".join(notes))
    return "\n\n".join(parts)


def render(levels: list[LevelProfile], profiles: dict[str, Path], seconds: int) -> str:
    header = ["Step"]
    for level in levels:
        header += [
            f"{level.residents} resident(s): median ms",
            f"{level.residents}: mean ms per turn",
        ]
    profiled = next(level for level in levels if level.residents == PROFILED_LEVEL)
    return "\n\n".join(
        [
            "The stack runs as `helping-hands run` starts it, each process through "
            "a wrapper in `bench/timed_*.py` that times the steps of every "
            "request without changing them (Rasa's also makes the assistant's "
            "fixes to Rasa, as `assistant/rasa_server.py` does). Simulated "
            "residents (as in *Text turns*) talk by signed SMS for "
            f"{LEVEL_SECONDS} s at each level. "
            "*Median* is the median over requests of the time spent in that step "
            "(0 where a request skips it); *mean per turn* is the step's total "
            "time divided by the webhooks answered, so nested rows add up to "
            "their parent's mean. Times are wall-clock: under load they include "
            "waiting for the CPU and the event loop.",
            "\n".join(f"- {counts_text(level)}" for level in levels),
            table(header, step_rows(levels)),
            f"### Action calls at {PROFILED_LEVEL} residents\n\n"
            "Whole `executor.run` per action (tracker decoding included).",
            table(["Action", "Calls", "Median ms", "Max ms"], action_rows(profiled)),
            profile_section(profiles, seconds, PROFILED_LEVEL),
        ]
    )


def run() -> str:
    """Profile turns at one and ten residents; print and return the section."""
    folder = fresh_folder("turn_profile")
    model = copy_model(folder / "model")
    stack = AssistantStack(
        folder / "data", model.path, env={TIMINGS_VARIABLE: str(folder / "timings")}
    )
    try:
        stack.start([sys.executable, "-m", "bench.timed_stack"])
        levels, profiles, seconds = asyncio.run(drive_levels(stack, folder))
        clients = asyncio.run(client_costs(stack.rasa_url + "/version"))
    finally:
        stack.stop()
    section = "\n\n".join(
        [
            render(levels, profiles, seconds),
            "### The gateway's HTTP client\n\n"
            f"{CLIENT_REQUESTS} sequential `GET /version` requests to the same "
            "Rasa server with each client, in alternating blocks (median ms): "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in clients.items())
            + ". The gateway calls Rasa with aiohttp, as Rasa calls its action "
            "server; it used httpx until this figure showed the difference.",
            model.describe(),
        ]
    )
    print(section)
    return section
