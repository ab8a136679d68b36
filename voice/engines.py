"""Choosing and loading the speech-to-text engine, at start-up, from settings."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from voice.domain_model import DomainModel, build_domain_model
from voice.endpointing import Endpointing
from voice.errors import DomainModelError, VoiceError
from voice.recognition import SpeechToText
from voice.sphinx import PocketsphinxEngine, generic_model, model_with_language
from voice.vocabulary import DomainSources, domain_text
from voice.vosk_engine import VoskEngine

logger = logging.getLogger(__name__)

VOSK = "vosk"
POCKETSPHINX = "pocketsphinx"


def choose_engine(vosk_model_path: str | Path | None) -> str:
    """ "vosk" when a Vosk model folder is configured, else "pocketsphinx"."""
    if vosk_model_path is not None and str(vosk_model_path).strip():
        return VOSK
    return POCKETSPHINX


def load_speech_to_text(
    vosk_model_path: str | Path | None = None,
    cache_dir: Path | None = None,
    sources: DomainSources | None = None,
    endpointing: Endpointing | None = None,
) -> SpeechToText:
    """The engine the settings ask for, loaded and ready for streams.

    Args:
        vosk_model_path: the `VOSK_MODEL_PATH` setting. If its model cannot
            be loaded, pocketsphinx is used instead (with a warning), so the
            phone still listens.
        cache_dir: where pocketsphinx's domain model is built and kept
            (the app passes `HH_DATA_DIR/voice`).
        sources: the project's words; with them and `cache_dir` pocketsphinx
            listens with the domain model, without them with its generic one.

    Raises:
        VoiceError: pocketsphinx cannot be loaded either.
    """
    if choose_engine(vosk_model_path) == VOSK:
        try:
            return VoskEngine(Path(str(vosk_model_path)), endpointing=endpointing)
        except VoiceError as error:
            logger.warning("using pocketsphinx: %s", error)
    return load_pocketsphinx(cache_dir, sources, endpointing)


def load_pocketsphinx(
    cache_dir: Path | None = None,
    sources: DomainSources | None = None,
    endpointing: Endpointing | None = None,
) -> PocketsphinxEngine:
    """Pocketsphinx with the domain model if it can be had, else the generic one."""
    if cache_dir is None or sources is None:
        return PocketsphinxEngine(generic_model(), endpointing)
    try:
        domain = build_pocketsphinx_domain_model(cache_dir, sources)
    except VoiceError as error:
        logger.warning("using the generic language model: %s", error)
        return PocketsphinxEngine(generic_model(), endpointing)
    model = model_with_language("domain", domain.language_model, domain.dictionary)
    return PocketsphinxEngine(model, endpointing)


def build_pocketsphinx_domain_model(
    cache_dir: Path, sources: DomainSources
) -> DomainModel:
    """The domain model from `sources`, rebuilt only if they changed.

    Raises:
        DomainModelError: the sources cannot be read, or the model not built.
    """
    try:
        text = domain_text(sources)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise DomainModelError(
            f"could not read the project's words: {error}"
        ) from error
    return build_domain_model(text, Path(cache_dir), generic_model().dictionary)
