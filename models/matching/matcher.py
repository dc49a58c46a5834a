"""The CV-JD matcher U(CV, JD): a reward model in the GIRL manner (arXiv 2307.02157).

U is a linear score over the overlap features of :mod:`models.matching.features` plus a
low-rank bilinear term over the two sides' MiniLM vectors, ``(A u_cv) . (B u_jd)``: the linear
part says how much each recruiter-style check counts, the bilinear part learns which kinds of
CV suit which kinds of JD beyond plain cosine. It is trained on (CV, better JD, worse JD)
triples with GIRL's pairwise loss ``-log sigmoid(U(C, J+) - U(C, J-))``, so only differences of
U are learnt; :class:`MatchCalibrator` maps U to a probability on held-out pairs.

Scoring runs in NumPy float64 from the saved weights and is rounded, so the same inputs and
version give byte-identical scores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from models.common.esco_skills import SkillTaxonomy
from models.common.fingerprint import files_hash
from models.common.paths import BUNDLED_ROOT
from models.matching.features import (
    ENCODING,
    FEATURE_NAMES,
    SideEncoding,
    encode_sides,
    pair_features,
)

logger = logging.getLogger(__name__)

MATCHER_DIR = BUNDLED_ROOT / "matcher"
MODEL_NAME = "hirebot-cv-jd-matcher"
RANK = 16
JD_CACHE = 32


class TfidfSpace:
    """TF-IDF over words and word pairs, with the vocabulary and IDF saved as JSON (no pickle:
    package data must be plain data)."""

    def __init__(self, vocabulary: dict[str, int], idf: Sequence[float]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(**self.options(), vocabulary=vocabulary)
        self.vectorizer.idf_ = np.asarray(idf, dtype=np.float64)

    @staticmethod
    def options() -> dict:
        return {"sublinear_tf": True, "stop_words": "english", "ngram_range": (1, 2),
                "dtype": np.float64}

    @classmethod
    def fit(cls, texts: Sequence[str], max_features: int = 30000) -> TfidfSpace:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(**cls.options(), min_df=3, max_df=0.5,
                                     max_features=max_features).fit(texts)
        vocabulary = {w: int(i) for w, i in vectorizer.vocabulary_.items()}
        return cls(vocabulary, vectorizer.idf_.tolist())

    def transform(self, texts: Sequence[str]):
        return self.vectorizer.transform(texts)

    def to_json(self) -> dict:
        vocabulary = self.vectorizer.vocabulary
        return {"vocabulary": sorted(vocabulary, key=vocabulary.get),
                "idf": [round(float(x), 6) for x in self.vectorizer.idf_]}

    @classmethod
    def from_json(cls, payload: dict) -> TfidfSpace:
        return cls({w: i for i, w in enumerate(payload["vocabulary"])}, payload["idf"])


@dataclass
class MatcherWeights:
    mean: np.ndarray   # feature standardisation
    scale: np.ndarray
    linear: np.ndarray  # (n_features,)
    cv_proj: np.ndarray  # (RANK, dim)
    jd_proj: np.ndarray  # (RANK, dim)

    def score(self, features: np.ndarray, cv_vectors: np.ndarray, jd_vectors: np.ndarray
              ) -> np.ndarray:
        z = (features.astype(np.float64) - self.mean) / self.scale
        bilinear = np.einsum("nr,nr->n", cv_vectors.astype(np.float64) @ self.cv_proj.T,
                             jd_vectors.astype(np.float64) @ self.jd_proj.T)
        return z @ self.linear + bilinear


@dataclass
class MatchCalibrator:
    """P(match) = sigmoid(a * U + b), fitted on held-out labelled pairs."""

    a: float = 1.0
    b: float = 0.0

    def probability(self, u: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(u, dtype=np.float64) + self.b)))


class Matcher:
    """Everything a match score needs, loaded from one folder."""

    def __init__(self, weights: MatcherWeights, tfidf: TfidfSpace, calibrator: MatchCalibrator,
                 embedder, taxonomy: SkillTaxonomy | None = None, *, version: str = "",
                 metadata: dict | None = None):
        self.weights = weights
        self.tfidf = tfidf
        self.calibrator = calibrator
        self.embedder = embedder
        self.taxonomy = taxonomy or SkillTaxonomy.load()
        self.version = version
        self.metadata = metadata or {}

    @property
    def info(self) -> dict:
        return {"name": MODEL_NAME, "version": self.version}

    def encode_cvs(self, texts: Sequence[str], body_vectors: Sequence[np.ndarray] | None = None
                   ) -> list[SideEncoding]:
        """``body_vectors``: the screening model's embeddings of these texts, reused."""
        return encode_sides(texts, self.embedder, self.taxonomy, kind="cv",
                            body_vectors=body_vectors)

    def encode_jds(self, texts: Sequence[str], titles: Sequence[str] | None = None
                   ) -> list[SideEncoding]:
        return encode_sides(texts, self.embedder, self.taxonomy, kind="jd", titles=titles)

    def encode_jd(self, text: str) -> SideEncoding:
        """One JD, encoded once for every CV screened against it (the last ``JD_CACHE``)."""
        cache = self.__dict__.setdefault("_jd_cache", {})
        if text not in cache:
            while len(cache) >= JD_CACHE:
                cache.pop(next(iter(cache)))
            cache[text] = self.encode_jds([text])[0]
        return cache[text]

    def features(self, cvs: Sequence[SideEncoding], jds: Sequence[SideEncoding],
                 pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        return pairwise_features(self.tfidf, cvs, jds, pairs)

    def utility(self, cvs: Sequence[SideEncoding], jds: Sequence[SideEncoding],
                pairs: Sequence[tuple[int, int]], features: np.ndarray | None = None
                ) -> np.ndarray:
        """U(CV, JD) for each (cv index, jd index) pair (``features``: already computed)."""
        if not pairs:
            return np.zeros(0)
        feats = self.features(cvs, jds, pairs) if features is None else features
        cv_vec = np.stack([cvs[i].vector for i, _ in pairs])
        jd_vec = np.stack([jds[j].vector for _, j in pairs])
        return self.weights.score(feats, cv_vec, jd_vec)

    def probability(self, cvs, jds, pairs, features: np.ndarray | None = None) -> np.ndarray:
        return np.round(self.calibrator.probability(self.utility(cvs, jds, pairs, features)),
                        4)

    def pair_blobs(self, cvs: Sequence[SideEncoding], jds: Sequence[SideEncoding],
                   pairs: Sequence[tuple[int, int]], features: np.ndarray | None = None
                   ) -> list[bytes]:
        """Each pair in the derived form a thumbs vote stores (no text; see pair_rows)."""
        from models.matching.pair_rows import pair_blob

        feats = self.features(cvs, jds, pairs) if features is None else features
        return [pair_blob(f, cvs[i].vector, jds[j].vector)
                for f, (i, j) in zip(feats, pairs, strict=True)]

    @cached_property
    def layout(self) -> str:
        """What a stored pair's numbers depend on besides the two texts (the features, how
        each side is encoded, the TF-IDF space, the embedding model the matcher was trained
        on): a refresh trains only on pairs of its layout."""
        import hashlib

        tfidf = json.dumps(self.tfidf.to_json(), sort_keys=True)
        model = self.metadata.get("embedding_model") or getattr(self.embedder, "name", "") or ""
        parts = [*FEATURE_NAMES, ENCODING, str(self.weights.cv_proj.shape[1]), tfidf, str(model)]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]

    # ------------------------------------------------------------------------------ storage
    def save(self, folder: Path) -> str:
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        w = self.weights
        save_file({"mean": w.mean, "scale": w.scale, "linear": w.linear,
                   "cv_proj": w.cv_proj.astype(np.float32),
                   "jd_proj": w.jd_proj.astype(np.float32)}, str(folder / "matcher.safetensors"))
        (folder / "tfidf.json").write_text(json.dumps(self.tfidf.to_json()), encoding="utf-8")
        config = {"features": list(FEATURE_NAMES), "rank": int(w.cv_proj.shape[0]),
                  "embedding_dim": int(w.cv_proj.shape[1]),
                  "embedding_model": getattr(self.embedder, "name", None),
                  "calibrator": {"a": self.calibrator.a, "b": self.calibrator.b},
                  **{k: v for k, v in self.metadata.items() if k != "version"}}
        (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        self.version = weights_version(folder)
        return self.version

    @classmethod
    def load(cls, folder: Path | None = None, *, embedder=None) -> Matcher:
        from safetensors.numpy import load_file

        folder = Path(folder or MATCHER_DIR)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no trained matcher in {folder}; run `hirebot train "
                                    "matcher`")
        config = json.loads((folder / "config.json").read_text())
        if list(config["features"]) != list(FEATURE_NAMES):
            raise ValueError(f"the matcher in {folder} was trained on other features; retrain "
                             "it with `hirebot train matcher`")
        arrays = load_file(str(folder / "matcher.safetensors"))
        weights = MatcherWeights(*(arrays[k].astype(np.float64) for k in
                                   ("mean", "scale", "linear", "cv_proj", "jd_proj")))
        tfidf = TfidfSpace.from_json(json.loads((folder / "tfidf.json").read_text()))
        if embedder is None:
            from models.common.embeddings import FastEmbedder

            embedder = FastEmbedder()
        dim = getattr(embedder, "dim", None)
        if dim is not None and dim != weights.cv_proj.shape[1]:
            raise ValueError(f"the matcher in {folder} was trained on "
                             f"{config.get('embedding_model') or 'another model'} "
                             f"({weights.cv_proj.shape[1]}-d) but the embedding model gives "
                             f"{dim}-d; retrain it with `hirebot train matcher`")
        return cls(weights, tfidf, MatchCalibrator(**config["calibrator"]), embedder,
                   version=weights_version(folder), metadata=config)


def pairwise_features(tfidf: TfidfSpace, cvs: Sequence[SideEncoding],
                      jds: Sequence[SideEncoding], pairs: Sequence[tuple[int, int]]
                      ) -> np.ndarray:
    cv_ids = sorted({i for i, _ in pairs})
    jd_ids = sorted({j for _, j in pairs})
    cv_rows = {i: k for k, i in enumerate(cv_ids)}
    jd_rows = {j: k for k, j in enumerate(jd_ids)}
    cv_tf = tfidf.transform([cvs[i].text for i in cv_ids])
    jd_tf = tfidf.transform([jds[j].text for j in jd_ids])
    out = np.zeros((len(pairs), len(FEATURE_NAMES)), dtype=np.float32)
    for row, (i, j) in enumerate(pairs):
        cosine = float(cv_tf[cv_rows[i]].multiply(jd_tf[jd_rows[j]]).sum())
        out[row] = pair_features(cvs[i], jds[j], cosine)
    return out


def weights_version(folder: Path) -> str:
    return files_hash(folder, ("config.json", "matcher.safetensors", "tfidf.json"))
