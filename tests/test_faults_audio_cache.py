"""A spoken-reply cache that cannot be written: the disk full (ENOSPC), the
folder read-only (EROFS) or not ours (EACCES), a file over the size limit
(EFBIG). Callers and tablets still hear every reply, spoken by the real
espeak-ng from memory, the same sound as from a working cache, and the trouble
is logged once, without the words.

Each failure is real, not mocked. Where the tests run as root (CI's
containers do) a tiny tmpfs is mounted and filled, or mounted read-only,
because root ignores folder permissions; permission denied is then had by
running the speaker without root's power to override them (setpriv drops
CAP_DAC_OVERRIDE and CAP_FOWNER) on a folder owned by "nobody". The file size
limit is set with RLIMIT_FSIZE in a child process, so the test process keeps
its own.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import logging
import os
import pwd
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
import websockets

from assistant.app import create_app
from assistant.channels.tablet import synthesise as tablet_speech
from assistant.config import PROJECT_ROOT, load_settings
from assistant.residents import add_resident
from assistant.speech import SpeechEngines
from assistant.spoken import spoken
from assistant.store import open_database
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN, free_port
from tests.conftest import twilio_signature as sign
from voice.audio import PHONE_RATE, SPEECH_RATE, read_wav
from voice.speech import Synthesiser, VoiceSettings

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None,
        reason="espeak-ng is not installed (apt-get install espeak-ng)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("pyttsx3") is None, reason="pyttsx3 is not installed"
    ),
]

REPLY = "Two tins of tomato soup, one pound ninety.\nAnything else?"
PUBLIC_URL = "https://hh.example.org"
IS_ROOT = os.geteuid() == 0


@contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `folder` for the block; skips where mounting is not
    allowed (not root, or a container without the capability)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextmanager
def full_disk(folder: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs at `folder`, filled to the last byte: writes get ENOSPC."""
    with tmpfs(folder, "size=64k,mode=0755") as mounted:
        with open(mounted / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == 28  # ENOSPC: the disk really is full
        yield mounted


@contextmanager
def read_only_disk(folder: Path) -> Iterator[Path]:
    """A read-only tmpfs at `folder`, where even root's writes get EROFS; or,
    for anyone else, a folder without write permission (EACCES)."""
    if not IS_ROOT:
        folder.mkdir(parents=True)
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    with tmpfs(folder, "ro,size=64k") as mounted:
        yield mounted


# Each fault, and the error its warning names.
FAULTS = {
    "disk-full": (full_disk, "ENOSPC"),
    "read-only": (read_only_disk, "EROFS" if IS_ROOT else "EACCES"),
}


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name == "voice.speech"
    ]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_speech_on_an_unwritable_cache_is_still_spoken_the_same(
    tmp_path, caplog, fault
):
    """Test that with the cache unwritable a reply comes out whole, the same as
    from a working cache, nothing is left in the cache, and one warning says
    why without the words."""
    reference = Synthesiser(tmp_path / "working").speak(REPLY)
    caplog.set_level(logging.DEBUG, logger="voice.speech")

    make_fault, error_named = FAULTS[fault]
    with make_fault(tmp_path / "spoken") as cache:
        synthesiser = Synthesiser(cache)
        first = synthesiser.speak(REPLY)
        again = synthesiser.speak(REPLY)
        left_in_cache = list(cache.glob("*.wav"))

    assert first.wav == reference.wav
    assert again.wav == reference.wav
    assert 3 < first.seconds < 10
    assert len(first.for_phone()) == pytest.approx(first.seconds * PHONE_RATE, abs=2)
    assert (first.lines_synthesised, again.lines_synthesised) == (2, 2)
    assert left_in_cache == []
    warned = warnings_of(caplog)
    assert len(warned) == 1 and error_named in warned[0]
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelno > 10)
    assert "tomato" not in logged and "Anything" not in logged


