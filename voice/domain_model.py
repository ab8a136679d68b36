"""A language model and dictionary built from the project's words, cached on disk."""

# The model is an ARPA trigram model (pocketsphinx's ArpaBoLM) of the NLU
# training examples and of short requests around every product name. Its folder
# is named after a hash of everything it is built from, so it is rebuilt only
# when the examples, the catalogue, the base dictionary or this builder change.

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voice.errors import DomainModelError
from voice.pronunciation import (
    espeak_version,
    guess_pronunciations,
    looks_like_a_word,
    read_dictionary,
    write_dictionary,
)
from voice.vocabulary import DomainText

logger = logging.getLogger(__name__)

# Change this whenever the model built from the same words would differ.
BUILDER_VERSION = "2"
FOLDER_PREFIX = "domain-"
LANGUAGE_MODEL_FILE = "domain.lm"
DICTIONARY_FILE = "domain.dict"
SUMMARY_FILE = "summary.json"
# Messages in the examples are misspelled on purpose ("sausges"), once each;
# a new word used in two examples is taken to be a real one ("hiya").
MIN_EXAMPLE_USES = 2
# The CMU dictionary is American; residents are British ("tomato", "basket",
# "order" without its r). espeak-ng's British pronunciation of every word is
# added beside the American ones.
BRITISH_VOICE = "gmw/en"


@dataclass(frozen=True)
class DomainModel:
    """A built domain language model and its dictionary."""

    folder: Path
    language_model: Path
    dictionary: Path
    sentences: int
    """Sentences (or fragments of them) the model was counted from."""
    words: int
    """Words the model and its dictionary know."""
    british_variants: int
    """British pronunciations added beside the dictionary's American ones."""
    guessed: tuple[str, ...]
    """Words missing from the base dictionary, pronounced by espeak-ng."""
    skipped: tuple[str, ...]
    """Words left out: no pronunciation could be had, or they looked made up."""
    rebuilt: bool
    """Built just now (rather than found in the cache)."""


def build_domain_model(
    text: DomainText, cache_dir: Path, base_dictionary: Path
) -> DomainModel:
    """The domain model for `text`, from the cache when its inputs are unchanged.

    Raises:
        DomainModelError: there are no words, or the files cannot be written.
    """
    if not text.examples and not text.products:
        raise DomainModelError("no sentences to build a domain language model from")
    key = inputs_hash(text, base_dictionary)
    folder = cache_dir / f"{FOLDER_PREFIX}{key[:16]}"
    if (folder / SUMMARY_FILE).is_file():
        logger.debug("domain language model found in %s", folder)
        return read_model(folder, rebuilt=False)

    logger.info("building the domain language model in %s", folder)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        building = cache_dir / f".building-{key[:16]}-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        write_model(text, base_dictionary, building)
        try:
            building.rename(folder)
        except OSError:
            # Another process finished the same model first; theirs is as good.
            shutil.rmtree(building, ignore_errors=True)
    except OSError as error:
        raise DomainModelError(
            f"could not write the domain language model: {error}"
        ) from error
    remove_stale_models(cache_dir, keep=folder)
    return read_model(folder, rebuilt=True)


def inputs_hash(text: DomainText, base_dictionary: Path) -> str:
    """A hash of everything the model is built from."""
    digest = hashlib.sha256()
    inputs = {
        "builder": BUILDER_VERSION,
        "examples": text.examples,
        "products": text.products,
        "dictionary": file_hash(base_dictionary),
        "espeak": espeak_version(),
    }
    digest.update(json.dumps(inputs, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_model(text: DomainText, base_dictionary: Path, folder: Path) -> None:
    """Write the language model, dictionary and summary into `folder`."""
    from pocketsphinx.lm import ArpaBoLM

    known = read_dictionary(base_dictionary)
    example_uses = Counter(word for line in text.examples for word in line.split())
    product_words = {word for line in text.products for word in line.split()}
    vocabulary = set(example_uses) | product_words

    unknown = vocabulary - known.keys()
    worth_guessing = {
        word
        for word in unknown
        if word in product_words
        or (example_uses[word] >= MIN_EXAMPLE_USES and looks_like_a_word(word))
    }
    guessed = guess_pronunciations(worth_guessing)
    skipped = unknown - guessed.keys()

    fragments = list(split_at_words([*text.examples, *text.products], skipped))
    model = ArpaBoLM(text="\n".join(fragments), add_start=True)
    model.compute()
    with (folder / LANGUAGE_MODEL_FILE).open("w", encoding="utf-8") as file:
        model.write(file)

    entries = {word: list(known[word]) for word in vocabulary & known.keys()}
    entries.update({word: [phones] for word, phones in guessed.items()})
    british_added = 0
    for word, phones in guess_pronunciations(entries, BRITISH_VOICE).items():
        if phones not in entries[word]:
            entries[word].append(phones)
            british_added += 1
    write_dictionary(entries, folder / DICTIONARY_FILE)
    summary = {
        "sentences": len(fragments),
        "words": len(entries),
        "british_variants": british_added,
        "guessed": sorted(guessed),
        "skipped": sorted(skipped),
    }
    (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=1), "utf-8")
    logger.info(
        "domain language model: %s words (%s guessed, %s left out)",
        len(entries),
        len(guessed),
        len(skipped),
    )


def split_at_words(sentences: Iterable[str], unwanted: set[str]) -> Iterable[str]:
    """Each sentence, cut into the runs of words between unwanted ones."""
    for sentence in sentences:
        run: list[str] = []
        for word in [*sentence.split(), None]:
            if word is None or word in unwanted:
                if run:
                    yield " ".join(run)
                run = []
            else:
                run.append(word)


def read_model(folder: Path, rebuilt: bool) -> DomainModel:
    summary = json.loads((folder / SUMMARY_FILE).read_text("utf-8"))
    return DomainModel(
        folder=folder,
        language_model=folder / LANGUAGE_MODEL_FILE,
        dictionary=folder / DICTIONARY_FILE,
        sentences=summary["sentences"],
        words=summary["words"],
        british_variants=summary["british_variants"],
        guessed=tuple(summary["guessed"]),
        skipped=tuple(summary["skipped"]),
        rebuilt=rebuilt,
    )


def remove_stale_models(cache_dir: Path, keep: Path) -> None:
    """Delete models built from older inputs."""
    for folder in cache_dir.glob(f"{FOLDER_PREFIX}*"):
        if folder != keep and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
