"""`rasa run` with the steps of every turn timed: python -m bench.timed_rasa run ...

Started by bench.timed_stack in place of `python -m rasa`; the arguments are
rasa's own. Each message is one line in HH_BENCH_TIMINGS/rasa.jsonl. Any
fixes named in HH_BENCH_RASA_FIXES (bench/rasa_fixes.py) are applied first.
"""

from __future__ import annotations

import sys

from bench.rasa_fixes import apply_fixes
from bench.timings import request_log, wrap


def instrument() -> None:
    """Time the steps of a turn in Rasa's own classes."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    log = request_log("rasa")
    handle_message = Agent.handle_message

    async def timed_handle_message(self, message):
        with log.request("turn"):
            return await handle_message(self, message)

    Agent.handle_message = timed_handle_message
    steps = [
        (MessageProcessor, "handle_message", "processor", True),
        (SQLTrackerStore, "retrieve", "tracker load", True),
        (MessageProcessor, "parse_message", "NLU parse", True),
        (MessageProcessor, "_predict_next_with_tracker", "policy prediction", False),
        (RemoteAction, "run", "custom action", True),
        (RemoteAction, "_action_call_format", "action request built", False),
        (EndpointConfig, "request", "action server HTTP", True),
        (SQLTrackerStore, "save", "tracker save", True),
    ]
    for owner, attribute, name, asynchronous in steps:
        wrap(owner, attribute, name, asynchronous=asynchronous)


def main() -> None:
    apply_fixes()
    instrument()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
