"""The tablet's pairing, privacy and JSON API, through the real gateway app.

Each test runs `create_app` with its lifespan on a fresh data folder. Rasa is
not running, so words sent through the router get the kind "trouble" reply;
the basket, the aisles, pairing and refusals need only the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.app import create_app
from assistant.basket import basket_lines, set_quantity
from assistant.channels.tablet import DEVICE_COOKIE, answers_offered
from assistant.cli import DEMO_RESIDENT, main
from assistant.config import load_settings
from assistant.devices import (
    MOST_FAILURES_FROM_ONE_PLACE,
    PairingRefused,
    device_for_token,
    new_pairing_code,
    pair_directly,
    pair_with_code,
    unpair_device,
)
from assistant.messages import record_outbound
from assistant.residents import add_resident
from assistant.store import open_database
from assistant.volunteers import add_volunteer
from tests.conftest import free_port

HEADERS = {"X-Helping-Hands": "tablet"}
PASSWORD = "a long enough password"


def tablet_settings(data_dir, public_url="http://testserver"):
    return load_settings(
        {
            "HH_DATA_DIR": str(data_dir),
            "HH_PUBLIC_URL": public_url,
            "HH_RASA_PORT": str(free_port()),
            "HH_ACTIONS_PORT": str(free_port()),
            "HH_RASA_TIMEOUT": "2",
            # The speech engines are not needed here; "twilio" keeps the app
            # from loading them at start-up.
            "HH_PHONE_SPEECH": "twilio",
        }
    )


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tablet_settings(tmp_path))) as running:
        yield running


@pytest.fixture
def db(client):
    return client.app.state.db


@pytest.fixture
def joan(db):
    return add_resident(db, "+447700900321", "Joan Tester", "1 High St, AB1 2CD")


@pytest.fixture
def paired(client, db, joan):
    """The test client holds a tablet token for Joan."""
    code = new_pairing_code(db, joan.id)
    response = client.post(
        "/tablet/api/pair", json={"code": code.code}, headers=HEADERS
    )
    assert response.status_code == 200
    return joan


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/tablet/api/aisle?name=Bakery"),
        ("GET", "/tablet/api/updates?after=0"),
        ("GET", "/tablet/api/speech/0123456789abcdef"),
        ("POST", "/tablet/api/say"),
        ("POST", "/tablet/api/basket"),
    ],
    ids=["aisle", "updates", "speech", "say", "basket"],
)
def test_tablet_unpaired_device_is_refused(client, joan, method, path):
    """Test that a tablet without a token gets 401 and no data from any endpoint."""
    body = {"id": "abcdefgh", "text": "read my basket", "sku": "x", "quantity": 1}
    response = client.request(
        method, path, json=body if method == "POST" else None, headers=HEADERS
    )
    assert response.status_code == 401
    assert "Joan" not in response.text


def test_tablet_unpaired_state_shows_nobody(client, db, joan):
    """Test that an unpaired tablet's state holds nothing of any resident and,
    off a local trial, no demo."""
    set_quantity(db, joan.id, basket_first_sku(db), 2)
    response = client.get("/tablet/api/state")
    assert response.status_code == 401
    assert response.json() == {"paired": False, "demo": False}


def basket_first_sku(db) -> str:
    return db.execute("SELECT sku FROM products ORDER BY rowid LIMIT 1").fetchone()[0]


def test_tablet_page_is_served_with_a_strict_policy(client):
    """Test that GET / is the tablet page, uncached, scripts only our own."""
    response = client.get("/")
    assert response.status_code == 200
    assert 'id="mic"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/tablet/static/tablet.js").status_code == 200


def test_tablet_pairs_with_a_code_once(client, db, joan):
    """Test that a code pairs a tablet, the state is then Joan's, and the same
    code refused a second time."""
    code = new_pairing_code(db, joan.id)
    first = client.post("/tablet/api/pair", json={"code": code.spaced}, headers=HEADERS)
    assert first.status_code == 200
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace(
        "Strict", "strict"
    )
    state = client.get("/tablet/api/state").json()
    assert state["paired"] and state["name"] == "Joan"
    assert "Bakery" in state["aisles"]

    other = TestClient(client.app)
    again = other.post("/tablet/api/pair", json={"code": code.code}, headers=HEADERS)
    assert again.status_code == 403
    assert other.get("/tablet/api/state").status_code == 401


def test_tablet_pairing_needs_the_tablet_header(client, db, joan):
    """Test that a pairing POST without our header (another site's form) is refused."""
    code = new_pairing_code(db, joan.id)
    response = client.post("/tablet/api/pair", json={"code": code.code})
    assert response.status_code == 400
    assert client.get("/tablet/api/state").status_code == 401


def test_devices_code_expires(db, joan):
    """Test that a code stops working after its quarter of an hour."""
    made = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    code = new_pairing_code(db, joan.id, now=made)
    with pytest.raises(PairingRefused) as refused:
        pair_with_code(db, code.code, "10.0.0.9", now=made + timedelta(minutes=16))
    assert refused.value.code == "pairing-code-wrong"


def test_devices_new_code_replaces_the_old(db, joan):
    """Test that asking for a new code makes the earlier one useless."""
    old = new_pairing_code(db, joan.id)
    new = new_pairing_code(db, joan.id)
    with pytest.raises(PairingRefused):
        pair_with_code(db, old.code, "10.0.0.9")
    device, token = pair_with_code(db, new.code, "10.0.0.9")
    assert device_for_token(db, token).resident_id == joan.id


def test_devices_too_many_wrong_codes_stop_pairing(db, joan):
    """Test that after a few wrong codes from one address even the right code is
    refused from there, and still works from elsewhere."""
    code = new_pairing_code(db, joan.id)
    wrong = "000000" if code.code != "000000" else "111111"
    for _ in range(MOST_FAILURES_FROM_ONE_PLACE):
        with pytest.raises(PairingRefused):
            pair_with_code(db, wrong, "10.0.0.9")
    with pytest.raises(PairingRefused) as refused:
        pair_with_code(db, code.code, "10.0.0.9")
    assert refused.value.code == "pairing-rate-limited"
    device, _ = pair_with_code(db, code.code, "10.0.0.10")
    assert device.resident_id == joan.id


def test_devices_tokens_are_stored_hashed(db, joan):
    """Test that neither a code nor a token is kept in the clear."""
    code = new_pairing_code(db, joan.id)
    _, token = pair_with_code(db, code.code, "10.0.0.9")
    dump = "\n".join(db.conn.iterdump())
    assert token not in dump
    assert f"'{code.code}'" not in dump


def test_tablet_unpaired_again_is_refused(client, db, paired):
    """Test that after a coordinator unpairs it, the same tablet sees nothing:
    no state, no basket, no WebSocket."""
    token = client.cookies.get(DEVICE_COOKIE)
    device = device_for_token(db, token)
    assert client.get("/tablet/api/state").status_code == 200
    assert unpair_device(db, device.id)

    state = client.get("/tablet/api/state")
    assert state.status_code == 401 and "Joan" not in state.text
    assert client.get("/tablet/api/updates?after=0").status_code == 401
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
            "/tablet", headers={"origin": "http://testserver"}
        ) as socket:
            socket.receive_text()


