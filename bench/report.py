"""Assembling docs/benchmarks.md from one section per benchmark."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.machine import Machine

SECTION_PATTERN = re.compile(
    r"<!-- bench:(?P<name>[\w-]+):begin -->\n(?P<text>.*?)"
    r"<!-- bench:(?P=name):end -->\n",
    re.DOTALL,
)

INTRODUCTION = """\
# Benchmarks

Written by `make bench` (`python -m bench`). Each section below belongs to
one benchmark and is rewritten only when that benchmark runs
(`python -m bench NAME`), so every section carries the date and machine it
was measured on. Edits made by hand inside a section are lost on the next run.
"""


@dataclass(frozen=True)
class Run:
    """When, how and where this invocation of the runner measured."""

    started: datetime
    command: str
    machine: Machine


def section_text(
    title: str,
    body: str,
    run: Run,
    seconds: float,
    load_averages: tuple[float, float],
) -> str:
    """A benchmark's section: its heading, the run's stamp, then its figures.

    The stamp gives the one-minute load average before and after the benchmark:
    other work on the machine slows what is measured.
    """
    stamp = (
        f"_Measured {run.started:%Y-%m-%d %H:%M} by `{run.command}` on "
        f"{run.machine.one_line()}, in {seconds / 60:.1f} min; load average "
        f"{load_averages[0]:.2f} before, {load_averages[1]:.2f} after._"
    )
    return f"## {title}\n\n{stamp}\n\n{body.strip()}\n"


def read_sections(document: str) -> dict[str, str]:
    """The sections of an existing document by benchmark name, in file order."""
    matches = SECTION_PATTERN.finditer(document)
    return {match["name"]: match["text"] for match in matches}


def assemble_document(
    sections: Mapping[str, str], order: Iterable[str], run: Run
) -> str:
    """The whole document: introduction, this run's machine, then the sections.

    Sections are placed in `order` (the registry's order); any section of a
    benchmark that is no longer registered is kept, after the others.
    """
    ordered_names = [name for name in order if name in sections]
    ordered_names += [name for name in sections if name not in ordered_names]

    machine_rows = [
        ("Date", f"{run.started:%Y-%m-%d %H:%M}"),
        ("Command", f"`{run.command}`"),
        *run.machine.markdown_rows(),
    ]
    parts = [
        INTRODUCTION,
        "## Machine of the latest run\n",
        "| | |\n|---|---|\n"
        + "".join(f"| {label} | {value} |\n" for label, value in machine_rows),
    ]
    for name in ordered_names:
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        parts.append(f"{begin}\n{sections[name]}{end}\n")
    return "\n".join(parts)


def update_document(
    path: Path, new_sections: Mapping[str, str], order: Iterable[str], run: Run
) -> None:
    """Rewrite `path` with `new_sections`, keeping sections not run this time."""
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    sections = read_sections(existing)
    sections.update(new_sections)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(assemble_document(sections, order, run), encoding="utf-8")
