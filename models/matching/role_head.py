"""A role head: a binary classifier for one role title ("Senior DevOps Engineer" vs not) on
the matcher's CV-side MiniLM vector, bootstrapped from generated examples.

The resume-classifier lineage trains such a head with no labels: the generator writes example
texts for the role and for contrasting roles, and an SVM on their embeddings learns the line
between them. Two heads are fitted on the same examples -- the lineage's linear SVM and an L2
logistic regression -- and the caller keeps whichever ranks real labelled CVs better. A head
is plain data (its weights and calibration as JSON), so the same inputs give the same score.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

KINDS = ("svm", "logistic")


@dataclass
class RoleHead:
    role: str
    kind: str                # svm | logistic
    coef: list[float]
    intercept: float
    platt_a: float = 1.0     # P(role) = sigmoid(a * margin + b)
    platt_b: float = 0.0
    serves: bool = False     # passed its gate: it beat the pooled score on real labels
    figures: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def margin(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float64) @ np.asarray(self.coef) + self.intercept

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        z = self.platt_a * self.margin(vectors) + self.platt_b
        return np.round(1.0 / (1.0 + np.exp(-z)), 4)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> RoleHead:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def fit_head(role: str, kind: str, x: np.ndarray, y: np.ndarray,
             weights: Sequence[float] | None = None, *, seed: int = 0) -> RoleHead:
    """One head on examples ``x`` (n, d) with labels ``y`` (1: the role)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if len(set(np.asarray(y).tolist())) < 2:
        raise ValueError("a role head needs examples of the role and of other roles")
    if kind == "svm":
        model = LinearSVC(C=1.0, class_weight="balanced", random_state=seed)
    elif kind == "logistic":
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    else:
        raise ValueError(f"unknown head kind {kind!r}; use one of {KINDS}")
    model.fit(np.asarray(x, dtype=np.float64), np.asarray(y),
              sample_weight=None if weights is None else np.asarray(weights))
    return RoleHead(role, kind, [round(float(v), 8) for v in model.coef_[0]],
                    round(float(model.intercept_[0]), 8))


def calibrate(head: RoleHead, x: np.ndarray, y: np.ndarray) -> RoleHead:
    """Platt scaling of the head's margin on labelled CVs (it needs both classes)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(np.asarray(y).tolist())) < 2:
        return head
    model = LogisticRegression(C=10.0).fit(head.margin(x).reshape(-1, 1), np.asarray(y))
    head.platt_a = round(float(model.coef_[0, 0]), 6)
    head.platt_b = round(float(model.intercept_[0]), 6)
    return head
