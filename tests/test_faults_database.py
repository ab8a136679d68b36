"""A busy store: another process holds SQLite's write lock for longer than the
gateway will wait. Webhooks still answer Twilio at once, kindly; nothing is
lost, and nothing is taken twice once the lock is let go, even after a restart.

The lock is real: a second process opens the same file and holds `BEGIN
EXCLUSIVE` until told to stop. Rasa is not running, so messages that reach the
assistant get its kind "having a little trouble" reply; sign-up and keywords
are answered by the gateway itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from assistant.app import create_app
from assistant.calls import get_call
from assistant.channels.sms import KEPT_FOR_LATER_REPLY
from assistant.channels.voice import BUSY_CALL, BUSY_TURN
from assistant.config import PROJECT_ROOT, load_settings
from assistant.conversation import ASK_ADDRESS, UNAVAILABLE, WELCOME
from assistant.residents import add_resident, find_by_phone
from assistant.spool import SPOOL_FILE
from assistant.store import open_database
from assistant.volunteers import add_volunteer
from tests.conftest import (
    TWILIO_TEST_NUMBER,
    TWILIO_TEST_SID,
    TWILIO_TEST_TOKEN,
    TwilioRecorder,
    free_port,
    twilio_signature,
    wait_for,
)

pytestmark = pytest.mark.chaos

PUBLIC_URL = "https://hh.example.org"
# Twilio gives up on a webhook after 15 seconds; a kind answer must come well
# before. This is Twilio's deadline, not a speed target (bench/ measures speed).
TWILIO_DEADLINE_SECONDS = 15
LOCKER = textwrap.dedent(
    """
    import sqlite3
    import sys

    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    connection.execute("ROLLBACK")
    """
)


class StoreLock:
    """Another process holding the store's write lock until `release`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process.stdin.closed:
            return
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(10)
        self.process.stdin.close()
        self.process.stdout.close()


class Gateway:
    """The real gateway on a real port, in a thread, on a given data folder."""

    def __init__(self, data_dir: Path, recorder: TwilioRecorder, **environ: str):
        settings = load_settings(
            {
                "HH_DATA_DIR": str(data_dir),
                "HH_PUBLIC_URL": PUBLIC_URL,
                "HH_RASA_PORT": str(free_port()),
                "HH_ACTIONS_PORT": str(free_port()),
                "HH_RASA_TIMEOUT": "2",
                "TWILIO_ACCOUNT_SID": TWILIO_TEST_SID,
                "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
                "TWILIO_NUMBER": TWILIO_TEST_NUMBER,
                "HH_PHONE_SPEECH": "twilio",
                **environ,
            }
        )
        self.database_path = settings.database_path
        self.app = create_app(settings, twilio_transport=recorder.transport())
        port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=port,
                ws="wsproto",
                log_level="warning",
                timeout_graceful_shutdown=5,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def __enter__(self) -> Gateway:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive()
            time.sleep(0.05)
        return self

    def __exit__(self, *_) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(15)

    def webhook(self, path: str, params: dict[str, str]) -> httpx.Response:
        """POST a Twilio webhook, signed as Twilio signs it."""
        signature = twilio_signature(PUBLIC_URL + path, params, TWILIO_TEST_TOKEN)
        return self.http.post(
            path,
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )

    def sms(self, phone: str, body: str, sid: str) -> httpx.Response:
        return self.webhook(
            "/twilio/sms",
            {
                "MessageSid": sid,
                "AccountSid": TWILIO_TEST_SID,
                "From": phone,
                "To": TWILIO_TEST_NUMBER,
                "Body": body,
                "NumMedia": "0",
            },
        )


def texts(response: httpx.Response) -> list[str]:
    """The messages of an SMS webhook's TwiML answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


def spoken(response: httpx.Response) -> tuple[list[str], bool]:
    """What a voice webhook's TwiML says, and whether it then hangs up."""
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [say.text or "" for say in root.iter("Say")], root.find("Hangup") is not None


@contextmanager
def own_connection(path: Path) -> Iterator:
    """The store on a connection of the test's own, not the gateway's (which
    its thread is using); in WAL mode a reader is never blocked by the lock."""
    db = open_database(path, migrate=False)
    try:
        yield db
    finally:
        db.close()


