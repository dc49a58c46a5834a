"""Role heads (``hirebot train role TITLE``): train one for a title, and find the one that
serves a title.

A head is kept under the data directory, one JSON file per role title, whether or not it
passed its gate, so ``hirebot train role`` can show why a head does not serve. Screening uses a
head only when it passed: its AUC on real labelled CVs beat the pooled (category + matcher)
score's. Retraining picks up the team's newest votes on verdicts for the title.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.services.errors import ConfigError, UserError
from bot.storage import Store, role_key


def head_path(settings: Settings, role: str) -> Path:
    key = role_key(role)
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")[:40] or "role"
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return settings.data_dir / "role_heads" / f"{slug}-{digest}.json"


def serving_head(settings: Settings, role: str):
    """The head that serves ``role``, or None (none trained, or it did not pass)."""
    from models.matching.role_head import RoleHead

    path = head_path(settings, role)
    if not path.is_file():
        return None
    try:
        head = RoleHead.load(path)
    except (OSError, ValueError, TypeError):
        return None
    return head if head.serves else None


def team_votes(settings: Settings, role: str, matcher) -> tuple[np.ndarray, np.ndarray]:
    """The team's votes on verdicts for this title: (CV vectors, labels), derived data only."""
    from models.matching.pair_rows import rows_from_blobs

    store = Store.open(settings)
    try:
        rows = [r for r in store.match_pairs(role) if r.get("layout") == matcher.layout]
    finally:
        store.close()
    dim = matcher.weights.cv_proj.shape[1]
    pairs = rows_from_blobs([r["features"] for r in rows], dim)
    return pairs.cv_vectors, np.array([int(r["label"]) for r in rows], dtype=np.int64)


def _per_role(folder: Path) -> dict:
    """The matcher's out-of-fold per-role figures, when its EVAL.json has them."""
    import json

    try:
        report = json.loads((folder / "EVAL.json").read_text())
    except (OSError, ValueError):
        return {}
    return (report.get("per_role") or {}).get("roles", {})


def train_role(settings: Settings, models, role: str, *, synthetic: int = 24,
               progress: Callable[[int], None] | None = None):
    """Train, measure and keep a head for ``role``; returns it (``serves`` says the gate)."""
    from bot.services.inputs import validate_role
    from models.common.occupations import OccupationResolver
    from models.common.paths import BUNDLED_ROOT
    from models.generation.request import TitleError
    from models.matching.pooling import EQUAL_WEIGHTS, pooled
    from models.refresh.role_heads import RoleNotMeasurable, train_role_head

    role = validate_role(role)
    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("A role head is measured on the labelled CVs of ../shared/data (or "
                        "HIREBOT_SHARED_DATA_DIR).")
    if synthetic < 2:
        raise UserError("--synthetic must be at least 2")
    try:
        matcher = models.matcher
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    screening = models.screening
    try:
        jd_text = models.jd_for_title(role)
    except TitleError as exc:
        raise UserError(str(exc)) from None

    def pooled_scores(texts, title):
        pairs = [(k, 0) for k in range(len(texts))]
        category = screening.pair_scores(texts, [title], pairs)
        match = matcher.probability(matcher.encode_cvs(texts), [matcher.encode_jd(jd_text)],
                                    pairs)
        return pooled(category, match, matcher.metadata.get("combined", EQUAL_WEIGHTS)), category

    try:
        head = train_role_head(role, shared=shared, generator=models.generator, matcher=matcher,
                               resolver=OccupationResolver.load(screening.embedder),
                               pooled_scores=pooled_scores, synthetic=synthetic,
                               team=team_votes(settings, role, matcher),
                               per_role=_per_role(models.active_dir("matcher")) or _per_role(
                                   BUNDLED_ROOT / "matcher"), progress=progress)
    except (RoleNotMeasurable, TitleError) as exc:
        raise UserError(str(exc)) from None
    head.save(head_path(settings, role))
    return head
