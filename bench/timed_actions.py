"""The action server with every action call timed: python -m bench.timed_actions.

Started by bench.timed_stack in place of `python -m rasa_sdk`, with the same
arguments. Each call is one line in HH_BENCH_TIMINGS/actions.jsonl.
"""

from __future__ import annotations

import sqlite_utils

from bench.timings import request_log, wrap


def instrument() -> None:
    """Time each action call, the tracker's decoding and the store's queries."""
    from rasa_sdk import endpoint
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import Tracker

    log = request_log("actions")
    run = ActionExecutor.run

    async def timed_run(self, action_call):
        with log.request("action") as extra:
            extra["action"] = action_call.get("next_action")
            return await run(self, action_call)

    ActionExecutor.run = timed_run
    wrap(Tracker, "from_dict", "tracker decoded", asynchronous=False)
    wrap(sqlite_utils.Database, "execute", "SQLite", asynchronous=False)

    create_app = endpoint.create_app

    def create_timed_app(*args, **kwargs):
        """The action server's app, timing whole requests too (JSON included)."""
        app = create_app(*args, **kwargs)
        http_log = request_log("actions-http")

        @app.middleware("request")
        async def begin(request):
            request.ctx.timer = http_log.request("http")
            request.ctx.timer.__enter__()

        @app.middleware("response")
        async def end(request, response):
            timer = getattr(request.ctx, "timer", None)
            if timer is not None:
                timer.__exit__(None, None, None)

        return app

    endpoint.create_app = create_timed_app


def main() -> None:
    instrument()
    from rasa_sdk.__main__ import main as sdk_main

    sdk_main()


if __name__ == "__main__":
    main()
