"""Speech recognition in worker processes, so decoding never stalls the gateway.

Pocketsphinx and Vosk hold Python's GIL while they decode, and the end of an
utterance takes pocketsphinx about 300 ms: in the gateway's own process that
stops the event loop taking every other call's media frames. Here each
worker process loads the engine once and hosts many streams; the gateway
holds a RemoteRecogniser per stream, which sends its chunks to the stream's
worker and waits for the result. Each stream stays on one worker, and a new
one goes to the worker with the fewest.

The whole recogniser (utterance detector and decoder) runs in the worker, so
a stream's Partial and Final results are those it would get in-process.

A worker that dies is started again; the streams it held are lost, and their
next call raises RecognitionWorkerLost, so the call or tablet can say sorry.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice.endpointing import Endpointing
from voice.errors import RecognitionFailed, RecognitionWorkerLost, VoiceError
from voice.recognition import Final, Partial, Recogniser, SpeechToText
from voice.vocabulary import DomainSources

logger = logging.getLogger(__name__)

# A worker that has not answered in this long is taken for stuck and killed.
REPLY_TIMEOUT_SECONDS = 30.0
# Loading the engine (and building the domain model the first time).
START_TIMEOUT_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 5.0
# A worker that dies soon after starting is started again after a pause that
# doubles each time, so a broken model does not make a busy loop of restarts.
FIRST_RESTART_PAUSE_SECONDS = 0.5
LONGEST_RESTART_PAUSE_SECONDS = 30.0
STEADY_WORKER_SECONDS = 60.0


def default_process_count() -> int:
    """One recognition worker per core the gateway may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RecognitionSetup:
    """What a worker needs to load the engine, as load_speech_to_text takes it."""

    vosk_model_path: str | None = None
    cache_dir: Path | None = None
    sources: DomainSources | None = None
    endpointing: Endpointing | None = None

    def load(self) -> SpeechToText:
        """The engine, loaded here (in-process, or inside a worker)."""
        from voice.engines import load_speech_to_text

        return load_speech_to_text(
            self.vosk_model_path, self.cache_dir, self.sources, self.endpointing
        )


# Requests, parent to worker (tuples, first item the kind):
#   ("open", stream, endpointing)       no reply; a failure is kept for the
#                                       stream's next request
#   ("accept", stream, request, chunk)  replied (request, True, result)
#   ("finish", stream, request)         or (request, False, error)
#   ("close", stream)                   no reply
#   ("exit",)                           the worker closes every stream, exits
# The worker's first message is ("ready", engine name) or ("failed", error).


def serve(connection, setup: RecognitionSetup) -> None:
    """A worker process's life: load the engine, then answer until told to exit.

    It also exits when the gateway's end of the connection closes, so a
    gateway that is killed leaves no worker behind.
    """
    # Ctrl-C reaches the whole process group; the gateway stops its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        engine = setup.load()
    except VoiceError as error:
        connection.send(("failed", error_data(error)))
        return
    except Exception as error:  # noqa: BLE001 - reported to the gateway
        connection.send(("failed", error_data(RecognitionFailed(describe(error)))))
        return
    connection.send(("ready", engine.name))

    streams: dict[int, Recogniser] = {}
    broken: dict[int, VoiceError] = {}
    try:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == "exit":
                return
            if kind == "open":
                _, stream, endpointing = message
                try:
                    streams[stream] = engine.recogniser(endpointing)
                except VoiceError as error:
                    broken[stream] = error
                except Exception as error:  # noqa: BLE001 - reported per stream
                    broken[stream] = RecognitionFailed(describe(error))
            elif kind == "close":
                broken.pop(message[1], None)
                recogniser = streams.pop(message[1], None)
                if recogniser is not None:
                    recogniser.close()
            else:
                connection.send(answer(message, streams, broken))
    finally:
        for recogniser in streams.values():
            recogniser.close()


def answer(message: tuple, streams: dict, broken: dict) -> tuple:
    """The reply to an accept or finish request, result or error."""
    kind, stream, request = message[:3]
    try:
        if stream in broken:
            raise broken[stream]
        recogniser = streams[stream]
        if kind == "accept":
            return (request, True, recogniser.accept(message[3]))
        return (request, True, recogniser.finish())
    except VoiceError as error:
        return (request, False, error_data(error))
    except Exception as error:  # noqa: BLE001 - the stream fails, not the worker
        logger.exception("recognition failed in a worker")
        return (request, False, error_data(RecognitionFailed(describe(error))))


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def error_data(error: VoiceError) -> tuple[type, str, str]:
    """A VoiceError as its class, message and code: pickling it whole would
    lose a code given to the constructor."""
    return (type(error), str(error.args[0]), error.code)


