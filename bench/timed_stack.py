"""`helping-hands run` with each process timed: python -m bench.timed_stack.

The same three processes, commands and environment as assistant.supervisor
builds, except that each is started through its bench.timed_* wrapper.
"""

from __future__ import annotations

import sys

from assistant.cli import configure_logging, seed
from assistant.config import load_settings
from assistant.supervisor import Supervisor, child_processes

TIMED_MODULES = {
    "action server": "bench.timed_actions",
    "rasa server": "bench.timed_rasa",
    "gateway": "bench.timed_gateway",
}


def main() -> int:
    configure_logging(False)
    settings = load_settings()
    seed(settings)
    children = child_processes(settings)
    for child in children:
        module = TIMED_MODULES[child.name]
        arguments = child.command[3:]
        if child.name == "gateway":
            arguments = []
        child.command = [sys.executable, "-m", module, *arguments]
    return Supervisor(children).run()


if __name__ == "__main__":
    sys.exit(main())
