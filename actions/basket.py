"""Actions that change or read the basket."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, pending_questions, set_pending, shop
from actions.shopping import BasketRequest, ask, choose_from
from assistant.basket import basket_lines, quantity_in_basket, set_quantity
from assistant.parsing import numbers_said, parse_request
from assistant.wording import basket_summary, describe_product, money, read_back

NOTHING_FOUND = (
    "I'm sorry, I didn't catch what you'd like. Could you tell me again, for "
    "example \"a loaf of bread\" or \"two tins of soup\"?"
)


def finish(
    dispatcher: CollectingDispatcher, request: BasketRequest,
    questions: list[dict[str, Any]], lead: list[str] | None = None,
) -> list[Any]:
    """Save what was added, say so, and ask the first open question."""
    request.commit()
    parts = list(lead or [])
    if request.summary():
        parts.append(request.summary())
    parts.extend(request.notes)
    questions = request.questions + questions
    if questions:
        parts.append(ask(questions[0], request.index))
    elif request.added:
        parts.append("Anything else?")
    dispatcher.utter_message(text=" ".join(parts) if parts else NOTHING_FOUND)
    events: list[Any] = [set_pending(questions)]
    if request.last_sku:
        events.append(SlotSet("last_sku", request.last_sku))
    return events


def answer_choice(
    tracker: Tracker, request: BasketRequest, questions: list[dict[str, Any]]
) -> bool:
    """If the message answers an open "which one?" question, take that answer."""
    if not questions or questions[0]["kind"] != "choose":
        return False
    chosen = choose_from(latest_text(tracker), questions[0], request.index)
    if chosen is None:
        return False
    request.add(chosen, questions.pop(0)["quantity"])
    return True


class ActionAddItems(Action):
    def name(self) -> str:
        return "action_add_items"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        request = BasketRequest(
            the_shop.db, the_shop.index, tracker.sender_id, the_shop.settings
        )
        questions = pending_questions(tracker)
        if answer_choice(tracker, request, questions):
            return finish(dispatcher, request, questions)
        parsed = parse_request(latest_text(tracker), the_shop.index)
        request.take(parsed, tracker.get_slot("last_sku"))
        if not (request.added or request.questions or request.notes):
            if questions:
                dispatcher.utter_message(
                    text="Sorry, I didn't follow. " + ask(questions[0], the_shop.index)
                )
                return []
            dispatcher.utter_message(text=NOTHING_FOUND)
            return []
        # A new request replaces questions about an earlier one.
        return finish(dispatcher, request, [])


def basket_target(tracker: Tracker, text: str) -> tuple[list, list]:
    """The basket lines a remove or change request means, and the whole basket."""
    the_shop = shop()
    lines = basket_lines(the_shop.db, tracker.sender_id)
    parsed = parse_request(text, the_shop.index)
    wanted: list = []
    for item in parsed.items:
        if item.match is None:
            continue
        skus = {p.sku for p in item.match.products}
        wanted.extend(line for line in lines if line.product.sku in skus)
    if not parsed.items or all(i.refers_to_last for i in parsed.items):
        last = tracker.get_slot("last_sku")
        wanted = [line for line in lines if line.product.sku == last]
        if not wanted and len(lines) == 1:
            wanted = lines
    return wanted, lines


class ActionRemoveItem(Action):
    def name(self) -> str:
        return "action_remove_item"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        wanted, lines = basket_target(tracker, latest_text(tracker))
        if not lines:
            dispatcher.utter_message(text="Your basket is empty, so there's "
                                     "nothing to take out.")
            return []
        if not wanted:
            dispatcher.utter_message(
                text="I couldn't find that in your basket. " + basket_summary(lines)
                + " Would you like me to read it to you?"
            )
            return [set_pending([{"kind": "read_basket",
                                  "text": "Shall I read your basket to you?"}])]
        for line in wanted:
            set_quantity(the_shop.db, tracker.sender_id, line.product.sku, 0)
        removed = [f"{line.product.name}" for line in wanted]
        remaining = basket_lines(the_shop.db, tracker.sender_id)
        dispatcher.utter_message(
            text=f"I've taken out the {' and the '.join(removed)}. "
            + basket_summary(remaining)
        )
        return [set_pending([])]


class ActionChangeQuantity(Action):
    def name(self) -> str:
        return "action_change_quantity"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        text = latest_text(tracker)
        wanted, lines = basket_target(tracker, text)
        if not wanted:
            dispatcher.utter_message(
                text="Which item would you like to change? "
                + (basket_summary(lines) if lines else "Your basket is empty.")
            )
            return []
        if len(wanted) > 1:
            names = " or ".join(line.product.name for line in wanted[:3])
            dispatcher.utter_message(text=f"Which one did you mean: {names}?")
            return []
        line = wanted[0]
        lowered = text.lower()
        numbers = numbers_said(text)
        if "double" in lowered:
            quantity = line.quantity * 2
        elif any(w in lowered for w in ("less", "fewer")):
            quantity = line.quantity - (numbers[0] if numbers else 1)
        elif numbers:
            quantity = numbers[0]
        else:
            dispatcher.utter_message(
                text=f"How many {line.product.name} would you like? You have "
                f"{line.quantity} at the moment."
            )
            return [SlotSet("last_sku", line.product.sku)]
        settings = the_shop.settings
        if quantity > settings.max_quantity:
            dispatcher.utter_message(
                text=f"I can add up to {settings.max_quantity} of one thing. "
                f"You still have {line.quantity} {line.product.name}."
            )
            return []
        if quantity > settings.large_quantity:
            question = {"kind": "confirm_large", "sku": line.product.sku,
                        "quantity": quantity - line.quantity}
            dispatcher.utter_message(text=ask(
                {**question, "quantity": quantity}, the_shop.index))
            return [set_pending([question])]
        set_quantity(the_shop.db, tracker.sender_id, line.product.sku, quantity)
        lines = basket_lines(the_shop.db, tracker.sender_id)
        if quantity <= 0:
            done = f"I've taken out the {line.product.name}."
        else:
            done = f"That's now {describe_product(line.product, quantity)}."
        dispatcher.utter_message(text=f"{done} {basket_summary(lines)}")
        return [SlotSet("last_sku", line.product.sku), set_pending([])]


class ActionEmptyBasket(Action):
    def name(self) -> str:
        return "action_empty_basket"

    def run(self, dispatcher, tracker, domain):
        lines = basket_lines(shop().db, tracker.sender_id)
        if not lines:
            dispatcher.utter_message(text="Your basket is already empty.")
            return [set_pending([])]
        dispatcher.utter_message(
            text=f"{basket_summary(lines)} Shall I empty it? Please say yes or no."
        )
        return [set_pending([{"kind": "confirm_empty",
                              "text": "Shall I empty your basket?"}])]


class ActionReadBasket(Action):
    def name(self) -> str:
        return "action_read_basket"

    def run(self, dispatcher, tracker, domain):
        lines = basket_lines(shop().db, tracker.sender_id)
        dispatcher.utter_message(text="\n".join(read_back(lines)))
        return []


class ActionAskProduct(Action):
    def name(self) -> str:
        return "action_ask_product"

    def run(self, dispatcher, tracker, domain):
        the_shop = shop()
        parsed = parse_request(latest_text(tracker), the_shop.index)
        matches = [i.match for i in parsed.items if i.match is not None]
        if not matches:
            phrase = parsed.unknown[0] if parsed.unknown else ""
            closest = the_shop.index.closest(phrase, 1) if phrase else []
            if closest:
                question = {"kind": "suggest", "sku": closest[0].sku,
                            "quantity": 1, "asked": phrase}
                dispatcher.utter_message(text=ask(question, the_shop.index))
                return [set_pending([question])]
            dispatcher.utter_message(
                text="Which product would you like to know about? Tell me its "
                "name, for example \"tea bags\"."
            )
            return []
        match = matches[0]
        if match.is_unique:
            question = {"kind": "suggest", "sku": match.products[0].sku,
                        "quantity": 1}
        else:
            question = {"kind": "choose", "words": match.words, "quantity": 1,
                        "skus": [p.sku for p in match.products[:4]],
                        "more": len(match.products) > 4}
            prices = "; ".join(
                f"{p.name}, {p.size}, at {money(p.price_pence)}"
                for p in match.products[:4]
            )
            dispatcher.utter_message(text=f"We have {prices}. "
                                     + ask(question, the_shop.index))
            return [set_pending([question])]
        dispatcher.utter_message(text=ask(question, the_shop.index))
        in_basket = quantity_in_basket(the_shop.db, tracker.sender_id,
                                       match.products[0].sku)
        if in_basket:
            dispatcher.utter_message(text=f"You already have {in_basket} in your "
                                     "basket.")
        return [set_pending([question])]
