"""What the simulated callers of the phone benchmarks say, and how it sounds."""

from __future__ import annotations

import audioop
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.config import PROJECT_ROOT
from voice.audio import SAMPLE_WIDTH, mulaw_to_pcm
from voice.endpointing import Endpointing
from voice.speech import Synthesiser, VoiceSettings
from voice.vocabulary import domain_text, project_sources, spoken_words

TEST_STORIES = PROJECT_ROOT / "nlu" / "tests"
CATALOGUE = PROJECT_ROOT / "assistant" / "data" / "catalogue.csv"
FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law, as Twilio sends it
FRAME_SECONDS = 0.02
# Quiet below this (the detector's own floor) is not speech.
SPEECH_ENERGY = Endpointing().energy_floor
# Short things said on the phone that the test stories leave out.
PHONE_PHRASES = (
    ("yes please", "affirm"),
    ("no thank you", "deny"),
    ("place my order", "place_order"),
    ("read my basket back to me", "read_basket"),
    ("can I speak to a person", "request_human"),
    ("I need some help", "help"),
    ("where's my order", "order_status"),
    ("say that again please", "repeat"),
)
# Requests built around catalogue products, every PRODUCT_STEP-th row.
PRODUCT_STEP = 35
PRODUCT_TEMPLATES = (
    "could I have some {} please",
    "can you add {} to my order",
    "I'd like {} please",
    "and some {} as well love",
)
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Utterance:
    """One thing a caller says."""

    text: str
    source: str
    """"test story", "phone phrase" or "catalogue"."""
    labelled_intent: str | None
    """The intent its source gives it (the catalogue's are add_item)."""


@dataclass(frozen=True)
class Speaker:
    """An espeak-ng voice at a pace, playing the caller."""

    label: str
    voice: str
    words_per_minute: int

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")


SPEAKERS = (
    Speaker("British, 130 wpm", "gmw/en", 130),
    Speaker("British, 175 wpm", "gmw/en", 175),
    Speaker("RP, 130 wpm", "gmw/en-gb-x-rp", 130),
    Speaker("RP, 175 wpm", "gmw/en-gb-x-rp", 175),
    Speaker("American, 130 wpm", "gmw/en-us", 130),
    Speaker("American, 175 wpm", "gmw/en-us", 175),
)


def test_story_messages() -> list[Utterance]:
    """The user messages of nlu/tests, which are not in the training data."""
    found = []
    for path in sorted(TEST_STORIES.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for story in document.get("stories") or []:
            for step in story.get("steps") or []:
                if "user" in step:
                    text = ANNOTATION.sub(r"\1", str(step["user"])).strip()
                    found.append(Utterance(text, "test story", step.get("intent")))
    return found


def product_requests() -> list[Utterance]:
    """Orders for a spread of catalogue products, each by its first alias."""
    with CATALOGUE.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    requests = []
    for number, row in enumerate(rows[::PRODUCT_STEP]):
        aliases = [each for each in row["aliases"].split("|") if each.strip()]
        # Half by the everyday word a resident would use, half by the shelf name.
        name = aliases[0] if aliases and number % 2 else row["name"].lower()
        template = PRODUCT_TEMPLATES[number % len(PRODUCT_TEMPLATES)]
        requests.append(Utterance(template.format(name), "catalogue", "add_item"))
    return requests


def utterances() -> list[Utterance]:
    """Every utterance once, test stories first."""
    phrases = [
        Utterance(text, "phone phrase", intent) for text, intent in PHONE_PHRASES
    ]
    unique: dict[str, Utterance] = {}
    for utterance in [*test_story_messages(), *phrases, *product_requests()]:
        unique.setdefault(utterance.text.lower(), utterance)
    return list(unique.values())


def in_domain_corpus(texts: list[str]) -> list[str]:
    """The texts the domain language model was built from word for word."""
    text = domain_text(project_sources(PROJECT_ROOT))
    corpus = set(text.examples) | set(text.products)
    return [each for each in texts if " ".join(spoken_words(each)) in corpus]


def phone_audio(speaker: Speaker, texts: list[str], cache_dir: Path) -> list[bytes]:
    """Each text said by `speaker`, as 8 kHz mu-law (Speech.for_phone)."""
    settings = VoiceSettings(
        voice=speaker.voice, words_per_minute=speaker.words_per_minute
    )
    synthesiser = Synthesiser(cache_dir, settings)
    # One worker process speaks every line; each text is then in the cache.
    synthesiser.speak("\n".join(texts))
    return [synthesiser.speak(text).for_phone() for text in texts]


def last_speech_frame(mulaw: bytes) -> int:
    """The index of the last 20 ms frame of `mulaw` that is not quiet."""
    last = 0
    for index in range(0, len(mulaw) // FRAME_BYTES):
        frame = mulaw[index * FRAME_BYTES : (index + 1) * FRAME_BYTES]
        if audioop.rms(mulaw_to_pcm(frame), SAMPLE_WIDTH) >= SPEECH_ENERGY:
            last = index
    return last


def frames(mulaw: bytes) -> list[bytes]:
    """`mulaw` cut into Twilio's 20 ms media frames (the last one padded)."""
    padded = mulaw + b"\xff" * (-len(mulaw) % FRAME_BYTES)
    return [
        padded[start : start + FRAME_BYTES]
        for start in range(0, len(padded), FRAME_BYTES)
    ]


def silence(seconds: float) -> bytes:
    """Digital quiet as mu-law (0xFF is zero)."""
    return b"\xff" * (round(seconds / FRAME_SECONDS) * FRAME_BYTES)
