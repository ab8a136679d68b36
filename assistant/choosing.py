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
from assistant.parsing import by_container, classify, heard, read_amounts
from assistant.sizes import parse_size
from assistant.wording import join_words
from assistant.words import NUMBER_WORDS, STOPWORDS, canonical_tokens, singular, tokens

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
    r"\b(normal|ordinary|standard|regular|plain|any|either|whichever|"
    r"(do ?n.?t|doesn.?t|does not|do not) (mind|matter|care)|up to you|"
    r"you (choose|pick|decide))\b"
)
USUAL = re.compile(
    r"\b(usual|same as (last time|before|always|normal)|last time|"
    r"(always|normally|usually) (have|get|buy|order)|my normal)\b"
)
# Products for a special diet are offered when asked for, never picked for
# someone who asked for "the cheapest" or "whichever".
FREE_FROM = re.compile(r"\b(gluten|lactose|dairy|sugar|alcohol|caffeine)[ -]free\b")
CHEAPEST = re.compile(r"\b(cheap|cheapest|cheaper|least expensive|lowest price)\b")
BIGGEST = re.compile(r"\b(big|biggest|bigger|large|largest|larger|most)\b")
SMALLEST = re.compile(r"\b(small|smallest|smaller|little|least|tiny)\b")


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
    shown = groups[:MAX_SHOWN]
    # Words every choice shown shares go unsaid: "pork, cumberland or beef",
    # not "pork sausages, cumberland sausages or beef sausages".
    shared = set.intersection(
        *(set(canonical_tokens(group[0].name)) for group in shown)
    ) | set.intersection(*(set(canonical_tokens(p.name)) for p in products))
    labels = [variety_label(group, shared) for group in shown]
    options = []
    for label, group in zip(labels, shown, strict=True):
        if labels.count(label) > 1:
            # Names that differ only in words we leave out: the size tells them apart.
            label = f"{label}, {group[0].size}"
        options.append(Option(label, tuple(p.sku for p in group)))
    return Choice(noun, tuple(options), len(groups) > MAX_SHOWN, False)


def own_words(product: Product) -> set[str]:
    """The words of a product's own name, as the question shows them."""
    return set(content_words(product.name))


def alias_words(product: Product, index: ProductIndex) -> set[str]:
    return set(index.keywords.get(product.sku, ()))


def answer_words(text: str, index: ProductIndex) -> set[str]:
    """The answer's telling words, with misspellings of catalogue words corrected.

    Words of conversation and number words ("one", "half") are left out: sizes
    and positions are read separately.
    """
    found = set()
    for word in canonical_tokens(text):
        if word in STOPWORDS or word in NUMBER_WORDS or word == "half":
            continue
        if word.isdigit():
            continue
        found.add(word)
        corrected = index.correct(word)
        if corrected:
            found.add(corrected)
        found.update(split_compound(word, index))
    return found


def split_compound(word: str, index: ProductIndex) -> list[str]:
    """ "wholemilk" as "whole" and "milk", when both halves are catalogue words."""
    if len(word) < 7 or word in index.vocabulary:
        return []
    for cut in range(3, len(word) - 2):
        head, tail = word[:cut], singular(word[cut:])
        if head in index.vocabulary and tail in index.vocabulary:
            return [head, tail]
    return []


def phrase_words(text: str, product: Product, telling: set[str]) -> int:
    """How many words of the answer make up one of the product's own phrases
    that tells it apart: "full fat" for whole milk, "half loaf" for a small one."""
    said = " " + " ".join(canonical_tokens(text)) + " "
    best = 0
    for phrase in (product.name, *product.aliases):
        words = content_words(phrase)
        if len(words) > 1 and set(words) & telling and f" {' '.join(words)} " in said:
            best = max(best, len(words))
    return best


def sizes_said(text: str, index: ProductIndex, by_size: bool) -> tuple[list, int]:
    """The measures and pack count an answer gives: "2 pints", "a dozen", "200g".

    Returns:
        The measures (as Sizes) and the pack count, 0 when none was said. To a
        question about sizes, a bare number ("4") is the size.
    """
    raw = tokens(text)
    # "the big one": "one" here stands for the product, it counts nothing.
    raw = [
        w
        for n, w in enumerate(raw)
        if w not in ("one", "ones") or n == 0 and len(raw) > 1
    ]
    words = classify(heard(raw, index), index)
    amounts = read_amounts(words)
    measures = list(amounts.measures)
    # "the 2 pint one": with a size said, "one" is no count.
    pack = amounts.pack or amounts.times or (0 if measures else amounts.count) or 0
    if "multipack" in amounts.containers:
        pack = pack or -1
    return measures, pack if (pack > 1 or by_size or pack < 0) else 0


def size_fits(product: Product, measures: list, pack: int, by_size: bool) -> int:
    size = parse_size(product.size)
    score = 0
    for measure in measures:
        if size.same_measure(measure) or (
            measure.measure == "pint"
            and size.measure == "pint"
            and size.amount == measure.amount
        ):
            score += 1
    if pack < 0 and size.count > 1:
        score += 1  # "multipack"
    elif pack > 1 and size.count == pack:
        score += 1
    elif by_size and pack and size.amount == pack:
        score += 1  # "4" to "which size of milk?" is the 4 pints
    return score


