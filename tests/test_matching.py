"""Tests of finding catalogue products in residents' words, and catalogue coverage."""

import os
import subprocess
import sys

import pytest

from assistant.catalogue import Product
from assistant.choosing import make_choice, narrow
from assistant.config import PROJECT_ROOT
from assistant.matching import ProductIndex, distinguishing_labels, is_unit
from assistant.parsing import parse_request

# Builds the index from the demo CSV without a database, and prints what each
# word on the command line is corrected to.
CORRECT_IN_A_FRESH_PROCESS = """
import sys
from assistant.catalogue import DEMO_CATALOGUE, Product, read_catalogue_csv
from assistant.catalogue import split_aliases
from assistant.matching import ProductIndex

rows = read_catalogue_csv(DEMO_CATALOGUE.read_text(encoding="utf-8"))
index = ProductIndex([
    Product(r["sku"], r["aisle"], r["name"], r["size"], r["price_pence"],
            split_aliases(r["aliases"]))
    for r in rows
])
print(" ".join(str(index.correct(word)) for word in sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("brocoli", "broccoli"),
        ("broccolli", "broccoli"),
        ("sausge", "sausage"),
        ("sossage", "sausage"),
        ("tomatoe", "tomato"),
        ("potatoe", "potato"),
        ("bananna", "banana"),
        ("yoghourt", "yoghurt"),
        ("yoghert", "yoghurt"),
        ("chedder", "cheddar"),
        ("marmalaid", "marmalade"),
        ("marmelade", "marmalade"),
        ("margerine", "margarine"),
        ("coffe", "coffee"),
        ("buttar", "butter"),
        ("weetabics", "weetabix"),
        ("lettice", "lettuce"),
        ("cabbige", "cabbage"),
        ("colliflower", "cauliflower"),
        ("onyon", "onion"),
        ("mushrom", "mushroom"),
        ("custerd", "custard"),
        ("pinapple", "pineapple"),
        ("chiken", "chicken"),
        ("mackeral", "mackerel"),
        ("samon", "salmon"),
        ("biscit", "biscuit"),
        ("biscut", "biscuit"),
        ("bisquit", "biscuit"),
        ("oringe", "orange"),
        ("digestiv", "digestive"),
        ("spagetti", "spaghetti"),
        ("lemonaid", "lemonade"),
        ("aubergene", "aubergine"),
        ("mayonaise", "mayonnaise"),
        ("ketchop", "ketchup"),
        ("gravey", "gravy"),
        ("choclate", "chocolate"),
        ("crumpit", "crumpet"),
        ("toothpast", "toothpaste"),
        ("deoderant", "deodorant"),
        ("paracetemol", "paracetamol"),
        ("asprin", "aspirin"),
        ("vasaline", "vaseline"),
        ("skimed", "skimmed"),
        ("seriel", "cereal"),
        ("cerial", "cereal"),
        ("vinager", "vinegar"),
        ("cucumba", "cucumber"),
        ("appel", "apple"),
        ("toona", "tuna"),
    ],
)
def test_correct_forgives_misspellings(index, typed, expected):
    """Test that a misspelt product word is corrected to the catalogue's word."""
    corrected = index.correct(typed)
    assert corrected == expected


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        pytest.param("serial", "cereal", id="serial-for-cereal"),
        pytest.param("plumb", "plum", id="plumb-for-plum"),
        pytest.param("leak", "leek", id="leak-for-leek"),
        pytest.param("stake", "steak", id="stake-for-steak"),
        pytest.param("flower", "flour", id="flower-for-flour"),
        pytest.param("source", "sauce", id="source-for-sauce"),
        pytest.param("tuner", "tuna", id="tuner-for-tuna"),
    ],
)
def test_correct_finds_words_speech_recognition_mishears(index, heard, expected):
    """Test that a real word heard in place of a product word finds the product."""
    corrected = index.correct(heard)
    assert corrected == expected


