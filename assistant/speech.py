"""The speech engines the gateway talks with, loaded once, in the background.

Loading a recogniser (and building its language model from our words the
first time) takes seconds; the gateway starts without waiting, and a phone
call or tablet that needs speech waits for it. Recognition runs in worker
processes (voice.recognition_processes) unless HH_RECOGNITION_PROCESSES is 0.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from assistant.config import PROJECT_ROOT, Settings
from voice.errors import SpeechEngineUnavailable
from voice.recognition import SpeechToText
from voice.recognition_processes import (
    RecognitionPool,
    RecognitionSetup,
    default_process_count,
)
from voice.speech import Synthesiser, VoiceSettings
from voice.vocabulary import project_sources

logger = logging.getLogger(__name__)

# A thread waits on each recogniser call while its stream's worker decodes;
# asyncio's default pool (cores + 4 threads) would hold up calls beyond that.
RECOGNITION_THREADS = 64
Result = TypeVar("Result")


@dataclass
class SpeechEngines:
    """Recognition and synthesis, ready to use."""

    recognition: SpeechToText
    synthesis: Synthesiser

    def close(self) -> None:
        """Stop the recognition workers, if recognition has any."""
        if isinstance(self.recognition, RecognitionPool):
            self.recognition.close()


class SpeechService:
    """Loads the engines once, in a thread, and hands them out when ready."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopped = False

    def start(self) -> None:
        self._task = asyncio.create_task(asyncio.to_thread(self._load))

    async def stop(self) -> None:
        """Stop the recognition workers (once loaded, if they are loading)."""
        self._stopped = True
        task = self._task
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        if task is None or task.cancelled():
            return
        try:
            engines = await task
        except Exception:  # noqa: BLE001 - a failed load has nothing to stop
            return
        await asyncio.to_thread(engines.close)

    async def recognise(
        self, call: Callable[..., Result], *arguments: object
    ) -> Result:
        """Run a recogniser's accept or finish in a thread kept for recognition."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                RECOGNITION_THREADS, thread_name_prefix="recognition"
            )
        # As asyncio.to_thread does, the call sees this task's context variables.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(context.run, call, *arguments)
        )

    def _load(self) -> SpeechEngines:
        settings = self.settings
        synthesis = Synthesiser(
            settings.voice_dir / "spoken",
            VoiceSettings(words_per_minute=settings.speech_words_per_minute),
        )
        setup = RecognitionSetup(
            settings.vosk_model_path,
            cache_dir=settings.voice_dir,
            sources=project_sources(PROJECT_ROOT),
        )
        processes = settings.recognition_processes
        if processes is None:
            processes = default_process_count()
        recognition = RecognitionPool(setup, processes) if processes else setup.load()
        logger.info(
            "speech engines ready (%s, %s)",
            recognition.name,
            f"{processes} recognition process(es)" if processes else "in-process",
        )
        return SpeechEngines(recognition, synthesis)

    async def engines(self) -> SpeechEngines:
        """The engines, once loaded.

        Raises:
            VoiceError: they could not be loaded, or the gateway is stopping.
        """
        if self._stopped:
            raise SpeechEngineUnavailable("the gateway is stopping")
        if self._task is None:
            self.start()
        assert self._task is not None
        return await asyncio.shield(self._task)

    @property
    def ready(self) -> bool:
        return (
            self._task is not None
            and self._task.done()
            and not (self._task.cancelled() or self._task.exception())
        )
