"""Hostile input: markup and SQL from residents, paths that climb out of the
static folders, and bodies far too big for a webhook.

The text arrives the way an attacker would send it: a signed SMS webhook,
for a sign-up and the messages after it. Rasa is not running, so each
message after sign-up opens an "assistant unavailable" handoff and lands in
the volunteers' queue, where it is shown. A name cannot carry markup in by
SMS (sign-up keeps only the letters of a name), so a resident whose name is
markup is also added directly, as the CLI or a coordinator could.

Paths are sent over a raw socket to a real uvicorn server, so that no HTTP
client tidies the `..` away before the server sees it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from markupsafe import escape
from starlette.requests import Request
from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.body_limit import MOST_BODY_BYTES, BodyLimit
from assistant.channels.tablet import DEVICE_COOKIE
from assistant.devices import pair_directly
from assistant.handoffs import active_handoff
from assistant.residents import add_resident, clean_name, find_by_phone
from assistant.store import open_database
from assistant.volunteers import add_volunteer
from tests.conftest import (
    TWILIO_TEST_NUMBER,
    TWILIO_TEST_SID,
    TWILIO_TEST_TOKEN,
    TwilioRecorder,
    free_port,
    twilio_signature,
)
from tests.test_console_web import (
    PASSWORD,
    console_settings,
    page_text,
    post_form,
    sign_in,
    volunteer,
)

pytestmark = pytest.mark.chaos

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "sql": "Robert'); DROP TABLE residents;--",
}
TABLES = {
    "residents",
    "messages",
    "handoffs",
    "handoff_notes",
    "orders",
    "basket_lines",
    "volunteers",
    "tablet_devices",
}
WEBHOOKS = [
    "/twilio/sms",
    "/twilio/voice",
    "/twilio/voice/gather",
    "/twilio/voice/dial-done",
    "/twilio/voice/status",
    "/twilio/calls/dial-done",
    "/twilio/voice/after-stream",
]
TWO_MEGABYTES = 2 * 1024 * 1024
_numbers = itertools.count(3300)  # numbers no other test module uses
_sids = itertools.count(1)


@pytest.fixture
def client(tmp_path):
    """The whole gateway on a fresh data folder, Rasa not running."""
    recorder = TwilioRecorder([], [])
    app = create_app(console_settings(tmp_path), twilio_transport=recorder.transport())
    with TestClient(app) as running:
        yield running


@pytest.fixture
def db(client):
    """The running app's own store."""
    return client.app.state.db


def new_phone() -> str:
    return f"+4477009{next(_numbers):05d}"


