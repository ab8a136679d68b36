"""Tests of how the assistant says prices, lists and the basket read-back."""

import pytest

from assistant.basket import BasketLine
from assistant.catalogue import Product
from assistant.wording import (
    basket_summary,
    describe_product,
    join_words,
    money,
    plural,
    read_back,
)

MILK = Product(
    "milk-semi-2pt", "Dairy & Eggs", "Semi-Skimmed Milk", "2 pints", 145, ("milk",)
)
BREAD = Product(
    "bread-white-medium-800g",
    "Bakery",
    "Medium Sliced White Bread",
    "800g",
    79,
    ("bread", "loaf"),
)
BEANS = Product(
    "beans-baked-400g",
    "Tins & Jars",
    "Baked Beans in Tomato Sauce",
    "400g tin",
    60,
    ("beans",),
)


PRICES = [
    (1, "1p"),
    (45, "45p"),
    (99, "99p"),
    (100, "£1"),
    (101, "£1.01"),
    (145, "£1.45"),
    (300, "£3"),
    (1000, "£10"),
    (1050, "£10.50"),
    (123456, "£1,234.56"),
]


@pytest.mark.parametrize(
    ("pence", "said"), PRICES, ids=[f"{pence}-pence" for pence, _ in PRICES]
)
def test_money_as_people_write_it(pence, said):
    """Test that prices read "45p", "£1.45" and "£3", as on a shelf label."""
    assert money(pence) == said


@pytest.mark.parametrize(
    ("items", "said"),
    [
        ([], ""),
        (["milk"], "milk"),
        (["milk", "bread"], "milk and bread"),
        (["milk", "bread", "eggs"], "milk, bread and eggs"),
    ],
)
def test_join_words_as_a_list(items, said):
    """Test that lists read "a, b and c", with no Oxford comma."""
    assert join_words(items) == said


def test_join_words_with_or():
    """Test that choices can be joined with "or"."""
    assert join_words(["whole", "semi-skimmed", "skimmed"], "or") == (
        "whole, semi-skimmed or skimmed"
    )


@pytest.mark.parametrize(
    ("count", "said"), [(0, "0 items"), (1, "1 item"), (2, "2 items")]
)
def test_plural_of_item(count, said):
    """Test that one item is singular and any other number plural."""
    assert plural(count, "item") == said


def test_describe_product_says_quantity_name_and_size():
    """Test that a product is described with its quantity, name and size."""
    described = describe_product(MILK, 2)
    assert described.startswith("2 Semi-Skimmed Milk")
    assert "2 pints" in described


def test_read_back_of_an_empty_basket():
    """Test that an empty basket says so and gives an example of what to ask."""
    sentences = read_back([])
    assert len(sentences) == 1
    assert "empty" in sentences[0]
    assert '"two pints of milk and a loaf"' in sentences[0]


def says_in_order(sentence: str, *parts: str) -> bool:
    """Whether each of `parts` is in `sentence`, in that order."""
    position = 0
    for part in parts:
        position = sentence.find(part, position)
        if position < 0:
            return False
        position += len(part)
    return True


def test_read_back_of_a_full_basket():
    """Test that each line has quantity, name, size and price, then the total."""
    lines = [BasketLine(MILK, 2), BasketLine(BREAD, 1), BasketLine(BEANS, 3)]

    sentences = read_back(lines)

    assert len(sentences) == len(lines) + 2
    assert "6 items" in sentences[0]
    expected = [
        ("2 ", "Semi-Skimmed Milk", "2 pints", "£2.90"),
        ("1 ", "Medium Sliced White Bread", "800g", "79p"),
        ("3 ", "Baked Beans in Tomato Sauce", "400g tin", "£1.80"),
    ]
    for sentence, (quantity, name, size, price) in zip(
        sentences[1:-1], expected, strict=True
    ):
        assert sentence.startswith(quantity), sentence
        assert says_in_order(sentence, name, size, price), sentence
    assert "£5.49" in sentences[-1]


def test_read_back_of_one_item():
    """Test that a basket of one thing says "1 item" and gives its total."""
    sentences = read_back([BasketLine(BREAD, 1)])
    assert "1 item" in sentences[0] and "1 items" not in sentences[0]
    assert says_in_order(sentences[1], "1 ", "Medium Sliced White Bread", "800g", "79p")
    assert "79p" in sentences[-1]


def test_read_back_sentences_are_short():
    """Test that every sentence is short enough to hear or read in one go."""
    lines = [BasketLine(MILK, 2), BasketLine(BREAD, 1), BasketLine(BEANS, 3)]
    assert all(len(sentence) <= 80 for sentence in read_back(lines))


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        ([], "Your basket is empty."),
        ([BasketLine(BREAD, 1)], "Your basket has 1 item, 79p in all."),
        (
            [BasketLine(MILK, 2), BasketLine(BEANS, 1)],
            "Your basket has 3 items, £3.50 in all.",
        ),
    ],
    ids=["empty", "one-item", "three-items"],
)
def test_basket_summary(lines, said):
    """Test that the summary gives the number of items and the total."""
    assert basket_summary(lines) == said
