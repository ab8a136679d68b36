"""Handoffs, volunteers' accounts and queued outbound messages, on a real store."""

import asyncio
import threading
from datetime import datetime, time, timedelta, timezone

import httpx
import pytest

from assistant.channels.twilio_rest import TwilioRestClient
from assistant.handoffs import (
    active_handoff,
    claim,
    end_handoff,
    open_handoff,
    waiting_queue,
    when_to_expect,
)
from assistant.outbound import queue_sms, send_due
from assistant.residents import add_resident
from assistant.store import open_database
from assistant.volunteers import (
    AccountError,
    SignInRefused,
    add_volunteer,
    hash_password,
    password_matches,
    remove_volunteer,
    session_for,
    sign_in,
)

PASSWORD = "correct horse battery"


def resident(db, number: int = 1):
    return add_resident(db, f"+4477009005{number:02d}", f"Resident {number}", "1 Road")


def test_password_hash_is_salted_scrypt_and_checks():
    """Test that passwords are stored as salted scrypt and only the right one fits."""
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second
    assert password_matches(PASSWORD, first)
    assert not password_matches("wrong password", first)
    assert not password_matches(PASSWORD, "garbage")


def test_add_volunteer_refuses_weak_passwords_and_taken_names(db):
    """Test that a short password or a username in use is refused plainly."""
    add_volunteer(db, "sue", "Sue", PASSWORD)
    with pytest.raises(AccountError) as weak:
        add_volunteer(db, "tom", "Tom", "short")
    assert weak.value.code == "account-weak-password"
    with pytest.raises(AccountError) as taken:
        add_volunteer(db, "SUE", "Another Sue", PASSWORD)
    assert taken.value.code == "account-taken"


def test_sign_in_opens_a_session_and_sign_out_ends_it(db):
    """Test that the right password opens a session with its own CSRF token."""
    volunteer = add_volunteer(db, "sue", "Sue", PASSWORD, "coordinator")
    token = sign_in(db, "Sue", PASSWORD, "127.0.0.1")
    session = session_for(db, token)
    assert session.volunteer.id == volunteer.id and session.volunteer.is_coordinator
    assert len(session.csrf_token) > 20
    assert session_for(db, token + "x") is None
    later = datetime.now(timezone.utc) + timedelta(hours=13)
    assert session_for(db, token, now=later) is None


def test_sign_in_is_rate_limited_after_five_failures(db):
    """Test that five wrong passwords lock the name out, even the right one."""
    add_volunteer(db, "sue", "Sue", PASSWORD)
    for _ in range(5):
        with pytest.raises(SignInRefused) as refused:
            sign_in(db, "sue", "wrong", "10.0.0.1")
        assert refused.value.code == "sign-in-refused"
    with pytest.raises(SignInRefused) as limited:
        sign_in(db, "sue", PASSWORD, "10.0.0.2")
    assert limited.value.code == "sign-in-rate-limited"
    later = datetime.now(timezone.utc) + timedelta(minutes=16)
    assert sign_in(db, "sue", PASSWORD, "10.0.0.2", now=later)


def test_removed_volunteer_cannot_sign_in_and_loses_sessions(db):
    """Test that closing an account ends its sessions at once."""
    volunteer = add_volunteer(db, "sue", "Sue", PASSWORD)
    token = sign_in(db, "sue", PASSWORD, "127.0.0.1")
    remove_volunteer(db, volunteer.id)
    assert session_for(db, token) is None
    with pytest.raises(SignInRefused):
        sign_in(db, "sue", PASSWORD, "127.0.0.1")


def test_open_handoff_once_per_resident_and_escalates_when_urgent(db):
    """Test that a second handoff is not doubled, and an emergency makes it urgent."""
    someone = resident(db)
    first, new = open_handoff(db, someone.id, "asked-for-person")
    again, new_again = open_handoff(db, someone.id, "emergency", urgent=True)
    assert (new, new_again) == (True, False)
    assert again.id == first.id and again.urgent and again.reason == "emergency"
    assert active_handoff(db, someone.id).id == first.id


def test_waiting_queue_puts_urgent_first_then_the_longest_wait(db):
    """Test the queue order: urgent ones first, then oldest."""
    ids = []
    for number, urgent in ((1, False), (2, False), (3, True)):
        handoff, _ = open_handoff(db, resident(db, number).id, "x", urgent=urgent)
        db.execute(
            "UPDATE handoffs SET created_at = ? WHERE id = ?",
            [f"2026-12-04T10:0{number}:00+00:00", handoff.id],
        )
        ids.append(handoff.id)
    assert [h.id for h in waiting_queue(db)] == [ids[2], ids[0], ids[1]]


