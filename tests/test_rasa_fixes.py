"""The assistant's fixes to the Rasa server change its speed, not what it does.

Each fix is applied in this process with monkeypatch's undo kept first, so the
classes are Rasa's own again after each test. The stack tests run the fixed
server end to end.
"""

from __future__ import annotations

import asyncio

import pytest
from rasa.core import tracker_store
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from assistant.rasa_server import (
    event_classes_remembered,
    tracker_store_connections_kept,
)


@pytest.fixture
def remembered(monkeypatch):
    monkeypatch.setattr(Event, "resolve_by_type", Event.resolve_by_type)
    event_classes_remembered()


@pytest.fixture
def kept(monkeypatch):
    monkeypatch.setattr(
        tracker_store, "create_engine_kwargs", tracker_store.create_engine_kwargs
    )
    tracker_store_connections_kept()


def test_every_event_type_resolves_to_rasas_own_class(remembered):
    """Test that remembered event classes are the ones Rasa's walk finds."""
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "action", "slot", "pause", "resume"} <= names
    for name in sorted(names):
        first = Event.resolve_by_type(name)
        assert first is Event.resolve_by_type(name)  # the second from memory
        assert first.type_name == name
        assert first in all_subclasses(Event)


def test_unknown_event_types_behave_as_in_rasa(remembered):
    """Test that an unknown type name gets the default, or Rasa's ValueError,
    and that a default is never remembered for a name."""
    assert Event.resolve_by_type("no-such-event", SlotSet) is SlotSet
    assert Event.resolve_by_type("no-such-event", UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")
    assert Event.resolve_by_type("topic") is None


def test_tracker_store_keeps_connections_and_every_event(kept, tmp_path):
    """Test that turns saved and read back through kept connections lose
    nothing, and that connections are opened once, not per session."""
    store = SQLTrackerStore(db=str(tmp_path / "tracker.db"))
    assert isinstance(store.engine.pool, QueuePool)
    opened, taken = [], []
    event.listen(store.engine, "connect", lambda *_: opened.append(1))
    event.listen(store.engine, "checkout", lambda *_: taken.append(1))

    async def talk() -> DialogueStateTracker:
        tracker = DialogueStateTracker("resident-1", slots=[])
        for turn in range(20):
            tracker.update(UserUttered(f"two tins, turn {turn}"))
            tracker.update(ActionExecuted("action_add_items"))
            await store.save(tracker)
            tracker = await store.retrieve("resident-1")
        return tracker

    tracker = asyncio.run(talk())
    said = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert said == [f"two tins, turn {turn}" for turn in range(20)]
    # 20 saves and 20 reads took a connection at least 40 times; the one the
    # store opened to create its table served them all.
    assert len(taken) >= 40
    assert opened == []


def test_memory_databases_keep_sqlalchemys_own_pool(kept):
    """Test that only SQLite files get the kept connections."""
    assert "poolclass" not in tracker_store.create_engine_kwargs("sqlite://")
    assert "poolclass" not in tracker_store.create_engine_kwargs(
        "postgresql://rasa@localhost/rasa"
    )
    assert (
        tracker_store.create_engine_kwargs("sqlite:////tmp/t.db")["poolclass"]
        is QueuePool
    )
