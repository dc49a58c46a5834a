"""Classifier refresh: a head stacked on the bundled classifier, retrained on team labels.

Why a stacked head rather than refitting the whole SVM: the SVM's TF-IDF blocks need the raw
training CVs, which cannot ship (no license, and they are CVs). What can ship is derived: for each
training CV its MiniLM embeddings (body and headline) and the bundled classifier's out-of-fold
decisions. A refresh fits a residual multinomial logistic layer on
``[base decisions / T, body embedding, headline embedding]`` over those shipped rows plus the
team's labelled CVs (stored in the same derived form, never as text), so the team's labels move
the verdicts while the bundled SVM keeps doing the reading.

The head is a residual fitted with the shipped rows as soft targets (see :func:`fit_head`): it
changes the bundled classifier only where the team's labels disagree with it. The shipped rows
carry a fixed 20 % evaluation split (stratified, seeded) that no head is ever
fitted on; with the team's own held-out labels it is what the promotion gate compares.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import train_test_split

from models.screening.classifier import CVClassifier, encode_cvs
from models.screening.head import RefreshHead, head_features

logger = logging.getLogger(__name__)

REFRESH_DATA = "refresh_data.safetensors"
REFRESH_META = "refresh_data.json"
EVAL_SHARE = 0.2
#: The team labels' mean loss weighs n / (n + TEAM_PRIOR) of the shipped rows' mean loss: a
#: handful of labels nudge the classifier, hundreds move it (a shrinkage prior; with four CVs
#: from one template at full weight, other CVs of that template followed them).
TEAM_PRIOR = 50.0
L2 = 1e-3


# ------------------------------------------------------------------------------ features
def cv_features(classifier: CVClassifier, texts: Sequence[str], embedder) -> np.ndarray:
    """Derived features of CV texts under the base classifier (what a team label stores)."""
    enc = encode_cvs(list(texts), embedder, title_words=classifier.title_words)
    return head_features(classifier.decision_function(enc), classifier.temperature,
                         enc.body_emb, enc.head_emb)


# ------------------------------------------------------------------------------ shipped rows
@dataclass
class RefreshRows:
    """Labelled rows in head-feature form; the bundled classifier's decisions lead each row."""

    x: np.ndarray
    y: np.ndarray  # indices into ``classes``
    classes: list[str]
    is_eval: np.ndarray  # bool: the fixed evaluation split


def build_refresh_data(texts: Sequence[str], labels: Sequence[str], classifier: CVClassifier,
                       embedder, out_dir: Path, *, data_name: str, data_sha256: str,
                       command: str, seed: int = 0, progress: bool = True) -> dict:
    """Write the derived rows a refresh and its gate need (no text, no name, no CV)."""
    from safetensors.numpy import save_file

    from models.screening.training import out_of_fold_decisions

    started = time.time()
    enc = encode_cvs(list(texts), embedder, title_words=classifier.title_words,
                     progress=progress)
    decisions, classes = out_of_fold_decisions(enc, list(labels), classifier.recipe, folds=3,
                                               seed=seed, title_words=classifier.title_words)
    if classes != classifier.classes:
        raise ValueError("the data's categories differ from the bundled classifier's")
    y = np.array([classes.index(label) for label in labels], dtype=np.int16)
    _, eval_idx = train_test_split(np.arange(len(y)), test_size=EVAL_SHARE, stratify=y,
                                   random_state=seed)
    is_eval = np.zeros(len(y), dtype=np.uint8)
    is_eval[eval_idx] = 1
    arrays = {"decisions": decisions.astype(np.float16), "body": enc.body_emb.astype(np.float16),
              "head": enc.head_emb.astype(np.float16), "labels": y, "is_eval": is_eval}
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()},
              str(out_dir / REFRESH_DATA))
    base_eval = decisions[is_eval == 1].argmax(1)
    meta = {
        "rows": int(len(y)), "eval_rows": int(is_eval.sum()), "classes": classes,
        "base_version": classifier.metadata.get("version"), "temperature": classifier.temperature,
        "data": data_name, "data_sha256": data_sha256, "command": command, "seed": seed,
        "base_eval_macro_f1": macro_f1(y[is_eval == 1], base_eval),
        "seconds": round(time.time() - started, 1),
        "contents": "per CV: the bundled classifier's 3-fold out-of-fold decisions and the MiniLM "
                    "embeddings of its first 256 tokens and of its headline (float16), its "
                    "category index, and whether it is in the fixed evaluation split. No text.",
    }
    (out_dir / REFRESH_META).write_text(json.dumps(meta, indent=2))
    return meta


