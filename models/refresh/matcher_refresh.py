"""A matcher refresh: the pairwise training continued on the team's votes, behind a gate.

A 👍 / 👎 on a verdict given against a JD says whether that CV matches that JD; the vote is
stored as the pair's derived row (features and both MiniLM vectors, never text, see
:mod:`models.matching.pair_rows`). A refresh continues the active matcher's training from its
weights (from the bundled matcher's, when the active version was refreshed from an older
bundled one) on two losses: the shipped constructed triples (which hold it in place) and, within
each role title, every (matching pair, non-matching pair) of the team's votes -- GIRL's
pairwise loss on recruiter feedback, ranking CVs for one role rather than JDs for one CV --
the team's mean loss weighted ``n / (n + 50)``. The calibration is refitted on the shipped
calibration pairs only, so P(match) keeps the base rate the pooling weights were fitted for.
The candidate is measured beside the active version on the shipped held-out triples, the
calibration pairs and the team's held-out votes (which must hold a match and a non-match);
it is promoted only when no figure is worse beyond the tolerance, as the classifier is.
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
from models.refresh.figures import gain

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
    group: str = ""  # the role title it was voted for: votes are compared within a role


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


def team_triples(labels: np.ndarray, groups: Sequence[str] | None = None, *, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every (matching, non-matching) pair of rows of one group (role title), at most
    ``MAX_TEAM_TRIPLES`` of them."""
    groups = list(groups) if groups is not None else [""] * len(labels)
    better_parts, worse_parts = [], []
    for group in sorted(set(groups)):
        members = np.array([g == group for g in groups])
        pos = np.flatnonzero(members & (labels == 1))
        neg = np.flatnonzero(members & (labels == 0))
        better_parts.append(np.repeat(pos, len(neg)))
        worse_parts.append(np.tile(neg, len(pos)))
    better = np.concatenate(better_parts) if better_parts else np.zeros(0, dtype=np.int64)
    worse = np.concatenate(worse_parts) if worse_parts else np.zeros(0, dtype=np.int64)
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
    cal = shipped.calibration
    p = matcher.calibrator.probability(u[cal])
    figures = {"hard_pairwise_accuracy": round(pairwise_accuracy(u, hard[:, 0], hard[:, 1]), 4),
               "pairwise_accuracy": round(pairwise_accuracy(u, test[:, 0], test[:, 1]), 4),
               "calibration_brier": round(float(np.mean((p - shipped.calibration_labels) ** 2)),
                                          4)}
    if len(set(team_labels.tolist())) == 2:
        figures["team_auc"] = round(auc(score_rows(matcher, team), team_labels), 4)
    return figures


def score_rows(matcher: Matcher, rows: PairRows) -> np.ndarray:
    if not len(rows):
        return np.zeros(0)
    return matcher.weights.score(rows.features, rows.cv_vectors, rows.jd_vectors)


def fine_tuned(active: Matcher, shipped: ShippedRows, team: PairRows, labels: np.ndarray,
               groups: Sequence[str] | None = None) -> Matcher:
    """``active`` trained on: shipped triples + the team's training votes."""
    rows = PairRows.concat([shipped.pairs, team])
    offset = len(shipped.pairs)
    better, worse = team_triples(labels, groups)
    weight = len(labels) / (len(labels) + TEAM_WEIGHT_HALF)
    weights, report = optimise(
        rows, [(shipped.train[:, 0], shipped.train[:, 1], 1.0),
               (better + offset, worse + offset, weight)],
        mean=active.weights.mean, scale=active.weights.scale, init=active.weights,
        rank=active.weights.cv_proj.shape[0], **FINE_TUNE)
    candidate = Matcher(weights, active.tfidf, active.calibrator, active.embedder,
                        active.taxonomy, metadata=dict(active.metadata))
    candidate.calibrator = fit_calibrator(
        score_rows(candidate, shipped.pairs.take(shipped.calibration)),
        shipped.calibration_labels)
    candidate.metadata["refresh_training"] = report.as_dict()
    return candidate


