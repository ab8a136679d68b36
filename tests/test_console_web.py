"""The volunteer console's pages and forms, through the real gateway app.

Each test runs `create_app` with its lifespan on a fresh data folder, so the
store, router and notifier are the real ones. Rasa is not running: the pages
that only read and write the store do not need it, and handing back shows
what a volunteer sees when the assistant cannot be reached. Twilio's REST API
is recorded at the HTTP client, as it cannot be reached from here.
"""

from __future__ import annotations

import re
import threading
from html import unescape

import pytest
from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.basket import basket_lines
from assistant.config import load_settings
from assistant.handoffs import get_handoff, open_handoff
from assistant.messages import message_status, record_inbound, record_outbound
from assistant.orders import latest_order
from assistant.outbound import queue_sms
from assistant.residents import add_resident
from assistant.volunteers import add_volunteer, all_volunteers
from tests.conftest import (
    TWILIO_TEST_NUMBER,
    TWILIO_TEST_SID,
    TWILIO_TEST_TOKEN,
    TwilioRecorder,
    free_port,
)

PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_settings(data_dir, public_url="http://testserver", twilio=True):
    environ = {
        "HH_DATA_DIR": str(data_dir),
        "HH_PUBLIC_URL": public_url,
        "HH_RASA_PORT": str(free_port()),
        "HH_ACTIONS_PORT": str(free_port()),
        "HH_RASA_TIMEOUT": "2",
    }
    if twilio:
        environ.update(
            TWILIO_ACCOUNT_SID=TWILIO_TEST_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TEST_TOKEN,
            TWILIO_NUMBER=TWILIO_TEST_NUMBER,
        )
    return load_settings(environ)


@pytest.fixture
def recorder() -> TwilioRecorder:
    return TwilioRecorder([], [])


@pytest.fixture
def app(tmp_path, recorder):
    """The whole gateway, on a fresh data folder, Twilio recorded."""
    return create_app(console_settings(tmp_path), twilio_transport=recorder.transport())


@pytest.fixture
def client(app):
    with TestClient(app) as running:
        yield running


@pytest.fixture
def db(client):
    """The running app's own store (not conftest's separate one)."""
    return client.app.state.db


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    form = client.get("/console/sign-in")
    return client.post(
        "/console/sign-in",
        data={
            "username": username,
            "password": password,
            "csrf": csrf_of(form.text),
            "next": "/console/",
        },
        follow_redirects=False,
    )


def volunteer(db, username: str, role: str = "volunteer", name: str | None = None):
    return add_volunteer(db, username, name or username.capitalize(), PASSWORD, role)


def signed_in_client(app, db, username: str, role: str = "volunteer") -> TestClient:
    """Another browser: its own cookies, the same running app."""
    other = TestClient(app)
    volunteer(db, username, role)
    assert sign_in(other, username).status_code == 303
    return other


