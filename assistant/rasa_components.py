"""A Rasa NLU component that knows the shop: plain product requests are orders.

An intent classifier learns the words of its training data, but a shop sells
hundreds of things it has never seen: "I need red leicester" or "rhubarb" can
come out as out_of_scope, or as a greeting. A message made only of catalogue
products, quantities and polite filler is an order, so this component, placed
after the classifier and the fallback, says so. It never overrides a message
with a word it does not know, a negation or a question, never a question about
a product, a change or removal only when nothing in it says change, and never
for a word that is only part of a name ("top" of "green top" in "top of the
morning").

Only the Rasa server imports this module, from `nlu/config.yml`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from assistant.catalogue import (
    DEMO_CATALOGUE,
    catalogue_version,
    load_products,
    read_catalogue_csv,
    split_aliases,
)
from assistant.catalogue import Product as CatalogueProduct
from assistant.config import load_settings
from assistant.matching import ProductIndex
from assistant.parsing import is_plain_product_request
from assistant.store import open_database

logger = logging.getLogger(__name__)

ORDER_INTENT = "add_item"
# Intents that name a product themselves: a question about one is left alone;
# a change or a removal only when the message has no quantity and no word of
# change in it ("new potatoes" is an order, "the soup, just two" is not).
NEVER_OVERRIDDEN = {"add_item", "ask_product"}
CHANGE_INTENTS = {"remove_item", "change_quantity"}


class ShopCatalogue:
    """The product index, from the store when there is one, else the demo list."""

    def __init__(self) -> None:
        self._index: ProductIndex | None = None
        self._version = ""
        self._db = None

    def index(self) -> ProductIndex:
        settings = load_settings()
        if self._db is None and settings.database_path.is_file():
            self._db = open_database(settings.database_path, migrate=False)
        if self._db is None:
            if self._index is None:
                self._index = ProductIndex(demo_products())
            return self._index
        version = catalogue_version(self._db)
        if self._index is None or version != self._version:
            self._index = ProductIndex(load_products(self._db))
            self._version = version
        return self._index


def demo_products() -> list[CatalogueProduct]:
    rows = read_catalogue_csv(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    return [
        CatalogueProduct(
            row["sku"],
            row["aisle"],
            row["name"],
            row["size"],
            row["price_pence"],
            split_aliases(row["aliases"]),
        )
        for row in rows
    ]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class ProductRequestClassifier(GraphComponent, IntentClassifier):
    """Marks a message made only of products and quantities as an order."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"confidence": 0.9}

    def __init__(self, config: dict[str, Any]) -> None:
        self.confidence = float(config.get("confidence", 0.9))
        self.catalogue = ShopCatalogue()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ProductRequestClassifier:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            predicted = message.get("intent") or {}
            intent = predicted.get("name")
            text = message.get("text") or ""
            if not text or intent in NEVER_OVERRIDDEN:
                continue
            bare = intent in CHANGE_INTENTS
            if not is_plain_product_request(text, self.catalogue.index(), bare):
                continue
            logger.debug("a plain product request classified %s", intent)
            order = {"name": ORDER_INTENT, "confidence": self.confidence}
            ranking = [
                r
                for r in message.get("intent_ranking") or []
                if r.get("name") != ORDER_INTENT
            ]
            message.set("intent", order, add_to_output=True)
            message.set("intent_ranking", [order, *ranking], add_to_output=True)
        return messages
