"""Which model version is served: a folder pinned in the settings, else the registry's active
version; and loading it. The CLI, the Slack worker and refreshes all ask here."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.services.errors import ConfigError
from models.common.paths import BUNDLED_ROOT
from models.common.registry import Registry

#: The setting that pins each kind's served folder (refreshes of a pinned kind are off).
PIN_SETTINGS = {"classifier": "classifier_dir", "generator": "generator_dir",
                "matcher": "matcher_dir"}


def registry_for(settings: Settings, kind: str) -> Registry:
    return Registry(settings.data_dir, kind, BUNDLED_ROOT / kind, keep=settings.keep_versions,
                    models_root=settings.models_root)


def pinned_dir(settings: Settings, kind: str) -> Path | None:
    pinned = getattr(settings, PIN_SETTINGS[kind])
    return Path(pinned) if pinned is not None else None


def active_dir(settings: Settings, kind: str) -> Path:
    """A folder pinned in the settings, else the registry's active version."""
    return pinned_dir(settings, kind) or registry_for(settings, kind).active_dir()


def load_screening_model(settings: Settings, folder: Path | None = None, *, embedder=None):
    """The screening model of ``folder`` (default: the served one); ``embedder`` reuses a
    loaded MiniLM, as a hot swap does."""
    from models.screening.screener import ScreeningModel

    folder = folder or active_dir(settings, "classifier")
    try:
        if embedder is not None:
            return ScreeningModel.load(folder, embedder=embedder)
        return ScreeningModel.load(folder, embedding_model=settings.embedding_model,
                                   precision=settings.embedding_precision)
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"cannot load the screening model: {exc}") from None


def load_generator(settings: Settings, folder: Path | None = None):
    from models.generation.generator import JobPostGenerator

    generator = JobPostGenerator.load(folder or active_dir(settings, "generator"),
                                      head_precision=settings.generator_head_precision,
                                      decode_threads=settings.decode_threads)
    # without the service's shared embedder (the CLI), the title resolver still follows the
    # settings' embedding model and precision
    generator.embedder_factory = lambda: embedder_for(settings)
    return generator


def embedder_for(settings: Settings):
    """The sentence embedder the settings name (MiniLM from its PyPI package by default)."""
    from models.common.embeddings import FastEmbedder

    return FastEmbedder(settings.embedding_model, precision=settings.embedding_precision)
