"""Measures for the matcher and the two baselines it must beat (TF-IDF and MiniLM cosine)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).astype(int)
    if labels.min() == labels.max():
        return float("nan")
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def brier(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    p = np.asarray(probabilities, dtype=np.float64)
    return float(np.mean((p - np.asarray(labels, dtype=np.float64)) ** 2))




def pairwise_accuracy(utility: np.ndarray, better: Sequence[int], worse: Sequence[int]) -> float:
    u = np.asarray(utility)
    return float(np.mean(u[np.asarray(better)] > u[np.asarray(worse)])) if len(better) else 0.0


def tfidf_cosine_baseline(cv_texts: Sequence[str], jd_texts: Sequence[str],
                          pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Plain TF-IDF cosine, the vectoriser fitted on the texts scored (as the issue measured)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english").fit(list(cv_texts) + list(jd_texts))
    cv = vectorizer.transform(cv_texts)
    jd = vectorizer.transform(jd_texts)
    return np.array([float(cv[i].multiply(jd[j]).sum()) for i, j in pairs])


def minilm_cosine_baseline(cv_texts: Sequence[str], jd_texts: Sequence[str],
                           pairs: Sequence[tuple[int, int]], embedder) -> np.ndarray:
    """MiniLM cosine of the two whole texts as the model reads them (first 256 tokens)."""
    cv = np.asarray(embedder.encode(list(cv_texts)), dtype=np.float32)
    jd = np.asarray(embedder.encode(list(jd_texts)), dtype=np.float32)
    cv /= np.maximum(np.linalg.norm(cv, axis=1, keepdims=True), 1e-12)
    jd /= np.maximum(np.linalg.norm(jd, axis=1, keepdims=True), 1e-12)
    return np.array([float(cv[i] @ jd[j]) for i, j in pairs])

