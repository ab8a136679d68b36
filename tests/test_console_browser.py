"""The console in a real headless Chromium, on the real stack.

A resident texts the in-process gateway (whose Twilio REST client is recorded),
the real Rasa server and action server hand the conversation over, and a
volunteer answers it in the browser, as on a phone. Screenshots of the main
states go to test-results/console/.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from assistant.basket import basket_lines
from assistant.config import PROJECT_ROOT
from assistant.handoffs import active_handoff
from assistant.orders import latest_order
from assistant.residents import find_by_phone
from assistant.volunteers import add_volunteer, remove_volunteer, set_on_duty

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a test dependency: pip install .[test]"
)
expect = playwright_api.expect

pytestmark = pytest.mark.stack

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "test-results" / "console"
PHONE_SCREEN = {"width": 390, "height": 844}
LIVE_SECONDS = 15_000  # milliseconds: a store poll, a fragment fetch, and slack
PASSWORD = "a long browser password"
_numbers = itertools.count(850)


@pytest.fixture(scope="module")
def browser():
    """Chromium from Debian, driven by Playwright; no browser is downloaded."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs it")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def replies(response) -> str:
    """The assistant's answer in a TwiML response, as one string."""
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return " ".join(message.text or "" for message in root.iter("Message"))


def new_phone() -> str:
    return f"+4477009{next(_numbers):05d}"


def signed_up_resident(gateway, name: str) -> str:
    phone = new_phone()
    gateway.sms(phone, "hello")
    gateway.sms(phone, name)
    gateway.sms(phone, "7 Mill Lane, Anytown AB1 2CD")
    return phone


@pytest.fixture
def make_volunteer(stack):
    """Make console accounts on the stack's store; close them afterwards, so
    no later test finds an extra volunteer on duty."""
    made = []

    def make(name: str, phone: str | None = None) -> str:
        username = re.sub(r"\W", "", name.lower()) + str(next(_numbers))
        db = stack.db()
        volunteer = add_volunteer(db, username, name, PASSWORD, phone=phone)
        set_on_duty(db, volunteer.id, phone is not None)
        db.close()
        made.append(volunteer.id)
        return username

    yield make
    db = stack.db()
    for volunteer_id in made:
        remove_volunteer(db, volunteer_id)
    db.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(browser, gateway, username: str):
    context = browser.new_context(viewport=PHONE_SCREEN, device_scale_factor=1)
    page = context.new_page()
    page.goto(gateway.base_url + "/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("html[data-live-connected]")).to_have_count(1)
    return context, page


def mark_document(page) -> None:
    """Mark the loaded page, to prove later that it was not reloaded."""
    page.evaluate("window.stillTheSamePage = true")


def same_document(page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def fits_the_screen(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def test_console_browser_volunteer_answers_a_resident_then_hands_back(
    stack, gateway, twilio_recorder, browser, make_volunteer
):
    """Test the whole path in Chromium: a resident asks for a person by SMS;
    the conversation appears in the queue live; a volunteer signs in, claims
    it, replies (an SMS goes out), sees the resident's answer live, hands
    back, and the assistant answers the resident's next message."""
    volunteer_phone = new_phone()
    vera = make_volunteer("Vera Browser", volunteer_phone)
    bob = make_volunteer("Bob Watcher")
    resident_phone = signed_up_resident(gateway, "Gwen Price")
    vera_context, page = sign_in(browser, gateway, vera)
    bob_context, bobs_page = sign_in(browser, gateway, bob)
    screenshot(page, "1-sign-in-then-queue")
    mark_document(page)
    mark_document(bobs_page)

    answer = replies(gateway.sms(resident_phone, "can I speak to a real person please"))

    assert "volunteer" in answer, answer
    card = page.locator("li.card", has_text="Gwen Price")
    expect(card).to_be_visible(timeout=LIVE_SECONDS)
    expect(card).to_contain_text("Asked for a person")
    expect(card).to_contain_text("Text message")
    assert same_document(page), "the queue reloaded instead of updating live"
    assert fits_the_screen(page)
    screenshot(page, "2-queue-with-a-resident-waiting")
    alerts = twilio_recorder.messages_to(volunteer_phone)
    assert alerts and "waiting for a volunteer" in alerts[-1]
    assert "Gwen" not in alerts[-1]

    card.get_by_role("button", name="Take this conversation").click()
    expect(page.locator(".said")).to_contain_text("You have this conversation")
    expect(page.locator("h1")).to_have_text("Gwen Price")
    expect(page.locator("#transcript")).to_contain_text("real person")
    expect(page.locator(".resident")).to_contain_text(resident_phone)
    others = bobs_page.locator("#others-heading + ul")
    expect(others).to_contain_text("Gwen Price", timeout=LIVE_SECONDS)
    expect(others).to_contain_text("Vera Browser")
    assert same_document(bobs_page)

    reply = "Hello Gwen, this is Vera from Helping Hands. How can I help?"
    page.get_by_label("Your reply to Gwen Price").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".said")).to_contain_text("Your reply has been sent")
    assert twilio_recorder.messages_to(resident_phone)[-1] == reply
    expect(page.locator("#transcript .message.volunteer").last).to_contain_text(reply)

    mark_document(page)
    held = replies(gateway.sms(resident_phone, "I'd like some bread please, love"))
    assert held == "", "the assistant answered while a volunteer held the chat"
    expect(page.locator("#transcript")).to_contain_text(
        "I'd like some bread please, love", timeout=LIVE_SECONDS
    )
    assert same_document(page), "the transcript reloaded instead of updating live"
    assert fits_the_screen(page)
    screenshot(page, "3-conversation-with-the-volunteer")

    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page.locator(".said")).to_contain_text("the assistant has the conversation")
    expect(page.locator("li.card", has_text="Gwen Price")).to_have_count(0)
    screenshot(page, "4-handed-back")
    db = stack.db()
    resident = find_by_phone(db, resident_phone)
    assert active_handoff(db, resident.id) is None
    db.close()

    answer = replies(
        gateway.sms(resident_phone, "can I have two tins of tomato soup please")
    )
    assert "added" in answer, answer
    vera_context.close()
    bob_context.close()


