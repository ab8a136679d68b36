"""The `helping-hands` command line: help for every command, seeding, imports."""

import os
import subprocess
import sys

import pytest

from assistant.cli import build_parser
from assistant.config import PROJECT_ROOT
from assistant.store import open_database

GOOD_CSV = (
    "sku,aisle,name,size,price_pence,aliases\n"
    "rose-harissa-90g,Tins & Jars,Rose Harissa Paste,90g,150,harissa|chilli paste\n"
    "bananas-5pk,Fruit & Veg,Bananas,5 pack,99,bananas|banana\n"
)
BAD_CSV = (
    "sku,aisle,name,size,price_pence,aliases\n"
    "jam-1,Tins & Jars,Raspberry Jam,340g,1.50,jam\n"
    "jam-2,Tins & Jars,Apricot Jam,340g,0,jam\n"
    "jam-3,Tins & Jars,Plum Jam,340g,150,jam\n"
    "jam-3,Tins & Jars,Plum Jam Again,340g,150,jam\n"
    "jam-4,Tins & Jars,,340g,150,jam\n"
    "jam-5,Tins & Jars,Damson Jam,340g,150,jam,extra\n"
)


def run_cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HH_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["gateway"],
        ["chat"],
        ["sms"],
        ["train"],
        ["seed"],
        ["catalogue", "import"],
        ["volunteer", "add"],
        ["volunteer", "duty"],
    ],
    ids=lambda c: " ".join(c),
)
def test_cli_every_command_explains_itself(command, capsys):
    """Test that every command has help text that names what it does."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert len(capsys.readouterr().out.strip().splitlines()) >= 3


def test_cli_seed_creates_the_store_with_demo_data(tmp_path):
    """Test that `seed` makes the database with the catalogue and demo resident."""
    result = run_cli(tmp_path, "seed")
    assert result.returncode == 0, result.stderr
    db = open_database(tmp_path / "helping_hands.db")
    products = db.execute("SELECT count(*) FROM products").fetchone()[0]
    residents = db.execute("SELECT name FROM residents").fetchall()
    db.close()
    assert products >= 300
    assert residents == [("Joan Smith",)]


def test_cli_catalogue_import_adds_and_updates(tmp_path):
    """Test that importing a shop's list adds new products and updates known ones."""
    run_cli(tmp_path, "seed")
    csv_file = tmp_path / "shop.csv"
    csv_file.write_text(GOOD_CSV, encoding="utf-8")
    result = run_cli(tmp_path, "catalogue", "import", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert "Imported 1 new and 1 updated" in result.stdout
    db = open_database(tmp_path / "helping_hands.db")
    price = db.execute(
        "SELECT price_pence FROM products WHERE sku = 'bananas-5pk'"
    ).fetchone()[0]
    paste = db.execute(
        "SELECT name FROM products WHERE sku = 'rose-harissa-90g'"
    ).fetchone()
    db.close()
    assert price == 99
    assert paste == ("Rose Harissa Paste",)


def test_cli_catalogue_import_with_bad_rows_imports_nothing(tmp_path):
    """Test that one bad row stops the whole file, and every problem is named."""
    run_cli(tmp_path, "seed")
    db = open_database(tmp_path / "helping_hands.db")
    before = db.execute("SELECT count(*) FROM products").fetchone()[0]
    db.close()
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(BAD_CSV, encoding="utf-8")

    result = run_cli(tmp_path, "catalogue", "import", str(csv_file))

    assert result.returncode == 1
    assert "Nothing was imported: 5 bad row(s)" in result.stderr
    for line in ("line 2", "line 3", "line 5", "line 6", "line 7"):
        assert line in result.stderr
    db = open_database(tmp_path / "helping_hands.db")
    after = db.execute("SELECT count(*) FROM products").fetchone()[0]
    db.close()
    assert after == before


def test_cli_catalogue_import_of_a_missing_file_says_so(tmp_path):
    """Test that a file that cannot be read gets a plain message, not a trace."""
    result = run_cli(tmp_path, "catalogue", "import", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert "Could not read" in result.stderr
    assert "Traceback" not in result.stderr
