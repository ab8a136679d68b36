"""The basket and the order, changed by a volunteer on the resident's behalf.

Products are added by typing a request as a resident would ("2 pints of milk
and a loaf"), read by the same parsing code the assistant uses. When the words
fit several products, or ask for an unusually large number, nothing is added
until the volunteer has picked: one step, shown on the conversation page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response

from assistant.basket import add_to_basket, set_quantity
from assistant.catalogue import Product
from assistant.console.auth import signed_in
from assistant.console.conversation import (
    find_handoff,
    handoff_context,
    handoff_url,
    is_mine,
    not_found,
)
from assistant.console.rendering import go_to, page
from assistant.console.summaries import product_index
from assistant.delivery import SlotRules, next_slot
from assistant.errors import OrderError
from assistant.orders import place_order
from assistant.parsing import parse_request
from assistant.volunteers import Session

logger = logging.getLogger(__name__)

MOST_TYPED_CHARACTERS = 500
MOST_OPTIONS = 12


@dataclass(frozen=True)
class ItemToPick:
    """One thing asked for, with the products it might be."""

    number: int
    said: str
    quantity: int
    options: tuple[Product, ...]
    chosen: str | None


def read_quantity(text: object, most: int) -> int | None:
    try:
        quantity = int(str(text).strip())
    except ValueError:
        return None
    return quantity if 0 <= quantity <= most else None


async def guarded_handoff(request: Request, session: Session):
    """The handoff of the URL if this volunteer holds it, else the answer to give."""
    handoff = find_handoff(request)
    if handoff is None:
        return None, not_found(request)
    if not is_mine(handoff, session):
        return None, go_to(handoff_url(handoff.id), "not-yours")
    return handoff, None


@signed_in()
async def basket_set_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/basket/set: a line's quantity; 0 removes it."""
    handoff, refusal = await guarded_handoff(request, session)
    if refusal is not None:
        return refusal
    state = request.app.state
    form = await request.form()
    quantity = read_quantity(form.get("quantity", ""), state.settings.max_quantity)
    sku = str(form.get("sku", ""))
    if quantity is None or not sku:
        return go_to(handoff_url(handoff.id, "basket"), "bad-quantity")
    set_quantity(state.db, handoff.resident_id, sku, quantity)
    return go_to(handoff_url(handoff.id, "basket"), "basket-changed")


@signed_in()
async def basket_add_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/basket/add: products from a typed request."""
    handoff, refusal = await guarded_handoff(request, session)
    if refusal is not None:
        return refusal
    state = request.app.state
    typed = str((await request.form()).get("request", ""))[:MOST_TYPED_CHARACTERS]
    parsed = parse_request(typed, product_index(request))
    items = [
        ItemToPick(
            number,
            item.said,
            item.quantity,
            item.match.products[:MOST_OPTIONS],
            item.match.products[0].sku if item.match.is_unique else None,
        )
        for number, item in enumerate(i for i in parsed.items if i.match is not None)
    ]
    if not items:
        return go_to(handoff_url(handoff.id, "basket"), "nothing-found")
    plain = all(
        item.chosen and item.quantity <= state.settings.large_quantity for item in items
    )
    if plain and not parsed.unknown:
        add_to_basket(
            state.db,
            handoff.resident_id,
            [(item.chosen, item.quantity) for item in items],
        )
        return go_to(handoff_url(handoff.id, "basket"), "added")
    context = handoff_context(
        request,
        handoff,
        session,
        choosing=items,
        unknown=parsed.unknown,
        typed=typed,
    )
    return page(request, "handoff.html", context)


@signed_in()
async def basket_choose_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/basket/choose: the products picked, added."""
    handoff, refusal = await guarded_handoff(request, session)
    if refusal is not None:
        return refusal
    state = request.app.state
    form = await request.form()
    known = product_index(request).by_sku
    changes = []
    for key, value in form.multi_items():
        if not key.startswith("choice-") or not value:
            continue
        number = key.removeprefix("choice-")
        quantity = read_quantity(
            form.get(f"quantity-{number}", "1"), state.settings.max_quantity
        )
        if quantity is None or str(value) not in known:
            return go_to(handoff_url(handoff.id, "basket"), "bad-quantity")
        if quantity:
            changes.append((str(value), quantity))
    if not changes:
        return go_to(handoff_url(handoff.id, "basket"), "nothing-found")
    add_to_basket(state.db, handoff.resident_id, changes)
    return go_to(handoff_url(handoff.id, "basket"), "added")


@signed_in()
async def order_submit(request: Request, session: Session) -> Response:
    """POST /console/handoffs/{id}/order: the basket, ordered for the next slot."""
    handoff, refusal = await guarded_handoff(request, session)
    if refusal is not None:
        return refusal
    state = request.app.state
    rules = SlotRules.from_settings(state.settings)
    try:
        slot = next_slot(rules, datetime.now(timezone.utc), state.db)
    except ValueError:
        return go_to(handoff_url(handoff.id, "basket"), "no-slot")
    try:
        order = place_order(state.db, handoff.resident_id, slot)
    except OrderError:
        return go_to(handoff_url(handoff.id, "basket"), "empty-basket")
    logger.info(
        "order %s placed by volunteer %s in handoff %s",
        order.id,
        session.volunteer.id,
        handoff.id,
    )
    return go_to(handoff_url(handoff.id, "basket"), "ordered")
