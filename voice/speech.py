"""Text to speech with pyttsx3 (espeak-ng), cached on disk, for phone and tablet.

The cache only saves time: when it cannot be written (the disk is full, the
folder read-only or not ours) replies are spoken from memory instead.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
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
WORKER_WRITE_FAILED = 4
WORKER_TIMEOUT_SECONDS = 60
LENGTH_BYTES = 8  # before each WAV the worker sends on standard output
# After the cache fails, replies go straight to memory for this long before
# the cache is tried again, so a full disk does not double every reply's work.
CACHE_RETRY_SECONDS = 60.0
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
        self._cache_failing_until: float | None = None

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
        audio = {path: cached_line(path) for path in paths}
        missing = {
            path: piece
            for path, (piece, _) in zip(paths, pieces, strict=True)
            if audio[path] is None
        }
        if missing:
            for path, wav in self._synthesise(missing).items():
                audio[path] = read_wav(wav)

        parts = [audio[path] for path in paths]
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

    def _synthesise(self, lines: dict[Path, str]) -> dict[Path, bytes]:
        """Speak `lines`, caching them if the cache can be written; their WAVs."""
        failing_until = self._cache_failing_until
        if failing_until is None or time.monotonic() >= failing_until:
            try:
                made = self._synthesise_into_cache(lines)
            except CacheUnwritable as error:
                self._cache_failed(error)
            else:
                if failing_until is not None:
                    logger.info("the audio cache can be written again")
                    self._cache_failing_until = None
                return made
        made = self._synthesise_in_memory(lines)
        logger.debug("synthesised %s line(s) without caching", len(lines))
        return made

    def _cache_failed(self, error: CacheUnwritable) -> None:
        # Warned once; then quietly, each time the cache is tried again.
        log = logger.debug if self._cache_failing_until is not None else logger.warning
        log(
            "the audio cache in %s cannot be written (%s); speaking without it",
            self.cache_dir,
            error.reason,
        )
        self._cache_failing_until = time.monotonic() + CACHE_RETRY_SECONDS

    def _synthesise_into_cache(self, lines: dict[Path, str]) -> dict[Path, bytes]:
        """Raises:
        CacheUnwritable: the cache folder or a file in it could not be written.
        """
        made: dict[Path, bytes] = {}
        try:
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
                    made[path] = written.read_bytes()
                    os.replace(written, path)
        except OSError as error:
            raise CacheUnwritable(os_reason(error)) from error
        logger.debug("synthesised %s line(s)", len(lines))
        return made

    def _synthesise_in_memory(self, lines: dict[Path, str]) -> dict[Path, bytes]:
        """Speak `lines` with the WAVs sent back over a pipe, touching no disk."""
        job = {
            "voice": self.settings.voice,
            "rate": self.settings.words_per_minute,
            "output": "stdout",
            "lines": [{"text": text} for text in lines.values()],
        }
        completed = self._call_worker(job, stdout=subprocess.PIPE)
        check_worker(completed.returncode, completed.stderr)
        wavs = unframe(completed.stdout)
        if len(wavs) != len(lines):
            raise SynthesisError(
                f"the speech worker sent {len(wavs)} of {len(lines)} line(s)"
            )
        return dict(zip(lines, wavs, strict=True))

    def _run_worker(self, job: dict) -> None:
        completed = self._call_worker(job, stdout=subprocess.DEVNULL)
        check_worker(completed.returncode, completed.stderr)

    def _call_worker(self, job: dict, stdout: int) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [sys.executable, str(WORKER)],
                input=json.dumps(job).encode("utf-8"),
                stdout=stdout,
                stderr=subprocess.PIPE,
                timeout=WORKER_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SynthesisError(f"the speech worker did not run: {error}") from error


class CacheUnwritable(SynthesisError):
    """The audio cache could not be written; the reply is spoken without it.

    Raised only inside `Synthesiser`, which then speaks from memory; it
    reaches a caller only if that fails too.
    """

    code = "tts-cache-unwritable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the audio cache cannot be written: {reason}")
        self.reason = reason
        """What failed, such as "ENOSPC (No space left on device)"."""


def check_worker(returncode: int, stderr: bytes) -> None:
    """Raise the error a speech worker's exit stands for, if any."""
    reason = stderr.decode("utf-8", errors="replace").strip()[-500:]
    if returncode == WORKER_VOICE_MISSING:
        raise SynthesisError(
            f"{reason}; British voices are {', '.join(BRITISH_VOICES)}",
            code="tts-voice-missing",
        )
    if returncode == WORKER_WRITE_FAILED:
        raise CacheUnwritable(reason.rpartition(": ")[2] or "a write failed")
    if returncode == -signal.SIGXFSZ:
        raise CacheUnwritable("EFBIG (over the file size limit)")
    if returncode != 0:
        raise SynthesisError(f"the speech worker failed ({returncode}): {reason}")


def cached_line(path: Path) -> tuple[bytes, int] | None:
    """A cached line's PCM and rate; None if it is not cached, cannot be read,
    or is broken (a write cut short), so that it is made afresh."""
    try:
        return read_wav(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.debug("a cached spoken line is unreadable: %s", error)
        return None


def unframe(data: bytes) -> list[bytes]:
    """The WAVs the worker sent, each after its length."""
    wavs = []
    while data:
        length = int.from_bytes(data[:LENGTH_BYTES], "big")
        wavs.append(data[LENGTH_BYTES : LENGTH_BYTES + length])
        data = data[LENGTH_BYTES + length :]
    return wavs


def os_reason(error: OSError) -> str:
    """ "ENOSPC (No space left on device)": the error without its file name."""
    name = errno.errorcode.get(error.errno or 0, "unknown error")
    return f"{name} ({error.strerror})" if error.strerror else name


def pyttsx3_version() -> str:
    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "not installed"
