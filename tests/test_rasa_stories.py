"""The Rasa test stories in nlu/tests, evaluated end to end by the trained model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.config import PROJECT_ROOT, load_settings
from assistant.training import rasa_environment

TEST_STORIES_DIR = PROJECT_ROOT / "nlu" / "tests"
EVALUATION_TIMEOUT_SECONDS = 600


def count_written_stories() -> int:
    """How many stories the files in nlu/tests hold, whatever their names."""
    count = 0
    for path in TEST_STORIES_DIR.glob("*.yml"):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        count += len(content.get("stories", []))
    return count


def evaluate_stories(model_path: Path, out_dir: Path) -> subprocess.CompletedProcess:
    """Run `rasa test core` on the test stories, writing its reports to out_dir."""
    # --e2e makes Rasa parse each story's user text with the model's NLU and
    # compare the intent too; without it only the actions are checked.
    # --fail-on-prediction-errors is left off on purpose: it stops at the first
    # mistake and writes no report, so only one failed story would be shown.
    command = [sys.executable, "-m", "rasa", "test", "core", "--e2e", "--no-plot"]
    command += ["--stories", str(TEST_STORIES_DIR), "--model", str(model_path)]
    command += ["--out", str(out_dir)]
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
        capture_output=True,
        text=True,
        timeout=EVALUATION_TIMEOUT_SECONDS,
    )


def test_rasa_stories_predict_every_intent_and_action(tmp_path):
    """Test that the trained model gets every intent and action in the stories."""
    model_path = load_settings().model_path
    if not model_path.is_file():
        pytest.fail(
            f"no trained model at {model_path}: run `make test`, which trains it"
        )
    written = count_written_stories()

    result = evaluate_stories(model_path, tmp_path)

    log_tail = result.stderr[-3000:]
    assert result.returncode == 0, "rasa test core failed:\n" + log_tail
    report_path = tmp_path / "story_report.json"
    assert report_path.is_file(), "rasa wrote no report:\n" + log_tail
    report = json.loads(report_path.read_text(encoding="utf-8"))
    stories = report.get("conversation_accuracy", {"correct": 0, "total": 0})
    correct, total = stories["correct"], stories["total"]
    # Rasa reads only files named test_*.yml: any other would be skipped quietly.
    assert total == written, (
        f"rasa evaluated {total} stories but nlu/tests holds {written}: "
        "are all its files named test_*.yml?"
    )
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert correct == total, (
        f"{total - correct} of {total} test stories failed; each wrong step is "
        f"marked '# predicted:'\n{failed}"
    )
