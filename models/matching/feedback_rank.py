"""Best-of-n JD drafts by the team's votes: the drafts the matcher rates higher for the CVs
recruiters marked as matches for the title come first.

GIRL aligns the generator with recruiter feedback through the reward model U(CV, JD). Here the
generator's n drafts of a request are re-ranked by U against the title's voted CVs: a vote
keeps only the pair's derived row (features and both MiniLM vectors, never text), so for a new
draft the parts of U that depend on the draft's vector are recomputed -- the embedding cosine
and the bilinear term -- while the overlap features stay those of the voted pair. Those are the
same for every draft of a request, so they do not change the order; what the order leaves out
is how the draft's own skills and wording would move the other features. Drafts that suit the
matched CVs rise, drafts that suit the CVs voted "not a match" fall.
"""

from __future__ import annotations

import numpy as np

from models.matching.features import FEATURE_NAMES
from models.matching.pair_rows import PairRows

_COSINE = FEATURE_NAMES.index("embedding_cosine")


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


def feedback_order(weights, votes: PairRows, labels: np.ndarray, draft_vectors: np.ndarray
                   ) -> list[int] | None:
    """Draft indices best first (ties keep the generator's order), or None without votes."""
    scores = feedback_scores(weights, votes, labels, draft_vectors)
    if scores is None:
        return None
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))
