"""Pronunciations for the recogniser's dictionary, guessed by espeak-ng when new."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

# espeak-ng's IPA for American English (the acoustic model's accent) to the
# CMU phone set. Longer symbols come first so "aɪ" wins over "a".
IPA_TO_CMU = {
    "aɪ": "AY",
    "aʊ": "AW",
    "eɪ": "EY",
    "oʊ": "OW",
    "əʊ": "OW",
    "ɔɪ": "OY",
    "tʃ": "CH",
    "dʒ": "JH",
    "ɜː": "ER",
    "ɑː": "AA",
    "ɔː": "AO",
    "iː": "IY",
    "uː": "UW",
    "oː": "AO",
    "ɚ": "ER",
    "ɜ": "ER",
    "ɑ": "AA",
    "ɒ": "AA",
    "a": "AA",
    "æ": "AE",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ᵻ": "IH",
    "ɪ": "IH",
    "i": "IY",
    "ɛ": "EH",
    "e": "EH",
    "ɔ": "AO",
    "o": "OW",
    "u": "UW",
    "ʊ": "UH",
    "b": "B",
    "d": "D",
    "ð": "DH",
    "f": "F",
    "ɡ": "G",
    "g": "G",
    "h": "HH",
    "k": "K",
    "x": "K",
    "l": "L",
    "ɬ": "L",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "p": "P",
    "ɹ": "R",
    "r": "R",
    "s": "S",
    "ʃ": "SH",
    "t": "T",
    "ɾ": "T",
    "ʔ": "T",
    "θ": "TH",
    "v": "V",
    "w": "W",
    "j": "Y",
    "z": "Z",
    "ʒ": "ZH",
}
# Stress, length, ties and joiners carry nothing the CMU phones can show.
IPA_IGNORED = set("ˈˌː‍‌ ̃-_.") | {"\u0361", "\u035c"}
SYLLABIC = "\u0329"  # a syllabic consonant, as in "bottle": CMU writes AH L
LONGEST_SYMBOL = max(len(symbol) for symbol in IPA_TO_CMU)
# A word made up in a message ("asdfgh", "mmmmm") has no vowel or repeats one
# letter; guessing a pronunciation for it would only teach the model noise.
PLAUSIBLE_WORD = re.compile(r"^(?!.*(.)\1\1)(?=.*[aeiouy])[a-z']+$")


def espeak_version() -> str:
    """espeak-ng's version (it guesses pronunciations), or "none"."""
    try:
        completed = subprocess.run(
            ["espeak-ng", "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "none"
    return completed.stdout.strip() or "none"


def read_dictionary(path: Path) -> dict[str, list[str]]:
    """A CMU-style dictionary: each word's pronunciations, in file order."""
    entries: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as file:
        for line in file:
            word, _, phones = line.strip().partition(" ")
            if not phones:
                continue
            entries.setdefault(word.split("(", 1)[0], []).append(phones.strip())
    return entries


def write_dictionary(entries: dict[str, list[str]], path: Path) -> None:
    """Write `entries` in the CMU format pocketsphinx reads."""
    lines = []
    for word in sorted(entries):
        for number, phones in enumerate(entries[word], start=1):
            name = word if number == 1 else f"{word}({number})"
            lines.append(f"{name} {phones}\n")
    path.write_text("".join(lines), encoding="utf-8")


def ipa_to_cmu(ipa: str) -> str | None:
    """CMU phones for espeak-ng's IPA of one word, or None if a symbol is unknown."""
    phones: list[str] = []
    position = 0
    while position < len(ipa):
        character = ipa[position]
        if character in IPA_IGNORED:
            position += 1
            continue
        if character == SYLLABIC:
            if phones:
                phones.insert(len(phones) - 1, "AH")
            position += 1
            continue
        for length in range(LONGEST_SYMBOL, 0, -1):
            symbol = ipa[position : position + length]
            if symbol in IPA_TO_CMU:
                phone = IPA_TO_CMU[symbol]
                # espeak writes "ɜːɹ" where CMU has a single ER.
                if not (phone == "R" and phones and phones[-1] == "ER"):
                    phones.append(phone)
                position += length
                break
        else:
            return None
    return " ".join(phones) or None


def espeak_ipa(words: list[str], voice: str = "en-us") -> list[str]:
    """espeak-ng's IPA for each word, in order (one line in, one line out)."""
    completed = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", voice],
        input="\n".join(words) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = [line.strip() for line in completed.stdout.splitlines() if line.strip()]
    if len(lines) != len(words):
        raise ValueError(
            f"espeak-ng gave {len(lines)} pronunciations for {len(words)} words"
        )
    return lines


def looks_like_a_word(word: str) -> bool:
    """False for a word made up by typing ("asdfgh", "mmmmm")."""
    return bool(PLAUSIBLE_WORD.match(word))


def guess_pronunciations(words: Iterable[str], voice: str = "en-us") -> dict[str, str]:
    """CMU phones guessed by espeak-ng for each word it can say.

    `voice` is an espeak-ng voice: "en-us" matches the acoustic model and the
    CMU dictionary; "gmw/en" gives British pronunciations. A word espeak-ng
    says with a sound the CMU phones lack is left out. Without espeak-ng
    nothing is guessed.
    """
    candidates = sorted(set(words))
    if not candidates:
        return {}
    if shutil.which("espeak-ng") is None:
        logger.warning(
            "espeak-ng is not installed: %s new words get no pronunciation",
            len(candidates),
        )
        return {}
    try:
        ipa = espeak_ipa(candidates, voice)
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        logger.warning("espeak-ng could not guess pronunciations: %s", error)
        return {}
    guesses = {}
    for word, spoken in zip(candidates, ipa, strict=True):
        phones = ipa_to_cmu(spoken)
        if phones:
            guesses[word] = phones
        else:
            logger.debug("no CMU phones for %s (%s)", word, spoken)
    return guesses