def refresh_matcher(registry: Registry, team: Sequence[TeamPair], *, tolerance: float = 0.01,
                    force: bool = False):
    """Refit the matcher on shipped triples + the team's votes; promote if the gate passes."""
    from models.refresh.classifier import team_split
    from models.refresh.pipeline import _already_seen, _decide, _finish, _in_run, data_hash

    def work(record: RunRecord, tmp: Path, outcome, started: float):
        active = load_for_refresh(registry.active_dir())
        bundled = load_for_refresh(registry.bundled_dir)
        shipped = load_shipped_rows(registry.bundled_dir)
        # A version refreshed from an older bundled matcher (before an upgrade) is not
        # continued: its weights belong to the old rows; training restarts from the bundled.
        start = active if active.metadata.get("base_version", active.version) == (
            bundled.version) else bundled
        usable = [t for t in team if t.layout == start.layout]
        # the bundled version is part of the data: after an upgrade the same votes are new
        team_hash = data_hash([f"{t.key}:{t.label}" for t in usable] + [f"base:{bundled.version}"])
        labels = np.array([t.label for t in usable], dtype=np.int64)
        if not force and len(set(labels.tolist())) < 2:
            outcome.decision = "skipped"
            matches = int(labels.sum())
            outcome.reason = (f"the matcher learns from 👍 / 👎 on verdicts given against a JD "
                              f"and needs both a match and a non-match; it has {matches} "
                              f"match{'es' * (matches != 1)} and {len(usable) - matches} "
                              f"non-match{'es' * (len(usable) - matches != 1)}"
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
        held_rows, held_labels = rows.take(np.flatnonzero(held)), labels[held]
        if len(set(held_labels.tolist())) < 2:
            outcome.decision = "skipped"
            outcome.reason = (f"of {len(usable)} votes, the quarter held out to measure a "
                              "candidate needs a match and a non-match; it has "
                              f"{int(held_labels.sum())} and {int((held_labels == 0).sum())}")
            return _finish(registry, record, outcome, started)
        groups = [t.group for t, h in zip(usable, held, strict=True) if not h]
        candidate = fine_tuned(start, shipped, rows.take(np.flatnonzero(~held)), labels[~held],
                               groups)
        figures = {name: gate_figures(model, shipped, held_rows, held_labels)
                   for name, model in (("active", active), ("candidate", candidate))}
        if active.layout != start.layout:  # the votes are not in the active version's terms
            for side in figures.values():
                side.pop("team_auc", None)
        outcome.figures = figures
        passed = all(gain(k, figures["active"][k], v) >= -tolerance
                     for k, v in figures["candidate"].items())
        folder = tmp / "model"
        shutil.copytree(registry.active_dir(), folder, ignore=shutil.ignore_patterns(
            "refresh_data*", "EVAL.json", "MODEL_CARD.md", "METRICS.json"))
        # the bundled figures (training, constructed_test, ...) describe another version
        candidate.metadata = {k: v for k, v in candidate.metadata.items() if k in {
            "combined", "data", "command", "base_version", "refresh_training"}}
        candidate.metadata.update({"refreshed_from": active.version, "run_id": record.run_id,
                                   "base_version": bundled.version,
                                   "trained_from": start.version,
                                   "team_votes": len(usable), "team_held_out": int(held.sum()),
                                   "command": "hirebot refresh matcher --now"})
        outcome.candidate_version = candidate.save(folder)
        (folder / "METRICS.json").write_text(json.dumps(
            {"kind": "matcher", **figures["candidate"], "active_figures": figures["active"],
             "team_data_sha256": team_hash, "team_votes": len(usable),
             "tolerance": tolerance}, indent=2))
        _write_card(folder, outcome.candidate_version, start.version, figures, len(usable),
                    int(held.sum()), tolerance, restarted=start is not active)
        return _decide(registry, record, outcome, folder, passed, started,
                       f"pairwise accuracy, team AUC and calibration Brier may be worse by at "
                       f"most {tolerance}")

    return _in_run(registry, "matcher", work)


def _write_card(folder: Path, version: str, base: str, figures: dict, votes: int, held: int,
                tolerance: float, *, restarted: bool = False) -> None:
    from models.refresh.pipeline import _gate_table

    restart = (" (restarted from the bundled matcher: the version in service was refreshed "
               "from an older one)" if restarted else "")
    (folder / "MODEL_CARD.md").write_text(f"""# hirebot-cv-jd-matcher {version} (refresh)

The matcher {base}{restart}, its pairwise training continued on the team's votes: within each
role title, every (matching, non-matching) pair of 👍 / 👎 on verdicts given against a JD,
with the shipped constructed triples holding the rest in place; the calibration refitted on
the shipped calibration pairs.

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