def inbound_rows(path: Path, phone: str) -> list[tuple]:
    """The stored inbound messages from a number: provider id, body, status."""
    with own_connection(path) as db:
        return db.execute(
            "SELECT m.provider_id, m.body, m.status FROM messages m "
            "JOIN residents r ON r.id = m.resident_id WHERE r.phone = ? "
            "AND m.direction = 'in' ORDER BY m.id",
            [phone],
        ).fetchall()


@pytest.fixture
def recorder() -> TwilioRecorder:
    return TwilioRecorder([], [])


@pytest.fixture
def lock_store():
    """Lock a store from another process; every lock is let go at the end."""
    locks: list[StoreLock] = []

    def lock(path: Path) -> StoreLock:
        locks.append(StoreLock(path))
        return locks[-1]

    def release_all() -> None:
        for held in locks:
            held.release()

    lock.release_all = release_all
    yield lock
    release_all()


def test_sms_while_the_store_is_locked_is_answered_kindly_then_taken_once(
    tmp_path, recorder, lock_store, caplog
):
    """Test that texts sent while the store is locked get a kind answer in
    time, then are taken in order and answered by text, each exactly once,
    however often Twilio repeats them."""
    phone = "+447700900301"
    caplog.set_level("INFO")
    with Gateway(tmp_path, recorder) as gateway:
        lock = lock_store(gateway.database_path)
        began = time.monotonic()
        first = gateway.sms(phone, "hello there", "SM" + "1" * 32)
        first_seconds = time.monotonic() - began
        again = gateway.sms(phone, "hello there", "SM" + "1" * 32)
        second = gateway.sms(phone, "Joan Smith", "SM" + "2" * 32)

        assert first_seconds < TWILIO_DEADLINE_SECONDS / 3
        assert texts(first) == [KEPT_FOR_LATER_REPLY]
        assert texts(again) == [KEPT_FOR_LATER_REPLY]
        assert texts(second) == [KEPT_FOR_LATER_REPLY]
        assert len((tmp_path / SPOOL_FILE).read_text().splitlines()) == 2
        assert inbound_rows(gateway.database_path, phone) == []
        assert recorder.messages_to(phone) == []
        lock.release()

        sent = wait_for(lambda: len(recorder.messages_to(phone)) >= 2 or None)
        assert sent
        rows = inbound_rows(gateway.database_path, phone)
        assert rows == [
            ("SM" + "1" * 32, "hello there", "answered"),
            ("SM" + "2" * 32, "Joan Smith", "answered"),
        ]
        assert recorder.messages_to(phone) == [
            WELCOME,
            ASK_ADDRESS.format(name="Joan Smith"),
        ]

        # Twilio repeating a webhook now gets no second copy of the replies,
        # which went by text, and nothing new is stored or sent.
        late = gateway.sms(phone, "hello there", "SM" + "1" * 32)
        assert texts(late) == []
        assert len(inbound_rows(gateway.database_path, phone)) == 2
        time.sleep(1.5)
        assert len(recorder.messages_to(phone)) == 2
        assert not (tmp_path / SPOOL_FILE).exists()

    logged = " ".join(
        record.getMessage() for record in caplog.records if record.levelno > 10
    )
    assert phone not in logged and phone[-9:] not in logged
    assert "hello there" not in logged and "Joan" not in logged


def test_sms_kept_before_a_restart_is_taken_by_the_next_gateway(
    tmp_path, recorder, lock_store
):
    """Test that a text spooled by a gateway stopped while the store was still
    locked is taken, once, by the gateway started after it."""
    phone = "+447700900302"
    sid = "SM" + "3" * 32
    with Gateway(tmp_path, recorder) as gateway:
        database_path = gateway.database_path
        with own_connection(database_path) as db:
            add_resident(db, phone, "Ada Byron", "3 Lane, Anytown AB1 2CD")
        lock = lock_store(database_path)
        assert texts(gateway.sms(phone, "help", sid)) == [KEPT_FOR_LATER_REPLY]
    assert len((tmp_path / SPOOL_FILE).read_text().splitlines()) == 1
    assert inbound_rows(database_path, phone) == []
    lock.release()

    with Gateway(tmp_path, recorder) as restarted:
        wait_for(lambda: recorder.messages_to(phone))
        assert inbound_rows(database_path, phone) == [(sid, "help", "answered")]
        assert len(recorder.messages_to(phone)) == 1
        assert "Helping Hands: text what you'd like" in recorder.messages_to(phone)[0]
        assert texts(restarted.sms(phone, "help", sid)) == []
    assert inbound_rows(database_path, phone) == [(sid, "help", "answered")]
    assert len(recorder.messages_to(phone)) == 1