def post_form(client: TestClient, path: str, page: str, **fields):
    """Submit a form as a browser would: with the CSRF token from `page`."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf": token, **fields}, follow_redirects=False)


def waiting_handoff(db, name="Joan Smith", phone="+447700900111", said="Help me"):
    resident = add_resident(
        db, phone, name, "4 Elm Close, Anytown AB1 2CD", "Side door"
    )
    record_inbound(db, "sms", f"SM{phone}", resident.id, said)
    handoff, _ = open_handoff(db, resident.id, "asked-for-person", channel="sms")
    return resident, handoff


def page_text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_console_sign_in_with_the_right_password_opens_the_queue(client, db):
    """Test that a right name and password set a session and show the queue."""
    volunteer(db, "vera", name="Vera Lynn")

    response = sign_in(client, "vera")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    queue = client.get("/console/")
    assert queue.status_code == 200
    assert "Vera Lynn" in queue.text
    assert "Waiting for a person" in queue.text


def test_console_sign_in_with_a_wrong_password_is_refused_kindly(client, db):
    """Test that a wrong password gives a plain message and no session."""
    volunteer(db, "vera")

    response = sign_in(client, "vera", "not the password")

    assert response.status_code == 401
    assert "don't match" in page_text(response)
    assert "hh_session" not in client.cookies
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_console_sign_in_is_rate_limited_after_five_failures(client, db):
    """Test that after five failures even the right password waits a quarter
    of an hour, and the volunteer is told so plainly."""
    volunteer(db, "vera")
    for _ in range(5):
        assert sign_in(client, "vera", "guess").status_code == 401

    response = sign_in(client, "vera")

    assert response.status_code == 429
    assert "try again in a quarter of an hour" in page_text(response)
    assert "hh_session" not in client.cookies


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("http://testserver", False), ("https://testserver", True)],
    ids=["http-not-secure", "https-secure"],
)
def test_console_session_cookie_flags(tmp_path, recorder, public_url, secure):
    """Test that the session cookie is HttpOnly, SameSite=Lax, for /console
    only, and Secure exactly when the console is public over https."""
    app = create_app(
        console_settings(tmp_path, public_url), twilio_transport=recorder.transport()
    )
    with TestClient(app, base_url=public_url) as client:
        volunteer(app.state.db, "vera")

        response = sign_in(client, "vera")

    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("hh_session=")
    )
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/console" in flags
    assert ("secure" in flags) is secure


@pytest.mark.parametrize(
    "path",
    ["/console/", "/console/outbox", "/console/team", "/console/handoffs/1"],
)
def test_console_pages_send_the_signed_out_to_sign_in(client, path):
    """Test that every page asks someone not signed in to sign in first."""
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in")


@pytest.mark.parametrize(
    "path", ["/console/queue", "/console/events", "/console/handoffs/1/transcript"]
)
def test_console_live_parts_answer_401_when_signed_out(client, path):
    """Test that fragments and the event stream refuse the signed-out with 401."""
    assert client.get(path).status_code == 401


def test_console_sign_in_returns_to_the_page_asked_for(client, db):
    """Test that signing in goes on to the page first asked for, and only to
    a console page."""
    volunteer(db, "vera")
    redirect = client.get("/console/outbox", follow_redirects=False)
    form = client.get(redirect.headers["location"])
    token = csrf_of(form.text)
    assert 'name="next" value="/console/outbox"' in form.text

    response = client.post(
        "/console/sign-in",
        data={
            "username": "vera",
            "password": PASSWORD,
            "csrf": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )

    assert response.headers["location"] == "/console/"


def test_console_sign_in_form_needs_its_double_submit_cookie(client, db):
    """Test that a sign-in posted without the form's cookie (as from another
    site) is refused, even with the right password."""
    volunteer(db, "vera")
    token = csrf_of(client.get("/console/sign-in").text)
    client.cookies.clear()

    response = client.post(
        "/console/sign-in",
        data={"username": "vera", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "hh_session" not in client.cookies


def test_console_sign_in_works_from_the_older_of_two_tabs(client, db):
    """Test that opening the sign-in page again does not spoil an open one."""
    volunteer(db, "vera")
    first_tab = csrf_of(client.get("/console/sign-in").text)
    client.get("/console/sign-in")

    response = client.post(
        "/console/sign-in",
        data={"username": "vera", "password": PASSWORD, "csrf": first_tab},
        follow_redirects=False,
    )

    assert response.status_code == 303


@pytest.mark.parametrize(
    "token", [None, "", "not-the-token"], ids=["missing", "empty", "wrong"]
)
def test_console_forms_without_the_session_csrf_token_are_refused(client, db, token):
    """Test that a claim without the right CSRF token does nothing and says so."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    _, handoff = waiting_handoff(db)
    data = {} if token is None else {"csrf": token}

    response = client.post(
        f"/console/handoffs/{handoff.id}/claim", data=data, follow_redirects=False
    )

    assert response.status_code == 403
    assert "nothing was done" in page_text(response)
    assert get_handoff(db, handoff.id).status == "waiting"


def test_console_csrf_token_of_one_session_does_not_work_in_another(app, client, db):
    """Test that each session has its own CSRF token."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    other = signed_in_client(app, db, "bob")
    others_token = csrf_of(other.get("/console/").text)
    _, handoff = waiting_handoff(db)

    response = client.post(
        f"/console/handoffs/{handoff.id}/claim",
        data={"csrf": others_token},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert get_handoff(db, handoff.id).status == "waiting"


def test_console_volunteer_cannot_reach_coordinator_pages(client, db):
    """Test that a volunteer gets 403 from the team pages and cannot add anyone."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    token = csrf_of(client.get("/console/").text)

    page = client.get("/console/team")
    added = client.post(
        "/console/team",
        data={
            "csrf": token,
            "display_name": "Mallory",
            "username": "mallory",
            "role": "coordinator",
            "password": "a sneaky password",
        },
    )

    assert page.status_code == 403
    assert added.status_code == 403
    assert [v.username for v in all_volunteers(db)] == ["vera"]
    assert 'href="/console/team"' not in client.get("/console/").text