def test_tablet_socket_refuses_another_origin(client, paired):
    """Test that the microphone WebSocket is refused to a page of another site,
    even with the tablet's cookie."""
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
            "/tablet", headers={"origin": "https://evil.example"}
        ) as socket:
            socket.receive_text()


def test_tablet_basket_taps_change_the_basket_and_say_so(client, db, paired):
    """Test that + sets the quantity, the answer says what changed, and a retried
    request (the same id) is taken once."""
    sku = basket_first_sku(db)
    body = {"id": "tap-00000001", "sku": sku, "quantity": 2}
    first = client.post("/tablet/api/basket", json=body, headers=HEADERS).json()
    assert first["basket"]["lines"][0]["quantity"] == 2
    assert first["replies"][0]["text"].startswith("Added 2 ")
    again = client.post("/tablet/api/basket", json=body, headers=HEADERS).json()
    assert again["replies"] == first["replies"]
    stored = db.execute(
        "SELECT count(*) FROM messages WHERE channel = 'tablet' AND direction = 'in'"
    ).fetchone()[0]
    assert stored == 1

    less = {"id": "tap-00000002", "sku": sku, "quantity": 1}
    answer = client.post("/tablet/api/basket", json=less, headers=HEADERS).json()
    assert "taken out 1" in answer["replies"][0]["text"]
    assert [line.quantity for line in basket_lines(db, paired.id)] == [1]


def test_tablet_basket_refuses_an_unknown_product(client, paired):
    """Test that a tap on a product the shop no longer has changes nothing."""
    body = {"id": "tap-00000003", "sku": "no-such-sku", "quantity": 1}
    response = client.post("/tablet/api/basket", json=body, headers=HEADERS)
    assert response.status_code == 404
    assert "no longer in the shop" in response.json()["error"]


