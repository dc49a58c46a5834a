"""Per-role AUC on the deduplicated Updated CVs, out of fold (``hirebot eval matcher --roles``).

For every fine category with at least five CVs, the role is that category's title ("Java
Developer") and every Updated CV is scored for it; the AUC says how well the category's own CVs
rank above the rest. Out of fold means no scored CV trained anything that scores it: in each of
the folds the screening model is retrained on livecareer + the other folds' Updated CVs (minus
the calibration CVs), the matcher on the constructed triples of every other CV,
and the pooling weights on the other CVs' calibration pairs. The JD each role is matched
against is the one the generator writes for its title, as when a recruiter screens for a bare
title. Two scores are compared: the
category score alone (the screening model, as served without a JD) and the pooled score.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.matching.evaluation import auc
from models.matching.features import encode_sides
from models.matching.matcher import TfidfSpace
from models.matching.pooling import fit_weights, pooled
from models.matching.training import train_matcher
from models.refresh.matcher import TRAINING_OPTIONS, CachingEmbedder, PairSet, constructed_pairs
from models.refresh.matcher_data import split_of
from models.screening.datasets import LabelledCVs, concat, load_livecareer, load_updated_dedup
from models.screening.taxonomy import UPDATED_LABELS

logger = logging.getLogger(__name__)
MIN_CVS = 5


def role_titles(updated: LabelledCVs) -> dict[str, str]:
    """category id -> the Updated set's own title for it, for categories with >= MIN_CVS."""
    title_of = {cid: title for title, cid in UPDATED_LABELS.items()}
    counts = {c: updated.labels.count(c) for c in set(updated.labels)}
    return {c: title_of.get(c, c) for c, n in sorted(counts.items()) if n >= MIN_CVS}


def _subset(data: LabelledCVs, keep: np.ndarray, name: str) -> LabelledCVs:
    return LabelledCVs(name, [t for t, k in zip(data.texts, keep, strict=True) if k],
                       [y for y, k in zip(data.labels, keep, strict=True) if k], data.sha256)


def _without(triples, excluded: set[int]):
    return [t for t in triples if t[0] not in excluded]


def per_role_auc(shared: Path, embedder, resolver, write_jd: Callable[[str], str], *,
                 folds: int = 3, seed: int = 0, cache_dir: Path | None = None) -> dict:
    from sklearn.model_selection import StratifiedKFold

    from models.common.esco_skills import SkillTaxonomy
    from models.screening.screener import ScreeningModel
    from models.screening.training import train_classifier

    cached = CachingEmbedder(embedder, cache_dir / "matcher-embeddings.npz" if cache_dir
                             else None)
    taxonomy = SkillTaxonomy.load()
    updated, livecareer = load_updated_dedup(shared), load_livecareer(shared)
    roles = role_titles(updated)
    role_ids, titles = list(roles), [roles[c] for c in roles]
    jd_texts = [write_jd(t) for t in titles]
    pairs: PairSet = constructed_pairs(shared, resolver, seed=seed)
    cvs = encode_sides(pairs.cv_texts, cached, taxonomy, kind="cv")
    jds = encode_sides(pairs.jd_texts, cached, taxonomy, kind="jd", titles=pairs.jd_titles)
    role_jds = encode_sides(jd_texts, cached, taxonomy, kind="jd", titles=titles)
    updated_cvs = encode_sides(updated.texts, cached, taxonomy, kind="cv")
    cached.save()
    index_of: dict[str, list[int]] = {}
    for i, text in enumerate(pairs.cv_texts):
        index_of.setdefault(text, []).append(i)
    y = np.array(updated.labels)
    category = np.zeros((len(y), len(titles)))
    combined = np.zeros((len(y), len(titles)))
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fold, (train_idx, test_idx) in enumerate(skf.split(np.zeros(len(y)), y)):
        logger.info("role evaluation: fold %d of %d", fold + 1, folds)
        keep = np.zeros(len(y), dtype=bool)
        keep[train_idx] = True
        # The pooling weights are fitted on the calibration CVs' category scores: the fold's
        # screening model must not have trained on those CVs either.
        not_calibration = np.array([split_of(t) != "calibration" for t in updated.texts])
        live_keep = np.array([split_of(t) != "calibration" for t in livecareer.texts])
        with tempfile.TemporaryDirectory() as tmp:
            train_classifier(concat([_subset(livecareer, live_keep, "livecareer_train"),
                                     _subset(updated, keep & not_calibration, "updated_train")]),
                             Path(tmp), cached, seed=seed, progress=False)
            screening = ScreeningModel.load(Path(tmp), embedder=cached)
        excluded = {k for i in test_idx for k in index_of.get(updated.texts[i], ())}
        triples = _without(pairs.triples["train"] + pairs.triples["test"], excluded)
        calibration = _without(pairs.labelled["calibration"], excluded)
        matcher, _ = train_matcher(TfidfSpace.fit(pairs.jd_texts), cvs, jds, triples,
                                   calibration, cached, seed=seed, **TRAINING_OPTIONS)
        cal_cvs = sorted({c for c, _, _ in calibration})
        cal_jds = sorted({j for _, j, _ in calibration})
        cv_row = {c: k for k, c in enumerate(cal_cvs)}
        jd_row = {j: k for k, j in enumerate(cal_jds)}
        weights = fit_weights(
            screening.pair_scores([pairs.cv_texts[c] for c in cal_cvs],
                                  [pairs.jd_titles[j] for j in cal_jds],
                                  [(cv_row[c], jd_row[j]) for c, j, _ in calibration]),
            matcher.probability(cvs, jds, [(c, j) for c, j, _ in calibration]),
            [label for *_, label in calibration])
        test_pairs = [(k, r) for k in range(len(test_idx)) for r in range(len(titles))]
        cat = screening.pair_scores([updated.texts[i] for i in test_idx], titles, test_pairs)
        fold_cvs = [updated_cvs[i] for i in test_idx]
        match = matcher.probability(fold_cvs, role_jds, test_pairs)
        pool = pooled(cat, match, weights)
        for (k, r), c, p in zip(test_pairs, cat, pool, strict=True):
            category[test_idx[k], r] = c
            combined[test_idx[k], r] = p
        cached.save()
    per_role = {}
    for r, (cid, title) in enumerate(zip(role_ids, titles, strict=True)):
        labels = (y == cid).astype(int)
        per_role[title] = {"cvs": int(labels.sum()),
                           "category_only": round(auc(category[:, r], labels), 4),
                           "combined": round(auc(combined[:, r], labels), 4)}
    means = {k: round(float(np.mean([v[k] for v in per_role.values()])), 4)
             for k in ("category_only", "combined")}
    return {"folds": folds, "roles": per_role, "mean": means,
            "combined_above_category_for_every_role": all(
                v["combined"] > v["category_only"] for v in per_role.values()),
            "roles_where_combined_is_not_above": [
                t for t, v in per_role.items() if v["combined"] <= v["category_only"]]}