def test_console_coordinator_adds_puts_on_duty_and_removes_a_volunteer(app, client, db):
    """Test the team page: add an account that can sign in, put it on duty,
    then remove it, which also signs it out."""
    volunteer(db, "cora", "coordinator")
    sign_in(client, "cora")

    added = post_form(
        client,
        "/console/team",
        "/console/team",
        display_name="Bob Builder",
        username="Bob",
        phone="07700 900222",
        role="volunteer",
        password="bobs first password",
    )
    assert added.status_code == 303
    bob = next(v for v in all_volunteers(db) if v.username == "bob")
    assert (bob.display_name, bob.phone, bob.role) == (
        "Bob Builder",
        "+447700900222",
        "volunteer",
    )
    bobs_browser = TestClient(app)
    assert sign_in(bobs_browser, "bob", "bobs first password").status_code == 303

    post_form(client, f"/console/team/{bob.id}/duty", "/console/team", on="1")
    assert next(v for v in all_volunteers(db) if v.id == bob.id).on_duty

    post_form(client, f"/console/team/{bob.id}/remove", "/console/team")
    assert "bob" not in [v.username for v in all_volunteers(db)]
    assert bobs_browser.get("/console/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"password": "short"}, "at least 10 characters"),
        ({"username": "cora"}, "username is taken"),
        ({"phone": "12"}, "phone number doesn't look right"),
    ],
    ids=["weak-password", "username-taken", "bad-phone"],
)
def test_console_add_volunteer_explains_what_is_wrong(client, db, fields, expected):
    """Test that a refused new account says why and keeps what was typed."""
    volunteer(db, "cora", "coordinator")
    sign_in(client, "cora")
    form = {
        "display_name": "Dot Cotton",
        "username": "dot",
        "phone": "",
        "role": "volunteer",
        "password": "a fine password",
        **fields,
    }

    response = post_form(client, "/console/team", "/console/team", **form)

    assert response.status_code == 400
    assert expected in page_text(response)
    assert 'value="Dot Cotton"' in response.text
    assert len(all_volunteers(db)) == 1


def test_console_queue_lists_urgent_first_then_the_longest_wait(client, db):
    """Test that the queue shows urgent conversations first, then the oldest,
    with their reason, channel and the resident's name."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    waiting_handoff(db, "First Waiting", "+447700900101")
    waiting_handoff(db, "Second Waiting", "+447700900102")
    resident = add_resident(db, "+447700900103", "Urgent Una", "1 Lane")
    open_handoff(db, resident.id, "emergency", urgent=True, channel="sms")

    text = page_text(client.get("/console/"))

    assert text.index("Urgent Una") < text.index("First Waiting")
    assert text.index("First Waiting") < text.index("Second Waiting")
    assert "Emergency or distress" in text
    assert "Asked for a person" in text
    assert "Text message" in text


@pytest.mark.chaos
def test_console_two_volunteers_racing_to_claim_only_one_wins(app, client, db):
    """Test that of two volunteers claiming at the same moment exactly one gets
    the conversation, and the other is told kindly who took it."""
    volunteer(db, "vera", name="Vera Lynn")
    sign_in(client, "vera")
    other = signed_in_client(app, db, "bob")
    _, handoff = waiting_handoff(db)
    browsers = {"vera": client, "bob": other}
    tokens = {name: csrf_of(b.get("/console/").text) for name, b in browsers.items()}
    start = threading.Barrier(2)
    answers = {}

    def claim_as(name: str) -> None:
        start.wait()
        answers[name] = browsers[name].post(
            f"/console/handoffs/{handoff.id}/claim",
            data={"csrf": tokens[name]},
            follow_redirects=False,
        )

    threads = [threading.Thread(target=claim_as, args=(n,)) for n in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    outcomes = {n: a.headers["location"].split("said=")[1] for n, a in answers.items()}
    assert sorted(outcomes.values()) == ["claimed#reply", "taken"]
    winner = next(n for n, said in outcomes.items() if said.startswith("claimed"))
    loser = next(n for n in browsers if n != winner)
    claimed = get_handoff(db, handoff.id)
    assert claimed.status == "claimed"
    assert {v.id: v.username for v in all_volunteers(db)}[claimed.claimed_by] == winner
    told = page_text(browsers[loser].get(answers[loser].headers["location"]))
    winner_name = "Vera Lynn" if winner == "vera" else "Bob"
    assert f"already taken by {winner_name}" in told


@pytest.mark.chaos
def test_console_escapes_html_in_names_and_messages(client, db):
    """Test that a resident's name, words and notes are shown as text, never
    run as HTML, on every page that shows them."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    name = "<script>alert('name')</script>"
    words = "<img src=x onerror=alert(1)> & <b>bold</b>"
    resident, handoff = waiting_handoff(db, name, said=words)
    queue_sms(db, resident.phone, words, resident_id=resident.id)
    client.post(
        f"/console/handoffs/{handoff.id}/notes",
        data={"csrf": csrf_of(client.get("/console/").text), "body": "<i>n</i>"},
    )

    pages = [
        client.get("/console/"),
        client.get("/console/queue"),
        client.get(f"/console/handoffs/{handoff.id}"),
        client.get(f"/console/handoffs/{handoff.id}/transcript"),
        client.get("/console/outbox"),
    ]

    for response in pages:
        assert response.status_code == 200
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
        assert "<b>bold</b>" not in response.text
        assert "<i>n</i>" not in response.text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in pages[0].text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;" in pages[3].text
    assert "&lt;i&gt;n&lt;/i&gt;" in pages[2].text


