"""Screen CVs for a role: a verdict, a calibrated score, categories and evidence.

The score answers one question with a probability: "does this CV belong to the occupation this
role title (and JD) names?". These signals feed a logistic calibrator fitted on held-out CV/title
pairs during training (titles are other CVs' real headlines, same or different category):

1. the classifier's probability mass on the role's categories, ``sum_c P(role=c) * P(cv=c)``,
   the CV's top category probability, and their ratio. Real-world CVs get flatter distributions
   than the training CVs; training pairs therefore come twice, once with flattened
   probabilities, so the calibrator learns to lean on the other signals when the classifier is
   unsure (before that, an accountant's CV scored "maybe" for Pastry Chef);
2. similarity of the role title to the CV's headline (when it has a job-title line; a flag says
   whether it has), 3. to the CV's opening text;
4. the share of the role's expected skills that the CV shows.

Output is rounded and built only from the file's text and the model, so the same file and model
version always give byte-identical JSON.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.common.fingerprint import files_hash
from models.common.paths import BUNDLED_ROOT
from models.screening.classifier import CVClassifier, EncodedCVs, encode_cvs
from models.screening.datasets import clean_text
from models.screening.documents import DocumentError, ParsedDocument
from models.screening.roles import TitleBank
from models.screening.skills import SkillLexicon, prepare_text
from models.screening.taxonomy import category_name

logger = logging.getLogger(__name__)

BUNDLED_DIR = BUNDLED_ROOT / "classifier"
MODEL_NAME = "hirebot-cv-screener"
MAX_SNIPPET_CHARS = 160
_CONTACT = re.compile(
    r"@|https?://|www\.|\+?\d[\d ().-]{7,}\d|linkedin\.com", re.IGNORECASE
)


@dataclass
class VerdictCalibrator:
    """Logistic map from the four signals to P(fit); coefficients are fitted in training."""

    coef: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    intercept: float = 0.0

    @staticmethod
    def features(
        role_mass: float,
        top_prob: float,
        head_sim: float | None,
        body_sim: float,
        coverage: float,
    ) -> np.ndarray:
        """``head_sim`` is None when the CV has no job-title line."""
        has_head = head_sim is not None
        return np.array(
            [
                np.log(role_mass + 0.01),
                np.log(top_prob + 0.01),
                np.log(role_mass / max(top_prob, 1e-9) + 0.01),
                head_sim if has_head else 0.0,
                1.0 if has_head else 0.0,
                body_sim,
                coverage,
            ]
        )

    def score(self, x: np.ndarray) -> float:
        z = float(np.dot(self.coef, x) + self.intercept)
        return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Thresholds:
    fit: float = 0.6
    maybe: float = 0.3

    def verdict(self, score: float) -> str:
        if score >= self.fit:
            return "fit"
        if score >= self.maybe:
            return "maybe"
        return "no_fit"


class ScreeningModel:
    """Everything screening needs, loaded from one folder (bundled, or a trained version)."""

    def __init__(
        self,
        classifier: CVClassifier,
        titles: TitleBank,
        skills: SkillLexicon,
        calibrator: VerdictCalibrator,
        embedder,
        *,
        version: str,
    ) -> None:
        self.classifier = classifier
        self.titles = titles
        self.skills = skills
        self.calibrator = calibrator
        self.embedder = embedder
        self.version = version

    @classmethod
    def load(
        cls, folder: Path | None = None, *, embedder=None, embedding_model: str | None = None,
        precision: str = "auto",
    ) -> ScreeningModel:
        folder = folder or BUNDLED_DIR
        if not (folder / "config.json").exists():
            raise FileNotFoundError(
                f"no trained classifier in {folder}; run `hirebot train classifier`"
            )
        if embedder is None:
            from models.common.embeddings import FastEmbedder

            embedder = FastEmbedder(embedding_model, precision=precision)
        classifier = CVClassifier.load(folder)
        trained_dim = classifier.embedding_dim
        if trained_dim != getattr(embedder, "dim", trained_dim):
            trained_with = classifier.metadata.get("embedding_model", "another model")
            raise ValueError(
                f"the classifier in {folder} was trained on {trained_with} embeddings "
                f"({trained_dim}-d) but the configured embedding model gives {embedder.dim}-d; "
                "retrain it with `hirebot train classifier` after changing the model"
            )
        calib = json.loads((folder / "verdict.json").read_text())
        return cls(
            classifier,
            TitleBank.load(folder),
            SkillLexicon.load(folder / "skills.json"),
            VerdictCalibrator(calib["coef"], calib["intercept"]),
            embedder,
            version=_served_version(classifier.metadata.get("version") or model_version(folder),
                                    embedder),
        )

    @property
    def base_version(self) -> str:
        """The SVM's version: a refreshed version keeps the bundled one's (its head's base)."""
        meta = self.classifier.metadata
        return str(meta.get("refreshed_from") or meta.get("version") or "")

    @property
    def info(self) -> dict:
        return {"name": MODEL_NAME, "version": self.version}

    # ------------------------------------------------------------------------------ roles
    def role_profile(self, role: str, jd_text: str | None = None) -> RoleProfile:
        emb = self.embedder.encode([role])[0]
        dist = self.titles.distribution(emb, self.classifier.classes)
        if jd_text:
            skills = self.skills.find_in(jd_text, limit=15)
        else:
            skills = []
        if not skills:
            skills = self._category_skills(dist)
        return RoleProfile(role, emb, dist, skills, from_jd=bool(jd_text))

    def _category_skills(self, dist: np.ndarray) -> list[str]:
        order = np.argsort(-dist, kind="stable")
        skills: list[str] = []
        for rank, i in enumerate(order[:3]):
            if rank > 0 and dist[i] < 0.15:
                break
            take = 10 if rank == 0 else 4
            for s in self.skills.by_category.get(self.classifier.classes[i], [])[:take]:
                if s not in skills:
                    skills.append(s)
        return skills

    # ------------------------------------------------------------------------------ screening
    def screen_texts(
        self,
        texts: Sequence[str],
        role: RoleProfile,
        *,
        thresholds: Thresholds | None = None,
        top_k: int = 3,
    ) -> list[dict]:
        """Score already-extracted CV texts; returns result dicts without the ``file`` key."""
        thresholds = thresholds or Thresholds()
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        enc = encode_cvs(cleaned, self.embedder, title_words=self.classifier.title_words)
        probs, features = self.classifier.proba_and_features(enc)
        results = []
        for i in range(len(cleaned)):
            result = self._result(enc, i, probs[i], role, thresholds, top_k)
            # derived, never shown: what a thumbs-up or -down turns into a team label
            result["_features"] = features[i]
            result["_body_vector"] = enc.body_emb[i]  # the matcher reuses it with a JD
            result["_role_category"] = self.classifier.classes[int(role.distribution.argmax())]
            result["_base_version"] = self.base_version
            results.append(result)
        return results

    def pair_scores(self, texts: Sequence[str], roles: Sequence[str],
                    pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """Calibrated category scores of (text index, role index) pairs, each CV and role
        encoded once (the matcher fits its pooling weights on these)."""
        cleaned = [clean_text(t) for t in texts]
        enc = encode_cvs(cleaned, self.embedder, title_words=self.classifier.title_words)
        probs, _ = self.classifier.proba_and_features(enc)
        profiles = [self.role_profile(r) for r in roles]
        thresholds = Thresholds()
        return np.array([self._result(enc, i, probs[i], profiles[j], thresholds, 1)["score"]
                         for i, j in pairs])

    def _result(
        self,
        enc: EncodedCVs,
        i: int,
        probs: np.ndarray,
        role: RoleProfile,
        thresholds: Thresholds,
        top_k: int,
    ) -> dict:
        text = enc.texts[i]
        prepared = prepare_text(text)
        matched = [s for s in role.skills if f" {s} " in prepared]
        missing = [s for s in role.skills if s not in matched]
        coverage = len(matched) / len(role.skills) if role.skills else 0.5
        role_mass = float(np.dot(role.distribution, probs))
        x = self.calibrator.features(
            role_mass,
            float(probs.max()),
            float(enc.head_emb[i] @ role.embedding) if enc.headlines[i] else None,
            float(enc.body_emb[i] @ role.embedding),
            coverage,
        )
        score = round(self.calibrator.score(x), 3)
        order = np.argsort(-probs, kind="stable")[:top_k]
        classes = self.classifier.classes
        top = [[category_name(classes[j]), round(float(probs[j]), 3)] for j in order]
        return {
            "role": role.title,
            "verdict": thresholds.verdict(score),
            "score": score,
            "category": top[0][0],
            "top_categories": top,
            "evidence": {
                "matched": matched[:10],
                "missing": missing[:10],
                "snippets": supporting_snippets(text, matched, role.title),
            },
            "model": self.info,
        }

    def screen_documents(
        self,
        documents: Sequence[ParsedDocument | DocumentError],
        role: RoleProfile,
        *,
        thresholds: Thresholds | None = None,
        top_k: int = 3,
    ) -> list[dict]:
        """One result per document, in order; unreadable ones carry their error instead."""
        good = [d for d in documents if isinstance(d, ParsedDocument)]
        scored = iter(
            self.screen_texts([d.text for d in good], role, thresholds=thresholds, top_k=top_k)
        )
        out: list[dict] = []
        for doc in documents:
            if isinstance(doc, ParsedDocument):
                out.append({"file": doc.name, **next(scored)})
            else:
                out.append({"file": doc.name, "error": {"code": doc.code, "message": doc.message}})
        return out


@dataclass
class RoleProfile:
    title: str
    embedding: np.ndarray
    distribution: np.ndarray
    skills: list[str]
    from_jd: bool = False


def supporting_snippets(text: str, matched: Sequence[str], role_title: str, limit: int = 3):
    """Up to ``limit`` short CV lines that show matched skills (or the role's words).

    Lines with contact details are never quoted, and each snippet is cut to a short excerpt:
    evidence, not the CV.
    """
    role_words = {w for w in prepare_text(role_title).split() if len(w) > 3}
    candidates: list[tuple[int, int, str]] = []
    for pos, line in enumerate(text.split("\n")):
        line = line.strip()
        if len(line) < 15 or _CONTACT.search(line):
            continue
        prepared = prepare_text(line)
        hits = sum(1 for s in matched if f" {s} " in prepared)
        if not hits:
            hits = sum(1 for w in role_words if f" {w} " in prepared) * 0.5
        if hits:
            candidates.append((-hits, pos, line))
    candidates.sort()
    chosen = sorted(candidates[:limit], key=lambda c: c[1])
    return [_shorten(line) for _, _, line in chosen]


def _shorten(line: str) -> str:
    if len(line) <= MAX_SNIPPET_CHARS:
        return line
    cut = line[: MAX_SNIPPET_CHARS - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _served_version(weights_version: str, embedder) -> str:
    """Weights version plus embedding precision: bf16 and int8 serving differ in the last digits,
    so "same version, same bytes" must name both."""
    precision = getattr(embedder, "precision", None)
    return f"{weights_version}+{precision}" if precision else weights_version


def model_version(folder: Path) -> str:
    """A content hash of the weights, so any retrain yields a new, stable version string."""
    return files_hash(folder, ("config.json", "head.safetensors", "verdict.json"))
