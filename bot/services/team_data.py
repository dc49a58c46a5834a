"""The team's own training data: added postings, labelled CVs, and labels from thumbs votes.

CV text never reaches the database: a labelled CV is kept as the derived features the
classifier refresh trains on (MiniLM embeddings and the bundled classifier's decisions), tied to
the bundled classifier version that produced them. A label that contradicts a confident
prediction of the bundled classifier (an Accountant's CV labelled Information Technology) is a
likely slip, so it is kept ``flagged`` and trains nothing until an admin confirms it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.services.errors import UserError
from bot.services.inputs import read_inputs, read_postings_files
from bot.services.versions import embedder_for
from bot.storage import Store

VOTE_PREFIX = "vote:"


def features_blob(x: np.ndarray) -> bytes:
    return np.asarray(x, dtype=np.float16).tobytes()


def features_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


@lru_cache(maxsize=1)
def bundled_classes() -> tuple[str, ...]:
    """The bundled classifier's categories, in the order its decisions lead a features row."""
    from models.common.paths import BUNDLED_ROOT

    config = json.loads((BUNDLED_ROOT / "classifier" / "config.json").read_text())
    return tuple(config["classes"])


def contradiction(features: bytes, label: str, confidence: float) -> str:
    """Why ``label`` looks wrong for this CV ("" when it does not): the bundled classifier's
    top category differs and has at least ``confidence`` probability. The features row starts
    with its tempered decisions, so no model is loaded for this."""
    from models.screening.taxonomy import category_name

    classes = bundled_classes()
    logits = features_from_blob(features)[:len(classes)].astype(np.float64)
    if len(logits) < len(classes) or not np.all(np.isfinite(logits)):
        return ""
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    top = int(probs.argmax())
    if classes[top] == label or probs[top] < confidence:
        return ""
    return (f"labelled {category_name(label)}, but the classifier is {probs[top]:.0%} sure it "
            f"is {category_name(classes[top])}")


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


def match_label_from_vote(verdict: str, value: str) -> int | None:
    """A thumbs vote on a verdict against a JD as "this CV matches this JD" (1) or not (0).

    👍 agrees with the verdict and 👎 disagrees: 👍 on "fit" and 👎 on "no fit" say it
    matches, 👎 on "fit" and 👍 on "no fit" that it does not. "maybe" says neither.
    """
    if verdict not in {"fit", "no_fit"} or value not in {"up", "down"}:
        return None
    return int((verdict == "fit") == (value == "up"))


def record_match_vote(store: Store, row: dict, value: str) -> int | None:
    """Turn (or stop turning) a vote on a verdict against a JD into a matcher label."""
    if not row.get("match_pair"):
        return None
    key = VOTE_PREFIX + hashlib.sha256(row["match_pair"]).hexdigest()[:24]
    label = match_label_from_vote(row["verdict"], value)
    if label is None:
        store.drop_match_pair(key)
        return None
    store.set_match_pair(key, label, row["match_pair"], row.get("match_layout") or "",
                         row.get("role") or "")
    return label


def record_vote_label(store: Store, screening_id: int, value: str,
                      flag_confidence: float = 0.35,
                      on_flag: Callable[[str], None] | None = None) -> str | None:
    """Turn (or stop turning) a screening's vote into team labels (the classifier's category
    label, the matcher's match label); returns the category label."""
    row = store.screening(screening_id)
    if row is None:
        return None
    record_match_vote(store, row, value)
    if not row.get("features"):
        return None
    # keyed by the CV's features, not the row id (SQLite may reuse ids after a purge): the
    # same CV voted on twice is one label, the newest vote's
    key = VOTE_PREFIX + hashlib.sha256(row["features"]).hexdigest()[:24]
    label = label_from_vote(row["verdict"], value, row.get("role_category"))
    if label is None:
        store.drop_labelled_cv(key)
        return None
    reason = contradiction(row["features"], label, flag_confidence)
    store.set_labelled_cv(key, label, row["features"], row.get("base_version") or "", "vote",
                          flag_reason=reason)
    if reason and on_flag is not None:
        on_flag(f"A 👍/👎 on a verdict for {row.get('role') or 'a role'} made the team label "
                f"`{key}`: {reason}. It trains nothing until an admin confirms "
                f"it: `/hirebot flagged confirm {key}`.")
    return label


def record_feedback(store: Store, target: str, target_id: int, user: str, value: str,
                    flag_confidence: float = 0.35,
                    on_flag: Callable[[str], None] | None = None) -> bool:
    """A button press: the vote, and for a thumb on a verdict the label it implies (flagged
    for an admin, through ``on_flag``, when it contradicts a confident prediction)."""
    recorded = store.add_feedback(target, target_id, user, value)
    if recorded and target == "screening" and value in {"up", "down"}:
        record_vote_label(store, target_id, value, flag_confidence, on_flag)
    return recorded