def test_console_pages_forbid_framing_and_foreign_scripts(client, db):
    """Test that console pages carry a strict content policy and are not cached."""
    volunteer(db, "vera")
    sign_in(client, "vera")

    response = client.get("/console/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_console_conversation_page_shows_the_resident_and_the_handoff(client, db):
    """Test that the conversation page shows name, phone, address, delivery
    notes, the reason and confidence, and the whole transcript with authors."""
    volunteer(db, "vera", name="Vera Lynn")
    sign_in(client, "vera")
    resident = add_resident(
        db, "+447700900555", "Mabel Jones", "9 High St, AB1 2CD", "Ring twice"
    )
    inbound, _ = record_inbound(db, "sms", "SM1", resident.id, "can you help")
    record_outbound(db, resident.id, "sms", "I'm not sure I understood.", inbound)
    handoff, _ = open_handoff(
        db, resident.id, "low-confidence", confidence=0.27, channel="sms"
    )

    text = page_text(client.get(f"/console/handoffs/{handoff.id}"))

    for shown in (
        "Mabel Jones",
        "+447700900555",
        "9 High St, AB1 2CD",
        "Ring twice",
        "The assistant was unsure",
        "27% sure",
        "can you help",
        "Assistant",
        "I'm not sure I understood.",
        "Waiting for a volunteer",
    ):
        assert shown in text, shown


def test_console_unknown_conversation_is_a_kind_404(client, db):
    """Test that a conversation that does not exist gives a plain 404 page."""
    volunteer(db, "vera")
    sign_in(client, "vera")

    response = client.get("/console/handoffs/999")

    assert response.status_code == 404
    assert "no such conversation" in page_text(response)


def test_console_reply_goes_to_the_resident_by_sms(client, db, recorder):
    """Test that the claimer's reply is sent through Twilio to the resident's
    phone, and appears in the transcript under the volunteer's name."""
    volunteer(db, "vera", name="Vera Lynn")
    sign_in(client, "vera")
    resident, handoff = waiting_handoff(db)
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)

    sent = post_form(
        client, page + "/reply", page, text="Hello Joan, it's Vera. I'll help."
    )

    assert sent.headers["location"].endswith("said=sent#reply")
    assert recorder.messages_to(resident.phone) == ["Hello Joan, it's Vera. I'll help."]
    transcript = page_text(client.get(page + "/transcript"))
    assert "Vera Lynn" in transcript
    assert "Hello Joan, it's Vera. I'll help." in transcript