def test_two_volunteers_racing_to_claim_only_one_wins(tmp_path):
    """Test that of many volunteers claiming at the same moment, exactly one wins."""
    db = open_database(tmp_path / "race.db")
    handoff, _ = open_handoff(db, resident(db).id, "asked-for-person")
    volunteers = [add_volunteer(db, f"v{n}", f"V {n}", PASSWORD).id for n in range(8)]
    start, results = threading.Barrier(len(volunteers)), []

    def race(volunteer_id: int) -> None:
        own = open_database(tmp_path / "race.db")  # each with its own connection
        start.wait()
        results.append((volunteer_id, claim(own, handoff.id, volunteer_id)))
        own.close()

    threads = [threading.Thread(target=race, args=(v,)) for v in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [v for v, won in results if won]
    assert len(winners) == 1
    claimed_by = db.execute(
        "SELECT claimed_by FROM handoffs WHERE id = ?", [handoff.id]
    ).fetchone()[0]
    assert claimed_by == winners[0]
    assert end_handoff(db, handoff.id, "handed-back")
    assert active_handoff(db, handoff.resident_id) is None


@pytest.mark.parametrize(
    ("on_duty", "local_time", "expected"),
    [
        pytest.param(1, time(23, 0), "within half an hour", id="someone-on-duty"),
        pytest.param(0, time(7, 0), "after 9am this morning", id="early"),
        pytest.param(0, time(13, 0), "as soon as one is free, today", id="daytime"),
        pytest.param(0, time(20, 0), "tomorrow, after 9am", id="evening"),
    ],
)
def test_when_to_expect_tells_the_resident_roughly_when(on_duty, local_time, expected):
    """Test the words a resident hears about when a volunteer will reply."""
    now = datetime(2026, 12, 4, local_time.hour, local_time.minute, tzinfo=timezone.utc)
    said = when_to_expect(on_duty, now, (time(9), time(17)), "Europe/London")
    assert expected in said


def twilio_client(handler) -> TwilioRestClient:
    """A Twilio client whose requests stop at a recording transport: Twilio's
    servers cannot be reached from here."""
    return TwilioRestClient(
        "AC" + "0" * 32,
        "token",
        "+441234567890",
        transport=httpx.MockTransport(handler),
    )


def test_queued_sms_is_sent_once_with_twilios_form(db):
    """Test that a queued message goes to Twilio's Messages API once, and is marked."""
    seen = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM123"})

    message_id = queue_sms(db, "+447700900999", "Hello Joan")
    client = twilio_client(accept)
    assert asyncio.run(send_due(db, client)) == 1
    assert asyncio.run(send_due(db, client)) == 0
    assert len(seen) == 1
    assert seen[0].url.path.endswith("/Accounts/" + "AC" + "0" * 32 + "/Messages.json")
    assert b"To=%2B447700900999" in seen[0].content
    row = db.execute(
        "SELECT status, provider_id FROM messages WHERE id = ?", [message_id]
    ).fetchone()
    assert row == ("sent", "SM123")


@pytest.mark.chaos
def test_unreachable_twilio_is_retried_later_with_a_growing_wait(db):
    """Test that a connection failure leaves the message queued for a later try."""

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    message_id = queue_sms(db, "+447700900999", "Hello")
    now = datetime.now(timezone.utc)
    asyncio.run(send_due(db, twilio_client(unreachable), now))
    status, attempts, next_at = db.execute(
        "SELECT status, attempts, next_attempt_at FROM messages WHERE id = ?",
        [message_id],
    ).fetchone()
    assert (status, attempts) == ("queued", 1)
    assert datetime.fromisoformat(next_at) > now
    assert asyncio.run(send_due(db, twilio_client(unreachable), now)) == 0


@pytest.mark.chaos
def test_timeout_after_sending_is_never_sent_again_by_itself(db):
    """Test that a message Twilio may have sent waits for a person, not a retry."""
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    message_id = queue_sms(db, "+447700900999", "Hello")
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    asyncio.run(send_due(db, twilio_client(slow)))
    asyncio.run(send_due(db, twilio_client(slow), later))
    status = db.execute(
        "SELECT status FROM messages WHERE id = ?", [message_id]
    ).fetchone()[0]
    assert status == "uncertain"
    assert len(calls) == 1


@pytest.mark.chaos
def test_without_twilio_messages_wait_in_the_outbox(db):
    """Test that with no Twilio account nothing is lost: messages stay queued."""
    message_id = queue_sms(db, "+447700900999", "Hello")
    assert asyncio.run(send_due(db, None)) == 0
    status = db.execute(
        "SELECT status FROM messages WHERE id = ?", [message_id]
    ).fetchone()[0]
    assert status == "queued"
