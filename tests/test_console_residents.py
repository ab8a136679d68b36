"""The console's Residents page: finding a resident, exporting and erasing
their data, for coordinators only.

Most tests run the real gateway app on a fresh data folder (as
tests/test_console_web.py does), with Rasa's tracker store made by hand in
the shape Rasa gives it. One test erases a resident on the real stack, so
that Rasa's own events are the ones erased, and one walks the whole flow in
a real headless Chromium.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sqlite3
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.basket import set_quantity
from assistant.config import PROJECT_ROOT
from assistant.devices import pair_directly
from assistant.handoffs import add_note
from assistant.messages import record_inbound
from assistant.privacy import export_resident
from assistant.residents import add_resident, find_by_phone, get_resident
from assistant.volunteers import add_volunteer, remove_volunteer
from tests.conftest import TwilioRecorder
from tests.test_console_web import (
    CSRF,
    PASSWORD,
    console_settings,
    csrf_of,
    page_text,
    post_form,
    sign_in,
    volunteer,
    waiting_handoff,
)

RESIDENTS = "/console/residents"
_numbers = itertools.count(3100)  # numbers no other test module uses


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


def tracker_with_events(path: Path, events: list[tuple[str, str]]) -> None:
    """Rasa's SQL tracker store, in the shape Rasa makes it, with these
    (sender, event type) rows."""
    tracker = sqlite3.connect(str(path))
    tracker.execute(
        "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id "
        "VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
        "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
    )
    tracker.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
        [
            (sender, kind, 1700000000.0 + i, json.dumps({"event": kind, "n": i}))
            for i, (sender, kind) in enumerate(events)
        ],
    )
    tracker.commit()
    tracker.close()


def tracker_senders(path: Path) -> list[str]:
    tracker = sqlite3.connect(str(path))
    senders = [row[0] for row in tracker.execute("SELECT sender_id FROM events")]
    tracker.close()
    return senders


def coordinator_client(client, db):
    volunteer(db, "cora", "coordinator", "Cora Ordinator")
    assert sign_in(client, "cora").status_code == 303
    return client


def resident_with_everything(db):
    """A resident with messages, a handoff and its note, a basket and a tablet."""
    resident, handoff = waiting_handoff(
        db, "Ursula Private", "+447700900929", "Twelve eggs please"
    )
    helper = volunteer(db, "nina", name="Nina Notes")
    add_note(db, handoff.id, helper.id, "Prefers a morning call")
    set_quantity(db, resident.id, "bananas-5pk", 1)
    pair_directly(db, resident.id, "kitchen tablet")
    return resident, handoff


def count(db, table: str, resident_id: str) -> int:
    return db.execute(
        f"SELECT count(*) FROM {table} WHERE resident_id = ?", [resident_id]
    ).fetchone()[0]


def test_console_residents_coordinator_finds_by_name_or_last_digits(client, db):
    """Test that a coordinator finds a resident by part of the name, in any
    case, or by the last digits of the number, and sees a short summary."""
    coordinator_client(client, db)
    resident, _ = resident_with_everything(db)
    add_resident(db, "+447700900555", "Walter Other", "9 Far Road, Elsewhere")

    by_name = post_form(client, RESIDENTS, RESIDENTS, query="  ursula  PRIV ")
    by_digits = post_form(client, RESIDENTS, RESIDENTS, query="0929")
    summary = client.get(f"{RESIDENTS}/{resident.id}")

    for found in (by_name, by_digits):
        assert found.status_code == 200
        assert f'href="{RESIDENTS}/{resident.id}"' in found.text
        assert "Ursula Private" in page_text(found)
        assert "Walter Other" not in page_text(found)
    text = page_text(summary)
    assert summary.status_code == 200
    assert summary.headers["cache-control"] == "no-store"
    assert "+447700900929" in text and "4 Elm Close" in text
    assert "Messages 1" in text
    assert "Volunteers' notes 1" in text
    assert "Products in the basket 1" in text
    assert "Tablets, paired now or before 1" in text
    assert "The assistant's own record of the conversation 0" in text
    assert 'href="/console/residents"' in client.get("/console/").text


@pytest.mark.chaos
@pytest.mark.parametrize(
    "query",
    ["%", "__", "' OR '1'='1", "%' OR 1=1 --", "12"],
    ids=["percent", "underscores", "sql-or", "sql-comment", "two-digits"],
)
def test_console_residents_search_does_not_list_everyone(client, db, query):
    """Test that wildcards, SQL and too few digits match nobody, rather than
    every resident."""
    coordinator_client(client, db)
    add_resident(db, "+447700900312", "Wendy Wildcard", "4 Elm Close, Anytown")
    add_resident(db, "+447700900412", "Ollie Underscore", "5 Elm Close, Anytown")

    found = post_form(client, RESIDENTS, RESIDENTS, query=query)

    assert "Wendy" not in found.text and "Ollie" not in found.text
    assert found.status_code in (200, 400)
    assert db.execute("SELECT count(*) FROM residents").fetchone()[0] == 2


def test_console_residents_volunteer_gets_403_and_sees_no_link(client, db):
    """Test that a plain volunteer is refused every Residents page and form,
    nothing is exported or erased, and the navigation does not offer it."""
    resident, _ = resident_with_everything(db)
    volunteer(db, "vera")
    sign_in(client, "vera")
    token = csrf_of(client.get("/console/").text)
    base = f"{RESIDENTS}/{resident.id}"

    answers = [
        client.get(RESIDENTS),
        client.get(base),
        client.post(RESIDENTS, data={"csrf": token, "query": "Ursula"}),
        client.post(base + "/export", data={"csrf": token}),
        client.post(base + "/erase", data={"csrf": token, "confirm": "Ursula Private"}),
    ]

    for response in answers:
        assert response.status_code == 403
        assert "This page is for coordinators" in page_text(response)
        assert "Ursula" not in response.text
        assert "attachment" not in response.headers.get("content-disposition", "")
    assert get_resident(db, resident.id).name == "Ursula Private"
    assert 'href="/console/residents"' not in client.get("/console/").text


def test_console_residents_signed_out_are_sent_to_sign_in(client, db):
    """Test that without a session every Residents page asks for a sign-in,
    and a posted erasure does nothing."""
    resident, _ = resident_with_everything(db)
    base = f"{RESIDENTS}/{resident.id}"

    page = client.get(base, follow_redirects=False)
    listing = client.get(RESIDENTS, follow_redirects=False)
    erased = client.post(
        base + "/erase", data={"confirm": "Ursula Private"}, follow_redirects=False
    )
    exported = client.post(base + "/export", follow_redirects=False)

    assert page.status_code == 303
    assert page.headers["location"] == f"/console/sign-in?next={base}"
    assert listing.headers["location"] == f"/console/sign-in?next={RESIDENTS}"
    for response in (erased, exported):
        assert response.status_code == 303
        assert response.headers["location"] == "/console/sign-in"
    assert get_resident(db, resident.id).name == "Ursula Private"


@pytest.mark.chaos
@pytest.mark.parametrize("action", ["export", "erase", "search"])
@pytest.mark.parametrize(
    "token", [None, "", "not-the-token"], ids=["missing", "empty", "wrong"]
)
def test_console_residents_forms_without_the_csrf_token_are_refused(
    client, db, action, token
):
    """Test that an export, erasure or search posted without the session's
    CSRF token (as from another site) is refused and does nothing."""
    coordinator_client(client, db)
    resident, _ = resident_with_everything(db)
    path = RESIDENTS if action == "search" else f"{RESIDENTS}/{resident.id}/{action}"
    data = {"confirm": "Ursula Private", "query": "Ursula"}
    if token is not None:
        data["csrf"] = token

    response = client.post(path, data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "nothing was done" in page_text(response)
    assert "content-disposition" not in response.headers
    assert "Ursula" not in response.text
    assert get_resident(db, resident.id).name == "Ursula Private"
    assert count(db, "messages", resident.id) == 1


def test_console_residents_export_downloads_everything_as_json(client, db, caplog):
    """Test that the export is a JSON attachment, never cached, named without
    the resident's name, holding what the CLI's export holds (Rasa's events
    included), and that it is logged by ids alone."""
    coordinator_client(client, db)
    resident, _ = resident_with_everything(db)
    other = add_resident(db, "+447700900777", "Olive Other", "7 Other Road")
    tracker = client.app.state.settings.tracker_database_path
    tracker_with_events(
        tracker,
        [(resident.id, "user"), (other.id, "user"), (resident.id, "bot")],
    )
    page = f"{RESIDENTS}/{resident.id}"
    assert "The assistant's own record of the conversation 2" in page_text(
        client.get(page)
    )
    caplog.set_level(logging.INFO, logger="assistant.console.residents")

    response = post_form(client, page + "/export", page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="helping-hands-{resident.id}-\d{{4}}-\d\d-\d\d\.json"',
        disposition,
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    data = response.json()
    expected = json.loads(
        json.dumps(export_resident(db, tracker, resident.id), default=str)
    )
    del data["exported_at"], expected["exported_at"]
    assert data == expected
    assert data["resident"]["name"] == "Ursula Private"
    assert [m["body"] for m in data["messages"]] == ["Twelve eggs please"]
    assert [n["body"] for n in data["handoff_notes"]] == ["Prefers a morning call"]
    assert [e["event"] for e in data["assistant_conversation"]] == ["user", "bot"]
    assert "Olive" not in response.text
    audit = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(
        "exported" in line and resident.id in line and "coordinator" in line
        for line in audit
    ), audit
    assert not any("Ursula" in line or "0929" in line for line in audit)


def test_console_residents_erase_needs_the_name_typed_then_erases(client, db, caplog):
    """Test that a wrong confirmation erases nothing, and that the name typed
    (in any case) erases the resident's rows and only their Rasa events."""
    coordinator_client(client, db)
    resident, handoff = resident_with_everything(db)
    other, _ = waiting_handoff(db, "Olive Other", "+447700900778", "Hello")
    tracker = client.app.state.settings.tracker_database_path
    tracker_with_events(
        tracker, [(resident.id, "user"), (other.id, "user"), (resident.id, "bot")]
    )
    page = f"{RESIDENTS}/{resident.id}"
    caplog.set_level(logging.INFO, logger="assistant")

    refused = post_form(client, page + "/erase", page, confirm="Ursula")
    assert refused.status_code == 400
    assert "Nothing was erased" in page_text(refused)
    assert get_resident(db, resident.id).name == "Ursula Private"
    assert tracker_senders(tracker).count(resident.id) == 2

    erased = post_form(client, page + "/erase", page, confirm=" ursula   PRIVATE ")

    assert erased.status_code == 303
    assert erased.headers["location"] == f"{RESIDENTS}?said=erased"
    assert "personal data is erased" in page_text(
        client.get(erased.headers["location"])
    )
    row = db.execute(
        "SELECT phone, name, address, delivery_notes, registration_step FROM "
        "residents WHERE id = ?",
        [resident.id],
    ).fetchone()
    assert row == (None, None, None, None, "erased")
    for table in ("messages", "handoffs", "basket_lines", "tablet_devices"):
        assert count(db, table, resident.id) == 0, table
    notes = db.execute(
        "SELECT count(*) FROM handoff_notes WHERE handoff_id = ?", [handoff.id]
    ).fetchone()[0]
    assert notes == 0
    assert tracker_senders(tracker) == [other.id]
    assert count(db, "messages", other.id) == 1
    assert client.get(page).status_code == 404
    again = post_form(client, RESIDENTS, RESIDENTS, query="0929")
    assert f"{RESIDENTS}/{resident.id}" not in again.text
    audit = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("erased resident " + resident.id in line for line in audit), audit
    assert not any("Ursula" in line or "0929" in line for line in audit)


