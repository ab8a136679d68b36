"""Reading a shopping request: which products, how many of each, what was unknown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.catalogue import Product
from assistant.matching import Match, ProductIndex
from assistant.words import (
    HOMOPHONE_NUMBERS,
    STOPWORDS,
    UNIT_WORDS,
    number_value,
    singular,
    tokens,
)

COLLECTIVES = {
    "couple": 2,
    "pair": 2,
    "few": 3,
    "dozen": 12,
    "score": 20,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
}
FILLERS_IN_NAMES = {"of", "and", "with", "in", "style"}
POSSESSIVES = {"my", "the", "his", "her", "our", "their", "your"}
DESCRIBING_WORDS = {
    "small",
    "large",
    "big",
    "medium",
    "little",
    "mini",
    "giant",
    "family",
    "value",
    "jumbo",
    "fresh",
    "nice",
}
MEASURES = {"pint", "litre", "liter", "l", "kg", "kilo", "g", "gram", "ml", "lb"}
REFERENCES = re.compile(
    r"\b(of (those|them|that|these)|same again|the same|another one|another|"
    r"one more|more of)\b"
)
SIZE_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(pints?|litres?|l|kg|g|ml|pack|eggs?)\b")


@dataclass(frozen=True)
class ItemRequest:
    """One product asked for, with how many."""

    quantity: int
    match: Match | None
    quantity_given: bool = True
    refers_to_last: bool = False
    said: str = ""
    """The resident's own words for the product, as written: "tins of beans"."""


@dataclass
class ParsedRequest:
    """Everything read from one message."""

    items: list[ItemRequest] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass
class _Word:
    text: str
    kind: str  # number, unit, product, filler, other
    value: str | int | None = None


def classify(words: list[str], index: ProductIndex) -> list[_Word]:
    """Label each word as a number, a unit, a product word, a filler or other."""
    labelled = []
    for position, word in enumerate(words):
        base = singular(word)
        number = number_value(word)
        if word == "half":
            labelled.append(_Word(word, "number", "half"))
        elif number is not None and word not in ("no", "zero"):
            if word in HOMOPHONE_NUMBERS:
                upcoming = words[position + 1] if position + 1 < len(words) else ""
                follows = (
                    index.correct(singular(upcoming))
                    or singular(upcoming) in UNIT_WORDS
                )
                labelled.append(
                    _Word(word, "number", number)
                    if follows and upcoming not in STOPWORDS
                    else _Word(word, "filler")
                )
            else:
                labelled.append(_Word(word, "number", number))
        elif base in UNIT_WORDS and (
            index.correct(base) != base or introduces_product(words, position, index)
        ):
            labelled.append(_Word(word, "unit", base))
        elif (found := index.correct(base) or index.correct(word)) is not None:
            labelled.append(_Word(word, "product", found))
        elif base in UNIT_WORDS:
            labelled.append(_Word(word, "unit", base))
        elif word in STOPWORDS or word in FILLERS_IN_NAMES:
            labelled.append(_Word(word, "filler"))
        else:
            labelled.append(_Word(word, "other"))
    return labelled


def introduces_product(words: list[str], position: int, index: ProductIndex) -> bool:
    """Whether a unit word such as "tin" or "roll" is followed by what it holds."""
    upcoming = words[position + 1 : position + 3]
    if upcoming and upcoming[0] == "of":
        return True
    return bool(upcoming) and index.correct(singular(upcoming[0])) is not None


