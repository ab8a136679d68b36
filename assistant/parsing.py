"""Reading a shopping request: which products, how many of each, what was unknown.

A message is cut into pieces at commas, full stops and new lines, and each
piece is read word by word: numbers, measures and containers ("two pints",
"a tin of"), product words (corrected for spelling and sound), and chatter.
Runs of product words are split into the fewest products the catalogue knows;
the numbers before each one (or after it, in "milk x2, bread x1") say how many
and which size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.catalogue import Product
from assistant.matching import Match, ProductIndex
from assistant.sizes import MEASURE_NAMES, Size, parse_size
from assistant.words import (
    HOMOPHONE_NUMBERS,
    SOUND_ALIKES,
    STOPWORDS,
    UNIT_WORDS,
    number_value,
    singular,
    tokens,
)

COLLECTIVES = {
    "couple": 2, "pair": 2, "few": 3, "dozen": 12, "score": 20, "hundred": 100,
    "thousand": 1000, "million": 1_000_000,
}  # fmt: skip
TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
FILLERS_IN_NAMES = {"of", "and", "with", "in", "style", "for"}
POSSESSIVES = {"my", "the", "his", "her", "our", "their", "your", "a", "some"}
DESCRIBING_WORDS = {
    "small", "large", "big", "medium", "little", "mini", "giant", "family",
    "value", "jumbo", "fresh", "nice",
}  # fmt: skip
# Containers a size can follow: "a box of 12", "a pack of 6".
PACKS = {"box", "pack", "packet", "tray", "carton", "bag", "multipack"}
# What each container says of a product's size: "tin" must come in a tin, a
# "pack" in a pack; a bag, packet or box is never a tin.
CONTAINERS = {
    "tin": ("tin",), "can": ("tin",), "pack": ("pack", " x "),
    "multipack": ("pack", " x "),
}  # fmt: skip
NOT_IN_TINS = {"bag", "packet", "box", "punnet", "net", "bunch"}
REFERENCES = re.compile(
    r"\b(of (those|them|that|these)|same again|the same|another one|another|"
    r"one more|more of)\b"
)
PIECE_BREAKS = re.compile(r"[,;\n!?]+|\.(?!\d)")
QUANTITY_LEADS = {"some", "any", "more"}


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
    value: str | int | float | None = None


@dataclass
class Amounts:
    """What the words around a product say about how many and which size."""

    count: int | None = None
    measures: list[Size] = field(default_factory=list)
    pack: int | None = None
    times: int | None = None
    """N in "N x 400g": a multipack of N, or N of the 400g, whichever is sold."""
    containers: set[str] = field(default_factory=set)
    said_pair: bool = False


def heard(words: list[str], index: ProductIndex) -> list[str]:
    """Words as the resident meant them: sound-alikes replaced ("flower" is
    flour) and split compounds joined ("whole meal" is wholemeal)."""
    meant = []
    for position, word in enumerate(words):
        following = words[position + 1] if position + 1 < len(words) else ""
        if (
            word in SOUND_ALIKES
            and singular(word) not in index.vocabulary
            and following != "of"
        ):
            word = SOUND_ALIKES[word]
        meant.append(word)
    joined: list[str] = []
    for word in meant:
        if joined:
            compound = joined[-1] + word
            apart = (singular(joined[-1]), singular(word))
            if (
                len(compound) >= 6
                and singular(compound) in index.vocabulary
                and index.lookup(apart) is None
            ):
                joined[-1] = compound
                continue
        joined.append(word)
    return joined


def classify(words: list[str], index: ProductIndex) -> list[_Word]:
    """Label each word as a number, a unit, a product word, a filler or other."""
    labelled = []
    for position, word in enumerate(words):
        base = singular(word)
        number = number_value(word)
        upcoming = words[position + 1] if position + 1 < len(words) else ""
        if word == "half":
            labelled.append(_Word(word, "number", "half"))
        elif re.fullmatch(r"\d+\.\d+", word):
            labelled.append(_Word(word, "number", float(word)))
        elif number is not None and word not in ("no", "zero"):
            if word in HOMOPHONE_NUMBERS and not (
                upcoming not in STOPWORDS
                and (
                    index.correct(singular(upcoming))
                    or singular(upcoming) in UNIT_WORDS
                )
            ):
                labelled.append(_Word(word, "filler"))
            else:
                labelled.append(_Word(word, "number", number))
        elif word in ("pk", "pks"):
            labelled.append(_Word(word, "unit", "pack"))
        elif word in MEASURE_NAMES and (
            position > 0
            and number_value(words[position - 1]) is not None
            or word in ("kilo", "kilos", "pint", "pints", "litre", "litres", "kg")
        ):
            labelled.append(_Word(word, "unit", MEASURE_NAMES[word]))
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


def read_number(words: list[_Word], start: int) -> tuple[int | float, int]:
    """The number said by the number words from `start`, and where they end.

    "twenty four" is 24, "two dozen" 24, "half a dozen" 6, "a couple" 2; but
    "a 9 pack" is one pack, and "3 2" two numbers, not five.
    """
    first = words[start]
    following = words[start + 1] if start + 1 < len(words) else None
    if first.text in ("a", "an"):
        if following is not None and following.text in COLLECTIVES:
            return COLLECTIVES[following.text], start + 2
        return 1, start + 1
    if first.value == "half":
        position = start + 1
        if position < len(words) and words[position].text in ("a", "an"):
            position += 1
        if position < len(words) and words[position].text in COLLECTIVES:
            return COLLECTIVES[words[position].text] // 2, position + 1
        return 1, start + 1
    if isinstance(first.value, float):
        return first.value, start + 1
    if first.text in COLLECTIVES:
        return COLLECTIVES[first.text], start + 1
    total = int(first.value or 0)
    position = start + 1
    if first.text in TENS and position < len(words):
        unit = words[position]
        if (
            unit.kind == "number"
            and not unit.text.isdigit()
            and (
                isinstance(unit.value, int)
                and 0 < unit.value < 10
                and unit.text not in ("a", "an")
            )
        ):
            total += unit.value
            position += 1
    if position < len(words) and words[position].text in COLLECTIVES:
        total *= COLLECTIVES[words[position].text]
        position += 1
    return total, position


def read_amounts(words: list[_Word]) -> Amounts:
    """How many, and which size, the words before (or after) a product say."""
    amounts = Amounts()
    position = 0
    while position < len(words):
        word = words[position]
        if word.kind == "unit":
            amounts.containers.add(str(word.value))
            position += 1
            continue
        if word.kind != "number":
            position += 1
            continue
        value, after = read_number(words, position)
        upcoming = words[after] if after < len(words) else None
        before = [w.text for w in words[max(0, position - 2) : position]]
        if (
            upcoming is not None
            and upcoming.kind == "unit"
            and (upcoming.value in MEASURE_NAMES.values())
        ):
            amounts.measures.append(Size(1, float(value), str(upcoming.value)))
            position = after + 1
            continue
        if upcoming is not None and upcoming.text == "x":
            amounts.times = int(value)
            position = after + 1
            continue
        if (
            upcoming is not None
            and upcoming.text in ("pack", "pk", "multipack")
            and word.text not in ("a", "an")
        ):
            amounts.pack = int(value)
            position = after + 1
            continue
        if len(before) == 2 and before[1] == "of" and before[0] in PACKS:
            amounts.pack = int(value)  # "a box of 12"
        else:
            amounts.count = int(value)
            amounts.said_pair = words[after - 1].text == "pair"
        position = after
    return amounts


def fit_sizes(
    match: Match, amounts: Amounts, quantity: int, counting_packs: bool = True
) -> tuple[Match, int]:
    """Narrow the products to the size asked for, and count packs, not items:
    "two pints" is one 2-pint bottle, "six eggs" one box of six."""
    products = list(match.products)
    products = by_container(products, amounts.containers)
    sizes = {p.sku: parse_size(p.size) for p in products}
    if amounts.said_pair and all("pair" in p.size for p in products):
        quantity = 1  # rubber gloves come in pairs already
    for measure in amounts.measures:
        exact = [p for p in products if sizes[p.sku].same_measure(measure)]
        if exact:
            products = exact
            continue
        if measure.amount and measure.amount == int(measure.amount) > 1:
            # "Three pints" when milk comes in one-pint bottles.
            single = Size(1, 1.0, measure.measure)
            ones = [p for p in products if sizes[p.sku].same_measure(single)]
            if ones:
                products = ones
                quantity *= int(measure.amount)
    if amounts.times:
        packed = [p for p in products if sizes[p.sku].count == amounts.times]
        if packed:
            products = packed  # "4 x 400g" is sold as a four-pack
        else:
            quantity = amounts.times * (amounts.count or 1)
    if amounts.pack:
        packed = [p for p in products if sizes[p.sku].count == amounts.pack]
        products = packed or products
    elif (
        counting_packs
        and not amounts.measures
        and not amounts.containers
        and quantity > 1
    ):
        products, quantity = count_in_packs(products, sizes, quantity)
    if not products:
        return match, quantity
    return Match(match.words, tuple(products)), quantity


def by_container(products: list[Product], containers: set[str]) -> list[Product]:
    """Keep the products that come as asked: "tins of beans" are not a multipack."""
    if len(products) < 2:
        return products
    if containers & NOT_IN_TINS:
        untinned = [p for p in products if "tin" not in p.size.lower()]
        products = untinned or products
    wanted = [hint for unit in containers for hint in CONTAINERS.get(unit, ())]
    if not wanted:
        return products
    fitting = [p for p in products if any(h in p.size.lower() for h in wanted)]
    return fitting or products


def count_in_packs(
    products: list[Product], sizes: dict[str, Size], wanted: int
) -> tuple[list[Product], int]:
    """ "Six eggs" is a box of six, "two dozen" two boxes of twelve; "six
    bananas" are six loose ones when bananas come in fives or singly."""
    packs = sorted({sizes[p.sku].count for p in products if sizes[p.sku].count > 1})
    if not packs:
        return products, wanted
    for pack in reversed(packs):
        if wanted % pack == 0:
            return [p for p in products if sizes[p.sku].count == pack], wanted // pack
    singles = [p for p in products if sizes[p.sku].count == 1]
    return (singles or products), wanted


