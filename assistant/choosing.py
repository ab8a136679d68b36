"""Asking which of several products a resident means, and reading the answer.

A question offers varieties first ("semi-skimmed, whole or skimmed?") and
sizes only once the variety is known, so no question has more than a few
choices. An answer narrows the candidates; it may take more than one answer
to reach a single product, and an answer that says nothing about the choices
narrows nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.catalogue import Product
from assistant.matching import ProductIndex, content_words
from assistant.wording import join_words
from assistant.words import NUMBER_WORDS, STOPWORDS, canonical_tokens

MAX_SHOWN = 4

ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "top": 0,
}
DIGITS = {"1": 0, "2": 1, "3": 2, "4": 3, "one": 0, "two": 1, "three": 2, "four": 3}
ANY_WILL_DO = re.compile(
    r"\b(usual|normal|ordinary|standard|regular|any|either|whichever|"
    r"(do ?n.?t|doesn.?t|does not|do not) (mind|matter|care)|up to you|"
    r"you (choose|pick|decide))\b"
)
CHEAPEST = re.compile(r"\b(cheap|cheapest|cheaper|least expensive|lowest price)\b")
BIGGEST = re.compile(r"\b(big|biggest|bigger|large|largest|larger|most)\b")
SMALLEST = re.compile(r"\b(small|smallest|smaller|little|least|tiny)\b")

# How much of something a size holds, in grams, millilitres or items.
UNIT_AMOUNTS = {
    "kg": 1000.0,
    "g": 1.0,
    "l": 1000.0,
    "litre": 1000.0,
    "litres": 1000.0,
    "ml": 1.0,
    "pint": 568.0,
    "pints": 568.0,
}
SIZE_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(kg|g|litres?|l|ml|pints?)\b")
MULTIPACK = re.compile(r"(\d+)\s*x\s*")
COUNT = re.compile(r"(\d+)\s*(pack|bags|rolls|sachets|washes|pair)\b")


@dataclass(frozen=True)
class Option:
    """One choice offered in a question, covering one or more products."""

    label: str
    skus: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """A "which one?" question: the candidates and what is shown of them."""

    noun: str
    options: tuple[Option, ...]
    more: bool
    by_size: bool

    def question(self) -> str:
        """ "Which milk would you like: semi-skimmed, whole or skimmed?"."""
        labels = [option.label for option in self.options]
        if self.more:
            listed = f"{', '.join(labels)}, or something else"
        else:
            listed = join_words(labels, "or")
        if self.by_size:
            return f"Which size of {self.noun} would you like: {listed}?"
        return f"Which {self.noun} would you like: {listed}?"


def size_amount(size: str) -> float | None:
    """How much a size holds, to compare "biggest" and "smallest"."""
    text = size.lower()
    packs = MULTIPACK.match(text)
    multiplier = int(packs.group(1)) if packs else 1
    found = SIZE_AMOUNT.search(text)
    if found:
        return multiplier * float(found.group(1)) * UNIT_AMOUNTS[found.group(2)]
    counted = COUNT.search(text)
    if counted:
        return float(counted.group(1))
    return None


def varieties(products: Sequence[Product]) -> list[list[Product]]:
    """Products grouped by name, in the order they first appear."""
    groups: dict[str, list[Product]] = {}
    for product in products:
        groups.setdefault(product.name.lower(), []).append(product)
    return list(groups.values())


def name_words(product: Product) -> list[str]:
    return re.findall(r"[\w%'-]+|&", product.name.lower())


def common_name(products: Sequence[Product]) -> str:
    """The words every name shares, in the first name's order: "baked beans"."""
    shared = set.intersection(*(set(canonical_tokens(p.name)) for p in products))
    words = [
        w
        for w in name_words(products[0])
        if canonical_tokens(w) and all(t in shared for t in canonical_tokens(w))
    ]
    return " ".join(words)


def variety_label(group: list[Product], shared: set[str]) -> str:
    """What tells one variety from the others: "semi-skimmed", "whole"."""
    words = [
        w
        for w in name_words(group[0])
        if not all(t in shared for t in canonical_tokens(w))
    ]
    label = " ".join(words) if words else group[0].name.lower()
    return label.replace(" & ", " and ")


def make_choice(products: Sequence[Product], said: str) -> Choice:
    """The question to ask about `products`, which `said` did not tell apart."""
    groups = varieties(products)
    noun = common_name(products)
    heads = {name_words(p)[-1] for p in products if name_words(p)}
    if not noun or noun.split()[-1] not in heads:
        # "frozen" is what frozen peas share, but it is no name for them.
        noun = said or noun
    if len(groups) == 1:
        shown = products[:MAX_SHOWN]
        options = tuple(Option(p.size, (p.sku,)) for p in shown)
        return Choice(
            groups[0][0].name.lower(), options, len(products) > MAX_SHOWN, True
        )
    shared = set.intersection(*(set(canonical_tokens(p.name)) for p in products))
    shown = groups[:MAX_SHOWN]
    labels = [variety_label(group, shared) for group in shown]
    options = []
    for label, group in zip(labels, shown, strict=True):
        if labels.count(label) > 1:
            # Names that differ only in words we leave out: the size tells them apart.
            label = f"{label}, {group[0].size}"
        options.append(Option(label, tuple(p.sku for p in group)))
    return Choice(noun, tuple(options), len(groups) > MAX_SHOWN, False)