def quantity_of(words: list[_Word]) -> int | None:
    """The quantity said by the last group of number words in `words`."""
    group: list[_Word] = []
    for word in words:
        if word.kind == "number":
            group.append(word)
        elif word.kind in ("product", "other") and group:
            group = []
    if not group:
        return None
    if (
        len(group) > 1
        and group[0].text in ("a", "an")
        and group[1].text not in COLLECTIVES
        and group[1].value != "half"
    ):
        return 1  # "a 9 pack of loo roll" is one pack
    total, pending, halve = 0, 0, False
    for word in group:
        if word.value == "half":
            halve = True
        elif word.text in COLLECTIVES:
            pending = (pending or 1) * COLLECTIVES[word.text]
            total, pending = total + pending, 0
        else:
            if pending and int(word.value) >= pending:  # "one two" is not twelve
                total, pending = total + pending, 0
            pending += int(word.value)
    total += pending
    if halve:
        total = max(total // 2, 1)
    return total


def apply_size_hint(
    match: Match, before: list[_Word], quantity: int
) -> tuple[Match, int]:
    """Use "two pints", "a dozen" or "500g" to pick a size, when one fits."""
    units = {w.value for w in before if w.kind == "unit"}
    match = apply_container_hint(match, units)
    said_dozen = any(w.text == "dozen" for w in before)
    if not (units & MEASURES or said_dozen) or len(match.products) < 2:
        return match, quantity

    def size_of(product: Product) -> tuple[float, str] | None:
        found = SIZE_PATTERN.search(product.size.lower())
        if not found:
            return None
        return float(found.group(1)), singular(found.group(2))

    def fits(amount: float) -> tuple[Product, ...]:
        return tuple(
            p
            for p in match.products
            if (size := size_of(p))
            and size[0] == amount
            and (said_dozen or size[1] in units or size[1] == "l" and "litre" in units)
        )

    exact = fits(quantity)
    if exact:
        return Match(match.words, exact), 1
    single = fits(1)
    if single and not said_dozen:
        return Match(match.words, single), quantity
    return match, quantity


CONTAINERS = {
    "tin": ("tin",),
    "can": ("tin",),
    "pack": ("pack", " x "),
    "multipack": ("pack", " x "),
    "packet": ("pack",),
    "bag": ("bags",),
}


def apply_container_hint(match: Match, units: set) -> Match:
    """Keep the products that come as asked: "tins of beans" are not a multipack."""
    wanted = [hint for unit in units for hint in CONTAINERS.get(str(unit), ())]
    if not wanted or len(match.products) < 2:
        return match
    fitting = tuple(
        p for p in match.products if any(hint in p.size.lower() for hint in wanted)
    )
    if not fitting or len(fitting) == len(match.products):
        return match
    return Match(match.words, fitting)


def split_run(
    run: list[tuple[int, str]], index: ProductIndex
) -> list[tuple[int, int, Match]]:
    """Split a run of (position, product word) into the fewest products."""
    found, start = [], 0
    while start < len(run):
        for end in range(len(run), start, -1):
            match = index.lookup(tuple(word for _, word in run[start:end]))
            if match is not None:
                found.append((run[start][0], run[end - 1][0], match))
                start = end
                break
        else:
            start += 1
    return found


def mark_phrases(words: list[_Word], index: ProductIndex) -> None:
    """Mark words of a known multi-word name as product words, whatever else
    they look like: "washing up liquid", "single cream", "nice biscuits"."""
    canonical = [singular(w.text) for w in words]
    for size in range(min(index.longest_phrase + 2, len(words)), 1, -1):
        for start in range(len(words) - size + 1):
            window = range(start, start + size)
            if words[start].text in FILLERS_IN_NAMES:
                continue
            key = tuple(
                canonical[i]
                for i in window
                if canonical[i] not in FILLERS_IN_NAMES | {"the", "a"}
            )
            if len(key) < 2 or not index.is_phrase(key):
                continue
            if all(
                words[i].kind == "product"
                for i in window
                if canonical[i] not in FILLERS_IN_NAMES
            ):
                continue
            for i in window:
                if canonical[i] not in FILLERS_IN_NAMES | {"the", "a"}:
                    words[i] = _Word(words[i].text, "product", canonical[i])


def product_runs(words: list[_Word]) -> list[list[int]]:
    """Positions of product words that belong together; "of", "and", "with"
    may sit inside one name ("salt and vinegar crisps")."""
    runs: list[list[int]] = []
    position = 0
    while position < len(words):
        if words[position].kind != "product":
            position += 1
            continue
        run = [position]
        while True:
            after = run[-1] + 1
            if after < len(words) and words[after].kind == "product":
                run.append(after)
            elif (
                after + 1 < len(words)
                and words[after].text in FILLERS_IN_NAMES
                and words[after + 1].kind == "product"
            ):
                run.append(after + 1)
            else:
                break
        runs.append(run)
        position = run[-1] + 1
    return runs


def is_purpose(words: list[_Word], start: int) -> bool:
    """Whether a product word says what something is for: "cod for my tea"."""
    before = [w.text for w in words[max(0, start - 3) : start]]
    while before and before[-1] in POSSESSIVES:
        before.pop()
    return bool(before) and before[-1] == "for"


def parse_request(text: str, index: ProductIndex) -> ParsedRequest:
    """Read products and quantities from a message such as "two pints and a loaf"."""
    words = classify(tokens(text), index)
    mark_phrases(words, index)
    result = ParsedRequest()

    runs = [run for run in product_runs(words) if not is_purpose(words, run[0])]
    spans: list[tuple[int, int, Match]] = []
    for number, run in enumerate(runs):
        values = [(i, words[i].value) for i in run if words[i].kind == "product"]
        if all(v in DESCRIBING_WORDS for _, v in values):
            # "a small tub of single cream": the size belongs to what follows.
            following = runs[number + 1] if number + 1 < len(runs) else None
            if following and following[0] - run[-1] <= 4:
                runs[number + 1] = run + following
            continue
        spans.extend(split_run(values, index))

    trailing_style = (
        bool(spans)
        and quantity_of(words[: spans[0][0]]) is None
        and (spans[0][1] + 1 < len(words) and words[spans[0][1] + 1].kind == "number")
    )
    previous_end = -1
    for number, (start, stop, match) in enumerate(spans):
        if trailing_style:
            limit = spans[number + 1][0] if number + 1 < len(spans) else len(words)
            around = words[stop + 1 : limit]
        else:
            around = words[previous_end + 1 : start]
        quantity = quantity_of(around)
        given = quantity is not None
        match, quantity = apply_size_hint(match, around, quantity or 1)
        said = " ".join(w.text for w in words[start : stop + 1])
        result.items.append(ItemRequest(quantity, match, given, said=said))
        previous_end = stop

    result.unknown = unknown_phrases(words, bool(spans))
    if not spans and not result.unknown and REFERENCES.search(text.lower()):
        quantity = quantity_of(words)
        result.items.append(
            ItemRequest(quantity or 1, None, quantity is not None, True)
        )
    return result


def unknown_phrases(words: list[_Word], found_any: bool) -> list[str]:
    """Words that look like a product we do not sell.

    When other products were found, only words right after a quantity or a
    unit count ("two tins of caviar"); chatter around a request is ignored.
    """
    phrases, current, introduced = [], [], False
    for position, word in enumerate(words):
        if word.kind == "other":
            if not current:
                before = [w for w in words[:position] if w.text not in ("of", "some")]
                introduced = bool(before) and before[-1].kind in ("number", "unit")
            current.append(word.text)
            continue
        if current and (introduced or not found_any):
            phrases.append(" ".join(current))
        current = []
    if current and (introduced or not found_any):
        phrases.append(" ".join(current))
    return phrases


def numbers_said(text: str) -> list[int]:
    """Every quantity in `text`, in order: "I said two not three" gives [2, 3]."""
    found, group = [], []
    for word in tokens(text):
        value = number_value(word)
        if word == "half" or (
            value is not None and word not in HOMOPHONE_NUMBERS | {"no", "a", "an"}
        ):
            group.append(_Word(word, "number", "half" if word == "half" else value))
        elif group:
            found.append(quantity_of(group))
            group = []
    if group:
        found.append(quantity_of(group))
    return [n for n in found if n is not None]


# Words that make a message more than a list of things to buy.
NOT_A_PLAIN_ORDER = set(
    """
    no not nothing none nope never dont don't without stop cancel remove delete
    off out instead change again repeat was were had did help person someone
    somebody anyone anybody volunteer human talk speak call ring phone basket
    trolley order list total cost price much many yes yeah yep aye ok okay
    right alright send carry
    """.split()
)
QUESTION_OPENINGS = re.compile(
    r"^\s*(do|does|have|has|is|are|how|what|when|where|why|which|who)\b"
)


CHANGE_WORDS = {"make", "just", "only", "double", "less", "fewer", "more", "instead"}


def is_plain_product_request(
    text: str, index: ProductIndex, bare: bool = False
) -> bool:
    """Whether a message is nothing but products to buy: "I need red leicester",
    "rhubarb", "two tins of peaches please". Chatter, negations, questions and
    words the shop does not know all make it something else.

    Args:
        text: the message.
        index: the catalogue index.
        bare: also refuse quantities and words of change ("make", "just"),
            for a message that might be changing a basket line, not adding.
    """
    lowered = text.lower()
    if QUESTION_OPENINGS.search(lowered):
        return False
    if "?" in lowered and not re.match(r"^\s*(could|can|may|would)\b", lowered):
        return False
    raw = tokens(text)
    if not raw or any(word in NOT_A_PLAIN_ORDER for word in raw):
        return False
    words = classify(raw, index)
    mark_phrases(words, index)
    if any(word.kind == "other" for word in words):
        return False
    if bare and any(
        word.kind == "number" or (word.kind != "product" and word.text in CHANGE_WORDS)
        for word in words
    ):
        return False
    runs = [run for run in product_runs(words) if not is_purpose(words, run[0])]
    return bool(runs) and all(
        any(words[i].value in index.head_words for i in run) for run in runs
    )