def lookup_span(words: tuple[str, ...], index: ProductIndex) -> Match | None:
    """What a run of product words names, unless it is a list of separate
    things ("milk bread", "bread butter") rather than one thing described."""
    match = index.lookup(words)
    if match is None or len(words) < 2 or index.is_phrase(words):
        return match
    heads = all(w in index.head_words and index.is_phrase((w,)) for w in words)
    if not heads:
        return match
    found = {p.sku for p in match.products}
    each = [{p.sku for p in index.candidates((w,))} for w in words]
    if any(found == alone for alone in each):
        return match  # "cheddar cheese": one word says it all, the other agrees
    return None


def split_run(
    run: list[tuple[int, str]], joins: set[int], index: ProductIndex
) -> list[tuple[int, int, Match]]:
    """Split a run of (position, product word) into the fewest products.

    `joins` holds the positions of "and" inside the run: a product may only
    reach across one if its own name has "and" in it ("salt and vinegar").
    """
    found, start = [], 0
    while start < len(run):
        for end in range(len(run), start, -1):
            span = run[start:end]
            words = tuple(word for _, word in span)
            crosses = any(span[0][0] < j < span[-1][0] for j in joins)
            if crosses and words not in index.and_phrases:
                continue
            match = lookup_span(words, index)
            if match is not None and (
                end - start > 1
                or words[0] in index.head_words
                or index.is_phrase(words)
            ):
                found.append((span[0][0], span[-1][0], match))
                start = end
                break
        else:
            start += 1
    return found


