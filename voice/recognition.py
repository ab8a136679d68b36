"""Streaming speech-to-text: the protocol every engine follows, and its results."""

# A recogniser takes 16 kHz, 16-bit mono PCM in chunks as it arrives and answers
# each chunk with a Partial (words so far), a Final (an utterance has ended) or
# None. Utterances are found by one detector for every engine (voice.endpointing),
# so the end-of-utterance silence means the same whichever engine is in use; an
# engine only decodes the audio of each utterance.

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.endpointing import Ending, Endpointing, UtteranceDetector
from voice.errors import AudioChunkTooLong

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partial:
    """The words heard so far in an utterance that is still going on."""

    text: str
    is_final: ClassVar[bool] = False


@dataclass(frozen=True)
class Final:
    """What was said in one utterance, once it has ended."""

    text: str
    """The words, lower case; empty when the engine heard no words."""
    confidence: float | None
    """0 to 1, from the engine; None if the engine gives none."""
    ending: Ending
    """Why the utterance ended."""
    seconds: float
    """How long the utterance was, from its start to its end."""
    is_final: ClassVar[bool] = True


class Recogniser(Protocol):
    """One stream of speech: a phone call, or a tablet's microphone."""

    def accept(self, chunk: bytes) -> Partial | Final | None:
        """Take the next chunk of 16 kHz PCM and say what has been heard.

        A chunk may be any length up to the end-of-utterance silence. A Final
        ends one utterance; the next one starts with the next speech.

        Raises:
            AudioChunkTooLong: the chunk is longer than the end silence.
        """
        ...

    def finish(self) -> Final | None:
        """End the stream; the Final of an utterance still going on, if any."""
        ...

    def close(self) -> None:
        """Give the engine's resources back; the recogniser is not used again."""
        ...


class SpeechToText(Protocol):
    """A loaded speech-to-text engine, shared by every stream."""

    name: str

    def recogniser(self, endpointing: Endpointing | None = None) -> Recogniser:
        """A recogniser for a new stream."""
        ...


class UtteranceDecoder(Protocol):
    """What an engine must do: decode the audio of one utterance at a time."""

    def begin(self) -> None: ...

    def feed(self, pcm: bytes) -> None: ...

    def partial(self) -> str: ...

    def end(self) -> tuple[str, float | None]:
        """The utterance's words and their confidence; the decoder is reset."""
        ...

    def close(self) -> None: ...


class StreamingRecogniser:
    """A Recogniser made of the shared utterance detector and an engine's decoder."""

    def __init__(self, decoder: UtteranceDecoder, endpointing: Endpointing) -> None:
        self.endpointing = endpointing
        self._decoder = decoder
        self._detector = UtteranceDetector(endpointing)
        self._partial_bytes = (
            int(endpointing.partial_interval_seconds * SPEECH_RATE) * SAMPLE_WIDTH
        )
        self._utterance_bytes = 0
        self._since_partial = 0
        self._last_partial = ""
        self._closed = False

    def __enter__(self) -> StreamingRecogniser:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    def accept(self, chunk: bytes) -> Partial | Final | None:
        if self._closed:
            raise RuntimeError("this recogniser is closed")
        if len(chunk) > self.endpointing.longest_chunk_bytes:
            raise AudioChunkTooLong(
                f"a chunk of {len(chunk)} bytes is longer than the "
                f"{self.endpointing.end_silence_seconds} s end-of-utterance silence"
            )

        result: Partial | Final | None = None
        for span in self._detector.push(chunk):
            if span.starts:
                self._begin()
            self._feed(span.pcm)
            if span.ends is not None:
                result = self._end(span.ends)
            elif self._since_partial >= self._partial_bytes and result is None:
                result = self._partial()
        return result

    def finish(self) -> Final | None:
        if self._closed:
            raise RuntimeError("this recogniser is closed")
        span = self._detector.flush()
        if span is None:
            return None
        self._feed(span.pcm)
        return self._end(Ending.STREAM_END)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._decoder.close()

    def _begin(self) -> None:
        self._decoder.begin()
        self._utterance_bytes = 0
        self._since_partial = 0
        self._last_partial = ""

    def _feed(self, pcm: bytes) -> None:
        if pcm:
            self._decoder.feed(pcm)
            self._utterance_bytes += len(pcm)
            self._since_partial += len(pcm)

    def _partial(self) -> Partial | None:
        self._since_partial = 0
        text = self._decoder.partial()
        if not text or text == self._last_partial:
            return None
        self._last_partial = text
        return Partial(text)

    def _end(self, ending: Ending) -> Final:
        text, confidence = self._decoder.end()
        seconds = self._utterance_bytes / SAMPLE_WIDTH / SPEECH_RATE
        logger.debug("heard %r (%s) in %.2f s", text, ending.value, seconds)
        return Final(text, confidence, ending, round(seconds, 3))


def stream_audio(
    recogniser: Recogniser, pcm: bytes, chunk_seconds: float = 0.1
) -> Iterator[Partial | Final]:
    """Feed recorded PCM to `recogniser` chunk by chunk, as a live stream would.

    Every result comes out in order; the stream is finished at the end.
    """
    chunk_bytes = int(chunk_seconds * SPEECH_RATE) * SAMPLE_WIDTH
    for start in range(0, len(pcm), chunk_bytes):
        result = recogniser.accept(pcm[start : start + chunk_bytes])
        if result is not None:
            yield result
    final = recogniser.finish()
    if final is not None:
        yield final


def transcribe(
    recogniser: Recogniser, pcm: bytes, chunk_seconds: float = 0.1
) -> list[Final]:
    """The Final of every utterance in recorded PCM."""
    results = stream_audio(recogniser, pcm, chunk_seconds)
    return [result for result in results if isinstance(result, Final)]
