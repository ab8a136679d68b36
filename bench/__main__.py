"""Run the benchmarks and record their figures: `python -m bench [NAME ...]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from assistant.config import PROJECT_ROOT
from bench.machine import describe_machine
from bench.registry import BENCHMARKS, find_benchmark
from bench.report import Run, section_text, update_document

logger = logging.getLogger("bench")

DEFAULT_REPORT = PROJECT_ROOT / "docs" / "benchmarks.md"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks, print their figures and record them in "
        "docs/benchmarks.md. With no names, every benchmark runs.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="the benchmarks to run"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the benchmarks and stop"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT,
        help="the Markdown file to update (default: docs/benchmarks.md)",
    )
    parser.add_argument("--debug", action="store_true", help="log in detail")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; answer 0 if all of them produced figures."""
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if arguments.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not arguments.debug:
        # A line for every simulated turn costs the load generator CPU that
        # the machine's servers would otherwise have.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"

    if arguments.list:
        for benchmark in BENCHMARKS:
            print(f"{benchmark.name}\t{benchmark.title}")
        return 0
    unknown = [name for name in arguments.names if find_benchmark(name) is None]
    if unknown:
        logger.error("no benchmark called %s (try --list)", ", ".join(unknown))
        return 2
    chosen = [
        benchmark
        for benchmark in BENCHMARKS
        if not arguments.names or benchmark.name in arguments.names
    ]

    run = Run(
        started=datetime.now(),
        command=" ".join(["python -m bench", *arguments.names]),
        machine=describe_machine(),
    )
    sections = {}
    failed = []
    for benchmark in chosen:
        logger.info("benchmark %s started", benchmark.name)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        try:
            body = benchmark.load()()
        except Exception:
            # One benchmark failing keeps its old section and lets the rest run.
            logger.exception("benchmark %s failed", benchmark.name)
            failed.append(benchmark.name)
            continue
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        sections[benchmark.name] = section_text(
            benchmark.title, body, run, seconds, (load_before, load_after)
        )
        logger.info("benchmark %s finished in %.0f s", benchmark.name, seconds)

    if sections:
        update_document(
            arguments.report, sections, [each.name for each in BENCHMARKS], run
        )
        logger.info("figures written to %s", arguments.report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