def mark_phrases(words: list[_Word], index: ProductIndex) -> None:
    """Mark words of a known multi-word name as product words, whatever else
    they look like: "washing up liquid", "single cream", "peanuts for birds"."""
    canonical = [singular(w.text) for w in words]
    skipped = FILLERS_IN_NAMES | {"the", "a"}
    for size in range(min(index.longest_phrase + 3, len(words)), 1, -1):
        for start in range(len(words) - size + 1):
            window = range(start, start + size)
            if words[start].text in skipped or words[start + size - 1].text in skipped:
                continue
            key = tuple(canonical[i] for i in window if canonical[i] not in skipped)
            if len(key) < 2 or not index.is_phrase(key):
                continue
            inside = [i for i in window if canonical[i] in skipped]
            if all(
                words[i].kind == "product"
                for i in window
                if canonical[i] not in skipped
            ) and all(
                words[i].kind == "joiner"
                or words[i].kind == "filler"
                and words[i].text in FILLERS_IN_NAMES
                and words[i].text != "for"
                for i in inside
            ):
                continue
            for i in window:
                if canonical[i] not in skipped:
                    words[i] = _Word(words[i].text, "product", canonical[i])
                else:
                    # "for" in "peanuts for the birds", "a" in "double a
                    # batteries": inside a name, they hold it together.
                    words[i] = _Word(words[i].text, "joiner")


