"""The Vosk (Kaldi) engine, from a model folder on disk; it never downloads."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from voice.audio import SPEECH_RATE
from voice.endpointing import Endpointing
from voice.errors import SpeechEngineUnavailable, SpeechModelMissing
from voice.recognition import StreamingRecogniser

logger = logging.getLogger(__name__)

# Every Vosk model folder has these (see the models' README files).
MODEL_MARKERS = ("am/final.mdl", "conf/model.conf")
UNKNOWN_WORD = "[unk]"


def check_model_folder(path: Path) -> None:
    """Raise SpeechModelMissing unless `path` looks like a Vosk model folder."""
    if not path.is_dir():
        raise SpeechModelMissing(f"no Vosk model folder at {path}")
    missing = [marker for marker in MODEL_MARKERS if not (path / marker).is_file()]
    if missing:
        raise SpeechModelMissing(
            f"{path} is not a Vosk model folder (no {', '.join(missing)})"
        )


class VoskDecoder:
    """An UtteranceDecoder around one KaldiRecognizer.

    Vosk ends utterances by its own rules as well (half a second of silence
    in most models); the shared detector's end is the one that counts, so any
    text Vosk has already closed off is kept and joined to the rest.
    """

    def __init__(self, recognizer) -> None:
        self._recognizer = recognizer
        self._closed_words: list[dict] = []
        self._closed_text: list[str] = []

    def begin(self) -> None:
        self._closed_words = []
        self._closed_text = []

    def feed(self, pcm: bytes) -> None:
        if self._recognizer.AcceptWaveform(pcm):
            self._keep(json.loads(self._recognizer.Result()))

    def partial(self) -> str:
        partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
        return " ".join([*self._closed_text, partial]).strip()

    def end(self) -> tuple[str, float | None]:
        self._keep(json.loads(self._recognizer.FinalResult()))
        said = " ".join(self._closed_text).split()
        text = " ".join(word for word in said if word != UNKNOWN_WORD)
        words = [each for each in self._closed_words if each["word"] != UNKNOWN_WORD]
        if not text or not words:
            return text, None
        confidence = sum(each.get("conf", 0.0) for each in words) / len(words)
        return text, round(confidence, 3)

    def close(self) -> None:
        self._recognizer.Reset()

    def _keep(self, result: dict) -> None:
        if result.get("text"):
            self._closed_text.append(result["text"])
            self._closed_words.extend(result.get("result") or [])


class VoskEngine:
    """A Vosk model loaded once, with a recogniser made for each stream."""

    name = "vosk"

    def __init__(
        self,
        model_path: Path,
        phrases: Sequence[str] | None = None,
        endpointing: Endpointing | None = None,
    ) -> None:
        """Load the model in `model_path`.

        Args:
            phrases: if given, recognisers hear only these words and phrases
                (a Vosk grammar), unless `recogniser()` is given others.

        Raises:
            SpeechEngineUnavailable: the vosk package is not installed.
            SpeechModelMissing: `model_path` is not a Vosk model folder.
        """
        try:
            import vosk
        except ImportError as error:
            raise SpeechEngineUnavailable("vosk is not installed") from error
        model_path = Path(model_path)
        check_model_folder(model_path)
        self.model_path = model_path
        self.phrases = tuple(phrases) if phrases is not None else None
        self.endpointing = endpointing or Endpointing()
        self._vosk = vosk
        vosk.SetLogLevel(-1)
        # NOTE: a model must only ever be loaded from a folder. Model(lang=...)
        # or Model(model_name=...) would try to download one.
        try:
            self._model = vosk.Model(str(model_path))
        except Exception as error:
            # vosk raises a bare Exception when Kaldi cannot read the model.
            raise SpeechModelMissing(
                f"Vosk could not load the model in {model_path}: {error}"
            ) from error
        logger.info("vosk ready with the model in %s", model_path.name)

    @property
    def takes_phrases(self) -> bool:
        """Whether the model has the dynamic graph a phrase list needs."""
        graph = self.model_path / "graph"
        return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()

    def recogniser(
        self,
        endpointing: Endpointing | None = None,
        phrases: Sequence[str] | None = None,
    ) -> StreamingRecogniser:
        """A recogniser for a new stream.

        Args:
            phrases: hear only these words and phrases (instead of the
                engine's). Words the model does not know are dropped, with a
                warning from Vosk.

        Raises:
            SpeechModelMissing: phrases were given but the model takes none
                (only models with graph/HCLr.fst and graph/Gr.fst do: most
                small ones).
        """
        phrases = self.phrases if phrases is None else tuple(phrases)
        if phrases is None:
            recognizer = self._vosk.KaldiRecognizer(self._model, SPEECH_RATE)
        else:
            if not self.takes_phrases:
                raise SpeechModelMissing(
                    f"the Vosk model in {self.model_path} takes no phrase list"
                )
            grammar = json.dumps([*phrases, UNKNOWN_WORD], ensure_ascii=False)
            recognizer = self._vosk.KaldiRecognizer(self._model, SPEECH_RATE, grammar)
        recognizer.SetWords(True)
        return StreamingRecogniser(
            VoskDecoder(recognizer), endpointing or self.endpointing
        )
