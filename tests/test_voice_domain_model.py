"""The domain language model: the project's words, pronunciations, the cache."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from assistant.config import PROJECT_ROOT
from voice.domain_model import build_domain_model
from voice.errors import DomainModelError
from voice.pronunciation import ipa_to_cmu, looks_like_a_word, read_dictionary
from voice.scoring import word_error_rate, word_errors
from voice.sphinx import generic_model
from voice.vocabulary import (
    DomainText,
    domain_text,
    number_words,
    project_sources,
    read_product_phrases,
    read_training_examples,
    spoken_words,
)

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (it guesses new words' pronunciations)",
)


@pytest.fixture(scope="module")
def base_dictionary():
    pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")
    return generic_model().dictionary


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Two pints of Semi-Skimmed!", "two pints of semi skimmed"),
        ("2 tins & a 2kg bag", "two tins and a two kilos bag"),
        ("I'll have 115 please", "i'll have one hundred and fifteen please"),
        ("order 20415", "order two zero four one five"),
        ("[brocoli](product) x 6", "brocoli times six"),
        ("it’s Doris, from no. 12", "it's doris from no twelve"),
    ],
    ids=["punctuation", "symbols-units", "hundreds", "long-number", "entity", "quote"],
)
def test_vocabulary_spoken_words_are_what_is_said(text, words):
    """Test that written messages become the words a speaker would say."""
    assert " ".join(spoken_words(text)) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [(0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine")]
    + [(300, "three hundred"), (1005, "one thousand and five")],
)
def test_vocabulary_number_words_are_british(number, words):
    """Test that numbers are said the British way, with "and"."""
    assert " ".join(number_words(number)) == words


def test_vocabulary_reads_rasa_examples_and_catalogue(tmp_path):
    """Test that examples come from every intent and products from name and aliases."""
    nlu = tmp_path / "basket.yml"
    nlu.write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            nlu:
            - intent: add_item
              examples: |
                - a tin of soup
                - some [digestives](product)
            - intent: affirm
              examples: |
                - yes please
            - synonym: milk
              examples: |
                - semi skimmed
            """
        ),
        encoding="utf-8",
    )
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "sku,aisle,name,size,price_pence,aliases\n"
        'tea-80,"Tea, Coffee",PG Tips,80 bags,250,tea bags|pg|tea\n'
        "tea-40,Tea,Tetley,40 bags,150,tea bags|tea\n",
        encoding="utf-8",
    )

    assert read_training_examples(nlu) == [
        "a tin of soup",
        "some [digestives](product)",
        "yes please",
        "semi skimmed",
    ]
    assert read_product_phrases(catalogue) == [
        "PG Tips",
        "tea bags",
        "pg",
        "tea",
        "Tetley",
    ]


def test_vocabulary_of_the_project_covers_examples_and_products():
    """Test that the real NLU data and catalogue give sentences of both kinds."""
    text = domain_text(project_sources(PROJECT_ROOT))

    assert len(text.examples) > 500
    assert "place my order" in text.examples
    assert "some weetabix" in text.products
    assert all(sentence == sentence.lower() for sentence in text.examples)


@pytest.mark.parametrize(
    ("ipa", "phones"),
    [
        ("wˈiːɾɐbˌɪks", "W IY T AH B IH K S"),
        ("jˈoʊɡɚt", "Y OW G ER T"),
        ("tʃˈɛdɚ", "CH EH D ER"),
        ("bˈɜːɹd", "B ER D"),
        ("bˈɒtl̩", "B AA T AH L"),
        ("hˈɑːbnɑːbz", "HH AA B N AA B Z"),
    ],
    ids=["weetabix", "yoghurt", "cheddar", "bird", "bottle", "hobnobs"],
)
def test_pronunciation_ipa_becomes_cmu_phones(ipa, phones):
    """Test that espeak-ng's IPA maps onto the acoustic model's phones."""
    assert ipa_to_cmu(ipa) == phones


def test_pronunciation_with_an_unknown_sound_is_none():
    """Test that a sound with no CMU phone gives no pronunciation at all."""
    assert ipa_to_cmu("qʷ") is None


@pytest.mark.parametrize(
    ("word", "plausible"),
    [("hiya", True), ("qwerty", True), ("asdfghjkl", True)]
    + [("mmmmm", False), ("sdfsdf", False), ("xx", False)],
)
def test_pronunciation_made_up_words_are_spotted(word, plausible):
    """Test that keyboard mashes in the examples are told from words."""
    assert looks_like_a_word(word) is plausible


@needs_espeak
def test_domain_model_is_built_once_and_reused(tmp_path, base_dictionary):
    """Test that the model is cached by its inputs and rebuilt when they change."""
    text = DomainText(
        examples=("add two tins of soup", "sausges please", "hiya", "hiya love"),
        products=("weetabix", "some weetabix", "asdfgh"),
    )

    first = build_domain_model(text, tmp_path, base_dictionary)
    again = build_domain_model(text, tmp_path, base_dictionary)
    assert first.rebuilt and not again.rebuilt
    assert again.folder == first.folder
    assert "\\data\\" in first.language_model.read_text()

    dictionary = read_dictionary(first.dictionary)
    assert {"weetabix", "hiya", "soup"} <= dictionary.keys()
    # Used once, and not in the catalogue: a misspelling, left out.
    assert "sausges" in first.skipped and "sausges" not in dictionary
    assert set(first.guessed) >= {"weetabix", "hiya"}
    assert first.british_variants > 0

    changed = DomainText(text.examples + ("place my order",), text.products)
    rebuilt = build_domain_model(changed, tmp_path, base_dictionary)
    assert rebuilt.rebuilt and rebuilt.folder != first.folder
    assert not first.folder.exists()


def test_domain_model_needs_some_words(tmp_path, base_dictionary):
    """Test that an empty vocabulary is an error with its code."""
    with pytest.raises(DomainModelError) as raised:
        build_domain_model(DomainText((), ()), tmp_path, base_dictionary)
    assert raised.value.code == "stt-domain-model-failed"


@pytest.mark.parametrize(
    ("reference", "hypothesis", "errors"),
    [
        ("add two tins of soup", "add 2 tins of soup", 0),
        ("add two tins of soup", "add two tin soup", 2),
        ("yes please", "", 2),
        ("yes", "yes yes please", 2),
    ],
    ids=["same-words", "substitution-deletion", "nothing-heard", "insertions"],
)
def test_scoring_counts_word_errors(reference, hypothesis, errors):
    """Test that word errors are counted on the spoken words."""
    assert word_errors(reference, hypothesis)[0] == errors


def test_scoring_word_error_rate_pools_the_pairs():
    """Test that the rate is all errors over all reference words."""
    pairs = [("yes please", "yes please"), ("no thank you", "no thanks")]
    assert word_error_rate(pairs) == pytest.approx(2 / 5)
