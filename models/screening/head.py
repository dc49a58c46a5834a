"""The stacked head a classifier refresh fits, as the serving classifier applies it.

It lives beside the classifier, not with the refresh code, because serving a refreshed version
needs it while the classifier must never import the trainer (as SetFit keeps its head in the
modeling module and the trainer imports the model, never the reverse).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEAD_FILE = "refresh_head.safetensors"
HEAD_META = "refresh_head.json"


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def head_features(decisions: np.ndarray, temperature: float, body: np.ndarray,
                  head: np.ndarray) -> np.ndarray:
    """The stacked head's input; the same for shipped rows, team rows and live CVs."""
    return np.hstack([decisions / temperature, body, head]).astype(np.float32)


# ------------------------------------------------------------------------------ the head
@dataclass
class RefreshHead:
    """A residual on the bundled classifier: ``logits = base/T + x W^T + b``.

    With ``W = b = 0`` it is exactly the bundled classifier, so a refresh starts from the model
    in service and moves only as far as the team's labels pull it (see
    ``models.refresh.classifier.fit_head``).
    """

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0
    metadata: dict | None = None

    def logits(self, x: np.ndarray) -> np.ndarray:
        n = len(self.classes)
        return x[:, :n] + x @ self.coef.T + self.intercept

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        save_file({"coef": np.ascontiguousarray(self.coef, dtype=np.float32),
                   "intercept": np.ascontiguousarray(self.intercept, dtype=np.float32)},
                  str(folder / HEAD_FILE))
        (folder / HEAD_META).write_text(json.dumps(
            {"classes": self.classes, "temperature": self.temperature,
             "metadata": self.metadata or {}}, indent=2))

    @classmethod
    def load(cls, folder: Path) -> RefreshHead | None:
        if not (folder / HEAD_FILE).is_file():
            return None
        from safetensors.numpy import load_file

        arrays = load_file(str(folder / HEAD_FILE))
        meta = json.loads((folder / HEAD_META).read_text())
        return cls(meta["classes"], arrays["coef"], arrays["intercept"],
                   float(meta["temperature"]), meta.get("metadata", {}))