@pytest.mark.parametrize(
    "word",
    [
        "please",
        "love",
        "hello",
        "first",
        "said",
        "weather",
        "daughter",
        "grandson",
        "visiting",
        "margaret",
        "tuesday",
        "nuisance",
        "poorly",
        "doctor",
        "neighbour",
        "birthday",
        "lottery",
        "caviar",
        "champagne",
        "truffle",
        "lobster",
    ],
)
def test_correct_leaves_words_that_name_no_product(index, word):
    """Test that chatter and things the shop does not sell are not "corrected"."""
    corrected = index.correct(word)
    assert corrected is None


def test_correct_is_the_same_in_every_process():
    """Test that a misspelling with two near words is corrected alike every run.

    "suger" is one letter from both "sugar" and "super"; which one wins must not
    depend on the process's string hashing.
    """
    answers = set()
    for seed in range(6):
        finished = subprocess.run(
            [sys.executable, "-c", CORRECT_IN_A_FRESH_PROCESS, "suger"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        )
        answers.add(finished.stdout.strip())
    assert answers == {"sugar"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(
            ("green", "top"),
            {"milk-semi-1pt", "milk-semi-2pt", "milk-semi-4pt"},
            id="green-top",
        ),
        pytest.param(
            ("washing", "up", "liquid"),
            {"washing-up-liquid-500ml", "washing-up-liquid-lemon-500ml"},
            id="washing-up-liquid",
        ),
        pytest.param(
            ("salt", "vinegar", "crisp"),
            {"crisps-salt-vinegar-6pk"},
            id="salt-and-vinegar-crisps",
        ),
        pytest.param(
            ("loo", "roll"),
            {"toilet-roll-4", "toilet-roll-9", "toilet-roll-quilted-9"},
            id="loo-roll",
        ),
        pytest.param(("broccoli",), {"broccoli-each"}, id="broccoli"),
    ],
)
def test_lookup_of_names_and_aliases(index, words, expected):
    """Test that a run of catalogue words names exactly the products it should."""
    match = index.lookup(words)
    assert match is not None
    assert {p.sku for p in match.products} == expected


def test_lookup_puts_the_shops_usual_product_first(index):
    """Test that "milk" offers the shop's usual milk before the others."""
    match = index.lookup(("milk",))
    assert match.products[0].sku == "milk-semi-1pt"
    assert not match.is_unique


@pytest.mark.parametrize(
    "words", [(), ("caviar",), ("milk", "caviar")], ids=["nothing", "caviar", "mixed"]
)
def test_lookup_of_words_that_name_nothing(index, words):
    """Test that words naming no product look up to nothing."""
    assert index.lookup(words) is None


@pytest.mark.parametrize(
    ("text", "expected_sku_start"),
    [
        ("appels", "apples-"),
        ("sossages", "sausages-"),
        ("pairs", "pears-"),
        ("leaks", "leeks-"),
        ("beat root", "beetroot-"),
        ("bisto gravy", "gravy-"),
        ("seriel", "cereal-"),
        ("toona", "tuna-"),
    ],
)
def test_closest_suggests_the_product_meant(index, text, expected_sku_start):
    """Test that suggestions for a word not understood include the product meant."""
    suggested = index.closest(text)
    assert any(p.sku.startswith(expected_sku_start) for p in suggested), [
        p.sku for p in suggested
    ]


@pytest.mark.parametrize("text", ["caviar", "champagne", "lobster", "quinoa", "xyzzy"])
def test_closest_suggests_nothing_for_what_looks_like_no_product(index, text):
    """Test that a thing the shop does not sell gets no far-fetched suggestions."""
    suggested = [p.sku for p in index.closest(text)]
    assert suggested == []


def test_closest_returns_at_most_the_limit(index):
    """Test that suggestions are kept to the number asked for."""
    assert 0 < len(index.closest("tea", limit=2)) <= 2


def test_distinguishing_labels_name_what_differs(index):
    """Test that labels drop the shared word: "semi-skimmed", "whole"."""
    products = tuple(
        index.by_sku[s] for s in ("milk-semi-2pt", "milk-whole-2pt", "milk-skimmed-2pt")
    )
    assert distinguishing_labels(products) == ["semi-skimmed", "whole", "skimmed"]


