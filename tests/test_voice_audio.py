"""Audio conversion between phone mu-law and speech PCM, on real signals."""

import itertools
import math
import struct

import pytest

from voice.audio import (
    PHONE_RATE,
    SPEECH_RATE,
    Resampler,
    mulaw_to_pcm,
    pcm_to_mulaw,
    phone_to_speech,
    read_wav,
    wav_for_phone,
    wav_for_speech,
    write_wav,
)


def tone(frequency: float, rate: int, seconds: float, level: float = 0.5) -> bytes:
    count = int(rate * seconds)
    return struct.pack(
        f"<{count}h",
        *(
            int(level * 32767 * math.sin(2 * math.pi * frequency * n / rate))
            for n in range(count)
        ),
    )


def samples(pcm: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm))


def dominant_frequency(pcm: bytes, rate: int) -> float:
    """The frequency of a pure tone, from its zero crossings."""
    values = samples(pcm)
    crossings = sum(1 for a, b in itertools.pairwise(values) if a < 0 <= b)
    return crossings * rate / len(values)


def test_audio_mulaw_round_trip_keeps_the_signal():
    """Test that PCM to mu-law and back stays within mu-law's quantisation."""
    original = tone(440, PHONE_RATE, 0.1)
    again = mulaw_to_pcm(pcm_to_mulaw(original))
    assert len(again) == len(original)
    errors = [
        abs(a - b) for a, b in zip(samples(original), samples(again), strict=True)
    ]
    assert max(errors) < 1100  # about 3% of full scale at the loudest
    assert len(pcm_to_mulaw(original)) == len(original) // 2


def test_audio_phone_to_speech_doubles_the_rate_and_keeps_the_pitch():
    """Test that 8 kHz mu-law becomes 16 kHz PCM of the same tone."""
    phone = pcm_to_mulaw(tone(500, PHONE_RATE, 0.5))
    speech = phone_to_speech(phone)
    assert abs(len(speech) - 2 * len(phone) * 2) <= 8
    assert dominant_frequency(speech, SPEECH_RATE) == pytest.approx(500, rel=0.03)


def test_audio_resampler_in_chunks_matches_one_pass():
    """Test that a stream converted chunk by chunk equals converting it at once."""
    pcm = tone(300, PHONE_RATE, 0.4)
    whole = Resampler(PHONE_RATE, SPEECH_RATE).convert(pcm)
    streaming = Resampler(PHONE_RATE, SPEECH_RATE)
    chunked = b"".join(
        streaming.convert(pcm[i : i + 320]) for i in range(0, len(pcm), 320)
    )
    assert chunked == whole


@pytest.mark.parametrize("rate", [22050, 16000, 8000], ids=lambda r: f"{r}Hz")
def test_audio_wav_from_an_engine_becomes_phone_and_speech_audio(rate):
    """Test that a speech engine's WAV at any rate converts for phone and tablet."""
    wav = write_wav(tone(400, rate, 1.0), rate)
    phone = wav_for_phone(wav)
    speech = wav_for_speech(wav)
    assert abs(len(phone) - PHONE_RATE) <= 4
    assert abs(len(speech) - 2 * SPEECH_RATE) <= 8
    assert dominant_frequency(mulaw_to_pcm(phone), PHONE_RATE) == pytest.approx(
        400, rel=0.03
    )


def test_audio_read_wav_refuses_what_is_not_a_wav():
    """Test that garbage is refused with a clear error, not a crash."""
    with pytest.raises(ValueError, match="WAV"):
        read_wav(b"RIFF0000WAVEnot really")
    pcm, rate = read_wav(write_wav(b"", 16000))
    assert (pcm, rate) == (b"", 16000)