def test_tablet_aisle_lists_its_products(client, paired):
    """Test that an aisle answers with its products and their prices."""
    aisle = client.get("/tablet/api/aisle", params={"name": "Dairy & Eggs"}).json()
    assert aisle["products"] and all(p["price"] for p in aisle["products"])
    missing = client.get("/tablet/api/aisle", params={"name": "Nowhere"})
    assert missing.status_code == 404


def test_tablet_words_are_answered_kindly_without_rasa(client, db, paired):
    """Test that words from the tablet are stored once and answered even with
    the assistant down, and that a retry gets the same answer."""
    body = {"id": "say-00000001", "text": "read my basket"}
    first = client.post("/tablet/api/say", json=body, headers=HEADERS).json()
    assert "safely saved" in first["replies"][0]["text"]
    again = client.post("/tablet/api/say", json=body, headers=HEADERS).json()
    assert again["replies"] == first["replies"]


def test_tablet_updates_bring_a_volunteers_message(client, db, paired):
    """Test that a volunteer's message to a tablet resident comes in the updates,
    with its speech, once."""
    volunteer = add_volunteer(db, "sue", "Sue", PASSWORD)
    latest = client.get("/tablet/api/state").json()["latest_id"]
    record_outbound(db, paired.id, "tablet", "Hello Joan", volunteer_id=volunteer.id)
    updates = client.get(f"/tablet/api/updates?after={latest}").json()
    assert [m["text"] for m in updates["messages"]] == ["Hello Joan"]
    assert updates["messages"][0]["volunteer"] == "Sue"
    assert updates["messages"][0]["speech_url"].startswith("/tablet/api/speech/")
    later = client.get(f"/tablet/api/updates?after={updates['latest_id']}").json()
    assert later["messages"] == []


@pytest.mark.parametrize(
    "reply, labels",
    [
        (
            "Which milk would you like: semi-skimmed, whole, skimmed, or "
            "something else?",
            ["Semi-skimmed", "Whole", "Skimmed"],
        ),
        ("Which size of beans would you like: 415g or 4 x 415g?", ["415g", "4 x 415g"]),
        ("Shall I place this order for delivery tomorrow? ", ["Yes", "No"]),
        (
            "That comes to £1.90.\nShall I place this order for delivery "
            "tomorrow? Please say yes or no.",
            ["Yes", "No"],
        ),
        (
            "Your basket has 2 items. Would you like me to read it to you?",
            ["Yes", "No"],
        ),
        ("What would you like?", []),
        ("Added 2 Baked Beans. Anything else?", []),
    ],
    ids=[
        "choice",
        "sizes",
        "shall-i",
        "say-yes-or-no",
        "would-you",
        "open-question",
        "no-question",
    ],
)
def test_tablet_answers_offered_for_questions(reply, labels):
    """Test that a question's answers are offered as buttons, and only then."""
    assert [a["label"] for a in answers_offered(reply)] == labels


@pytest.mark.parametrize(
    "public_url, client_host, headers, offered",
    [
        ("http://127.0.0.1:8000", "127.0.0.1", {}, True),
        (
            "http://127.0.0.1:8000",
            "127.0.0.1",
            {"x-forwarded-for": "203.0.113.9"},
            False,
        ),
        ("http://127.0.0.1:8000", "192.0.2.7", {}, False),
        ("https://helping-hands.example.org", "127.0.0.1", {}, False),
        ("http://127.0.0.1:8000", "127.0.0.1", {"host": "rebound.example"}, False),
    ],
    ids=[
        "local-trial",
        "behind-a-proxy",
        "another-machine",
        "real-deployment",
        "dns-rebinding",
    ],
)
def test_tablet_demo_only_on_a_local_trial(
    tmp_path, public_url, client_host, headers, offered
):
    """Test that the demo resident is offered, and pairs, only on a local trial."""
    settings = tablet_settings(tmp_path, public_url)
    seed_db = open_database(settings.database_path)
    add_resident(seed_db, DEMO_RESIDENT[0], DEMO_RESIDENT[1], DEMO_RESIDENT[2])
    seed_db.close()
    app = create_app(settings)
    with TestClient(
        app, base_url="http://127.0.0.1:8000", client=(client_host, 50000)
    ) as local:
        state = local.get("/tablet/api/state", headers=headers)
        assert state.json()["demo"] is offered
        demo = local.post("/tablet/api/demo", json={}, headers={**HEADERS, **headers})
        assert demo.status_code == (200 if offered else 403)
        if offered:
            assert local.get("/tablet/api/state").json()["name"] == "Joan"


