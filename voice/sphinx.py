"""The pocketsphinx engine: offline US English, with an optional domain model."""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from voice.audio import SPEECH_RATE
from voice.endpointing import Endpointing
from voice.errors import SpeechEngineUnavailable, SpeechModelMissing
from voice.recognition import StreamingRecogniser

logger = logging.getLogger(__name__)

# Fillers the decoder writes into a hypothesis; never words a resident said.
FILLERS = frozenset({"<s>", "</s>", "<sil>", "[noise]", "[NOISE]"})
# How far (Euclidean, in cepstral units) the running mean may move during one
# of a stream's first utterances before that utterance is decoded again; a
# settled stream moves less than 1, a new one 5 to 15.
SECOND_PASS_SHIFT = 3.0
# The utterances a stream's mean takes to settle, which may be decoded twice.
SETTLING_UTTERANCES = 3


@dataclass(frozen=True)
class SphinxModel:
    """The files one pocketsphinx decoder is made from."""

    label: str
    acoustic_model: Path
    dictionary: Path
    language_model: Path

    def check(self) -> None:
        """Raise SpeechModelMissing unless every file is there."""
        for path in (self.acoustic_model, self.dictionary, self.language_model):
            if not path.exists():
                raise SpeechModelMissing(f"pocketsphinx model file missing: {path}")


def import_pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as error:
        raise SpeechEngineUnavailable(
            "pocketsphinx is not installed (pip install pocketsphinx)"
        ) from error
    return pocketsphinx


def bundled_model_folder() -> Path:
    """The US English model that ships inside the pocketsphinx package."""
    return Path(import_pocketsphinx().get_model_path()) / "en-us"


# TODO: an 8 kHz acoustic model for phone calls - pocketsphinx ships only this
# 16 kHz one and none can be fetched at run time - a caller's words are
# misheard nearly twice as often as a tablet's (see docs/benchmarks.md).
def generic_model() -> SphinxModel:
    """The bundled acoustic model, CMU dictionary and general language model."""
    folder = bundled_model_folder()
    return SphinxModel(
        label="generic",
        acoustic_model=folder / "en-us",
        dictionary=folder / "cmudict-en-us.dict",
        language_model=folder / "en-us.lm.bin",
    )


def model_with_language(
    label: str, language_model: Path, dictionary: Path
) -> SphinxModel:
    """The bundled acoustic model with another language model and dictionary."""
    return SphinxModel(
        label=label,
        acoustic_model=bundled_model_folder() / "en-us",
        dictionary=dictionary,
        language_model=language_model,
    )


class SphinxDecoder:
    """An UtteranceDecoder around one pocketsphinx Decoder.

    Pocketsphinx normalises each stream by a running cepstral mean that starts
    from the acoustic model's default and learns the stream's own as it goes:
    until it has, on a stream's first utterance above all, most words are
    wrong. So the audio of a stream's first few utterances is kept, and when
    the mean moved a long way while one was decoded, it is decoded again with
    the mean it taught the decoder. Later utterances are decoded once: over
    120 phone recordings, a second pass on every one tripled the decoding
    left at the end of an utterance (the wait the caller hears) and heard no
    more words right (59.8% word errors, against 59.6% with none and 58.6%
    with it only on each call's first three).
    """

    def __init__(self, decoder, default_mean: str, release) -> None:
        self._decoder = decoder
        self._default_mean = default_mean
        self._release = release
        self._started = False
        self._audio: list[bytes] = []
        self._mean_before: list[float] = []
        self._utterances = 0
        self.second_passes = 0
        """Utterances decoded a second time (for benchmarks)."""
        # Every stream starts from the model's default, whatever came before.
        self._decoder.set_cmn(default_mean)

    def begin(self) -> None:
        self._mean_before = cepstral_mean(self._decoder)
        self._audio = []
        self._decoder.start_utt()
        self._started = True
        self._utterances += 1

    def feed(self, pcm: bytes) -> None:
        if self._utterances <= SETTLING_UTTERANCES:
            self._audio.append(pcm)
        self._decoder.process_raw(pcm, False, False)

    def partial(self) -> str:
        hypothesis = self._decoder.hyp()
        return words_of(hypothesis.hypstr) if hypothesis else ""

    def end(self) -> tuple[str, float | None]:
        self._decoder.end_utt()
        self._started = False
        shift = math.dist(self._mean_before, cepstral_mean(self._decoder))
        if self._utterances <= SETTLING_UTTERANCES and shift > SECOND_PASS_SHIFT:
            self.second_passes += 1
            self._decoder.start_utt()
            self._decoder.process_raw(b"".join(self._audio), False, False)
            self._decoder.end_utt()
        self._audio = []
        return self._result()

    def _result(self) -> tuple[str, float | None]:
        hypothesis = self._decoder.hyp()
        text = words_of(hypothesis.hypstr) if hypothesis else ""
        if not text:
            return "", None
        # The posterior of the whole sentence shrinks with every word; its
        # geometric mean per word reads like a word confidence.
        confidence = hypothesis.prob ** (1 / len(text.split()))
        return text, round(min(max(confidence, 0.0), 1.0), 3)

    def close(self) -> None:
        if self._started:
            self._decoder.end_utt()
            self._started = False
        self._audio = []
        self._release((self._decoder, self._default_mean))


def cepstral_mean(decoder) -> list[float]:
    return [float(value) for value in decoder.get_cmn().split(",")]


def words_of(hypothesis: str) -> str:
    return " ".join(word for word in hypothesis.split() if word not in FILLERS)


class PocketsphinxEngine:
    """Pocketsphinx decoders made from one model, reused between streams.

    Making a decoder reads the whole model (a fraction of a second), so
    decoders given back by closed recognisers are kept for the next stream.
    """

    name = "pocketsphinx"

    def __init__(
        self, model: SphinxModel, endpointing: Endpointing | None = None
    ) -> None:
        self.model = model
        self.endpointing = endpointing or Endpointing()
        self._pocketsphinx = import_pocketsphinx()
        model.check()
        self._idle: list[tuple] = []
        """Decoders not in use, each with its model's default cepstral mean."""
        self._lock = threading.Lock()
        # Made now, so a broken model fails at start-up and not on a call.
        self._idle.append(self._new_decoder())
        logger.info("pocketsphinx ready with the %s model", model.label)

    def recogniser(self, endpointing: Endpointing | None = None) -> StreamingRecogniser:
        with self._lock:
            pooled = self._idle.pop() if self._idle else None
        decoder, default_mean = pooled or self._new_decoder()
        return StreamingRecogniser(
            SphinxDecoder(decoder, default_mean, self._give_back),
            endpointing or self.endpointing,
        )

    def _give_back(self, pooled: tuple) -> None:
        with self._lock:
            self._idle.append(pooled)

    def _new_decoder(self):
        try:
            decoder = self._pocketsphinx.Decoder(
                hmm=str(self.model.acoustic_model),
                dict=str(self.model.dictionary),
                lm=str(self.model.language_model),
                samprate=SPEECH_RATE,
                loglevel="FATAL",
            )
        except (RuntimeError, ValueError) as error:
            raise SpeechModelMissing(
                f"pocketsphinx could not load the {self.model.label} model: {error}"
            ) from error
        return decoder, decoder.get_cmn()