def test_speech_uses_the_cache_again_once_it_can_be_written(tmp_path, caplog):
    """Test that after a full disk is cleared the cache is written again (once
    the retry wait is over) and that recovery is logged at INFO."""
    caplog.set_level(logging.INFO, logger="voice.speech")
    with full_disk(tmp_path / "spoken") as cache:
        synthesiser = Synthesiser(cache)
        synthesiser.speak("Yes please")
        (cache / "filler").unlink()
        synthesiser._cache_failing_until = 0.0  # the retry wait, over at once
        synthesiser.speak("No thank you")
        cached = len(list(cache.glob("*.wav")))
        from_cache = synthesiser.speak("No thank you").lines_from_cache

    assert cached == 1 and from_cache == 1
    levels = [r.levelname for r in caplog.records if r.name == "voice.speech"]
    assert levels == ["WARNING", "INFO"]


SPEAKER = textwrap.dedent(
    """
    import json, logging, os, resource, signal, sys
    from pathlib import Path

    limit, cache = int(sys.argv[1]), Path(sys.argv[2])
    if limit:
        # Over the limit a write fails with EFBIG rather than killing the
        # writer, as ignoring SIGXFSZ makes it; the speech worker inherits both.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from voice.speech import Synthesiser

    speech = Synthesiser(cache).speak(sys.argv[3])
    print(json.dumps({"wav": speech.wav.hex()}))
    """
)


# Root without the capabilities that let it write where permissions say not.
WITHOUT_OVERRIDES = [
    "setpriv",
    "--bounding-set",
    "-dac_override,-dac_read_search,-fowner",
]


def speak_in_a_child(
    cache: Path, limit: int = 0, without_overrides: bool = False
) -> dict:
    """Speak REPLY in a child process (with a file size limit, or without
    root's overrides); its WAV and the warnings it logged."""
    command = [sys.executable, "-c", SPEAKER, str(limit), str(cache), REPLY]
    if without_overrides:
        command = WITHOUT_OVERRIDES + command
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), PYTHONDONTWRITEBYTECODE="1"),
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    warned = [
        line for line in completed.stderr.splitlines() if line.startswith("WARNING")
    ]
    return {"wav": bytes.fromhex(json.loads(completed.stdout)["wav"]), "warned": warned}


def test_speech_over_the_file_size_limit_is_still_spoken(tmp_path):
    """Test that a process whose files may not grow past 8 KiB (less than one
    spoken line) still speaks the whole reply, warning once of EFBIG."""
    reference = Synthesiser(tmp_path / "working").speak(REPLY)

    child = speak_in_a_child(tmp_path / "spoken", limit=8192)

    assert child["wav"] == reference.wav
    assert len(child["warned"]) == 1 and "EFBIG" in child["warned"][0]
    assert "tomato" not in child["warned"][0]
    assert list((tmp_path / "spoken").glob("*.wav")) == []


@pytest.mark.skipif(
    not IS_ROOT or shutil.which("setpriv") is None,
    reason="as root, needs setpriv; others get EACCES in the read-only case",
)
def test_speech_in_a_cache_folder_not_ours_is_still_spoken(tmp_path):
    """Test that a speaker without permission to write the cache folder (it is
    nobody's) still speaks the whole reply, warning once of EACCES."""
    reference = Synthesiser(tmp_path / "working").speak(REPLY)
    cache = tmp_path / "spoken"
    cache.mkdir(mode=0o755)
    nobody = pwd.getpwnam("nobody")
    os.chown(cache, nobody.pw_uid, nobody.pw_gid)

    child = speak_in_a_child(cache, without_overrides=True)
    left_in_cache = list(cache.iterdir())

    assert child["wav"] == reference.wav
    assert len(child["warned"]) == 1 and "EACCES" in child["warned"][0]
    assert left_in_cache == []


class ReadyEngines:
    """The gateway's speech service, with only synthesis loaded."""

    def __init__(self, synthesis: Synthesiser) -> None:
        self.synthesis = synthesis

    async def engines(self) -> SpeechEngines:
        return SpeechEngines(recognition=None, synthesis=self.synthesis)


