"""A matcher refresh: the pairwise training continued on the team's votes, behind a gate.

A 👍 / 👎 on a verdict given against a JD says whether that CV matches that JD; the vote is
stored as the pair's derived row (features and both MiniLM vectors, never text, see
:mod:`models.matching.pair_rows`). A refresh continues the active matcher's training from its
weights on two losses: the shipped constructed triples (which hold it in place) and every
(matching pair, non-matching pair) of the team's votes, GIRL's pairwise loss on recruiter
feedback, the team's mean loss weighted ``n / (n + 50)``. It then refits the calibration and
is measured beside the active version on the shipped held-out triples and the team's held-out
votes; it is promoted only when no figure is worse beyond the tolerance, as the classifier is.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.common.registry import Registry, RunRecord
from models.matching.evaluation import auc, pairwise_accuracy
from models.matching.matcher import Matcher
from models.matching.pair_rows import PairRows, ShippedRows, load_shipped_rows, rows_from_blobs
from models.matching.training import fit_calibrator, optimise

logger = logging.getLogger(__name__)

FINE_TUNE = {"epochs": 150, "lr": 0.003, "l2": 3e-4, "l2_linear": 0.0}
MAX_TEAM_TRIPLES = 20000
TEAM_WEIGHT_HALF = 50  # the team's loss weighs n / (n + 50) of the shipped triples'


@dataclass
class TeamPair:
    """A vote on a verdict against a JD, in derived form."""

    key: str
    label: int   # 1: the CV matches the JD, 0: it does not
    blob: bytes  # models.matching.pair_rows.pair_blob
    layout: str  # Matcher.layout of the matcher that computed it


class VectorsOnly:
    """Stands in for MiniLM when a refresh loads a matcher: rows carry their vectors, so
    nothing is embedded; ``encode`` refusing makes a mistake loud."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def encode(self, texts, **_):
        raise RuntimeError("a matcher refresh embeds nothing: its rows carry their vectors")


def load_for_refresh(folder: Path) -> Matcher:
    config = json.loads((Path(folder) / "config.json").read_text())
    return Matcher.load(folder, embedder=VectorsOnly(config.get("embedding_model") or "",
                                                     int(config["embedding_dim"])))