def rebuild_error(kind: type, message: str, code: str) -> VoiceError:
    """The worker's error, made again in the gateway with its code."""
    try:
        error = kind(message)
    except TypeError:  # an error class with another constructor
        error = VoiceError(message)
    error.code = code
    return error


class RecognitionWorker:
    """The gateway's end of one worker process."""

    def __init__(self, setup: RecognitionSetup, on_lost, slot: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.slot = slot
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=serve,
            args=(child_end, setup),
            name=f"recognition-{slot}",
            daemon=True,
        )
        self.started = time.monotonic()
        self.process.start()
        self.pid: int | None = self.process.pid
        child_end.close()
        self.streams = 0
        """Streams open on this worker (for balancing)."""
        self.alive = True
        self.ready = Future()
        """The engine's name once loaded; the error if it could not be."""
        self._on_lost = on_lost
        self._pending: dict[int, Future] = {}
        self._pending_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._requests = itertools.count()
        self._reader = threading.Thread(
            target=self._read, name=f"recognition-{slot}-replies", daemon=True
        )
        self._reader.start()

    def send(self, message: tuple) -> None:
        """Send a request that has no reply; nothing happens if the worker died."""
        with self._send_lock:
            try:
                self.connection.send(message)
            except (OSError, ValueError):
                pass  # the reader sees the worker gone and says so

    def ask(self, kind: str, stream: int, *payload: Any):
        """Send a request and wait for its reply.

        Raises:
            RecognitionWorkerLost: the worker died or stopped answering.
            VoiceError: the recogniser raised it in the worker.
        """
        future: Future = Future()
        with self._pending_lock:
            if not self.alive:
                raise self.lost_error()
            request = next(self._requests)
            self._pending[request] = future
        with self._send_lock:
            try:
                self.connection.send((kind, stream, request, *payload))
            except (OSError, ValueError) as error:
                raise self.lost_error() from error
        try:
            return future.result(REPLY_TIMEOUT_SECONDS)
        except FutureTimeout as error:
            logger.warning(
                "recognition worker %s gave no answer in %s s; stopping it",
                self.slot,
                REPLY_TIMEOUT_SECONDS,
            )
            self.kill()
            raise self.lost_error() from error

    def lost_error(self) -> RecognitionWorkerLost:
        return RecognitionWorkerLost(
            f"recognition worker {self.slot} (pid {self.pid}) stopped; "
            "its streams are gone"
        )

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def stop(self) -> None:
        """Ask the worker to exit; kill it if it does not, and wait for it."""
        self.send(("exit",))
        self.process.join(STOP_TIMEOUT_SECONDS)
        if self.process.is_alive():
            logger.warning("recognition worker %s did not exit; killing it", self.slot)
            self.process.kill()
            self.process.join(STOP_TIMEOUT_SECONDS)
        self._reader.join(STOP_TIMEOUT_SECONDS)
        self.connection.close()
        self.process.close()

    def _read(self) -> None:
        try:
            self._read_replies()
        finally:
            with self._pending_lock:
                self.alive = False
                pending, self._pending = self._pending, {}
            for future in pending.values():
                future.set_exception(self.lost_error())
            if not self.ready.done():
                self.ready.set_exception(self.lost_error())
            self._on_lost(self)

    def _read_replies(self) -> None:
        while True:
            try:
                message = self.connection.recv()
            except (EOFError, OSError):
                return
            if message[0] == "ready":
                self.ready.set_result(message[1])
                continue
            if message[0] == "failed":
                self.ready.set_exception(rebuild_error(*message[1]))
                continue
            request, succeeded, outcome = message
            with self._pending_lock:
                future = self._pending.pop(request, None)
            if future is None:
                continue
            if succeeded:
                future.set_result(outcome)
            else:
                future.set_exception(rebuild_error(*outcome))


