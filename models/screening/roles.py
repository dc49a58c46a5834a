"""Map any role title onto the taxonomy, so "Pastry Chef" or "Registered Nurse" gets a sensible
category even though neither is a label.

The bank holds real job titles with known categories: every category's name and aliases, plus the
headlines of the training CVs ("STAFF ACCOUNTANT", "EXECUTIVE CHEF", ...). A title's category
distribution is a similarity-weighted vote of its nearest bank entries in MiniLM space. Each
headline entry votes with the number of CVs that carry it under that category, and the curated
names and aliases vote as several CVs: job-board labels are noisy (livecareer files "Software
Engineer" CVs under Arts, Banking, Hadoop and Digital Media alike).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.screening.taxonomy import CATEGORIES, category_phrases

CURATED_VOTES = 3.0
_TITLE_OK = re.compile(r"^[A-Za-z][A-Za-z &/,.'+#-]{1,60}$")


def plausible_title(headline: str) -> bool:
    """Keep headlines that look like job titles: short, letters only, no contact details."""
    words = headline.split()
    return 1 <= len(words) <= 6 and bool(_TITLE_OK.match(headline))


@dataclass
class TitleBank:
    titles: list[str]
    labels: list[str]
    embeddings: np.ndarray  # (n, d), L2-normalised
    weights: np.ndarray  # (n,) votes per entry
    k: int = 15
    temperature: float = 0.05

    @classmethod
    def build(
        cls, headlines: Sequence[str], labels: Sequence[str], embedder, *, classes: Sequence[str]
    ) -> TitleBank:
        votes: dict[tuple[str, str], float] = {}
        for cat in classes:
            for phrase in category_phrases(cat):
                votes[(phrase, cat)] = CURATED_VOTES
        for headline, label in zip(headlines, labels, strict=True):
            title = " ".join(headline.split()).title()
            if plausible_title(title):
                votes[(title, label)] = votes.get((title, label), 0.0) + 1.0
        keys = list(votes)
        titles = [t for t, _ in keys]
        embeddings = embedder.encode(titles)
        weights = np.array([votes[k] for k in keys], dtype=np.float32)
        return cls(titles, [c for _, c in keys], embeddings, weights)

    def distribution(
        self, title_emb: np.ndarray, classes: Sequence[str], *, exclude: str | None = None
    ) -> np.ndarray:
        """Probability over ``classes`` that a role with this title embedding belongs to each.

        ``exclude`` drops bank entries with exactly that title, so training can score a title
        as if it were unseen.
        """
        sims = self.embeddings @ title_emb
        if exclude is not None:
            lowered = exclude.lower()
            sims = np.where([t.lower() == lowered for t in self.titles], -np.inf, sims)
        k = min(self.k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        weights = np.exp((sims[top] - sims[top].max()) / self.temperature) * self.weights[top]
        index = {c: i for i, c in enumerate(classes)}
        out = np.zeros(len(classes), dtype=np.float64)
        for j, w in zip(top, weights, strict=True):
            i = index.get(self.labels[j])
            if i is not None:
                out[i] += w
        total = out.sum()
        return out / total if total > 0 else np.full(len(classes), 1.0 / len(classes))

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        save_file(
            {
                "embeddings": np.ascontiguousarray(self.embeddings.astype(np.float16)),
                "weights": np.ascontiguousarray(self.weights.astype(np.float32)),
            },
            str(folder / "titles.safetensors"),
        )
        payload = {
            "titles": self.titles,
            "labels": self.labels,
            "k": self.k,
            "temperature": self.temperature,
        }
        (folder / "titles.json").write_text(json.dumps(payload, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> TitleBank:
        from safetensors.numpy import load_file

        payload = json.loads((folder / "titles.json").read_text())
        arrays = load_file(str(folder / "titles.safetensors"))
        return cls(
            payload["titles"],
            payload["labels"],
            arrays["embeddings"].astype(np.float32),
            arrays["weights"],
            payload["k"],
            payload["temperature"],
        )


def known_category_ids() -> list[str]:
    return [c.id for c in CATEGORIES]
