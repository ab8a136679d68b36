"""Timing the steps of each request inside a benchmarked process.

A process started by `bench.timed_stack` wraps some of its own functions with
these timers before it starts serving. Each request it handles becomes one
JSON line in the folder named by HH_BENCH_TIMINGS: its kind, when it began,
its total seconds and the seconds spent in each named step during it. Steps
may nest (a step's time also counts in any step around it).
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMINGS_VARIABLE = "HH_BENCH_TIMINGS"

_steps: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "bench_steps", default=None
)


class RequestLog:
    """Appends one line per finished request to this process's timing file."""

    def __init__(self, path: Path) -> None:
        # Line-buffered and appended, so a killed process loses nothing and
        # forked workers can share the file.
        self.file = path.open("a", buffering=1, encoding="utf-8")

    @contextmanager
    def request(self, kind: str) -> Iterator[dict[str, Any]]:
        """Time one request; steps timed inside it are added to its line."""
        steps: dict[str, float] = {}
        token = _steps.set(steps)
        extra: dict[str, Any] = {}
        began = time.time()
        started = time.perf_counter()
        try:
            yield extra
        finally:
            total = time.perf_counter() - started
            _steps.reset(token)
            line = {"kind": kind, "at": began, "total": total, "steps": steps}
            line.update(extra)
            self.file.write(json.dumps(line) + "\n")


def request_log(process: str) -> RequestLog:
    """The timing file of this process, in the folder the benchmark chose."""
    folder = Path(os.environ[TIMINGS_VARIABLE])
    folder.mkdir(parents=True, exist_ok=True)
    return RequestLog(folder / f"{process}.jsonl")


def add_step(name: str, seconds: float) -> None:
    steps = _steps.get()
    if steps is not None:
        steps[name] = steps.get(name, 0.0) + seconds


def timed_async(name: str, function: Callable) -> Callable:
    """`function` (a coroutine function), its time added to step `name`."""

    @functools.wraps(function)
    async def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            add_step(name, time.perf_counter() - started)

    return timed


def timed_sync(name: str, function: Callable) -> Callable:
    """`function`, its time added to step `name`."""

    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            add_step(name, time.perf_counter() - started)

    return timed


def wrap(owner: Any, attribute: str, name: str, *, asynchronous: bool) -> None:
    """Replace `owner.attribute` by a timed version of itself."""
    function = getattr(owner, attribute)
    timer = timed_async if asynchronous else timed_sync
    setattr(owner, attribute, timer(name, function))


@dataclass(frozen=True)
class Request:
    kind: str
    at: float
    total: float
    steps: dict[str, float]
    extra: dict[str, Any]


def read_requests(path: Path, since: float, until: float) -> list[Request]:
    """The requests in a timing file that began between `since` and `until`."""
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        if since <= data["at"] <= until:
            kind, at, total = data.pop("kind"), data.pop("at"), data.pop("total")
            found.append(Request(kind, at, total, data.pop("steps"), data))
    return found


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else 0.0