def test_tablet_reply_on_a_full_audio_cache_is_still_heard(tmp_path):
    """Test that the tablet gets its reply as a 16 kHz WAV it can play, the
    whole reply, while the audio cache's disk is full."""
    reference = Synthesiser(tmp_path / "working").speak(REPLY)

    with full_disk(tmp_path / "spoken") as cache:
        engines = ReadyEngines(Synthesiser(cache))
        wav = asyncio.run(tablet_speech(engines, REPLY))

    pcm, rate = read_wav(wav)
    assert rate == SPEECH_RATE
    assert wav == reference.tablet_wav()
    assert len(pcm) / 2 / rate == pytest.approx(reference.seconds, abs=0.01)


def test_phone_call_on_a_full_audio_cache_still_hears_the_greeting(tmp_path):
    """Test that a caller on a media stream hears the whole greeting as 8 kHz
    mu-law, through the real gateway and espeak-ng, while the disk holding the
    audio cache is full."""
    phone, call_sid = "+447700900351", "CA" + "7" * 32
    settings = load_settings(
        {
            "HH_DATA_DIR": str(tmp_path / "data"),
            "HH_PUBLIC_URL": PUBLIC_URL,
            "HH_RASA_PORT": str(free_port()),
            "HH_ACTIONS_PORT": str(free_port()),
            "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
            "HH_PHONE_SPEECH": "local",
        }
    )
    with full_disk(settings.voice_dir / "spoken"):
        with running_gateway(settings) as base_url:
            with open_database(settings.database_path) as db:
                add_resident(db, phone, "Joan Smith", "4 Elm Close")
            params = {"CallSid": call_sid, "AccountSid": TWILIO_TEST_SID, "From": phone}
            answered = httpx.post(
                base_url + "/twilio/voice",
                content=urlencode(params),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sign(
                        PUBLIC_URL + "/twilio/voice", params, TWILIO_TEST_TOKEN
                    ),
                },
                timeout=30,
            )
            assert ElementTree.fromstring(answered.text).find("Connect") is not None
            with open_database(settings.database_path) as db:
                greeting = db.execute(
                    "SELECT last_reply FROM calls WHERE call_sid = ?", [call_sid]
                ).fetchone()[0]
            audio = asyncio.run(greeting_heard(base_url, call_sid))
        left_in_cache = list((settings.voice_dir / "spoken").glob("*.wav"))

    text = "\n".join(spoken(line) for line in greeting.split("\n") if line.strip())
    voice = VoiceSettings(words_per_minute=settings.speech_words_per_minute)
    reference = Synthesiser(tmp_path / "working", voice).speak(text)
    assert "Joan" in greeting
    assert audio == reference.for_phone()
    assert len(audio) / PHONE_RATE == pytest.approx(reference.seconds, abs=0.01)
    assert left_in_cache == []


@contextmanager
def running_gateway(settings) -> Iterator[str]:
    """The real gateway on a port of its own, in a thread; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=free_port(),
            ws="wsproto",
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the gateway did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(15)


async def greeting_heard(base_url: str, call_sid: str) -> bytes:
    """Open the media stream as Twilio does; the audio sent before the mark.

    Each frame is waited for a minute at most: a gateway that cannot speak
    fails the test rather than hanging it.
    """
    signature = sign("wss://hh.example.org/twilio/media", {}, TWILIO_TEST_TOKEN)
    stream_sid = "MZ" + call_sid[2:]
    start = {
        "streamSid": stream_sid,
        "callSid": call_sid,
        "customParameters": {"call_sid": call_sid},
    }
    audio = bytearray()
    async with websockets.connect(
        base_url.replace("http://", "ws://") + "/twilio/media",
        extra_headers={"X-Twilio-Signature": signature},
    ) as websocket:
        await websocket.send(json.dumps({"event": "connected", "protocol": "Call"}))
        await websocket.send(
            json.dumps({"event": "start", "start": start, "streamSid": stream_sid})
        )
        while True:
            frame = json.loads(await asyncio.wait_for(websocket.recv(), 60))
            if frame["event"] == "mark":
                break
            assert frame["event"] == "media"
            audio += base64.b64decode(frame["media"]["payload"])
        await websocket.send(json.dumps({"event": "stop", "streamSid": stream_sid}))
    return bytes(audio)
