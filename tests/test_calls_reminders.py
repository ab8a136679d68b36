"""Call reminders sent by the gateway's scheduler: across restarts, none lost
and none sent twice.

Each gateway is the real app (`create_app` with its lifespan, so its
background loops run) on one data folder, started and stopped in turn like a
restarted process; Twilio's REST API is recorded at the HTTP client.
"""

from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta, timezone

from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.availability import add_extra_time, add_weekly_hours
from assistant.bookings import book_call
from assistant.call_series import book_series
from assistant.residents import add_resident, update_resident
from assistant.store import open_database
from assistant.volunteers import add_volunteer
from tests.conftest import TwilioRecorder
from tests.test_calls_console import PUBLIC_URL, settings_for

WAIT_SECONDS = 15


def wait_for_messages(recorder: TwilioRecorder, count: int) -> None:
    deadline = clock.monotonic() + WAIT_SECONDS
    while len(sms_sent(recorder)) < count and clock.monotonic() < deadline:
        clock.sleep(0.05)


def sms_sent(recorder: TwilioRecorder) -> list[tuple[str, str]]:
    return [
        (r.form["To"], r.form["Body"])
        for r in recorder.requests
        if r.path.endswith("/Messages.json")
    ]


def run_gateway_until(settings, recorder: TwilioRecorder, count: int) -> None:
    """Start a gateway, let it send until `count` messages have gone, stop it."""
    app = create_app(settings, twilio_transport=recorder.transport())
    with TestClient(app, base_url=PUBLIC_URL):
        wait_for_messages(recorder, count)


def due_call(db, number: int, minutes: int = 50):
    """A volunteer and a call `minutes` from now, booked two hours ago: its
    hour-before reminders, to the resident and the volunteer, are due."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    volunteer = add_volunteer(
        db,
        f"sue{number}",
        "Sue Ring",
        "a long enough password",
        phone=f"+4477009006{number:02d}",
    )
    add_extra_time(db, volunteer.id, now - timedelta(hours=3), now + timedelta(hours=3))
    resident = add_resident(db, f"+4477009001{number:02d}", "Joan Smith", "4 Elm Close")
    start = now + timedelta(minutes=minutes)
    book_call(db, resident.id, start, now - timedelta(hours=2))
    return volunteer, resident


def test_calls_reminders_survive_restarts_each_sent_once(tmp_path):
    """Test that three gateways in turn on one store send every reminder that
    fell due, including those due while none was running, each exactly once,
    to the resident and to the volunteer with a link to start the call."""
    settings = settings_for(tmp_path)
    recorder = TwilioRecorder([], [])
    db = open_database(settings.database_path)
    due_call(db, 1)

    run_gateway_until(settings, recorder, 2)
    assert len(sms_sent(recorder)) == 2
    due_call(db, 2)  # falls due while no gateway runs
    run_gateway_until(settings, recorder, 4)
    due_call(db, 3)
    run_gateway_until(settings, recorder, 6)

    sent = sms_sent(recorder)
    assert len(sent) == len(set(sent)) == 6, sent
    assert sorted(to for to, _ in sent) == [
        "+447700900101", "+447700900102", "+447700900103",
        "+447700900601", "+447700900602", "+447700900603",
    ]  # fmt: skip
    for to, body in sent:
        if to.startswith("+4477009006"):
            assert body.startswith("Helping Hands: a reminder that you are ringing")
            assert body.endswith(f"Start it here: {PUBLIC_URL}/console/calls")
        else:
            assert body.startswith("Helping Hands: a reminder that Sue will ring you")
    pending = db.execute(
        "SELECT count(*) FROM call_reminders WHERE status = 'pending' AND due_at <= ?",
        [datetime.now(timezone.utc).isoformat(timespec="seconds")],
    ).fetchone()[0]
    assert pending == 0
    db.close()


def test_calls_reminders_skip_a_resident_who_said_stop(tmp_path):
    """Test that a resident who texted STOP gets no reminder; their volunteer
    still does."""
    settings = settings_for(tmp_path)
    recorder = TwilioRecorder([], [])
    db = open_database(settings.database_path)
    volunteer, resident = due_call(db, 4)
    update_resident(db, resident.id, sms_opted_out=1)

    run_gateway_until(settings, recorder, 1)

    assert [to for to, _ in sms_sent(recorder)] == [volunteer.phone]
    db.close()


def test_calls_reminders_regular_calls_are_kept_booked_ahead(tmp_path):
    """Test that the scheduler books a regular call's next weeks when it
    starts, so a series booked long ago stays eight weeks ahead."""
    settings = settings_for(tmp_path)
    recorder = TwilioRecorder([], [])
    db = open_database(settings.database_path)
    sue = add_volunteer(db, "sue", "Sue Ring", "a long enough password")
    for weekday in range(7):
        add_weekly_hours(db, sue.id, weekday, time(9), time(17))
    resident = add_resident(db, "+447700900105", "Joan Smith", "4 Elm Close")
    now = datetime.now(timezone.utc)
    first = datetime.combine(
        now.date() + timedelta(days=2), time(10), timezone.utc
    ).replace(minute=0)
    result = book_series(db, resident.id, first, now, weeks_ahead=2)
    booked_before = len(result.booked)

    app = create_app(settings, twilio_transport=recorder.transport())
    with TestClient(app, base_url=PUBLIC_URL):
        deadline = clock.monotonic() + WAIT_SECONDS
        while clock.monotonic() < deadline:
            count = db.execute(
                "SELECT count(*) FROM call_bookings WHERE series_id = ?",
                [result.series.id],
            ).fetchone()[0]
            if count > booked_before:
                break
            clock.sleep(0.05)

    assert booked_before == 2
    assert count >= 8
    db.close()
