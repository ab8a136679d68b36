"""Tests of importing a shop's catalogue: all or nothing, with clear problems."""

import pytest

from assistant.catalogue import (
    DEMO_CATALOGUE,
    find_product,
    import_catalogue,
    load_products,
    read_catalogue_csv,
)
from assistant.errors import CatalogueImportError

HEADER = "sku,aisle,name,size,price_pence,aliases\n"
NEW_ROW = "scones-cheese-4pk,Bakery,Cheese Scones,4 pack,140,scones|cheese scones\n"
UPDATED_MILK = (
    "milk-semi-2pt,Dairy & Eggs,Semi-Skimmed Milk,2 pints,150,milk|semi|green top\n"
)


def product_count(db) -> int:
    return db.execute("SELECT count(*) FROM products").fetchone()[0]


def test_import_catalogue_adds_and_updates(db):
    """Test that a good file adds new products and updates existing ones."""
    before = product_count(db)

    added, updated = import_catalogue(db, HEADER + NEW_ROW + UPDATED_MILK)

    assert (added, updated) == (1, 1)
    assert product_count(db) == before + 1
    scones = find_product(db, "scones-cheese-4pk")
    assert (scones.name, scones.size, scones.price_pence) == (
        "Cheese Scones",
        "4 pack",
        140,
    )
    assert scones.aliases == ("scones", "cheese scones")
    assert find_product(db, "milk-semi-2pt").price_pence == 150


def test_import_catalogue_new_products_are_on_sale(db):
    """Test that an imported product is among the products offered."""
    import_catalogue(db, HEADER + NEW_ROW)
    assert "scones-cheese-4pk" in {p.sku for p in load_products(db)}


def test_import_catalogue_twice_changes_nothing_more(db):
    """Test that importing the same file again only updates, adding nothing."""
    import_catalogue(db, HEADER + NEW_ROW)
    before = product_count(db)
    assert import_catalogue(db, HEADER + NEW_ROW) == (0, 1)
    assert product_count(db) == before


def test_read_catalogue_csv_tidies_aliases():
    """Test that aliases are lower-cased, trimmed and empty ones dropped."""
    rows = read_catalogue_csv(
        HEADER + "x-1,Bakery,Teacakes,4 pack,110, Teacakes | TEA CAKES ||\n"
    )
    assert rows[0]["aliases"] == "teacakes|tea cakes"


def test_read_catalogue_csv_without_aliases_column():
    """Test that the aliases column may be left out."""
    rows = read_catalogue_csv(
        "sku,aisle,name,size,price_pence\nx-1,Bakery,Teacakes,4 pack,110\n"
    )
    assert [(r["sku"], r["aliases"], r["price_pence"]) for r in rows] == [
        ("x-1", "", 110)
    ]


def test_read_catalogue_csv_trims_spaces_around_values():
    """Test that stray spaces around a value do not spoil it."""
    rows = read_catalogue_csv(HEADER + "x-1 , Bakery , Teacakes , 4 pack , 110 ,\n")
    assert (rows[0]["sku"], rows[0]["name"], rows[0]["price_pence"]) == (
        "x-1",
        "Teacakes",
        110,
    )


def test_read_catalogue_csv_of_a_file_saved_by_excel():
    """Test that a file saved as "CSV UTF-8" by Excel, with a byte-order mark, reads."""
    rows = read_catalogue_csv("\ufeff" + HEADER + NEW_ROW)
    assert [r["sku"] for r in rows] == ["scones-cheese-4pk"]


def test_the_demo_catalogue_is_a_good_file():
    """Test that the shipped demo catalogue reads with no problems."""
    rows = read_catalogue_csv(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    assert len(rows) > 700


BAD_FILES = [
    pytest.param(
        "sku,aisle,name,size,aliases\nx-1,Bakery,Teacakes,4 pack,teacakes\n",
        [("the header", "price_pence")],
        id="missing-column",
    ),
    pytest.param(
        "aisle,name,size,aliases\nBakery,Teacakes,4 pack,teacakes\n",
        [("the header", "sku")],
        id="missing-sku-column",
    ),
    pytest.param(
        HEADER + NEW_ROW + "x-1,Bakery,Teacakes,4 pack,1.10,teacakes\n",
        [("line 3:", "1.10")],
        id="price-in-pounds",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,£1,teacakes\n",
        [("line 2:", "£1")],
        id="price-with-pound-sign",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,lots,teacakes\n",
        [("line 2:", "lots")],
        id="price-not-a-number",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,0,teacakes\n",
        [("line 2:", "0")],
        id="zero-price",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,-5,teacakes\n",
        [("line 2:", "-5")],
        id="negative-price",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,110,teacakes\n"
        "x-1,Bakery,Fruit Teacakes,4 pack,120,teacakes\n",
        [("line 3:", "x-1")],
        id="duplicate-sku",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,Teacakes,4 pack,110,teacakes,extra\n",
        [("line 2:", "too many")],
        id="too-many-fields",
    ),
    pytest.param(
        HEADER + "x-1,Bakery,,4 pack,110,teacakes\n",
        [("line 2:", "name")],
        id="empty-name",
    ),
    pytest.param(
        HEADER
        + NEW_ROW
        + "x-1,Bakery,Teacakes,4 pack,0,teacakes\n"
        + UPDATED_MILK
        + "x-2,Bakery,Crumpets,6 pack,1.10,crumpets\n"
        + "x-1,Bakery,Teacakes,4 pack,110,teacakes\n"
        + "x-3,Bakery,Muffins,4 pack,110,muffins,extra\n",
        [
            ("line 3:", "0"),
            ("line 5:", "1.10"),
            ("line 6:", "x-1"),
            ("line 7:", "too many"),
        ],
        id="several-problems",
    ),
]


@pytest.mark.parametrize(("text", "problems"), BAD_FILES)
def test_import_catalogue_lists_each_problem_by_line(db, text, problems):
    """Test that a bad file raises an error naming every problem and its line."""
    with pytest.raises(CatalogueImportError) as raised:
        import_catalogue(db, text)

    found = raised.value.problems
    assert len(found) == len(problems), found
    for problem, (where, what) in zip(found, problems, strict=True):
        assert problem.startswith(where), problem
        assert what in problem, problem


@pytest.mark.parametrize(("text", "problems"), BAD_FILES)
def test_import_catalogue_imports_nothing_from_a_bad_file(db, text, problems):
    """Test that not even the good rows of a bad file are imported."""
    before = product_count(db)

    with pytest.raises(CatalogueImportError):
        import_catalogue(db, text)

    assert product_count(db) == before
    assert find_product(db, "scones-cheese-4pk") is None
    assert find_product(db, "milk-semi-2pt").price_pence == 145


def test_import_catalogue_repeated_sku_names_the_first_line(db):
    """Test that a repeated sku says which line it first appeared on."""
    text = HEADER + NEW_ROW + "x-1,Bakery,Teacakes,4 pack,110,\n" + NEW_ROW
    with pytest.raises(CatalogueImportError) as raised:
        import_catalogue(db, text)
    assert raised.value.problems == ["line 4: sku 'scones-cheese-4pk' repeats line 2"]


def test_catalogue_import_error_has_a_stable_code():
    """Test that the error carries its code and says how many rows were bad."""
    error = CatalogueImportError(["line 2: empty name", "line 3: empty size"])
    assert error.code == "catalogue-bad-rows"
    assert str(error) == "[catalogue-bad-rows] 2 bad row(s); nothing was imported"
