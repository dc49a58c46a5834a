"""The team's own training data: added postings, labelled CVs, and labels from thumbs votes.

CV text never reaches the database: a labelled CV is kept as the derived features the
classifier refresh trains on (MiniLM embeddings and the bundled classifier's decisions), tied to
the bundled classifier version that produced them.
"""

from __future__ import annotations

import hashlib

import numpy as np

from bot.storage import Store

VOTE_PREFIX = "vote:"


def features_blob(x: np.ndarray) -> bytes:
    return np.asarray(x, dtype=np.float16).tobytes()


def features_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def cv_key(text: str) -> str:
    """A label's key: the same CV added twice is one label (the newest wins)."""
    return "cv:" + hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:24]


def label_from_vote(verdict: str, value: str, role_category: str | None) -> str | None:
    """A thumbs vote on a verdict as a category label, when it implies one.

    👍 on "fit" and 👎 on "no fit" both say the CV belongs to the role's category. 👎 on "fit"
    or 👍 on "no fit" only say what it is *not*, and "maybe" says neither, so those are kept
    as feedback but give the classifier no label.
    """
    if not role_category:
        return None
    if (verdict, value) in {("fit", "up"), ("no_fit", "down")}:
        return role_category
    return None


def record_vote_label(store: Store, screening_id: int, value: str) -> str | None:
    """Turn (or stop turning) a screening's vote into a team label; returns the label."""
    row = store.screening(screening_id)
    if row is None or not row.get("features"):
        return None
    # keyed by the CV's features, not the row id (SQLite may reuse ids after a purge): the
    # same CV voted on twice is one label, the newest vote's
    key = VOTE_PREFIX + hashlib.sha256(row["features"]).hexdigest()[:24]
    label = label_from_vote(row["verdict"], value, row.get("role_category"))
    if label is None:
        store.drop_labelled_cv(key)
        return None
    store.set_labelled_cv(key, label, row["features"], row.get("base_version") or "", "vote")
    return label
