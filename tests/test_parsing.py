"""Tests of reading a shopping request: products, quantities, what was unknown."""

import pytest

from assistant.parsing import ItemRequest, numbers_said, parse_request

FOUR_PINTS = {"milk-semi-4pt", "milk-whole-4pt"}
SIX_EGGS = {"eggs-free-range-medium-6", "eggs-free-range-large-6"}
DOZEN_EGGS = {"eggs-free-range-medium-12"}
ONE_KG_CARROTS = {"carrots-1kg", "frozen-carrots-1kg"}
BEAN_TINS_400G = {"beans-baked-400g", "beans-reduced-sugar-400g", "beans-sausages-400g"}


def by_text(*rows: tuple) -> list:
    """Parameters named by the message they read."""
    return [pytest.param(*row, id=row[0]) for row in rows]


def only_item(text: str, index) -> ItemRequest:
    """The one item read from `text`, checking nothing else was read."""
    parsed = parse_request(text, index)
    assert len(parsed.items) == 1, [item.said for item in parsed.items]
    assert parsed.unknown == []
    return parsed.items[0]


def skus(item: ItemRequest) -> set[str]:
    assert item.match is not None
    return {product.sku for product in item.match.products}


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("cucumber", 1),
        ("a cucumber", 1),
        ("an aubergine", 1),
        ("one cucumber", 1),
        ("1 cucumber", 1),
        ("a single cucumber", 1),
        ("2 cucumbers", 2),
        ("two cucumbers", 2),
        ("three cucumbers", 3),
        ("5 cucumbers", 5),
        ("ten cucumbers", 10),
        ("twelve cucumbers", 12),
        ("fifteen cucumbers", 15),
        ("twenty cucumbers", 20),
        ("twenty four cucumbers", 24),
        ("twenty-four cucumbers", 24),
        ("24 cucumbers", 24),
        ("a dozen cucumbers", 12),
        ("half a dozen cucumbers", 6),
        ("half dozen cucumbers", 6),
        ("two dozen cucumbers", 24),
        ("a couple of cucumbers", 2),
        ("couple of cucumbers", 2),
        ("a pair of cucumbers", 2),
        ("a few cucumbers", 3),
        ("2x cucumber", 2),
        ("2 x cucumber", 2),
        ("x2 cucumber", 2),
        ("3 brocoli", 3),
        ("can I have 2 cucumbers", 2),
        ("I want to buy a cucumber", 1),
        pytest.param("to cucumbers", 2, id="to-heard-for-two"),
        pytest.param("too cucumbers", 2, id="too-heard-for-two"),
        ("cucumber times two", 2),
    ],
)
def test_parse_request_reads_quantity_words(index, text, quantity):
    """Test that digits, number words and everyday amounts give the quantity."""
    item = only_item(text, index)
    assert item.quantity == quantity


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("cucumber x 2", 2),
        ("cucumbers x2", 2),
        ("cucumber 2x", 2),
        ("cucumbers, 3 please", 3),
        ("tomatos x 6", 6),
        ("onions x 2", 2),
        ("milk x2", 2),
        ("beans x 2", 2),
        ("tea bags x 2", 2),
    ],
)
def test_parse_request_reads_trailing_quantities(index, text, quantity):
    """Test that a quantity written after the product counts: "tomatos x 6"."""
    item = only_item(text, index)
    assert item.quantity == quantity


@pytest.mark.parametrize(
    ("text", "quantities"),
    [
        ("tomatos x 6, onions x 2", [6, 2]),
        ("milk x2 bread x1", [2, 1]),
        ("milk 2 bread 1", [2, 1]),
        ("bananas 3, apples 4", [3, 4]),
    ],
)
def test_parse_request_reads_trailing_quantities_in_a_list(index, text, quantities):
    """Test that each product in a list takes the quantity written after it."""
    parsed = parse_request(text, index)
    assert [item.quantity for item in parsed.items] == quantities


def test_parse_request_one_or_two_is_not_three(index):
    """Test that "one or two" asks for one or two, not three."""
    item = only_item("one or two cucumbers", index)
    assert item.quantity in (1, 2)


