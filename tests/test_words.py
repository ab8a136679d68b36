"""Tests of turning residents' words into tokens, singular forms and numbers."""

import pytest

from assistant.words import (
    canonical_tokens,
    normalise,
    number_in_words,
    number_value,
    singular,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Two pints of semi-skimmed & a loaf",
            ["two", "pints", "of", "semi", "skimmed", "and", "a", "loaf"],
            id="hyphen-and-ampersand",
        ),
        pytest.param("I'd like 2x milk", ["id", "like", "2", "milk"], id="2x"),
        pytest.param("2 x milk", ["2", "milk"], id="2-space-x"),
        pytest.param("tomatos x 6", ["tomatos", "6"], id="trailing-x-6"),
        pytest.param("x2 eggs", ["2", "eggs"], id="leading-x2"),
        pytest.param("I\u2019d like", ["id", "like"], id="curly-apostrophe"),
        pytest.param("the 2nd one", ["the", "2", "one"], id="ordinal-suffix"),
        pytest.param("Bread/Butter", ["bread", "butter"], id="slash"),
        pytest.param("MILK!!!", ["milk"], id="shouting"),
        pytest.param(
            "a box of 6 eggs", ["a", "box", "of", "6", "eggs"], id="box-keeps-x"
        ),
        pytest.param("extra mature", ["extra", "mature"], id="extra-keeps-x"),
        pytest.param("1 x 400g", ["1", "x", "400", "g"], id="multipack-size"),
        pytest.param("", [], id="empty"),
    ],
)
def test_tokens_reads_residents_writing(text, expected):
    """Test that tokens cleans up the way residents write."""
    assert tokens(text) == expected


def test_normalise_spells_out_ampersands_and_hyphens():
    """Test that "&" becomes "and" and hyphens become spaces."""
    assert normalise("Cheese & Onion").split() == ["cheese", "and", "onion"]
    assert normalise("washing-up liquid").split() == ["washing", "up", "liquid"]


@pytest.mark.parametrize(
    ("plural", "expected"),
    [
        ("loaves", "loaf"),
        ("potatoes", "potato"),
        ("tomatoes", "tomato"),
        ("tomatos", "tomato"),
        ("potatos", "potato"),
        ("mangoes", "mango"),
        ("cherries", "cherry"),
        ("batteries", "battery"),
        ("sausages", "sausage"),
        ("peaches", "peach"),
        ("radishes", "radish"),
        ("sandwiches", "sandwich"),
        ("boxes", "box"),
        ("glasses", "glass"),
        ("leaves", "leaf"),
        ("halves", "half"),
        ("biscuits", "biscuit"),
        ("eggs", "egg"),
        ("peas", "pea"),
        ("pies", "pie"),
        ("scones", "scone"),
        ("digestives", "digestive"),
        ("olives", "olive"),
        ("gloves", "glove"),
        ("grapes", "grape"),
        ("noodles", "noodle"),
        ("oranges", "orange"),
        ("spuds", "spud"),
        ("crisps", "crisp"),
        ("chips", "chip"),
    ],
)
def test_singular_of_grocery_plurals(plural, expected):
    """Test that the plurals of shopping words become their singular."""
    assert singular(plural) == expected


@pytest.mark.parametrize(
    "word",
    [
        "hummus",
        "asparagus",
        "couscous",
        "cress",
        "swiss",
        "molasses",
        "fish",
        "lettuce",
        "milk",
        "brie",
        "tuna",
        "glass",
        "gas",
        "2",
        "400",
    ],
)
def test_singular_leaves_words_that_are_not_plurals(word):
    """Test that words ending in "s" that are not plurals, and digits, stay."""
    assert singular(word) == word


@pytest.mark.parametrize(
    ("plural", "one"),
    [
        ("hankies", "hankie"),
        ("roasties", "roastie"),
        ("yorkies", "yorkie"),
        ("cookies", "cookie"),
        ("tomatoes", "tomato"),
        ("loaves", "loaf"),
        ("boxes", "box"),
        ("biscuits", "biscuit"),
    ],
)
def test_singular_treats_plural_and_singular_alike(plural, one):
    """Test that a plural and its singular come to the same form."""
    assert singular(plural) == singular(one)


def test_canonical_tokens_are_singular():
    """Test that canonical tokens are cleaned and made singular."""
    assert canonical_tokens("Two Tins of Baked Beans") == [
        "two",
        "tin",
        "of",
        "baked",
        "bean",
    ]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("1", 1),
        ("12", 12),
        ("a", 1),
        ("an", 1),
        ("one", 1),
        ("single", 1),
        ("two", 2),
        ("six", 6),
        ("twelve", 12),
        ("twenty", 20),
        ("couple", 2),
        ("pair", 2),
        ("few", 3),
        ("dozen", 12),
        ("hundred", 100),
        ("banana", None),
        ("half", None),
        ("please", None),
    ],
)
def test_number_value_of_number_words(word, expected):
    """Test that number words and digits have their value, other words none."""
    assert number_value(word) == expected


def test_number_value_caps_absurd_digits():
    """Test that an absurdly long number is capped rather than kept exactly."""
    assert number_value("123456789012") == 10**9


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "one"),
        (2, "two"),
        (6, "six"),
        (12, "twelve"),
        (20, "twenty"),
        (21, "21"),
        (100, "100"),
    ],
)
def test_number_in_words_for_speech(number, expected):
    """Test that small numbers are spelt out and larger ones kept as digits."""
    assert number_in_words(number) == expected