def test_console_residents_erase_someone_not_signed_up_by_last_four_digits(client, db):
    """Test that a number that never gave a name is erased by typing the last
    four digits of it."""
    coordinator_client(client, db)
    db["residents"].insert(
        {
            "id": "res_0000000000000abc",
            "phone": "+447700900246",
            "registration_step": "name",
            "sms_opted_out": 0,
            "created_at": "2026-12-01T10:00:00+00:00",
        }
    )
    record_inbound(db, "sms", "SMhalf", "res_0000000000000abc", "hello")
    page = f"{RESIDENTS}/res_0000000000000abc"
    assert "type the last four digits" in page_text(client.get(page))

    erased = post_form(client, page + "/erase", page, confirm="0246")

    assert erased.status_code == 303
    assert find_by_phone(db, "+447700900246") is None
    assert count(db, "messages", "res_0000000000000abc") == 0


def test_console_residents_unknown_resident_is_not_found(client, db):
    """Test that a resident id that is not there answers 404, kindly."""
    coordinator_client(client, db)
    token = CSRF.search(client.get(RESIDENTS).text).group(1)

    page = client.get(f"{RESIDENTS}/res_nobody")
    erase = client.post(
        f"{RESIDENTS}/res_nobody/erase", data={"csrf": token, "confirm": "x"}
    )

    for response in (page, erase):
        assert response.status_code == 404
        assert "That resident is not here" in page_text(response)