class RemoteRecogniser:
    """A Recogniser whose stream is recognised in a worker process.

    Safe to call from any thread (asyncio.to_thread, an executor); like any
    recogniser, one stream's calls must come one at a time.
    """

    def __init__(self, worker: RecognitionWorker, stream: int, release) -> None:
        self.worker = worker
        self.stream = stream
        self._release = release
        self._closed = False

    def __enter__(self) -> RemoteRecogniser:
        return self

    def __exit__(self, *_exception: object) -> None:
        self.close()

    def accept(self, chunk: bytes) -> Partial | Final | None:
        if self._closed:
            raise RuntimeError("this recogniser is closed")
        return self.worker.ask("accept", self.stream, bytes(chunk))

    def finish(self) -> Final | None:
        if self._closed:
            raise RuntimeError("this recogniser is closed")
        return self.worker.ask("finish", self.stream)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.worker.send(("close", self.stream))
            self._release(self)


class RecognitionPool:
    """Worker processes that each load the engine once and host many streams.

    A SpeechToText: `recogniser()` answers at once, without waiting for the
    worker, so it may be called on the event loop.
    """

    def __init__(self, setup: RecognitionSetup, processes: int) -> None:
        """Start the workers and wait until each has loaded the engine.

        The first loads alone (it may build the domain model, which the
        others then read), the rest together.

        Raises:
            VoiceError: the engine could not be loaded.
        """
        if processes < 1:
            raise ValueError("a recognition pool needs at least one process")
        self.setup = setup
        self.name = ""
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._streams = itertools.count()
        self._restart_pause = FIRST_RESTART_PAUSE_SECONDS
        self._workers: list[RecognitionWorker] = []
        try:
            self._workers.append(self._start_worker(0))
            self.name = self._wait_ready(self._workers[0])
            self._workers += [self._start_worker(n) for n in range(1, processes)]
            for worker in self._workers[1:]:
                self._wait_ready(worker)
        except BaseException:
            self.close()
            raise
        logger.info(
            "%s recognition worker(s) ready with %s", len(self._workers), self.name
        )

    @property
    def pids(self) -> list[int | None]:
        """The workers' process ids (for tests and benchmarks)."""
        with self._lock:
            return [worker.pid for worker in self._workers]

    def recogniser(self, endpointing: Endpointing | None = None) -> RemoteRecogniser:
        """A recogniser for a new stream, on the worker with the fewest streams.

        If no worker is running (they are being restarted) the stream is
        given to one that is not, and its first chunk raises
        RecognitionWorkerLost.
        """
        with self._lock:
            if self._closing.is_set():
                raise RecognitionWorkerLost("the recognition workers are stopped")
            running = [worker for worker in self._workers if worker.alive]
            worker = min(running or self._workers, key=lambda each: each.streams)
            worker.streams += 1
            stream = next(self._streams)
        worker.send(("open", stream, endpointing))
        return RemoteRecogniser(worker, stream, self._release)

    def close(self) -> None:
        """Stop every worker; streams still open are lost."""
        self._closing.set()
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
        if workers:
            logger.info("recognition workers stopped")

    def _release(self, recogniser: RemoteRecogniser) -> None:
        with self._lock:
            recogniser.worker.streams -= 1

    def _start_worker(self, slot: int) -> RecognitionWorker:
        return RecognitionWorker(self.setup, self._lost, slot)

    def _wait_ready(self, worker: RecognitionWorker) -> str:
        try:
            return worker.ready.result(START_TIMEOUT_SECONDS)
        except FutureTimeout as error:
            worker.kill()
            raise RecognitionWorkerLost(
                f"recognition worker {worker.slot} did not load the engine in "
                f"{START_TIMEOUT_SECONDS:.0f} s"
            ) from error

    def _lost(self, worker: RecognitionWorker) -> None:
        """Called on the worker's reply thread when its process has ended."""
        if self._closing.is_set():
            return
        worker.process.join(STOP_TIMEOUT_SECONDS)
        reason = worker.ready.exception() if worker.ready.done() else None
        logger.warning(
            "recognition worker %s stopped (exit code %s%s); starting another",
            worker.slot,
            worker.process.exitcode,
            ""
            if reason is None or isinstance(reason, RecognitionWorkerLost)
            else f", {reason}",
        )
        lived = time.monotonic() - worker.started
        if lived >= STEADY_WORKER_SECONDS:
            self._restart_pause = FIRST_RESTART_PAUSE_SECONDS
        pause = self._restart_pause
        self._restart_pause = min(pause * 2, LONGEST_RESTART_PAUSE_SECONDS)
        if self._closing.wait(pause):
            return
        with self._lock:
            if self._closing.is_set() or worker not in self._workers:
                return
            replacement = self._start_worker(worker.slot)
            self._workers[self._workers.index(worker)] = replacement
        worker.connection.close()
        if worker.process.exitcode is not None:
            worker.process.close()
