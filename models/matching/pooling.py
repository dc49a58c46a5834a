"""Pooling the category score and the match score into one role-aware P(fit).

Both are probabilities; they are pooled in log-odds, ``sigmoid(w_c logit(c) + w_m logit(m) +
b)``, with weights fitted by logistic regression on held-out labelled pairs
(``hirebot train matcher``). Which term moved the score further from even odds is reported as
the verdict's driver.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EQUAL_WEIGHTS = {"category": 0.5, "match": 0.5, "intercept": 0.0}


def logit(p: float | np.ndarray) -> float | np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def combine(category_score: float, match_probability: float, weights: dict
            ) -> tuple[float, str]:
    """Pooled P(fit), rounded, and its driver: "jd match" or "category"."""
    from_category = weights["category"] * float(logit(category_score))
    from_match = weights["match"] * float(logit(match_probability))
    z = from_category + from_match + weights["intercept"]
    driver = "jd match" if abs(from_match) >= abs(from_category) else "category"
    return round(1.0 / (1.0 + math.exp(-z)), 3), driver


def fit_weights(category: Sequence[float], match: Sequence[float], labels: Sequence[int]
                ) -> dict:
    from sklearn.linear_model import LogisticRegression

    x = np.column_stack([logit(np.asarray(category)), logit(np.asarray(match))])
    model = LogisticRegression(C=1.0).fit(x, np.asarray(labels).astype(int))
    return {"category": round(float(model.coef_[0, 0]), 6),
            "match": round(float(model.coef_[0, 1]), 6),
            "intercept": round(float(model.intercept_[0]), 6)}


def pooled(category: Sequence[float], match: Sequence[float], weights: dict) -> np.ndarray:
    return np.array([combine(c, m, weights)[0] for c, m in zip(category, match, strict=True)])
