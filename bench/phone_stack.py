"""`helping-hands run` with the phone turns timed: python -m bench.phone_stack.

The same three processes, commands and environment as assistant.supervisor
builds; only the gateway is started through bench.phone_gateway, which runs
the same app with timers around the media stream's steps.
"""

from __future__ import annotations

import sys

from assistant.cli import configure_logging, seed
from assistant.config import load_settings
from assistant.supervisor import Supervisor, child_processes


def main() -> int:
    configure_logging(False)
    settings = load_settings()
    seed(settings)
    children = child_processes(settings)
    for child in children:
        if child.name == "gateway":
            child.command = [sys.executable, "-m", "bench.phone_gateway"]
    return Supervisor(children).run()


if __name__ == "__main__":
    sys.exit(main())
