"""Actions for placing, tracking and cancelling orders."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from rasa_sdk import Action

from actions.call_desk import CallDesk
from actions.calls import ActionCancelCall
from actions.common import (
    last_bot_text,
    latest_text,
    pending_questions,
    set_pending,
    shop,
)
from assistant.basket import basket_lines
from assistant.delivery import Slot, SlotRules, describe_slot, next_slot
from assistant.errors import OrderError
from assistant.orders import cancel_order, latest_order, place_order
from assistant.wording import money, plural, read_back

NEGATION = re.compile(r"\b(no|not|don'?t|do not|nope|never|keep|leave)\b")
# Words that say a cancellation is about the shopping, or about a call.
ABOUT_SHOPPING = re.compile(
    r"\b(orders?|deliver(y|ies)|shopping|groceries|basket|food|items?)\b"
)
ABOUT_A_CALL = re.compile(r"\b(calls?|ring(ing)?|phone|chat|volunteer)\b")
NOTHING_TO_ORDER = (
    "Your basket is empty, so there's nothing to order yet. Tell me what you'd "
    'like, for example "a pint of milk".'
)


def basket_fingerprint(lines) -> str:
    text = ";".join(f"{line.product.sku}={line.quantity}" for line in lines)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def confirm_order_question(the_shop, resident_id: str) -> tuple[str, list]:
    """The read-back and the question that must be answered yes before ordering."""
    lines = basket_lines(the_shop.db, resident_id)
    if not lines:
        return NOTHING_TO_ORDER, []
    now = datetime.now(timezone.utc)
    slot = next_slot(SlotRules.from_settings(the_shop.settings), now, the_shop.db)
    text = "\n".join(read_back(lines)) + (
        f"\nShall I place this order for delivery {describe_slot(slot, now)}? "
        "Please say yes or no."
    )
    question = {
        "kind": "confirm_order",
        "basket": basket_fingerprint(lines),
        "text": "Shall I place your order? Please say yes or no.",
    }
    return text, [question]


def place_confirmed_order(
    the_shop, resident_id: str, question: dict
) -> tuple[str, list]:
    """Place the order the resident said yes to, if the basket is unchanged."""
    lines = basket_lines(the_shop.db, resident_id)
    if not lines:
        return NOTHING_TO_ORDER, []
    if basket_fingerprint(lines) != question.get("basket"):
        text, questions = confirm_order_question(the_shop, resident_id)
        return "Your basket has changed since I read it out.\n" + text, questions
    now = datetime.now(timezone.utc)
    slot = next_slot(SlotRules.from_settings(the_shop.settings), now, the_shop.db)
    try:
        order = place_order(the_shop.db, resident_id, slot)
    except OrderError:
        return NOTHING_TO_ORDER, []
    return (
        f"Thank you. Your order number {order.id} is placed: "
        f"{plural(order.item_count, 'item')}, {money(order.total_pence)}. It will "
        f"arrive {describe_slot(slot, now)}. You pay on delivery.",
        [],
    )


class ActionPlaceOrder(Action):
    def name(self) -> str:
        return "action_place_order"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        pending = pending_questions(tracker)
        if (
            pending
            and pending[0]["kind"] == "confirm_order"
            and not NEGATION.search(latest_text(tracker).lower())
        ):
            # Asked to order again right after the read-back: that is a yes.
            text, follow = place_confirmed_order(
                the_shop, tracker.sender_id, pending[0]
            )
            dispatcher.utter_message(text=text)
            return [set_pending(follow)]
        text, questions = confirm_order_question(the_shop, tracker.sender_id)
        dispatcher.utter_message(text=text)
        return [set_pending(questions)]


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        order = latest_order(the_shop.db, tracker.sender_id)
        if order is None:
            dispatcher.utter_message(
                text="You don't have an order with us at the moment. Would you "
                "like to start one? Just tell me what you need."
            )
            return []
        now = datetime.now(timezone.utc)
        when = describe_slot(Slot(order.delivery_start, order.delivery_end), now)
        described = (
            f"Your order number {order.id}, "
            f"{plural(order.item_count, 'item')} for "
            f"{money(order.total_pence)},"
        )
        if order.status == "placed":
            text = f"{described} is booked to arrive {when}."
        elif order.status == "dispatched":
            text = f"{described} is on its way. It should arrive {when}."
        else:
            text = f"{described} was {order.status}."
        dispatcher.utter_message(text=text)
        return []


class ActionCancelOrder(Action):
    def name(self) -> str:
        return "action_cancel_order"

    def run(self, dispatcher, tracker, domain):
        pending = pending_questions(tracker)
        if pending and pending[0]["kind"] == "confirm_cancel":
            # Asked again while the question is open: "no, don't cancel it"
            # keeps the order; anything else is a second request to cancel.
            if NEGATION.search(latest_text(tracker).lower()):
                dispatcher.utter_message(text="All right, your order stays as it is.")
            else:
                dispatcher.utter_message(
                    text=cancel_confirmed_order(shop(), tracker.sender_id, pending[0])
                )
            return [set_pending([])]
        order = latest_order(shop().db, tracker.sender_id)
        if means_a_call(tracker, order is not None and order.status == "placed"):
            # "Cancel it" just after talking about a call, or with no order
            # to cancel but a call booked: the call was meant.
            return ActionCancelCall().run(dispatcher, tracker, domain)
        if order is None:
            dispatcher.utter_message(text="You don't have an order to cancel.")
            return [set_pending([])]
        if order.status != "placed":
            dispatcher.utter_message(
                text=f"Your order number {order.id} is already {order.status}, "
                "so I can't cancel it now. If you need help with it, just ask "
                "to talk to a person."
            )
            return [set_pending([])]
        dispatcher.utter_message(
            text=f"Shall I cancel your order number {order.id}, "
            f"{plural(order.item_count, 'item')} for {money(order.total_pence)}? "
            "Please say yes or no."
        )
        return [
            set_pending(
                [
                    {
                        "kind": "confirm_cancel",
                        "order_id": order.id,
                        "text": "Shall I cancel your order?",
                    }
                ]
            )
        ]


def means_a_call(tracker, order_to_cancel: bool) -> bool:
    """Whether a request read as "cancel my order" was about a call instead.

    Words win: "the order" is the order and "the call" the call, whatever the
    classifier thought. A bare "cancel it" is the call when the assistant has
    just been talking about calls, or when there is no order to cancel and a
    call is booked.
    """
    text = latest_text(tracker).lower()
    if ABOUT_SHOPPING.search(text):
        return False
    if ABOUT_A_CALL.search(text):
        return True
    if re.search(r"\bcall", (last_bot_text(tracker) or "").lower()):
        return True
    if order_to_cancel:
        return False
    return bool(CallDesk(tracker.sender_id).upcoming())


def cancel_confirmed_order(the_shop, resident_id: str, question: dict) -> str:
    order = latest_order(the_shop.db, resident_id)
    if order is None or order.id != question.get("order_id"):
        return "I couldn't find that order any more. Nothing has been changed."
    try:
        cancel_order(the_shop.db, order)
    except OrderError:
        return (
            f"I'm sorry, your order number {order.id} has already left the "
            "shop, so it can't be cancelled now."
        )
    return (
        f"Your order number {order.id} is cancelled. I've put its items "
        "back in your basket, in case you'd like to change them and order "
        "again."
    )