# ------------------------------------------------------------ the real stack


def stack_console(stack, username: str) -> httpx.Client:
    """An HTTP client signed in to the stack's console. The stack's public URL
    is https, so its cookies are Secure: they are carried by hand over the
    plain loopback connection, as a browser does for a local address."""
    browser = httpx.Client(base_url=stack.base_url, timeout=30)
    form = browser.get("/console/sign-in")
    signed = browser.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(form.text)},
        headers={"Cookie": "hh_sign_in=" + form.cookies["hh_sign_in"]},
    )
    assert signed.status_code == 303, signed.text
    browser.headers["Cookie"] = "hh_session=" + signed.cookies["hh_session"]
    return browser


@pytest.mark.stack
def test_console_residents_erase_on_the_stack_removes_rasas_events(stack):
    """Test that on the real stack an erasure from the console removes the
    resident's rows and the events the real Rasa server stored."""
    phone = f"+4477009{next(_numbers):05d}"
    for words in ("hello", "Ida Erasable", "3 Gone Lane, Anytown AB1 1AA"):
        stack.sms(phone, words)
    answer = ElementTree.fromstring(stack.sms(phone, "a box of cornflakes").text)
    assert any(m.text for m in answer.iter("Message"))
    db = stack.db()
    resident = find_by_phone(db, phone)
    coordinator = add_volunteer(db, "erin3100", "Erin", PASSWORD, "coordinator")
    db.close()
    tracker_path = stack.data_dir / "rasa_tracker.db"
    assert resident.id in tracker_senders(tracker_path)
    console = stack_console(stack, "erin3100")
    page = f"{RESIDENTS}/{resident.id}"
    token = csrf_of(console.get(page).text)
    exported = console.post(page + "/export", data={"csrf": token}).json()
    assert any(e["event"] == "user" for e in exported["assistant_conversation"])

    erased = console.post(
        page + "/erase", data={"csrf": token, "confirm": "ida erasable"}
    )

    assert erased.status_code == 303, erased.text
    assert resident.id not in tracker_senders(tracker_path)
    db = stack.db()
    assert find_by_phone(db, phone) is None
    assert count(db, "messages", resident.id) == 0
    remove_volunteer(db, coordinator.id)
    db.close()
    console.close()