def test_sms_from_several_residents_at_once_while_locked_all_answer_in_time(
    tmp_path, recorder, lock_store
):
    """Test that webhooks arriving together while the store is locked do not
    queue behind each other's wait for the lock: each answers in time."""
    phones = [f"+4477009004{n:02d}" for n in range(8)]
    with Gateway(tmp_path, recorder) as gateway:
        lock = lock_store(gateway.database_path)
        answers: dict[str, tuple[float, httpx.Response]] = {}

        def send(phone: str) -> None:
            began = time.monotonic()
            response = gateway.sms(phone, "hello", "SM" + phone[1:].rjust(32, "0"))
            answers[phone] = (time.monotonic() - began, response)

        senders = [threading.Thread(target=send, args=(p,)) for p in phones]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(30)
        lock.release()
        assert len(answers) == len(phones)
        for _, response in answers.values():
            assert texts(response) == [KEPT_FOR_LATER_REPLY]
        assert max(seconds for seconds, _ in answers.values()) < (
            TWILIO_DEADLINE_SECONDS / 3
        )
        wait_for(lambda: all(recorder.messages_to(p) for p in phones))
        for phone in phones:
            assert recorder.messages_to(phone) == [WELCOME]
            assert len(inbound_rows(gateway.database_path, phone)) == 1


def test_voice_webhooks_while_locked_answer_kindly_and_keep_the_call(
    tmp_path, recorder, lock_store
):
    """Test that a call, a spoken turn and a call's end told while the store is
    locked are answered in valid TwiML at once, and once it is free the words
    are stored once, a volunteer is asked to ring back, and the call ends."""
    phone, newcomer = "+447700900311", "+447700900312"
    call_sid, new_call_sid = "CA" + "1" * 32, "CA" + "2" * 32
    with Gateway(tmp_path, recorder) as gateway:
        path = gateway.database_path
        with own_connection(path) as db:
            add_resident(db, phone, "Mr Ted Jones", "5 Road, Anytown AB1 2CD")
        call = {"CallSid": call_sid, "AccountSid": TWILIO_TEST_SID, "From": phone}
        lines, hangs_up = spoken(gateway.webhook("/twilio/voice", call))
        assert "Hello Mr Ted" in lines[0] and not hangs_up

        lock = lock_store(path)
        began = time.monotonic()
        heard = {**call, "SpeechResult": "two pints of milk please"}
        turn = gateway.webhook("/twilio/voice/gather?turn=1", heard)
        turn_seconds = time.monotonic() - began
        retried = gateway.webhook("/twilio/voice/gather?turn=1", heard)
        new_call = gateway.webhook(
            "/twilio/voice", {**call, "CallSid": new_call_sid, "From": newcomer}
        )
        ended = gateway.webhook(
            "/twilio/voice/status", {**call, "CallStatus": "completed"}
        )
        lock.release()

        assert turn_seconds < TWILIO_DEADLINE_SECONDS / 3
        assert spoken(turn) == ([BUSY_TURN], True)
        assert spoken(retried) == ([BUSY_TURN], True)
        assert spoken(new_call) == ([BUSY_CALL], True)
        assert ended.status_code == 204

        def handoffs():
            with own_connection(path) as db:
                rows = db.execute(
                    "SELECT r.phone, h.reason, h.channel FROM handoffs h JOIN "
                    "residents r ON r.id = h.resident_id ORDER BY h.id"
                ).fetchall()
            return rows if len(rows) == 2 else None

        assert wait_for(handoffs) == [
            (phone, "assistant-unavailable", "phone"),
            (newcomer, "assistant-unavailable", "phone"),
        ]
        assert inbound_rows(path, phone) == [
            (f"{call_sid}:1", "two pints of milk please", "held")
        ]
        wait_for(lambda: not (tmp_path / SPOOL_FILE).exists())
        with own_connection(path) as db:
            assert get_call(db, call_sid).status == "completed"
            assert find_by_phone(db, newcomer) is not None


class LockingRasa(ThreadingHTTPServer):
    """Stands in for Rasa: answers a turn, but first has the store locked, as
    if another process took the lock in the middle of the turn."""

    def __init__(self, lock: Callable[[], object]) -> None:
        super().__init__(("127.0.0.1", 0), LockingRasaTurn)
        self.lock = lock
        self.turns: list[str] = []


