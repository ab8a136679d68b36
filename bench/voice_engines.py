"""Speech engines: word errors of generic and domain pocketsphinx, speed, TTS."""

from __future__ import annotations

import json
import logging
import sys

from assistant.config import PROJECT_ROOT
from bench.measure import ChildRun, run_measured
from bench.voice_measure import SENTENCES, SPEAKERS
from voice.scoring import word_error_rate, word_errors

logger = logging.getLogger(__name__)

BENCH_DIR = PROJECT_ROOT / "var" / "bench" / "voice"
TASKS = ("generic", "domain", "vosk", "tts")


def measure(task: str) -> tuple[dict, ChildRun]:
    """Run one task of bench.voice_measure in its own process."""
    output = BENCH_DIR / f"{task}.json"
    command = [sys.executable, "-m", "bench.voice_measure", task]
    command += [str(BENCH_DIR), str(output)]
    logger.info("voice benchmark: %s", task)
    child = run_measured(command, BENCH_DIR / f"{task}.log", cwd=PROJECT_ROOT)
    return json.loads(output.read_text(encoding="utf-8")), child


def conversation_errors(heard: list[str]) -> float:
    """Word error rate of one conversation, all sentences against all words heard."""
    return word_error_rate([(" ".join(SENTENCES), " ".join(heard))])


def exactly_right(heard: list[str]) -> int:
    if len(heard) != len(SENTENCES):
        return sum(text in heard for text in SENTENCES)
    pairs = zip(SENTENCES, heard, strict=True)
    return sum(word_errors(said, text)[0] == 0 for said, text in pairs)


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def render(results: dict[str, dict], children: dict[str, ChildRun]) -> str:
    generic, domain = results["generic"], results["domain"]
    vosk, tts = results["vosk"], results["tts"]
    lines = [
        "Twenty requests a resident might make (written for this benchmark, "
        f"not taken from the NLU examples; {len(domain['test_sentences_in_corpus'])}"
        " of them happen to be there word for word) are spoken by our text-to-speech "
        "(pyttsx3, espeak-ng) and fed, as one call with 1.5 s pauses, in 20 ms "
        "chunks to pocketsphinx 5 with its generic US English language model "
        "and with the domain model built from `nlu/data/nlu/*.yml` and "
        "`assistant/data/catalogue.csv`. Word error rate is over the whole "
        "call (substitutions, deletions and insertions over the "
        f"{word_errors(' '.join(SENTENCES), '')[1]} words said).",
        "",
        "| Speaker (espeak-ng) | Generic model | Domain model | Errors cut by "
        "| Sentences exactly right, generic / domain |",
        "|---|---|---|---|---|",
    ]
    for label, _, _ in SPEAKERS:
        generic_heard = generic["speakers"][label]["heard"]
        domain_heard = domain["speakers"][label]["heard"]
        before = conversation_errors(generic_heard)
        after = conversation_errors(domain_heard)
        cut = (before - after) / before if before else 0.0
        lines.append(
            f"| {label} | {percent(before)} | {percent(after)} | {percent(cut)} "
            f"| {exactly_right(generic_heard)} / {exactly_right(domain_heard)} "
            f"of {len(SENTENCES)} |"
        )

    excerpt_words = sum(
        word_errors(reference, "")[1] for reference, _ in generic["human"]["tablet"]
    )
    lines += [
        "",
        f"A person reading aloud: three LibriVox excerpts ({excerpt_words} words, "
        "public domain, `tests/data/librivox/`), at 16 kHz as a tablet sends "
        "them and through the phone's 8 kHz mu-law:",
        "",
        "| Channel | Generic model | Domain model |",
        "|---|---|---|",
    ]
    for channel in ("tablet", "phone"):
        lines.append(
            f"| {channel} "
            f"| {percent(word_error_rate(generic['human'][channel]))} "
            f"| {percent(word_error_rate(domain['human'][channel]))} |"
        )

    vosk_load = vosk_rtf = vosk_memory = "not measured"
    if "missing" not in vosk:
        vosk_load = f"{vosk['load_seconds']:.2f} s ({vosk['model_mb']:.0f} MB)"
        vosk_rtf = f"{vosk['real_time_factor']:.2f}"
        vosk_memory = f"{children['vosk'].peak_rss_mb:.0f} MB"
    lines += [
        "",
        "| | Pocketsphinx, generic | Pocketsphinx, domain | Vosk, small Korean model |",
        "|---|---|---|---|",
        "| Model load (the first decoder; the domain model already built) "
        f"| {generic['load_seconds']:.2f} s "
        f"| {domain['load_seconds']:.2f} s | {vosk_load} |",
        f"| Real-time factor (decoding time / audio time) "
        f"| {generic['real_time_factor']:.2f} | {domain['real_time_factor']:.2f} "
        f"| {vosk_rtf} |",
        f"| Peak RSS of the measuring process "
        f"| {children['generic'].peak_rss_mb:.0f} MB "
        f"| {children['domain'].peak_rss_mb:.0f} MB | {vosk_memory} |",
        "",
        f"The domain model: {domain['words']} words ({domain['guessed']} "
        f"pronounced by espeak-ng, {domain['british_variants']} British "
        f"pronunciations added, {domain['skipped']} left out), "
        f"{domain['sentences']} sentences, a {domain['language_model_kb']:.0f} kB "
        f"ARPA file. Built from nothing in {domain['build_seconds']:.1f} s; "
        f"finding it in the cache took {domain['cache_check_seconds'] * 1000:.0f} ms.",
        "",
        "Text to speech (a fresh pyttsx3 process for each reply, so that the "
        "rate is honoured):",
        "",
        "| | |",
        "|---|---|",
        f"| One sentence, synthesised (median / max) "
        f"| {tts['fresh_median'] * 1000:.0f} / {tts['fresh_max'] * 1000:.0f} ms |",
        f"| The same, from the cache (median) | {tts['cached_median'] * 1000:.1f} ms |",
        f"| A reply of {tts['batch_lines']} new lines | "
        f"{tts['batch_seconds'] * 1000:.0f} ms |",
        f"| Speech per sentence at 150 wpm (median) | {tts['spoken_median']:.1f} s |",
        f"| Phone and tablet forms of a line | {tts['forms_seconds'] * 1000:.1f} ms |",
        "| One line at 120 / 150 / 220 wpm | "
        + " / ".join(
            f"{seconds:.2f} s" for seconds in tts["durations_by_rate"].values()
        )
        + " |",
        f"| Peak RSS of the measuring process | {children['tts'].peak_rss_mb:.0f} MB |",
        "",
        "Read with care: the synthesised speaker and the British pronunciations "
        "in the domain dictionary both come from espeak-ng, which flatters the "
        "domain model; the LibriVox rows show what happens to speech outside "
        "the project's words, which the domain model cannot hear. The generic "
        "model errs on espeak-ng's voice far more than on a person's.",
    ]
    return "\n".join(lines)


def run() -> str:
    """Measure the voice engines, print the figures, return the report section."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results, children = {}, {}
    for task in TASKS:
        results[task], children[task] = measure(task)
    section = render(results, children)
    print(section)
    return section
