"""Runs the Rasa server with four fixes to its speed: `python -m assistant.rasa_server`.

NOTE: the fixes reach into Rasa 3.6.21 (pinned in pyproject.toml); check them
again before moving to another Rasa. `python -m bench rasa-fixes` measures
each against Rasa as it comes.

- Rasa checks every answer from the action server against a JSON schema with
  `jsonschema.validate`, which checks the schema itself first, every time:
  about 30 ms of CPU a turn, more than half of Rasa's work under load. Here
  the checker is built once and reused; answers are checked just the same.
  (Measured by `python -m bench rasa-fixes`: median turn 48 to 26 ms at one
  resident, 504 to 248 ms at ten.)
- The SQLite tracker store is opened in WAL mode, so a turn's commit does not
  wait for the disk while other turns are in flight.
- The tracker store keeps its SQLite connections open between turns.
  SQLAlchemy's default for a SQLite file is to open and close one for every
  session, and a turn has several (load, count, save): about a tenth of
  Rasa's CPU under load went on opening, setting up and closing connections.
- An event's class is found by its type name once. Rasa walks every Event
  subclass, checking each for abstract methods, for every event it reads
  back from the store, each turn: about a twelfth of its CPU.
"""

from __future__ import annotations

import sqlite3
import sys


def reuse_the_action_checker() -> None:
    """Check action server answers with one schema checker, built once."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    checker = validator_for(schema)(schema)

    def check_action_result(_action, result) -> bool:
        try:
            checker.validate(result)
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make "
                "sure your response from the Action endpoint is valid."
            )
            raise
        return True

    RemoteAction._validate_action_result = check_action_result


def tracker_store_in_wal() -> None:
    """Every SQLite connection SQLAlchemy opens here uses WAL."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def use_wal(connection, _record) -> None:
        if isinstance(connection, sqlite3.Connection):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()


# Connections the tracker store keeps open; busier moments open more for a while.
POOLED_CONNECTIONS = 4


def tracker_store_connections_kept() -> None:
    """SQLite tracker stores draw their connections from a pool that keeps them.

    No connection is used by two sessions at once: each session checks one
    out and gives it back when it closes. A connection is not tied to the
    thread that opened it, so a session in another thread can take it up.
    """
    from rasa.core import tracker_store
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import QueuePool

    original = tracker_store.create_engine_kwargs

    def engine_options(url) -> dict:
        options = original(url)
        parsed = make_url(url)
        is_file = parsed.database not in (None, "", ":memory:")
        if parsed.get_backend_name() == "sqlite" and is_file:
            options.setdefault("poolclass", QueuePool)
            options.setdefault("pool_size", POOLED_CONNECTIONS)
            options.setdefault("connect_args", {"check_same_thread": False})
        return options

    tracker_store.create_engine_kwargs = engine_options


def event_classes_remembered() -> None:
    """Find an event's class by its type name once, then remember it."""
    from rasa.shared.core.events import Event

    find = Event.resolve_by_type
    found: dict[str, type] = {}

    def resolve_by_type(type_name, default=None):
        known = found.get(type_name)
        if known is not None:
            return known
        resolved = find(type_name, default)
        if resolved is not None and getattr(resolved, "type_name", None) == type_name:
            found[type_name] = resolved
        return resolved

    Event.resolve_by_type = staticmethod(resolve_by_type)


FIXES = (
    reuse_the_action_checker,
    tracker_store_in_wal,
    tracker_store_connections_kept,
    event_classes_remembered,
)


def main() -> None:
    for fix in FIXES:
        fix()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
