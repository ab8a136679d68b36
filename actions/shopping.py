"""Turning a shopping request into basket changes and the questions they need."""

from __future__ import annotations

import re
from typing import Any

from assistant.basket import add_to_basket, basket_lines, quantity_in_basket
from assistant.matching import MAX_OPTIONS, Match, ProductIndex, distinguishing_labels
from assistant.parsing import ParsedRequest
from assistant.wording import describe_product, join_words, money
from assistant.words import tokens

ORDINALS = {"first": 0, "1": 0, "one": 0, "second": 1, "2": 1, "two": 1,
            "third": 2, "3": 2, "three": 2, "fourth": 3, "4": 3, "four": 3}


def choice_question(question: dict[str, Any], index: ProductIndex) -> str:
    """"Which milk would you like: semi-skimmed, whole or skimmed?"."""
    products = tuple(index.by_sku[s] for s in question["skus"] if s in index.by_sku)
    labels = distinguishing_labels(products)
    if question.get("more"):
        return (f"Which {question['words']} would you like: "
                f"{join_words(labels, 'or')}, or something else?")
    return f"Which {question['words']} would you like: {join_words(labels, 'or')}?"


def ask(question: dict[str, Any], index: ProductIndex) -> str:
    """The words of a pending question."""
    kind = question["kind"]
    if kind == "choose":
        return choice_question(question, index)
    product = index.by_sku.get(question.get("sku", ""))
    if kind == "confirm_large" and product:
        return (f"Just to check: did you want {question['quantity']} of "
                f"{product.name}, {product.size}? That's more than usual. "
                "Please say yes or no.")
    if kind == "suggest" and product:
        if question.get("asked"):
            return (f"I'm sorry, I couldn't find \"{question['asked']}\". The "
                    f"closest I have is {product.name}, {product.size}, at "
                    f"{money(product.price_pence)}. Would you like that?")
        return (f"We have {product.name}, {product.size}, at "
                f"{money(product.price_pence)}. Would you like some?")
    return question.get("text", "Please say yes or no.")


def choose_from(text: str, question: dict[str, Any], index: ProductIndex) -> str | None:
    """The option a reply such as "semi-skimmed" or "the second one" picks."""
    skus = [s for s in question["skus"] if s in index.by_sku]
    products = [index.by_sku[s] for s in skus]
    words = [index.correct(w) or w for w in tokens(text)]
    labels = distinguishing_labels(tuple(products))
    label_words = [set(tokens(label)) for label in labels]
    scores = []
    for product, own in zip(products, label_words, strict=True):
        keywords = index.keywords[product.sku]
        shared = set.intersection(*(set(index.keywords[s]) for s in skus))
        specific = [w for w in words if (w in keywords and w not in shared)
                    or w in own]
        scores.append(len(specific))
    best = max(scores, default=0)
    if best > 0 and scores.count(best) == 1:
        return skus[scores.index(best)]
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in ORDINALS and ORDINALS[word] < len(skus) and (
            word.isalpha() and word not in ("one", "two", "three", "four")
            or "one" in text.lower() or len(text.split()) == 1
        ):
            return skus[ORDINALS[word]]
    if "last" in text.lower().split():
        return skus[-1]
    return None


class BasketRequest:
    """Works through a parsed request: adds what is clear, queues questions."""

    def __init__(self, db, index: ProductIndex, resident_id: str, settings) -> None:
        self.db = db
        self.index = index
        self.resident_id = resident_id
        self.large = settings.large_quantity
        self.most = settings.max_quantity
        self.added: list[tuple[str, int]] = []
        self.notes: list[str] = []
        self.questions: list[dict[str, Any]] = []
        self.last_sku: str | None = None

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
        self.last_sku = sku

    def take_match(self, match: Match, quantity: int) -> None:
        if match.is_unique:
            self.add(match.products[0].sku, quantity)
            return
        in_basket = [
            p for p in match.products
            if quantity_in_basket(self.db, self.resident_id, p.sku)
        ]
        if len(in_basket) == 1:
            self.add(in_basket[0].sku, quantity)
            return
        options = match.products[:MAX_OPTIONS]
        self.questions.append({
            "kind": "choose", "words": match.words,
            "skus": [p.sku for p in options], "quantity": quantity,
            "more": len(match.products) > MAX_OPTIONS,
        })

    def take(self, parsed: ParsedRequest, last_sku: str | None) -> None:
        for item in parsed.items:
            if item.refers_to_last:
                if last_sku and last_sku in self.index.by_sku:
                    self.add(last_sku, item.quantity)
                else:
                    self.notes.append(
                        "I'm not sure which product you mean. Could you tell me "
                        "its name?"
                    )
            elif item.match is not None:
                self.take_match(item.match, item.quantity)
        for phrase in parsed.unknown:
            closest = self.index.closest(phrase, limit=1)
            if closest:
                self.questions.append({
                    "kind": "suggest", "sku": closest[0].sku, "quantity": 1,
                    "asked": phrase,
                })
            else:
                self.notes.append(
                    f"I'm sorry, I couldn't find \"{phrase}\" in our shop. A "
                    "volunteer can help with anything unusual: just ask for a "
                    "person."
                )

    def commit(self) -> None:
        if self.added:
            add_to_basket(self.db, self.resident_id, self.added)

    def summary(self) -> str:
        """What was added, with the basket's new total."""
        if not self.added:
            return ""
        described = [
            describe_product(self.index.by_sku[sku], quantity)
            for sku, quantity in self.added
        ]
        lines = basket_lines(self.db, self.resident_id)
        total = sum(line.total_pence for line in lines)
        return (f"I've added {join_words(described)}. "
                f"Your basket comes to {money(total)}.")
