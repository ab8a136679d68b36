"""More whole SMS conversations: changing, cancelling, help, and sign-up."""

import itertools
import xml.etree.ElementTree as ElementTree

import httpx
import pytest

from assistant.residents import find_by_phone

pytestmark = pytest.mark.stack

_numbers = itertools.count(400)


def replies(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m.text or "" for m in ElementTree.fromstring(response.text).iter("Message")]


def said(response) -> str:
    return " ".join(replies(response))


def signed_up(stack, name: str = "Alma") -> str:
    """A new resident's number, already through sign-up."""
    phone = f"+4477009{next(_numbers):05d}"
    stack.sms(phone, "hello")
    stack.sms(phone, name)
    stack.sms(phone, "7 Birch Avenue, Anytown AB1 2CD")
    return phone


def basket_of(stack, phone: str) -> dict[str, int]:
    db = stack.db()
    resident = find_by_phone(db, phone)
    rows = db.execute(
        "SELECT p.name || ', ' || p.size, b.quantity FROM basket_lines b "
        "JOIN products p USING (sku) WHERE b.resident_id = ?",
        [resident.id],
    ).fetchall()
    db.close()
    return dict(rows)


def test_sms_remove_and_change_lines(stack):
    """Test taking one product out, changing another, and one less."""
    phone = signed_up(stack)
    said(
        stack.sms(
            phone,
            "a jar of clear honey, 4 tins of chopped tomatoes and a "
            "jar of smooth peanut butter",
        )
    )
    basket = basket_of(stack, phone)
    assert len(basket) == 3, basket

    said(stack.sms(phone, "take the peanut butter out please"))
    assert not any("Peanut" in name for name in basket_of(stack, phone))

    said(stack.sms(phone, "one less of the tomatoes"))
    tomatoes = [q for name, q in basket_of(stack, phone).items() if "Tomatoes" in name]
    assert tomatoes == [3]

    said(stack.sms(phone, "could you make the honey two"))
    honey = [q for name, q in basket_of(stack, phone).items() if "Honey" in name]
    assert honey == [2]


def test_sms_empty_basket_asks_first(stack):
    """Test that emptying the basket needs a yes, and a no keeps it."""
    phone = signed_up(stack)
    stack.sms(phone, "a box of cornflakes and a jar of clear honey")
    assert "Shall I empty it?" in said(stack.sms(phone, "empty my basket"))
    said(stack.sms(phone, "no, leave it"))
    assert len(basket_of(stack, phone)) == 2
    said(stack.sms(phone, "clear the whole basket please"))
    said(stack.sms(phone, "yes"))
    assert basket_of(stack, phone) == {}


def test_sms_cancel_order_puts_items_back(stack):
    """Test cancelling a placed order: asked first, then the items come back."""
    phone = signed_up(stack)
    stack.sms(phone, "a box of cornflakes please")
    stack.sms(phone, "place my order")
    assert "order number" in said(stack.sms(phone, "yes please"))
    question = said(stack.sms(phone, "can I cancel my order"))
    assert "Shall I cancel" in question
    assert "is cancelled" in said(stack.sms(phone, "yes"))
    db = stack.db()
    resident = find_by_phone(db, phone)
    status = db.execute(
        "SELECT status FROM orders WHERE resident_id = ?", [resident.id]
    ).fetchone()[0]
    db.close()
    assert status == "cancelled"
    assert sum(basket_of(stack, phone).values()) == 1


def test_sms_no_to_the_read_back_places_nothing(stack):
    """Test that an order is only placed after a yes to the read-back."""
    phone = signed_up(stack)
    stack.sms(phone, "a jar of clear honey")
    assert "Shall I place this order" in said(stack.sms(phone, "send my order"))
    said(stack.sms(phone, "no not yet"))
    db = stack.db()
    resident = find_by_phone(db, phone)
    orders = db.execute(
        "SELECT count(*) FROM orders WHERE resident_id = ?", [resident.id]
    ).fetchone()[0]
    db.close()
    assert orders == 0
    assert len(basket_of(stack, phone)) == 1