@pytest.mark.parametrize(
    ("text", "given"),
    [("cucumber", False), ("some milk", False), ("a cucumber", True), ("2 milk", True)],
)
def test_parse_request_says_whether_a_quantity_was_given(index, text, given):
    """Test that the item says whether the resident gave a quantity."""
    item = only_item(text, index)
    assert item.quantity_given is given


@pytest.mark.parametrize(
    ("text", "quantity", "expected"),
    by_text(
        ("two pints of semi-skimmed", 1, {"milk-semi-2pt"}),
        ("2 pints of semi skimmed milk", 1, {"milk-semi-2pt"}),
        ("four pints of semi skimmed", 1, {"milk-semi-4pt"}),
        ("a pint of milk", 1, {"milk-semi-1pt", "milk-whole-1pt"}),
        ("4 pints of milk", 1, FOUR_PINTS),
        ("a litre of milk", 1, {"milk-uht-semi-1l", "milk-lactose-free-1l"}),
        ("a 4 pint semi skimmed", 1, {"milk-semi-4pt"}),
        ("a 4 pint milk", 1, FOUR_PINTS),
        ("two 2 pint semi skimmed milk", 2, {"milk-semi-2pt"}),
        ("2 x 2 pints of semi skimmed", 2, {"milk-semi-2pt"}),
        ("a dozen eggs", 1, DOZEN_EGGS),
        ("1 dozen eggs", 1, DOZEN_EGGS),
        ("a dozen free range eggs", 1, DOZEN_EGGS),
        ("twelve eggs", 1, DOZEN_EGGS),
        ("a 12 pack of eggs", 1, DOZEN_EGGS),
        ("a box of 12 eggs", 1, DOZEN_EGGS),
        ("half a dozen eggs", 1, SIX_EGGS),
        ("half a dozen free range eggs", 1, SIX_EGGS),
        ("half a dozen large eggs", 1, {"eggs-free-range-large-6"}),
        ("six eggs", 1, SIX_EGGS),
        ("6 eggs", 1, SIX_EGGS),
        ("a box of 6 eggs", 1, SIX_EGGS),
        ("a 9 pack of loo roll", 1, {"toilet-roll-9", "toilet-roll-quilted-9"}),
        ("a 4 pack of toilet rolls", 1, {"toilet-roll-4"}),
        ("2kg of potatoes", 1, {"potatoes-maris-piper-2kg"}),
        ("a kilo of carrots", 1, ONE_KG_CARROTS),
        ("a 1kg bag of carrots", 1, ONE_KG_CARROTS),
        ("a small tin of beans", 1, {"beans-baked-200g"}),
        ("a 200g tin of beans", 1, {"beans-baked-200g"}),
        ("two 400g tins of beans", 2, BEAN_TINS_400G),
        ("a 2 litre bottle of lemonade", 1, {"lemonade-2l"}),
        ("a small white loaf", 1, {"bread-white-small-400g"}),
        ("a pair of rubber gloves", 1, {"rubber-gloves-medium", "rubber-gloves-large"}),
    ),
)
def test_parse_request_reads_sizes_as_well_as_quantities(
    index, text, quantity, expected
):
    """Test that "two pints", "a dozen" or "a 9 pack" pick a size, not a count."""
    item = only_item(text, index)
    assert (item.quantity, skus(item)) == (quantity, expected)


@pytest.mark.parametrize(
    ("text", "kept", "left_out"),
    [
        pytest.param(
            "two tins of beans",
            {"beans-baked-400g", "beans-baked-200g"},
            {"beans-baked-4x400g"},
            id="tins-are-not-a-multipack",
        ),
        pytest.param(
            "a tin of tomatoes",
            {"tomatoes-chopped-400g", "tomatoes-plum-400g"},
            {"tomatoes-6pk", "tomatoes-cherry-250g"},
            id="tinned-tomatoes-not-fresh",
        ),
        pytest.param(
            "tin of cat food",
            {"cat-tin-chunks-400g"},
            {"cat-pouches-jelly-12pk"},
            id="cat-food-tins-not-pouches",
        ),
        pytest.param(
            "a packet of biscuits",
            {"biscuits-digestives-400g", "biscuits-rich-tea-300g"},
            set(),
            id="any-packet-of-biscuits",
        ),
        pytest.param(
            "a pack of yoghurts",
            {"yoghurt-strawberry-4pk"},
            set(),
            id="a-pack-of-yoghurts",
        ),
    ],
)
def test_parse_request_keeps_products_that_come_as_asked(index, text, kept, left_out):
    """Test that "a tin of", "a packet of" keep the products that come that way."""
    found = skus(only_item(text, index))
    assert kept <= found
    assert not left_out & found


