"""Speaks lines to WAV files with pyttsx3, in a process of its own (voice.speech)."""

# Run as a script, not imported: it reads one JSON job on standard input,
# {"voice": ..., "rate": ..., "lines": [{"text": ..., "path": ...}, ...]}, writes
# each line's WAV file, and exits 0; 3 if the voice is not installed; 1 on any
# other failure, with the reason on standard error.

import contextlib
import json
import os
import sys

VOICE_MISSING = 3


def main() -> int:
    job = json.load(sys.stdin)
    # pyttsx3 prints "Audio saved to ..." for every file; that is not ours to
    # show, and standard output is not read.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        import pyttsx3

        engine = pyttsx3.init()
        voices = {voice.id for voice in engine.getProperty("voices")}
        if job["voice"] not in voices:
            # pyttsx3 would quietly keep its default voice.
            print(f"voice {job['voice']} is not installed", file=sys.stderr)
            return VOICE_MISSING
        # NOTE: set before the first utterance. pyttsx3 honours the rate it
        # has then; a rate changed later on the same engine is applied only
        # now and then (its command queue races the synthesis), which is why
        # each job gets a fresh process.
        engine.setProperty("voice", job["voice"])
        engine.setProperty("rate", int(job["rate"]))
        for line in job["lines"]:
            engine.save_to_file(line["text"], line["path"])
            engine.runAndWait()
    paths = [line["path"] for line in job["lines"]]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        print(f"pyttsx3 wrote no file for {len(missing)} line(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
