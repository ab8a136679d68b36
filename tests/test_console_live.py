"""Live updates: the console's event stream, served by a real uvicorn in a thread.

Starlette's TestClient waits for a response to finish, and an event stream
never does, so these tests run the gateway app under uvicorn on a free port
and read the stream with httpx, as a browser's EventSource would.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from assistant.app import create_app
from assistant.console import live
from assistant.console.live import ChangeWatcher
from assistant.handoffs import claim, end_handoff, open_handoff
from assistant.messages import record_inbound
from assistant.residents import add_resident
from assistant.store import open_database
from assistant.volunteers import add_volunteer, sign_out
from tests.conftest import PROJECT_ROOT, free_port
from tests.test_console_web import PASSWORD, console_settings, csrf_of

STREAM_TIMEOUT = httpx.Timeout(10.0)


@dataclass
class Served:
    app: Starlette
    base_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def db(self):
        return self.app.state.db


@pytest.fixture
def served(tmp_path):
    """The gateway app under uvicorn, in this process, on a free port."""
    app = create_app(console_settings(tmp_path, "http://127.0.0.1", twilio=False))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws="wsproto",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "no server"
        time.sleep(0.05)
    running = Served(app, f"http://127.0.0.1:{port}")
    yield running
    for client in running.clients:
        client.close()
    server.should_exit = True
    thread.join(15)


def signed_in(served: Served, username: str = "vera") -> httpx.Client:
    add_volunteer(served.db, username, username.capitalize(), PASSWORD)
    client = httpx.Client(base_url=served.base_url, timeout=STREAM_TIMEOUT)
    served.clients.append(client)
    form = client.get("/console/sign-in")
    client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(form.text)},
    )
    assert "hh_session" in client.cookies
    return client


def read_until(lines, *wanted: str, seconds: float = 8.0) -> list[str]:
    """Lines of the stream until every one of `wanted` has come, within `seconds`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    for line in lines:
        seen.append(line)
        if set(wanted) <= set(seen):
            return seen
        assert time.monotonic() < deadline, f"not all of {wanted} in {seen}"
    raise AssertionError(f"the stream ended before all of {wanted}: {seen}")


def test_console_events_stream_opens_with_a_retry_and_a_comment(served):
    """Test that the stream is text/event-stream, uncached, and starts at once."""
    client = signed_in(served)
    with client.stream("GET", "/console/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        lines = response.iter_lines()
        assert next(lines) == "retry: 1000"
        assert next(lines) == ": connected"


def test_console_events_report_a_handoff_opened_by_another_process(served):
    """Test that a handoff written by another process (as the Rasa action
    server writes them) reaches open pages, found by polling the store."""
    client = signed_in(served)
    resident = add_resident(served.db, "+447700900777", "Ivy", "2 Oak Rd")
    database = served.app.state.settings.database_path
    script = (
        "from pathlib import Path\n"
        "from assistant.store import open_database\n"
        "from assistant.handoffs import open_handoff\n"
        f"db = open_database(Path({str(database)!r}))\n"
        f"handoff, _ = open_handoff(db, {resident.id!r}, 'asked-for-person')\n"
        "print(handoff.id)\n"
    )

    with client.stream("GET", "/console/events") as response:
        lines = response.iter_lines()
        read_until(lines, ": connected")
        opened = subprocess.run(
            [sys.executable, "-c", script],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        handoff_id = int(opened.stdout.strip())

        read_until(lines, "data: queue", f"data: handoff:{handoff_id}")


def test_console_events_pass_on_this_gateways_broadcasts(served, monkeypatch):
    """Test that a change announced in this process (a claim in the console)
    reaches open pages at once, without waiting for the store to be polled."""
    monkeypatch.setattr(live, "POLL_SECONDS", 3600.0)
    watcher = signed_in(served, "vera")
    claimer = signed_in(served, "bob")
    resident = add_resident(served.db, "+447700900778", "Iris", "3 Oak Rd")
    handoff, _ = open_handoff(served.db, resident.id, "asked-for-person")
    token = csrf_of(claimer.get("/console/").text)

    with watcher.stream("GET", "/console/events") as response:
        lines = response.iter_lines()
        read_until(lines, ": connected")
        claimer.post(f"/console/handoffs/{handoff.id}/claim", data={"csrf": token})

        read_until(lines, "data: queue", f"data: handoff:{handoff.id}", seconds=5)


def test_console_events_keep_the_connection_alive(served, monkeypatch):
    """Test that a quiet stream sends comments, so proxies keep it open."""
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.3)
    client = signed_in(served)
    with client.stream("GET", "/console/events") as response:
        read_until(response.iter_lines(), ": keep-alive", seconds=5)


def test_console_events_end_when_the_session_ends(served):
    """Test that signing out elsewhere ends the stream with a signed-out event."""
    client = signed_in(served)
    other = open_database(served.app.state.settings.database_path)

    with client.stream("GET", "/console/events") as response:
        lines = response.iter_lines()
        read_until(lines, ": connected")
        sign_out(other, client.cookies["hh_session"])

        seen = read_until(lines, "data: signed-out")
        rest = list(lines)

    other.close()
    assert "event: signed-out" in seen
    assert rest == [""]


def test_console_events_stream_ends_in_time_for_the_browser_to_reopen(
    served, monkeypatch
):
    """Test that a stream closes by itself after a while (the page's
    EventSource opens a new one), so no stream holds a stopping server."""
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.5)
    client = signed_in(served)
    started = time.monotonic()

    with client.stream("GET", "/console/events") as response:
        lines = list(response.iter_lines())

    assert time.monotonic() - started < 5
    assert lines[:2] == ["retry: 1000", ": connected"]


def test_change_watcher_names_what_changed_in_the_store(db):
    """Test that the watcher reports new, claimed and ended handoffs, and new
    messages in handed-off conversations, each once."""
    watcher = ChangeWatcher(db)
    resident = add_resident(db, "+447700900779", "Rose", "4 Oak Rd")
    bystander = add_resident(db, "+447700900780", "Lily", "5 Oak Rd")
    volunteer = add_volunteer(db, "vera", "Vera", PASSWORD)
    assert watcher.changes() == []

    handoff, _ = open_handoff(db, resident.id, "asked-for-person")
    assert watcher.changes() == ["queue", f"handoff:{handoff.id}"]
    assert watcher.changes() == []

    record_inbound(db, "sms", "SM-watch-1", resident.id, "hello?")
    record_inbound(db, "sms", "SM-watch-2", bystander.id, "not handed off")
    assert watcher.changes() == ["queue", f"handoff:{handoff.id}"]

    claim(db, handoff.id, volunteer.id)
    assert watcher.changes() == ["queue", f"handoff:{handoff.id}"]

    end_handoff(db, handoff.id, "handed-back")
    assert watcher.changes() == ["queue", f"handoff:{handoff.id}"]
    assert watcher.changes() == []