def test_console_only_the_claimer_can_reply(app, client, db, recorder):
    """Test that a volunteer who has not claimed the conversation cannot reply,
    change the basket or hand it back."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    other = signed_in_client(app, db, "bob")
    resident, handoff = waiting_handoff(db)
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)

    for action, fields in [
        ("/reply", {"text": "I'm not the claimer"}),
        ("/basket/add", {"request": "a loaf"}),
        ("/hand-back", {}),
    ]:
        response = post_form(other, page + action, page, **fields)
        assert response.headers["location"].endswith("said=not-yours"), action

    assert recorder.messages_to(resident.phone) == []
    assert basket_lines(db, resident.id) == []
    assert get_handoff(db, handoff.id).status == "claimed"
    assert "has this conversation" in page_text(other.get(page))


def test_console_hand_back_while_the_assistant_is_down_keeps_the_handoff(client, db):
    """Test that when Rasa cannot be reached, handing back says so kindly and
    the conversation stays with the volunteer."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    _, handoff = waiting_handoff(db)
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)

    response = post_form(client, page + "/hand-back", page)

    assert response.headers["location"].endswith("said=unavailable")
    assert "isn't answering just now" in page_text(
        client.get(response.headers["location"])
    )
    assert get_handoff(db, handoff.id).status == "claimed"


def basket_of(db, resident_id: str) -> dict[str, int]:
    return {
        f"{line.product.name} ({line.product.size})": line.quantity
        for line in basket_lines(db, resident_id)
    }


def claimed_by_vera(client, db):
    """A waiting conversation, claimed in the console by a signed-in Vera."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    resident, handoff = waiting_handoff(db)
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)
    return resident, page


def test_console_basket_adds_a_plain_typed_request_at_once(client, db):
    """Test that products named plainly are added as soon as they are typed."""
    resident, page = claimed_by_vera(client, db)

    added = post_form(
        client, page + "/basket/add", page, request="two tins of tomato soup"
    )

    assert added.headers["location"].endswith("said=added#basket")
    assert basket_of(db, resident.id) == {"Cream of Tomato Soup (400g tin)": 2}


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("2 pints of milk", "Whole Milk (2 pints)"),
        ("30 tins of tomato soup", 'value="30"'),
        ("a tin of tomato soup and some caviar", "Not in the shop: caviar"),
    ],
    ids=["several-varieties", "unusually-many", "not-in-the-shop"],
)
def test_console_basket_asks_before_adding_anything_unclear(client, db, typed, shown):
    """Test that when the words fit several products, ask for very many, or
    name something the shop lacks, nothing is added until the volunteer picks."""
    resident, page = claimed_by_vera(client, db)

    asked = post_form(client, page + "/basket/add", page, request=typed)

    assert asked.status_code == 200
    assert "Which did Joan Smith mean?" in page_text(asked)
    assert shown in asked.text or shown in page_text(asked)
    assert basket_of(db, resident.id) == {}


def test_console_basket_adds_the_variety_picked(client, db):
    """Test that picking one of the offered products adds it, as many as said."""
    resident, page = claimed_by_vera(client, db)
    asked = post_form(client, page + "/basket/add", page, request="2 pints of milk")
    whole = re.search(
        r'name="choice-(\d+)" value="([^"]+)"[^>]*>\s*Whole Milk \(2 pints\)',
        asked.text,
    )
    assert whole, "no whole milk among the choices"

    chose = client.post(
        page + "/basket/choose",
        data={
            "csrf": csrf_of(asked.text),
            f"choice-{whole.group(1)}": whole.group(2),
            f"quantity-{whole.group(1)}": "2",
        },
        follow_redirects=False,
    )

    assert chose.headers["location"].endswith("said=added#basket")
    assert basket_of(db, resident.id) == {"Whole Milk (2 pints)": 2}


def test_console_basket_changes_removes_and_orders(client, db):
    """Test that a line's quantity can be changed and a line removed, and that
    the order is placed for the next slot, emptying the basket."""
    resident, page = claimed_by_vera(client, db)
    post_form(client, page + "/basket/add", page, request="a tin of tomato soup")
    post_form(client, page + "/basket/add", page, request="a dozen eggs")
    soup, eggs = (line.product.sku for line in basket_lines(db, resident.id))

    post_form(client, page + "/basket/set", page, sku=soup, quantity="3")
    assert basket_of(db, resident.id)["Cream of Tomato Soup (400g tin)"] == 3
    post_form(client, page + "/basket/set", page, sku=eggs, quantity="0")
    assert list(basket_of(db, resident.id)) == ["Cream of Tomato Soup (400g tin)"]

    ordered = post_form(client, page + "/order", page)

    assert ordered.headers["location"].endswith("said=ordered#basket")
    order = latest_order(db, resident.id)
    assert (order.status, order.item_count) == ("placed", 3)
    assert basket_of(db, resident.id) == {}
    assert f"number {order.id}, placed" in page_text(client.get(page))


def test_console_order_of_an_empty_basket_is_refused_kindly(client, db):
    """Test that ordering with nothing in the basket places nothing and says why."""
    resident, page = claimed_by_vera(client, db)

    response = post_form(client, page + "/order", page)

    assert response.headers["location"].endswith("said=empty-basket#basket")
    assert latest_order(db, resident.id) is None


def test_console_notes_are_kept_with_the_resident(client, db):
    """Test that a note is saved with the writer's name and shown next time."""
    volunteer(db, "vera", name="Vera Lynn")
    sign_in(client, "vera")
    _, handoff = waiting_handoff(db)
    page = f"/console/handoffs/{handoff.id}"

    post_form(client, page + "/notes", page, body="Hard of hearing: text, not call.")

    text = page_text(client.get(page))
    assert "Hard of hearing: text, not call." in text
    assert "Vera Lynn" in text