# ------------------------------------------------------------ real Chromium

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "test-results" / "console"
PHONE_SCREEN = {"width": 390, "height": 844}


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


@pytest.mark.stack
def test_console_residents_browser_export_then_erase(stack, gateway, chromium):
    """Test in Chromium, on a phone-sized screen, that a coordinator signs in
    on the way to Residents, finds a resident by the end of the number,
    downloads the export, is stopped by a wrong confirmation, then erases
    the resident, Rasa's events included."""
    from playwright.sync_api import expect

    phone = f"+4477009{next(_numbers):05d}"
    for words in ("hello", "Bea Browser", "8 Mill Lane, Anytown AB1 2CD"):
        gateway.sms(phone, words)
    gateway.sms(phone, "two tins of tomato soup please")
    db = stack.db()
    resident = find_by_phone(db, phone)
    coordinator = add_volunteer(db, "cody3100", "Cody", PASSWORD, "coordinator")
    db.close()
    tracker_path = stack.data_dir / "rasa_tracker.db"
    assert resident.id in tracker_senders(tracker_path)
    context = chromium.new_context(viewport=PHONE_SCREEN, device_scale_factor=1)
    page = context.new_page()

    page.goto(gateway.base_url + RESIDENTS)
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    page.get_by_label("Username").fill("cody3100")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/residents$"))
    page.get_by_label("Name, or the last digits").fill(phone[-4:])
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Bea Browser").click()
    expect(page.locator("h1")).to_have_text("Bea Browser")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "residents-1-summary.png"), full_page=True)

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download their data (JSON)").click()
    download = downloading.value
    assert download.suggested_filename.startswith(f"helping-hands-{resident.id}-")
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert exported["resident"]["name"] == "Bea Browser"
    assert any(e["event"] == "user" for e in exported["assistant_conversation"])

    page.get_by_text("Erase…").click()
    page.get_by_label("To confirm, type their name").fill("Bea")
    page.get_by_role("button", name="Erase their data now").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was erased")
    assert resident.id in tracker_senders(tracker_path)
    page.get_by_label("To confirm, type their name").fill("Bea Browser")
    page.screenshot(path=str(SCREENSHOTS / "residents-2-confirm.png"), full_page=True)
    page.get_by_role("button", name="Erase their data now").click()

    expect(page.get_by_role("status")).to_contain_text("personal data is erased")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    assert resident.id not in tracker_senders(tracker_path)
    db = stack.db()
    assert find_by_phone(db, phone) is None
    assert count(db, "messages", resident.id) == 0
    remove_volunteer(db, coordinator.id)
    db.close()
    context.close()
