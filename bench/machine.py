"""A description of the machine a benchmark ran on, for the figures' context."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    """The facts that change what a benchmark measures."""

    cpu_model: str
    cores: int
    memory_gib: float
    operating_system: str
    python_version: str
    rasa_version: str
    tensorflow_version: str

    def one_line(self) -> str:
        """A short form for a section's stamp."""
        return (
            f"{self.cpu_model}, {self.cores} cores, {self.memory_gib:.1f} GiB, "
            f"Python {self.python_version}, Rasa {self.rasa_version}"
        )

    def markdown_rows(self) -> list[tuple[str, str]]:
        """Label and value pairs for a table."""
        return [
            ("CPU", self.cpu_model),
            ("Cores", str(self.cores)),
            ("Memory", f"{self.memory_gib:.1f} GiB"),
            ("Operating system", self.operating_system),
            ("Python", self.python_version),
            ("Rasa", self.rasa_version),
            ("TensorFlow", self.tensorflow_version),
        ]


def describe_machine() -> Machine:
    """Read the CPU, memory and software versions of this machine."""
    return Machine(
        cpu_model=cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=memory_gib(),
        operating_system=platform.platform(terse=True),
        python_version=platform.python_version(),
        rasa_version=installed_version("rasa"),
        tensorflow_version=installed_version("tensorflow"),
    )


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"
