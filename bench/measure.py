"""Measuring child processes (wall time, peak memory) and summing up timings."""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import HelpingHandsError

logger = logging.getLogger(__name__)


class BenchmarkError(HelpingHandsError):
    """A benchmark could not produce its figures (a child process failed)."""

    code = "bench-failed"


@dataclass(frozen=True)
class ChildRun:
    """What one measured child process cost."""

    wall_seconds: float
    """From start to exit, including the interpreter's own start-up."""
    peak_rss_mb: float
    """The largest resident set of the child or any child it waited for."""


def run_measured(
    command: Sequence[str],
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ChildRun:
    """Run `command`, send its output to `log_path`, and measure what it cost.

    Raises:
        BenchmarkError: if the command exits with a non-zero status.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger.debug("running %s", " ".join(command))

    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env
        )
        # wait4, unlike Popen.wait, hands back this child's own resource use,
        # so its peak memory is not mixed up with an earlier, larger child's.
        _, status, usage = os.wait4(process.pid, 0)
    wall_seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)

    if process.returncode != 0:
        raise BenchmarkError(
            f"{command[0]} exited with status {process.returncode}; "
            f"its output is in {log_path}"
        )
    # Linux reports ru_maxrss in kibibytes.
    peak_rss_mb = usage.ru_maxrss / 1024
    return ChildRun(wall_seconds=wall_seconds, peak_rss_mb=peak_rss_mb)


def median_and_p95(samples: Sequence[float]) -> tuple[float, float]:
    """The median and the 95th percentile of `samples` (at least two)."""
    percentiles = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), percentiles[94]
