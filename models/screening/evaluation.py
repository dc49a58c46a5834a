"""``hirebot eval classifier``: this project's classifier against two baselines, same folds.

Baselines: (a) TF-IDF + LinearSVC, (b) the original recipe, all-MiniLM-L6-v2 embeddings into
``SVC(gamma="auto")``. All three see the same stratified folds; embeddings are computed once
(with the serving embedder) and shared, so the comparison is about the heads.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC, LinearSVC

from models.screening.classifier import CVClassifier, Recipe, encode_cvs, learn_title_words
from models.screening.datasets import LabelledCVs

logger = logging.getLogger(__name__)

MODELS = ("hirebot", "tfidf_linearsvc", "minilm_svc_auto")


def evaluate_dataset(
    data: LabelledCVs, embedder, *, folds: int, seed: int = 0, recipe: Recipe | None = None,
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    from tqdm import tqdm

    title_words = learn_title_words(data.texts)  # unsupervised: uses no labels
    enc = encode_cvs(data.texts, embedder, title_words=title_words, progress=progress)
    y = np.asarray(data.labels)
    texts = np.asarray(data.texts, dtype=object)
    preds = {m: np.empty(len(y), dtype=object) for m in MODELS}
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in tqdm(
        list(skf.split(texts, y)), desc=f"{data.name} folds", disable=not progress
    ):
        clf = CVClassifier(recipe or Recipe(seed=seed)).fit(
            enc.subset(tr), list(y[tr]), title_words=title_words
        )
        preds["hirebot"][te] = clf.predict(enc.subset(te))

        vec = TfidfVectorizer(sublinear_tf=True)
        svm = LinearSVC(random_state=seed).fit(vec.fit_transform(texts[tr]), y[tr])
        preds["tfidf_linearsvc"][te] = svm.predict(vec.transform(texts[te]))

        svc = SVC(gamma="auto", random_state=seed).fit(enc.body_emb[tr], y[tr])
        preds["minilm_svc_auto"][te] = svc.predict(enc.body_emb[te])
    return {
        m: {
            "accuracy": round(float(accuracy_score(y, p)), 4),
            "macro_f1": round(float(f1_score(y, p, average="macro")), 4),
        }
        for m, p in preds.items()
    }