@pytest.mark.chaos
def test_console_outbox_sends_an_uncertain_message_again(client, db, recorder):
    """Test that the outbox lists a message that may not have gone, and that
    "send again" sends it through Twilio and clears it from the outbox."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    resident, _ = waiting_handoff(db)
    message_id = queue_sms(
        db, resident.phone, "Your shopping comes tomorrow.", resident_id=resident.id
    )
    db.execute("UPDATE messages SET status = 'uncertain' WHERE id = ?", [message_id])
    outbox = client.get("/console/outbox")
    assert "Not sure it was sent" in page_text(outbox)
    assert f"/console/outbox/{message_id}/retry" in outbox.text

    response = post_form(
        client, f"/console/outbox/{message_id}/retry", "/console/outbox"
    )

    assert response.headers["location"].endswith("said=sent")
    assert recorder.messages_to(resident.phone) == ["Your shopping comes tomorrow."]
    assert message_status(db, message_id) == "sent"
    assert (
        f"/console/outbox/{message_id}/retry" not in client.get("/console/outbox").text
    )


def test_console_outbox_explains_messages_waiting_without_twilio(tmp_path):
    """Test that without a Twilio account queued messages are shown as waiting
    for one, and are not offered to send again."""
    app = create_app(console_settings(tmp_path, twilio=False))
    with TestClient(app) as client:
        db = app.state.db
        volunteer(db, "vera")
        sign_in(client, "vera")
        queue_sms(db, "+447700900999", "Someone is waiting")

        text = page_text(client.get("/console/outbox"))

    assert "no text message account is set up yet" in text
    assert "Send again" not in text


def test_console_sign_out_ends_the_session(client, db):
    """Test that signing out ends the session on the server, not only the cookie."""
    volunteer(db, "vera")
    sign_in(client, "vera")
    token = client.cookies["hh_session"]

    response = post_form(client, "/console/sign-out", "/console/")

    assert response.headers["location"].startswith("/console/sign-in")
    client.cookies.set("hh_session", token, path="/console")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_console_ring_back_rings_the_volunteer_then_the_resident(
    app, client, db, recorder
):
    """Test that "ring back" calls the volunteer's phone with TwiML that dials
    the resident from our number, so neither sees the other's."""
    _, handoff = waiting_handoff(db, phone="+447700900131")
    helper = add_volunteer(db, "rita", "Rita", PASSWORD, phone="+447700900132")
    assert sign_in(client, "rita").status_code == 303
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)

    answer = post_form(client, page + "/ring-back", page)

    assert answer.status_code == 303 and "said=ringing" in answer.headers["location"]
    calls = [r for r in recorder.requests if r.path.endswith("Calls.json")]
    assert len(calls) == 1
    assert calls[0].form["To"] == helper.phone
    assert calls[0].form["From"] == TWILIO_TEST_NUMBER
    twiml = calls[0].form["Twiml"]
    assert f'callerId="{TWILIO_TEST_NUMBER}"' in twiml
    assert "<Number>+447700900131</Number>" in twiml
    assert helper.phone not in twiml


def test_console_ring_back_without_a_volunteer_phone_says_so(app, client, db):
    """Test that a volunteer with no phone number is told what is missing."""
    _, handoff = waiting_handoff(db, phone="+447700900133")
    volunteer(db, "nophone")
    assert sign_in(client, "nophone").status_code == 303
    page = f"/console/handoffs/{handoff.id}"
    post_form(client, page + "/claim", page)
    answer = post_form(client, page + "/ring-back", page)
    assert "said=no-number" in answer.headers["location"]