def product_runs(words: list[_Word]) -> list[list[int]]:
    """Positions of product words that belong together; "of", "and", "with"
    may sit inside one name ("salt and vinegar crisps"), and so may the
    joiners found inside known names ("peanuts for the birds")."""
    runs: list[list[int]] = []
    position = 0
    while position < len(words):
        if words[position].kind != "product":
            position += 1
            continue
        run = [position]
        while True:
            after = run[-1] + 1
            while after < len(words) and words[after].kind == "joiner":
                after += 1
            if after == run[-1] + 1 and (
                after + 1 < len(words)
                and words[after].text in FILLERS_IN_NAMES - {"for"}
                and words[after].kind == "filler"
            ):
                after += 1
            if after < len(words) and words[after].kind == "product":
                run.append(after)
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


def pieces_of(text: str) -> list[str]:
    """The message cut at commas, full stops, new lines and the like."""
    return [piece for piece in PIECE_BREAKS.split(text) if piece.strip()]


def parse_request(text: str, index: ProductIndex) -> ParsedRequest:
    """Read products and quantities from a message such as "two pints and a loaf"."""
    result = ParsedRequest()
    for piece in pieces_of(text):
        parsed = parse_piece(piece, index)
        numbers = numbers_said(piece)
        if not parsed.items and not parsed.unknown and numbers and result.items:
            # "cucumbers, 3 please": the number is for the product before it.
            last = result.items[-1]
            if not last.quantity_given and not last.refers_to_last:
                result.items[-1] = replace(
                    last, quantity=numbers[-1], quantity_given=True
                )
            continue
        result.items.extend(parsed.items)
        result.unknown.extend(parsed.unknown)
    if not result.items and not result.unknown and REFERENCES.search(text.lower()):
        numbers = numbers_said(text)
        quantity = numbers[-1] if numbers else None
        result.items.append(
            ItemRequest(quantity or 1, None, quantity is not None, True)
        )
    return result


def parse_piece(text: str, index: ProductIndex) -> ParsedRequest:
    """Read one piece of a message: no commas or full stops inside it."""
    words = classify(heard(tokens(text), index), index)
    mark_phrases(words, index)
    result = ParsedRequest()

    runs = [run for run in product_runs(words) if not is_purpose(words, run[0])]
    spans: list[tuple[int, int, Match]] = []
    for number, run in enumerate(runs):
        values = [(i, str(words[i].value)) for i in run if words[i].kind == "product"]
        if all(value in DESCRIBING_WORDS for _, value in values):
            # "a small tub of single cream": the size belongs to what follows.
            following = runs[number + 1] if number + 1 < len(runs) else None
            if following and following[0] - run[-1] <= 4:
                runs[number + 1] = run + following
            continue
        joins = {i for i in range(run[0], run[-1]) if words[i].text == "and"}
        spans.extend(split_run(values, joins, index))

    after_first = (
        [w for w in words[spans[0][1] + 1 :] if w.kind != "filler"] if (spans) else []
    )
    # "milk x2, bread x1", "cucumber times two": the quantity comes after.
    before_first = read_amounts(words[: spans[0][0]]) if spans else Amounts()
    trailing_style = (
        bool(spans)
        and before_first.count is None
        and not (before_first.measures or before_first.pack or before_first.times)
        and bool(after_first)
        and after_first[0].kind == "number"
    )
    previous_end = -1
    for number, (start, stop, match) in enumerate(spans):
        if trailing_style:
            limit = spans[number + 1][0] if number + 1 < len(spans) else len(words)
            around = words[stop + 1 : limit]
        else:
            around = words[previous_end + 1 : start]
        inside = [w for w in words[start : stop + 1] if w.kind == "unit"]
        amounts = read_amounts(around + inside)
        given = amounts.count is not None or bool(
            amounts.measures or amounts.pack or amounts.times
        )
        match, quantity = fit_sizes(
            match, amounts, amounts.count or 1, counting_packs=not trailing_style
        )
        said = " ".join(w.text for w in words[start : stop + 1])
        result.items.append(ItemRequest(quantity, match, given, said=said))
        previous_end = stop

    result.unknown = unknown_phrases(words)
    return result


