"""The speech engines the gateway talks with, loaded once, in the background.

Loading a recogniser (and building its language model from our words the
first time) takes seconds; the gateway starts without waiting, and a phone
call or tablet that needs speech waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from assistant.config import PROJECT_ROOT, Settings
from voice.engines import load_speech_to_text
from voice.recognition import SpeechToText
from voice.speech import Synthesiser, VoiceSettings
from voice.vocabulary import project_sources

logger = logging.getLogger(__name__)


@dataclass
class SpeechEngines:
    """Recognition and synthesis, ready to use."""

    recognition: SpeechToText
    synthesis: Synthesiser


class SpeechService:
    """Loads the engines once, in a thread, and hands them out when ready."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(asyncio.to_thread(self._load))

    def _load(self) -> SpeechEngines:
        settings = self.settings
        recognition = load_speech_to_text(
            settings.vosk_model_path,
            cache_dir=settings.voice_dir,
            sources=project_sources(PROJECT_ROOT),
        )
        synthesis = Synthesiser(
            settings.voice_dir / "spoken",
            VoiceSettings(words_per_minute=settings.speech_words_per_minute),
        )
        logger.info("speech engines ready (%s)", type(recognition).__name__)
        return SpeechEngines(recognition, synthesis)

    async def engines(self) -> SpeechEngines:
        """The engines, once loaded.

        Raises:
            VoiceError: they could not be loaded.
        """
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
