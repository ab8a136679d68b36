"""Two changes to the Rasa server, tried by benchmarks before anyone makes them.

`bench.timed_rasa` applies those named in HH_BENCH_RASA_FIXES (comma-separated)
before Rasa starts:

- `validator`: Rasa checks every action server answer with
  `jsonschema.validate`, which first checks the schema itself against its
  meta-schema, on every call. Here the validator is built once and reused.
- `tracker-wal`: Rasa's SQLite tracker store commits every turn in SQLite's
  default rollback-journal mode, which syncs the disk several times per
  commit. Here each of its connections uses WAL with synchronous=NORMAL, as
  the assistant's own store does (assistant/store.py).
"""

from __future__ import annotations

import os
import sqlite3

FIXES_VARIABLE = "HH_BENCH_RASA_FIXES"


def reuse_action_validator() -> None:
    """Validate action server answers with one validator, built once."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)

    def validate_action_result(self, result) -> bool:
        try:
            validator.validate(result)
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make "
                "sure your response from the Action endpoint is valid."
            )
            raise
        return True

    RemoteAction._validate_action_result = validate_action_result


def tracker_store_in_wal() -> None:
    """Every SQLite connection SQLAlchemy opens uses WAL, synchronous=NORMAL."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def use_wal(connection, _record) -> None:
        if isinstance(connection, sqlite3.Connection):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()


FIXES = {"validator": reuse_action_validator, "tracker-wal": tracker_store_in_wal}


def apply_fixes() -> list[str]:
    """Apply the fixes the environment names; return their names."""
    names = [
        name.strip()
        for name in os.environ.get(FIXES_VARIABLE, "").split(",")
        if name.strip()
    ]
    for name in names:
        FIXES[name]()
    return names
