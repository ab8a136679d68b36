"""What every action shares: the store, the product index and pending questions."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from assistant.catalogue import catalogue_version, load_products
from assistant.config import Settings, load_settings
from assistant.matching import ProductIndex
from assistant.store import open_database

logger = logging.getLogger(__name__)


@dataclass
class Shop:
    """The resources the actions use, opened on first use rather than at import."""

    settings: Settings
    db: sqlite_utils.Database
    _index: ProductIndex | None = None
    _index_version: str = ""

    @property
    def index(self) -> ProductIndex:
        """The product index, rebuilt when the catalogue has changed."""
        version = catalogue_version(self.db)
        if self._index is None or version != self._index_version:
            self._index = ProductIndex(load_products(self.db))
            self._index_version = version
        return self._index


_shop: Shop | None = None
_shop_lock = threading.Lock()


def shop() -> Shop:
    global _shop
    with _shop_lock:
        if _shop is None:
            settings = load_settings()
            _shop = Shop(settings, open_database(settings.database_path))
        return _shop


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def pending_questions(tracker: Tracker) -> list[dict[str, Any]]:
    """The questions the assistant is waiting on, the one asked first."""
    raw = tracker.get_slot("pending")
    if not raw:
        return []
    try:
        questions = json.loads(raw)
    except (TypeError, ValueError):
        return []
    return questions if isinstance(questions, list) else []


def set_pending(questions: list[dict[str, Any]]) -> SlotSet:
    return SlotSet("pending", json.dumps(questions) if questions else None)


def last_bot_text(tracker: Tracker) -> str | None:
    """The assistant's last reply before this turn."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return event["text"]
    return None
