"""Tests of asking which product a resident means, and reading the answer."""

import pytest

from assistant.catalogue import Product
from assistant.choosing import Choice, make_choice, narrow, size_amount
from assistant.parsing import parse_request
from assistant.words import canonical_tokens

SEMI = {"milk-semi-1pt", "milk-semi-2pt", "milk-semi-4pt"}
WHOLE = {"milk-whole-1pt", "milk-whole-2pt", "milk-whole-4pt"}
SKIMMED = {"milk-skimmed-2pt"}
ONE_PERCENT = {"milk-1pc-2pt"}
TWO_PINTS = {"milk-semi-2pt", "milk-whole-2pt", "milk-skimmed-2pt", "milk-1pc-2pt"}
FOUR_PINTS = {"milk-semi-4pt", "milk-whole-4pt"}
ONE_PINT = {"milk-semi-1pt", "milk-whole-1pt"}
MEDIUM_EGGS = {"eggs-free-range-medium-6", "eggs-free-range-medium-12"}
LARGE_EGGS = {"eggs-free-range-large-6"}
SIX_EGGS = {"eggs-free-range-medium-6", "eggs-free-range-large-6"}
DOZEN_EGGS = {"eggs-free-range-medium-12"}
MIXED_EGGS = {"eggs-mixed-weight-15"}
PLAIN_BEANS = {"beans-baked-400g", "beans-baked-200g", "beans-baked-4x400g"}
SAUSAGE_BEANS = {"beans-sausages-400g"}
REDUCED_BEANS = {"beans-reduced-sugar-400g"}
SMALL_BEANS = {"beans-baked-200g"}
BEAN_TINS_400G = {"beans-baked-400g", "beans-reduced-sugar-400g", "beans-sausages-400g"}
WHITE_SLICED = {"bread-white-thick-800g", "bread-white-medium-800g"}
SMALL_LOAVES = {"bread-white-small-400g", "bread-wholemeal-small-400g"}


def asked_about(said: str, index) -> tuple[list[Product], Choice]:
    """The candidates after a resident says `said`, and the question asked."""
    parsed = parse_request(said, index)
    assert len(parsed.items) == 1
    products = list(parsed.items[0].match.products)
    assert len(products) > 1, "nothing to choose between"
    return products, make_choice(products, parsed.items[0].said)


def answered(said: str, answer: str, index, usual: set[str] | None = None) -> set:
    """The skus left after answering the question about `said` with `answer`."""
    products, choice = asked_about(said, index)
    return {p.sku for p in narrow(products, choice, answer, index, usual)}


def by_answer(*rows: tuple) -> list:
    """Parameters named by the answer given."""
    return [pytest.param(*row, id=row[0]) for row in rows]


@pytest.mark.parametrize(
    ("said", "question"),
    [
        (
            "milk",
            "Which milk would you like: semi-skimmed, whole, skimmed, 1% fat, "
            "or something else?",
        ),
        (
            "eggs",
            "Which eggs would you like: medium free range, large free range or "
            "mixed weight?",
        ),
        ("butter", "Which butter would you like: salted, unsalted or spreadable?"),
        ("marge", "Which spread would you like: sunflower, olive or buttery?"),
        (
            "semi skimmed milk",
            "Which size of semi-skimmed milk would you like: 1 pint, 2 pints or "
            "4 pints?",
        ),
        (
            "fish fingers",
            "Which size of cod fish fingers would you like: 10 pack or 20 pack?",
        ),
        (
            "washing up liquid",
            "Which washing up liquid would you like: original or lemon?",
        ),
    ],
)
def test_make_choice_asks_a_natural_question(index, said, question):
    """Test that the question names the product and its choices plainly."""
    _, choice = asked_about(said, index)
    assert choice.question() == question


