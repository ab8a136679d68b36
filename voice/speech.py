"""Text to speech with pyttsx3 (espeak-ng), cached on disk, for phone and tablet."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from voice.audio import (
    SAMPLE_WIDTH,
    SPEECH_RATE,
    Resampler,
    read_wav,
    wav_for_phone,
    write_wav,
)
from voice.errors import SynthesisError
from voice.pronunciation import espeak_version

logger = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("tts_worker.py")
WORKER_VOICE_MISSING = 3
WORKER_TIMEOUT_SECONDS = 60
BRITISH_VOICES = ("gmw/en", "gmw/en-gb-x-rp", "gmw/en-gb-scotland")


@dataclass(frozen=True)
class VoiceSettings:
    """How replies are spoken."""

    voice: str = "gmw/en"
    """An espeak-ng voice id; "gmw/en" is British English."""
    words_per_minute: int = 150
    """Unhurried: espeak-ng's own default of 175 is quick for many listeners."""
    line_pause_seconds: float = 0.6
    """Quiet between the lines of a reply, such as the items of a basket."""

    def __post_init__(self) -> None:
        if not 80 <= self.words_per_minute <= 450:
            raise ValueError("words_per_minute must be between 80 and 450")
        if not 0 <= self.line_pause_seconds <= 5:
            raise ValueError("line_pause_seconds must be between 0 and 5 s")


@dataclass(frozen=True)
class Speech:
    """A spoken reply, as the engine made it, with the forms channels need."""

    wav: bytes
    """A mono 16-bit WAV file at the engine's rate (22,050 Hz for espeak-ng)."""
    lines_from_cache: int
    lines_synthesised: int

    @cached_property
    def _pcm_and_rate(self) -> tuple[bytes, int]:
        return read_wav(self.wav)

    @property
    def seconds(self) -> float:
        pcm, rate = self._pcm_and_rate
        return len(pcm) / SAMPLE_WIDTH / rate

    def for_phone(self) -> bytes:
        """8 kHz mu-law, for a Twilio media stream."""
        return wav_for_phone(self.wav)

    def for_tablet(self) -> bytes:
        """16 kHz 16-bit mono PCM, for the tablet."""
        pcm, rate = self._pcm_and_rate
        return Resampler(rate, SPEECH_RATE).convert(pcm)

    def tablet_wav(self) -> bytes:
        """The tablet's 16 kHz audio as a WAV file a browser can play."""
        return write_wav(self.for_tablet(), SPEECH_RATE)


MOST_PIECE_CHARACTERS = 110
PIECE_PAUSE_SECONDS = 0.15


def short_pieces(line: str, most: int = MOST_PIECE_CHARACTERS) -> list[str]:
    """A line cut into pieces of at most `most` characters: at sentence ends,
    then at semicolons and commas, then at spaces."""
    if len(line) <= most:
        return [line]
    for pattern in (r"(?<=[.?!:])\s+", r"(?<=[;])\s+", r"(?<=,)\s+", r"\s+"):
        parts = [part for part in re.split(pattern, line) if part.strip()]
        if len(parts) > 1:
            break
    else:
        return [line[i : i + most] for i in range(0, len(line), most)]
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current} {part}" if current else part
        if len(joined) <= most:
            current = joined
            continue
        if current:
            pieces.append(current)
        if len(part) > most:
            pieces.extend(short_pieces(part, most))
            current = ""
        else:
            current = part
    if current:
        pieces.append(current)
    return pieces


class Synthesiser:
    """Speaks replies with pyttsx3, one line at a time, caching every line.

    Each line of a reply is spoken on its own and the lines are joined with a
    pause, so a basket read back has a clear gap between items. A line is
    synthesised once per voice and rate; after that it comes from the cache.
    """

    def __init__(self, cache_dir: Path, settings: VoiceSettings | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.settings = settings or VoiceSettings()
        self._engine_versions = f"pyttsx3 {pyttsx3_version()}; {espeak_version()}"

    def speak(self, text: str) -> Speech:
        """The reply `text` as speech, one line of text to one spoken line.

        Raises:
            ValueError: `text` has no words to say.
            SynthesisError: pyttsx3 failed (code tts-failed) or the voice is
                not installed (code tts-voice-missing).
        """
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise ValueError("there is nothing to say")
        # Long lines are spoken in pieces, joined by a breath: each piece is
        # cached on its own, and pyttsx3's own loop was seen to write nothing
        # for an utterance of about 150 characters and more.
        pieces = [
            (piece, number)
            for number, line in enumerate(lines)
            for piece in short_pieces(line)
        ]

        paths = [self.line_path(piece) for piece, _ in pieces]
        missing = {
            path: piece
            for path, (piece, _) in zip(paths, pieces, strict=True)
            if not path.is_file()
        }
        if missing:
            self._synthesise(missing)

        parts = [read_wav(path.read_bytes()) for path in paths]
        rate = parts[0][1]
        line_pause = b"\0" * (
            int(self.settings.line_pause_seconds * rate) * SAMPLE_WIDTH
        )
        breath = b"\0" * (int(PIECE_PAUSE_SECONDS * rate) * SAMPLE_WIDTH)
        pcm = bytearray(parts[0][0])
        for index in range(1, len(parts)):
            same_line = pieces[index][1] == pieces[index - 1][1]
            pcm += (breath if same_line else line_pause) + parts[index][0]
        pcm = bytes(pcm)
        return Speech(
            wav=write_wav(pcm, rate),
            lines_from_cache=len(lines) - len(missing),
            lines_synthesised=len(missing),
        )

    def line_path(self, line: str) -> Path:
        """Where the cached speech of `line` is, in this voice and rate."""
        key = json.dumps(
            [
                self._engine_versions,
                self.settings.voice,
                self.settings.words_per_minute,
                line,
            ]
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.cache_dir / f"{digest}.wav"

    def _synthesise(self, lines: dict[Path, str]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache_dir) as folder:
            temporary = {
                path: Path(folder) / f"{number}.wav"
                for number, path in enumerate(lines)
            }
            job = {
                "voice": self.settings.voice,
                "rate": self.settings.words_per_minute,
                "lines": [
                    {"text": text, "path": str(temporary[path])}
                    for path, text in lines.items()
                ],
            }
            self._run_worker(job)
            for path, written in temporary.items():
                os.replace(written, path)
        logger.debug("synthesised %s line(s)", len(lines))

    def _run_worker(self, job: dict) -> None:
        try:
            completed = subprocess.run(
                [sys.executable, str(WORKER)],
                input=json.dumps(job),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                timeout=WORKER_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SynthesisError(f"the speech worker did not run: {error}") from error
        reason = completed.stderr.strip()[-500:]
        if completed.returncode == WORKER_VOICE_MISSING:
            raise SynthesisError(
                f"{reason}; British voices are {', '.join(BRITISH_VOICES)}",
                code="tts-voice-missing",
            )
        if completed.returncode != 0:
            raise SynthesisError(
                f"the speech worker failed ({completed.returncode}): {reason}"
            )


def pyttsx3_version() -> str:
    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "not installed"
