"""Finding catalogue products in residents' words, forgivingly.

Words are matched after cleaning and making singular; then, for words the
catalogue does not know, by spelling (a slip or two of the keys), so
"brocoli" and "sausges" still find their product. Words that only sound like
a grocery word ("flower", "seriel") are put right before this, in parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from assistant.catalogue import Product
from assistant.words import (
    NUMBER_WORDS,
    SOUND_ALIKES,
    STOPWORDS,
    UNIT_WORDS,
    canonical_tokens,
    singular,
    tokens,
)

# Words in product names that say nothing about which product it is.
NAME_FILLER = {"of", "and", "in", "with", "the", "a", "for", "style"}
MAX_OPTIONS = 4
# How alike (0-100) a name must look to be offered instead of an unknown one:
# below this, "caviar" would be offered vinegar.
SUGGESTION_CUTOFF = 78


@dataclass(frozen=True)
class Match:
    """What a run of words names: one product, several to choose from, or none."""

    words: str
    products: tuple[Product, ...]

    @property
    def is_unique(self) -> bool:
        return len(self.products) == 1


@dataclass
class ProductIndex:
    """An index of the catalogue for forgiving lookups by name and alias."""

    products: list[Product]
    by_sku: dict[str, Product] = field(init=False)
    position: dict[str, int] = field(init=False)
    longest_phrase: int = field(init=False)
    keywords: dict[str, frozenset[str]] = field(init=False)
    name_words: dict[str, tuple[str, ...]] = field(init=False)
    phrases: dict[tuple[str, ...], set[str]] = field(init=False)
    vocabulary: set[str] = field(init=False)
    by_first_letter: dict[str, list[str]] = field(init=False)
    and_phrases: set[tuple[str, ...]] = field(init=False)
    all_phrases: list[str] = field(init=False)
    head_words: set[str] = field(init=False)
    name_heads: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_sku = {p.sku: p for p in self.products}
        self.position = {p.sku: n for n, p in enumerate(self.products)}
        self.longest_phrase = 1
        self.keywords, self.name_words, self.phrases = {}, {}, {}
        self.by_first_letter, self.all_phrases = {}, []
        self.head_words, self.and_phrases, self.name_heads = set(), set(), set()
        for product in self.products:
            name = content_words(product.name)
            words = set(name)
            for phrase in (product.name, *product.aliases):
                phrase_words = content_words(phrase)
                words.update(phrase_words)
                self.phrases.setdefault(tuple(phrase_words), set()).add(product.sku)
                self.longest_phrase = max(self.longest_phrase, len(phrase_words))
                if phrase_words:
                    # The last word names the thing: "crisp" in "ready salted
                    # crisps"; "ready" alone names nothing.
                    self.head_words.add(phrase_words[-1])
                self.all_phrases.append(phrase.lower())
                if re.search(r"\band\b|&", phrase.lower()):
                    self.and_phrases.add(tuple(phrase_words))
            self.keywords[product.sku] = frozenset(words)
            self.name_words[product.sku] = tuple(name)
            if name:
                self.name_heads.add(name[-1])
        self.vocabulary = set().union(*self.keywords.values()) - STOPWORDS
        for word in sorted(self.vocabulary):
            self.by_first_letter.setdefault(word[0], []).append(word)
        self._correct = lru_cache(maxsize=8192)(self._correct_uncached)

    def correct(self, word: str) -> str | None:
        """The catalogue word `word` stands for, or None if it names no product."""
        return self._correct(word)

    def _correct_uncached(self, word: str) -> str | None:
        if word in self.vocabulary:
            return word
        if word in SOUND_ALIKES:
            meant = singular(SOUND_ALIKES[word])
            if meant in self.vocabulary:
                return meant
        if word in STOPWORDS or word in NUMBER_WORDS or word.isdigit():
            return None
        if len(word) == 4:
            # "larg": a word cut short by a letter, and nothing else.
            endings = [
                known
                for known in self.by_first_letter.get(word[0], ())
                if len(known) == 5 and known.startswith(word)
            ]
            return endings[0] if len(endings) == 1 else None
        if len(word) < 4:
            return None
        # Typing slips keep the first letter. One slip (a letter wrong, missing,
        # extra or swapped) is forgiven; two only when the word still looks
        # much the same, so "vinager" is vinegar but "lottery" is not litter.
        same_start = self.by_first_letter.get(word[0], ())
        close = []
        for known in same_start:
            slips = OSA.distance(word, known, score_cutoff=2)
            if slips > 2:
                continue
            likeness = JaroWinkler.similarity(word, known)
            if slips == 2 and not (
                likeness >= 0.9 or len(word) >= 9 and likeness >= 0.85
            ):
                continue
            close.append((slips, -likeness, known))
        return min(close)[2] if close else None

    def candidates(self, words: tuple[str, ...]) -> list[Product]:
        """Products whose name and aliases contain every one of `words`."""
        wanted = set(words)
        return [
            self.by_sku[sku]
            for sku, keywords in self.keywords.items()
            if wanted <= keywords
        ]

    def lookup(self, words: tuple[str, ...]) -> Match | None:
        """What a run of catalogue words names, narrowed as far as the words allow."""
        if not words:
            return None
        exact = self.phrases.get(words)
        if exact is not None and len(exact) == 1:
            return Match(" ".join(words), (self.by_sku[next(iter(exact))],))
        found = self.candidates(words)
        if not found:
            return None
        if exact:
            # Words that are a product's own alias: the shop's usual one first.
            found = [p for p in found if p.sku in exact] or found
            found.sort(key=lambda p: self.position[p.sku])
            return Match(" ".join(words), tuple(found))
        return Match(" ".join(words), tuple(self.rank(found, words)))

    def rank(self, products: list[Product], words: tuple[str, ...]) -> list[Product]:
        """Closest first: names made mostly of the words asked for, then usual."""

        def closeness(product: Product) -> tuple[float, int]:
            name = self.name_words[product.sku]
            covered = sum(1 for w in name if w in words)
            return (-covered / max(len(name), 1), self.position[product.sku])

        return sorted(products, key=closeness)

    def is_phrase(self, words: tuple[str, ...]) -> bool:
        return words in self.phrases

    def closest(self, text: str, limit: int = 3) -> list[Product]:
        """Products whose names or aliases look most like `text`, for suggestions."""
        words = tokens(text)
        meant = " ".join(
            self.correct(singular(w)) or self.correct(w) or w for w in words
        )
        results = process.extract(
            meant,
            self.all_phrases,
            # A plain likeness of the whole phrase: a partial one would offer
            # ham for "champagne".
            scorer=fuzz.ratio,
            limit=limit * 4,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        found: list[Product] = []
        for phrase, _score, _ in results:
            for product in self.products_for_phrase(phrase):
                if product not in found:
                    found.append(product)
        if not found:
            # "bisto gravy": no name looks like the whole, but a word names one.
            known = tuple(
                w
                for w in (singular(w) for w in meant.split())
                if w in self.vocabulary and w in self.head_words
            )
            for word in known:
                found.extend(p for p in self.candidates((word,)) if p not in found)
        return found[:limit]

    def products_for_phrase(self, phrase: str) -> list[Product]:
        skus = self.phrases.get(tuple(content_words(phrase)), set())
        return [self.by_sku[s] for s in sorted(skus)]


def content_words(text: str) -> list[str]:
    return [w for w in canonical_tokens(text) if w not in NAME_FILLER]


def is_unit(word: str) -> bool:
    return singular(word) in UNIT_WORDS


def distinguishing_labels(products: tuple[Product, ...]) -> list[str]:
    """Short names that tell the options apart: "semi-skimmed", "whole"."""
    names = [re.findall(r"[\w'-]+", p.name) for p in products]
    common = set.intersection(*(set(w.lower() for w in n) for n in names))
    labels = []
    for product, words in zip(products, names, strict=True):
        label = " ".join(w for w in words if w.lower() not in common).lower()
        labels.append(label or product.name.lower())
    if len(set(labels)) < len(labels):
        labels = [f"{lbl}, {p.size}" for lbl, p in zip(labels, products, strict=True)]
    return labels