def test_sms_repeat_says_the_last_reply_again(stack):
    """Test that "say that again" repeats the assistant's last message."""
    phone = signed_up(stack)
    first = said(stack.sms(phone, "a jar of clear honey please"))
    again = said(stack.sms(phone, "sorry, could you say that again?"))
    assert again == first


def test_sms_help_explains_what_to_say(stack):
    """Test that asking what to say gets examples of what the assistant can do."""
    phone = signed_up(stack)
    answer = said(stack.sms(phone, "what can I say to you?"))
    assert "place my order" in answer and "person" in answer


def test_sms_asking_for_a_person_is_queued(stack):
    """Test that a request for a person is answered and waits for a volunteer."""
    phone = signed_up(stack)
    answer = said(stack.sms(phone, "can I talk to a real person please"))
    assert "volunteer" in answer
    db = stack.db()
    resident = find_by_phone(db, phone)
    waiting = db.execute(
        "SELECT reason FROM handoffs WHERE resident_id = ? AND status = 'waiting'",
        [resident.id],
    ).fetchall()
    db.close()
    assert waiting == [("asked-for-person",)]


def test_sms_first_message_request_is_answered_after_sign_up(stack):
    """Test that what a new resident asked for before signing up is not lost."""
    phone = f"+4477009{next(_numbers):05d}"
    assert "name" in said(stack.sms(phone, "hello can I order a jar of clear honey"))
    stack.sms(phone, "my name's Edna Price")
    answer = said(stack.sms(phone, "22 Cherry Tree Walk, Anytown AB1 3EF"))
    assert "22 Cherry Tree Walk" in answer
    assert any("Honey" in name for name in basket_of(stack, phone)), answer
    db = stack.db()
    resident = find_by_phone(db, phone)
    db.close()
    assert resident.name == "Edna Price"


def test_sms_long_read_back_comes_in_parts(stack):
    """Test that a long basket read-back is split into several SMS messages."""
    phone = signed_up(stack)
    db = stack.db()
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM products GROUP BY name HAVING count(*) = 1 "
            "ORDER BY min(rowid) LIMIT 24"
        )
    ]
    db.close()
    for start in range(0, len(names), 6):
        stack.sms(phone, ", ".join(f"one {name}" for name in names[start : start + 6]))
    lines = basket_of(stack, phone)
    assert len(lines) >= 16, lines

    parts = replies(stack.sms(phone, "read my basket back to me please"))

    assert len(parts) > 1
    assert all(0 < len(part) <= 640 for part in parts)
    joined = "\n".join(parts)
    for name_and_size in lines:
        assert name_and_size.split(", ")[0] in joined
    assert "That comes to £" in parts[-1]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces"),
        pytest.param("😀👍", id="emoji-only"),
        pytest.param("<script>alert(1)</script>", id="html"),
        pytest.param("x" * 1600, id="1600-characters"),
    ],
)
def test_sms_odd_messages_get_a_kind_answer(stack, body):
    """Test that empty, odd or hostile messages are answered in valid TwiML."""
    phone = signed_up(stack)
    response = stack.sms(phone, body)
    answer = replies(response)
    assert answer, "every message gets an answer"
    assert "<script>" not in response.text


def test_sms_without_a_body_field_is_answered_not_crashed(stack):
    """Test that a signed webhook with no Body field still gets valid TwiML."""
    from tests.conftest import TWILIO_TEST_TOKEN, twilio_signature

    params = {"MessageSid": "SMnobody0001", "From": "+447700900123", "To": "+44"}
    url = stack.env["HH_PUBLIC_URL"] + "/twilio/sms"
    response = httpx.post(
        stack.base_url + "/twilio/sms",
        data=params,
        headers={
            "X-Twilio-Signature": twilio_signature(url, params, TWILIO_TEST_TOKEN)
        },
        timeout=30,
    )
    assert "empty" in said(response)