def team_triples(labels: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every (matching, non-matching) pair of rows, at most ``MAX_TEAM_TRIPLES`` of them."""
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    better, worse = np.repeat(pos, len(neg)), np.tile(neg, len(pos))
    if len(better) > MAX_TEAM_TRIPLES:
        keep = np.sort(np.random.default_rng(seed).choice(len(better), MAX_TEAM_TRIPLES,
                                                          replace=False))
        better, worse = better[keep], worse[keep]
    return better, worse


def gate_figures(matcher: Matcher, shipped: ShippedRows, team: PairRows,
                 team_labels: np.ndarray) -> dict:
    """The same figures for any version: shipped held-out triples, team held-out votes."""
    u = score_rows(matcher, shipped.pairs)
    test = shipped.test
    hard = test[shipped.test_hard]
    figures = {"hard_pairwise_accuracy": round(pairwise_accuracy(u, hard[:, 0], hard[:, 1]), 4),
               "pairwise_accuracy": round(pairwise_accuracy(u, test[:, 0], test[:, 1]), 4)}
    if len(set(team_labels.tolist())) == 2:
        figures["team_auc"] = round(auc(score_rows(matcher, team), team_labels), 4)
    return figures


def score_rows(matcher: Matcher, rows: PairRows) -> np.ndarray:
    if not len(rows):
        return np.zeros(0)
    return matcher.weights.score(rows.features, rows.cv_vectors, rows.jd_vectors)


def fine_tuned(active: Matcher, shipped: ShippedRows, team: PairRows, labels: np.ndarray
               ) -> Matcher:
    """The active matcher trained on: shipped triples + the team's training votes."""
    rows = PairRows.concat([shipped.pairs, team])
    offset = len(shipped.pairs)
    better, worse = team_triples(labels)
    weight = len(labels) / (len(labels) + TEAM_WEIGHT_HALF)
    weights, report = optimise(
        rows, [(shipped.train[:, 0], shipped.train[:, 1], 1.0),
               (better + offset, worse + offset, weight)],
        mean=active.weights.mean, scale=active.weights.scale, init=active.weights,
        rank=active.weights.cv_proj.shape[0], **FINE_TUNE)
    candidate = Matcher(weights, active.tfidf, active.calibrator, active.embedder,
                        active.taxonomy, metadata=dict(active.metadata))
    cal = shipped.pairs.take(shipped.calibration)
    u = np.concatenate([score_rows(candidate, cal), score_rows(candidate, team)])
    candidate.calibrator = fit_calibrator(u, np.concatenate([shipped.calibration_labels,
                                                             labels]))
    candidate.metadata["refresh_training"] = report.as_dict()
    return candidate


def refresh_matcher(registry: Registry, team: Sequence[TeamPair], *, tolerance: float = 0.01,
                    force: bool = False):
    """Refit the matcher on shipped triples + the team's votes; promote if the gate passes."""
    from models.refresh.classifier import team_split
    from models.refresh.pipeline import _already_seen, _decide, _finish, _in_run, data_hash

    def work(record: RunRecord, tmp: Path, outcome, started: float):
        active = load_for_refresh(registry.active_dir())
        shipped = load_shipped_rows(registry.bundled_dir)
        usable = [t for t in team if t.layout == active.layout]
        team_hash = data_hash([f"{t.key}:{t.label}" for t in usable])
        labels = np.array([t.label for t in usable], dtype=np.int64)
        if not force and len(set(labels.tolist())) < 2:
            outcome.decision = "skipped"
            outcome.reason = (f"the matcher learns from 👍 / 👎 on verdicts given against a JD, "
                              f"and needs both a match and a non-match; it has {len(usable)} "
                              f"({int(labels.sum())} matches)"
                              + (f", {len(team) - len(usable)} of an older matcher's layout"
                                 if len(usable) < len(team) else ""))
            return _finish(registry, record, outcome, started)
        if not force and (seen := _already_seen(registry, team_hash, "votes on matches",
                                                f"; {len(usable)} votes")):
            outcome.decision, outcome.reason = "skipped", seen
            return _finish(registry, record, outcome, started)
        outcome.data_hash = team_hash
        rows = rows_from_blobs([t.blob for t in usable], active.weights.cv_proj.shape[1])
        held = team_split([t.key for t in usable])
        candidate = fine_tuned(active, shipped, rows.take(np.flatnonzero(~held)), labels[~held])
        held_rows, held_labels = rows.take(np.flatnonzero(held)), labels[held]
        figures = {name: gate_figures(model, shipped, held_rows, held_labels)
                   for name, model in (("active", active), ("candidate", candidate))}
        outcome.figures = figures
        passed = all(figures["candidate"][k] >= figures["active"][k] - tolerance
                     for k in figures["candidate"])
        folder = tmp / "model"
        shutil.copytree(registry.active_dir(), folder, ignore=shutil.ignore_patterns(
            "refresh_data*", "EVAL.json", "MODEL_CARD.md", "METRICS.json"))
        candidate.metadata = {k: v for k, v in candidate.metadata.items() if k not in {
            "features", "rank", "embedding_dim", "embedding_model", "calibrator"}}
        candidate.metadata.update({"refreshed_from": active.version, "run_id": record.run_id,
                                   "team_votes": len(usable), "team_held_out": int(held.sum()),
                                   "command": "hirebot refresh matcher --now"})
        outcome.candidate_version = candidate.save(folder)
        (folder / "METRICS.json").write_text(json.dumps(
            {"kind": "matcher", **figures["candidate"], "active_figures": figures["active"],
             "team_data_sha256": team_hash, "team_votes": len(usable),
             "tolerance": tolerance}, indent=2))
        _write_card(folder, outcome.candidate_version, active.version, figures, len(usable),
                    int(held.sum()), tolerance)
        return _decide(registry, record, outcome, folder, passed, started,
                       f"pairwise accuracy and team AUC may drop by at most {tolerance}")

    return _in_run(registry, "matcher", work)


def _write_card(folder: Path, version: str, base: str, figures: dict, votes: int, held: int,
                tolerance: float) -> None:
    from models.refresh.pipeline import _gate_table

    (folder / "MODEL_CARD.md").write_text(f"""# hirebot-cv-jd-matcher {version} (refresh)

The matcher {base}, its pairwise training continued on the team's votes: every (matching,
non-matching) pair of 👍 / 👎 on verdicts given against a JD, with the shipped constructed
triples holding the rest in place; the calibration refitted on the shipped calibration pairs
and the team's training votes.

## Data
- Shipped derived rows (`refresh_data.safetensors` of the bundled matcher: features and MiniLM
  vectors of the constructed pairs, no text).
- {votes} team votes, {held} of them held out for the gate. A vote is stored as the pair's
  features and vectors, never as text.

## Command
`hirebot refresh matcher --now` (and after every classifier refresh, on its schedule).

## Gate (tolerance {tolerance})
| figure | active | this version |
|---|---|---|
{_gate_table(figures["active"], figures["candidate"])}
""", encoding="utf-8")