@pytest.mark.parametrize(
    ("said", "noun", "choices"),
    [
        ("beans", "baked beans", ["tomato sauce", "reduced sugar", "sausages"]),
        (
            "a tin of beans",
            "baked beans",
            ["tomato sauce", "reduced sugar", "sausages"],
        ),
        ("bread", "bread", ["white", "wholemeal", "brown"]),
        ("a loaf", "loaf", ["white", "wholemeal", "brown"]),
        ("two pints of milk", "milk", ["semi-skimmed", "whole", "skimmed", "1%"]),
        ("tea bags", "tea bags", ["everyday", "strong", "decaf"]),
        ("apples", "apples", ["braeburn", "gala", "cox", "bramley"]),
    ],
)
def test_make_choice_question_names_the_choices(index, said, noun, choices):
    """Test that the question says what it is about and names each choice."""
    _, choice = asked_about(said, index)
    question = choice.question()
    assert question.startswith(f"Which {noun} would you like: ")
    assert question.endswith("?")
    for word in choices:
        assert word in question


@pytest.mark.parametrize(
    "said",
    [
        "milk",
        "eggs",
        "beans",
        "butter",
        "jam",
        "apples",
        "potatoes",
        "tea bags",
        "bread",
        "sausages",
        "soup",
        "biscuits",
        "coffee",
        "cake",
        "crisps",
    ],
)
def test_make_choice_does_not_repeat_the_product_in_every_choice(index, said):
    """Test that choices are short: "pork, cumberland", not "pork sausages, ..."."""
    _, choice = asked_about(said, index)
    noun = set(canonical_tokens(choice.noun))
    repeating = [
        option.label
        for option in choice.options
        if noun <= set(canonical_tokens(option.label))
    ]
    assert len(repeating) < len(choice.options), choice.question()


@pytest.mark.parametrize(
    "said",
    ["milk", "eggs", "beans", "bread", "cheese", "soup", "biscuits", "coffee", "cake"],
)
def test_make_choice_question_fits_one_text_message(index, said):
    """Test that the question fits in a single 160-character text."""
    _, choice = asked_about(said, index)
    assert len(choice.question()) <= 160


@pytest.mark.parametrize("said", ["milk", "bread", "soup", "biscuits", "cheese"])
def test_make_choice_offers_at_most_four_and_something_else(index, said):
    """Test that a long list is cut to four choices and "or something else"."""
    _, choice = asked_about(said, index)
    assert len(choice.options) == 4
    assert choice.more
    assert choice.question().endswith(", or something else?")


def test_make_choice_options_are_the_candidates(index):
    """Test that each option stands for candidates, and no product is in two."""
    products, choice = asked_about("beans", index)
    skus = [sku for option in choice.options for sku in option.skus]
    assert len(skus) == len(set(skus))
    assert set(skus) <= {p.sku for p in products}