def test_tablet_console_coordinator_pairs_and_unpairs(client, db, joan):
    """Test that a coordinator makes a code in the console, the code pairs a
    tablet, and unpairing it in the console refuses the tablet after."""
    add_volunteer(db, "cora", "Cora", PASSWORD, role="coordinator")
    console = TestClient(client.app)
    sign_in(console, "cora")
    page = console.get("/console/tablets")
    assert page.status_code == 200 and "Pair a tablet" in page.text
    made = console.post(
        "/console/tablets",
        data={"csrf": csrf_of(page.text), "phone": "07700 900321", "label": "kitchen"},
    )
    code = made.text.split('data-pairing-code="')[1].split('"')[0]
    assert (
        client.post(
            "/tablet/api/pair", json={"code": code}, headers=HEADERS
        ).status_code
        == 200
    )

    listed = console.get("/console/tablets").text
    assert "Joan Tester" in listed and "kitchen" in listed
    device_id = listed.split('data-device="')[1].split('"')[0]
    gone = console.post(
        f"/console/tablets/{device_id}/unpair", data={"csrf": csrf_of(listed)}
    )
    assert "unpaired" in gone.text
    assert client.get("/tablet/api/state").status_code == 401


def test_tablet_console_is_for_coordinators_only(client, db):
    """Test that a volunteer who is not a coordinator cannot make codes."""
    add_volunteer(db, "vic", "Vic", PASSWORD)
    console = TestClient(client.app)
    sign_in(console, "vic")
    assert console.get("/console/tablets").status_code == 403


def sign_in(console: TestClient, username: str) -> None:
    page = console.get("/console/sign-in")
    response = console.post(
        "/console/sign-in",
        data={"csrf": csrf_of(page.text), "username": username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"')[0]


def test_tablet_cli_pairs_and_unpairs(tmp_path, monkeypatch, capsys):
    """Test that `helping-hands tablet pair PHONE` prints a working code, and
    `unpair` makes the tablet's token worthless."""
    monkeypatch.setenv("HH_DATA_DIR", str(tmp_path))
    settings = load_settings()
    db = open_database(settings.database_path)
    resident = add_resident(db, "+447700900654", "Ada Line", "3 Low Rd, AB1 2CD")

    assert main(["tablet", "pair", "07700 900654", "--label", "lounge"]) == 0
    printed = capsys.readouterr().out
    code = printed.split("Pairing code ")[1].split(":")[0]
    device, token = pair_with_code(db, code, "10.0.0.9")
    assert device.resident_id == resident.id and device.label == "lounge"
    assert main(["tablet", "list"]) == 0
    assert "lounge" in capsys.readouterr().out

    assert main(["tablet", "unpair", "+447700900654"]) == 0
    assert device_for_token(db, token) is None
    assert main(["tablet", "pair", "+447700900000"]) == 1
    db.close()


def test_devices_erased_resident_is_seen_by_no_tablet(db, joan):
    """Test that a tablet of a resident whose data was erased sees nothing."""
    _, token = pair_directly(db, joan.id)
    db.execute(
        "UPDATE residents SET registration_step = 'erased' WHERE id = ?", [joan.id]
    )
    assert device_for_token(db, token) is None


def test_tablet_socket_says_so_when_nothing_was_heard(client, paired):
    """Test the microphone protocol with silence: listening is confirmed, ten
    seconds with no words end it, and the tablet gets a reply to say."""
    silence = b"\0\0" * 1600  # 100 ms of 16 kHz PCM
    with client.websocket_connect(
        "/tablet", headers={"origin": "http://testserver"}
    ) as socket:
        socket.send_text('{"type": "listen", "id": "listen-0001"}')
        assert socket.receive_json()["type"] == "listening"
        for _ in range(101):
            socket.send_bytes(silence)
        answer = socket.receive_json()
    assert answer["type"] == "not-heard"
    assert "didn't hear anything" in answer["replies"][0]["text"]
    assert answer["basket"]["lines"] == []


def test_tablet_socket_stop_ends_listening(client, paired):
    """Test that tapping the microphone again ends listening at once."""
    with client.websocket_connect(
        "/tablet", headers={"origin": "http://testserver"}
    ) as socket:
        socket.send_text('{"type": "listen", "id": "listen-0002"}')
        assert socket.receive_json()["type"] == "listening"
        socket.send_bytes(b"\0\0" * 1600)
        socket.send_text('{"type": "stop"}')
        assert socket.receive_json()["type"] == "not-heard"
