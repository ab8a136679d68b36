"""Runs the Rasa server with two fixes to its speed: `python -m assistant.rasa_server`.

NOTE: both fixes reach into Rasa 3.6.21 (pinned in pyproject.toml); check them
again before moving to another Rasa.

- Rasa checks every answer from the action server against a JSON schema with
  `jsonschema.validate`, which checks the schema itself first, every time:
  about 30 ms of CPU a turn, more than half of Rasa's work under load. Here
  the checker is built once and reused; answers are checked just the same.
  (Measured by `python -m bench rasa-fixes`: median turn 48 to 26 ms at one
  resident, 504 to 248 ms at ten.)
- The SQLite tracker store is opened in WAL mode, so a turn's commit does not
  wait for the disk while other turns are in flight.
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


def main() -> None:
    reuse_the_action_checker()
    tracker_store_in_wal()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