def unknown_phrases(words: list[_Word]) -> list[str]:
    """Words that look like a product we do not sell: "two tins of caviar".

    A part of a message (between "and"s) that names a product of ours is not
    searched: its other words are chatter. Elsewhere, words we do not know
    count when a quantity, a container or "some" comes before them, or when
    they are all there is to say.
    """
    phrases = []
    for part in split_on_and(words):
        if any(w.kind == "product" for w in part):
            continue
        unknown = [w.text for w in part if w.kind == "other"]
        if not unknown:
            continue
        introduced = any(
            w.kind in ("number", "unit") or w.text in QUANTITY_LEADS for w in part
        )
        meaningful = [w for w in part if w.kind != "filler"]
        if introduced or len(meaningful) <= 2 and len(part) <= 3:
            phrases.append(" ".join(unknown))
    return phrases


def split_on_and(words: list[_Word]) -> list[list[_Word]]:
    parts: list[list[_Word]] = [[]]
    for word in words:
        if word.text in ("and", "also", "plus"):
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def numbers_said(text: str) -> list[int]:
    """Every quantity in `text`, in order: "I said two not three" gives [2, 3]."""
    words = []
    for word in tokens(text):
        value = number_value(word)
        if word == "half":
            words.append(_Word(word, "number", "half"))
        elif value is not None and word not in HOMOPHONE_NUMBERS | {"no", "zero"}:
            words.append(_Word(word, "number", value))
        else:
            words.append(_Word(word, "filler"))
    found = []
    position = 0
    while position < len(words):
        word = words[position]
        following = words[position + 1] if position + 1 < len(words) else None
        lone_a = word.text in ("a", "an") and not (
            following is not None and following.text in COLLECTIVES
        )
        if word.kind != "number" or lone_a:
            position += 1
            continue
        value, position = read_number(words, position)
        found.append(int(value))
    return found


# Words that make a message more than a list of things to buy.
NOT_A_PLAIN_ORDER = set(
    """
    no not nothing none nope never dont don't without stop cancel remove delete
    off out instead change again repeat was were had did help person someone
    somebody anyone anybody volunteer human talk speak call ring phone basket
    trolley order list total cost price much many yes yeah yep aye ok okay
    right alright send carry drop scrap forget ditch lose swap replace halve
    minus
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
    words = classify(heard(raw, index), index)
    mark_phrases(words, index)
    if any(word.kind == "other" for word in words):
        return False
    if bare and any(
        word.kind == "number" or (word.kind != "product" and word.text in CHANGE_WORDS)
        for word in words
    ):
        return False
    runs = [run for run in product_runs(words) if not is_purpose(words, run[0])]

    def names_a_product(run: list[int]) -> bool:
        # "rhubarb" or "red leicester" name products; "gem", "double" or "top"
        # alone are only parts of names ("little gem", "green top").
        values = tuple(str(words[i].value) for i in run if words[i].kind == "product")
        if len(values) > 1 and index.is_phrase(values):
            return True
        return any(v in index.name_heads for v in values)

    return bool(runs) and all(names_a_product(run) for run in runs)
