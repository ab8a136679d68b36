"""Every catalogue product, asked for by name, is understood as an order."""

import httpx
import pytest

from assistant.catalogue import load_products

pytestmark = pytest.mark.stack

# Ways residents ask for one thing; the product names are not in the training data.
PHRASINGS = ["could I have {} please", "{}", "I need {}"]
# Most asks for a product that may be misread, out of every product and phrasing.
MOST_MISREAD_SHARE = 0.005


def test_nlu_every_product_by_name_is_an_order(stack):
    """Test that the served model reads nearly every product request as add_item."""
    db = stack.db()
    products = load_products(db)
    db.close()
    url = f"http://127.0.0.1:{stack.env['HH_RASA_PORT']}/model/parse"
    token = stack.rasa_token()

    misread = []
    with httpx.Client(timeout=10) as client:
        for product in products:
            for phrasing in PHRASINGS:
                text = phrasing.format(product.name.lower())
                parsed = client.post(url, params={"token": token}, json={"text": text})
                intent = parsed.json()["intent"]["name"]
                if intent != "add_item":
                    misread.append(f"{text!r} -> {intent}")

    asked = len(products) * len(PHRASINGS)
    assert len(products) >= 300
    assert len(misread) <= asked * MOST_MISREAD_SHARE, "\n".join(misread)
