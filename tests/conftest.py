"""Shared fixtures: fresh stores, the product index, Twilio signing, the real stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from assistant.catalogue import load_products, seed_demo_catalogue
from assistant.config import PROJECT_ROOT, load_settings
from assistant.matching import ProductIndex
from assistant.store import open_database

TWILIO_TEST_TOKEN = "test-auth-token-0123456789abcdef"
TWILIO_TEST_SID = "AC" + "0" * 32
TWILIO_TEST_NUMBER = "+441234567890"
STACK_START_TIMEOUT = 300


@pytest.fixture
def db(tmp_path):
    """A fresh store with the demo catalogue, in a real SQLite file."""
    database = open_database(tmp_path / "test.db")
    seed_demo_catalogue(database)
    yield database
    database.close()


@pytest.fixture(scope="session")
def index(tmp_path_factory) -> ProductIndex:
    database = open_database(tmp_path_factory.mktemp("index") / "catalogue.db")
    seed_demo_catalogue(database)
    products = load_products(database)
    database.close()
    return ProductIndex(products)


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Sign a webhook exactly as Twilio does (HMAC-SHA1 of URL and sorted params)."""
    return RequestValidator(token).compute_signature(url, params)


def wait_for(condition, seconds: float = 20, what: str = "the condition"):
    """Poll `condition` until it gives something true; that value.

    Raises:
        AssertionError: it was still false after `seconds`.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """The whole assistant, started by `helping-hands run` as a user would."""

    data_dir: Path
    env: dict[str, str]
    base_url: str
    process: subprocess.Popen | None = None
    message_counter: int = 0

    @property
    def log_path(self) -> Path:
        return self.data_dir / "stack.log"

    def start(self) -> None:
        # The log goes to a file: a pipe nobody reads would fill and stall the stack.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant", "run"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_healthy()

    def log_tail(self, characters: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STACK_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the stack stopped: " + self.log_tail())
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError("the stack did not become healthy: " + self.log_tail())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def child_pid(self, marker: str) -> int:
        """The pid of the stack's child process whose command line holds `marker`:
        "rasa_sdk" or "rasa_server run", told apart from other stacks' by the
        port, or "gateway", whose command line has none, by its parent, this
        stack's supervisor."""
        ports = {
            "rasa_sdk": self.env["HH_ACTIONS_PORT"],
            "rasa_server run": self.env["HH_RASA_PORT"],
        }
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                words = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            command = " ".join(w.decode(errors="replace") for w in words)
            if marker not in command:
                continue
            if marker in ports and ports[marker] in command:
                return int(stat.parent.name)
            if marker not in ports and parent == self.process.pid:
                return int(stat.parent.name)
        raise LookupError(f"no running {marker} process in this stack")

    def healthz(self) -> httpx.Response:
        return httpx.get(self.base_url + "/healthz", timeout=5)

    def rasa_token(self) -> str:
        return (self.data_dir / "rasa_api_token").read_text().strip()

    def db(self):
        return open_database(self.data_dir / "helping_hands.db")

    def sms(
        self,
        phone: str,
        body: str,
        sid: str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """Send an inbound SMS webhook signed exactly as Twilio signs it."""
        self.message_counter += 1
        params = {
            "MessageSid": sid or f"SM{os.getpid():08d}{self.message_counter:024d}",
            "AccountSid": TWILIO_TEST_SID,
            "From": phone,
            "To": "+441234567890",
            "Body": body,
            "NumMedia": "0",
        }
        url = self.env["HH_PUBLIC_URL"] + "/twilio/sms"
        if signature is None:
            signature = twilio_signature(url, params, TWILIO_TEST_TOKEN)
        return httpx.post(
            self.base_url + "/twilio/sms",
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=30,
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real Rasa server, action server and gateway, started once per run."""
    settings = load_settings()
    if not settings.model_path.is_file():
        pytest.fail("no trained model: run `make test`, which trains it first")
    data_dir = tmp_path_factory.mktemp("stack")
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "HH_DATA_DIR": str(data_dir),
            "HH_PORT": str(port),
            "HH_RASA_PORT": str(free_port()),
            "HH_ACTIONS_PORT": str(free_port()),
            "HH_PUBLIC_URL": "https://helping-hands.example.org",
            "HH_MODEL_PATH": str(settings.model_path),
            "TWILIO_ACCOUNT_SID": TWILIO_TEST_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    running = Stack(data_dir, env, f"http://127.0.0.1:{port}")
    running.start()
    yield running
    running.stop()


@dataclass
class RecordedRequest:
    """One request the gateway made to Twilio's REST API."""

    method: str
    path: str
    form: dict[str, str]
    authorization: str


@dataclass
class TwilioRecorder:
    """Records what the gateway sends to Twilio's REST API, at its HTTP client.

    Twilio's servers cannot be reached from here, so requests stop at the
    client's transport: each is recorded and answered as Twilio would answer a
    request it accepted (201 and a sid), or with a chosen failure.
    """

    requests: list[RecordedRequest]
    failures: list[Exception | int]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                form,
                request.headers.get("authorization", ""),
            )
        )
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return httpx.Response(failure, json={"message": "failed"})
        kind = "CA" if request.url.path.endswith("Calls.json") else "SM"
        sid = f"{kind}{len(self.requests):032d}"
        return httpx.Response(201, json={"sid": sid, "status": "queued"})

    def messages_to(self, number: str) -> list[str]:
        return [
            r.form.get("Body", "")
            for r in self.requests
            if r.path.endswith("Messages.json") and r.form.get("To") == number
        ]


