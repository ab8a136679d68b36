"""The assistant and a plain Rasa server, started for benchmarks on free ports."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlite_utils

from assistant.config import PROJECT_ROOT, load_settings
from assistant.store import open_database
from assistant.training import (
    NLU_DIR,
    fingerprint_path,
    model_is_current,
    training_fingerprint,
)
from bench.measure import BenchmarkError

logger = logging.getLogger(__name__)

BENCH_ROOT = PROJECT_ROOT / "var" / "bench"
# Made up, like the test suite's: Twilio itself is never reached.
TWILIO_TOKEN = "bench-auth-token-0123456789abcdef"
TWILIO_ACCOUNT = "AC" + "0" * 32
TWILIO_NUMBER = "+441234567890"
PUBLIC_URL = "https://helping-hands.example.org"
START_TIMEOUT_SECONDS = 240
# Orders placed in a benchmark would otherwise fill the delivery windows.
SLOT_CAPACITY = "1000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_folder(name: str) -> Path:
    """An empty folder under var/bench/ for one benchmark's data and logs."""
    folder = BENCH_ROOT / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


@dataclass(frozen=True)
class ModelCopy:
    """The benchmark's private copy of the trained model."""

    path: Path
    current: bool
    """Whether it was trained from nlu/ as it is now."""

    def describe(self) -> str:
        trained = load_settings().model_path.relative_to(PROJECT_ROOT)
        if self.current:
            return f"Model: a copy of `{trained}`, trained from `nlu/` as it is."
        return (
            f"Model: a copy of `{trained}`, which is older than `nlu/` (edited "
            "since it was trained); figures are for that model."
        )


def copy_model(folder: Path) -> ModelCopy:
    """A private copy of the trained model, with a fingerprint that matches.

    `helping-hands run` retrains when the fingerprint does not match the
    training data. With a copy, that can never overwrite var/models, which the
    tests and the gateway use; and its fingerprint is written for the data as
    it is now, so a benchmark never times a retraining either, even while
    someone is editing nlu/.

    Raises:
        BenchmarkError: there is no trained model to copy.
    """
    trained = load_settings().model_path
    if not trained.is_file():
        raise BenchmarkError(f"no model at {trained}: run `helping-hands train`")
    current = model_is_current(trained)
    if not current:
        logger.warning("%s is older than %s; measuring it anyway", trained, NLU_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / trained.name
    shutil.copy2(trained, copy)
    fingerprint_path(copy).write_text(training_fingerprint(), encoding="utf-8")
    return ModelCopy(copy, current)


def memory_of(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, in MB."""
    figures = {}
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            figures[key] = int(value.split()[0]) / 1024
    return figures


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    fields = stat.rsplit(")", 1)[1].split()
    # utime and stime, the 14th and 15th fields, counted from after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> str:
    words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return " ".join(word.decode(errors="replace") for word in words)


def stop_process(process: subprocess.Popen | None, timeout: float = 60) -> None:
    """Ask a process to stop as Ctrl-C would, then make sure it has."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(
    url: str,
    process: subprocess.Popen,
    log: Path,
    started: float,
    *,
    params: dict | None = None,
) -> float:
    """Poll `url` until it answers 200; return the seconds since `started`.

    Raises:
        BenchmarkError: the process stopped or never became ready.
    """
    deadline = started + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"{url} stopped while starting; see {log}")
        try:
            if httpx.get(url, params=params, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchmarkError(f"{url} was not ready in {START_TIMEOUT_SECONDS} s")


@dataclass
class AssistantStack:
    """The whole assistant, started by `python -m assistant run` as a user would."""

    data_dir: Path
    model_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    launched_at: float = 0.0

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            "HH_DATA_DIR": str(self.data_dir),
            "HH_PORT": str(free_port()),
            "HH_RASA_PORT": str(free_port()),
            "HH_ACTIONS_PORT": str(free_port()),
            "HH_PUBLIC_URL": PUBLIC_URL,
            "HH_MODEL_PATH": str(self.model_path),
            "HH_DELIVERY_SLOT_CAPACITY": SLOT_CAPACITY,
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            # No number: nothing queued is sent to Twilio, which is unreachable.
            "TWILIO_NUMBER": "",
            "RASA_TELEMETRY_ENABLED": "false",
            **self.env,
        }

    @property
    def log_path(self) -> Path:
        return self.data_dir / "stack.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['HH_PORT']}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['HH_RASA_PORT']}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.env['HH_ACTIONS_PORT']}"

    def start(self, command: list[str] | None = None) -> float:
        """Start the stack; return the seconds until /healthz answered 200."""
        self.launch(command)
        return self.wait_until_ready()

    def launch(self, command: list[str] | None = None) -> None:
        """Start the stack's processes without waiting for them.

        By default through bench.assistant_run, which runs what
        `python -m assistant run` runs under a name no cleanup matches.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = command or [sys.executable, "-m", "bench.assistant_run"]
        self.launched_at = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> float:
        return wait_for(
            self.base_url + "/healthz", self.process, self.log_path, self.launched_at
        )

    def stop(self) -> None:
        stop_process(self.process)

    def check_running(self) -> None:
        """Raises BenchmarkError if the stack has stopped (or was stopped)."""
        if self.process is None or self.process.poll() is not None:
            raise BenchmarkError(
                f"the stack stopped during the benchmark; see {self.log_path}"
            )

    def rasa_token(self) -> str:
        return (self.data_dir / "rasa_api_token").read_text().strip()

    def database(self) -> sqlite_utils.Database:
        return open_database(self.data_dir / "helping_hands.db")

    def processes(self) -> dict[str, int]:
        """The pids of the Rasa server, the action server and the gateway."""
        names = {}
        for pid in children_of(self.process.pid):
            command = command_line(pid)
            if "rasa_sdk" in command or "timed_actions" in command:
                names["action server"] = pid
            elif "gateway" in command:
                names["gateway"] = pid
            elif "rasa" in command:
                names["rasa server"] = pid
        return names


@dataclass
class PlainRasa:
    """Rasa alone with its own REST channel: the same model, actions and
    endpoints as the assistant's, but its own tracker store file."""

    folder: Path
    model_path: Path
    actions_url: str
    data_dir: Path
    module: str = "rasa"
    """`rasa`, or a wrapper such as bench.timed_rasa that takes its arguments."""
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    launched_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "plain_rasa.log"

    @property
    def tracker_path(self) -> Path:
        return self.folder / "plain_rasa_tracker.db"

    def start(self) -> float:
        """Start it; return the seconds until /status answered 200."""
        self.launch()
        return self.wait_until_ready()

    def launch(self) -> None:
        """Start the server without waiting for it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        credentials = self.folder / "credentials.yml"
        credentials.write_text("rest:\n", encoding="utf-8")
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # The actions read residents and baskets from the store here.
            "HH_DATA_DIR": str(self.data_dir),
            "HH_DELIVERY_SLOT_CAPACITY": SLOT_CAPACITY,
            "HH_ACTION_ENDPOINT": self.actions_url + "/webhook",
            "HH_TRACKER_DB": str(self.tracker_path),
            **self.extra_env,
        }
        command = [
            sys.executable, "-m", self.module, "run",
            "--enable-api", "--interface", "127.0.0.1", "--port", str(self.port),
            "--model", str(self.model_path),
            "--endpoints", str(NLU_DIR / "endpoints.yml"),
            "--credentials", str(credentials),
        ]  # fmt: skip
        self.launched_at = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> float:
        return wait_for(
            self.url + "/status", self.process, self.log_path, self.launched_at
        )

    def stop(self) -> None:
        stop_process(self.process)