def sms_params(phone: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": f"SMhostile{next(_sids):024d}",
        "AccountSid": TWILIO_TEST_SID,
        "From": phone,
        "To": TWILIO_TEST_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def signed_sms(client, public_url: str, phone: str, body: str) -> httpx.Response:
    """An inbound SMS webhook, signed exactly as Twilio signs it."""
    params = sms_params(phone, body)
    signature = twilio_signature(public_url + "/twilio/sms", params, TWILIO_TEST_TOKEN)
    response = client.post(
        "/twilio/sms",
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert response.status_code == 200, response.text
    return response


def signed_up_by_sms(client, public_url: str, hostile: str) -> str:
    """A new number signs up with hostile words for name and address, then
    sends them as a message; returns the number."""
    phone = new_phone()
    for words in ("hello", hostile, hostile, hostile):
        signed_sms(client, public_url, phone, words)
    return phone


def shown_escaped(html: str, hostile: str) -> bool:
    """Whether a page holds the words only as escaped text."""
    return hostile not in html and str(escape(hostile)) in html


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_sign_up_and_messages_are_stored_exactly(client, db, hostile):
    """Test that markup and SQL sent by SMS are stored as the very text sent
    (the name as sign-up cleans any name), and every table still exists."""
    tables_before = set(db.table_names())

    phone = signed_up_by_sms(client, "http://testserver", hostile)

    resident = find_by_phone(db, phone)
    assert resident.is_registered
    assert resident.name == clean_name(hostile)
    assert resident.address == hostile
    bodies = [
        row[0]
        for row in db.execute(
            "SELECT body FROM messages WHERE resident_id = ? AND direction = 'in' "
            "ORDER BY id",
            [resident.id],
        )
    ]
    assert bodies == ["hello", hostile, hostile, hostile]
    assert set(db.table_names()) == tables_before
    assert TABLES <= tables_before
    assert db.execute("SELECT count(*) FROM residents").fetchone()[0] == 1
    assert active_handoff(db, resident.id) is not None


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_is_escaped_on_every_console_page(client, db, hostile):
    """Test that a hostile name, address and message appear only escaped in
    the queue, the conversation, its transcript and the Residents pages."""
    phone = new_phone()
    resident = add_resident(db, phone, hostile, hostile, hostile)
    signed_sms(client, "http://testserver", phone, hostile)
    handoff = active_handoff(db, resident.id)
    assert handoff is not None
    volunteer(db, "cora", "coordinator")
    sign_in(client, "cora")
    summary = f"/console/residents/{resident.id}"

    pages = {
        "queue": client.get("/console/"),
        "queue fragment": client.get("/console/queue"),
        "conversation": client.get(f"/console/handoffs/{handoff.id}"),
        "transcript": client.get(f"/console/handoffs/{handoff.id}/transcript"),
        "residents found": post_form(
            client, "/console/residents", "/console/residents", query=phone[-4:]
        ),
        "resident summary": client.get(summary),
        "wrong confirmation": post_form(
            client, summary + "/erase", summary, confirm=hostile + "x"
        ),
        "searched for it": post_form(
            client, "/console/residents", "/console/residents", query=hostile
        ),
    }

    for name, response in pages.items():
        assert response.status_code in (200, 400), name
        assert shown_escaped(response.text, hostile), name
        assert hostile in page_text(response), name
    assert "<script>alert" not in "".join(r.text for r in pages.values())
    assert TABLES <= set(db.table_names())
    assert db.execute("SELECT name FROM residents").fetchall() == [(hostile,)]


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_reaches_the_tablet_only_as_json(client, db, hostile):
    """Test that the tablet's page never holds the resident's words, and its
    API gives them back exactly, as JSON the page sets only as text."""
    phone = new_phone()
    resident = add_resident(db, phone, hostile, hostile)
    signed_sms(client, "http://testserver", phone, hostile)
    _, token = pair_directly(db, resident.id, hostile)
    client.cookies.set(DEVICE_COOKIE, token)

    page = client.get("/")
    state = client.get("/tablet/api/state")

    assert page.status_code == 200 and hostile not in page.text
    assert state.status_code == 200
    assert state.headers["content-type"] == "application/json"
    assert state.headers["x-content-type-options"] == "nosniff"
    assert state.json()["name"] == hostile.split(" ")[0]
    assert state.json()["said"] == hostile
    script = (
        Path(__file__).parents[1] / "assistant/channels/tablet_static/tablet.js"
    ).read_text(encoding="utf-8")
    assert not re.search(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script
    )


# -------------------------------------------------- a real server, by socket


class LiveGateway:
    """The whole gateway served by uvicorn in a thread, as `helping-hands
    gateway` serves it, on a fresh data folder; Rasa is not running."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings = console_settings(data_dir, public_url=self.base_url)
        recorder = TwilioRecorder([], [])
        app = create_app(self.settings, twilio_transport=recorder.transport())
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            ws="wsproto",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live gateway did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    def db(self):
        return open_database(self.settings.database_path)

    def raw_get(self, target: bytes) -> tuple[int, bytes]:
        """GET exactly this request target, byte for byte; the status and body."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(
                b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Connection: close\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    running = LiveGateway(tmp_path_factory.mktemp("hostile"))
    running.start()
    yield running
    running.stop()


ASSISTANT = Path(__file__).parents[1] / "assistant"
OUTSIDE = {
    "passwd": "root:",
    "console package": (ASSISTANT / "console/__init__.py").read_text().split("\n")[0],
    "console template": "{% extends",
    "tablet module": (ASSISTANT / "channels/tablet.py").read_text().split("\n")[0],
}
CLIMBS = {
    "dots": b"../../../../../../etc/passwd",
    "encoded-dots": b"%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "encoded-slashes": b"..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "all-encoded": b"%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f"
    b"etc%2fpasswd",
    "double-encoded": b"%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "backslashes": b"..\\..\\..\\..\\..\\..\\etc\\passwd",
    "encoded-backslashes": b"..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "absolute": b"/etc/passwd",
    "encoded-absolute": b"%2fetc%2fpasswd",
    "package-file": b"../__init__.py",
    "template": b"%2e%2e/templates/base.html",
    "module": b"..%2ftablet.py",
    "nul-encoded": b"console.css%00.png",
    "nul-climb": b"..%2f..%2f..%2fetc%2fpasswd%00.css",
    "dot-dot-dot": b".../.../etc/passwd",
    "overlong-utf8": b"%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
}
STATIC_ROUTES = {
    "console": (b"/console/static/", "console.css"),
    "tablet": (b"/tablet/static/", "tablet.css"),
    "root": (b"/static/", None),
    "site": (b"/", None),
}


@pytest.mark.parametrize("climb", CLIMBS.values(), ids=CLIMBS.keys())
@pytest.mark.parametrize("route", STATIC_ROUTES.values(), ids=STATIC_ROUTES.keys())
def test_hostile_paths_never_leave_the_static_folders(live, route, climb):
    """Test that a path climbing out of a static folder, however it is
    spelled, answers 400 or 404 and never a file from outside."""
    prefix, real_file = route
    if real_file is not None:
        status, body = live.raw_get(prefix + real_file.encode())
        assert status == 200 and body, "the static route itself should work"

    status, body = live.raw_get(prefix + climb)

    assert status in (400, 404), (status, body[:200])
    for name, marker in OUTSIDE.items():
        assert marker.encode() not in body, name
    assert b'"""' not in body


def test_hostile_path_with_a_raw_nul_byte_is_refused(live):
    """Test that a NUL byte sent as it is in the request line is refused."""
    for prefix in (b"/console/static/", b"/tablet/static/"):
        status, body = live.raw_get(prefix + b"console.css\x00/../../etc/passwd")

        assert status == 400
        assert b"root:" not in body


# -------------------------------------------------------- oversized bodies


def oversized_form() -> bytes:
    return urlencode({"From": "+447700900123", "Body": "x" * TWO_MEGABYTES}).encode()


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_hostile_oversized_webhook_is_refused_with_413(client, db, path, framing):
    """Test that a 2 MB form on a Twilio webhook, its length declared or
    sent in chunks, is refused with 413 before anything is stored, and
    the gateway carries on."""
    body = oversized_form()
    content = body if framing == "content-length" else iter([body[:65536]] * 40)

    response = client.post(
        path,
        content=content,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "not checked before the size",
        },
    )

    assert response.status_code == 413
    assert response.text == "Request too large"
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    phone = new_phone()
    signed_sms(client, "http://testserver", phone, "hello")
    assert find_by_phone(db, phone) is not None


@pytest.mark.parametrize("path", ["/twilio/sms", "/tablet/api/say", "/console/sign-in"])
def test_hostile_endless_body_is_cut_off_while_reading(path):
    """Test that a body with no declared length is read only until it passes
    the limit, and one declared too long is not read at all: either way the
    answer is 413 and the route never finishes reading."""
    chunk = b"x" * 16384
    reads = []
    finished = []

    async def route(scope, receive, send) -> None:
        await Request(scope, receive).body()  # reads for ever, if let
        finished.append(path)

    async def endless():
        reads.append(1)
        return {"type": "http.request", "body": chunk, "more_body": True}

    def answer(headers: list[tuple[bytes, bytes]]) -> list[dict]:
        sent = []

        async def send(message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
        asyncio.run(BodyLimit(route)(scope, endless, send))
        return sent

    streamed = answer([])
    streamed_reads = len(reads)
    declared = answer([(b"content-length", b"2097152")])

    for sent in (streamed, declared):
        assert sent[0]["status"] == 413
        assert sent[1]["body"] == b"Request too large"
    assert streamed_reads == MOST_BODY_BYTES // len(chunk) + 1
    assert len(reads) == streamed_reads  # the declared one: not a byte read
    assert finished == []


def test_hostile_oversized_webhook_over_a_real_socket(live):
    """Test that through a real server the 2 MB form is answered 413 and the
    client reads the answer, rather than the connection breaking."""
    response = httpx.post(
        live.base_url + "/twilio/sms",
        content=oversized_form(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )

    assert response.status_code == 413
    assert httpx.get(live.base_url + "/console/sign-in", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/tablet/api/pair", "/tablet/api/say", "/console/sign-in"],
)
def test_hostile_oversized_tablet_and_console_posts_are_refused(client, path):
    """Test that a 2 MB body on the tablet's API or the sign-in form is
    refused with 413, not a crash."""
    headers = {"X-Helping-Hands": "tablet", "Content-Type": "application/json"}
    content = json.dumps({"code": "1" * TWO_MEGABYTES})
    if path.startswith("/console"):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        content = oversized_form()

    response = client.post(path, content=content, headers=headers)

    assert response.status_code == 413
    assert client.get("/console/sign-in").status_code == 200


# ------------------------------------------------------------- real Chromium

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium():
    """Chromium from Debian, driven by Playwright; no browser is downloaded."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is a test dependency"
    )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs it")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


INJECTED = """() => ({
  images: document.querySelectorAll("img[src='x'], img[onerror]").length,
  inlineScripts: Array.from(document.scripts).filter((s) => !s.src).length,
  ran: window.hostileRan === true,
})"""


def test_hostile_text_runs_nowhere_in_chromium(live, chromium):
    """Test in Chromium, with the page's Content-Security-Policy bypassed so
    that only escaping stands in the way, that hostile words from SMS show
    as text in the queue, conversation and Residents pages and on the
    tablet, and no script runs and no dialog opens."""
    from playwright.sync_api import expect

    payloads = [
        '"><img src=x onerror="window.hostileRan=true;alert(1)">',
        "<script>window.hostileRan=true;alert(2)</script>",
    ]
    phone = new_phone()
    db = live.db()
    resident = add_resident(db, phone, payloads[1], payloads[0], payloads[1])
    add_volunteer(db, "hettie", "Hettie", PASSWORD, "coordinator")
    _, token = pair_directly(db, resident.id, "hostile tablet")
    db.close()
    with httpx.Client(base_url=live.base_url) as sender:
        signed_sms(sender, live.base_url, phone, payloads[0])
    db = live.db()
    handoff = active_handoff(db, resident.id)
    db.close()
    assert handoff is not None
    context = chromium.new_context(bypass_csp=True)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", record(dialogs))
    page.goto(live.base_url + "/console/sign-in")
    page.get_by_label("Username").fill("hettie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))

    screens = {
        "queue": (live.base_url + "/console/", "li.card"),
        "conversation": (live.base_url + f"/console/handoffs/{handoff.id}", "main"),
        "resident": (live.base_url + f"/console/residents/{resident.id}", "main"),
    }
    for name, (url, where) in screens.items():
        page.goto(url)
        expect(page.locator(where).first).to_contain_text(payloads[1])
        if name != "queue":
            expect(page.locator("main")).to_contain_text(payloads[0])
        page.wait_for_timeout(300)
        assert page.evaluate(INJECTED) == {
            "images": 0,
            "inlineScripts": 0,
            "ran": False,
        }, name
    tablet = chromium.new_context(bypass_csp=True)
    tablet.add_cookies([{"name": DEVICE_COOKIE, "value": token, "url": live.base_url}])
    tablet_page = tablet.new_page()
    tablet_page.on("dialog", record(dialogs))
    tablet_page.goto(live.base_url + "/")
    expect(tablet_page.locator("#hello")).to_have_text("Hello, " + payloads[1])
    expect(tablet_page.locator("#heard")).to_contain_text(payloads[0][1:])
    tablet_page.wait_for_timeout(300)
    assert tablet_page.evaluate(INJECTED) == {
        "images": 0,
        "inlineScripts": 0,
        "ran": False,
    }

    assert dialogs == []
    tablet.close()
    context.close()


def record(dialogs: list[str]):
    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    return on_dialog
