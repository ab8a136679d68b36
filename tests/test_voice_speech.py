"""Text to speech with pyttsx3 and espeak-ng: rate, pauses, cache, channel forms."""

from __future__ import annotations

import audioop
import importlib.util
import shutil

import pytest

from voice.audio import PHONE_RATE, SAMPLE_WIDTH, SPEECH_RATE, read_wav
from voice.errors import SynthesisError
from voice.speech import Synthesiser, VoiceSettings

pytestmark = [
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None,
        reason="espeak-ng is not installed (apt-get install espeak-ng)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("pyttsx3") is None, reason="pyttsx3 is not installed"
    ),
]

SENTENCE = "Two tins of tomato soup, one pound ninety"


def speaking_seconds(pcm: bytes, rate: int) -> float:
    """How long the audio is, from its first to its last loud 10 ms."""
    step = rate // 100 * SAMPLE_WIDTH
    loud = [
        start
        for start in range(0, len(pcm) - step, step)
        if audioop.rms(pcm[start : start + step], SAMPLE_WIDTH) > 200
    ]
    return (loud[-1] - loud[0] + step) / SAMPLE_WIDTH / rate


def test_speech_writes_a_wav_file_of_the_text(tmp_path):
    """Test that a sentence becomes a mono 16-bit WAV of plausible length."""
    speech = Synthesiser(tmp_path).speak(SENTENCE)

    pcm, rate = read_wav(speech.wav)
    assert rate == 22050
    assert 1.5 < speech.seconds < 6
    assert speaking_seconds(pcm, rate) > 1.0


def test_speech_rate_changes_the_duration_within_one_process(tmp_path):
    """Test that a faster rate really gives shorter audio, asked one after another.

    A pyttsx3 engine reused in one process ignores a changed rate now and
    then; each rate must still be honoured here.
    """
    durations = {}
    for words_per_minute in (120, 220, 120, 220):
        settings = VoiceSettings(words_per_minute=words_per_minute)
        synthesiser = Synthesiser(tmp_path / str(len(durations)), settings)
        pcm, rate = read_wav(synthesiser.speak(SENTENCE).wav)
        durations.setdefault(words_per_minute, []).append(speaking_seconds(pcm, rate))

    slow, fast = durations[120], durations[220]
    assert max(slow) - min(slow) < 0.05
    assert max(fast) - min(fast) < 0.05
    assert min(slow) / max(fast) > 1.5


def test_speech_puts_a_pause_between_lines(tmp_path):
    """Test that each line is spoken apart, with the configured quiet between."""
    settings = VoiceSettings(line_pause_seconds=1.0)
    synthesiser = Synthesiser(tmp_path, settings)
    first = synthesiser.speak("Milk, two pints")
    second = synthesiser.speak("Bread, one loaf")
    both = synthesiser.speak("Milk, two pints\n\nBread, one loaf\n")

    assert both.seconds == pytest.approx(first.seconds + 1.0 + second.seconds, abs=0.01)
    pcm, rate = read_wav(both.wav)
    gap_start = int(first.seconds * rate) * SAMPLE_WIDTH
    gap = pcm[gap_start : gap_start + rate * SAMPLE_WIDTH]
    assert audioop.rms(gap, SAMPLE_WIDTH) == 0


def test_speech_comes_from_the_cache_the_second_time(tmp_path):
    """Test that spoken lines are cached by text, voice and rate."""
    synthesiser = Synthesiser(tmp_path)
    first = synthesiser.speak("Yes please\nNo thank you")
    again = synthesiser.speak("No thank you\nYes please\nAnything else?")

    assert (first.lines_synthesised, first.lines_from_cache) == (2, 0)
    assert (again.lines_synthesised, again.lines_from_cache) == (1, 2)
    assert len(list(tmp_path.glob("*.wav"))) == 3
    assert synthesiser.speak("Yes please\nNo thank you").wav == first.wav

    faster = Synthesiser(tmp_path, VoiceSettings(words_per_minute=200))
    assert faster.line_path("Yes please") != synthesiser.line_path("Yes please")
    assert faster.speak("Yes please").lines_synthesised == 1


def test_speech_keeps_pyttsx3_chatter_off_standard_output(tmp_path, capfd):
    """Test that pyttsx3's "Audio saved to" lines do not reach our output."""
    Synthesiser(tmp_path).speak("Your order is on its way")

    captured = capfd.readouterr()
    assert "Audio saved" not in captured.out
    assert captured.out == ""


def test_speech_comes_in_the_forms_phone_and_tablet_need(tmp_path):
    """Test that the phone gets 8 kHz mu-law and the tablet 16 kHz PCM of it."""
    speech = Synthesiser(tmp_path).speak("Hello, it's Helping Hands")

    phone = speech.for_phone()
    tablet = speech.for_tablet()
    assert len(phone) == pytest.approx(speech.seconds * PHONE_RATE, abs=2)
    assert len(tablet) == pytest.approx(speech.seconds * SPEECH_RATE * 2, abs=4)
    pcm, rate = read_wav(speech.tablet_wav())
    assert (pcm, rate) == (tablet, SPEECH_RATE)


def test_speech_with_an_unknown_voice_fails_with_its_code(tmp_path):
    """Test that a voice espeak-ng lacks is an error, not a quiet default voice."""
    synthesiser = Synthesiser(tmp_path, VoiceSettings(voice="gmw/en-xx-nowhere"))

    with pytest.raises(SynthesisError) as raised:
        synthesiser.speak("hello")
    assert raised.value.code == "tts-voice-missing"
    assert "gmw/en" in str(raised.value)
    assert not list(tmp_path.glob("*.wav"))


@pytest.mark.parametrize("text", ["", "  \n \n"], ids=["empty", "blank-lines"])
def test_speech_of_nothing_is_refused(tmp_path, text):
    """Test that a reply with no words is a caller's mistake."""
    with pytest.raises(ValueError):
        Synthesiser(tmp_path).speak(text)


@pytest.mark.parametrize(
    "settings",
    [{"words_per_minute": 20}, {"words_per_minute": 900}, {"line_pause_seconds": -1}],
    ids=["too-slow", "too-fast", "negative-pause"],
)
def test_speech_settings_out_of_range_are_refused(settings):
    """Test that voice settings a listener could not follow are refused."""
    with pytest.raises(ValueError):
        VoiceSettings(**settings)
