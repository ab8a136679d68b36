"""Coordinators' page for a resident's data: find them, export it, erase it.

Exporting and erasing are assistant.privacy's, exactly as the CLI does them,
Rasa's tracker events included. Who exported or erased whose data, and when,
is logged at INFO by volunteer and resident id only, never by name or number.
Searches are posted, not put in the URL, so no name lands in a browser's
history or a proxy's log.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils
from starlette.requests import Request
from starlette.responses import Response

from assistant.console.auth import MOST_FIELD_CHARACTERS, signed_in
from assistant.console.rendering import PREFIX, SECURITY_HEADERS, go_to, page
from assistant.privacy import (
    TABLES_BY_RESIDENT,
    erase_resident,
    export_resident,
    tracker_events,
)
from assistant.residents import Resident, get_resident
from assistant.volunteers import Session

logger = logging.getLogger(__name__)

RESIDENTS = PREFIX + "/residents"
MOST_FOUND = 20
FEWEST_DIGITS = 3
FEWEST_LETTERS = 2
ERASED = "erased"
SAID = {"erased": "The resident's personal data is erased."}
# What each table of assistant.privacy holds, in words, in the order shown.
HELD = {
    "messages": "Messages",
    "basket_lines": "Products in the basket",
    "orders": "Orders (kept for the shop's accounts, without a name)",
    "order_lines": "Lines of those orders",
    "handoffs": "Conversations passed to a person",
    "handoff_notes": "Volunteers' notes",
    "calls": "Phone calls",
    "call_series": "Regular calls",
    "call_bookings": "Booked calls with a volunteer",
    "call_reminders": "Reminders of booked calls",
    "tablet_devices": "Tablets, paired now or before",
}


@dataclass(frozen=True)
class Found:
    """A resident as the search results show them."""

    resident: Resident
    created_at: str

    @property
    def phone_ending(self) -> str:
        phone = self.resident.phone or ""
        return phone[-4:] if phone else "no number"


def find_residents(db: sqlite_utils.Database, query: str) -> list[Found] | None:
    """Residents whose name holds `query`, or whose number ends in its digits.

    Returns:
        At most MOST_FOUND matches; None when the query is too short to search.
    """
    text = " ".join(query.split())
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"[\d\s+()-]+", text):
        if len(digits) < FEWEST_DIGITS:
            return None
        where, value = "phone LIKE ?", "%" + digits
    else:
        if len(re.sub(r"\W", "", text)) < FEWEST_LETTERS:
            return None
        pattern = re.sub(r"([\\%_])", r"\\\1", text)
        where, value = "name LIKE ? ESCAPE '\\'", f"%{pattern}%"
    rows = db.query(
        f"SELECT id, created_at FROM residents WHERE {where} AND "
        "registration_step IS NOT ? ORDER BY name COLLATE NOCASE, created_at "
        "LIMIT ?",
        [value, ERASED, MOST_FOUND],
    )
    found = []
    for row in rows:
        resident = get_resident(db, row["id"])
        if resident is not None:
            found.append(Found(resident, row["created_at"]))
    return found


def held_counts(request: Request, resident_id: str) -> list[tuple[str, int]]:
    """How many of each kind of record the export and the erasure cover."""
    db = request.app.state.db
    counts = []
    for table, label in HELD.items():
        query = TABLES_BY_RESIDENT[table]
        row = db.execute(f"SELECT count(*) FROM ({query})", [resident_id]).fetchone()
        counts.append((label, row[0]))
    events = tracker_events(
        request.app.state.settings.tracker_database_path, resident_id
    )
    counts.append(("The assistant's own record of the conversation", len(events)))
    return counts


def confirmation_words(resident: Resident) -> str:
    """What a coordinator types to confirm an erasure: the name, or for
    someone not signed up yet, the last four digits of the number."""
    if resident.name:
        return resident.name
    return (resident.phone or "")[-4:] or "erase"


def same_words(typed: str, expected: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(expected.split()).casefold()


def residents_page_for(
    request: Request,
    query: str = "",
    found: list[Found] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "query": query,
        "found": found,
        "error": error,
        "said": SAID.get(request.query_params.get("said", "")),
        "fewest_digits": FEWEST_DIGITS,
    }
    return page(request, "residents.html", context, status_code)


def resident_page_for(
    request: Request,
    resident: Resident,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    row = request.app.state.db.execute(
        "SELECT created_at FROM residents WHERE id = ?", [resident.id]
    ).fetchone()
    context = {
        "resident": resident,
        "created_at": row[0] if row else None,
        "held": held_counts(request, resident.id),
        "confirm_with_name": bool(resident.name),
        "error": error,
    }
    return page(request, "resident.html", context, status_code)


def resident_of(request: Request) -> Resident | None:
    """The resident the URL names, unless they are already erased."""
    resident_id = str(request.path_params.get("resident_id", ""))
    resident = get_resident(request.app.state.db, resident_id[:MOST_FIELD_CHARACTERS])
    if resident is None or resident.registration_step == ERASED:
        return None
    return resident


def not_here(request: Request) -> Response:
    return residents_page_for(
        request,
        error="That resident is not here: erased already, or the link is wrong.",
        status_code=404,
    )


@signed_in(coordinator=True)
async def residents_page(request: Request, session: Session) -> Response:
    """GET /console/residents: a form to find a resident."""
    return residents_page_for(request)


@signed_in(coordinator=True)
async def search_submit(request: Request, session: Session) -> Response:
    """POST /console/residents: residents by name or the end of their number."""
    form = await request.form()
    query = str(form.get("query", ""))[:MOST_FIELD_CHARACTERS].strip()
    found = find_residents(request.app.state.db, query)
    if found is None:
        return residents_page_for(
            request,
            query,
            error=f"Type at least {FEWEST_LETTERS} letters of a name, or the "
            f"last {FEWEST_DIGITS} or more digits of a phone number.",
            status_code=400,
        )
    return residents_page_for(request, query, found)


@signed_in(coordinator=True)
async def resident_page(request: Request, session: Session) -> Response:
    """GET /console/residents/{id}: what is held, and the export and erase forms."""
    resident = resident_of(request)
    if resident is None:
        return not_here(request)
    return resident_page_for(request, resident)


@signed_in(coordinator=True)
async def export_submit(request: Request, session: Session) -> Response:
    """POST /console/residents/{id}/export: everything held, as a JSON file."""
    resident = resident_of(request)
    if resident is None:
        return not_here(request)

    settings = request.app.state.settings
    exported = export_resident(
        request.app.state.db, settings.tracker_database_path, resident.id
    )
    body = json.dumps(exported, indent=2, default=str, ensure_ascii=False)
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    # The file is named by the anonymous id: a name would show in downloads.
    filename = f"helping-hands-{resident.id}-{day}.json"
    logger.info(
        "coordinator %s exported the data of resident %s",
        session.volunteer.id,
        resident.id,
    )
    return Response(
        body.encode("utf-8"),
        media_type="application/json",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@signed_in(coordinator=True)
async def erase_submit(request: Request, session: Session) -> Response:
    """POST /console/residents/{id}/erase: erase, once the coordinator has typed
    the resident's name (or the end of their number) to confirm."""
    resident = resident_of(request)
    if resident is None:
        return not_here(request)
    form = await request.form()
    typed = str(form.get("confirm", ""))[:MOST_FIELD_CHARACTERS]
    if not same_words(typed, confirmation_words(resident)):
        logger.info(
            "coordinator %s did not confirm erasing resident %s",
            session.volunteer.id,
            resident.id,
        )
        what = "name" if resident.name else "last four digits of the number"
        return resident_page_for(
            request,
            resident,
            f"Nothing was erased: what you typed is not the resident's {what}.",
            400,
        )

    settings = request.app.state.settings
    erase_resident(
        request.app.state.db,
        settings.tracker_database_path,
        resident.id,
        settings.data_dir,
    )
    logger.info("coordinator %s erased resident %s", session.volunteer.id, resident.id)
    return go_to(RESIDENTS, "erased")
