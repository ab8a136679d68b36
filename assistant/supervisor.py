"""Starting the Rasa server, the action server and the gateway, and keeping them up."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from assistant.config import PROJECT_ROOT, Settings
from assistant.training import rasa_environment

logger = logging.getLogger(__name__)

MAX_RESTARTS = 3
RESTART_WINDOW_SECONDS = 120


@dataclass
class Child:
    """One supervised process, restarted if it dies."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=self.env)
        logger.info("started %s (pid %s)", self.name, self.process.pid)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def child_processes(settings: Settings, with_gateway: bool = True) -> list[Child]:
    """The commands for the three processes, each on 127.0.0.1."""
    env = rasa_environment()
    env.update(
        {
            "HH_DATA_DIR": str(settings.data_dir),
            "HH_ACTION_ENDPOINT": settings.actions_url + "/webhook",
            "HH_TRACKER_DB": str(settings.tracker_database_path),
            "SANIC_HOST": "127.0.0.1",
            "HH_RASA_PORT": str(settings.rasa_port),
            "HH_ACTIONS_PORT": str(settings.actions_port),
            "HH_MODEL_PATH": str(settings.model_path),
        }
    )
    python = sys.executable
    children = [
        Child(
            "action server",
            [
                python,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(settings.actions_port),
            ],
            env,
        ),
        Child(
            "rasa server",
            [
                python,
                "-m",
                "assistant.rasa_server",
                "run",
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(settings.rasa_port),
                "--auth-token",
                settings.rasa_token(),
                "--model",
                str(settings.model_path),
                "--endpoints",
                str(PROJECT_ROOT / "nlu" / "endpoints.yml"),
            ],
            env,
        ),
    ]
    if with_gateway:
        children.append(
            Child(
                "gateway",
                [python, "-m", "assistant", *debug_flag(), "gateway"],
                env,
            )
        )
    return children


def debug_flag() -> list[str]:
    """The children log at DEBUG when the supervisor does."""
    return ["--debug"] if logging.getLogger().isEnabledFor(logging.DEBUG) else []


class Supervisor:
    """Runs the children until stopped; restarts one that dies, within reason."""

    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.stopping = False

    def request_stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        for child in self.children:
            child.start()
        try:
            while not self.stopping:
                time.sleep(0.5)
                if not self.check_children():
                    return 1
            return 0
        finally:
            logger.info("stopping every process")
            for child in reversed(self.children):
                child.stop()

    def check_children(self) -> bool:
        """Restart any child that died; False when one keeps dying."""
        for child in self.children:
            code = child.process.poll() if child.process else None
            if code is None or self.stopping:
                continue
            now = time.monotonic()
            child.restarts = [
                t for t in child.restarts if now - t < RESTART_WINDOW_SECONDS
            ]
            if len(child.restarts) >= MAX_RESTARTS:
                logger.error(
                    "the %s keeps stopping (exit code %s); stopping everything. "
                    "Its own messages above say why.",
                    child.name,
                    code,
                )
                return False
            logger.warning(
                "the %s stopped (exit code %s); restarting it", child.name, code
            )
            child.restarts.append(now)
            child.start()
        return True
