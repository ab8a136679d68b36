"""Calls in the console, in a real headless Chromium, on the real stack.

A volunteer sets their weekly hours and a day off on a phone-sized screen,
sees a call booked with them, and starts it with the one button: the
recorded request to Twilio rings them first and dials the resident from our
number. Screenshots go to test-results/console/.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.availability import add_extra_time, one_offs, weekly_hours
from assistant.bookings import book_call
from assistant.residents import add_resident
from tests.conftest import TWILIO_TEST_NUMBER
from tests.test_console_browser import (
    browser,  # noqa: F401 - a fixture
    fits_the_screen,
    make_volunteer,  # noqa: F401 - a fixture
    new_phone,
    screenshot,
    sign_in,
)

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a test dependency: pip install .[test]"
)
expect = playwright_api.expect

pytestmark = pytest.mark.stack

LONDON = ZoneInfo("Europe/London")


def test_calls_browser_volunteer_sets_hours_then_starts_a_call(
    stack,
    gateway,
    twilio_recorder,
    browser,  # noqa: F811 - the fixture imported above
    make_volunteer,  # noqa: F811 - the fixture imported above
):
    """Test in Chromium that a volunteer adds weekly hours and a day off, sees
    a call booked with them on the calls page, presses "Start the call", and
    that Twilio is asked to ring them and put the resident through."""
    volunteer_phone = new_phone()
    username = make_volunteer("Cath Caller", volunteer_phone)
    context, page = sign_in(browser, gateway, username)

    page.get_by_role("link", name="Calls", exact=True).click()
    expect(page.locator("h1")).to_have_text("Your calls")
    page.get_by_role("link", name="Your hours for calls").click()
    expect(page.locator("h1")).to_have_text("Your hours for calls")
    page.get_by_label("Day").first.select_option(label="Wednesdays")
    page.locator("#hours-from").fill("10:00")
    page.locator("#hours-to").fill("12:00")
    page.get_by_role("button", name="Add these hours").click()
    expect(page.locator(".said")).to_contain_text("Those hours are added")
    expect(page.locator("#weekly")).to_contain_text("Wednesdays, 10am to 12 noon")
    day_off = (datetime.now(LONDON) + timedelta(days=9)).date().isoformat()
    page.get_by_label("First day off").fill(day_off)
    page.get_by_label("Note (optional)").first.fill("Grandson's wedding")
    page.get_by_role("button", name="Add days off").click()
    expect(page.locator("#changes")).to_contain_text("Grandson's wedding")
    assert fits_the_screen(page)
    screenshot(page, "7-hours-for-calls")

    db = stack.db()
    volunteer_id = db.execute(
        "SELECT id FROM volunteers WHERE username = ?", [username]
    ).fetchone()[0]
    assert [h.describe() for h in weekly_hours(db, volunteer_id)] == [
        "Wednesdays, 10am to 12 noon"
    ]
    assert [c.kind for c in one_offs(db, volunteer_id)] == ["away"]
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    add_extra_time(db, volunteer_id, now - timedelta(hours=1), now + timedelta(hours=1))
    resident_phone = new_phone()
    resident = add_resident(db, resident_phone, "Nora Batty", "2 Mill Lane, Anytown")
    book_call(db, resident.id, now + timedelta(minutes=5), now - timedelta(hours=1))
    db.close()

    page.get_by_role("link", name="Calls", exact=True).click()
    card = page.locator("li.card", has_text="Nora Batty")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Booked")
    assert resident_phone not in page.content()
    screenshot(page, "8-a-call-to-start")
    before = len(twilio_recorder.requests)
    card.get_by_role("button", name="Start the call").click()

    expect(page.locator(".said")).to_contain_text("Your phone will ring in a moment")
    assert fits_the_screen(page)
    screenshot(page, "9-call-started")
    started = [
        r for r in twilio_recorder.requests[before:] if r.path.endswith("/Calls.json")
    ]
    assert len(started) == 1
    assert started[0].form["To"] == volunteer_phone
    assert started[0].form["From"] == TWILIO_TEST_NUMBER
    dial = ElementTree.fromstring(started[0].form["Twiml"]).find("Dial")
    assert dial.get("callerId") == TWILIO_TEST_NUMBER
    assert [n.text for n in dial.iter("Number")] == [resident_phone]
    assert re.search(r"/twilio/calls/dial-done\?booking=\d+$", dial.get("action"))
    assert volunteer_phone not in started[0].form["Twiml"]
    context.close()
