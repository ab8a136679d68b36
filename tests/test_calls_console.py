"""The console's calls and hours pages, the "Start the call" TwiML and the
outcome webhook, through the real gateway app.

Each test runs `create_app` with its lifespan on a fresh data folder (the
store, router and scheduler are the real ones) and Twilio's REST API recorded
at the HTTP client. Rasa is not running: a missed call's SMS still goes, and
the question it asks is understood afresh when the resident replies.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, time, timedelta, timezone
from html import unescape
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.availability import (
    add_extra_time,
    add_weekly_hours,
    one_offs,
    weekly_hours,
)
from assistant.bookings import book_call, get_booking
from assistant.config import load_settings
from assistant.residents import add_resident
from assistant.volunteers import add_volunteer
from tests.conftest import (
    TWILIO_TEST_NUMBER,
    TWILIO_TEST_SID,
    TWILIO_TEST_TOKEN,
    TwilioRecorder,
    free_port,
    twilio_signature,
)

LONDON = ZoneInfo("Europe/London")
PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PUBLIC_URL = "https://calls.example.org"
VOLUNTEER_PHONE = "+447700900555"
RESIDENT_PHONE = "+447700900123"


def settings_for(data_dir):
    return load_settings(
        {
            "HH_DATA_DIR": str(data_dir),
            "HH_PUBLIC_URL": PUBLIC_URL,
            "HH_RASA_PORT": str(free_port()),
            "HH_ACTIONS_PORT": str(free_port()),
            "HH_RASA_TIMEOUT": "2",
            "HH_PHONE_SPEECH": "twilio",
            "TWILIO_ACCOUNT_SID": TWILIO_TEST_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
            "TWILIO_NUMBER": TWILIO_TEST_NUMBER,
        }
    )


@pytest.fixture
def recorder() -> TwilioRecorder:
    return TwilioRecorder([], [])


@pytest.fixture
def client(tmp_path, recorder):
    app = create_app(settings_for(tmp_path), twilio_transport=recorder.transport())
    with TestClient(app, base_url=PUBLIC_URL) as running:
        yield running


@pytest.fixture
def db(client):
    return client.app.state.db


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def signed_in(client: TestClient, db, username: str, role: str = "volunteer"):
    """A volunteer with a phone, signed in on `client`."""
    volunteer = add_volunteer(
        db, username, username.title() + " Helper", PASSWORD, role, VOLUNTEER_PHONE
    )
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "/console/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    return volunteer


def post_form(client: TestClient, path: str, page: str, **fields):
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf": token, **fields}, follow_redirects=False)


def page_text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def call_due_now(db, volunteer_id: int, minutes_from_now: int = 5, name="Joan Smith"):
    """A call starting in a few minutes (or begun, if negative), booked as if
    an hour ago, with the volunteer given the time for it."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    add_extra_time(db, volunteer_id, now - timedelta(hours=1), now + timedelta(hours=1))
    resident = add_resident(db, RESIDENT_PHONE, name, "4 Elm Close, Anytown")
    start = now + timedelta(minutes=minutes_from_now)
    return book_call(db, resident.id, start, now - timedelta(hours=1)), resident


def calls_json(recorder: TwilioRecorder):
    return [r for r in recorder.requests if r.path.endswith("/Calls.json")]


# --- hours -------------------------------------------------------------------


