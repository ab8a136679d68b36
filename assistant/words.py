"""Turning residents' words into canonical tokens: cleaning, plurals, number words."""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "zero": 0,
    "no": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "couple": 2,
    "pair": 2,
    "few": 3,
    "dozen": 12,
    "score": 20,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    # Words speech recognition and quick typing produce for "two".
    "to": 2,
    "too": 2,
}
# "to" and "too" count as numbers only right before a product or a unit.
HOMOPHONE_NUMBERS = {"to", "too"}
MULTIPLIERS = {"hundred", "thousand", "million"}

# Containers and measures: they say how a product comes, not what it is.
UNIT_WORDS = {
    "tin",
    "can",
    "pint",
    "loaf",
    "bag",
    "pack",
    "packet",
    "box",
    "bottle",
    "jar",
    "carton",
    "tub",
    "bar",
    "roll",
    "bunch",
    "punnet",
    "kilo",
    "kg",
    "gram",
    "g",
    "litre",
    "liter",
    "l",
    "ml",
    "lb",
    "pound",
    "piece",
    "slice",
    "portion",
    "tray",
    "net",
    "head",
    "multipack",
    "sachet",
    "tube",
    "block",
    "lot",
    "load",
    "x",
}

# Words of conversation that never name a product, never corrected to one.
STOPWORDS = set(
    """
    i me my mine myself we us our you your yours he she it its they them their
    this that these those there here what which who whom whose when where why
    how is am are was were be been being have has had having do does did doing
    will would shall should can could may might must ought and or but if then
    so because as of at by with about against between into through during
    before after above below from up down in out on off over under again
    further once all any both each other some such only own same than very
    just also too not nor now please pls plz thanks thank ta cheers love dear
    darling duck pet hun hon sweetheart lovely ok okay yes yeah yep no nope
    hello hi hiya morning afternoon evening good want wanted wants like liked
    need needs needed get got getting give put pop popped add added adding
    order ordered ordering buy send bring fetch grab pick let lets let's
    make made think thought wonder wondering wondered if mind kind kindly
    able possible also too either some any more another else extra again
    same usual normal regular little bit lot lots much many few several
    nice bit please could i'd id i'll ill i'm im you're youre it's its
    that's thats there's theres basket trolley list shopping shop today
    tomorrow week weekly as well thing things one ones stuff bits maybe
    perhaps probably really actually just still already also for to the an
    dont don't do doesn't usual also ooh oh ah er erm um uh well right
    speak talk time work call ring phone help say tell told know see look
    person someone somebody anyone anybody volunteer human real going
    come came bye goodbye hope wish sorry day night weather
    first second third fourth fifth last next cheapest biggest smallest
    other ones sell sold stocked times said meant mean nuisance bother
    trouble worry sorry tuesday wednesday thursday friday saturday sunday
    monday
    """.split()
)

# Words speech recognition (or a hurried thumb) writes for a grocery word that
# sounds the same. Used only for words the catalogue does not know itself.
SOUND_ALIKES = {
    "leak": "leek", "leaks": "leeks", "stake": "steak", "stakes": "steaks",
    "flower": "flour", "source": "sauce", "sauses": "sauces", "tuner": "tuna",
    "pairs": "pears", "pare": "pear", "tee": "tea", "tees": "teas",
    "serial": "cereal", "seriel": "cereal", "cereals": "cereal",
    "plumbs": "plums", "plumb": "plum", "chilly": "chilli", "beat": "beet",
    "toona": "tuna", "choona": "tuna", "semmy": "semi", "marg": "marge",
    "sossages": "sausages", "sossage": "sausage", "tomartoes": "tomatoes",
    "sosages": "sausages", "sosage": "sausage",
}  # fmt: skip

IRREGULAR_SINGULARS = {
    "loaves": "loaf",
    "halves": "half",
    "leaves": "leaf",
    "knives": "knife",
    "potatoes": "potato",
    "tomatoes": "tomato",
    "mangoes": "mango",
    "spuds": "spud",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
    "fish": "fish",
    "sheep": "sheep",
    "series": "series",
    "cress": "cress",
    "swiss": "swiss",
    "hummus": "hummus",
    "asparagus": "asparagus",
    "couscous": "couscous",
    "molasses": "molasses",
    "chips": "chip",
    "news": "news",
    "gas": "gas",
    "bus": "bus",
    "plus": "plus",
}

_TOKEN = re.compile(r"\d+\.\d+|[a-z0-9]+(?:'[a-z]+)?")
_MEASURE_AFTER_DIGITS = re.compile(
    r"(\d)(kgs?|g|ml|cl|l|ltr|pts?|pints?|litres?|lbs?|oz|kilos?|pack|pk)\b"
)


def normalise(text: str) -> str:
    """Lower-case text with hyphens, slashes and ampersands spelt out plainly."""
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"(\d)\s*x\s*(?=\d)", r"\1 x ", text)  # "4 x 400g", a multipack
    text = re.sub(r"(\d)\s*x\b(?! \d)", r"\1 ", text)  # "2x" and "2 x" mean two
    text = re.sub(r"(?<!\d )\bx\s*(\d)", r" \1", text)  # "x2" after a product
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text)
    text = _MEASURE_AFTER_DIGITS.sub(r"\1 \2", text)  # "2kg" is "2 kg"
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    return re.sub(r"[-/_]+", " ", text)


def tokens(text: str) -> list[str]:
    """The words and numbers of `text`, apostrophes inside words dropped."""
    return [t.replace("'", "") for t in _TOKEN.findall(normalise(text))]


def singular(word: str) -> str:
    """A forgiving singular form, applied alike to catalogue and residents' words."""
    if word in IRREGULAR_SINGULARS:
        return IRREGULAR_SINGULARS[word]
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ie") and len(word) > 4:
        return word[:-2] + "y"  # "hankie" is "hanky", as "hankies" is
    if word.endswith(("ches", "shes", "xes", "sses", "zzes")):
        return word[:-2]
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def canonical_tokens(text: str) -> list[str]:
    return [singular(t) for t in tokens(text)]


def number_value(word: str) -> int | None:
    """The number a single word stands for, if it is one."""
    if word.isdigit():
        return int(word) if len(word) < 9 else 10**9
    return NUMBER_WORDS.get(word)


def number_in_words(n: int) -> str:
    """Small numbers as words, for natural speech; larger ones as digits."""
    names = [
        k
        for k, v in NUMBER_WORDS.items()
        if v == n
        and k
        not in (
            "a",
            "an",
            "no",
            "single",
            "couple",
            "pair",
            "few",
            "dozen",
            "score",
            "to",
            "too",
            "zero",
        )
    ]
    return names[0] if names and n <= 20 else str(n)
