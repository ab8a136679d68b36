"""Sampling a process's CPU with py-spy and sorting the samples by what they did."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 100
# A sample whose innermost frame is a server's event loop, or a thread
# waiting for work, is the process waiting: they wait in C, where py-spy does
# not always see idleness.
IDLE_FRAMES = (
    "serve (sanic/server/runners.py)",
    "asyncio_run (uvicorn/_compat.py)",
    "select (selectors.py)",
    "run_forever (asyncio/base_events.py)",
    "_worker (concurrent/futures/thread.py)",
    "wait (threading.py)",
    "get (queue.py)",
    # The gateway's thread waiting for the recognition workers' answers.
    "_recv (multiprocessing/connection.py)",
)

# Per process, (what, path fragments): a sample counts for the innermost of
# its frames that holds a fragment, and for the first entry that frame fits.
CATEGORIES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "rasa server": [
        ("action answers validated (jsonschema)", ("jsonschema/",)),
        ("tracker store SQL (SQLAlchemy, sqlite3)", ("sqlalchemy/",)),
        (
            "NLU pipeline",
            ("rasa/nlu/", "sklearn/", "scipy/", "assistant/rasa_components.py"),
        ),
        ("policies (RulePolicy)", ("rasa/core/policies/",)),
        (
            "tracker events (replayed, serialised)",
            ("rasa/shared/core/trackers.py", "rasa/shared/core/events.py"),
        ),
        ("rest of the tracker store", ("rasa/core/tracker_store.py",)),
        ("HTTP client to the action server (aiohttp)", ("aiohttp/", "yarl/")),
        ("Sanic (HTTP server)", ("sanic/",)),
    ],
    "action server": [
        ("SQLite (store)", ("sqlite_utils/", "assistant/store.py")),
        (
            "product matching and reading requests",
            (
                "assistant/matching.py",
                "assistant/parsing.py",
                "assistant/words.py",
                "assistant/choosing.py",
                "rapidfuzz",
            ),
        ),
        ("other action code", ("actions/", "assistant/")),
        ("rasa_sdk (tracker, events)", ("rasa_sdk/",)),
        ("Sanic (HTTP server, JSON)", ("sanic/", "json/")),
    ],
    "gateway": [
        ("SQLite (store)", ("sqlite_utils/", "assistant/store.py", "sqlite3/")),
        ("signature and TwiML (twilio)", ("twilio/",)),
        ("HTTP client to Rasa (aiohttp)", ("aiohttp/", "yarl/", "multidict/")),
        ("gateway code", ("assistant/",)),
        ("Starlette", ("starlette/",)),
        ("uvicorn (HTTP server)", ("uvicorn/", "httptools")),
    ],
}


def py_spy() -> str | None:
    """The py-spy program, on the PATH or beside this Python, if installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def start_sampling(pid: int, seconds: int, output: Path) -> subprocess.Popen | None:
    """Start py-spy on a process for `seconds`; None if py-spy is not installed."""
    program = py_spy()
    if program is None:
        return None
    command = [
        program, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE),
        "--duration", str(seconds), "--format", "raw",
        "--output", str(output), "--nonblocking",
    ]  # fmt: skip
    log = output.with_suffix(".log").open("wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def frame_name(frame: str) -> str:
    """`run (/…/site-packages/rasa/core/processor.py:123)` as
    `run (rasa/core/processor.py)`."""
    name, _, place = frame.partition(" (")
    path = place.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.10/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


@dataclass(frozen=True)
class CpuProfile:
    process: str
    samples: int
    busy_samples: int
    expected_samples: int
    categories: list[tuple[str, float]]
    """What the busy samples were doing, as shares of them, largest first."""
    own_code: list[tuple[str, float]]
    """The functions most often innermost in a busy sample."""

    @property
    def busy(self) -> float:
        """The share of the sampled time the process was running Python."""
        return self.busy_samples / self.expected_samples


def read_samples(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw output: each line a stack (outermost first) and a count."""
    stacks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append(([frame_name(f) for f in stack.split(";")], int(count)))
    return stacks


def categorise(frames: list[str], rules: list[tuple[str, tuple[str, ...]]]) -> str:
    for frame in reversed(frames):
        for what, fragments in rules:
            if any(fragment in frame for fragment in fragments):
                return what
    return "other"


def summarise_profile(process: str, path: Path, seconds: int) -> CpuProfile | None:
    if not path.is_file():
        return None
    categories: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = busy = 0
    for frames, count in read_samples(path):
        samples += count
        if not frames or frames[-1] in IDLE_FRAMES:
            continue
        busy += count
        categories[categorise(frames, CATEGORIES.get(process, []))] += count
        own[frames[-1]] += count
    share = busy or 1
    return CpuProfile(
        process=process,
        samples=samples,
        busy_samples=busy,
        expected_samples=SAMPLE_RATE * seconds,
        categories=[(what, n / share) for what, n in categories.most_common()],
        own_code=[(name, n / share) for name, n in own.most_common(6)],
    )