def test_make_choice_asks_variety_before_size(index):
    """Test that milk asks semi-skimmed or whole before asking pints."""
    _, choice = asked_about("milk", index)
    assert not choice.by_size
    assert "pint" not in choice.question()


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("semi-skimmed", SEMI),
        ("semi skimmed", SEMI),
        ("semi", SEMI),
        ("semi skimmed please", SEMI),
        ("the semi-skimmed one", SEMI),
        ("green top", SEMI),
        ("the green one", SEMI),
        ("whole", WHOLE),
        ("whole milk", WHOLE),
        ("full fat", WHOLE),
        ("full-fat", WHOLE),
        ("blue top", WHOLE),
        ("skimmed", SKIMMED),
        ("skimmed milk", SKIMMED),
        ("red top", SKIMMED),
        ("one percent", ONE_PERCENT),
        ("1%", ONE_PERCENT),
        ("orange top", ONE_PERCENT),
        ("semi skimed", SEMI),
        ("semmi skimmed", SEMI),
        ("skimed", SKIMMED),
        ("wholemilk", WHOLE),
        ("semi-skimmed 2 pints", {"milk-semi-2pt"}),
    ),
)
def test_narrow_milk_by_variety(index, answer, expected):
    """Test that naming a kind of milk, even misspelt, keeps that kind."""
    assert answered("milk", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("the first one", SEMI),
        ("first", SEMI),
        ("top one", SEMI),
        ("the second one", WHOLE),
        ("two", WHOLE),
        ("number 2", WHOLE),
        ("2", WHOLE),
        ("the 2nd", WHOLE),
        ("the third one", SKIMMED),
        ("the last", ONE_PERCENT),
        ("the last one", ONE_PERCENT),
    ),
)
def test_narrow_milk_by_position(index, answer, expected):
    """Test that "the second one" or "number 2" picks the second choice offered."""
    assert answered("milk", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("2 pints", TWO_PINTS),
        ("4 pints", FOUR_PINTS),
        ("a 4 pint one", FOUR_PINTS),
    ),
)
def test_narrow_milk_by_size_keeps_every_kind_of_that_size(index, answer, expected):
    """Test that "2 pints" to "which milk?" keeps every 2-pint milk."""
    assert answered("milk", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "allowed"),
    by_answer(
        ("the cheapest", ONE_PINT),
        ("which is cheapest?", ONE_PINT),
        ("the biggest", FOUR_PINTS),
        ("the big one", FOUR_PINTS),
        ("the smallest", ONE_PINT),
    ),
)
def test_narrow_milk_by_price_or_size_words(index, answer, allowed):
    """Test that "the cheapest" and "the biggest" pick from the right products."""
    left = answered("milk", answer, index)
    assert left and left <= allowed


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("2 pints", {"milk-semi-2pt"}),
        ("two pints", {"milk-semi-2pt"}),
        ("the 2 pint one", {"milk-semi-2pt"}),
        ("2 pint", {"milk-semi-2pt"}),
        ("2pt", {"milk-semi-2pt"}),
        ("2pints", {"milk-semi-2pt"}),
        ("2", {"milk-semi-2pt"}),
        ("4 pints", {"milk-semi-4pt"}),
        ("four pints", {"milk-semi-4pt"}),
        ("4pt", {"milk-semi-4pt"}),
        ("4", {"milk-semi-4pt"}),
        ("1 pint", {"milk-semi-1pt"}),
        ("one pint", {"milk-semi-1pt"}),
        ("a pint", {"milk-semi-1pt"}),
        ("the second one", {"milk-semi-2pt"}),
        ("number 2", {"milk-semi-2pt"}),
        ("the last one", {"milk-semi-4pt"}),
        ("the biggest", {"milk-semi-4pt"}),
        ("the largest", {"milk-semi-4pt"}),
        ("the big one", {"milk-semi-4pt"}),
        ("the smallest", {"milk-semi-1pt"}),
        ("the small one", {"milk-semi-1pt"}),
        ("the cheapest", {"milk-semi-1pt"}),
    ),
)
def test_narrow_milk_size(index, answer, expected):
    """Test that an answer to "which size?" picks the size meant."""
    assert answered("semi skimmed milk", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("medium", MEDIUM_EGGS),
        ("medum", MEDIUM_EGGS),
        ("large", LARGE_EGGS),
        ("larg", LARGE_EGGS),
        ("big ones", LARGE_EGGS),
        ("the big ones please", LARGE_EGGS),
        ("the large free range", LARGE_EGGS),
        ("free range", MEDIUM_EGGS | LARGE_EGGS),
        ("mixed", MIXED_EGGS),
        ("mixed weight", MIXED_EGGS),
        ("12", DOZEN_EGGS),
        ("a dozen", DOZEN_EGGS),
        ("twelve", DOZEN_EGGS),
        ("6", SIX_EGGS),
        ("six", SIX_EGGS),
        ("half a dozen", SIX_EGGS),
        ("15", MIXED_EGGS),
        ("the second one", LARGE_EGGS),
        ("the last", MIXED_EGGS),
        ("the cheapest", {"eggs-free-range-medium-6"}),
        ("the biggest", MIXED_EGGS),
    ),
)
def test_narrow_eggs(index, answer, expected):
    """Test that answers about eggs by kind, count or position pick them out."""
    assert answered("eggs", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("in tomato sauce", PLAIN_BEANS),
        ("reduced sugar", REDUCED_BEANS),
        ("reduced suger", REDUCED_BEANS),
        ("low sugar", REDUCED_BEANS),
        ("healthy", REDUCED_BEANS),
        ("with sausages", SAUSAGE_BEANS),
        ("sausages", SAUSAGE_BEANS),
        ("the sausage ones", SAUSAGE_BEANS),
        ("beans and sausages", SAUSAGE_BEANS),
        ("sosages", SAUSAGE_BEANS),
        ("sausges", SAUSAGE_BEANS),
        ("the first one", PLAIN_BEANS),
        ("the second", REDUCED_BEANS),
        ("number 3", SAUSAGE_BEANS),
        ("the last one", SAUSAGE_BEANS),
        ("the cheapest", SMALL_BEANS),
        ("the smallest", SMALL_BEANS),
        ("the biggest", {"beans-baked-4x400g"}),
        ("200g", SMALL_BEANS),
        ("a small tin", SMALL_BEANS),
        ("4 pack", {"beans-baked-4x400g"}),
        ("multipack", {"beans-baked-4x400g"}),
    ),
)
def test_narrow_beans(index, answer, expected):
    """Test that answers about baked beans pick out the beans meant."""
    assert answered("beans", answer, index) == expected


