"""`helping-hands run` under another name: python -m bench.assistant_run.

It runs exactly what `python -m assistant run` runs. The benchmarks that are
not about start-up use it because this machine is shared: a cleanup of stray
test stacks that matches "assistant run" on the command line stopped a
benchmark's stack in the middle of a measurement.
"""

from __future__ import annotations

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["run"]))