def load_refresh_rows(folder: Path) -> RefreshRows:
    from safetensors.numpy import load_file

    arrays = load_file(str(folder / REFRESH_DATA))
    meta = json.loads((folder / REFRESH_META).read_text())
    x = head_features(arrays["decisions"].astype(np.float32), float(meta["temperature"]),
                      arrays["body"].astype(np.float32), arrays["head"].astype(np.float32))
    return RefreshRows(x, arrays["labels"].astype(np.int64), list(meta["classes"]),
                       arrays["is_eval"].astype(bool))


# ------------------------------------------------------------------------------ team rows
def team_split(keys: Sequence[str], *, every: int = 4) -> np.ndarray:
    """A stable held-out flag per team label: the same row stays held out across refreshes."""
    return np.array([int(hashlib.sha256(k.encode()).hexdigest(), 16) % every == 0 for k in keys],
                    dtype=bool)


# ------------------------------------------------------------------------------ train + gate
def fit_head(rows: RefreshRows, team_x: np.ndarray, team_y: np.ndarray, *,
             l2: float = L2, team_weight: float | None = None, iters: int = 200) -> RefreshHead:
    """Fit the residual: team labels pull, the shipped rows hold the rest in place.

    The shipped training rows enter with *soft* targets, the bundled classifier's own
    out-of-fold probabilities, so without team labels the optimum is the bundled classifier
    itself and nothing the team did not label drifts; the team's labels are hard targets whose
    mean loss weighs ``team_weight`` (default: n / (n + TEAM_PRIOR)) times the shipped rows'
    mean. Full-batch L-BFGS on at most a few thousand rows: about a second on one core.
    """
    import torch
    import torch.nn.functional as F

    n = len(rows.classes)
    ship = torch.from_numpy(rows.x[~rows.is_eval])
    soft = torch.softmax(ship[:, :n], dim=1)
    team = torch.from_numpy(np.asarray(team_x, dtype=np.float32).reshape(-1, ship.shape[1]))
    labels = torch.from_numpy(np.asarray(team_y, dtype=np.int64))
    if team_weight is None:
        team_weight = len(labels) / (len(labels) + TEAM_PRIOR)
    coef = torch.zeros(n, ship.shape[1], requires_grad=True)
    intercept = torch.zeros(n, requires_grad=True)
    optimizer = torch.optim.LBFGS([coef, intercept], max_iter=iters,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(ship[:, :n] + ship @ coef.T + intercept, soft)
        if len(labels):
            loss = loss + team_weight * F.cross_entropy(
                team[:, :n] + team @ coef.T + intercept, labels)
        loss = loss + l2 * (coef.square().sum() + intercept.square().sum())
        loss.backward()
        return loss

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small problem: one thread, no spinning against the bot
    try:
        with torch.enable_grad():
            optimizer.step(closure)
    finally:
        torch.set_num_threads(threads)
    return RefreshHead(list(rows.classes), coef.detach().numpy().copy(),
                       intercept.detach().numpy().copy())


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the classes the evaluation rows hold (a class absent from them has no
    F1 to average)."""
    if len(y) == 0:
        return float("nan")
    present = np.unique(y)
    return round(float(f1_score(y, pred, labels=present, average="macro", zero_division=0)), 4)


def predictions(head: RefreshHead | None, x: np.ndarray, n_classes: int) -> np.ndarray:
    """A model's predictions on head-feature rows: the head's, or the base decisions'."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    if head is None:
        return x[:, :n_classes].argmax(1)
    return head.logits(x).argmax(1)


def confusion(y: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    return confusion_matrix(y, pred, labels=np.arange(n_classes))
