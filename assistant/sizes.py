"""Sizes, as shops write them ("4 x 400g", "2 pints", "12 pack") and people say them.

A size is how many items a pack holds and how much each one measures. Both a
product's size and a size a resident says ("a 2 pint", "a box of 12", "a kilo")
are read into the same shape, so they can be compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Measures, by every name people write them, to one name each.
MEASURE_NAMES = {
    "pint": "pint", "pints": "pint", "pt": "pint", "pts": "pint",
    "litre": "l", "litres": "l", "liter": "l", "liters": "l", "l": "l", "ltr": "l",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "cl": "cl",
    "kg": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
    "g": "g", "gram": "g", "grams": "g", "gramme": "g", "grammes": "g",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz",
}  # fmt: skip
# Each measure in grams or millilitres, so "1kg" and "1000g" are the same.
IN_BASE_UNITS = {
    "pint": 568.0, "l": 1000.0, "ml": 1.0, "cl": 10.0, "kg": 1000.0, "g": 1.0,
    "lb": 454.0, "oz": 28.35,
}  # fmt: skip
# Words that count the items in a pack.
COUNT_WORDS = {
    "pack", "packs", "bags", "rolls", "sachets", "washes", "eggs", "pods",
    "tablets", "capsules", "pieces", "slices", "portions", "fillets", "cakes",
}  # fmt: skip

_MULTIPACK = re.compile(r"^\s*(\d+)\s*x\s*(.*)$")
_MEASURE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)\b")
_COUNT = re.compile(r"(\d+)\s*([a-z]+)\b")


@dataclass(frozen=True)
class Size:
    """How a product comes: `count` items, each of `amount` `measure`."""

    count: int = 1
    amount: float | None = None
    measure: str | None = None

    @property
    def each_in_base_units(self) -> float | None:
        if self.amount is None or self.measure is None:
            return None
        return self.amount * IN_BASE_UNITS[self.measure]

    @property
    def total(self) -> float:
        """Everything in the pack, in grams, millilitres or items, to compare."""
        each = self.each_in_base_units
        return self.count * (each if each is not None else 1.0)

    def same_measure(self, other: Size) -> bool:
        """Whether each item measures the same: "1kg" is "1000g"."""
        mine, theirs = self.each_in_base_units, other.each_in_base_units
        if mine is None or theirs is None:
            return False
        return abs(mine - theirs) <= 0.02 * max(mine, theirs)


def parse_size(text: str) -> Size:
    """A product's size as the shop writes it: "4 x 400g", "2 pints", "each"."""
    lowered = text.lower().strip()
    count = 1
    multipack = _MULTIPACK.match(lowered)
    if multipack:
        count, lowered = int(multipack.group(1)), multipack.group(2)
    for amount, word in _MEASURE.findall(lowered):
        if word in MEASURE_NAMES:
            return Size(count, float(amount), MEASURE_NAMES[word])
    for number, word in _COUNT.findall(lowered):
        if word in COUNT_WORDS or word == "pair":
            return Size(int(number) * count)
    return Size(count)
