"""End to end: whole SMS conversations through the real gateway, Rasa and actions."""

import re
import xml.etree.ElementTree as ElementTree

import pytest

from assistant.residents import find_by_phone

pytestmark = pytest.mark.stack

DEMO_PHONE = "+447700900123"


def replies(response) -> list[str]:
    """The <Message> texts of a TwiML answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


def said(response) -> str:
    return " ".join(replies(response))


def basket_of(stack, phone: str) -> dict[str, int]:
    db = stack.db()
    resident = find_by_phone(db, phone)
    rows = db.execute(
        "SELECT p.name, b.quantity FROM basket_lines b JOIN products p USING (sku) "
        "WHERE b.resident_id = ?",
        [resident.id],
    ).fetchall()
    db.close()
    return dict(rows)


def test_sms_order_from_first_message_to_placed_order(stack):
    """Test a whole order: several products, a change, a read-back, a yes."""
    phone = "+447700900201"
    assert "name" in said(stack.sms(phone, "hello"))
    assert "address" in said(stack.sms(phone, "It's Mary Jones"))
    assert "Now, what would you like" in said(
        stack.sms(phone, "4 Elm Close, Anytown AB1 2CD")
    )

    answer = said(
        stack.sms(phone, "can I have two tins of tomato soup and a dozen eggs please")
    )
    assert "added" in answer, answer
    basket = basket_of(stack, phone)
    assert sum(basket.values()) == 3, basket
    soup = [name for name in basket if "Tomato" in name and "Soup" in name]
    assert soup and basket[soup[0]] == 2

    answer = said(stack.sms(phone, "make the soup three"))
    assert basket_of(stack, phone)[soup[0]] == 3, answer

    read_back = said(stack.sms(phone, "what's in my basket"))
    assert soup[0] in read_back
    assert "That comes to £" in read_back

    confirm = said(stack.sms(phone, "that's everything, place my order"))
    assert "Shall I place this order" in confirm
    placed = said(stack.sms(phone, "yes please"))
    assert "order number" in placed, placed

    db = stack.db()
    resident = find_by_phone(db, phone)
    order = db.execute(
        "SELECT id, total_pence, status FROM orders WHERE resident_id = ?",
        [resident.id],
    ).fetchone()
    lines = dict(
        db.execute(
            "SELECT name, quantity FROM order_lines WHERE order_id = ?", [order[0]]
        ).fetchall()
    )
    expected_total = db.execute(
        "SELECT sum(unit_price_pence * quantity) FROM order_lines WHERE order_id = ?",
        [order[0]],
    ).fetchone()[0]
    db.close()
    assert order[2] == "placed"
    assert lines[soup[0]] == 3
    assert order[1] == expected_total
    total_said = re.search(r"£(\d+)\.(\d\d)", placed)
    assert int(total_said.group(1)) * 100 + int(total_said.group(2)) == expected_total
    assert basket_of(stack, phone) == {}

    status = said(stack.sms(phone, "where's my order"))
    assert f"order number {order[0]}" in status


def test_sms_ambiguous_product_asks_which_and_takes_the_answer(stack):
    """Test that "milk" asks which milk, and the answer adds that one."""
    question = said(stack.sms(DEMO_PHONE, "a pint of milk please"))
    assert question.startswith("Which milk"), question
    said(stack.sms(DEMO_PHONE, "semi skimmed"))
    assert any("Semi" in name for name in basket_of(stack, DEMO_PHONE)), basket_of(
        stack, DEMO_PHONE
    )
    said(stack.sms(DEMO_PHONE, "empty my basket"))
    said(stack.sms(DEMO_PHONE, "yes"))
    assert basket_of(stack, DEMO_PHONE) == {}


def test_sms_large_quantity_is_confirmed_before_adding(stack):
    """Test that 30 of something is only added after a yes."""
    phone = "+447700900202"
    stack.sms(phone, "hi"), stack.sms(phone, "Tom"), stack.sms(phone, "1 High St, AB1")
    question = said(stack.sms(phone, "30 tins of baked beans"))
    assert question.startswith("Which"), question
    question = said(stack.sms(phone, "the first one"))
    assert question.startswith("Which size"), question
    question = said(stack.sms(phone, "400g please"))
    assert "more than usual" in question, question
    assert basket_of(stack, phone) == {}
    said(stack.sms(phone, "yes"))
    assert sum(basket_of(stack, phone).values()) == 30


def test_sms_unknown_product_offers_closest(stack):
    """Test that an unknown product is named and something close is offered."""
    answer = said(stack.sms(DEMO_PHONE, "two jars of caviar please"))
    assert "couldn't find" in answer and "caviar" in answer


@pytest.mark.chaos
def test_sms_forged_signature_changes_nothing(stack):
    """Test that a forged webhook gets 403 and stores nothing."""
    db = stack.db()
    before = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    db.close()
    response = stack.sms(DEMO_PHONE, "add 5 loaves", signature="forged")
    assert response.status_code == 403
    missing = stack.sms(DEMO_PHONE, "add 5 loaves", signature="")
    assert missing.status_code == 403
    db = stack.db()
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == before
    db.close()


@pytest.mark.chaos
def test_sms_replayed_message_sid_is_processed_once(stack):
    """Test that a retried webhook returns the same answer and adds nothing more."""
    said(stack.sms(DEMO_PHONE, "empty my basket"))
    said(stack.sms(DEMO_PHONE, "yes"))
    first = stack.sms(DEMO_PHONE, "a jar of strawberry jam", sid="SMreplay0001")
    again = stack.sms(DEMO_PHONE, "a jar of strawberry jam", sid="SMreplay0001")
    assert replies(first) == replies(again)
    assert sum(basket_of(stack, DEMO_PHONE).values()) == 1


def test_sms_stop_and_start_are_honoured(stack):
    """Test that STOP silences the assistant and START brings it back."""
    phone = "+447700900203"
    stack.sms(phone, "hello"), stack.sms(phone, "Pat"), stack.sms(phone, "2 Low Rd AB1")
    assert "won't get any more" in said(stack.sms(phone, "STOP"))
    assert replies(stack.sms(phone, "some bread")) == []
    assert "Welcome back" in said(stack.sms(phone, "start"))
    assert "Text STOP" in said(stack.sms(phone, "HELP"))


def test_sms_basket_survives_restart_of_the_stack(stack):
    """Test that a basket started before a restart is there after it."""
    phone = "+447700900204"
    (
        stack.sms(phone, "hello"),
        stack.sms(phone, "Sam"),
        stack.sms(phone, "3 Mill Ln AB1"),
    )
    said(stack.sms(phone, "a box of cornflakes"))
    before = basket_of(stack, phone)
    assert sum(before.values()) == 1
    stack.restart()
    assert basket_of(stack, phone) == before
    assert "corn flakes" in said(stack.sms(phone, "read me my basket")).lower()