@pytest.mark.parametrize(
    ("text", "expected"),
    by_text(
        (
            "two pints of semi-skimmed and a loaf",
            ["milk-semi-2pt", "bread-white-thick-800g"],
        ),
        (
            "a pint of milk, a loaf and half a dozen eggs",
            ["milk-semi-1pt", "bread-white-thick-800g", "eggs-free-range-medium-6"],
        ),
        (
            "milk bread and eggs",
            ["milk-semi-2pt", "bread-white-thick-800g", "eggs-mixed-weight-15"],
        ),
        (
            "milk bread eggs",
            ["milk-semi-2pt", "bread-white-thick-800g", "eggs-mixed-weight-15"],
        ),
        (
            "beans, bread, butter and a dozen eggs",
            [
                "beans-baked-400g",
                "bread-white-thick-800g",
                "butter-salted-250g",
                "eggs-free-range-medium-12",
            ],
        ),
        (
            "cheese and onion crisps and a loaf",
            ["crisps-cheese-onion-6pk", "bread-white-thick-800g"],
        ),
        (
            "a loaf and salt and vinegar crisps",
            ["bread-white-thick-800g", "crisps-salt-vinegar-6pk"],
        ),
        (
            "salt and vinegar crisps and some milk",
            ["crisps-salt-vinegar-6pk", "milk-semi-2pt"],
        ),
        (
            "bread butter and jam",
            ["bread-white-thick-800g", "butter-salted-250g", "jam-strawberry-454g"],
        ),
        (
            "tea, coffee and sugar",
            ["tea-bags-80", "coffee-instant-200g", "sugar-granulated-1kg"],
        ),
        (
            "sausages, bacon and eggs",
            ["sausages-pork-8pk", "bacon-back-smoked-300g", "eggs-mixed-weight-15"],
        ),
        ("fish fingers and peas", ["fish-fingers-10pk", "frozen-peas-1kg"]),
        (
            "washing up liquid and bin bags",
            ["washing-up-liquid-500ml", "bin-bags-black-20pk"],
        ),
        (
            "a bag of spuds and a tub of marge",
            ["potatoes-white-2-5kg", "spread-sunflower-500g"],
        ),
        ("toilet roll and kitchen roll", ["toilet-roll-9", "kitchen-roll-2"]),
        ("apples and pears", ["apples-gala-6pk", "pears-conference-4pk"]),
        (
            "custard creams and rich tea",
            ["biscuits-custard-creams-400g", "biscuits-rich-tea-300g"],
        ),
        ("green top milk and a loaf", ["milk-semi-2pt", "bread-white-thick-800g"]),
        (
            "2 tins of beans 1 loaf 2 cucumbers",
            ["beans-baked-400g", "bread-white-thick-800g", "cucumber-each"],
        ),
        (
            "a loaf\nsome milk\n2 cucumbers",
            ["bread-white-thick-800g", "milk-semi-2pt", "cucumber-each"],
        ),
        ("some milk. also a loaf.", ["milk-semi-2pt", "bread-white-thick-800g"]),
    ),
)
def test_parse_request_finds_several_products_in_one_message(index, text, expected):
    """Test that each product asked for is one item, in the order asked."""
    parsed = parse_request(text, index)
    assert len(parsed.items) == len(expected), [item.said for item in parsed.items]
    for item, sku in zip(parsed.items, expected, strict=True):
        assert sku in skus(item), (item.said, sku)
    assert parsed.unknown == []


