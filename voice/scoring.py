"""Word error rate, for measuring recognisers against what was really said."""

from __future__ import annotations

from collections.abc import Iterable

from voice.vocabulary import spoken_words


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Substitutions, deletions and insertions, and the reference's word count.

    Both texts are compared as spoken words (lower case, numbers in words).
    """
    wanted, heard = spoken_words(reference), spoken_words(hypothesis)
    previous = list(range(len(heard) + 1))
    for row, word in enumerate(wanted, start=1):
        current = [row]
        for column, other in enumerate(heard, start=1):
            current.append(
                min(
                    previous[column] + 1,
                    current[column - 1] + 1,
                    previous[column - 1] + (word != other),
                )
            )
        previous = current
    return previous[-1], len(wanted)


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """Errors over reference words, for (reference, hypothesis) pairs together."""
    errors = words = 0
    for reference, hypothesis in pairs:
        pair_errors, pair_words = word_errors(reference, hypothesis)
        errors += pair_errors
        words += pair_words
    if not words:
        raise ValueError("no reference words to score against")
    return errors / words
