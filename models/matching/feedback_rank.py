"""Best-of-n JD drafts by the team's votes: the drafts the matcher rates higher for the CVs
recruiters marked as matches for the title come first.

GIRL aligns the generator with recruiter feedback through the reward model U(CV, JD). Here the
generator's n drafts of a request are re-ranked by U against the title's voted CVs: a vote
keeps only the pair's derived row (features and both MiniLM vectors, never text), so for a new
draft only the terms of U that need nothing but the two vectors are recomputed -- the
embedding cosine and the bilinear term. The other features stay those of the voted pair; they
are the same for every draft, so they do not move the order, and what the order leaves out is
how a draft's own chunks, skills and wording would move them (the best-chunk cosine, the
skill overlap, the TF-IDF cosine). Drafts that suit the matched CVs rise, drafts that suit the
CVs voted "not a match" fall. The vote only reorders drafts within the generator's own quality
margins (:data:`VOTE_WEIGHT`, less than the generator's penalty for a missing must term or a
cut line): other things equal, a draft with either fault stays below one without.
"""

from __future__ import annotations

import numpy as np

from models.matching.features import FEATURE_NAMES
from models.matching.pair_rows import PairRows

_COSINE = FEATURE_NAMES.index("embedding_cosine")
#: The vote's share of a draft's rank: below the generator's penalty for a missing must term
#: (0.5) and for a cut line (0.3), above its small fluency and coverage differences.
VOTE_WEIGHT = 0.25
#: A utility gap (log-odds) that earns the whole VOTE_WEIGHT; smaller gaps earn a share of it,
#: so drafts the votes barely tell apart keep the generator's order.
FULL_GAP = 1.0


def vector_utility(weights, cv_vectors: np.ndarray, draft_vectors: np.ndarray) -> np.ndarray:
    """(cvs, drafts): the draft-dependent part of U for each voted CV and draft."""
    cv = np.asarray(cv_vectors, dtype=np.float64)
    drafts = np.asarray(draft_vectors, dtype=np.float64)
    cosine = (cv @ drafts.T) * (weights.linear[_COSINE] / weights.scale[_COSINE])
    bilinear = (cv @ weights.cv_proj.T) @ (drafts @ weights.jd_proj.T).T
    return cosine + bilinear


def feedback_scores(weights, votes: PairRows, labels: np.ndarray, draft_vectors: np.ndarray
                    ) -> np.ndarray | None:
    """Per draft: mean utility over the matched CVs minus that over the unmatched ones; None
    without a matched CV (then the generator's own order stands)."""
    labels = np.asarray(labels)
    if not (labels == 1).any():
        return None
    u = vector_utility(weights, votes.cv_vectors, draft_vectors)
    score = u[labels == 1].mean(axis=0)
    if (labels == 0).any():
        score = score - u[labels == 0].mean(axis=0)
    return np.round(score, 6)


def feedback_order(weights, votes: PairRows, labels: np.ndarray, draft_vectors: np.ndarray,
                   generator_scores: np.ndarray | None = None) -> list[int] | None:
    """Draft indices best first, or None without votes: the generator's rank score plus the
    vote score, a gap of ``FULL_GAP`` or more worth ``VOTE_WEIGHT`` (ties keep the generator's
    order)."""
    scores = feedback_scores(weights, votes, labels, draft_vectors)
    if scores is None:
        return None
    spread = max(float(scores.max() - scores.min()), FULL_GAP)
    vote = VOTE_WEIGHT * (scores - scores.min()) / spread
    base = np.zeros_like(vote) if generator_scores is None else np.asarray(generator_scores)
    total = np.round(base + vote, 6)
    return sorted(range(len(total)), key=lambda i: (-total[i], i))
