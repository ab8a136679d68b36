"""The errors of the speech engines, each with a stable code."""

# VoiceError
#  +-- SpeechEngineUnavailable  (stt-engine-unavailable)
#  +-- SpeechModelMissing       (stt-model-missing)
#  +-- AudioChunkTooLong        (stt-chunk-too-long)
#  +-- DomainModelError         (stt-domain-model-failed)
#  +-- RecognitionWorkerLost    (stt-worker-lost)
#  +-- RecognitionFailed        (stt-recognition-failed)
#  +-- SynthesisError           (tts-failed, tts-voice-missing)

from __future__ import annotations


class VoiceError(Exception):
    """Base of every error the voice package raises on purpose."""

    code = "voice-error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


class SpeechEngineUnavailable(VoiceError):
    """A speech-to-text engine's package cannot be imported or started."""

    code = "stt-engine-unavailable"


class SpeechModelMissing(VoiceError):
    """A model folder or file is missing or is not a model."""

    code = "stt-model-missing"


class AudioChunkTooLong(VoiceError):
    """A chunk was longer than the silence that ends an utterance.

    A recogniser answers one result per chunk, which is only enough when no
    chunk can hold the end of one utterance and the whole of the next.
    """

    code = "stt-chunk-too-long"


class DomainModelError(VoiceError):
    """The domain language model could not be built from the project's words."""

    code = "stt-domain-model-failed"


class SynthesisError(VoiceError):
    """Text could not be turned into speech."""

    code = "tts-failed"


class RecognitionWorkerLost(VoiceError):
    """The worker process recognising a stream died or stopped answering.

    The stream's audio so far is gone; a new stream goes to a worker that runs.
    """

    code = "stt-worker-lost"


class RecognitionFailed(VoiceError):
    """The engine failed on a stream in a way it does not say it can."""

    code = "stt-recognition-failed"