class InProcessGateway:
    """A second gateway on the stack's store, Rasa and action server, run in
    this process so that its Twilio client's transport can be recorded."""

    def __init__(
        self, stack: Stack, recorder: TwilioRecorder, **overrides: str
    ) -> None:
        import threading

        import uvicorn

        from assistant.app import create_app

        self.port = free_port()
        # Only these gateways have a Twilio number, so only they send messages:
        # the stack's own leaves them queued, and the recorder sees them all.
        env = dict(
            stack.env,
            HH_PORT=str(self.port),
            TWILIO_NUMBER=TWILIO_TEST_NUMBER,
            **overrides,
        )
        self.settings = load_settings(env)
        app = create_app(self.settings, twilio_transport=recorder.transport())
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            ws="wsproto",
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stack = stack

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the in-process gateway did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    def sms(self, phone: str, body: str, sid: str | None = None) -> httpx.Response:
        """An inbound SMS webhook to this gateway, signed as Twilio signs it."""
        self.stack.message_counter += 1
        params = {
            "MessageSid": sid
            or f"SM{os.getpid():08d}{self.stack.message_counter:024d}",
            "AccountSid": TWILIO_TEST_SID,
            "From": phone,
            "To": TWILIO_TEST_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        url = self.stack.env["HH_PUBLIC_URL"] + "/twilio/sms"
        return httpx.post(
            self.base_url + "/twilio/sms",
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": twilio_signature(url, params, TWILIO_TEST_TOKEN),
            },
            timeout=30,
        )


def signed_post(
    base_url: str,
    public_url: str,
    path: str,
    params: dict[str, str],
    signature: str | None = None,
) -> httpx.Response:
    """POST a Twilio webhook (path and query) signed exactly as Twilio signs it."""
    if signature is None:
        signature = twilio_signature(public_url + path, params, TWILIO_TEST_TOKEN)
    return httpx.post(
        base_url + path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        timeout=30,
    )


@pytest.fixture(scope="session")
def twilio_recorder() -> TwilioRecorder:
    return TwilioRecorder([], [])


@pytest.fixture(scope="session")
def gateway(stack, twilio_recorder):
    """A gateway in this process, beside the stack, with Twilio's REST API
    recorded at the HTTP client."""
    running = InProcessGateway(stack, twilio_recorder)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gather_gateway(stack, twilio_recorder):
    """A gateway in this process answering calls with Twilio's own speech
    recognition (`<Gather>`), its REST API recorded at the HTTP client."""
    running = InProcessGateway(stack, twilio_recorder, HH_PHONE_SPEECH="twilio")
    running.start()
    yield running
    running.stop()
