"""Speaks lines to WAV files with pyttsx3's espeak-ng driver, in a process of its own.

Run as a script, not imported: it reads one JSON job on standard input,
{"voice": ..., "rate": ..., "lines": [{"text": ..., "path": ...}, ...]}, writes
each line's WAV file, and exits 0; 3 if the voice is not installed; 4 if a
file could not be written; 1 on any other failure, with the reason on
standard error. With "output": "stdout" in the job (and no paths) the WAVs go
to standard output instead, each after its length in 8 bytes, big-endian:
for when no disk can take them.

NOTE: pyttsx3's own event loop (save_to_file then runAndWait) was seen, on a
loaded machine, to ignore the rate it was given, to return before its file
was written, and to write empty files. So this drives the same espeak-ng
bindings that pyttsx3 ships (pyttsx3.drivers._espeak) synchronously: set the
voice and rate, synthesise, wait for the last sample, write the file.
"""

import ctypes
import errno
import io
import json
import os
import sys
import wave

VOICE_MISSING = 3
WRITE_FAILED = 4
BUFFER_MILLISECONDS = 1000


def speak_lines(job: dict, audio_out=None) -> int:
    from pyttsx3.drivers import _espeak

    sample_rate = _espeak.Initialize(
        _espeak.AUDIO_OUTPUT_RETRIEVAL, BUFFER_MILLISECONDS
    )
    if sample_rate == -1:
        print("espeak-ng could not start", file=sys.stderr)
        return 1
    samples: list[bytes] = []

    def collect(wav, count, _events) -> int:
        if count > 0:
            samples.append(ctypes.string_at(wav, count * 2))
        return 0  # carry on

    _espeak.SetSynthCallback(collect)
    if _espeak.SetVoiceByName(job["voice"].encode("utf-8")) != _espeak.EE_OK:
        print(f"voice {job['voice']} is not installed", file=sys.stderr)
        return VOICE_MISSING
    _espeak.SetParameter(_espeak.RATE, int(job["rate"]), 0)
    for line in job["lines"]:
        samples.clear()
        _espeak.Synth(
            line["text"].encode("utf-8"),
            flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8,
        )
        _espeak.Synchronize()
        if not samples:
            print("espeak-ng gave no sound for a line", file=sys.stderr)
            return 1
        wav = as_wav(b"".join(samples), sample_rate)
        if audio_out is not None:
            audio_out.write(len(wav).to_bytes(8, "big") + wav)
            continue
        try:
            with open(line["path"], "wb") as output:
                output.write(wav)
        except OSError as error:
            name = errno.errorcode.get(error.errno or 0, "unknown error")
            print(f"could not write a line: {name} ({error.strerror})", file=sys.stderr)
            return WRITE_FAILED
    return 0


def as_wav(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(sample_rate)
        output.writeframes(pcm)
    return buffer.getvalue()


def main() -> int:
    job = json.load(sys.stdin)
    audio_out = None
    if job.get("output") == "stdout":
        # The audio has standard output to itself: anything a library prints
        # there goes to standard error instead.
        audio_out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
    try:
        return speak_lines(job, audio_out)
    except Exception as error:  # noqa: BLE001 - reported to the parent as text
        print(f"speech failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        if audio_out is not None:
            audio_out.close()


if __name__ == "__main__":
    sys.exit(main())
