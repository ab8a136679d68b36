"""The assistant's fixes to the Rasa server, by name, for benchmarks to try.

The assistant makes all of them (assistant/rasa_server.py, where they live and
where each is explained). `bench.timed_rasa` applies them as the assistant
does; HH_BENCH_RASA_FIXES, when set, names the ones to apply instead
(comma-separated; empty for Rasa as it comes):

- `validator`: one checker for the action server's answers, built once,
  instead of `jsonschema.validate` checking its own schema on every call.
- `tracker-wal`: the SQLite tracker store in WAL with synchronous=NORMAL, as
  the assistant's own store is (assistant/store.py).
- `kept-connections`: the tracker store keeps its SQLite connections open
  rather than opening and closing one for every session.
- `event-classes`: an event's class found by its type name once, rather than
  by walking every Event subclass for every stored event read back.
"""

from __future__ import annotations

import os

from assistant.rasa_server import (
    event_classes_remembered,
    reuse_the_action_checker,
    tracker_store_connections_kept,
    tracker_store_in_wal,
)

FIXES_VARIABLE = "HH_BENCH_RASA_FIXES"
FIXES = {
    "validator": reuse_the_action_checker,
    "tracker-wal": tracker_store_in_wal,
    "kept-connections": tracker_store_connections_kept,
    "event-classes": event_classes_remembered,
}


def apply_fixes() -> list[str]:
    """Apply the fixes the environment names, or all of them; return their names."""
    named = os.environ.get(FIXES_VARIABLE)
    names = (
        list(FIXES)
        if named is None
        else [name.strip() for name in named.split(",") if name.strip()]
    )
    for name in names:
        FIXES[name]()
    return names
