"""Speech to intent on the phone: recorded utterances, recognised, then parsed.

Every utterance is said twice, once at each pace, by voices taken in turn,
synthesised by our own text to speech and turned into phone audio with
Speech.for_phone(). Two processes of bench.phone_recognition hear the
recordings as the gateway would, with the domain model and (on the first
half of each speaker's calls, for time) with the generic one; the served
Rasa model then parses what was said and what was heard.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.config import PROJECT_ROOT
from bench.measure import BenchmarkError
from bench.phone_recognition import CALL_LENGTH
from bench.phone_utterances import (
    SPEAKERS,
    Speaker,
    Utterance,
    in_domain_corpus,
    phone_audio,
)
from voice.engines import build_pocketsphinx_domain_model
from voice.scoring import word_errors
from voice.vocabulary import project_sources

logger = logging.getLogger(__name__)

HANDOFF_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
NOTHING = "(nothing heard)"
# The generic model decodes about five times slower: it hears this many of
# each speaker's calls, the domain model all of them.
GENERIC_CALLS = 2
WORKERS = 2
# Relative cost of a recording to each model, for sharing the work out.
COST = {"generic": 5, "domain": 1}


def plan(utterances: Sequence[Utterance]) -> dict[Speaker, list[int]]:
    """Which utterances each speaker says: all of them at each pace, the
    voices taking turns, so that each pace hears every utterance."""
    rates = sorted({each.words_per_minute for each in SPEAKERS})
    voices = list(dict.fromkeys(each.voice for each in SPEAKERS))
    said: dict[Speaker, list[int]] = {speaker: [] for speaker in SPEAKERS}
    for index in range(len(utterances)):
        for turn, rate in enumerate(rates):
            voice = voices[(index + turn) % len(voices)]
            speaker = next(
                each
                for each in SPEAKERS
                if each.voice == voice and each.words_per_minute == rate
            )
            said[speaker].append(index)
    return said


def record(
    utterances: Sequence[Utterance], said: dict[Speaker, list[int]], folder: Path
) -> dict[Speaker, list[Path]]:
    """Synthesise every speaker's utterances to mu-law files."""
    paths: dict[Speaker, list[Path]] = {}
    for speaker, indices in said.items():
        texts = [utterances[index].text for index in indices]
        audio = phone_audio(speaker, texts, folder / "tts")
        target = folder / "audio" / speaker.slug
        target.mkdir(parents=True, exist_ok=True)
        paths[speaker] = []
        for index, mulaw in zip(indices, audio, strict=True):
            path = target / f"{index:03d}.ulaw"
            path.write_bytes(mulaw)
            paths[speaker].append(path)
    return paths


