"""Loaders for the labelled CV datasets used to train and evaluate the classifier.

Both sets come from ``../shared/data/resumes`` in development; a user's own labelled CVs come in
as CSV files with the same columns. Texts are repaired (mojibake such as ``â€¢`` for a bullet is
common in both) before anything sees them, so training and serving read identical text.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import ftfy

from models.screening.taxonomy import normalise_label

logger = logging.getLogger(__name__)

LIVECAREER_FILE = "resumes/kaggle_livecareer_resume_text_from_pdf.csv"
UPDATED_FILE = "resumes/UpdatedResumeDataSet.csv"

_TEXT_COLUMNS = ("Resume_text_from_pdf", "Resume", "resume", "text", "Resume_str")
_LABEL_COLUMNS = ("Category", "category", "label")


@dataclass
class LabelledCVs:
    name: str
    texts: list[str]
    labels: list[str]  # category ids
    sha256: str  # of the source file(s), for model cards

    def __len__(self) -> int:
        return len(self.texts)


def clean_text(text: str) -> str:
    """Repair mojibake and normalise whitespace the same way for training and serving."""
    text = ftfy.fix_text(text, normalization="NFC")
    lines = (" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_labelled_csv(path: Path, *, dedupe: bool = True, name: str | None = None) -> LabelledCVs:
    """Read a CSV of CVs with a text column and a category column.

    Exact duplicate texts are dropped before anything else: the Updated set is 83% duplicates, and
    a duplicate on both sides of a split makes every figure meaningless. Empty texts are dropped.
    """
    csv.field_size_limit(1 << 30)
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        text_col = next((c for c in _TEXT_COLUMNS if c in fields), None)
        label_col = next((c for c in _LABEL_COLUMNS if c in fields), None)
        if text_col is None or label_col is None:
            raise ValueError(
                f"{path.name}: needs a text column ({', '.join(_TEXT_COLUMNS)}) "
                f"and a label column ({', '.join(_LABEL_COLUMNS)})"
            )
        for row in reader:
            raw = row[text_col] or ""
            if not raw.strip():
                continue
            if dedupe:
                if raw in seen:
                    continue
                seen.add(raw)
            texts.append(clean_text(raw))
            labels.append(normalise_label(row[label_col]))
    logger.info("loaded %d CVs from %s", len(texts), path.name)
    return LabelledCVs(name or path.stem, texts, labels, _file_sha256(path))


def load_livecareer(shared: Path) -> LabelledCVs:
    return load_labelled_csv(shared / LIVECAREER_FILE, name="livecareer")


def load_updated_dedup(shared: Path) -> LabelledCVs:
    return load_labelled_csv(shared / UPDATED_FILE, name="updated_dedup")


def concat(sets: list[LabelledCVs], name: str = "combined") -> LabelledCVs:
    digest = hashlib.sha256("".join(s.sha256 for s in sets).encode()).hexdigest()
    return LabelledCVs(
        name,
        [t for s in sets for t in s.texts],
        [label for s in sets for label in s.labels],
        digest,
    )