def narrow_by_words(
    products: list[Product], text: str, index: ProductIndex, by_size: bool = False
) -> tuple[list[Product], int]:
    """The products the answer's words and sizes point to, and how strongly.

    A size said, or a word of a product's own name, counts most; the everyday
    names it goes by count too, less. Words every candidate shares tell
    nothing apart and do not count.

    Returns:
        The best-fitting products (empty if nothing fits) and their score.
    """
    said = answer_words(text, index)
    measures, pack = sizes_said(text, index, by_size)
    own = [own_words(p) for p in products]
    aliases = [alias_words(p, index) for p in products]
    own_specific = set.union(*own) - set.intersection(*own)
    alias_specific = set.union(*aliases) - set.intersection(*aliases)
    scores = []
    for product, mine, known in zip(products, own, aliases, strict=True):
        score = 3 * size_fits(product, measures, pack, by_size)
        score += 2 * len(said & mine & own_specific)
        score += len(said & known & alias_specific)
        score += 2 * phrase_words(text, product, alias_specific)
        scores.append(score)
    best = max(scores, default=0)
    if best == 0:
        return [], 0
    fitting = [p for p, n in zip(products, scores, strict=True) if n == best]
    return plainest(fitting, said, products), best


def plainest(
    fitting: list[Product], said: set[str], candidates: list[Product]
) -> list[Product]:
    """Among products the answer fits equally, the plain kind when exactly one
    kind is all the answer said: "semi-skimmed" is Semi-Skimmed Milk, not the
    lactose-free kind."""
    shared = set.intersection(*(own_words(p) for p in candidates))
    plain = [
        p
        for p in fitting
        if own_words(p) <= said | shared
        or said - shared
        and any(set(content_words(alias)) == said for alias in p.aliases)
    ]
    if plain and len({p.name for p in plain}) == 1 and len(plain) < len(fitting):
        return plain
    return fitting


POSITION_FILLER = {"the", "one", "ones", "please", "number", "no", "its", "it", "that"}


def picked_option(text: str, choice: Choice) -> Option | None:
    """The option chosen by position: "the second one", "number 2", "the last".

    Only an answer that says nothing but a position counts: "2 pints" is a
    size, not the second choice.
    """
    words = [w for w in tokens(text) if w not in POSITION_FILLER]
    if len(words) != 1:
        return None
    word = words[0]
    if word == "last":
        return choice.options[-1]
    if word in ORDINALS:
        position = ORDINALS[word]
    elif word in DIGITS and not choice.by_size:
        position = DIGITS[word]
    else:
        return None
    return choice.options[position] if position < len(choice.options) else None


def everyday(products: list[Product], lowered: str) -> list[Product]:
    """`products` without the free-from ones, unless the answer asked for them."""
    if FREE_FROM.search(lowered):
        return products
    kept = [p for p in products if not FREE_FROM.search(p.name.lower())]
    return kept or products


def extreme(products: list[Product], lowered: str) -> list[Product]:
    """The cheapest, biggest or smallest of `products`, if the answer asks."""
    if CHEAPEST.search(lowered) or BIGGEST.search(lowered) or SMALLEST.search(lowered):
        products = everyday(products, lowered)
    if CHEAPEST.search(lowered):
        cheapest = min(p.price_pence for p in products)
        return [p for p in products if p.price_pence == cheapest]
    if not (BIGGEST.search(lowered) or SMALLEST.search(lowered)):
        return products
    # Weights and volumes compare with each other, counts with counts; a loaf
    # sold "each" has no size to compare.
    measured = [p for p in products if parse_size(p.size).amount is not None]
    counted = [p for p in products if parse_size(p.size).count > 1]
    comparable = max((measured, counted), key=len)
    if not comparable:
        return products
    products = comparable
    totals = {p.sku: parse_size(p.size).total for p in products}
    if len(set(totals.values())) < 2:
        return products
    if BIGGEST.search(lowered):
        most = max(totals.values())
        return [p for p in products if totals[p.sku] == most]
    if SMALLEST.search(lowered):
        least = min(totals.values())
        return [p for p in products if totals[p.sku] == least]
    return products


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
    by_sku = {p.sku: p for p in products}
    option = picked_option(text, choice)
    if option is not None:
        return [by_sku[s] for s in option.skus if s in by_sku]
    lowered = text.lower()
    containers = {
        str(w.value) for w in classify(tokens(text), index) if w.kind == "unit"
    }
    products = by_container(products, containers)
    fitting, _ = narrow_by_words(products, text, index, choice.by_size)
    if fitting:
        return extreme(fitting, lowered) if len(fitting) > 1 else fitting
    picked = extreme(products, lowered)
    if len(picked) < len(products):
        return picked
    if USUAL.search(lowered) or ANY_WILL_DO.search(lowered):
        known = [p for p in products if usual and p.sku in usual]
        if known:
            return known[:1]
        first = [by_sku[s] for s in choice.options[0].skus if s in by_sku]
        return everyday(first, lowered)[:1]
    return []


def size_amount(size: str) -> float | None:
    """How much a size holds in grams, millilitres or items, to compare sizes."""
    parsed = parse_size(size)
    if parsed.amount is None and parsed.count == 1:
        return None
    return parsed.total