def test_console_browser_basket_on_a_phone_screen(
    stack, gateway, browser, make_volunteer
):
    """Test that on a phone-sized screen a volunteer can add products by typing,
    pick between varieties, place the order and close the conversation, and
    that nothing is wider than the screen."""
    volunteer = make_volunteer("Pat Phone")
    resident_phone = signed_up_resident(gateway, "Olive Oyl")
    context, page = sign_in(browser, gateway, volunteer)
    gateway.sms(resident_phone, "can I speak to a real person please")
    card = page.locator("li.card", has_text="Olive Oyl")
    expect(card).to_be_visible(timeout=LIVE_SECONDS)
    card.get_by_role("button", name="Take this conversation").click()
    expect(page.locator(".said")).to_contain_text("You have this conversation")

    page.get_by_label("Add products, as the resident would say them").fill(
        "a dozen eggs and 2 pints of milk"
    )
    page.get_by_role("button", name="Add", exact=True).click()
    choose = page.locator("form.choose")
    expect(choose).to_contain_text("Which did Olive Oyl mean?")
    assert fits_the_screen(page)
    screenshot(page, "5-choosing-a-variety")
    choose.get_by_role("radio", name=re.compile(r"Whole Milk \(2 pints\)")).check()
    choose.get_by_role("button", name="Add to the basket").click()
    expect(page.locator(".said")).to_contain_text("Added to the basket")
    lines = page.locator("#basket .lines")
    expect(lines).to_contain_text("Whole Milk")
    expect(lines).to_contain_text("Eggs")

    page.get_by_role("button", name=re.compile(r"^Place the order")).click()
    expect(page.locator(".said")).to_contain_text("The order is placed")
    assert fits_the_screen(page)
    screenshot(page, "6-order-placed")
    db = stack.db()
    resident = find_by_phone(db, resident_phone)
    order = latest_order(db, resident.id)
    assert order is not None and order.item_count == 2
    assert basket_lines(db, resident.id) == []
    db.close()

    page.get_by_role("button", name="Close the conversation").click()
    expect(page.locator(".said")).to_contain_text("the conversation is closed")
    context.close()
