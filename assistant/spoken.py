"""Turning the assistant's written replies into words that sound right spoken.

"£11.30" is read as "11 pounds 30", "45p" as "45p" would not be; sizes in
brackets, "4 x 400g" and line breaks become plain speech with pauses.
"""

from __future__ import annotations

import re

UNITS_SPOKEN = {
    "g": "grams", "kg": "kilos", "ml": "millilitres", "l": "litres",
    "cl": "centilitres", "lb": "pounds", "oz": "ounces",
}  # fmt: skip


def _pounds(match: re.Match) -> str:
    pounds = int(match.group(1).replace(",", ""))
    pence = match.group(2)
    word = "pound" if pounds == 1 else "pounds"
    if pence and int(pence):
        return f"{pounds} {word} {int(pence)}"
    return f"{pounds} {word}"


def _measure(match: re.Match) -> str:
    amount, unit = match.group(1), match.group(2).lower()
    spoken = UNITS_SPOKEN[unit]
    if amount == "1" and spoken.endswith("s"):
        spoken = spoken[:-1]
    return f"{amount} {spoken}"


def spoken(text: str) -> str:
    """A reply as it should be said aloud: money, sizes and lists in words."""
    said = re.sub(r"£(\d[\d,]*)(?:\.(\d\d))?", _pounds, text)
    said = re.sub(r"\b(\d+)p\b", lambda m: f"{m.group(1)} pence", said)
    said = re.sub(r"(\d+)\s*x\s*(\d)", r"\1 times \2", said)
    said = re.sub(
        r"\b(\d+(?:\.\d+)?)\s*(g|kg|ml|l|cl|lb|oz)\b",
        _measure,
        said,
        flags=re.IGNORECASE,
    )
    said = re.sub(r"\s*\(([^)]*)\)", r", \1,", said)
    said = said.replace("&", " and ").replace('"', "")
    said = re.sub(r",\s*([.:?!])", r"\1", said)
    lines = [line.strip() for line in said.split("\n") if line.strip()]
    joined = " ".join(line if line[-1] in ".?!:" else line + "." for line in lines)
    return re.sub(r"\s{2,}", " ", joined).replace(":.", ":")


def spoken_lines(text: str) -> list[str]:
    """A reply as separate things to say, one per line, for pauses between."""
    return [spoken(line) for line in text.split("\n") if line.strip()]
