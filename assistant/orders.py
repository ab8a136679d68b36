"""Orders: placing a basket whole, finding the latest, cancelling before dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from assistant.basket import basket_lines, basket_total
from assistant.delivery import Slot
from assistant.errors import OrderError
from assistant.store import transaction, utc_now

CANCELLABLE = {"placed"}


@dataclass(frozen=True)
class Order:
    id: int
    resident_id: str
    status: str
    placed_at: str
    delivery_start: datetime
    delivery_end: datetime
    total_pence: int
    item_count: int


def place_order(db: sqlite_utils.Database, resident_id: str, slot: Slot) -> Order:
    """Turn the basket into an order and empty it, in one transaction.

    Raises:
        OrderError: `order-empty-basket` when there is nothing to order.
    """
    with transaction(db):
        lines = basket_lines(db, resident_id)
        if not lines:
            raise OrderError("the basket is empty", "order-empty-basket")
        now = utc_now()
        order_id = (
            db["orders"]
            .insert(
                {
                    "resident_id": resident_id,
                    "status": "placed",
                    "placed_at": now,
                    "delivery_start": slot.start.isoformat(),
                    "delivery_end": slot.end.isoformat(),
                    "total_pence": basket_total(lines),
                    "updated_at": now,
                }
            )
            .last_pk
        )
        db["order_lines"].insert_all(
            {
                "order_id": order_id,
                "sku": line.product.sku,
                "name": line.product.name,
                "size": line.product.size,
                "unit_price_pence": line.product.price_pence,
                "quantity": line.quantity,
            }
            for line in lines
        )
        db.execute("DELETE FROM basket_lines WHERE resident_id = ?", [resident_id])
    return get_order(db, order_id)


def get_order(db: sqlite_utils.Database, order_id: int) -> Order:
    row = db.execute(
        "SELECT o.id, o.resident_id, o.status, o.placed_at, o.delivery_start, "
        "o.delivery_end, o.total_pence, coalesce(sum(l.quantity), 0) "
        "FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.id = ? GROUP BY o.id",
        [order_id],
    ).fetchone()
    if row is None:
        raise OrderError(f"no order {order_id}", "order-not-found")
    return Order(
        row[0],
        row[1],
        row[2],
        row[3],
        datetime.fromisoformat(row[4]),
        datetime.fromisoformat(row[5]),
        row[6],
        row[7],
    )


def latest_order(db: sqlite_utils.Database, resident_id: str) -> Order | None:
    """The resident's most recent order that is not cancelled, if any."""
    row = db.execute(
        "SELECT id FROM orders WHERE resident_id = ? AND status != 'cancelled' "
        "ORDER BY id DESC LIMIT 1",
        [resident_id],
    ).fetchone()
    return get_order(db, row[0]) if row else None


def order_lines(db: sqlite_utils.Database, order_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT sku, name, size, unit_price_pence, quantity FROM order_lines "
            "WHERE order_id = ? ORDER BY rowid",
            [order_id],
        )
    )


def cancel_order(db: sqlite_utils.Database, order: Order) -> None:
    """Cancel an order not yet dispatched and put its items back in the basket.

    Raises:
        OrderError: `order-dispatched` once the order has left the shop.
    """
    with transaction(db):
        status = db.execute(
            "SELECT status FROM orders WHERE id = ?", [order.id]
        ).fetchone()[0]
        if status not in CANCELLABLE:
            raise OrderError(f"order {order.id} is {status}", "order-dispatched")
        db.execute(
            "UPDATE orders SET status = 'cancelled', updated_at = ? WHERE id = ?",
            [utc_now(), order.id],
        )
        for line in order_lines(db, order.id):
            db.execute(
                "INSERT INTO basket_lines (resident_id, sku, quantity, added_at) "
                "SELECT ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM products WHERE sku = ? AND active = 1) "
                "ON CONFLICT (resident_id, sku) DO UPDATE SET "
                "quantity = quantity + excluded.quantity",
                [
                    order.resident_id,
                    line["sku"],
                    line["quantity"],
                    utc_now(),
                    line["sku"],
                ],
            )


def ordered_before(db: sqlite_utils.Database, resident_id: str) -> dict[str, int]:
    """Products the resident has ordered, with how many orders each was in."""
    rows = db.execute(
        "SELECT l.sku, count(DISTINCT o.id) FROM orders o "
        "JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.resident_id = ? AND o.status != 'cancelled' GROUP BY l.sku",
        [resident_id],
    ).fetchall()
    return dict(rows)