def test_calls_console_volunteer_sets_weekly_hours_and_takes_them_off(client, db):
    """Test that a volunteer adds weekly hours, sees them, and takes them off."""
    vera = signed_in(client, db, "vera")

    added = post_form(
        client,
        f"/console/availability/{vera.id}/hours",
        "/console/availability",
        weekday="1",
        starts="10:00",
        ends="12:30",
    )

    assert added.status_code == 303
    page = client.get(added.headers["location"])
    assert "Tuesdays, 10am to 12:30pm" in page_text(page)
    (stretch,) = weekly_hours(db, vera.id)
    removed = post_form(
        client,
        f"/console/availability/{vera.id}/hours/{stretch.id}/remove",
        "/console/availability",
    )
    assert removed.status_code == 303
    assert weekly_hours(db, vera.id) == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param(
            {"weekday": "1", "starts": "12:00", "ends": "10:00"},
            "second after",
            id="backwards",
        ),
        pytest.param(
            {"weekday": "9", "starts": "10:00", "ends": "12:00"},
            "choose a day",
            id="no-such-day",
        ),
        pytest.param(
            {"weekday": "1", "starts": "ten", "ends": "12:00"},
            "two times",
            id="not-a-time",
        ),
    ],
)
def test_calls_console_bad_hours_are_refused_kindly(client, db, fields, problem):
    """Test that impossible hours are refused with a plain message, none kept."""
    vera = signed_in(client, db, "vera")

    response = post_form(
        client,
        f"/console/availability/{vera.id}/hours",
        "/console/availability",
        **fields,
    )

    assert response.status_code == 400
    assert problem in page_text(response)
    assert weekly_hours(db, vera.id) == []


def test_calls_console_days_off_and_one_off_changes(client, db):
    """Test that days off and a one-off extra time are kept and listed, and
    that a call booked in the time away is pointed out."""
    vera = signed_in(client, db, "vera")
    for weekday in range(7):
        add_weekly_hours(db, vera.id, weekday, time(9), time(17))
    tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
    resident = add_resident(db, RESIDENT_PHONE, "Joan Smith", "4 Elm Close")
    book_call(
        db,
        resident.id,
        datetime.combine(tomorrow, time(10), LONDON),
        datetime.now(timezone.utc),
    )

    away = post_form(
        client,
        f"/console/availability/{vera.id}/away",
        "/console/availability",
        first=tomorrow.isoformat(),
        last=(tomorrow + timedelta(days=2)).isoformat(),
        note="Holiday in Whitby",
    )
    extra = post_form(
        client,
        f"/console/availability/{vera.id}/change",
        "/console/availability",
        day=(tomorrow + timedelta(days=5)).isoformat(),
        starts="18:00",
        ends="19:30",
        kind="extra",
    )

    assert away.status_code == extra.status_code == 303
    text = page_text(client.get("/console/availability"))
    assert "Holiday in Whitby" in text
    assert "Extra time:" in text and "6pm to 7:30pm" in text
    assert "Calls booked in time away" in text and "Joan Smith" in text
    kinds = sorted(change.kind for change in one_offs(db, vera.id))
    assert kinds == ["away", "extra"]


def test_calls_console_hours_are_a_volunteers_own_or_a_coordinators(
    client, db, tmp_path
):
    """Test that a volunteer cannot change another's hours, and a coordinator
    can change anyone's."""
    vera = signed_in(client, db, "vera")
    other = add_volunteer(db, "otto", "Otto Other", PASSWORD)

    refused = post_form(
        client,
        f"/console/availability/{other.id}/hours",
        "/console/availability",
        weekday="0",
        starts="09:00",
        ends="10:00",
    )

    assert refused.status_code == 403
    assert weekly_hours(db, other.id) == []
    coordinator = TestClient(client.app, base_url=PUBLIC_URL)
    add_volunteer(db, "cora", "Cora Ordinator", PASSWORD, "coordinator")
    form = coordinator.get("/console/sign-in")
    coordinator.post(
        "/console/sign-in",
        data={"username": "cora", "password": PASSWORD, "csrf": csrf_of(form.text)},
    )
    allowed = post_form(
        coordinator,
        f"/console/availability/{other.id}/hours",
        f"/console/availability/{other.id}",
        weekday="0",
        starts="09:00",
        ends="10:00",
    )
    assert allowed.status_code == 303
    assert [h.describe() for h in weekly_hours(db, other.id)] == [
        "Mondays, 9am to 10am"
    ]
    assert vera.id != other.id


