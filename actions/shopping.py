"""Turning a shopping request into basket changes and the questions they need."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from assistant.basket import basket_lines, change_basket, quantity_in_basket
from assistant.catalogue import Product
from assistant.choosing import make_choice, narrow, narrow_by_words
from assistant.config import Settings
from assistant.matching import Match, ProductIndex
from assistant.orders import ordered_before
from assistant.parsing import ParsedRequest
from assistant.wording import basket_summary, describe_product, join_words, money

# A "which one?" question remembers at most this many candidates.
MAX_CANDIDATES = 16
# Answers are matched against this many of the open questions, newest first.
MAX_OPEN_CHOICES = 3


def products_of(question: dict[str, Any], index: ProductIndex) -> list[Product]:
    return [index.by_sku[s] for s in question.get("skus", []) if s in index.by_sku]


def choose_question(
    products: list[Product], quantity: int, said: str, purpose: str = "add"
) -> dict[str, Any]:
    """A "which one?" question; `purpose` is what happens to the answer:
    "add" adds `quantity`, "set" makes the line `quantity`, "remove" takes it out.
    """
    return {
        "kind": "choose",
        "skus": [p.sku for p in products[:MAX_CANDIDATES]],
        "quantity": quantity,
        "said": said,
        "purpose": purpose,
    }


def ask(question: dict[str, Any], index: ProductIndex) -> str:
    """The words of a pending question."""
    kind = question["kind"]
    if kind == "choose":
        products = products_of(question, index)
        if products:
            return make_choice(products, question.get("said", "")).question()
    product = index.by_sku.get(question.get("sku", ""))
    if kind == "confirm_large" and product:
        return (
            f"Just to check: did you want {question['quantity']} of "
            f"{product.name}, {product.size}? That's more than usual. "
            "Please say yes or no."
        )
    if kind == "suggest" and product:
        if question.get("asked"):
            return (
                f"I'm sorry, I couldn't find \"{question['asked']}\". The "
                f"closest I have is {product.name}, {product.size}, at "
                f"{money(product.price_pence)}. Would you like that?"
            )
        return (
            f"We have {product.name}, {product.size}, at "
            f"{money(product.price_pence)}. Would you like some?"
        )
    return question.get("text", "Please say yes or no.")


def same_question(first: dict[str, Any], second: dict[str, Any]) -> bool:
    keys = ("kind", "skus", "sku", "order_id")
    return all(first.get(k) == second.get(k) for k in keys)


class BasketRequest:
    """Works through a parsed request: adds what is clear, queues questions."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        index: ProductIndex,
        resident_id: str,
        settings: Settings,
    ) -> None:
        self.db = db
        self.index = index
        self.resident_id = resident_id
        self.large = settings.large_quantity
        self.most = settings.max_quantity
        self.added: list[tuple[str, int]] = []
        self.quantities: list[tuple[str, int]] = []
        self.usual_added: set[str] = set()
        self.notes: list[str] = []
        self.questions: list[dict[str, Any]] = []

    @property
    def added_skus(self) -> list[str]:
        return [sku for sku, _ in self.added]

    def add(self, sku: str, quantity: int, confirmed: bool = False) -> None:
        """Add a product, unless the quantity needs a question or a gentle no."""
        product = self.index.by_sku[sku]
        if quantity <= 0:
            return
        if quantity > self.most:
            self.notes.append(
                f"I can add up to {self.most} of one thing, so I haven't added "
                f"{quantity} {product.name}. Tell me a smaller number, or ask for "
                "a person if you need a lot."
            )
            return
        if quantity > self.large and not confirmed:
            self.questions.append(
                {"kind": "confirm_large", "sku": sku, "quantity": quantity}
            )
            return
        self.added.append((sku, quantity))

    def set_to(self, sku: str, quantity: int, confirmed: bool = False) -> None:
        """Make a basket line `quantity` (zero takes it out), with the same checks."""
        product = self.index.by_sku[sku]
        current = quantity_in_basket(self.db, self.resident_id, sku)
        if quantity > self.most:
            self.notes.append(
                f"I can add up to {self.most} of one thing. You still have "
                f"{current} {product.name}."
            )
            return
        if quantity > self.large and quantity > current and not confirmed:
            self.questions.append(
                {
                    "kind": "confirm_large",
                    "sku": sku,
                    "quantity": quantity,
                    "purpose": "set",
                }
            )
            return
        self.quantities.append((sku, max(quantity, 0)))

    def usual_choice(self, products: tuple[Product, ...]) -> Product | None:
        """The one candidate the resident has ordered most often, if there is one."""
        history = ordered_before(self.db, self.resident_id)
        counts = sorted(
            ((history[p.sku], p) for p in products if p.sku in history),
            key=lambda pair: -pair[0],
        )
        if not counts or (len(counts) > 1 and counts[0][0] == counts[1][0]):
            return None
        return counts[0][1]

    def take_match(self, match: Match, quantity: int, said: str = "") -> None:
        if match.is_unique:
            self.add(match.products[0].sku, quantity)
            return
        in_basket = [
            p
            for p in match.products
            if quantity_in_basket(self.db, self.resident_id, p.sku)
        ]
        if len(in_basket) == 1:
            self.add(in_basket[0].sku, quantity)
            return
        usual = self.usual_choice(match.products)
        if usual is not None:
            self.usual_added.add(usual.sku)
            self.add(usual.sku, quantity)
            return
        self.questions.append(
            choose_question(list(match.products), quantity, said or match.words)
        )

    def take(self, parsed: ParsedRequest, last_added: list[str]) -> None:
        """Act on every product in a parsed message."""
        for item in parsed.items:
            if item.refers_to_last:
                self.take_reference(item.quantity, last_added)
            elif item.match is not None:
                self.take_match(item.match, item.quantity, item.said)
        for phrase in parsed.unknown:
            closest = self.index.closest(phrase, limit=1)
            if closest:
                self.questions.append(
                    {
                        "kind": "suggest",
                        "sku": closest[0].sku,
                        "quantity": 1,
                        "asked": phrase,
                    }
                )
            else:
                self.notes.append(
                    f"I'm sorry, I couldn't find \"{phrase}\" in our shop. A "
                    "volunteer can help with anything unusual: just ask for a "
                    "person."
                )

    def take_reference(self, quantity: int, last_added: list[str]) -> None:
        """ "Another one of those": the product added last, or a question."""
        known = [sku for sku in last_added if sku in self.index.by_sku]
        if len(known) == 1:
            self.add(known[0], quantity)
        elif known:
            products = [self.index.by_sku[sku] for sku in known]
            self.questions.append(choose_question(products, quantity, "one"))
        else:
            self.notes.append(
                "I'm not sure which product you mean. Could you tell me its name?"
            )

    def answer(self, questions: list[dict[str, Any]], text: str) -> int | None:
        """Take `text` as the answer to one of the open "which one?" questions.

        The question just asked comes first, but an answer that fits an earlier
        question with more of its words ("medium white" while asked about eggs
        after a loaf) answers that one.

        Returns:
            The position of the question answered, or None if none was. When
            one product is still not enough, a narrower question is queued.
        """
        usual = set(ordered_before(self.db, self.resident_id))
        best: tuple[int, int, list[Product]] | None = None
        for position, question in enumerate(questions[:MAX_OPEN_CHOICES]):
            products = products_of(question, self.index)
            if question["kind"] != "choose" or not products:
                continue
            if position == 0:
                choice = make_choice(products, question.get("said", ""))
                left = narrow(products, choice, text, self.index, usual)
                score = narrow_by_words(products, text, self.index)[1]
            else:
                left, score = narrow_by_words(products, text, self.index)
            if not left or len(left) == len(products):
                continue
            if best is None or (score > best[1] and score >= 2):
                best = (position, score, left)
        if best is None:
            return None
        position, _, left = best
        question = questions[position]
        purpose = question.get("purpose", "add")
        if len(left) > 1:
            self.questions.append(
                choose_question(
                    left, question["quantity"], question.get("said", ""), purpose
                )
            )
        elif purpose == "add":
            self.add(left[0].sku, question["quantity"])
        elif purpose == "remove":
            self.set_to(left[0].sku, 0)
        else:
            self.set_to(left[0].sku, question["quantity"])
        return position

    @property
    def changed(self) -> bool:
        return bool(self.added or self.quantities)

    def commit(self) -> None:
        """Make every change at once: the basket is never half-changed."""
        if self.changed:
            change_basket(self.db, self.resident_id, self.added, self.quantities)

    def summary(self) -> str:
        """What was added or changed, with the basket's new total."""
        if not self.changed:
            return ""
        sentences = []
        described = []
        for sku, quantity in self.added:
            text = describe_product(self.index.by_sku[sku], quantity)
            if sku in self.usual_added:
                text += " (your usual)"
            described.append(text)
        if described:
            sentences.append(f"I've added {join_words(described)}.")
        removed = [self.index.by_sku[sku].name for sku, q in self.quantities if q <= 0]
        if removed:
            sentences.append(f"I've taken out the {join_words(removed)}.")
        for sku, quantity in self.quantities:
            if quantity > 0:
                product = self.index.by_sku[sku]
                sentences.append(f"That's now {describe_product(product, quantity)}.")
        lines = basket_lines(self.db, self.resident_id)
        if lines:
            sentences.append(basket_summary(lines))
        else:
            sentences.append("Your basket is empty now.")
        return " ".join(sentences)