def test_parse_request_keeps_each_quantity_with_its_product(index):
    """Test that "two tins of beans, a loaf and three cucumbers" keeps 2, 1, 3."""
    parsed = parse_request("two tins of beans, a loaf and three cucumbers", index)
    assert [item.quantity for item in parsed.items] == [2, 1, 3]


def test_parse_request_a_size_first_is_not_a_trailing_quantity(index):
    """Test that "2 pints of milk and a dozen eggs" keeps the 12 with the eggs."""
    milk, eggs = parse_request("2 pints of milk and a dozen eggs", index).items
    assert milk.quantity == 1
    assert {p.size for p in milk.match.products} == {"2 pints"}
    assert (eggs.quantity, {p.size for p in eggs.match.products}) == (1, {"12 pack"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("marge", "spread-sunflower-500g"),
        ("a tub of marge", "spread-sunflower-500g"),
        ("spuds", "potatoes-white-2-5kg"),
        ("a bag of spuds", "potatoes-white-2-5kg"),
        ("taters", "potatoes-white-2-5kg"),
        ("loo roll", "toilet-roll-9"),
        ("a pack of loo rolls", "toilet-roll-9"),
        ("bog roll", "toilet-roll-9"),
        ("toilet paper", "toilet-roll-9"),
        ("green top", "milk-semi-2pt"),
        ("blue top", "milk-whole-2pt"),
        ("red top", "milk-skimmed-2pt"),
        ("full fat milk", "milk-whole-2pt"),
        ("kitchen towel", "kitchen-roll-2"),
        ("fairy liquid", "washing-up-liquid-500ml"),
        ("washing-up liquid", "washing-up-liquid-500ml"),
        ("bangers", "sausages-pork-8pk"),
        ("bisto", "gravy-granules-beef-200g"),
        ("oxo cubes", "stock-cubes-beef-12pk"),
        ("hobnobs", "biscuits-oat-300g"),
        ("jammie dodgers", "biscuits-jam-sandwich-400g"),
        ("kleenex", "tissues-box"),
        ("paper hankies", "tissues-box"),
        ("marigolds", "rubber-gloves-medium"),
        ("a pot noodle", "noodles-pot-chicken-mushroom"),
        ("squirty cream", "cream-aerosol-250g"),
        ("a french stick", "baguette-white"),
        ("baps", "rolls-white-6pk"),
        ("satsumas", "easy-peelers-600g"),
        ("hp sauce", "brown-sauce-450g"),
        ("a tin of evap", "evaporated-milk-410g"),
        ("weetabix", "cereal-wheat-biscuits-24pk"),
        ("corn flakes", "cereal-cornflakes-500g"),
        ("mushy peas", "peas-mushy-300g"),
        ("a packet of digestives", "biscuits-digestives-400g"),
        ("salt and vinegar crisps", "crisps-salt-vinegar-6pk"),
        ("cheese and onion crisps", "crisps-cheese-onion-6pk"),
        ("washing up liquid", "washing-up-liquid-500ml"),
        ("a bottle of bleach", "bleach-thick-750ml"),
        ("cat food", "cat-tin-chunks-400g"),
        ("a loaf", "bread-white-thick-800g"),
        ("2 loaves", "bread-white-medium-800g"),
    ],
)
def test_parse_request_knows_everyday_names(index, text, expected):
    """Test that the names people use ("marge", "spuds", "green top") find it."""
    assert expected in skus(only_item(text, index))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("brocoli", "broccoli-each"),
        ("a head of brocoli", "broccoli-each"),
        ("sausges", "sausages-pork-8pk"),
        ("some sausges please", "sausages-pork-8pk"),
        ("sossages", "sausages-pork-8pk"),
        ("tomatos", "tomatoes-6pk"),
        ("potatos", "potatoes-white-2-5kg"),
        ("a bag of potatos", "potatoes-white-2-5kg"),
        ("bannanas", "bananas-5pk"),
        ("yoghourt", "yoghurt-natural-500g"),
        ("biscits", "biscuits-digestives-400g"),
        ("a packet of biscits", "biscuits-digestives-400g"),
        ("chedder cheese", "cheese-cheddar-mature-400g"),
        ("a jar of marmalaid", "marmalade-thick-454g"),
        ("coffe", "coffee-instant-200g"),
        ("wholemeel bread", "bread-wholemeal-medium-800g"),
        ("a cabbige", "cabbage-savoy"),
        ("colliflower", "cauliflower-each"),
        ("mushroms", "mushrooms-300g"),
        ("lettice", "lettuce-iceberg"),
        ("a bag of oringes", "oranges-4pk"),
        ("seriel", "cereal-cornflakes-500g"),
        ("a box of seriel", "cereal-cornflakes-500g"),
        ("appels", "apples-gala-6pk"),
        ("a tin of toona", "tuna-brine-145g"),
        ("a cucumba", "cucumber-each"),
        ("vinager", "vinegar-malt-568ml"),
        ("fish fingas", "fish-fingers-10pk"),
    ],
)
def test_parse_request_forgives_misspellings(index, text, expected):
    """Test that misspelt products are still found: "brocoli", "sausges"."""
    assert expected in skus(only_item(text, index))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("serial", "cereal-cornflakes-500g", id="serial"),
        pytest.param("plumbs", "plums-400g", id="plumbs"),
        pytest.param("chilly con carne", "meal-chilli-con-carne-400g", id="chilly"),
        pytest.param(
            "a bag of self raising flower",
            "flour-self-raising-1-5kg",
            id="raising-flower",
        ),
        pytest.param("a bag of flower", "flour-plain-1-5kg", id="flower"),
        pytest.param("two leaks", "leeks-500g", id="leaks"),
        pytest.param("a bag of pairs", "pears-conference-4pk", id="pairs"),
        pytest.param("a rump stake", "beef-rump-steak-225g", id="rump-stake"),
        pytest.param("two stakes", "beef-rump-steak-225g", id="stakes"),
        pytest.param("a box of tee bags", "tea-bags-80", id="tee-bags"),
        pytest.param("a bottle of brown source", "brown-sauce-450g", id="source"),
        pytest.param("a tin of tuner", "tuna-brine-145g", id="tuner"),
        pytest.param(
            "whole meal bread", "bread-wholemeal-medium-800g", id="whole-meal"
        ),
        pytest.param("sweet corn", "sweetcorn-325g", id="sweet-corn"),
        pytest.param("beat root", "beetroot-cooked-250g", id="beat-root"),
    ],
)
def test_parse_request_finds_words_speech_recognition_mishears(index, text, expected):
    """Test that a request heard with a sound-alike word still finds the product."""
    assert expected in skus(only_item(text, index))


