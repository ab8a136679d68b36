"""The benchmarks `python -m bench` knows of; add a new one here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: a module with `run() -> str` that prints its figures.

    `run` returns the Markdown body of the benchmark's section of
    docs/benchmarks.md; the runner adds the heading and the date and machine.
    """

    name: str
    """Its name on the command line and the key of its section."""
    title: str
    """The heading of its section."""
    module: str
    """The module that holds `run`, imported only when the benchmark runs."""

    def load(self) -> Callable[[], str]:
        return importlib.import_module(self.module).run


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        name="nlu",
        title="NLU pipelines: logistic regression against DIET",
        module="bench.nlu_pipelines",
    ),
    Benchmark(
        name="text-turns",
        title="Text turns under load: the assistant against plain Rasa",
        module="bench.text_turns",
    ),
    Benchmark(
        name="long-conversations",
        title="Long conversations: a turn after 10, 100 and 300 turns",
        module="bench.long_conversations",
    ),
    Benchmark(
        name="startup",
        title="Start-up time and memory",
        module="bench.startup",
    ),
    Benchmark(
        name="turn-profile",
        title="Where a turn's time goes",
        module="bench.turn_profile",
    ),
    Benchmark(
        name="rasa-fixes",
        title="Four Rasa server fixes, tried",
        module="bench.fix_trial",
    ),
    Benchmark(
        name="phone-calls",
        title="Phone calls: speech to intent, turn latency, calls at once, memory",
        module="bench.phone_calls",
    ),
    Benchmark(
        name="tablet",
        title="The tablet: page weight, page load, a tap, a spoken turn, memory",
        module="bench.tablet",
    ),
    Benchmark(
        name="voice",
        title="Speech engines: generic against domain pocketsphinx, Vosk, TTS",
        module="bench.voice_engines",
    ),
)


def find_benchmark(name: str) -> Benchmark | None:
    return next((each for each in BENCHMARKS if each.name == name), None)
