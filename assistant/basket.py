"""A resident's basket: lines kept in the store, changed whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from assistant.catalogue import Product, find_product
from assistant.store import transaction, utc_now


@dataclass(frozen=True)
class BasketLine:
    """One product in a basket, with how many."""

    product: Product
    quantity: int

    @property
    def total_pence(self) -> int:
        return self.product.price_pence * self.quantity


def basket_lines(db: sqlite_utils.Database, resident_id: str) -> list[BasketLine]:
    """The basket's lines in the order they were added."""
    rows = db.execute(
        "SELECT sku, quantity FROM basket_lines WHERE resident_id = ? "
        "ORDER BY added_at, rowid",
        [resident_id],
    ).fetchall()
    lines = []
    for sku, quantity in rows:
        product = find_product(db, sku)
        if product is not None:
            lines.append(BasketLine(product, quantity))
    return lines


def basket_total(lines: list[BasketLine]) -> int:
    return sum(line.total_pence for line in lines)


def quantity_in_basket(db: sqlite_utils.Database, resident_id: str, sku: str) -> int:
    row = db.execute(
        "SELECT quantity FROM basket_lines WHERE resident_id = ? AND sku = ?",
        [resident_id, sku],
    ).fetchone()
    return row[0] if row else 0


def add_to_basket(
    db: sqlite_utils.Database, resident_id: str, changes: list[tuple[str, int]]
) -> None:
    """Add quantities of products, all in one transaction."""
    with transaction(db):
        for sku, quantity in changes:
            db.execute(
                "INSERT INTO basket_lines (resident_id, sku, quantity, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (resident_id, sku) "
                "DO UPDATE SET quantity = quantity + excluded.quantity",
                [resident_id, sku, quantity, utc_now()],
            )


def change_basket(
    db: sqlite_utils.Database,
    resident_id: str,
    added: list[tuple[str, int]],
    quantities: list[tuple[str, int]],
) -> None:
    """Add some products and set others' quantities, all in one transaction."""
    with transaction(db):
        add_to_basket(db, resident_id, added)
        for sku, quantity in quantities:
            set_quantity(db, resident_id, sku, quantity)


def set_quantity(
    db: sqlite_utils.Database, resident_id: str, sku: str, quantity: int
) -> None:
    """Set a line's quantity; zero or less removes it."""
    with transaction(db):
        if quantity <= 0:
            db.execute(
                "DELETE FROM basket_lines WHERE resident_id = ? AND sku = ?",
                [resident_id, sku],
            )
            return
        db.execute(
            "INSERT INTO basket_lines (resident_id, sku, quantity, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (resident_id, sku) "
            "DO UPDATE SET quantity = excluded.quantity",
            [resident_id, sku, quantity, utc_now()],
        )


def empty_basket(db: sqlite_utils.Database, resident_id: str) -> int:
    """Remove every line; return how many lines there were."""
    with transaction(db):
        count = db.execute(
            "SELECT count(*) FROM basket_lines WHERE resident_id = ?", [resident_id]
        ).fetchone()[0]
        db.execute("DELETE FROM basket_lines WHERE resident_id = ?", [resident_id])
    return count
