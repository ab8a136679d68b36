"""Load one trained model and parse every held-out message, in its own process.

Usage: python -m bench.nlu_eval MODEL HELDOUT OUTPUT_JSON

Writes load time, parse times and one prediction per message to OUTPUT_JSON.
Besides what the served model answered, each prediction keeps what other
fallback settings would need: the classifier's own ranking, taken from the
graph before the FallbackClassifier, and what the components after the
fallback make of the message both when the fallback fires and when it does
not. The sweep in bench/nlu_pipelines.py needs nothing else.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FALLBACK_INTENT = "nlu_fallback"

# Parsed once before timing starts: the first parse builds TensorFlow graphs
# and warms caches, a cost paid once per restart, not on every message.
WARM_UP_MESSAGE = "hello, could I have some milk please"

# Rasa ends every NLU graph with this; it only reads "/intent" messages.
RASA_OWN_LAST_COMPONENT = "RegexMessageHandler"


@dataclass(frozen=True)
class NluGraph:
    """The parts of a loaded model's prediction graph the sweep needs."""

    runner: Any
    classifier_node: str
    fallback_node: str
    target_node: str
    fallback_threshold: float
    ambiguity_threshold: float
    later_components: list[str]
    """Components between the fallback and the end, such as a product override."""


def heldout_examples(path: Path) -> list[tuple[str, str]]:
    """The (text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    training_data = load_data(str(path))
    return [
        (example.get("text"), example.get("intent"))
        for example in training_data.intent_examples
    ]


def configure_rasa_logging() -> None:
    """Log at INFO, as `rasa run` does by default.

    Unconfigured, Rasa's structured logger writes a DEBUG line for every parse,
    which would slow parsing down and make the latency unlike a server's.
    """
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)


def find_nlu_graph(agent: Any) -> NluGraph:
    """Find the classifier, the fallback and what follows it in the graph."""
    from rasa.core.constants import (
        DEFAULT_NLU_FALLBACK_AMBIGUITY_THRESHOLD,
        DEFAULT_NLU_FALLBACK_THRESHOLD,
    )
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    metadata = agent.processor.model_metadata
    nodes = metadata.predict_schema.nodes
    fallback_node = next(
        (
            name
            for name, node in nodes.items()
            if issubclass(node.uses, FallbackClassifier)
        ),
        None,
    )
    if fallback_node is None:
        raise SystemExit("the model has no FallbackClassifier to sweep")

    later_components = []
    node_name = metadata.nlu_target
    while node_name != fallback_node:
        component = nodes[node_name].uses.__name__
        if component != RASA_OWN_LAST_COMPONENT:
            later_components.append(component)
        node_name = nodes[node_name].needs["messages"]

    fallback_config = nodes[fallback_node].config
    return NluGraph(
        runner=agent.processor.graph_runner,
        classifier_node=nodes[fallback_node].needs["messages"],
        fallback_node=fallback_node,
        target_node=metadata.nlu_target,
        fallback_threshold=fallback_config.get(
            "threshold", DEFAULT_NLU_FALLBACK_THRESHOLD
        ),
        ambiguity_threshold=fallback_config.get(
            "ambiguity_threshold", DEFAULT_NLU_FALLBACK_AMBIGUITY_THRESHOLD
        ),
        later_components=list(reversed(later_components)),
    )


def run_graph(graph: NluGraph, text: str, target: str, **overrides: Any) -> Any:
    """Run the graph up to `target`; `overrides` stand in for nodes' outputs."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    inputs = {
        PLACEHOLDER_MESSAGE: [UserMessage(text)],
        PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("bench", []),
        **overrides,
    }
    return graph.runner.run(inputs=inputs, targets=[target])[target][0]


def what_the_fallback_would_leave(graph: NluGraph, text: str) -> dict[str, Any]:
    """The classifier's ranking, and the final intent with and without a fallback.

    Components after the fallback see only whether it fired (its confidence is
    the configured threshold either way), so two runs cover every setting.
    """
    classified = run_graph(graph, text, graph.classifier_node)
    ranking = classified.get("intent_ranking") or []

    fallback = {"name": FALLBACK_INTENT, "confidence": graph.fallback_threshold}
    fallen_back = copy.deepcopy(classified)
    fallen_back.set("intent", fallback, add_to_output=True)
    fallen_back.set("intent_ranking", [fallback, *ranking], add_to_output=True)

    outcomes = {}
    for case, message in (("kept", copy.deepcopy(classified)), ("fired", fallen_back)):
        final = run_graph(
            graph, text, graph.target_node, **{graph.fallback_node: [message]}
        )
        outcomes[case] = final.get("intent")["name"]
    return {
        "ranking": [(entry["name"], entry["confidence"]) for entry in ranking[:3]],
        "if_kept": outcomes["kept"],
        "if_fallback": outcomes["fired"],
    }


async def evaluate(model_path: Path, heldout: Path) -> dict[str, Any]:
    """Load the model, then parse and time every held-out message."""
    from rasa.core.agent import Agent

    configure_rasa_logging()
    examples = heldout_examples(heldout)

    started = time.perf_counter()
    agent = Agent.load(str(model_path))
    load_seconds = time.perf_counter() - started

    began = time.perf_counter()
    await agent.parse_message(WARM_UP_MESSAGE)
    first_parse_seconds = time.perf_counter() - began

    graph = find_nlu_graph(agent)
    predictions = []
    parse_seconds = []
    for text, expected in examples:
        began = time.perf_counter()
        parsed = await agent.parse_message(text)
        parse_seconds.append(time.perf_counter() - began)
        predictions.append(
            {
                "text": text,
                "expected": expected,
                "predicted": parsed["intent"]["name"],
                "confidence": parsed["intent"]["confidence"],
                **what_the_fallback_would_leave(graph, text),
            }
        )
    return {
        "load_seconds": load_seconds,
        "first_parse_seconds": first_parse_seconds,
        "parse_seconds": parse_seconds,
        "fallback_threshold": graph.fallback_threshold,
        "ambiguity_threshold": graph.ambiguity_threshold,
        "later_components": graph.later_components,
        "predictions": predictions,
    }


def main(arguments: list[str]) -> int:
    if len(arguments) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, heldout, output = (Path(argument) for argument in arguments)
    result = asyncio.run(evaluate(model_path, heldout))
    output.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
