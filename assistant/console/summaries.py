"""Read-only lookups the console pages share: who, what was said, who holds it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from starlette.requests import Request

from assistant.catalogue import catalogue_version, load_products
from assistant.handoffs import Handoff
from assistant.matching import ProductIndex
from assistant.residents import Resident, get_resident

LAST_WORDS_SHOWN = 140
NO_NAME = "New resident, not signed up yet"


@dataclass(frozen=True)
class QueueEntry:
    """A handoff as the queue shows it."""

    handoff: Handoff
    resident: Resident | None
    claimer: str | None
    last_words: str | None

    @property
    def resident_name(self) -> str:
        return resident_name(self.resident)


def resident_name(resident: Resident | None) -> str:
    if resident is None or not resident.name:
        return NO_NAME
    return resident.name


def volunteer_names(db: sqlite_utils.Database) -> dict[int, str]:
    """Every volunteer's name by id, including closed accounts, for history."""
    return dict(db.execute("SELECT id, display_name FROM volunteers").fetchall())


def last_words(db: sqlite_utils.Database, resident_id: str) -> str | None:
    """The resident's latest message, shortened for a list."""
    row = db.execute(
        "SELECT body FROM messages WHERE resident_id = ? AND direction = 'in' "
        "ORDER BY id DESC LIMIT 1",
        [resident_id],
    ).fetchone()
    if row is None or not row[0]:
        return None
    text = " ".join(row[0].split())
    if len(text) > LAST_WORDS_SHOWN:
        text = text[: LAST_WORDS_SHOWN - 1].rstrip() + "…"
    return text


def queue_entries(
    db: sqlite_utils.Database, handoffs: list[Handoff]
) -> list[QueueEntry]:
    names = volunteer_names(db)
    return [
        QueueEntry(
            handoff,
            get_resident(db, handoff.resident_id),
            names.get(handoff.claimed_by) if handoff.claimed_by else None,
            last_words(db, handoff.resident_id),
        )
        for handoff in handoffs
    ]


def product_index(request: Request) -> ProductIndex:
    """The catalogue index for reading typed requests, rebuilt when it changes.

    It is kept on the app's state, made on first use rather than at start-up.
    """
    state = request.app.state
    version = catalogue_version(state.db)
    cached = getattr(state, "console_product_index", None)
    if cached is None or cached[0] != version:
        cached = (version, ProductIndex(load_products(state.db)))
        state.console_product_index = cached
    return cached[1]