class LockingRasaTurn(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.turns.append(asked["message"])
        self.server.lock()
        body = json.dumps([{"text": "I've added two pints of milk."}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_) -> None:
        pass


def test_sms_turn_cut_short_by_the_lock_goes_to_a_person_not_a_second_turn(
    tmp_path, recorder, lock_store
):
    """Test that a stored text whose turn meets the lock halfway is answered
    kindly in time, then handed to a person, and never given to the assistant
    a second time (it may already have acted on it)."""
    phone = "+447700900331"
    database_path = tmp_path / "helping_hands.db"
    rasa = LockingRasa(lambda: lock_store(database_path))
    serving = threading.Thread(target=rasa.serve_forever, daemon=True)
    serving.start()
    try:
        port = str(rasa.server_address[1])
        with Gateway(tmp_path, recorder, HH_RASA_PORT=port) as gateway:
            with own_connection(database_path) as db:
                add_resident(db, phone, "Joan Smith", "4 Elm Close, AB1 2CD")
            began = time.monotonic()
            answer = gateway.sms(phone, "two pints of milk", "SM" + "5" * 32)
            seconds = time.monotonic() - began
            assert texts(answer) == [KEPT_FOR_LATER_REPLY]
            assert seconds < TWILIO_DEADLINE_SECONDS
            assert inbound_rows(database_path, phone) == [
                ("SM" + "5" * 32, "two pints of milk", "received")
            ]
            lock_store.release_all()

            wait_for(lambda: recorder.messages_to(phone))
            assert recorder.messages_to(phone) == [UNAVAILABLE]
            with own_connection(database_path) as db:
                reasons = db.execute("SELECT reason FROM handoffs").fetchall()
            assert reasons == [("assistant-unavailable",)]
            assert rasa.turns == ["two pints of milk"]
    finally:
        rasa.shutdown()
        rasa.server_close()


def page_text(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_console_on_a_locked_store_asks_to_try_again_not_a_server_error(
    tmp_path, recorder, lock_store
):
    """Test that a console form the store cannot save while locked is a short,
    kind "busy, try again" page, and works once the lock is gone."""
    # Plain http, as the test's browser is: https would make the cookies Secure.
    with Gateway(tmp_path, recorder, HH_PUBLIC_URL="http://127.0.0.1") as gateway:
        with own_connection(gateway.database_path) as db:
            add_volunteer(db, "vera", "Vera", "a long password!", "volunteer")

        def sign_in() -> httpx.Response:
            form = gateway.http.get("/console/sign-in")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            return gateway.http.post(
                "/console/sign-in",
                data={
                    "username": "vera",
                    "password": "a long password!",
                    "csrf": token,
                    "next": "/console/",
                },
                follow_redirects=False,
            )

        lock = lock_store(gateway.database_path)
        busy = sign_in()
        lock.release()

        assert busy.status_code == 503
        assert busy.headers["retry-after"].isdigit()
        assert "busy just now" in page_text(busy)
        assert "try again" in page_text(busy)
        assert sign_in().status_code == 303


def test_sms_that_cannot_even_be_spooled_asks_to_be_sent_again(
    tmp_path, recorder, lock_store
):
    """Test that a text that can be neither stored nor spooled asks the resident,
    kindly, to send it again, rather than claiming it arrived.

    A folder stands where the spool file goes: opening it to append fails for
    any user, root included (a read-only folder would not stop root).
    """
    with Gateway(tmp_path, recorder) as gateway:
        (tmp_path / SPOOL_FILE).mkdir()
        lock = lock_store(gateway.database_path)
        answer = texts(gateway.sms("+447700900321", "hello", "SM" + "4" * 32))
        lock.release()
    assert len(answer) == 1 and "send it again" in answer[0]


def test_locker_script_really_holds_the_write_lock(tmp_path):
    """Test that the lock used above stops another writer (so the tests above
    prove what they claim)."""
    path = tmp_path / "locked.db"
    open_database(path).close()
    lock = StoreLock(path)
    try:
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0.2);"
                " c.execute('BEGIN IMMEDIATE')",
                str(path),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        )
    finally:
        lock.release()
    assert completed.returncode != 0
    assert "database is locked" in completed.stderr
