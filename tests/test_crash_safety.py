"""A process killed with SIGKILL in the middle of basket changes and orders
leaves every order whole or absent, and every basket unchanged or changed."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from assistant.config import PROJECT_ROOT
from assistant.store import open_database

pytestmark = pytest.mark.chaos

WORKER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    from assistant.basket import change_basket
    from assistant.catalogue import load_products, seed_demo_catalogue
    from assistant.delivery import Slot
    from assistant.orders import place_order
    from assistant.residents import add_resident, find_by_phone
    from assistant.store import open_database

    db = open_database(Path(sys.argv[1]))
    seed_demo_catalogue(db)
    phone = "+447700900950"
    resident = find_by_phone(db, phone) or add_resident(db, phone, "K", "1 Rd")
    products = load_products(db)[:40]
    start = datetime(2030, 1, 7, 10, tzinfo=timezone.utc)
    slot = Slot(start, start + timedelta(hours=2))
    print("ready", flush=True)
    round_number = 0
    while True:
        round_number += 1
        # Round n adds n of each of 5 + n % 20 products: a basket found later
        # shows by its quantities which change it holds, and whether all of it.
        change_basket(
            db, resident.id,
            [(p.sku, round_number) for p in products[: 5 + round_number % 20]],
            [],
        )
        place_order(db, resident.id, slot)
    """
)


def test_sigkill_never_leaves_half_an_order_or_half_a_basket(tmp_path):
    """Test, over several kills at random moments, that orders are whole and
    basket changes all-or-nothing."""
    path = tmp_path / "crash.db"
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    for kill_after in (0.3, 0.55, 0.8, 1.1, 1.4, 0.45):
        worker = subprocess.Popen(
            [sys.executable, str(script), str(path)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(kill_after)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()

    db = open_database(path)
    orders = db.execute(
        "SELECT o.id, o.total_pence, count(l.sku), coalesce(sum(l.quantity * "
        "l.unit_price_pence), 0) FROM orders o LEFT JOIN order_lines l ON "
        "l.order_id = o.id GROUP BY o.id"
    ).fetchall()
    lines_in_basket = db.execute("SELECT quantity FROM basket_lines").fetchall()
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    assert integrity == "ok"
    assert len(orders) > 5, "the worker should have placed some orders"
    for order_id, total, line_count, lines_total in orders:
        assert line_count > 0, f"order {order_id} has no lines"
        assert total == lines_total, f"order {order_id} is not whole"
    # A basket is either empty (just ordered) or holds one whole change.
    quantities = {q for (q,) in lines_in_basket}
    assert len(quantities) <= 1
    if quantities:
        (round_number,) = quantities
        assert len(lines_in_basket) == 5 + round_number % 20
