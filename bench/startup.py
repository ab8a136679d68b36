"""Start-up: from `python -m assistant run` to /healthz 200, and memory per process.

The model is already trained (a copy of var/models is used, so nothing is
retrained). The stack is started three times: on an empty data folder, which
the first start seeds, then twice more on the same folder, as a restart would.
Each process's readiness is polled on its own. After the last start a short
load (bench/load.py) shows how far memory grows with use.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import GatewayTarget, add_residents, drive
from bench.measure import BenchmarkError
from bench.nlu_render import table
from bench.stack import (
    START_TIMEOUT_SECONDS,
    AssistantStack,
    copy_model,
    fresh_folder,
    memory_of,
)

STARTS = 3
LOAD_RESIDENTS = 10
LOAD_SECONDS = 20
POLL_SECONDS = 0.1


@dataclass
class Start:
    """One start of the stack."""

    fresh: bool
    ready: dict[str, float] = field(default_factory=dict)
    """Seconds from launch until each part first answered as ready."""
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    stop_seconds: float = 0.0


def poll_until_ready(stack: AssistantStack, start: Start) -> None:
    """Poll each part until the gateway's /healthz says all are ready."""
    checks = {
        "action server": (stack.actions_url + "/health", False),
        "rasa server": (stack.rasa_url + "/status", True),
        "gateway answering": (stack.base_url + "/healthz", False),
    }
    deadline = stack.launched_at + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=1) as client:
        while time.perf_counter() < deadline:
            if stack.process.poll() is not None:
                raise BenchmarkError(f"the stack stopped; see {stack.log_path}")
            for name, (url, needs_token) in checks.items():
                if name in start.ready and name != "gateway answering":
                    continue
                try:
                    params = {"token": stack.rasa_token()} if needs_token else None
                    response = client.get(url, params=params)
                except (httpx.HTTPError, OSError):
                    continue
                now = time.perf_counter() - stack.launched_at
                # The gateway answers 503 until the others are up: it is serving.
                if response.status_code == 200 or name == "gateway answering":
                    start.ready.setdefault(name, now)
                if name == "gateway answering" and response.status_code == 200:
                    start.ready["/healthz 200"] = now
            if "/healthz 200" in start.ready:
                return
            time.sleep(POLL_SECONDS)
    raise BenchmarkError(f"not ready in {START_TIMEOUT_SECONDS} s")


def stop_timed(stack: AssistantStack) -> float:
    started = time.perf_counter()
    stack.stop()
    return time.perf_counter() - started


def measure_starts(model: Path) -> tuple[list[Start], dict[str, dict[str, float]]]:
    folder = model.parent.parent
    starts = []
    after_load: dict[str, dict[str, float]] = {}
    for number in range(STARTS):
        stack = AssistantStack(folder / "data", model)
        start = Start(fresh=number == 0)
        try:
            stack.launch([sys.executable, "-m", "assistant", "run"])
            poll_until_ready(stack, start)
            pids = stack.processes()
            start.memory = {name: memory_of(pid) for name, pid in pids.items()}
            if number == STARTS - 1:
                database = stack.database()
                residents = iter(add_residents(database, 200, 1))
                database.close()
                target = GatewayTarget(stack.base_url)
                asyncio.run(drive(target, residents, LOAD_RESIDENTS, LOAD_SECONDS))
                after_load = {name: memory_of(pid) for name, pid in pids.items()}
        finally:
            start.stop_seconds = stop_timed(stack)
        starts.append(start)
    return starts, after_load


PARTS = ("action server", "rasa server", "gateway answering", "/healthz 200")
PROCESSES = ("rasa server", "action server", "gateway")


def start_rows(starts: list[Start]) -> list[list[str]]:
    rows = []
    for number, start in enumerate(starts, 1):
        kind = "empty data folder" if start.fresh else "restart"
        rows.append(
            [
                f"{number} ({kind})",
                *(f"{start.ready.get(part, 0.0):.1f}" for part in PARTS),
                f"{start.stop_seconds:.1f}",
            ]
        )
    return rows


def memory_rows(starts: list[Start], after_load: dict) -> list[list[str]]:
    rows = []
    for process in (*PROCESSES, "all three"):
        names = PROCESSES if process == "all three" else (process,)
        at_ready = [
            sum(start.memory.get(name, {}).get("VmHWM", 0.0) for name in names)
            for start in starts
        ]
        peak = sum(after_load.get(name, {}).get("VmHWM", 0.0) for name in names)
        now = sum(after_load.get(name, {}).get("VmRSS", 0.0) for name in names)
        ready = [f"{each:.0f}" for each in at_ready]
        rows.append([process, *ready, f"{peak:.0f}", f"{now:.0f}"])
    return rows


def render(starts: list[Start], after_load: dict) -> str:
    restarts = [start.ready["/healthz 200"] for start in starts if not start.fresh]
    return "\n\n".join(
        [
            "Seconds from launching `python -m assistant run` (the model already "
            "trained) until each part first answered: the action server's "
            "`/health`, Rasa's `/status` with a model loaded, the gateway's "
            "`/healthz` at all (503 while the others start), and `/healthz` 200. "
            f"Polled every {POLL_SECONDS} s. *Stop* is Ctrl-C (SIGINT) to exit.",
            table(
                [
                    "Start",
                    "Action server",
                    "Rasa server",
                    "Gateway answering",
                    "/healthz 200",
                    "Stop",
                ],
                start_rows(starts),
            ),
            f"Start-up to /healthz 200: {starts[0].ready['/healthz 200']:.1f} s on "
            f"an empty data folder, {statistics.median(restarts):.1f} s (median) "
            "on a restart.",
            "### Memory\n\n"
            "Peak resident memory (VmHWM, /proc/PID/status) in MB of each "
            "process once ready, at each start; then, after the last start, "
            f"once {LOAD_RESIDENTS} simulated residents had held ordering "
            f"conversations by SMS for {LOAD_SECONDS} s, the peak and the "
            "resident memory (VmRSS) at that moment.",
            table(
                [
                    "Process",
                    *(f"Peak at ready, start {n}" for n in range(1, len(starts) + 1)),
                    "Peak after load",
                    "Now after load",
                ],
                memory_rows(starts, after_load),
            ),
        ]
    )


def run() -> str:
    """Start the stack a few times; print and return the section."""
    model = copy_model(fresh_folder("startup") / "model")
    starts, after_load = measure_starts(model.path)
    section = render(starts, after_load) + "\n\n" + model.describe()
    print(section)
    return section
