"""Train the matcher with GIRL's pairwise loss, on CPU in minutes.

The inputs are already-encoded CVs and JDs and (cv, better jd, worse jd) triples; the features
of every pair used are computed once. Torch runs the optimiser (full-batch Adam, a fixed seed,
one thread), the weights are stored as plain arrays, and scoring afterwards is NumPy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.matching.features import FEATURE_NAMES, SideEncoding
from models.matching.matcher import (
    RANK,
    MatchCalibrator,
    Matcher,
    MatcherWeights,
    TfidfSpace,
    pairwise_features,
)
from models.matching.pair_rows import PairRows

logger = logging.getLogger(__name__)


@dataclass
class TrainingReport:
    epochs: int
    first_loss: float
    last_loss: float
    train_pairwise_accuracy: float
    triples: int

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


def _pair_index(triples: Sequence[tuple[int, int, int]]):
    pairs: dict[tuple[int, int], int] = {}
    for cv, pos, neg in triples:
        for jd in (pos, neg):
            pairs.setdefault((cv, jd), len(pairs))
    better = np.array([pairs[(c, p)] for c, p, _ in triples])
    worse = np.array([pairs[(c, n)] for c, _, n in triples])
    return list(pairs), better, worse


def train_weights(tfidf: TfidfSpace, cvs: Sequence[SideEncoding], jds: Sequence[SideEncoding],
                  triples: Sequence[tuple[int, int, int]], *, epochs: int = 300,
                  lr: float = 0.03, l2: float = 1e-3, l2_linear: float = 1e-3,
                  rank: int = RANK, seed: int = 0) -> tuple[MatcherWeights, TrainingReport]:
    """Minimise mean ``-log sigmoid(U(c, j+) - U(c, j-))`` over ``triples``; ``l2`` weighs
    the bilinear projections' penalty, ``l2_linear`` the overlap features'."""
    if not triples:
        raise ValueError("no training triples: the CVs and postings share no category")
    pairs, better, worse = _pair_index(triples)
    feats = pairwise_features(tfidf, cvs, jds, pairs).astype(np.float64)
    rows = PairRows(feats, np.stack([cvs[i].vector for i, _ in pairs]),
                    np.stack([jds[j].vector for _, j in pairs]))
    return optimise(rows, [(better, worse, 1.0)], mean=feats.mean(axis=0),
                    scale=np.maximum(feats.std(axis=0), 1e-6), epochs=epochs, lr=lr, l2=l2,
                    l2_linear=l2_linear, rank=rank, seed=seed)


def optimise(rows: PairRows, groups: Sequence[tuple[np.ndarray, np.ndarray, float]], *,
             mean: np.ndarray, scale: np.ndarray, init: MatcherWeights | None = None,
             epochs: int = 300, lr: float = 0.03, l2: float = 1e-3, l2_linear: float = 1e-3,
             rank: int = RANK, seed: int = 0) -> tuple[MatcherWeights, TrainingReport]:
    """The pairwise loss over derived rows: each group is (better rows, worse rows, weight),
    its mean loss weighted. ``init`` continues from a trained matcher (a refresh) instead of
    a random start; the report's accuracy is the first group's."""
    import torch

    z = torch.tensor((np.asarray(rows.features, dtype=np.float64) - mean) / scale,
                     dtype=torch.float64)
    cv_vec = torch.tensor(np.asarray(rows.cv_vectors), dtype=torch.float64)
    jd_vec = torch.tensor(np.asarray(rows.jd_vectors), dtype=torch.float64)
    dim = cv_vec.shape[1]
    torch.manual_seed(seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if init is None:
            linear = torch.zeros(len(FEATURE_NAMES), dtype=torch.float64, requires_grad=True)
            cv_proj = (0.01 * torch.randn(rank, dim, dtype=torch.float64)).requires_grad_()
            jd_proj = (0.01 * torch.randn(rank, dim, dtype=torch.float64)).requires_grad_()
        else:
            linear, cv_proj, jd_proj = (
                torch.tensor(np.array(a, dtype=np.float64)).requires_grad_()
                for a in (init.linear, init.cv_proj, init.jd_proj))
        params = [linear, cv_proj, jd_proj]
        optimiser = torch.optim.Adam(params, lr=lr)
        index = [(torch.tensor(np.asarray(b)), torch.tensor(np.asarray(w)), float(weight))
                 for b, w, weight in groups if len(b)]
        losses = []
        for _ in range(epochs):
            optimiser.zero_grad()
            u = z @ linear + ((cv_vec @ cv_proj.T) * (jd_vec @ jd_proj.T)).sum(dim=1)
            loss = sum(weight * torch.nn.functional.softplus(-(u[b] - u[w])).mean()
                       for b, w, weight in index) + l2 * (
                cv_proj.pow(2).sum() + jd_proj.pow(2).sum()) + l2_linear * linear.pow(2).sum()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        with torch.no_grad():
            u = z @ linear + ((cv_vec @ cv_proj.T) * (jd_vec @ jd_proj.T)).sum(dim=1)
            b_idx, w_idx, _ = index[0]
            accuracy = float((u[b_idx] > u[w_idx]).double().mean())
    finally:
        torch.set_num_threads(previous_threads)
    weights = MatcherWeights(np.asarray(mean, dtype=np.float64),
                             np.asarray(scale, dtype=np.float64),
                             linear.detach().numpy().copy(), cv_proj.detach().numpy().copy(),
                             jd_proj.detach().numpy().copy())
    report = TrainingReport(epochs, losses[0], losses[-1], accuracy,
                            sum(len(b) for b, _, _ in index))
    logger.info("matcher trained: loss %.4f -> %.4f, train pairwise accuracy %.3f",
                losses[0], losses[-1], accuracy)
    return weights, report


def fit_calibrator(utilities: np.ndarray, labels: np.ndarray) -> MatchCalibrator:
    """Platt scaling of U on held-out labelled pairs."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0).fit(np.asarray(utilities).reshape(-1, 1),
                                           np.asarray(labels).astype(int))
    return MatchCalibrator(float(model.coef_[0, 0]), float(model.intercept_[0]))


def train_matcher(tfidf: TfidfSpace, cvs: Sequence[SideEncoding], jds: Sequence[SideEncoding],
                  triples: Sequence[tuple[int, int, int]],
                  calibration_pairs: Sequence[tuple[int, int, int]], embedder, **options
                  ) -> tuple[Matcher, TrainingReport]:
    """Weights from ``triples``; the calibrator from ``calibration_pairs`` (cv, jd, label),
    which must not share CVs with the triples."""
    weights, report = train_weights(tfidf, cvs, jds, triples, **options)
    matcher = Matcher(weights, tfidf, MatchCalibrator(), embedder)
    if calibration_pairs:
        pairs = [(c, j) for c, j, _ in calibration_pairs]
        utilities = matcher.utility(cvs, jds, pairs)
        matcher.calibrator = fit_calibrator(utilities, np.array([y for *_, y in
                                                                 calibration_pairs]))
    return matcher, report