def test_distinguishing_labels_add_sizes_when_names_are_alike(index):
    """Test that products with the same name are told apart by size."""
    products = (index.by_sku["milk-semi-1pt"], index.by_sku["milk-semi-2pt"])
    labels = distinguishing_labels(products)
    assert len(set(labels)) == 2
    assert "1 pint" in labels[0] and "2 pints" in labels[1]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("tins", True), ("pints", True), ("loaf", True), ("milk", False), ("eggs", False)],
)
def test_is_unit_for_containers_and_measures(word, expected):
    """Test that containers and measures are units, products are not."""
    assert is_unit(word) is expected


def test_index_of_a_small_catalogue():
    """Test that an index built from a handful of products finds them."""
    products = [
        Product("a", "Dairy", "Whole Milk", "2 pints", 145, ("milk", "blue top")),
        Product("b", "Dairy", "Salted Butter", "250g", 225, ("butter",)),
    ]
    index = ProductIndex(products)
    assert index.lookup(("blue", "top")).products == (products[0],)
    assert index.correct("buttar") == "butter"
    assert index.correct("caviar") is None


# The whole catalogue: every product must be findable by its own name and by
# each of its aliases, as a resident might write them.


def offered(product: Product, text: str, index: ProductIndex) -> bool:
    """Whether reading `text` offers `product` among an item's candidates."""
    parsed = parse_request(text, index)
    return any(
        item.match is not None and product in item.match.products
        for item in parsed.items
    )


def picked_out_by_name(product: Product, index: ProductIndex) -> bool:
    """Whether answering "which one?" with the name and size reaches `product`.

    The assistant may ask more than once (variety, then size), so the same
    answer is given to each question, up to three.
    """
    parsed = parse_request(f"a {product.name.lower()} please", index)
    items = [i for i in parsed.items if i.match and product in i.match.products]
    if not items:
        return False
    candidates = list(items[0].match.products)
    for _ in range(3):
        if len(candidates) == 1:
            break
        choice = make_choice(candidates, items[0].said)
        left = narrow(candidates, choice, f"{product.name} {product.size}", index)
        if not left or left == candidates:
            return False
        candidates = left
    return candidates == [product]


def summary(failures: list[str], total: int, what: str) -> str:
    return f"{len(failures)} of {total} {what}:\n" + "\n".join(failures)


def test_every_product_is_found_by_its_own_name(index):
    """Test that "a <product name> please" offers that product."""
    failures = [
        f"{p.sku}: {p.name!r}"
        for p in index.products
        if not offered(p, f"a {p.name.lower()} please", index)
    ]
    assert not failures, summary(failures, len(index.products), "products missed")


def test_every_product_name_reads_as_one_item(index):
    """Test that a product's own name is read as one item, with nothing unknown."""
    failures = []
    for product in index.products:
        parsed = parse_request(f"a {product.name.lower()} please", index)
        if len(parsed.items) != 1 or parsed.unknown:
            said = [item.said for item in parsed.items]
            failures.append(f"{product.name!r}: items {said}, unknown {parsed.unknown}")
    assert not failures, summary(failures, len(index.products), "names split up")


def test_every_product_is_picked_out_by_its_name_and_size(index):
    """Test that answering the question with name and size reaches the product."""
    failures = [
        f"{p.sku}: {p.name!r} {p.size!r}"
        for p in index.products
        if not picked_out_by_name(p, index)
    ]
    assert not failures, summary(failures, len(index.products), "not picked out")


def test_every_alias_offers_its_product(index):
    """Test that "a <alias> please" offers the product the alias belongs to."""
    pairs = [(p, alias) for p in index.products for alias in p.aliases]
    failures = [
        f"{p.sku}: {alias!r}"
        for p, alias in pairs
        if not offered(p, f"a {alias} please", index)
    ]
    assert not failures, summary(failures, len(pairs), "aliases missed")


def test_every_alias_reads_as_one_item(index):
    """Test that each alias is read as one item, with nothing unknown."""
    pairs = [(p, alias) for p in index.products for alias in p.aliases]
    failures = []
    for product, alias in pairs:
        parsed = parse_request(f"a {alias} please", index)
        if len(parsed.items) != 1 or parsed.unknown:
            said = [item.said for item in parsed.items]
            failures.append(
                f"{product.sku}: {alias!r}: items {said}, unknown {parsed.unknown}"
            )
    assert not failures, summary(failures, len(pairs), "aliases split up")