def test_calls_console_forms_need_the_csrf_token(client, db):
    """Test that an hours form without the session's token changes nothing."""
    vera = signed_in(client, db, "vera")

    response = client.post(
        f"/console/availability/{vera.id}/hours",
        data={"weekday": "0", "starts": "09:00", "ends": "10:00", "csrf": "forged"},
    )

    assert response.status_code == 403
    assert weekly_hours(db, vera.id) == []


# --- calls and the one button ---------------------------------------------


def test_calls_console_start_rings_the_volunteer_then_the_resident(
    client, db, recorder
):
    """Test that "Start the call" rings the volunteer first, from our number,
    with TwiML that dials the resident showing our number: neither number is
    shown to the other side."""
    vera = signed_in(client, db, "vera")
    call, resident = call_due_now(db, vera.id)
    page = client.get("/console/calls")
    assert "Joan Smith" in page_text(page)
    assert RESIDENT_PHONE not in page.text, "the calls page shows no numbers"

    response = post_form(client, f"/console/calls/{call.id}/start", "/console/calls")

    assert response.status_code == 303
    assert "said=ringing" in response.headers["location"]
    (started,) = calls_json(recorder)
    assert started.form["To"] == VOLUNTEER_PHONE
    assert started.form["From"] == TWILIO_TEST_NUMBER
    twiml = started.form["Twiml"]
    root = ElementTree.fromstring(twiml)
    dial = root.find("Dial")
    assert dial.get("callerId") == TWILIO_TEST_NUMBER
    assert [n.text for n in dial.iter("Number")] == [RESIDENT_PHONE]
    action = urlparse(dial.get("action"))
    assert f"{action.scheme}://{action.netloc}" == PUBLIC_URL
    assert action.path == "/twilio/calls/dial-done"
    assert parse_qs(action.query) == {"booking": [str(call.id)]}
    assert VOLUNTEER_PHONE not in twiml, "the resident's leg never shows it"
    said = " ".join(say.text or "" for say in root.iter("Say"))
    assert "Joan" in said and RESIDENT_PHONE not in said


def test_calls_console_start_is_only_for_the_calls_volunteer_when_due(
    client, db, recorder
):
    """Test that nobody else can start a volunteer's call, and that a call
    days away shows when it can be started instead of the button."""
    vera = signed_in(client, db, "vera")
    other = add_volunteer(db, "otto", "Otto Other", PASSWORD, phone="+447700900777")
    theirs, _ = call_due_now(db, other.id)
    for weekday in range(7):
        add_weekly_hours(db, vera.id, weekday, time(9), time(17))
    later = datetime.combine(
        datetime.now(LONDON).date() + timedelta(days=2), time(11), LONDON
    )
    mine = book_call(db, theirs.resident_id, later, datetime.now(timezone.utc))

    refused = post_form(client, f"/console/calls/{theirs.id}/start", "/console/calls")
    too_soon = post_form(client, f"/console/calls/{mine.id}/start", "/console/calls")

    assert "said=not-yours" in refused.headers["location"]
    assert "said=not-now" in too_soon.headers["location"]
    assert calls_json(recorder) == []
    page = client.get("/console/calls")
    assert "You can start this call from 10:45" in page_text(page)
    assert f"/console/calls/{mine.id}/start" not in page.text


