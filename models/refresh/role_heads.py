"""``hirebot train role TITLE [--synthetic N]``: a role head bootstrapped from generated
examples, measured on real labelled CVs against the role-aware score it would replace.

The local generator writes N examples for the role and N for its contrasting roles (the
nearest other role titles of the Updated CV set, by MiniLM: the neighbours a recruiter confuses
it with). The examples are job descriptions -- the generator writes postings, not CVs -- so the
head learns the role's vocabulary from how the role is advertised. Both heads of
:mod:`models.matching.role_head` are fitted on the examples' MiniLM vectors (the matcher's CV
side), plus the team's votes on verdicts for this title when there are any (real CVs, derived
vectors only). They are then scored on every deduplicated Updated CV, which no head saw, beside
the category-only score and the pooled (category + matcher) score of the same CVs. The served
models trained on those CVs, so their figures here are in-sample and flattering; the bar a head
must beat is therefore the pooled score's *out-of-fold* AUC for the role's category, from the
matcher's per-role evaluation (``hirebot eval matcher --roles --save``), when the role maps to
one category that evaluation measured, and the in-sample one otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from models.matching.evaluation import auc
from models.matching.role_head import KINDS, RoleHead, calibrate, fit_head
from models.refresh.matcher_data import CategoryMap, split_of
from models.refresh.role_eval import role_titles
from models.screening.datasets import load_updated_dedup

logger = logging.getLogger(__name__)

class RoleNotMeasurable(ValueError):
    """A head for this title could not be measured on real labelled CVs."""


CONTRASTS = 6
MAX_NEW_TOKENS = 320
BATCH = 4


def contrasting_roles(role: str, titles: dict[str, str], own: set[str], embedder,
                      k: int = CONTRASTS) -> list[str]:
    """The ``k`` role titles nearest to ``role`` that are not of its own categories."""
    others = [(cid, t) for cid, t in titles.items() if cid not in own]
    vectors = np.asarray(embedder.encode([role] + [t for _, t in others]), dtype=np.float64)
    sims = vectors[1:] @ vectors[0]
    order = sorted(range(len(others)), key=lambda i: (-sims[i], others[i][1]))
    return [others[i][1] for i in order[:k]]


def write_examples(generator, titles: Sequence[str], *, seed: int,
                   progress: Callable[[int], None] | None = None) -> list[str]:
    """One generated JD per title (titles may repeat), ``BATCH`` at a time."""
    from models.generation.request import parse_request

    out: list[str] = []
    for start in range(0, len(titles), BATCH):
        chunk = [parse_request(t) for t in titles[start:start + BATCH]]
        drafts = generator.write_grounded(chunk, seeds=[seed + start + i for i in
                                                        range(len(chunk))],
                                          max_new_tokens=MAX_NEW_TOKENS)
        out.extend(d.text for d in drafts)
        if progress:
            progress(len(chunk))
    return out


def train_role_head(role: str, *, shared: Path, generator, matcher, resolver, pooled_scores,
                    synthetic: int = 24, team: tuple[np.ndarray, np.ndarray] | None = None,
                    per_role: dict | None = None, seed: int = 0,
                    progress: Callable[[int], None] | None = None) -> RoleHead:
    """Generate, fit both heads, measure them on the Updated CVs; the better head, with its
    figures and whether it serves.

    ``pooled_scores(texts, role)`` gives the role-aware score (category + matcher) and the
    category-only score of each text, as screening serves them; ``team`` is the team's votes
    for the title: (CV vectors, labels); ``per_role`` the matcher's out-of-fold per-role
    figures (its EVAL.json ``per_role.roles``), keyed by category title.
    """
    started = time.time()
    category_map = CategoryMap.build(resolver)
    own = category_map.categories_of(role, resolver.resolve(role).code)
    updated = load_updated_dedup(shared)
    labels = np.array([int(c in own) for c in updated.labels])
    if not labels.any():  # before minutes of generation: a head nobody can measure
        raise RoleNotMeasurable(f"no labelled CV in the Updated set is of a category {role!r} maps "
                         "to, so a head for it could not be measured; try the title of a "
                         "category the screening model knows")
    titles = role_titles(updated)
    contrasts = contrasting_roles(role, titles, own, matcher.embedder)
    if not contrasts:
        raise RoleNotMeasurable(f"no other role title to contrast {role!r} with")
    wanted = [role] * synthetic + [contrasts[i % len(contrasts)] for i in range(synthetic)]
    texts = write_examples(generator, wanted, seed=seed, progress=progress)
    x = np.stack([e.vector for e in matcher.encode_cvs(texts)])
    y = np.array([1] * synthetic + [0] * synthetic)
    weights = np.ones(len(y))
    team_votes = 0
    if team is not None and len(team[1]):
        x = np.vstack([x, team[0]])
        y = np.concatenate([y, team[1]])
        weights = np.concatenate([weights, np.full(len(team[1]), 2.0)])  # real CVs count more
        team_votes = len(team[1])

    real_x = np.stack([e.vector for e in matcher.encode_cvs(updated.texts)])
    figures: dict = {"real_cvs": len(labels), "real_cvs_of_the_role": int(labels.sum())}
    heads = {kind: fit_head(role, kind, x, y, weights, seed=seed) for kind in KINDS}
    evaluable = 0 < labels.sum() < len(labels)
    if evaluable:
        pooled, category = pooled_scores(updated.texts, role)
        figures.update({"category_only_auc": round(auc(category, labels), 4),
                        "pooled_auc": round(auc(pooled, labels), 4)})
        for kind, head in heads.items():
            figures[f"{kind}_head_auc"] = round(auc(head.margin(real_x), labels), 4)
        # the role's categories that the Updated CVs have (a title can also name a
        # livecareer industry, "engineering"); with one, its out-of-fold figures apply
        in_updated = [c for c in own if c in titles]
        if len(in_updated) == 1 and titles[in_updated[0]] in (per_role or {}):
            oof = per_role[titles[in_updated[0]]]
            figures.update({"out_of_fold_category_only_auc": oof["category_only"],
                            "out_of_fold_pooled_auc": oof["combined"]})
    best_kind = max(KINDS, key=lambda k: figures.get(f"{k}_head_auc", 0.0))
    head = heads[best_kind]
    calibration = np.array([split_of(t) == "calibration" for t in updated.texts])
    calibrate(head, real_x[calibration], labels[calibration])
    head.figures = figures
    head.serves = bool(evaluable and figures[f"{best_kind}_head_auc"] > _bar(figures))
    head.data = {"categories": sorted(own), "contrasting_roles": contrasts,
                 "synthetic_per_side": synthetic, "team_votes": team_votes,
                 "generator": getattr(generator, "version", ""),
                 "matcher": matcher.version, "layout": matcher.layout,
                 "seconds": round(time.time() - started, 1),
                 "why": _why(head, figures, evaluable, best_kind)}
    return head


def _bar(figures: dict) -> float:
    return figures.get("out_of_fold_pooled_auc", figures["pooled_auc"])


def _why(head: RoleHead, figures: dict, evaluable: bool, kind: str) -> str:
    if not evaluable:
        return ("no real labelled CV of this role in the Updated set: the head cannot be "
                "measured, so it does not serve")
    ours = figures[f"{kind}_head_auc"]
    which = ("out-of-fold AUC" if "out_of_fold_pooled_auc" in figures
             else "in-sample AUC (no out-of-fold figure for this role)")
    verb = "beats" if head.serves else "does not beat"
    return (f"the {kind} head's AUC {ours} on {figures['real_cvs']} real CVs {verb} the "
            f"pooled score's {which} {_bar(figures)}")
