"""The shop's catalogue: products, the demo seed and importing a shop's own list."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from assistant.errors import CatalogueImportError
from assistant.store import transaction, utc_now

DEMO_CATALOGUE = Path(__file__).parent / "data" / "catalogue.csv"
COLUMNS = ("sku", "aisle", "name", "size", "price_pence", "aliases")
REQUIRED = ("sku", "aisle", "name", "size", "price_pence")
MAX_PRICE_PENCE = 100_000


@dataclass(frozen=True)
class Product:
    """One product on the shelf."""

    sku: str
    aisle: str
    name: str
    size: str
    price_pence: int
    aliases: tuple[str, ...]


def load_products(db: sqlite_utils.Database) -> list[Product]:
    """Every active product, in the shop's own order (most usual first)."""
    rows = db.execute(
        "SELECT sku, aisle, name, size, price_pence, aliases FROM products "
        "WHERE active = 1 ORDER BY rowid"
    ).fetchall()
    return [
        Product(sku, aisle, name, size, price, split_aliases(aliases))
        for sku, aisle, name, size, price, aliases in rows
    ]


def catalogue_version(db: sqlite_utils.Database) -> str:
    """A token that changes whenever the catalogue changes."""
    row = db.execute(
        "SELECT count(*), coalesce(max(updated_at), '') FROM products"
    ).fetchone()
    return f"{row[0]}:{row[1]}"


def split_aliases(text: str) -> tuple[str, ...]:
    return tuple(a.strip().lower() for a in text.split("|") if a.strip())


def read_catalogue_csv(text: str) -> list[dict]:
    """Parse and check a catalogue CSV, returning clean rows.

    Raises:
        CatalogueImportError: listing every bad row, by line number.
    """
    # A spreadsheet's "CSV UTF-8" starts with a byte-order mark.
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogueImportError(
            [f"the header is missing column(s): {', '.join(missing)}"]
        )
    rows, problems, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: too many fields")
            continue
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        sku = values["sku"]
        if sku and sku in seen:
            problems.append(f"line {line}: sku {sku!r} repeats line {seen[sku]}")
            continue
        if sku:
            seen[sku] = line
        empty = [k for k in REQUIRED if not values[k]]
        if empty:
            problems.append(f"line {line}: empty {', '.join(empty)}")
            continue
        try:
            price = int(values["price_pence"])
        except ValueError:
            problems.append(
                f"line {line}: price_pence {values['price_pence']!r} is not "
                "a whole number of pence"
            )
            continue
        if not 0 < price <= MAX_PRICE_PENCE:
            problems.append(f"line {line}: price_pence {price} is out of range")
            continue
        values["price_pence"] = price
        values["aliases"] = "|".join(split_aliases(values["aliases"]))
        rows.append(values)
    if problems:
        raise CatalogueImportError(problems)
    return rows


def import_catalogue(db: sqlite_utils.Database, text: str) -> tuple[int, int]:
    """Add or update products from CSV text, all or nothing.

    Returns:
        The number of products added and the number updated.
    """
    rows = read_catalogue_csv(text)
    now = utc_now()
    added = updated = 0
    with transaction(db):
        existing = {r[0] for r in db.execute("SELECT sku FROM products").fetchall()}
        for row in rows:
            if row["sku"] in existing:
                updated += 1
            else:
                added += 1
            db["products"].upsert({**row, "active": 1, "updated_at": now}, pk="sku")
    return added, updated


def seed_demo_catalogue(db: sqlite_utils.Database) -> int:
    """Load the demo catalogue into an empty products table; return rows added."""
    if db.execute("SELECT count(*) FROM products").fetchone()[0]:
        return 0
    added, _ = import_catalogue(db, DEMO_CATALOGUE.read_text(encoding="utf-8"))
    return added


def find_product(db: sqlite_utils.Database, sku: str) -> Product | None:
    row = db.execute(
        "SELECT sku, aisle, name, size, price_pence, aliases FROM products "
        "WHERE sku = ?",
        [sku],
    ).fetchone()
    if row is None:
        return None
    return Product(*row[:5], split_aliases(row[5]))
