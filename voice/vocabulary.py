"""The project's own words, as spoken sentences for biasing a recogniser."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve "
    "thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

# How units and symbols written in messages are said aloud.
SPOKEN_SYMBOLS = {
    "&": "and",
    "+": "plus",
    "%": "percent",
    "£": "pounds",
    "kg": "kilos",
    "g": "grams",
    "ml": "mil",
    "l": "litre",
    "x": "times",
    "pk": "pack",
}

# Rasa's inline entity annotations: [text](entity) and [text]{"entity": ...}.
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+|[&+%£]")
DIGITS_READ_ONE_BY_ONE = 4  # order numbers and phone numbers, not quantities


@dataclass(frozen=True)
class DomainSources:
    """The files the domain language model is built from."""

    training_files: tuple[Path, ...]
    """Rasa NLU files (YAML) whose examples are typical things residents say."""
    catalogue: Path | None
    """The product catalogue (CSV with `name` and `|`-separated `aliases`)."""


def project_sources(root: Path) -> DomainSources:
    """The NLU examples and demo catalogue of a Helping Hands checkout."""
    catalogue = root / "assistant" / "data" / "catalogue.csv"
    return DomainSources(
        training_files=tuple(sorted((root / "nlu" / "data" / "nlu").glob("*.yml"))),
        catalogue=catalogue if catalogue.is_file() else None,
    )


def number_words(number: int) -> list[str]:
    """How a whole number below a million is said in British English."""
    if number < 20:
        return [ONES[number]]
    if number < 100:
        tens, ones = divmod(number, 10)
        return [TENS[tens]] + ([ONES[ones]] if ones else [])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        words = [ONES[hundreds], "hundred"]
        return words + (["and", *number_words(rest)] if rest else [])
    thousands, rest = divmod(number, 1000)
    words = [*number_words(thousands), "thousand"]
    if not rest:
        return words
    return words + (["and"] if rest < 100 else []) + number_words(rest)


def spoken_words(text: str) -> list[str]:
    """The words of `text` as a recogniser would hear them said.

    Lower case, no punctuation, hyphenated words split, numbers spelled out
    ("2kg" is "two kilos"; long numbers are read digit by digit).
    """
    text = ANNOTATION.sub(r"\1", text).lower().replace("’", "'")
    words: list[str] = []
    for token in TOKEN.findall(text.replace("-", " ")):
        if token.isdigit():
            if len(token) >= DIGITS_READ_ONE_BY_ONE:
                words.extend(ONES[int(digit)] for digit in token)
            else:
                words.extend(number_words(int(token)))
        else:
            words.extend(SPOKEN_SYMBOLS.get(token, token).split())
    return words


def read_training_examples(path: Path) -> list[str]:
    """The example messages of every intent in a Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in document.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(line[2:].strip())
    return examples


def read_product_phrases(path: Path) -> list[str]:
    """Every product name and alias in the catalogue, each once."""
    phrases: dict[str, None] = {}
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            names = [row.get("name") or "", *(row.get("aliases") or "").split("|")]
            for name in names:
                if name.strip():
                    phrases[name.strip()] = None
    return list(phrases)


def product_sentences(phrases: Iterable[str]) -> list[str]:
    """Short requests around each product, so every product name has a context.

    The training examples already carry the quantities and containers ("two
    tins of ..."); these add the product names the examples never mention.
    """
    sentences = []
    for phrase in phrases:
        sentences += [phrase, f"some {phrase}", f"{phrase} please"]
    return sentences


@dataclass(frozen=True)
class DomainText:
    """The project's sentences, as spoken words, split by where they came from."""

    examples: tuple[str, ...]
    """From the NLU training examples, written by people (misspellings too)."""
    products: tuple[str, ...]
    """Built around the catalogue's product names, spelled by the shop."""


def domain_text(sources: DomainSources) -> DomainText:
    """The sentences to build a domain language model from."""
    examples: list[str] = []
    for path in sources.training_files:
        examples.extend(read_training_examples(path))
    products = []
    if sources.catalogue is not None:
        products = product_sentences(read_product_phrases(sources.catalogue))
    return DomainText(spoken_sentences(examples), spoken_sentences(products))


def spoken_sentences(texts: Iterable[str]) -> tuple[str, ...]:
    sentences = (" ".join(spoken_words(text)) for text in texts)
    return tuple(sentence for sentence in sentences if sentence)