# ------------------------------------------------------------------------------ admin commands
def add_postings(settings: Settings, paths: list[Path]) -> dict[str, int]:
    """Postings for generator refreshes; the same posting added twice is kept once."""
    postings = read_postings_files(paths)
    store = Store.open(settings)
    try:
        added = store.add_team_postings([{"key": p.key, "title": p.title,
                                          "description": p.description,
                                          "source": p.source} for p in postings])
        total = len(store.team_postings())
    finally:
        store.close()
    return {"read": len(postings), "added": added, "total": total}


def label_cvs(settings: Settings, paths: list[Path], label: str,
              on_skipped: Callable[[str, str], None] | None = None) -> dict:
    """Label CVs of one category for classifier refreshes; only derived features are stored.

    ``on_skipped(name, message)`` hears each unreadable file as soon as it is read (before
    the slow embedding step, and before the error when no file is readable). Returns the
    category's name, how many were labelled, how many were skipped and the team's label count.
    """
    from models.common.paths import BUNDLED_ROOT
    from models.refresh.classifier import cv_features
    from models.screening.classifier import CVClassifier
    from models.screening.documents import DocumentError
    from models.screening.taxonomy import category_name, normalise_label

    base = CVClassifier.load(BUNDLED_ROOT / "classifier")
    code = normalise_label(label)
    if code not in base.classes:
        names = ", ".join(sorted(category_name(c) for c in base.classes))
        raise UserError(f"unknown category {label!r}; use one of: {names}")
    docs = read_inputs(paths, settings)
    good = [d for d in docs if not isinstance(d, DocumentError)]
    rejected = [d for d in docs if isinstance(d, DocumentError)]
    for bad in rejected if on_skipped else ():
        on_skipped(bad.name, bad.message)
    if not good:
        raise UserError("no readable CVs in the files given")
    if settings.blind_screening:  # trained on what serving reads
        from models.screening.blinding import blind_documents

        good = blind_documents(good)
    x = cv_features(base, [d.text for d in good], embedder_for(settings))
    store = Store.open(settings)
    flagged = []
    try:
        for doc, row in zip(good, x, strict=True):
            blob = features_blob(row)
            reason = contradiction(blob, code, settings.label_flag_confidence)
            store.set_labelled_cv(cv_key(doc.text), code, blob,
                                  base.metadata.get("version", ""), "cli", flag_reason=reason)
            if reason:
                flagged.append(f"{doc.name}: {reason}")
        total = len(store.labelled_cvs())
    finally:
        store.close()
    return {"category": category_name(code), "labelled": len(good), "skipped": len(rejected),
            "total": total, "flagged": flagged}


def team_data_summary(settings: Settings) -> dict:
    from models.screening.taxonomy import category_name

    store = Store.open(settings)
    try:
        labels = store.labelled_cvs()
        postings = store.team_postings()
        matches = store.match_pairs()
    finally:
        store.close()
    return {"team_postings": len(postings), "flagged": len(flagged_labels(settings)),
            "match_votes": {"match": sum(r["label"] == 1 for r in matches),
                            "no_match": sum(r["label"] == 0 for r in matches)},
            "labelled_cvs": {category_name(k): v for k, v in
                             Counter(r["label"] for r in labels).most_common()},
            "labels_by_source": dict(Counter(r["source"] for r in labels))}


def flagged_labels(settings: Settings) -> list[dict]:
    """Labels waiting for an admin: short key, label, reason, source, when (no features)."""
    store = Store.open(settings)
    try:
        rows = store.flagged_labels()
    finally:
        store.close()
    return [{"key": r["key"][-8:], "label": r["label"], "reason": r["flag_reason"] or "",
             "source": r["source"], "created_at": r["created_at"]} for r in rows]


def confirm_labels(settings: Settings, key: str | None) -> int:
    """An admin's yes: the flagged label (its key or the key's ending; None: all) trains."""
    store = Store.open(settings)
    try:
        confirmed = store.confirm_label(key)
    finally:
        store.close()
    if not confirmed and key is not None:
        raise UserError(f"no flagged label with key {key!r}; `hirebot data flagged` lists them")
    return confirmed


def clear_team_data(settings: Settings, *, cvs: bool, postings: bool) -> dict[str, int]:
    if not (cvs or postings):
        raise UserError("say what to forget: --cvs, --postings or both")
    store = Store.open(settings)
    try:
        return store.clear_team_data(cvs=cvs, postings=postings)
    finally:
        store.close()