@pytest.mark.parametrize(
    ("said", "answer", "must_keep", "must_drop"),
    [
        pytest.param("beans", "plain", {"beans-baked-400g"}, SAUSAGE_BEANS, id="plain"),
        pytest.param(
            "beans",
            "just plain baked beans",
            {"beans-baked-400g"},
            SAUSAGE_BEANS | REDUCED_BEANS,
            id="just-plain-baked-beans",
        ),
        pytest.param(
            "beans", "ordinary", {"beans-baked-400g"}, SAUSAGE_BEANS, id="ordinary"
        ),
        pytest.param("beans", "400g", BEAN_TINS_400G, SMALL_BEANS, id="400g"),
        pytest.param(
            "beans", "a big tin", {"beans-baked-400g"}, SMALL_BEANS, id="big-tin"
        ),
        pytest.param(
            "bread",
            "white",
            WHITE_SLICED,
            {"bread-wholemeal-medium-800g", "bread-brown-medium-800g"},
            id="white",
        ),
        pytest.param(
            "bread",
            "wholemeal",
            {"bread-wholemeal-medium-800g"},
            WHITE_SLICED,
            id="wholemeal",
        ),
        pytest.param(
            "bread",
            "brown",
            {"bread-brown-medium-800g"},
            WHITE_SLICED,
            id="brown",
        ),
        pytest.param(
            "tea bags",
            "80",
            {"tea-bags-80", "tea-bags-strong-80", "tea-bags-premium-80"},
            {"tea-bags-160"},
            id="80-tea-bags",
        ),
    ],
)
def test_narrow_keeps_everything_the_answer_fits(
    index, said, answer, must_keep, must_drop
):
    """Test that an answer keeps every product it describes and drops the rest."""
    left = answered(said, answer, index)
    assert must_keep <= left
    assert not must_drop & left


@pytest.mark.parametrize(
    ("answer", "expected"),
    by_answer(
        ("thick white", {"bread-white-thick-800g"}),
        ("thick sliced", {"bread-white-thick-800g"}),
        ("toastie", {"bread-white-thick-800g"}),
        ("medium sliced white", {"bread-white-medium-800g"}),
        ("medium white", {"bread-white-medium-800g"}),
        ("granary", {"bread-malted-800g"}),
        ("seeded", {"bread-seeded-800g"}),
        ("small white", {"bread-white-small-400g"}),
        ("a small loaf", SMALL_LOAVES),
        ("half loaf", {"bread-white-small-400g"}),
        ("a small brown loaf", {"bread-wholemeal-small-400g"}),
        ("bloomer", {"bread-bloomer-white"}),
        ("gluten free", {"bread-gluten-free-400g"}),
        # Half-and-half is partly wholemeal: it may stay, for the next question.
        (
            "wholmeal",
            {
                "bread-wholemeal-medium-800g",
                "bread-wholemeal-small-400g",
                "bread-half-half-800g",
            },
        ),
        ("the first one", {"bread-white-thick-800g"}),
        ("the second one", {"bread-white-medium-800g"}),
        ("the last one", {"bread-brown-medium-800g"}),
    ),
)
def test_narrow_bread(index, answer, expected):
    """Test that answers about a loaf pick out the loaf meant."""
    assert answered("a loaf", answer, index) == expected


