"""Compare the NLU pipelines on the held-out set: accuracy, handoffs, cost."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.config import PROJECT_ROOT
from assistant.training import NLU_DIR, rasa_environment
from bench.measure import ChildRun, median_and_p95, run_measured
from bench.nlu_render import render_section, render_terminal
from bench.nlu_scoring import (
    LaterComponentEffect,
    Prediction,
    Scores,
    SweepPoint,
    best_improvement,
    best_point,
    later_component_effect,
    predictions_from_json,
    score_predictions,
    served_intent,
    sweep_fallback,
)

logger = logging.getLogger(__name__)

# Never var/models: the running tests and the gateway use the model there.
BENCH_DIR = PROJECT_ROOT / "var" / "bench" / "nlu"
HELDOUT = NLU_DIR / "heldout" / "heldout.yml"

# Finer where the top confidences crowd: logistic regression over 18 intents
# rarely passes 0.5, while DIET's softmax mostly sits near 1.
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
THRESHOLDS += (0.95, 0.99)
AMBIGUITY_THRESHOLDS = (0.0, 0.02, 0.05, 0.1, 0.2)


@dataclass(frozen=True)
class Pipeline:
    """One NLU configuration under test."""

    name: str
    label: str
    config_file: str
    """A file in nlu/, as assistant.training names configs."""

    @property
    def folder(self) -> Path:
        return BENCH_DIR / self.name

    @property
    def model_path(self) -> Path:
        return self.folder / "model.tar.gz"

    @property
    def serves(self) -> bool:
        """Whether this is the pipeline the assistant is trained with."""
        return self.config_file == "config.yml"


PIPELINES = (
    Pipeline("logistic-regression", "Logistic regression", "config.yml"),
    Pipeline("diet", "DIET", "config-diet.yml"),
)


@dataclass(frozen=True)
class PipelineResult:
    """Everything measured for one pipeline."""

    pipeline: Pipeline
    configured_fallback: tuple[float, float]
    training: ChildRun
    serving: ChildRun
    model_size_mb: float
    load_seconds: float
    first_parse_seconds: float
    parse_median_ms: float
    parse_p95_ms: float
    predictions: list[Prediction]
    scores: Scores
    sweep: list[SweepPoint]
    recommended: SweepPoint
    """The swept settings with the best handoff balance."""
    improvement: SweepPoint
    """The swept settings that beat the configured ones, losing nothing."""
    sweep_mismatches: int
    """Messages where the sweep, at the configured settings, disagreed with Rasa."""
    later_components: list[str]
    """Components after the FallbackClassifier that can change the intent."""
    later_effect: LaterComponentEffect

    def sweep_scores(self, threshold: float, ambiguity: float) -> Scores:
        wanted = (threshold, ambiguity)
        return next(
            point.scores
            for point in self.sweep
            if (point.threshold, point.ambiguity_threshold) == wanted
        )

    @property
    def configured(self) -> SweepPoint:
        """The sweep's point at the configured settings."""
        threshold, ambiguity = self.configured_fallback
        return SweepPoint(threshold, ambiguity, self.sweep_scores(threshold, ambiguity))


def benchmark_environment(pipeline: Pipeline) -> dict[str, str]:
    environment = rasa_environment()
    # A size of zero turns Rasa's training cache off, so every run trains every
    # component from scratch and the shared .rasa/cache is left alone.
    environment["RASA_MAX_CACHE_SIZE"] = "0"
    # An empty data folder: the product override then reads the demo catalogue,
    # not whatever shop database a test or a demo left behind.
    data_folder = pipeline.folder / "data"
    data_folder.mkdir(parents=True, exist_ok=True)
    environment["HH_DATA_DIR"] = str(data_folder)
    return environment


def train(pipeline: Pipeline) -> ChildRun:
    """Train the pipeline's model from scratch with `rasa train`."""
    command = [
        sys.executable, "-m", "rasa", "train", "--force",
        "--config", str(NLU_DIR / pipeline.config_file),
        "--domain", str(NLU_DIR / "domain.yml"),
        "--data", str(NLU_DIR / "data"),
        "--out", str(pipeline.folder),
        "--fixed-model-name", "model",
    ]  # fmt: skip
    logger.info("training %s from %s", pipeline.name, pipeline.config_file)
    return run_measured(
        command,
        pipeline.folder / "train.log",
        cwd=PROJECT_ROOT,
        env=benchmark_environment(pipeline),
    )


def serve_heldout(pipeline: Pipeline) -> tuple[ChildRun, dict]:
    """Load the model in a fresh process and parse every held-out message."""
    output = pipeline.folder / "predictions.json"
    command = [
        sys.executable, "-m", "bench.nlu_eval",
        str(pipeline.model_path), str(HELDOUT), str(output),
    ]  # fmt: skip
    logger.info("parsing the held-out set with %s", pipeline.name)
    serving = run_measured(
        command,
        pipeline.folder / "serve.log",
        cwd=PROJECT_ROOT,
        env=benchmark_environment(pipeline),
    )
    return serving, json.loads(output.read_text(encoding="utf-8"))


def measure_pipeline(pipeline: Pipeline) -> PipelineResult:
    """Train, serve and score one pipeline."""
    training = train(pipeline)
    serving, evaluation = serve_heldout(pipeline)

    # Read from the trained model, so a config edited since cannot mislead.
    fallback = (evaluation["fallback_threshold"], evaluation["ambiguity_threshold"])
    predictions = predictions_from_json(evaluation["predictions"])
    # The configured settings are always swept, so they can be compared.
    sweep = sweep_fallback(
        predictions,
        sorted({*THRESHOLDS, fallback[0]}),
        sorted({*AMBIGUITY_THRESHOLDS, fallback[1]}),
    )
    mismatches = sum(
        served_intent(each, *fallback) != each.predicted for each in predictions
    )
    if mismatches:
        logger.warning(
            "the sweep at the configured settings disagreed with %s on %s messages",
            pipeline.name,
            mismatches,
        )
    median, p95 = median_and_p95(evaluation["parse_seconds"])
    return PipelineResult(
        pipeline=pipeline,
        configured_fallback=fallback,
        training=training,
        serving=serving,
        model_size_mb=pipeline.model_path.stat().st_size / 1024 / 1024,
        load_seconds=evaluation["load_seconds"],
        first_parse_seconds=evaluation["first_parse_seconds"],
        parse_median_ms=median * 1000,
        parse_p95_ms=p95 * 1000,
        predictions=predictions,
        scores=score_predictions(predictions),
        sweep=sweep,
        recommended=best_point(sweep, fallback),
        improvement=best_improvement(sweep, fallback),
        sweep_mismatches=mismatches,
        later_components=evaluation["later_components"],
        later_effect=later_component_effect(predictions, *fallback),
    )


def run() -> str:
    """Measure every pipeline, print the figures, return the report section."""
    results = [measure_pipeline(pipeline) for pipeline in PIPELINES]
    print(render_terminal(results))
    return render_section(results)
