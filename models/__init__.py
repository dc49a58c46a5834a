"""All ML: parsing, embeddings, classifier, generator, training, evaluation, registry."""

from pathlib import Path

BUNDLED_ROOT = Path(__file__).resolve().parent / "bundled"