@pytest.mark.parametrize(
    ("answer", "allowed"),
    by_answer(
        ("the smallest", SMALL_LOAVES),
        ("the cheapest", {"bread-white-small-400g"}),
    ),
)
def test_narrow_bread_smallest_and_cheapest_loaf(index, answer, allowed):
    """Test that "the smallest" loaf is a small loaf, and the cheapest is cheapest."""
    left = answered("a loaf", answer, index)
    assert left and left <= allowed


@pytest.mark.parametrize(
    ("said", "usual", "answer"),
    [
        pytest.param("milk", "milk-whole-2pt", "the usual", id="milk-the-usual"),
        pytest.param("milk", "milk-whole-2pt", "my usual", id="milk-my-usual"),
        pytest.param(
            "milk", "milk-whole-2pt", "same as usual", id="milk-same-as-usual"
        ),
        pytest.param("milk", "milk-whole-2pt", "I don't mind", id="milk-dont-mind"),
        pytest.param(
            "milk",
            "milk-whole-2pt",
            "the same as last time",
            id="milk-same-as-last-time",
        ),
        pytest.param(
            "milk", "milk-whole-2pt", "the one I always have", id="milk-always-have"
        ),
        pytest.param(
            "a loaf", "bread-wholemeal-medium-800g", "the usual", id="bread-the-usual"
        ),
        pytest.param("beans", "beans-sausages-400g", "the usual", id="beans-the-usual"),
    ],
)
def test_narrow_the_usual_is_what_was_ordered_before(index, said, usual, answer):
    """Test that "the usual" picks the product the resident has ordered before."""
    assert answered(said, answer, index, usual={usual}) == {usual}


@pytest.mark.parametrize(
    "answer",
    [
        "I don't mind",
        "i dont mind",
        "doesn't matter",
        "whichever",
        "either",
        "you choose",
    ],
)
def test_narrow_any_will_do_picks_one_product(index, answer):
    """Test that "I don't mind" with no order history settles on one product."""
    left = answered("milk", answer, index)
    assert len(left) == 1


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("milk", "what's the weather like"),
        ("milk", "hello"),
        ("milk", "yes"),
        ("milk", "no"),
        ("milk", "pardon?"),
        ("milk", "can you repeat that"),
        ("milk", "hang on"),
        ("milk", "oh I don't know"),
        ("milk", "oat"),
        ("eggs", "my daughter is coming on Sunday"),
        ("beans", "what time are you coming"),
        ("a loaf", "is that all"),
    ],
)
def test_narrow_nothing_for_an_unrelated_answer(index, said, answer):
    """Test that an answer that says nothing about the choices narrows nothing."""
    assert answered(said, answer, index) == set()


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("milk", "whole"),
        ("milk", "2 pints"),
        ("milk", "the cheapest"),
        ("eggs", "large"),
        ("beans", "the last one"),
        ("a loaf", "white"),
    ],
)
def test_narrow_never_leaves_the_candidates(index, said, answer):
    """Test that narrowing only ever keeps products that were candidates."""
    products, choice = asked_about(said, index)
    left = narrow(products, choice, answer, index)
    assert left and all(p in products for p in left)


@pytest.mark.parametrize(
    ("size", "amount"),
    [
        ("2 pints", 1136.0),
        ("1 litre", 1000.0),
        ("400g tin", 400.0),
        ("4 x 400g", 1600.0),
        ("1.5kg", 1500.0),
        ("6 pack", 6.0),
        ("80 bags", 80.0),
        ("each", None),
    ],
)
def test_size_amount_compares_sizes(size, amount):
    """Test that sizes are measured alike, so "the biggest" can compare them."""
    assert size_amount(size) == amount