def words_of_product(product: Product, index: ProductIndex) -> set[str]:
    """Every word a product is known by: name, everyday names and size."""
    return set(index.keywords.get(product.sku, ())) | own_words(product)


def own_words(product: Product) -> set[str]:
    """The words of a product's own name and size, as the question shows them."""
    return set(content_words(product.name)) | set(canonical_tokens(product.size))


def answer_words(text: str, index: ProductIndex) -> set[str]:
    """The answer's telling words, with misspellings of catalogue words corrected.

    Words of conversation and number words ("one", "half") are left out; digits
    stay, because "2 pints" or "400g" can pick a size.
    """
    found = set()
    for word in canonical_tokens(text):
        if word in STOPWORDS or word in NUMBER_WORDS or word == "half":
            continue
        found.add(word)
        corrected = index.correct(word)
        if corrected:
            found.add(corrected)
    return found


def narrow_by_words(
    products: list[Product], text: str, index: ProductIndex
) -> tuple[list[Product], int]:
    """The products the answer's own words point to, and how many words did.

    The words of the names and sizes, which the question showed, count first;
    everyday names only when those tell nothing apart.

    Returns:
        The closest products (empty if the words point to none) and the number
        of the answer's words that tell the candidates apart.
    """
    said = answer_words(text, index)
    for words_of in (own_words, lambda p: words_of_product(p, index)):
        sets = [words_of(p) for p in products]
        specific = set.union(*sets) - set.intersection(*sets)
        telling = said & specific
        scores = [len(telling & words) for words in sets]
        best = max(scores, default=0)
        if best:
            tied = [p for p, n in zip(products, scores, strict=True) if n == best]
            return plainest(tied, telling), best
    return [], 0


def plainest(tied: list[Product], said: set[str]) -> list[Product]:
    """Among products the answer fits equally, the plain one when there is one:
    "semi-skimmed" means Semi-Skimmed Milk, not the lactose-free kind."""
    shared = set.intersection(*(set(content_words(p.name)) for p in tied))

    def extra_words(product: Product) -> int:
        return len(set(content_words(product.name)) - shared - said)

    fewest = min(extra_words(p) for p in tied)
    plain = [p for p in tied if extra_words(p) == fewest]
    if len({p.name for p in plain}) == 1:
        return plain
    return tied


def picked_option(text: str, choice: Choice) -> Option | None:
    """The option chosen by position: "the second one", "number 2", "the last"."""
    lowered = text.lower()
    words = re.findall(r"[a-z0-9]+", lowered)
    for word in words:
        if word in ORDINALS and ORDINALS[word] < len(choice.options):
            return choice.options[ORDINALS[word]]
    if "last" in words:
        return choice.options[-1]
    spoken = re.search(r"\b(?:number|no)\s+(\w+)", lowered)
    if spoken and spoken.group(1) in DIGITS:
        position = DIGITS[spoken.group(1)]
        return choice.options[position] if position < len(choice.options) else None
    if len(words) == 1 and words[0] in DIGITS and not choice.by_size:
        position = DIGITS[words[0]]
        return choice.options[position] if position < len(choice.options) else None
    return None


def narrow(
    products: list[Product],
    choice: Choice,
    text: str,
    index: ProductIndex,
    usual: set[str] | None = None,
) -> list[Product]:
    """The candidates left after an answer; empty if it did not answer.

    Args:
        products: every candidate of the question, not only those shown.
        choice: the question as it was asked.
        text: the resident's answer.
        index: the catalogue index, to correct misspellings.
        usual: skus the resident has ordered before, for "the usual".
    """
    by_words, _ = narrow_by_words(products, text, index)
    if by_words:
        return by_words
    by_sku = {p.sku: p for p in products}
    option = picked_option(text, choice)
    if option is not None:
        return [by_sku[s] for s in option.skus if s in by_sku]
    lowered = text.lower()
    shown = [by_sku[s] for option in choice.options for s in option.skus if s in by_sku]
    if CHEAPEST.search(lowered):
        cheapest = min(p.price_pence for p in shown)
        return [p for p in shown if p.price_pence == cheapest]
    amounts = {p.sku: size_amount(p.size) for p in shown}
    measured = [p for p in shown if amounts[p.sku] is not None]
    if measured and BIGGEST.search(lowered):
        return [max(measured, key=lambda p: amounts[p.sku] or 0)]
    if measured and SMALLEST.search(lowered):
        return [min(measured, key=lambda p: amounts[p.sku] or 0)]
    if ANY_WILL_DO.search(lowered):
        known = [p for p in products if usual and p.sku in usual]
        if known:
            return known[:1]
        return [by_sku[s] for s in choice.options[0].skus if s in by_sku][:1]
    return []
