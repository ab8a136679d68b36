"""A simulated resident: one ordering conversation, in words that vary by seed.

A conversation greets, asks for four products in everyday words, answers each
"which one?" question, hears the basket read back, changes a quantity, asks
to place the order and says yes. It reads the assistant's replies, so it
answers the questions the assistant actually asks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

GREETINGS = (
    "hello",
    "hi there",
    "good morning",
    "hello dear, it's me again",
    "afternoon",
)
# Each names a product the assistant finds without asking, and a change to it.
CHANGEABLE = (
    ("two tins of tomato soup please", "make the soup three"),
    ("a jar of clear honey", "could you make the honey two"),
    ("4 tins of chopped tomatoes", "one less of the tomatoes"),
    ("a box of cornflakes please", "make the cornflakes two"),
    ("a packet of digestive biscuits", "actually make that two digestives"),
)
REQUESTS = (
    "can I have a pint of milk",
    "a loaf of bread please",
    "half a dozen eggs",
    "I'd like some butter as well",
    "a couple of tins of baked beans please",
    "a bag of spuds",
    "some bananas",
    "I need some teabags",
    "some cheddar cheese",
    "and a bottle of orange juice",
    "a small loaf",
    "a jar of strawberry jam",
    "some porridge oats",
    "a tin of rice pudding",
)
ANSWERS = (
    "the first one",
    "the second one",
    "the cheapest",
    "I don't mind",
    "the big one",
)
READ_BACKS = (
    "what's in my basket?",
    "read my basket back to me please",
    "what have I got so far?",
)
PLACE_ORDERS = (
    "that's everything, place my order",
    "I'd like to order now please",
    "send my order",
)
YESES = ("yes please", "yes", "yes that's right")

QUESTION_MARK = "would you like:"
CONFIRMATION_MARK = "Shall I place this order"
PLACED_MARK = "order number"
# Every handoff says this; the resident then waits for the volunteer.
HANDOFF_MARK = "asked a volunteer"
# A resident who keeps being asked moves on rather than answer for ever.
MOST_ANSWERS_PER_REQUEST = 3
MOST_ORDER_ATTEMPTS = 2
PRODUCTS_PER_CONVERSATION = 4


@dataclass
class ShoppingConversation:
    """What one resident says next, given what the assistant last replied."""

    seed: int
    plan: list[str] = field(default_factory=list)
    order_attempts: int = 0
    answers_in_a_row: int = 0
    placed: bool = False
    handed_off: bool = False
    finished: bool = False

    def __post_init__(self) -> None:
        chooser = random.Random(self.seed)
        request, change = chooser.choice(CHANGEABLE)
        others = chooser.sample(REQUESTS, PRODUCTS_PER_CONVERSATION - 1)
        products = [request, *others]
        chooser.shuffle(products)
        self.chooser = chooser
        self.plan = [
            chooser.choice(GREETINGS),
            *products,
            chooser.choice(READ_BACKS),
            change,
            "place",
        ]

    def next_message(self, last_reply: str | None) -> str | None:
        """The resident's next message, or None when the conversation is over."""
        reply = last_reply or ""
        if PLACED_MARK in reply:
            self.placed = True
            self.finished = True
            return None
        if HANDOFF_MARK in reply:
            self.handed_off = True
            self.finished = True
            return None
        if CONFIRMATION_MARK in reply:
            return self.chooser.choice(YESES)
        if QUESTION_MARK in reply and self.answers_in_a_row < MOST_ANSWERS_PER_REQUEST:
            self.answers_in_a_row += 1
            return self.chooser.choice(ANSWERS)
        self.answers_in_a_row = 0
        if self.plan and self.plan[0] == "place":
            if self.order_attempts >= MOST_ORDER_ATTEMPTS:
                self.finished = True
                return None
            self.order_attempts += 1
            return self.chooser.choice(PLACE_ORDERS)
        if not self.plan:
            self.finished = True
            return None
        return self.plan.pop(0)


def joined(replies: Sequence[str]) -> str:
    return " ".join(replies)
