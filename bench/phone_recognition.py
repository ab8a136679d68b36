"""Phone audio recognised as the gateway hears it: python -m bench.phone_recognition.

Usage: python -m bench.phone_recognition JOB_JSON OUTPUT_JSON

JOB_JSON lists tasks: a model, generic (pocketsphinx's own US English
language model) or domain (the model built from our NLU examples and
catalogue), and the mu-law files of one speaker's utterances, which are
split into calls of CALL_LENGTH; a call gets one recogniser from the engine,
as a media stream does, and hears its utterances in 20 ms frames, each
decoded from mu-law and raised to 16 kHz by one Resampler for the whole
call, handed over once RECOGNISE_EVERY_BYTES have gathered: the steps of
StreamedCall.hear, without the WebSocket. The benchmark shares the tasks
between two of these processes, one for each core.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.channels.media_stream import RECOGNISE_EVERY_BYTES
from assistant.config import PROJECT_ROOT
from bench.phone_utterances import FRAME_SECONDS, frames, last_speech_frame, silence
from voice.audio import PHONE_RATE, SPEECH_RATE, Resampler, mulaw_to_pcm
from voice.engines import load_pocketsphinx
from voice.recognition import Final, Recogniser, SpeechToText
from voice.vocabulary import project_sources

logger = logging.getLogger("bench.phone_recognition")

CALL_LENGTH = 10
LEAD_SECONDS = 0.5
# Longer than the end-of-utterance silence, so each utterance ends on its own.
GAP_SECONDS = 1.2


class PhoneLine:
    """The gateway's side of a media stream, feeding one recogniser."""

    def __init__(self, recogniser: Recogniser) -> None:
        self.recogniser = recogniser
        self.to_speech = Resampler(PHONE_RATE, SPEECH_RATE)
        self.heard_audio = bytearray()

    def frame(self, mulaw: bytes) -> tuple[Final | None, float]:
        """One media frame in; a Final if an utterance ended, and decode seconds."""
        self.heard_audio += self.to_speech.convert(mulaw_to_pcm(mulaw))
        if len(self.heard_audio) < RECOGNISE_EVERY_BYTES:
            return None, 0.0
        chunk, self.heard_audio = bytes(self.heard_audio), bytearray()
        started = time.perf_counter()
        result = self.recogniser.accept(chunk)
        took = time.perf_counter() - started
        return (result if isinstance(result, Final) else None), took


@dataclass
class Heard:
    """What one utterance became."""

    text: str = ""
    finals: int = 0
    end_wait_seconds: float | None = None
    """Audio from the last speech frame to the frame that brought the Final."""
    final_decode_seconds: float | None = None
    """Wall time of the accept() call that answered the Final."""
    second_pass: bool = False
    words: list[str] = field(default_factory=list)


def second_passes(recogniser: Recogniser) -> int:
    # The decoder counts its second passes for benchmarks.
    return getattr(getattr(recogniser, "_decoder", None), "second_passes", 0)


def hear_call(engine: SpeechToText, audio: list[bytes]) -> tuple[list[Heard], float]:
    """One call's utterances through one recogniser; also the decode seconds."""
    decode_seconds = 0.0
    results = []
    with engine.recogniser() as recogniser:
        line = PhoneLine(recogniser)
        for frame in frames(silence(LEAD_SECONDS)):
            decode_seconds += line.frame(frame)[1]
        for mulaw in audio:
            heard = Heard()
            last_speech = last_speech_frame(mulaw)
            passes = second_passes(recogniser)
            utterance = frames(mulaw) + frames(silence(GAP_SECONDS))
            for index, frame in enumerate(utterance):
                final, took = line.frame(frame)
                decode_seconds += took
                if final is None:
                    continue
                heard.finals += 1
                if final.text:
                    heard.words.append(final.text)
                heard.end_wait_seconds = (index - last_speech) * FRAME_SECONDS
                heard.final_decode_seconds = took
            heard.text = " ".join(heard.words)
            heard.second_pass = second_passes(recogniser) > passes
            results.append(heard)
    return results, decode_seconds


def load_engine(model: str, cache_dir: Path) -> SpeechToText:
    if model == "generic":
        return load_pocketsphinx()
    return load_pocketsphinx(cache_dir, project_sources(PROJECT_ROOT))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    job_path, output = argv
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    engines: dict[str, SpeechToText] = {}
    results = []
    for task in job["tasks"]:
        model = task["model"]
        load_seconds = None
        if model not in engines:
            started = time.perf_counter()
            engines[model] = load_engine(model, Path(job["cache_dir"]))
            load_seconds = time.perf_counter() - started
        audio = [Path(path).read_bytes() for path in task["audio"]]
        heard: list[Heard] = []
        decode_seconds = 0.0
        for start in range(0, len(audio), CALL_LENGTH):
            call, took = hear_call(engines[model], audio[start : start + CALL_LENGTH])
            heard += call
            decode_seconds += took
        results.append(
            {
                "model": model,
                "label": task["label"],
                "load_seconds": load_seconds,
                "decode_seconds": decode_seconds,
                "speech_seconds": sum(len(each) for each in audio) / PHONE_RATE,
                "heard": [asdict(each) for each in heard],
            }
        )
        logger.info("%s model: %s done", model, task["label"])
    Path(output).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