def test_parse_request_tee_bags_are_not_freezer_bags(index):
    """Test that "tee bags" offers tea bags, not every kind of bag."""
    parsed = parse_request("a box of tee bags", index)
    offered = {
        p.sku for item in parsed.items if item.match for p in item.match.products
    }
    assert "freezer-bags-50pk" not in offered


@pytest.mark.parametrize(
    ("text", "expected"),
    by_text(
        ("hello love could you pop in a loaf for my tea", "bread-white-thick-800g"),
        (
            "Morning! Hope you're well. Could I have a loaf please",
            "bread-white-thick-800g",
        ),
        ("Hiya, just a loaf today ta", "bread-white-thick-800g"),
        ("Just a loaf for me today, my hip is playing up", "bread-white-thick-800g"),
        ("Sorry to be a nuisance but could you get me some milk", "milk-semi-2pt"),
        ("hello dear it's Margaret, two pints of milk please", "milk-semi-2pt"),
        ("can you bring me a loaf when you come on Tuesday", "bread-white-thick-800g"),
        ("morning dear, I'd like some milk please", "milk-semi-2pt"),
        ("I'm out of milk", "milk-semi-2pt"),
        ("I've run out of tea bags", "tea-bags-80"),
        ("we're low on butter", "butter-salted-250g"),
        ("could you add a pint of milk to my order", "milk-semi-1pt"),
        ("my grandson likes the chocolate digestives", "biscuits-choc-digestives-300g"),
        ("oh and some biscuits for the grandchildren", "biscuits-digestives-400g"),
        ("my daughter is visiting so a cake please", "cake-victoria-sponge"),
        ("I'd like a cod for my tea", "cod-fillets-2pk"),
        ("a bottle of vinegar for my chips", "vinegar-malt-568ml"),
        ("can you get me a tin of soup, thanks ever so much", "soup-tomato-400g"),
        ("a nice bit of cheese", "cheese-cheddar-mature-400g"),
        ("a big bag of potatoes", "potatoes-white-2-5kg"),
    ),
)
def test_parse_request_ignores_chatter(index, text, expected):
    """Test that friendly chatter around a request adds nothing to it."""
    assert expected in skus(only_item(text, index))


