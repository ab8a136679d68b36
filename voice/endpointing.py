"""Where utterances start and end in a stream of 16 kHz speech (WebRTC VAD)."""

from __future__ import annotations

import audioop
import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.errors import SpeechEngineUnavailable

FRAME_SECONDS = 0.03
# Speech starts when this many of the last START_WINDOW frames are voiced, so
# a click or a cough does not open an utterance.
START_VOICED_FRAMES = 3
START_WINDOW = 5
# Audio kept from before the start, so the first sound is not cut off.
PRE_ROLL_SECONDS = 0.3


def spectral_flatness(frame: bytes) -> float:
    """How noise-like a frame is: 1 for white noise, near 0 for a pure tone."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))[1:] ** 2
    power += 1e-3  # keeps log() finite on digital silence
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


class Ending(enum.Enum):
    """Why an utterance ended."""

    SILENCE = "silence"
    """The speaker was quiet for the configured time."""
    MAX_LENGTH = "max-length"
    """The utterance reached the longest allowed."""
    STREAM_END = "stream-end"
    """The caller finished the stream mid-utterance."""


@dataclass(frozen=True)
class Endpointing:
    """When an utterance starts and ends."""

    end_silence_seconds: float = 0.8
    """Quiet after speech that ends an utterance."""
    max_utterance_seconds: float = 15.0
    """An utterance is ended here even if the speaker (or the noise) goes on."""
    partial_interval_seconds: float = 0.3
    """How much audio passes between two looks at the partial result."""
    vad_mode: int = 2
    """WebRTC VAD aggressiveness, 0 (loose) to 3 (strict)."""
    energy_floor: int = 80
    """RMS below which a frame counts as silence whatever the VAD says."""
    noise_flatness: float = 0.5
    """Spectral flatness from which a frame counts as hiss, not speech.

    The WebRTC VAD takes loud broadband noise (static, a hissing line) for
    speech. Its flatness is about 0.56; voiced speech is below 0.05 and even
    an "s" rarely passes 0.4.
    """

    def __post_init__(self) -> None:
        if not FRAME_SECONDS * 3 <= self.end_silence_seconds:
            raise ValueError("end_silence_seconds must be at least 0.09 s")
        if self.max_utterance_seconds <= self.end_silence_seconds:
            raise ValueError("max_utterance_seconds must exceed end_silence_seconds")
        if not 0 < self.noise_flatness <= 1:
            raise ValueError("noise_flatness must be above 0 and at most 1")
        if self.vad_mode not in range(4):
            raise ValueError("vad_mode must be 0, 1, 2 or 3")

    @property
    def end_silence_frames(self) -> int:
        return round(self.end_silence_seconds / FRAME_SECONDS)

    @property
    def max_utterance_frames(self) -> int:
        return round(self.max_utterance_seconds / FRAME_SECONDS)

    @property
    def longest_chunk_bytes(self) -> int:
        """The longest chunk a recogniser takes (see AudioChunkTooLong)."""
        return int(self.end_silence_seconds * SPEECH_RATE) * SAMPLE_WIDTH


@dataclass(frozen=True)
class Span:
    """Audio for the recogniser, and where it stands in an utterance."""

    pcm: bytes
    starts: bool
    """The utterance begins with this audio."""
    ends: Ending | None
    """The utterance ends after this audio."""


class UtteranceDetector:
    """Turns a stream of PCM into the spans of audio that hold utterances.

    Audio outside an utterance is dropped, except a short pre-roll kept for
    the start of the next one.
    """

    def __init__(self, endpointing: Endpointing) -> None:
        try:
            from pocketsphinx import Vad
        except ImportError as error:
            raise SpeechEngineUnavailable(
                "pocketsphinx (for its voice activity detector) is not installed"
            ) from error
        self.endpointing = endpointing
        self._vad = Vad(endpointing.vad_mode, SPEECH_RATE, FRAME_SECONDS)
        self.frame_bytes: int = self._vad.frame_bytes
        self._pending = b""
        self._recent: deque[tuple[bytes, bool]] = deque(
            maxlen=max(START_WINDOW, round(PRE_ROLL_SECONDS / FRAME_SECONDS))
        )
        self._quiet_frames = 0
        """Frames since the last speech; a lone voiced frame (a click) is quiet."""
        self._last_three: deque[bool] = deque(maxlen=3)
        self._frames_in_utterance = 0
        self.in_utterance = False

    def push(self, pcm: bytes) -> Iterator[Span]:
        """The spans of utterance audio found in `pcm` (frames completed by it)."""
        data = self._pending + pcm
        whole = len(data) - len(data) % self.frame_bytes
        self._pending = data[whole:]
        for start in range(0, whole, self.frame_bytes):
            span = self._frame(data[start : start + self.frame_bytes])
            if span is not None:
                yield span

    def flush(self) -> Span | None:
        """End the stream: the rest of an utterance in progress, if any."""
        pending, self._pending = self._pending, b""
        if not self.in_utterance:
            self._recent.clear()
            return None
        self._reset()
        return Span(pending, starts=False, ends=Ending.STREAM_END)

    def _voiced(self, frame: bytes) -> bool:
        if audioop.rms(frame, SAMPLE_WIDTH) < self.endpointing.energy_floor:
            return False
        if not self._vad.is_speech(frame):
            return False
        return spectral_flatness(frame) < self.endpointing.noise_flatness

    def _frame(self, frame: bytes) -> Span | None:
        voiced = self._voiced(frame)
        if not self.in_utterance:
            self._recent.append((frame, voiced))
            window = list(self._recent)[-START_WINDOW:]
            if sum(is_voiced for _, is_voiced in window) < START_VOICED_FRAMES:
                return None
            pcm = b"".join(each for each, _ in self._recent)
            self._recent.clear()
            self.in_utterance = True
            self._frames_in_utterance = len(pcm) // self.frame_bytes
            self._quiet_frames = 0
            self._last_three.clear()
            return Span(pcm, starts=True, ends=None)

        self._frames_in_utterance += 1
        self._last_three.append(voiced)
        if voiced and sum(self._last_three) >= 2:
            self._quiet_frames = 0
        else:
            self._quiet_frames += 1
        ending = None
        if self._quiet_frames >= self.endpointing.end_silence_frames:
            ending = Ending.SILENCE
        elif self._frames_in_utterance >= self.endpointing.max_utterance_frames:
            ending = Ending.MAX_LENGTH
        if ending is not None:
            self._reset()
        return Span(frame, starts=False, ends=ending)

    def _reset(self) -> None:
        self.in_utterance = False
        self._quiet_frames = 0
        self._last_three.clear()
        self._recent.clear()
        self._frames_in_utterance = 0
