"""Two changes to the Rasa server, tried by benchmarks one at a time.

The assistant now makes both (assistant/rasa_server.py, where they live);
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

from assistant.rasa_server import reuse_the_action_checker, tracker_store_in_wal

FIXES_VARIABLE = "HH_BENCH_RASA_FIXES"
FIXES = {"validator": reuse_the_action_checker, "tracker-wal": tracker_store_in_wal}


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
