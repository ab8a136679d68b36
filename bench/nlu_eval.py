"""Load one trained model and score it on the held-out set (run as a subprocess).

Prints one JSON object: load time, peak memory, per-utterance predictions.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

import yaml


def heldout_examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append((line[2:].strip(), block["intent"]))
    return examples


async def evaluate(model_path: str, heldout: Path) -> dict:
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(model_path)
    load_seconds = time.perf_counter() - started
    predictions = []
    parse_times = []
    for text, intent in heldout_examples(heldout):
        began = time.perf_counter()
        parsed = await agent.parse_message(text)
        parse_times.append(time.perf_counter() - began)
        ranking = parsed.get("intent_ranking") or []
        predictions.append({
            "text": text,
            "expected": intent,
            "predicted": parsed["intent"]["name"],
            "confidence": parsed["intent"]["confidence"],
            # The classifier's own top two, before the fallback replaced them.
            "ranking": [(r["name"], r["confidence"]) for r in ranking[:3]],
        })
    return {
        "load_seconds": load_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "parse_seconds": parse_times,
        "predictions": predictions,
    }


if __name__ == "__main__":
    result = asyncio.run(evaluate(sys.argv[1], Path(sys.argv[2])))
    print("RESULT " + json.dumps(result))
