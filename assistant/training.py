"""Training the Rasa model when, and only when, its training data has changed."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

from assistant.config import PROJECT_ROOT

logger = logging.getLogger(__name__)

NLU_DIR = PROJECT_ROOT / "nlu"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data")


def training_fingerprint(nlu_dir: Path = NLU_DIR, config: str = "config.yml") -> str:
    """A hash of everything the model is trained from."""
    digest = hashlib.sha256()
    for name in (config, *TRAINING_INPUTS[1:]):
        path = nlu_dir / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(nlu_dir)).encode())
            digest.update(file.read_bytes())
    digest.update(rasa_environment_version().encode())
    return digest.hexdigest()


def rasa_environment_version() -> str:
    from importlib.metadata import version

    return "rasa " + version("rasa")


def fingerprint_path(model_path: Path) -> Path:
    return model_path.with_suffix("").with_suffix(".fingerprint")


def model_is_current(model_path: Path, config: str = "config.yml") -> bool:
    marker = fingerprint_path(model_path)
    return (
        model_path.is_file()
        and marker.is_file()
        and marker.read_text().strip() == training_fingerprint(config=config)
    )


def rasa_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def ensure_model(
    model_path: Path, config: str = "config.yml", force: bool = False
) -> bool:
    """Train the model if the training data changed; return whether it trained."""
    if not force and model_is_current(model_path, config):
        logger.info("the Rasa model is up to date")
        return False
    logger.info("training the Rasa model (about a minute)")
    model_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        str(NLU_DIR / config),
        "--domain",
        str(NLU_DIR / "domain.yml"),
        "--data",
        str(NLU_DIR / "data"),
        "--out",
        str(model_path.parent),
        "--fixed-model-name",
        model_path.name.removesuffix(".tar.gz"),
    ]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, env=rasa_environment())
    fingerprint_path(model_path).write_text(training_fingerprint(config=config))
    return True