@pytest.mark.parametrize(
    ("text", "unknown", "items"),
    by_text(
        ("caviar", ["caviar"], 0),
        ("two tins of caviar", ["caviar"], 0),
        ("a bottle of champagne", ["champagne"], 0),
        ("a lobster", ["lobster"], 0),
        ("quinoa", ["quinoa"], 0),
        ("a packet of fags", ["fags"], 0),
        ("some stamps", ["stamps"], 0),
        ("two pints of milk and a bottle of champagne", ["champagne"], 1),
        ("caviar and a loaf", ["caviar"], 1),
        ("a loaf and some caviar", ["caviar"], 1),
        ("milk and some quinoa", ["quinoa"], 1),
        ("a lottery ticket", ["lottery ticket"], 0),
        ("some truffles", ["truffles"], 0),
    ),
)
def test_parse_request_reports_products_it_does_not_know(index, text, unknown, items):
    """Test that a product the shop does not sell is reported, not guessed."""
    parsed = parse_request(text, index)
    assert (parsed.unknown, len(parsed.items)) == (unknown, items)


@pytest.mark.parametrize(
    "text",
    [
        "yes please",
        "no",
        "thank you",
        "what time will it come",
        "can I speak to a person",
        "I said two",
        "lovely, thanks dear",
        "is it going to rain tomorrow",
    ],
)
def test_parse_request_reads_no_products_in_conversation(index, text):
    """Test that a message with no shopping in it reads as nothing at all."""
    parsed = parse_request(text, index)
    assert (parsed.items, parsed.unknown) == ([], [])


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("another one of those", 1),
        ("one more of those please", 1),
        ("same again", 1),
        ("can I have another", 1),
        ("two more of those", 2),
        ("3 of them", 3),
    ],
)
def test_parse_request_reads_references_to_the_last_product(index, text, quantity):
    """Test that "another one of those" refers to the product just talked about."""
    parsed = parse_request(text, index)
    assert len(parsed.items) == 1
    item = parsed.items[0]
    assert (item.refers_to_last, item.match, item.quantity) == (True, None, quantity)


def test_parse_request_another_loaf_is_a_loaf(index):
    """Test that "another loaf" names a loaf rather than the last product."""
    item = only_item("another loaf", index)
    assert not item.refers_to_last
    assert "bread-white-thick-800g" in skus(item)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("I said two not three", [2, 3]),
        ("make it 4", [4]),
        ("make it four", [4]),
        ("change it to 3", [3]),
        ("no, three", [3]),
        ("sorry I meant six", [6]),
        ("i said 2 not 20", [2, 20]),
        ("5 not 4", [5, 4]),
        ("make it 2 instead of 3", [2, 3]),
        ("twenty four", [24]),
        ("twenty-four", [24]),
        ("a dozen", [12]),
        ("make that a dozen", [12]),
        ("a couple", [2]),
        ("just the one", [1]),
        ("too many, just one", [1]),
        ("half a dozen", [6]),
        ("not 3, 2", [3, 2]),
        ("no thanks", []),
        ("I said to", []),
    ],
)
def test_numbers_said_for_corrections(text, numbers):
    """Test that every quantity in a correction is found, in order."""
    assert numbers_said(text) == numbers
