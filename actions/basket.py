"""Actions that change or read the basket."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, pending_questions, set_pending, shop
from actions.shopping import BasketRequest, ask, choose_question, same_question
from assistant.basket import BasketLine, basket_lines
from assistant.matching import content_words
from assistant.parsing import ParsedRequest, numbers_said, parse_request
from assistant.wording import basket_summary, join_words, money, read_back

NOTHING_FOUND = (
    "I'm sorry, I didn't catch what you'd like. Could you tell me again, for "
    'example "a loaf of bread" or "two tins of soup"?'
)
MORE_WORDS = re.compile(r"\b(more|extra|another|add)\b")
FEWER_WORDS = re.compile(r"\b(less|fewer|minus)\b")
DOUBLE_WORDS = re.compile(r"\b(double|twice as many)\b")
CORRECTED_NUMBER = re.compile(r"\bnot\s+(\w+)")
JUST_WORDS = re.compile(r"\b(no|nope|just|only|make it|actually|sorry)\b")


def new_request(tracker: Tracker) -> BasketRequest:
    the_shop = shop()
    return BasketRequest(
        the_shop.db, the_shop.index, tracker.sender_id, the_shop.settings
    )


def last_added(tracker: Tracker) -> list[str]:
    value = tracker.get_slot("last_added")
    return (
        [sku for sku in value if isinstance(sku, str)]
        if isinstance(value, list)
        else []
    )


def finish(
    dispatcher: CollectingDispatcher,
    request: BasketRequest,
    earlier: list[dict[str, Any]],
    lead: list[str] | None = None,
) -> list[Any]:
    """Save the changes, say what was done, and ask the first open question.

    Questions raised by this message come first; questions still open from
    earlier follow, so nothing the resident asked for is silently dropped.
    """
    request.commit()
    parts = list(lead or [])
    if request.summary():
        parts.append(request.summary())
    parts.extend(request.notes)
    questions = list(request.questions)
    for question in earlier:
        if request.changed and question["kind"] == "suggest":
            continue  # an offer the resident passed over for something else
        if not any(same_question(question, q) for q in questions):
            questions.append(question)
    if questions:
        parts.append(ask(questions[0], request.index))
        later = [
            q["said"]
            for q in questions[1:]
            if q["kind"] == "choose" and q.get("said") and q["said"] != "one"
        ]
        if later:
            parts.append(f"After that, I'll ask you about the {join_words(later)}.")
    elif request.added:
        parts.append("Anything else?")
    dispatcher.utter_message(text=" ".join(parts) if parts else NOTHING_FOUND)
    events: list[Any] = [set_pending(questions)]
    if request.added:
        events.append(SlotSet("last_added", request.added_skus))
    elif request.quantities:
        events.append(SlotSet("last_added", [request.quantities[-1][0]]))
    return events


def answer_pending_choice(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[Any] | None:
    """If the message answers an open "which one?" question, act on the answer.

    Whatever intent the message was classified as, "the semi-skimmed" or
    "the second one" answers the question the resident was just asked.

    Returns:
        The events of the answer, or None when the message did not answer.
    """
    questions = pending_questions(tracker)
    if not questions:
        return None
    text = latest_text(tracker)
    request = new_request(tracker)
    question = questions[0]
    if question["kind"] == "confirm_large":
        numbers = numbers_said(CORRECTED_NUMBER.sub(" ", text.lower()))
        short = len(text.split()) <= 3
        if not numbers or not (short or JUST_WORDS.search(text.lower())):
            return None
        # "No, just three": the number said now is the one meant.
        if question.get("purpose") == "set":
            request.set_to(question["sku"], numbers[-1], confirmed=True)
        else:
            request.add(question["sku"], numbers[-1], confirmed=True)
        return finish(dispatcher, request, questions[1:])
    answered = request.answer(questions, text)
    if answered is None:
        return None
    others = questions[:answered] + questions[answered + 1 :]
    request.take(other_products(text, questions[answered]), last_added(tracker))
    return finish(dispatcher, request, others)


def other_products(text: str, question: dict[str, Any]) -> ParsedRequest:
    """Products asked for alongside an answer: the loaf in "semi-skimmed, and a
    loaf". Words that describe the candidates themselves ("in tomato sauce",
    for beans) are part of the answer, not a new request."""
    index = shop().index
    candidates = [
        index.by_sku[s] for s in question.get("skus", []) if s in index.by_sku
    ]
    described = set().union(*(index.keywords[p.sku] for p in candidates))
    parsed = parse_request(text, index)
    extra = ParsedRequest()
    for item in parsed.items:
        if item.match is None or {p.sku for p in item.match.products} & {
            p.sku for p in candidates
        }:
            continue
        if set(content_words(item.said)) <= described:
            continue
        extra.items.append(item)
    return extra


def add_items(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[Any]:
    """Add what the message asks for, asking about whatever is unclear."""
    the_shop = shop()
    request = new_request(tracker)
    questions = pending_questions(tracker)
    parsed = parse_request(latest_text(tracker), the_shop.index)
    if questions and parsed.items and all(i.refers_to_last for i in parsed.items):
        # "Another one of those" while a question is open: ask it again.
        dispatcher.utter_message(
            text="Sorry, I'm not sure which you mean. "
            + ask(questions[0], the_shop.index)
        )
        return []
    request.take(parsed, last_added(tracker))
    if not (request.changed or request.questions or request.notes):
        if questions:
            dispatcher.utter_message(
                text="Sorry, I didn't follow. " + ask(questions[0], the_shop.index)
            )
            return []
        dispatcher.utter_message(text=NOTHING_FOUND)
        return []
    return finish(dispatcher, request, questions)


class ActionAddItems(Action):
    def name(self) -> str:
        return "action_add_items"

    def run(self, dispatcher, tracker, domain):
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        return add_items(dispatcher, tracker)


def named_lines(
    tracker: Tracker, text: str
) -> tuple[list[BasketLine], list[BasketLine], bool]:
    """The basket lines a remove or change request names, and the whole basket.

    Returns:
        The lines meant, every line, and whether the message named a product
        (as opposed to "that" or "it", which mean the last one added).
    """
    the_shop = shop()
    lines = basket_lines(the_shop.db, tracker.sender_id)
    parsed = parse_request(text, the_shop.index)
    named = [item for item in parsed.items if item.match is not None]
    wanted: list[BasketLine] = []
    for item in named:
        skus = {p.sku for p in item.match.products}
        wanted.extend(
            line for line in lines if line.product.sku in skus and line not in wanted
        )
    if not named:
        recent = last_added(tracker)
        wanted = [line for line in lines if line.product.sku in recent]
        if not wanted and len(lines) == 1:
            wanted = lines
    return wanted, lines, bool(named)


def which_line_question(
    lines: list[BasketLine], quantity: int, purpose: str
) -> dict[str, Any]:
    return choose_question([line.product for line in lines], quantity, "one", purpose)


def quantity_wanted(text: str, line: BasketLine) -> int | None:
    """The new quantity a change request asks for, or None if it names none."""
    lowered = text.lower()
    without_corrections = CORRECTED_NUMBER.sub(" ", lowered)
    numbers = numbers_said(without_corrections)
    if DOUBLE_WORDS.search(lowered):
        return line.quantity * 2
    if FEWER_WORDS.search(lowered):
        return line.quantity - (numbers[-1] if numbers else 1)
    if MORE_WORDS.search(lowered):
        return line.quantity + (numbers[-1] if numbers else 1)
    return numbers[-1] if numbers else None


class ActionRemoveItem(Action):
    def name(self) -> str:
        return "action_remove_item"

    def run(self, dispatcher, tracker, domain):
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        text = latest_text(tracker)
        wanted, lines, _ = named_lines(tracker, text)
        if not lines:
            dispatcher.utter_message(
                text="Your basket is empty, so there's nothing to take out."
            )
            return [set_pending([])]
        if not wanted:
            dispatcher.utter_message(
                text="I couldn't find that in your basket. "
                + basket_summary(lines)
                + " Would you like me to read it to you?"
            )
            return [
                set_pending(
                    [
                        {
                            "kind": "read_basket",
                            "text": "Shall I read your basket to you?",
                        }
                    ]
                )
            ]
        request = new_request(tracker)
        numbers = numbers_said(CORRECTED_NUMBER.sub(" ", text.lower()))
        if len(wanted) == 1 and numbers and 0 < numbers[-1] < wanted[0].quantity:
            # "Take one of the soups off": fewer, not none.
            request.set_to(wanted[0].product.sku, wanted[0].quantity - numbers[-1])
        else:
            for line in wanted:
                request.set_to(line.product.sku, 0)
        return finish(dispatcher, request, [])


class ActionChangeQuantity(Action):
    def name(self) -> str:
        return "action_change_quantity"

    def run(self, dispatcher, tracker, domain):
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        text = latest_text(tracker)
        wanted, lines, named = named_lines(tracker, text)
        if named and not wanted:
            # "One bananas, two lemons" names nothing in the basket: an order.
            return add_items(dispatcher, tracker)
        if not lines:
            dispatcher.utter_message(
                text="Your basket is empty at the moment. What would you like?"
            )
            return [set_pending([])]
        if not wanted:
            dispatcher.utter_message(
                text="Which item would you like to change? " + basket_summary(lines)
            )
            return []
        if len(wanted) > 1:
            quantity = quantity_wanted(text, wanted[0])
            if quantity is None:
                quantity = 1
            question = which_line_question(wanted, quantity, "set")
            dispatcher.utter_message(text=ask(question, shop().index))
            return [set_pending([question])]
        line = wanted[0]
        quantity = quantity_wanted(text, line)
        if quantity is None:
            dispatcher.utter_message(
                text=f"How many {line.product.name} would you like? You have "
                f"{line.quantity} at the moment."
            )
            return [SlotSet("last_added", [line.product.sku])]
        request = new_request(tracker)
        request.set_to(line.product.sku, quantity)
        return finish(dispatcher, request, [])


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
        return [
            set_pending(
                [{"kind": "confirm_empty", "text": "Shall I empty your basket?"}]
            )
        ]


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
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        the_shop = shop()
        parsed = parse_request(latest_text(tracker), the_shop.index)
        items = [i for i in parsed.items if i.match is not None]
        if not items:
            phrase = parsed.unknown[0] if parsed.unknown else ""
            closest = the_shop.index.closest(phrase, 1) if phrase else []
            if closest:
                question = {
                    "kind": "suggest",
                    "sku": closest[0].sku,
                    "quantity": 1,
                    "asked": phrase,
                }
                dispatcher.utter_message(text=ask(question, the_shop.index))
                return [set_pending([question])]
            dispatcher.utter_message(
                text="Which product would you like to know about? Tell me its "
                'name, for example "tea bags".'
            )
            return []
        match = items[0].match
        if match.is_unique:
            product = match.products[0]
            question = {"kind": "suggest", "sku": product.sku, "quantity": 1}
            text = ask(question, the_shop.index)
            in_basket = [
                line
                for line in basket_lines(the_shop.db, tracker.sender_id)
                if line.product.sku == product.sku
            ]
            if in_basket:
                text += f" You already have {in_basket[0].quantity} in your basket."
            dispatcher.utter_message(text=text)
            return [set_pending([question])]
        shown = match.products[:4]
        listed = "; ".join(f"{p.name}, {p.size}, {money(p.price_pence)}" for p in shown)
        more = " and others" if len(match.products) > len(shown) else ""
        question = choose_question(list(match.products), 1, items[0].said)
        dispatcher.utter_message(
            text=f"We have {listed}{more}. " + ask(question, the_shop.index)
        )
        return [set_pending([question])]