def test_calls_console_noting_no_answer_texts_the_resident_new_times(
    client, db, recorder
):
    """Test that a volunteer noting "no answer" closes the call and texts the
    resident new times; a second note is refused."""
    vera = signed_in(client, db, "vera")
    for weekday in range(7):
        add_weekly_hours(db, vera.id, weekday, time(9), time(17))
    call, resident = call_due_now(db, vera.id, minutes_from_now=-10)

    noted = post_form(
        client,
        f"/console/calls/{call.id}/outcome",
        "/console/calls",
        outcome="no-answer",
        note="rang twice",
    )

    assert "said=offered" in noted.headers["location"]
    assert get_booking(db, call.id).outcome == "no-answer"
    texts = recorder.messages_to(RESIDENT_PHONE)
    assert len(texts) == 1 and texts[0].startswith("Sorry we missed you")
    again = post_form(
        client, f"/console/calls/{call.id}/outcome", "/console/calls", outcome="talked"
    )
    assert "said=closed" in again.headers["location"]
    assert get_booking(db, call.id).outcome == "no-answer"


# --- the outcome webhook ---------------------------------------------------


def dial_done(client: TestClient, booking_id: int, status: str, signature=None):
    path = f"/twilio/calls/dial-done?booking={booking_id}"
    form = {"CallSid": "CA" + "3" * 32, "DialCallStatus": status}
    if signature is None:
        signature = twilio_signature(PUBLIC_URL + path, form, TWILIO_TEST_TOKEN)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize(
    ("status", "outcome", "heard", "texted"),
    [
        pytest.param("completed", "talked", "noted as done", False, id="answered"),
        pytest.param("no-answer", "no-answer", "didn't answer", True, id="no-answer"),
        pytest.param("busy", "busy", "line was busy", True, id="busy"),
        pytest.param("failed", None, "didn't go through", False, id="failed"),
        pytest.param("canceled", None, "didn't go through", False, id="hung-up-first"),
    ],
)
def test_calls_console_dial_outcome_is_recorded_from_twilio(
    client, db, recorder, status, outcome, heard, texted
):
    """Test each DialCallStatus: what is recorded, what the volunteer hears,
    and whether the resident is texted new times."""
    vera = signed_in(client, db, "vera")
    for weekday in range(7):
        add_weekly_hours(db, vera.id, weekday, time(9), time(17))
    call, _ = call_due_now(db, vera.id, minutes_from_now=-5)

    response = dial_done(client, call.id, status)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert heard in response.text and "<Hangup" in response.text
    assert get_booking(db, call.id).outcome == outcome
    assert bool(recorder.messages_to(RESIDENT_PHONE)) == texted


def test_calls_console_dial_outcome_needs_twilios_signature(client, db, recorder):
    """Test that an unsigned or wrongly signed outcome is refused, unrecorded."""
    vera = signed_in(client, db, "vera")
    call, _ = call_due_now(db, vera.id, minutes_from_now=-5)

    forged = dial_done(client, call.id, "no-answer", signature="forged")
    unsigned = client.post(
        f"/twilio/calls/dial-done?booking={call.id}",
        data={"DialCallStatus": "no-answer"},
    )

    assert forged.status_code == unsigned.status_code == 403
    assert get_booking(db, call.id).outcome is None
    assert recorder.messages_to(RESIDENT_PHONE) == []


def test_calls_console_calls_page_lists_today_and_coming_up(client, db):
    """Test that the page lists the volunteer's calls by day, a regular call
    marked as one, and links to the hours page from the navigation."""
    vera = signed_in(client, db, "vera")
    late = datetime.now(LONDON).time() >= time(23, 30)
    call_due_now(db, vera.id, minutes_from_now=-20 if late else 20)
    for weekday in range(7):
        add_weekly_hours(db, vera.id, weekday, time(9), time(17))
    resident = add_resident(db, "+447700900124", "Bert Brown", "5 Elm Close")
    day = datetime.now(LONDON).date() + timedelta(days=3)
    book_call(
        db,
        resident.id,
        datetime.combine(day, time(15), LONDON),
        datetime.now(timezone.utc),
    )

    response = client.get("/console/calls")

    text = page_text(response)
    assert text.index("Today") < text.index("Joan Smith") < text.index("Coming up")
    assert text.index("Coming up") < text.index("Bert Brown")
    assert 'href="/console/calls" aria-current="page"' in response.text
