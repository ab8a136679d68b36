"""Tests of the SQLite store: WAL mode, migrations, baskets and orders that persist."""

from datetime import datetime, timedelta, timezone

import pytest

from assistant.basket import add_to_basket, basket_lines, empty_basket, set_quantity
from assistant.catalogue import load_products
from assistant.delivery import Slot
from assistant.errors import OrderError
from assistant.messages import record_inbound, record_outbound, replies_to
from assistant.orders import cancel_order, latest_order, order_lines, place_order
from assistant.residents import add_resident, resident_for_phone
from assistant.store import MIGRATIONS, open_database, schema_version


def a_slot() -> Slot:
    start = datetime(2030, 1, 7, 10, tzinfo=timezone.utc)
    return Slot(start, start + timedelta(hours=2))


def test_store_uses_wal_and_applies_every_migration(tmp_path):
    """Test that a new store is in WAL mode at the latest schema version."""
    db = open_database(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(db) == MIGRATIONS[-1][0]


def test_store_migrations_run_once(tmp_path):
    """Test that reopening a store applies nothing again and keeps its data."""
    db = open_database(tmp_path / "s.db")
    add_resident(db, "+447700900001", "Ann", "1 Road")
    db.close()
    again = open_database(tmp_path / "s.db")
    assert again.execute("SELECT count(*) FROM residents").fetchone()[0] == 1
    assert again.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == (
        len(MIGRATIONS)
    )


def test_basket_survives_reopening_the_store(db, tmp_path):
    """Test that basket lines are in the file, not in memory."""
    resident = add_resident(db, "+447700900002", "Bob", "2 Road")
    sku = load_products(db)[0].sku
    add_to_basket(db, resident.id, [(sku, 2)])
    add_to_basket(db, resident.id, [(sku, 1)])
    db.close()
    reopened = open_database(tmp_path / "test.db")
    lines = basket_lines(reopened, resident.id)
    assert [(line.product.sku, line.quantity) for line in lines] == [(sku, 3)]


def test_basket_set_quantity_zero_removes_line(db):
    """Test that setting a quantity to zero takes the line out."""
    resident = add_resident(db, "+447700900003", "Cy", "3 Road")
    first, second = (p.sku for p in load_products(db)[:2])
    add_to_basket(db, resident.id, [(first, 1), (second, 4)])
    set_quantity(db, resident.id, first, 0)
    set_quantity(db, resident.id, second, 2)
    lines = basket_lines(db, resident.id)
    assert [(line.product.sku, line.quantity) for line in lines] == [(second, 2)]
    assert empty_basket(db, resident.id) == 1
    assert basket_lines(db, resident.id) == []


def test_place_order_moves_basket_into_order_with_total(db):
    """Test that an order holds the basket's lines and total, and empties it."""
    resident = add_resident(db, "+447700900004", "Di", "4 Road")
    products = load_products(db)[:2]
    add_to_basket(db, resident.id, [(products[0].sku, 2), (products[1].sku, 1)])
    order = place_order(db, resident.id, a_slot())
    assert order.total_pence == products[0].price_pence * 2 + products[1].price_pence
    assert order.item_count == 3
    assert {line["sku"]: line["quantity"] for line in order_lines(db, order.id)} == {
        products[0].sku: 2,
        products[1].sku: 1,
    }
    assert basket_lines(db, resident.id) == []
    assert latest_order(db, resident.id).id == order.id


def test_place_order_with_empty_basket_is_refused(db):
    """Test that an empty basket cannot become an order."""
    resident = add_resident(db, "+447700900005", "Ed", "5 Road")
    with pytest.raises(OrderError) as raised:
        place_order(db, resident.id, a_slot())
    assert raised.value.code == "order-empty-basket"


def test_cancel_order_restores_basket_and_refuses_dispatched(db):
    """Test that cancelling returns items to the basket, but not once dispatched."""
    resident = add_resident(db, "+447700900006", "Flo", "6 Road")
    sku = load_products(db)[5].sku
    add_to_basket(db, resident.id, [(sku, 2)])
    order = place_order(db, resident.id, a_slot())
    cancel_order(db, order)
    assert latest_order(db, resident.id) is None
    assert [line.quantity for line in basket_lines(db, resident.id)] == [2]

    second = place_order(db, resident.id, a_slot())
    db.execute("UPDATE orders SET status = 'dispatched' WHERE id = ?", [second.id])
    with pytest.raises(OrderError) as raised:
        cancel_order(db, second)
    assert raised.value.code == "order-dispatched"


def test_inbound_message_is_stored_once_per_provider_id(db):
    """Test that a retried webhook's message is recognised, with its replies."""
    resident = resident_for_phone(db, "+447700900007")
    first_id, first_new = record_inbound(db, "sms", "SM1", resident.id, "milk")
    record_outbound(db, resident.id, "sms", "Which milk?", first_id)
    again_id, again_new = record_inbound(db, "sms", "SM1", resident.id, "milk")
    assert (first_new, again_new) == (True, False)
    assert again_id == first_id
    assert replies_to(db, first_id) == ["Which milk?"]
    assert (
        db.execute("SELECT count(*) FROM messages WHERE direction='in'").fetchone()[0]
        == 1
    )


def test_new_phone_number_starts_registration(db):
    """Test that an unknown number becomes a resident who is asked for a name."""
    resident = resident_for_phone(db, "+447700900008")
    assert resident.registration_step == "name"
    assert not resident.is_registered
    assert resident_for_phone(db, "+447700900008").id == resident.id