def start_recognition(
    recordings: dict[Speaker, list[Path]], folder: Path
) -> list[tuple[subprocess.Popen, Path]]:
    """Start the recognition processes; the work is shared out by cost."""
    # Built here once, so that the two processes only read it.
    build_pocketsphinx_domain_model(folder / "voice", project_sources(PROJECT_ROOT))
    tasks = []
    for speaker, paths in recordings.items():
        tasks.append(("domain", speaker, paths))
        tasks.append(("generic", speaker, paths[: GENERIC_CALLS * CALL_LENGTH]))
    shares: list[list[dict]] = [[] for _ in range(WORKERS)]
    loads = [0] * WORKERS
    for model, speaker, paths in sorted(
        tasks, key=lambda task: -COST[task[0]] * len(task[2])
    ):
        lightest = loads.index(min(loads))
        shares[lightest].append(
            {
                "model": model,
                "label": speaker.label,
                "audio": [str(path) for path in paths],
            }
        )
        loads[lightest] += COST[model] * len(paths)

    workers = []
    for number, share in enumerate(shares):
        job = folder / f"recognition-{number}.json"
        job.write_text(
            json.dumps({"cache_dir": str(folder / "voice"), "tasks": share}),
            encoding="utf-8",
        )
        output = folder / f"heard-{number}.json"
        log = (folder / f"recognition-{number}.log").open("wb")
        command = [sys.executable, "-m", "bench.phone_recognition"]
        process = subprocess.Popen(
            [*command, str(job), str(output)],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        workers.append((process, output))
    return workers


def finish_recognition(
    workers: list[tuple[subprocess.Popen, Path]],
) -> dict[tuple[str, str], dict]:
    """The results of every task, by (model, speaker label)."""
    results = {}
    for process, output in workers:
        if process.wait() != 0:
            raise BenchmarkError(f"recognition failed; see {output.parent}")
        for task in json.loads(output.read_text(encoding="utf-8")):
            results[(task["model"], task["label"])] = task
    return results


def parse_intents(rasa_url: str, token: str, texts: set[str]) -> dict[str, str]:
    """The served model's intent for each text (POST /model/parse)."""
    intents = {}
    with httpx.Client(base_url=rasa_url, timeout=30) as client:
        for text in sorted(texts):
            response = client.post(
                "/model/parse", params={"token": token}, json={"text": text}
            )
            response.raise_for_status()
            intents[text] = response.json()["intent"]["name"]
    return intents


@dataclass
class Tally:
    """Scores of one model on a set of recordings."""

    recordings: int = 0
    errors: int = 0
    words: int = 0
    exact: int = 0
    same_intent: int = 0
    handed_off: int = 0
    wrongly_handed_off: int = 0
    """Handed off although what was said would not have been."""
    nothing_heard: int = 0
    second_passes: int = 0
    end_waits: list[float] = field(default_factory=list)
    final_decodes: list[float] = field(default_factory=list)
    confusions: Counter = field(default_factory=Counter)

    def add(self, said: str, heard: dict, intents: dict[str, str]) -> None:
        errors, words = word_errors(said, heard["text"])
        true_intent = intents[said]
        heard_intent = intents.get(heard["text"], NOTHING) if heard["text"] else NOTHING
        self.recordings += 1
        self.errors += errors
        self.words += words
        self.exact += errors == 0
        self.same_intent += heard_intent == true_intent
        self.handed_off += heard_intent in HANDOFF_INTENTS
        self.wrongly_handed_off += (
            heard_intent in HANDOFF_INTENTS and true_intent not in HANDOFF_INTENTS
        )
        self.nothing_heard += heard_intent == NOTHING
        self.second_passes += heard["second_pass"]
        if heard["end_wait_seconds"] is not None:
            self.end_waits.append(heard["end_wait_seconds"])
            self.final_decodes.append(heard["final_decode_seconds"])
        if heard_intent != true_intent:
            self.confusions[(true_intent, heard_intent)] += 1

    @property
    def word_error_rate(self) -> float:
        return self.errors / self.words if self.words else 0.0


@dataclass
class AccuracyResult:
    utterances: list[Utterance]
    said: dict[Speaker, list[int]]
    intents: dict[str, str]
    """The served model's intent of every text, said or heard."""
    results: dict[tuple[str, str], dict]
    in_corpus: list[str]

    def tally(
        self,
        model: str,
        speakers: Sequence[Speaker],
        generic_part: bool = False,
        source: str | None = None,
    ) -> Tally:
        """Scores of `model` over `speakers`; with `generic_part`, only on the
        recordings the generic model heard too; with `source`, only on the
        utterances from there."""
        tally = Tally()
        for speaker in speakers:
            heard = self.results[(model, speaker.label)]["heard"]
            indices = self.said[speaker]
            if generic_part:
                count = len(self.results[("generic", speaker.label)]["heard"])
                indices, heard = indices[:count], heard[:count]
            for index, each in zip(indices, heard, strict=True):
                utterance = self.utterances[index]
                if source is None or utterance.source == source:
                    tally.add(utterance.text, each, self.intents)
        return tally


def measure_accuracy(
    utterances: list[Utterance],
    workers: list[tuple[subprocess.Popen, Path]],
    rasa_url: str,
    token: str,
) -> AccuracyResult:
    """Wait for the recognition started earlier, then parse everything."""
    results = finish_recognition(workers)
    texts = {each.text for each in utterances}
    for task in results.values():
        texts |= {heard["text"] for heard in task["heard"] if heard["text"]}
    intents = parse_intents(rasa_url, token, texts)
    said = plan(utterances)
    in_corpus = in_domain_corpus([each.text for each in utterances])
    return AccuracyResult(utterances, said, intents, results, in_corpus)
